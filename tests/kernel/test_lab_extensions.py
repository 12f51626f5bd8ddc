"""JupyterLab served from the project venv loads every labextension it announces.

Site-building tools (jupyterlite-xeus, ...) installed in the runtime venv used to add a
labextension whose remoteEntry Lab could not serve: a 404 on every page load. The page's
federated extension list is what the browser loads; each entry must be served (200)
and the server must log no 404 for an extension asset.
"""

import html
import json
import re
import urllib.error
import urllib.request

import pytest

from kernel_harness import ROOT
from lab_server import jupyter_lab


def _fetch(url, token):
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


@pytest.mark.timeout(400)  # a JupyterLab start on a loaded machine
def test_lab_page_loads_every_announced_extension(tmp_path):
    with jupyter_lab(ROOT / "notebooks", tmp_path) as (base, token, log):
        status, page = _fetch(f"{base}lab", token)
        assert status == 200
        m = re.search(rb'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)
        assert m, "no jupyter-config-data in the Lab page"
        config = json.loads(html.unescape(m.group(1).decode()))
        extensions = config["federated_extensions"]
        names = [e["name"] for e in extensions]
        assert "@jupyter-widgets/jupyterlab-manager" in names, names  # ipywidgets: a runtime need
        assert not [n for n in names if n.startswith("@jupyterlite/")], names  # site-building tools
        for ext in extensions:
            url = f"{base}lab/extensions/{ext['name']}/{ext['load']}"
            status, body = _fetch(url, token)
            assert status == 200 and body, f"{url}: HTTP {status}"
    not_found = [l for l in log.read_text().splitlines() if " 404 " in l and "/extensions/" in l]
    assert not not_found, "\n".join(not_found)
