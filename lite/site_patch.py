"""Finish a JupyterLite site written by `jupyter lite build` (run by lite/build).

- Copies lite/page/*.js into <site>/xaccel-page/ and loads them from every app page
  (lab, notebooks, tree, repl, ...): xaccel-interrupt.js makes Kernel > Interrupt
  reach the xaccel kernel's worker, xaccel-prestart.js starts the kernel's worker while
  the app boots (with xaccel-kernel-options.js), xaccel-settings-memo.js remembers the
  settings JupyterLab validated and xaccel-settings-seed.js holds the memo's seed (empty
  here: lite/settings_seed.js fills it after this script); see those files and below.
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
  * every message of the kernel's worker gets, on the page, the session of the last
    request handed to the worker, and JupyterLite sends a reply to the client whose
    session it carries. Two clients of one kernel (JupyterLab opens three connections
    to a notebook's kernel) and a reply that comes after the other client's next
    request went to the wrong client: the first cell of a notebook then waited the 3
    s that JupyterLab gives a kernel_info reply that never came, and a reply to an
    awaiting cell was lost. A message now gets the session of its own parent request
    (the page's last request only when it has none).
  * early start: the page chunk's `initWorker` first asks the page script
    xaccel-prestart.js for the worker it started as the page loaded (it names the
    worker bundles, which this script writes into it); the worker bundles start with
    xaccel-kernel-options.js and worker/xaccel-prestart-worker.js (put there rather
    than loaded: a worker's importScripts waits for the server while the page's own
    requests fill the connections), their kernel object attaches to the latter in its
    constructor and lets it answer `initialize` (the original becomes `_xeusInitialize`).
  * weight: the page's chunk and both worker bundles embed mambajs's conda solver
    (a 3 MB wasm-bindgen module as a 4 MB base64 string) and compile it as soon as
    they load; the worker also fetches and compiles empack's untar wasm (1.5 MB) to
    unpack an environment's packages, even when it has none. The xaccel site installs
    no conda packages (its kernel's %pip has its own index: see above): the solver's
    bytes are removed (its module stays uninitialised; the functions that would use
    it are never called) and untar is loaded only when there are packages to unpack.
    The cold load moves 9.3 MB less (4.5 + 4.8 MB in bundles; 1.5 MB of untar wasm).
- Patches JupyterLab's application state plugin (`@jupyterlab/apputils-extension:state`
  in build/jlab_core.*.js): its `loadState` route, which the router runs before the
  route that opens `?path=`, fetched the workspace and then awaited the workspace's
  debounced save (500 ms after the last change of the state, and the app changes it
  as it boots: 0.5-1 s in which the page did nothing before opening the notebook).
  What the opening route needs is the saved layout put back first (a notebook opened
  before it is dropped by it): the route now waits for the app's layout to be
  restored, or for the save if that comes first; the save itself happens as before.
- Patches JupyterLab's setting registry's schema validator (build/jlab_core.*.js): it
  asks xaccel-settings-memo.js for a plugin's settings before compiling the plugin's
  schema (on every load, for every plugin: the largest piece of the app's boot), and
  tells it what passed. Its two Ajv instances skip the optimisation pass of the code
  they generate (a third of the compile time; the code checks the same) and no longer
  check each schema they are given against the JSON Schema meta-schema on their own:
  the validator already does so explicitly for every plugin's schema it compiles, and
  the implicit check compiled the meta-schema in both instances on every load (0.1 s)
  even when the memo answered everything.

Usage: site_patch.py SITE_DIR
"""

import json
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
PAGE_DIR = "xaccel-page"
MARK = "<!-- xaccel page scripts -->"
BUNDLES_MARK = "__XACCEL_WORKER_BUNDLES__"
XEUS_STATIC = ("extensions", "@jupyterlite", "xeus-extension", "static")


def add_page_scripts(site, worker_bundles):
    out = site / PAGE_DIR
    out.mkdir(parents=True, exist_ok=True)
    scripts = sorted((HERE / "page").glob("*.js"))
    named = 0
    for script in scripts:
        text = script.read_text(encoding="utf-8")
        named += text.count(f'"{BUNDLES_MARK}"')
        (out / script.name).write_text(text.replace(f'"{BUNDLES_MARK}"', json.dumps(worker_bundles)), encoding="utf-8")
    if named != 1:
        raise SystemExit(f"site_patch: {BUNDLES_MARK} found {named} times in lite/page/*.js (expected once)")
    pages = 0
    for index in sorted(site.glob("*/index.html")):
        text = index.read_text(encoding="utf-8")
        if "jupyter-config-data" not in text:
            continue
        if "</head>" not in text:
            raise SystemExit(f"site_patch: no </head> in {index}")
        tags = "".join(f'<script src="../{PAGE_DIR}/{s.name}"></script>' for s in scripts)
        start = text.find(MARK)
        if start < 0:  # (a site patched before gets its tags replaced)
            start = text.find("</head>")
        end = text.find("</head>", start)
        index.write_text(text[:start] + MARK + tags + text[end:], encoding="utf-8")
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


# processWorkerMessage: `e.header.session=<last request's session>,e.session=<same>,this.sendMessage(e)`
LAST_SESSION = re.compile(r'(\w)\.header\.session=null!=\((\w)=null==\((\w)=this\.parentHeader\)\?void 0:\3\.session\)\?\2:"",'
                          r'\1\.session=null!=\((\w)=null==\((\w)=this\.parentHeader\)\?void 0:\5\.session\)\?\4:"",'
                          r'this\.sendMessage\(\1\)')
OWN_SESSION = "xaccelOwnSession"


def _own_session(m):
    e = m[1]
    return (f"{{let {OWN_SESSION}={e}.parent_header&&{e}.parent_header.session||"
            f"this.parentHeader&&this.parentHeader.session||\"\";"
            f"{e}.header.session={OWN_SESSION},{e}.session={OWN_SESSION},this.sendMessage({e})}}")


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


# the page chunk's `initWorker(e){return crossOriginIsolated?new Worker(new URL(s.p+s.u(654),s.b),...):new Worker(...327...)`
INIT_WORKER = re.compile(r"initWorker\((\w+)\)\{(?:let xaccelWorker=[^;]*;if\(xaccelWorker\)return xaccelWorker;)?return crossOriginIsolated\?new Worker\(new URL\((\w+)\.p\+\2\.u\((\d+)\),\2\.b\)"
                         r".{0,120}?:new Worker\(new URL\(\2\.p\+\2\.u\((\d+)\)")
PAGE_CONFIG = re.compile(r"baseUrl:(\w+)\.PageConfig\.getBaseUrl\(\)")
TAKE_WORKER = "xaccelTakeWorker"
# the worker-side kernel object (constructor, initialize) in the worker bundles
KERNEL_CTOR = re.compile(r"constructor\((\w)=\{\}\)\{this\._ready=new Promise\((\w)=>\{this\.setKernelReady=\2\}\)\}")
KERNEL_INIT = re.compile(r"async initialize\((\w)\)\{let\{baseUrl:")
WORKER_SCRIPT = "xaccelPrestart.attach(this)"
# what the worker bundles start with (see the module's doc), in this order
WORKER_HEAD = [HERE / "page" / "xaccel-kernel-options.js", HERE / "page" / "worker" / "xaccel-prestart-worker.js"]


def patch_early_start(static, site):
    """The page chunk takes the worker xaccel-prestart.js started; the worker bundles
    answer its early start (see the module's doc). Returns the worker bundles' paths
    from the site's root ({"isolated": ..., "plain": ...})."""
    chunks = [(b, b.read_text(encoding="utf-8")) for b in sorted(static.glob("*.js"))]
    found = [(b, t, INIT_WORKER.search(t)) for b, t in chunks if "initWorker(" in t]
    if len(found) != 1 or not found[0][2] or not PAGE_CONFIG.search(found[0][1]):
        raise SystemExit("site_patch: @jupyterlite/xeus's initWorker changed shape; update lite/site_patch.py")
    page_chunk, text, m = found[0]
    if TAKE_WORKER not in text:
        arg, config = m.group(1), PAGE_CONFIG.search(text).group(1)
        head = f"initWorker({arg}){{"
        take = (f"let xaccelWorker=self.{TAKE_WORKER}&&self.{TAKE_WORKER}({arg},{config}.PageConfig.getBaseUrl());"
                f"if(xaccelWorker)return xaccelWorker;")
        text = text[:m.start()] + head + take + text[m.start() + len(head):]
        page_chunk.write_text(text, encoding="utf-8")
    ids = {"isolated": m.group(3), "plain": m.group(4)}
    head = "".join(script.read_text(encoding="utf-8").rstrip() + "\n;" for script in WORKER_HEAD)
    bundles = {}
    for kind, chunk_id in ids.items():
        files = sorted(static.glob(f"{chunk_id}.*.js"))
        if len(files) != 1:
            raise SystemExit(f"site_patch: no single worker bundle {chunk_id}.*.js in {static}")
        bundle = files[0]
        text = bundle.read_text(encoding="utf-8")
        if WORKER_SCRIPT not in text:
            if len(KERNEL_CTOR.findall(text)) != 1 or len(KERNEL_INIT.findall(text)) != 1:
                raise SystemExit(f"site_patch: the kernel object of {bundle.name} changed shape; update lite/site_patch.py")
            text = head + KERNEL_CTOR.sub(lambda c: c.group(0)[:-1] + f",self.{WORKER_SCRIPT}}}", text)
            text = KERNEL_INIT.sub(lambda i: f"async initialize({i[1]}){{return self.xaccelPrestart.initialize(this,{i[1]})}}"
                                   f"async _xeusInitialize({i[1]}){{let{{baseUrl:", text)
            bundle.write_text(text, encoding="utf-8")
        bundles[kind] = bundle.relative_to(site).as_posix()
    return bundles


def patch_xeus(site):
    static = site.joinpath(*XEUS_STATIC)
    bundles = sorted(static.glob("*.js"))
    if not bundles:
        raise SystemExit(f"site_patch: no @jupyterlite/xeus bundles in {static}")
    mapping = magics = waits = solvers = untars = sessions = 0
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
        new = LAST_SESSION.sub(_own_session, new)
        sessions += new.count(f"let {OWN_SESSION}=")
        mapping += new.count(MAPPING_NONE)
        magics += new.count("_xeusMagics(")
        waits += new.count(WAIT_ASYNC_FIXED)
        if "raw.githubusercontent.com" in new:
            raise SystemExit(f"site_patch: {bundle} still fetches from raw.githubusercontent.com")
        if new != text:
            bundle.write_text(new, encoding="utf-8")
    # both the page's chunk and the two worker bundles carry each piece of code
    if mapping < 3 or magics < 3 or waits < 2 or solvers < 3 or untars < 3 or sessions != 1:
        raise SystemExit(f"site_patch: @jupyterlite/xeus changed (mapping fetches patched: {mapping}, "
                         f"magics handlers patched: {magics}, waitAsync calls patched: {waits}, "
                         f"solvers dropped: {solvers}, untar made lazy: {untars}, "
                         f"reply sessions patched: {sessions}); update lite/site_patch.py")
    return mapping, magics, waits, solvers, untars, sessions


# the state plugin's activate(app, ...) and its `loadState` command's last line,
# `...,s}await A.invoke()}}),d.addCommand(v.reset,` (minified names)
STATE_ACTIVATE = re.compile(r'(apputils-extension:state",.{0,400}?activate:\((\w)(?:,\w)*\)=>\{)')
LOAD_STATE_WAIT = re.compile(r"(\w)\}await (\w)\.invoke\(\)\}\}\),(\w)\.addCommand\((\w)\.reset,")
STATE_APP = "xaccelApp"


def _patch_one_bundle(site, what, holds, patched, patch):
    """Rewrites the one bundle of <site>/build whose text `holds(text)` with
    `patch(bundle, text)` (which exits when it no longer applies), unless the text is
    `patched(text)` already; exits when not exactly one bundle holds it."""
    found = []
    for bundle in sorted((site / "build").glob("*.js")):
        text = bundle.read_text(encoding="utf-8")
        if not holds(text):
            continue
        if not patched(text):
            bundle.write_text(patch(bundle, text), encoding="utf-8")
        found.append(bundle)
    if len(found) != 1:
        raise SystemExit(f"site_patch: {what} found in {len(found)} bundles of {site / 'build'}")


def patch_load_state(site):
    """The router's loadState route waits for the app's layout to be restored or for
    the workspace's debounced save, whichever comes first, instead of the save alone
    (see the module's doc)."""
    def patch(bundle, text):
        text, n_app = STATE_ACTIVATE.subn(lambda m: f"{m[1]}let {STATE_APP}={m[2]};", text)
        text, n_wait = LOAD_STATE_WAIT.subn(
            lambda m: f"{m[1]}}}await Promise.race([{STATE_APP}.restored,{m[2]}.invoke()])}}}}),"
                      f"{m[3]}.addCommand({m[4]}.reset,", text)
        if n_app != 1 or n_wait != 1:
            raise SystemExit(f"site_patch: JupyterLab's state plugin changed shape in {bundle.name} "
                             f"(activate: {n_app}, loadState: {n_wait}); update lite/site_patch.py")
        return text
    _patch_one_bundle(site, "JupyterLab's state plugin", lambda text: "apputils-extension:state" in text,
                      lambda text: f"let {STATE_APP}=" in text, patch)


# JupyterLab's DefaultSchemaValidator (minified names): the options of its two Ajv
# instances, validateData's head (with the JSON5 parse of the raw settings), and its
# `return` when the settings passed
MEMO = "xaccelMemo"
AJV_OPTIONS = re.compile(r"(\w)=\{strict:!1\};class (\w)\{constructor\(\)\{this\._composer=new\(\w+\(\)\)\(\{useDefaults:!0,\.\.\.\1\}\)")
VALIDATE_HEAD = re.compile(r"validateData\((\w),(\w)=!0\)\{let (\w),(\w)=this\._validator\.getSchema\(\1\.id\)"
                           r"(?=.{0,600}?try\{\3=(\w)\.parse\(\1\.raw\)\})")
VALIDATE_DONE = re.compile(r"return (\w)\((\w)\)\?\((\w)&&\((\w)\.data=\{composite:\2,user:(\w)\}\),null\):\1\.errors\}")


def patch_settings_memo(site):
    """The setting registry's validator asks lite/page/xaccel-settings-memo.js first and
    remembers what passed; its Ajv instances skip their code optimisation pass and their
    implicit meta-schema checks (see the module's doc)."""
    def patch(bundle, text):
        build = json.dumps(bundle.name)
        options = "{strict:!1,validateSchema:!1,code:{optimize:!1}}"
        text, n_ajv = AJV_OPTIONS.subn(lambda m: m[0].replace("{strict:!1}", options, 1), text)
        text, n_head = VALIDATE_HEAD.subn(
            lambda m: (f"validateData({m[1]},{m[2]}=!0){{let {MEMO}=self.xaccelSettingsMemo,"
                       f"xaccelHit={MEMO}&&{MEMO}.get({m[1]},{build});"
                       f"if(xaccelHit)return {m[2]}&&({m[1]}.data={{composite:xaccelHit,user:{m[5]}.parse({m[1]}.raw)}}),null;"
                       f"let {m[3]},{m[4]}=this._validator.getSchema({m[1]}.id)"), text)
        text, n_done = VALIDATE_DONE.subn(
            lambda m: m[0].replace(",null):", f",{m[3]}&&{MEMO}&&{MEMO}.put({m[4]},{m[2]},{build}),null):", 1), text)
        if (n_ajv, n_head, n_done) != (1, 1, 1):
            raise SystemExit(f"site_patch: JupyterLab's schema validator changed shape in {bundle.name} "
                             f"(Ajv options: {n_ajv}, validateData head: {n_head}, its success: {n_done}); "
                             "update lite/site_patch.py")
        return text
    _patch_one_bundle(site, "JupyterLab's schema validator",
                      lambda text: "jupyterlab-plugin-schema" in text and "validateData(" in text,
                      lambda text: f"let {MEMO}=" in text, patch)


def main():
    site = pathlib.Path(sys.argv[1])
    patch_load_state(site)
    patch_settings_memo(site)
    mapping, magics, waits, solvers, untars, sessions = patch_xeus(site)
    worker_bundles = patch_early_start(site.joinpath(*XEUS_STATIC), site)
    pages = add_page_scripts(site, worker_bundles)
    print(f"site_patch: page scripts in {pages} app pages; xeus bundles: {mapping} mapping fetches, "
          f"{magics} magics handlers and {waits} waitAsync calls patched, {solvers} embedded solvers "
          f"dropped, untar lazy in {untars}, {sessions} reply session fixed; early start: {worker_bundles}; "
          f"loadState waits for the layout, not the workspace's save; settings validated once per content")


if __name__ == "__main__":
    main()
