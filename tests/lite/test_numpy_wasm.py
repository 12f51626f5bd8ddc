"""numpy for wasm32-emscripten (lite/build-numpy), under lite/python-node.

lite/build-numpy links numpy's extension modules into the node runner (as into the
browser kernel) and installs numpy, with its tests, in the runner's site-packages; pytest
and hypothesis (pure Python) come from the cache directory named by XACCEL_NUMPY_TESTDEPS.
When numpy has not been built the tests fail (never skip) with the command that builds it.
"""
from __future__ import annotations

import os
import re
import subprocess
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYTHON_NODE = REPO / "lite" / "python-node"
CACHE_ROOT = Path(os.environ.get("XACCEL_CACHE", Path.home() / ".cache" / "xaccel"))
NUMPY_ENV = CACHE_ROOT / "numpy-env.sh"

# numpy's own tests run here, by file; DESELECT_K leaves out the few that need what the
# wasm build lacks. EXPECTED: the pytest summary counts of this subset.
NUMPY_TEST_FILES = [
    "linalg/tests/test_linalg.py",
    "fft/tests/test_pocketfft.py",
    "fft/tests/test_helper.py",
    "random/tests/test_generator_mt19937.py",
    "random/tests/test_direct.py",
    "_core/tests/test_umath.py",
]
# random/tests/test_direct.py has one test_ctypes per bit generator (5): this CPython has
# no ctypes (no libffi)
DESELECT_K = "not test_ctypes"
# numpy's own markers skip what wasm lacks (IS_WASM: threads, fp exceptions, ...); the
# xpassed ones are non-strict xfails that pass here
EXPECTED = {"passed": 5359, "skipped": 398, "xfailed": 4, "xpassed": 5, "deselected": 5}


def numpy_env() -> dict[str, str]:
    if not NUMPY_ENV.is_file():
        pytest.fail(f"numpy for wasm is not built: {NUMPY_ENV} is missing. Build it with `lite/build-numpy` "
                    "(run by lite/build-toolchain; from scratch about 40 min on 2 busy cores)")
    env = {}
    for line in NUMPY_ENV.read_text().splitlines():
        m = re.match(r"export (\w+)='([^']*)'", line.strip())
        if m:
            env[m.group(1)] = m.group(2)
    return env


def python_node(*args: str, timeout: float, pythonpath: str = "", cwd: Path | None = None):
    env = dict(os.environ)
    if pythonpath:
        env["XACCEL_WASM_PYTHONPATH"] = pythonpath
    try:
        return subprocess.run([str(PYTHON_NODE), *args], capture_output=True, text=True, timeout=timeout,
                              cwd=cwd, env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"timed out after {timeout}s: python-node {' '.join(args)[:200]}\n{(exc.stdout or b'')[-3000:]!r}")


def describe(proc) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"


def test_numpy_imports_with_builtin_extension_modules():
    numpy_env()
    code = textwrap.dedent("""
        import sys
        import numpy as np
        from numpy._core import _multiarray_umath as mu
        import numpy.linalg, numpy.fft, numpy.random
        print(np.__version__, sys.platform)
        print(mu.__name__, mu.__spec__.origin, 'numpy._core._multiarray_umath' in sys.builtin_module_names)
        print(np.linalg.solve(np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([9.0, 8.0])).tolist())
        print(np.fft.fft(np.array([1.0, 2.0, 3.0, 4.0])).tolist())
        print(np.random.default_rng(42).integers(0, 1000, 5).tolist())
        import pickle
        a = np.arange(6.0).reshape(2, 3)
        print((pickle.loads(pickle.dumps(a)) == a).all())
        # the modules only numpy's tests use: linked here (not in the browser kernel)
        from numpy._core import _umath_tests, _multiarray_tests, _rational_tests
        print(_umath_tests.__spec__.origin, _rational_tests.rational(1, 2) + _rational_tests.rational(1, 3))
    """)
    proc = python_node("-c", code, timeout=120)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.splitlines() == [
        "2.2.6 emscripten",
        "numpy._core._multiarray_umath built-in True",
        "[2.0, 3.0]",
        "[(10+0j), (-2+2j), (-2+0j), (-2-2j)]",
        "[89, 773, 654, 438, 433]",
        "True",
        "built-in 5/6",
    ], describe(proc)


@pytest.mark.timeout(1500)
def test_numpy_test_subset_passes(tmp_path):
    env = numpy_env()
    site = Path(env["XACCEL_PYTHON_NODE_PREFIX"]) / "lib" / "python3.11" / "site-packages" / "numpy"
    files = [str(site / f) for f in NUMPY_TEST_FILES]
    missing = [f for f in files if not Path(f).is_file()]
    assert not missing, f"numpy's tests are not installed in the node prefix: {missing}"
    # --capture=sys: pytest's default fd capture (dup2 of fds 1 and 2) loses all output under node
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--capture=sys", "--color=no", "-o", "addopts=",
            "-k", DESELECT_K, *files]
    proc = python_node(*args, timeout=1400, pythonpath=env["XACCEL_NUMPY_TESTDEPS"], cwd=tmp_path)
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    print(f"\nnumpy test subset under lite/python-node: {summary}")
    counts = {k: int(n) for n, k in re.findall(r"(\d+) (passed|failed|skipped|deselected|xfailed|xpassed|errors?)", summary)}
    assert proc.returncode == 0, describe(proc)
    assert "failed" not in counts and "error" not in counts and "errors" not in counts, describe(proc)
    assert counts == EXPECTED, (counts, summary)
