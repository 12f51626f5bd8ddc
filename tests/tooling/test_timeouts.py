"""The suite's safety net (pytest.ini): a hung test, or a hung fixture, fails within its
own limit with a message naming the timeout, instead of hanging ./dev test."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

HUNG = '''
import time
import pytest

@pytest.fixture
def hung_fixture():
    time.sleep(120)
    yield

def test_hung_body():
    time.sleep(120)

def test_hung_fixture(hung_fixture):
    pass

def test_quick():
    assert True
'''


def run_with_repo_config(tmp_path, *args):
    (tmp_path / "test_hung.py").write_text(HUNG)
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(REPO / "pytest.ini"), "--rootdir", str(tmp_path),
         "-p", "no:cacheprovider", *args, str(tmp_path / "test_hung.py")],
        capture_output=True, text=True, timeout=100, cwd=tmp_path)
    return proc, time.monotonic() - t0


def test_repo_config_has_a_default_limit_well_below_a_stage():
    text = (REPO / "pytest.ini").read_text()
    assert "--timeout=180" in text and "timeout_func_only = false" in text, text


def test_hung_test_and_hung_fixture_fail_with_a_message(tmp_path):
    # the repository's pytest.ini with a short limit, so that this test is quick
    proc, took = run_with_repo_config(tmp_path, "--timeout=3")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    # the hung body fails, the hung fixture errors at set-up; the quick test still runs
    assert "1 failed, 1 passed, 1 error" in out, out
    assert out.count("E       Failed: Timeout (>3.0s) from pytest-timeout.") == 2, out
    assert "FAILED test_hung.py::test_hung_body" in out and "ERROR test_hung.py::test_hung_fixture" in out, out
    assert took < 60, took
