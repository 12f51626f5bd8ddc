"""%pip in the xaccel JupyterLite kernel (headless Chromium).

The test wheels (site_server.make_test_wheels, written at test time) are published as
the site's wheel index with `lite/build --wheels DIR`; lite/tests/features_test.js runs
the %pip cells of its PIP table on the cross-origin isolated page.
"""
from __future__ import annotations

import pytest

from site_server import features

pytestmark = pytest.mark.timeout(3600)


# Also on a kernel restored from the start-up snapshot an earlier load stored
# (kernel/lite/snapshot_pre.js): the packages it installs are new to that memory.
@pytest.fixture(scope="module", params=["isolated", "isolated-restored"])
def pip(request, tmp_path_factory):
    return features(request.param, tmp_path_factory.mktemp("lite"))["pip"]


def stdout(c):
    return "".join(o["content"]["text"] for o in c["outputs"] if o["type"] == "stream" and o["content"]["name"] == "stdout")


def result_text(c):
    res = [o["content"] for o in c["outputs"] if o["type"] == "execute_result"]
    assert res, c
    return res[0]["data"]["text/plain"]


def error(c):
    assert c["reply"]["status"] == "error", c
    errs = [o["content"] for o in c["outputs"] if o["type"] == "error"]
    assert errs, c
    return errs[0]


def test_install_from_site_index_with_dependency(pip):
    c = pip["install"]
    assert c["reply"]["status"] == "ok", c
    assert "Successfully installed xaccel-test-wheel-1.2.0 xaccel-test-dep-0.3" in stdout(c), c


def test_installed_package_imports_in_same_session(pip):
    assert result_text(pip["import_it"]) == "(42, 'dep')"


def test_install_from_url(pip):
    c = pip["install_url"]
    assert c["reply"]["status"] == "ok", c
    assert result_text(c) == "'from a URL'"


def test_missing_package_is_a_clear_error(pip):
    err = error(pip["missing"])
    assert err["ename"] == "PipError"
    assert "no wheel for xaccel-no-such-package" in err["evalue"] and "lite/build --wheels" in err["evalue"], err
    assert "went on" not in stdout(pip["missing"])


def test_compiled_wheel_is_a_clear_error(pip):
    err = error(pip["compiled"])
    assert "contains compiled code" in err["evalue"] and "pure-Python" in err["evalue"], err


def test_unreachable_url_is_a_clear_error(pip):
    err = error(pip["bad_url"])
    assert "HTTP 404" in err["evalue"], err


def test_pip_list(pip):
    c = pip["list"]
    assert c["reply"]["status"] == "ok", c
    lines = stdout(c).splitlines()
    assert lines[0].split() == ["Package", "Version"], lines[:3]
    rows = {tuple(l.split()) for l in lines[2:]}
    assert ("xaccel-test-wheel", "1.2.0") in rows and ("xaccel-test-dep", "0.3") in rows, lines
    assert any(r[0] == "ipython" for r in rows), lines


def test_lines_named_pip_reach_the_kernel(pip):
    """The xeus worker no longer strips lines starting with `pip` (site_patch.py)."""
    assert result_text(pip["pip_name"]) == "3"
