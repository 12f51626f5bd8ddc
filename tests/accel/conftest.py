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
    config.addinivalue_line("markers", "single_threaded: only for the single-threaded (browser) backend")


def pytest_collection_modifyitems(config, items):
    """Each configuration runs the tests that are about it; ./dev test runs
    both configurations, so nothing is skipped: the others are deselected."""
    unwanted = "threads" if accel.SINGLE_THREADED else "single_threaded"
    kept = [item for item in items if unwanted not in item.keywords]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if unwanted in item.keywords])
        items[:] = kept
