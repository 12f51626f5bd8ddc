"""Helpers for the browser tests: what they need, lite/build, and lite/serve.py on a
free port (with or without the cross-origin isolation headers)."""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LITE = REPO / "lite"
TESTS_JS = LITE / "tests"
CHROMIUM = Path(os.environ.get("XACCEL_CHROMIUM", "/usr/bin/chromium"))
OUTPUT = LITE / "_output"
BUILD_SITE = os.environ.get("XACCEL_LITE_NO_BUILD") != "1"


def missing_tools():
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if shutil.which("node") is None:
        missing.append("node (apt-get install nodejs)")
    if not (TESTS_JS / "node_modules" / "playwright-core" / "package.json").is_file():
        missing.append("npm package playwright-core (npm ci --prefix lite/tests)")
    return missing


def build_site(wheels=None):
    """Fails the test when a tool is missing or the site cannot be built. `wheels`: a
    directory published as the site's wheel index (lite/build --wheels)."""
    missing = missing_tools()
    if missing:
        pytest.fail("browser tests need: " + "; ".join(missing))
    if BUILD_SITE:
        cmd = [str(LITE / "build")] + (["--wheels", str(wheels)] if wheels else [])
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=3600)
        if proc.returncode != 0:
            pytest.fail(f"lite/build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    elif wheels:
        # the site was built by ./dev test's own stage: only its wheel index changes
        proc = subprocess.run([sys.executable, str(LITE / "wheel_index.py"), str(OUTPUT), str(wheels)],
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            pytest.fail(f"lite/wheel_index.py failed:\n{proc.stdout}\n{proc.stderr}")
    if not (OUTPUT / "xeus" / "kernels.json").is_file():
        pytest.fail(f"no JupyterLite site in {OUTPUT}: run lite/build")


@contextlib.contextmanager
def serve(*args):
    """lite/serve.py on 127.0.0.1, a free port; yields the site's base URL."""
    server = subprocess.Popen([sys.executable, str(LITE / "serve.py"), "--port", "0", *args],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = server.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        if not m:
            pytest.fail(f"lite/serve did not print its URL: {line!r}")
        yield m.group(1)
    finally:
        server.terminate()
        server.wait(10)


def run_js(script, *args, timeout=400):
    """Runs a node script of lite/tests; returns the JSON object it printed last."""
    proc = subprocess.run(["node", str(TESTS_JS / script), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=TESTS_JS)
    if proc.returncode == 2:
        pytest.fail(proc.stderr.strip())
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    if not lines:
        pytest.fail(f"{script} printed no result (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    result = json.loads(lines[-1])
    if result.get("fatal"):
        pytest.fail(f"{script} failed: {result['fatal']}\nconsole:\n" + "\n".join(result.get("console", [])[-40:]))
    return result


def make_test_wheels(directory):
    """The wheels that lite/tests/features_test.js installs with %pip."""
    from wheel_maker import make_wheel

    make_wheel(directory, "xaccel-test-wheel", "1.2.0", {"xaccel_test_wheel/__init__.py": "ANSWER = 42\n"},
               requires=["xaccel-test-dep", "xaccel-no-such-package; extra == 'docs'",
                         "xaccel-no-such-package; python_version < '3'"])
    make_wheel(directory, "xaccel-test-dep", "0.3", {"xaccel_test_dep/__init__.py": "NAME = 'dep'\n"})
    make_wheel(directory, "xaccel-url-wheel", "0.1", {"xaccel_url_wheel/__init__.py": "VALUE = 'from a URL'\n"})
    make_wheel(directory, "xaccel-native-ext", "1.0",
               {"xaccel_native_ext/_speed.cpython-311-wasm32-emscripten.so": "not really a library"},
               tag="cp311-cp311-emscripten_3_1_69_wasm32")


_FEATURES = {}


def features(mode, tmp_dir):
    """One run of lite/tests/features_test.js ('isolated' or 'not-isolated'), shared by
    the test modules of a pytest run."""
    if mode not in _FEATURES:
        if not _FEATURES:
            wheels = Path(tmp_dir) / "wheels"
            wheels.mkdir(parents=True, exist_ok=True)
            make_test_wheels(wheels)
            build_site(wheels)
        args = ["--test-routes"] + (["--no-isolation"] if mode == "not-isolated" else [])
        with serve(*args) as url:
            _FEATURES[mode] = run_js("features_test.js", url, mode, timeout=500)
    return _FEATURES[mode]
