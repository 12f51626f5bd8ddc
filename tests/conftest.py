"""Shared pytest set-up: every test talks to real processes."""

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"


def pytest_configure(config):
    # The tests drive the kernel installed in the project venv, and must run
    # with that venv's Python so jupyter_client finds its kernelspecs.
    if Path(sys.prefix).resolve() != VENV.resolve():
        raise SystemExit(f"run the tests with {VENV}/bin/python (./dev test does), not {sys.executable}")


def pytest_addoption(parser):
    # ipykernel's own subshell tests (tests/ipykernel_suite) skip their timing
    # tests when coverage is measured, asking for pytest-cov's --cov option;
    # this project does not install pytest-cov, so the option is declared here
    # (same name and default as pytest-cov's) to make "no coverage" answerable.
    try:
        parser.addoption("--cov", action="append", default=[], nargs="?", const=True, dest="cov_source",
                         help="(pytest-cov's option; accepted, coverage is not measured)")
    except ValueError:
        pass  # pytest-cov is installed and declared it
