"""Run test_asyncio test modules on the wasm CPython (executed by lite/python-node).

usage: lite/python-node tests/lite/wasm_asyncio_tests.py test_asyncio.test_futures [regrtest options]

Why a runner and not plain `-m test test_asyncio.test_futures`:

* CPython 3.11's Lib/test/test_asyncio/__init__.py calls
  `support.requires_working_socket(module=True)`, which skips the whole package on
  Emscripten, so `-m test` "passes" without running a single test. test_futures does not
  need sockets (its loop is test_utils.TestLoop, which has no self-pipe), so the runner
  lifts that package-level guard and the module really runs.
* The build has no threads (no pthreads: the browser kernel cannot rely on
  SharedArrayBuffer), so the tests that submit work to a
  concurrent.futures.ThreadPoolExecutor cannot run; they are deselected by name
  (THREAD_TESTS below). Everything else runs (143 of the module's 155 tests).
"""
import sys

from test import support

# 4 tests x 3 classes (CFutureTests, CSubFutureTests, PyFutureTests) fail with
# "RuntimeError: can't start new thread"; DuckTests.test_wrap_future has no thread and runs.
THREAD_TESTS = [
    "*FutureTests.test_wrap_future",
    "*FutureTests.test_wrap_future_without_loop",
    "*FutureTests.test_wrap_future_use_running_loop",
    "*FutureTests.test_wrap_future_use_global_loop",
]


def main() -> None:
    support.has_socket_support = True  # see the module docstring
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    for name in THREAD_TESTS:
        args += ["--ignore", name]
    from test.libregrtest import main as regrtest_main

    sys.argv[1:] = args + ["-v"]  # regrtest parses sys.argv
    regrtest_main()


if __name__ == "__main__":
    main()
