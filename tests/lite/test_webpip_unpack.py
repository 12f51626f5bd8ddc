"""The wheel handling of the browser's %pip (xaccel_kernel/webpip.py), run by the host
Python on real wheel files (downloads only work in the browser: test_browser_pip.py)."""
from __future__ import annotations

import importlib.metadata
import sys

import pytest

from site_server import REPO
from wheel_maker import make_wheel

sys.path.insert(0, str(REPO / "kernel" / "python"))
from xaccel_kernel import webpip  # noqa: E402

pytestmark = pytest.mark.timeout(60)


@pytest.fixture()
def site_packages(tmp_path, monkeypatch):
    target = tmp_path / "site-packages"
    target.mkdir()
    monkeypatch.setattr(webpip, "_site_packages", lambda: str(target))
    monkeypatch.syspath_prepend(str(target))
    return target


def test_unpack_pure_wheel_and_uninstall(tmp_path, site_packages):
    wheel = make_wheel(tmp_path, "xaccel-unpack-demo", "2.0", {"xaccel_unpack_demo/__init__.py": "X = 1\n"},
                       requires=["ipython", "nope; extra == 'docs'", "old; python_version < '3'",
                                 "linux-only; sys_platform == 'no-such-platform'"])
    name, version, requires = webpip.install_wheel(wheel.read_bytes(), wheel.name)
    assert (name, version, requires) == ("xaccel-unpack-demo", "2.0", ["ipython"])
    assert (site_packages / "xaccel_unpack_demo" / "__init__.py").read_text() == "X = 1\n"
    assert importlib.metadata.distribution("xaccel-unpack-demo").version == "2.0"
    out = []
    webpip.uninstall(["xaccel-unpack-demo"], out=out.append)
    assert out == ["Successfully uninstalled xaccel-unpack-demo-2.0"]
    assert list(site_packages.iterdir()) == []


@pytest.mark.parametrize("tag,files", [
    ("cp311-cp311-emscripten_3_1_69_wasm32", {"m/__init__.py": ""}),
    ("py3-none-any", {"m/_speed.cpython-311-wasm32-emscripten.so": "x"}),
])
def test_compiled_code_refused(tmp_path, site_packages, tag, files):
    wheel = make_wheel(tmp_path, "xaccel-compiled", "1.0", files, tag=tag)
    with pytest.raises(webpip.PipError, match="contains compiled code"):
        webpip.install_wheel(wheel.read_bytes(), wheel.name)
    assert list(site_packages.iterdir()) == []


def test_not_a_wheel(site_packages):
    with pytest.raises(webpip.PipError, match="not a valid wheel"):
        webpip.install_wheel(b"<html>404</html>", "x-1.0-py3-none-any.whl")
    with pytest.raises(webpip.PipError, match="not a wheel file name"):
        webpip.install_wheel(b"", "x.zip")


@pytest.mark.parametrize("marker,expected", [
    ("python_version >= '3.8'", True),
    ("python_version < '3.10'", False),  # compared as versions, not as strings
    ("sys_platform == 'win32' or os_name == 'posix'", True),
    ("(sys_platform == 'win32') and python_version >= '3'", False),
])
def test_markers(marker, expected):
    assert webpip.marker_applies(marker) is expected
