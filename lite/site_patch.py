"""Finish a JupyterLite site written by `jupyter lite build` (run by lite/build).

- Copies lite/page/*.js into <site>/xaccel-page/ and loads them from every app page
  (lab, notebooks, tree, repl, ...): xaccel-interrupt.js makes Kernel > Interrupt
  reach the xaccel kernel's worker (see that file).
- Patches the @jupyterlite/xeus 5.1 extension's bundles (pinned by
  lite/requirements-build.txt; the build fails if a patch no longer applies):
  * its package-mapping code fetches a file from raw.githubusercontent.com as soon as
    a bundle loads (every page load): it gets an empty mapping instead, so the site
    requests nothing from another origin;
  * its worker removes every line starting with `pip`/`%pip`/`conda`/`mamba`... from a
    cell before the kernel sees it (and installs from emscripten-forge/PyPI itself):
    the xaccel kernel gets the whole cell, and its own %pip installs from the site's
    wheel index or a URL (xaccel_kernel/webpip.py).
  * on a cross-origin isolated page its calls between page and worker (coincident)
    wait with `Atomics.waitAsync(...).value.then(...)`, but waitAsync answers
    synchronously ({async: false}, no promise) when the other side has already
    answered: a TypeError ("value.then is not a function") that loses the call's
    result. Under load it hit the kernel's start (the page then never saw the kernel
    ready); the synchronous answer now becomes a resolved promise.

Usage: site_patch.py SITE_DIR
"""

import pathlib
import re
import shutil
import sys

HERE = pathlib.Path(__file__).resolve().parent
PAGE_DIR = "xaccel-page"
MARK = "<!-- xaccel page scripts -->"


def add_page_scripts(site):
    out = site / PAGE_DIR
    out.mkdir(exist_ok=True)
    scripts = sorted((HERE / "page").glob("*.js"))
    for script in scripts:
        shutil.copy2(script, out / script.name)
    pages = 0
    for index in sorted(site.glob("*/index.html")):
        text = index.read_text(encoding="utf-8")
        if MARK in text:
            pages += 1
            continue
        if "jupyter-config-data" not in text:
            continue
        tags = "".join(f'<script src="../{PAGE_DIR}/{s.name}"></script>' for s in scripts)
        if "</head>" not in text:
            raise SystemExit(f"site_patch: no </head> in {index}")
        index.write_text(text.replace("</head>", f"{MARK}{tags}</head>", 1), encoding="utf-8")
        pages += 1
    if pages == 0:
        raise SystemExit(f"site_patch: no JupyterLite app page found in {site}")
    return pages


MAPPING_FETCH = 'fetch("https://raw.githubusercontent.com/prefix-dev/parselmouth/main/files/compressed_mapping.json")'
MAPPING_NONE = 'Promise.resolve(new Response("{}"))'
MAGICS = re.compile(r"async processMagics\((\w+)\)\{")
# coincident's `S=(isPage,buffer)=>isPage?waitAsync(buffer,0):...` (minified names)
WAIT_ASYNC = re.compile(r"\b(\w)=\((\w),(\w)\)=>\2\?(\w)\(\3,0\):")
WAIT_ASYNC_FIXED = "xaccelWaitAsync("


def _fix_wait_async(m):
    name, page, buf, wait = m.groups()
    return (f"{name}=({page},{buf})=>{page}?(function {WAIT_ASYNC_FIXED}r){{return r.async===!1?"
            f"{{value:Promise.resolve(r.value)}}:r}})({wait}({buf},0)):")


def patch_xeus(site):
    static = site / "extensions" / "@jupyterlite" / "xeus-extension" / "static"
    bundles = sorted(static.glob("*.js"))
    if not bundles:
        raise SystemExit(f"site_patch: no @jupyterlite/xeus bundles in {static}")
    mapping = magics = waits = 0
    for bundle in bundles:
        text = bundle.read_text(encoding="utf-8")
        new = text.replace(MAPPING_FETCH, MAPPING_NONE)
        if "_xeusMagics(" not in new:  # not patched yet (the patch is idempotent)
            new = MAGICS.sub(lambda m: f"async processMagics({m[1]}){{return {m[1]}}}async _xeusMagics({m[1]}){{", new)
        if WAIT_ASYNC_FIXED not in new and "waitAsync" in new:
            new = WAIT_ASYNC.sub(_fix_wait_async, new)
        mapping += new.count(MAPPING_NONE)
        magics += new.count("_xeusMagics(")
        waits += new.count(WAIT_ASYNC_FIXED)
        if "raw.githubusercontent.com" in new:
            raise SystemExit(f"site_patch: {bundle} still fetches from raw.githubusercontent.com")
        if new != text:
            bundle.write_text(new, encoding="utf-8")
    # both the page's chunk and the two worker bundles carry each piece of code
    if mapping < 3 or magics < 3 or waits < 2:
        raise SystemExit(f"site_patch: @jupyterlite/xeus changed (mapping fetches patched: {mapping}, "
                         f"magics handlers patched: {magics}, waitAsync calls patched: {waits}); "
                         f"update lite/site_patch.py")
    return mapping, magics, waits


def main():
    site = pathlib.Path(sys.argv[1])
    pages = add_page_scripts(site)
    mapping, magics, waits = patch_xeus(site)
    print(f"site_patch: page scripts in {pages} app pages; xeus bundles: {mapping} mapping fetches, "
          f"{magics} magics handlers and {waits} waitAsync calls patched")


if __name__ == "__main__":
    main()
