"""Test setup for accel.

By default `accel` is imported from the project venv (installed extension).
Set ACCEL_BUILD_DIR=<cmake build dir> to test a specific build instead (used
for the single-threaded configuration)."""
import os
import sys

import pytest

_build = os.environ.get("ACCEL_BUILD_DIR")
if _build:
    sys.path.insert(0, os.path.abspath(_build))

import accel  # noqa: E402

if _build:
    assert os.path.dirname(os.path.abspath(accel.__file__)) == os.path.abspath(_build), accel.__file__


def pytest_configure(config):
    config.addinivalue_line("markers", "threads: needs the threaded runtime (worker/timer/I-O threads)")


def pytest_collection_modifyitems(config, items):
    if not accel.SINGLE_THREADED:
        return
    skip = pytest.mark.skip(reason="single-threaded accel build")
    for item in items:
        if "threads" in item.keywords:
            item.add_marker(skip)
