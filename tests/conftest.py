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
