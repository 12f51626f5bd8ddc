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
  * weight: the page's chunk and both worker bundles embed mambajs's conda solver
    (a 3 MB wasm-bindgen module as a 4 MB base64 string) and compile it as soon as
    they load; the worker also fetches and compiles empack's untar wasm (1.5 MB) to
    unpack an environment's packages, even when it has none. The xaccel site installs
    no conda packages (its kernel's %pip has its own index: see above): the solver's
    bytes are removed (its module stays uninitialised; the functions that would use
    it are never called) and untar is loaded only when there are packages to unpack.
    The cold load moves 9.3 MB less (4.5 + 4.8 MB in bundles; 1.5 MB of untar wasm).

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


# a wasm module as a base64 string literal ("\0asm" is "AGFzbQ" in base64)
WASM_BASE64 = re.compile(r'"AGFzbQ[A-Za-z0-9+/=]{100000,}"')
INIT_ONCE = re.compile(r"function\((\w+)\)\{(?:let \w+;)?if\(void 0!==(\w+)\)return;")
SOLVER_DROPPED = re.compile(r"if\(void 0!==\w+\|\|void 0===\w+\)return;")
UNTAR = re.compile(r"(\w+)=(\w+)\.packages,(\w+)=\2\.pipPackages;if\((\w+)\.untarjs\)(\w+)=\4\.untarjs;else\{")


def _drop_solver(text):
    """wasm-bindgen's `initSync({module: <base64 wasm>})`, called as the bundle loads:
    the call gets `void 0` and returns at once; returns (text, solvers removed)."""
    removed = 0
    while True:
        m = WASM_BASE64.search(text)
        if not m:
            return text, removed
        arg = text.rfind("({module:function(", max(0, m.start() - 400), m.start())
        if text.startswith(")})", m.end()):        # ...}("<base64>")})
            arg_end = m.end() + 2
        else:                                       # var A="<base64>",...}()})
            k = text.find("}()})", m.end(), m.end() + 600)
            arg_end = k + 4 if k >= 0 else -1
        heads = list(INIT_ONCE.finditer(text, max(0, arg - 20000), arg)) if arg >= 0 else []
        if arg < 0 or arg_end < 0 or not heads:
            raise SystemExit("site_patch: @jupyterlite/xeus's embedded solver changed shape; update lite/site_patch.py")
        h = heads[-1]
        param, inst = h.group(1), h.group(2)
        head = h.group(0).replace(f"if(void 0!=={inst})return;", f"if(void 0!=={inst}||void 0==={param})return;")
        text = text[:h.start()] + head + text[h.end():arg + 1] + "void 0" + text[arg_end:]
        removed += 1


def _lazy_untar(m):
    pkgs, meta, pips, opts, untar = m.groups()
    return (f"{pkgs}={meta}.packages,{pips}={meta}.pipPackages;if({opts}.untarjs){untar}={opts}.untarjs;"
            f"else if(Object.keys({pkgs}||{{}}).length||Object.keys({pips}||{{}}).length){{")


def patch_xeus(site):
    static = site / "extensions" / "@jupyterlite" / "xeus-extension" / "static"
    bundles = sorted(static.glob("*.js"))
    if not bundles:
        raise SystemExit(f"site_patch: no @jupyterlite/xeus bundles in {static}")
    mapping = magics = waits = solvers = untars = 0
    for bundle in bundles:
        text = bundle.read_text(encoding="utf-8")
        new = text.replace(MAPPING_FETCH, MAPPING_NONE)
        new, removed = _drop_solver(new)
        solvers += len(SOLVER_DROPPED.findall(new))  # removed now or by an earlier run
        new = UNTAR.sub(_lazy_untar, new)
        untars += len(re.findall(r"\.untarjs;else if\(Object\.keys", new))
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
    if mapping < 3 or magics < 3 or waits < 2 or solvers < 3 or untars < 3:
        raise SystemExit(f"site_patch: @jupyterlite/xeus changed (mapping fetches patched: {mapping}, "
                         f"magics handlers patched: {magics}, waitAsync calls patched: {waits}, "
                         f"solvers dropped: {solvers}, untar made lazy: {untars}); update lite/site_patch.py")
    return mapping, magics, waits, solvers, untars


def main():
    site = pathlib.Path(sys.argv[1])
    pages = add_page_scripts(site)
    mapping, magics, waits, solvers, untars = patch_xeus(site)
    print(f"site_patch: page scripts in {pages} app pages; xeus bundles: {mapping} mapping fetches, "
          f"{magics} magics handlers and {waits} waitAsync calls patched, {solvers} embedded solvers "
          f"dropped, untar lazy in {untars}")


if __name__ == "__main__":
    main()
