// Browser test of the xaccel JupyterLite site, in headless Debian chromium driven by
// playwright-core (no browser download). Usage:
//   node browser_test.js <site base URL, e.g. http://127.0.0.1:8123/>
// Loads lab/index.html with a notebook on the xaccel kernel (cold profile, then a
// second load with a warm cache), runs cells through the notebook's kernel
// connection and prints one JSON object: {ready_cold_s, ready_warm_s, cold_bytes, cells: {...}}.
// Exits 2 with a message naming what is missing if chromium or playwright-core is.

const { runInSite, recordConsole, recordOtherOrigins, snapshotState, waitWorkerMark, prestartWorkerState,
  withholdSettingsSeed } = require("./chromium");

const base = process.argv[2].replace(/\/?$/, "/");
const NOTEBOOK = process.env.XACCEL_TEST_NOTEBOOK || "xaccel-browser-test.ipynb";
const READY_TIMEOUT = Number(process.env.XACCEL_READY_TIMEOUT || 90000);

// Cells run in order in one kernel; each result is the list of its iopub outputs
// plus the execute_reply content and the wall time until the kernel went idle.
const CELLS = {
  print: "print('hello from xaccel')",
  result: "6 * 7",
  error: "def boom():\n    raise ValueError('bad value')\nboom()",
  html: "from IPython.display import HTML, display\ndisplay(HTML('<b id=\"xa\">bold</b>'))",
  accel_sleep: "import time, accel\nt0 = time.monotonic()\nawait accel.sleep(0.5)\nprint(f'slept {time.monotonic() - t0:.3f}')",
  asyncio_sleep: "import asyncio\nawait asyncio.sleep(0.3)\n'asyncio ok'",
  bg_start: "import asyncio\nticks = []\nasync def ticker():\n    while True:\n        ticks.append(1)\n        await asyncio.sleep(0.1)\nbg = asyncio.create_task(ticker())\nlen(ticks)",
  bg_wait: "__WAIT__",
  bg_check: "n = len(ticks)\nbg.cancel()\nn",
  fetch: "r = await accel.fetch('files/hello.txt')\n(r.status, r.text().strip())",
  gather: "import accel\nawait accel.gather(accel.sleep(0.2, result=1), accel.sleep(0.1, result=2))",
  timeout: "import accel\ntry:\n    await accel.timeout(accel.sleep(5), 0.2)\nexcept TimeoutError:\n    print('timed out')",
  channel: "import accel\nch = accel.Channel(2)\nasync def prod():\n    for i in range(5):\n        await ch.send(i)\n    ch.close()\nasyncio.create_task(prod())\n[x async for x in ch]",
  files: "import accel\nawait accel.write_file('/tmp/xa.txt', 'written by accel')\n(await accel.read_file('/tmp/xa.txt')).decode()",
  cpu: "import accel, hashlib\n(await accel.sha256(b'abc')) == hashlib.sha256(b'abc').hexdigest()",
  magic: "%timeit -n 3 -r 1 sum(range(100))",
  input: "name = input('name? ')\nprint('got', name)",
  // file names of packed code: in-browser paths, sources fetched on demand
  stdlib_tb: "import json\njson.loads('{\"a\": }')",
  // asyncio.run is the kernel's own in the browser (xaccel_kernel/webrun.py); wait_for is the stdlib's
  getsource: "import asyncio, inspect\nfor f in (asyncio.run, asyncio.wait_for):\n"
    + "    print(inspect.getsource(f).splitlines()[0])\n    print(inspect.getsourcefile(f))",
  pinfo2: "import asyncio\nasyncio.run??",
  // a comm message is answered while a cell awaits (kernel/core/beside_cell.hpp)
  comm_target: "import comm\ndef _echo(c, open_msg):\n    c.on_msg(lambda m: c.send({'echo': m['content']['data']}))\n"
    + "comm.get_comm_manager().register_target('test.echo', _echo)",
  comm_while_awaiting: "__COMM_WHILE_AWAITING__",
  // a second client of the kernel sends requests while the first one's cell awaits:
  // each client gets its own replies (lite/site_patch.py, the reply's session)
  two_clients: "__TWO_CLIENTS__",
  // packages left out of xaccel.data until their first import (lite/pack_site.py)
  lazy_before: "import sys\n[m in sys.modules for m in ('jedi', 'parso', 'prompt_toolkit', 'wcwidth')]",
  complete: "__COMPLETE__",  // IPython completes with jedi: fetches jedi.zip and parso.zip
  lazy_after: "import prompt_toolkit, wcwidth\n' '.join(map(str, ('jedi' in sys.modules, 'parso' in sys.modules, "
    + "prompt_toolkit.__version__, wcwidth.wcwidth('a'), prompt_toolkit.__file__)))",
  cwd: "import os\nos.getcwd()",
  random_draw: "import random\nrandom.random()",
  code_paths: "import asyncio.runners, IPython.core.interactiveshell as m, xaccel_kernel.engine as e, sys\n"
    + "[asyncio.runners.Runner.close.__code__.co_filename, m.InteractiveShell.run_cell.__code__.co_filename, "
    + "e.Engine.__init__.__code__.co_filename, sys.prefix]",
};
Object.assign(CELLS, require("./numpy_cells.js"));

async function waitReady(page, t0, phases) {
  await page.waitForFunction(() => {
    const app = window.jupyterapp;
    return !!(app && app.shell && Array.from(app.shell.widgets("main")).find((x) => x.sessionContext));
  }, null, { timeout: READY_TIMEOUT, polling: 25 });
  phases.notebook_open_s = (Date.now() - t0) / 1000;
  await page.waitForFunction(() => {
    const app = window.jupyterapp;
    const w = app && app.shell && Array.from(app.shell.widgets('main')).find((x) => x.sessionContext);
    const ctx = w && w.sessionContext;
    const k = ctx && ctx.session && ctx.session.kernel;
    return !!(k && k.name === "xaccel" && k.status === "idle" && k.connectionStatus === "connected" && ctx.isReady);
  }, null, { timeout: READY_TIMEOUT, polling: 25 });
  return (Date.now() - t0) / 1000;
}

async function runCells(page) {
  return await page.evaluate(async (cells) => {
    const kernel = Array.from(window.jupyterapp.shell.widgets('main')).find((x) => x.sessionContext).sessionContext.session.kernel;
    const out = {};
    for (const [name, code] of Object.entries(cells)) {
      if (code === "__WAIT__") {
        await new Promise((r) => setTimeout(r, 1000));
        out[name] = { waited: 1.0 };
        continue;
      }
      if (code === "__COMPLETE__") {
        const text = "import collections\ncollections.Ordered";
        const t0 = performance.now();
        try {
          const reply = await kernel.requestComplete({ code: text, cursor_pos: text.length });
          out[name] = { reply: reply.content, outputs: [], seconds: (performance.now() - t0) / 1000 };
        } catch (e) {
          out[name] = { error: String(e), outputs: [] };
        }
        continue;
      }
      if (code === "__TWO_CLIENTS__") {
        const other = window.jupyterapp.serviceManager.kernels.connectTo({
          model: { id: kernel.id, name: kernel.name }, handleComms: false });
        if (other.connectionStatus !== "connected") {
          await new Promise((resolve) => other.connectionStatusChanged.connect((_, status) => {
            if (status === "connected") resolve();
          }));
        }
        const future = kernel.requestExecute({ code: "import asyncio\nawait asyncio.sleep(3)\n'first client'" });
        let value = null;
        future.onIOPub = (m) => { if (m.header.msg_type === "execute_result") value = m.content.data["text/plain"]; };
        const lost = (what) => new Promise((resolve) => setTimeout(() => resolve({ lost: what }), 30000));
        // sent while the first client's cell awaits
        const info = await Promise.race([other.requestKernelInfo(), lost("kernel_info_reply")]);
        const reply = await Promise.race([future.done, lost("execute_reply")]);
        other.dispose();
        out[name] = { outputs: [], value, reply: reply.lost ? reply : reply.content,
                      other_info: info.lost ? info : { status: info.content.status, implementation: info.content.implementation } };
        continue;
      }
      if (code === "__COMM_WHILE_AWAITING__") {
        // A cell awaits 3 s; meanwhile a comm is opened and sent a message.
        const t0 = performance.now();
        const future = kernel.requestExecute({ code: "import asyncio\nawait asyncio.sleep(3)\n'cell done'" });
        const comm = kernel.createComm("test.echo");
        const echoed = new Promise((resolve) => {
          comm.onMsg = (msg) => resolve({ data: msg.content.data, at: (performance.now() - t0) / 1000 });
        });
        comm.open({});
        comm.send({ n: 1 });
        try {
          const echo = await Promise.race([
            echoed, new Promise((_, rej) => setTimeout(() => rej(new Error("no echo after 30 s")), 30000))]);
          const reply = await future.done;
          out[name] = { echo, reply: reply.content, outputs: [], cell_done_at: (performance.now() - t0) / 1000 };
        } catch (e) {
          out[name] = { error: String(e), outputs: [] };
        }
        continue;
      }
      const t0 = performance.now();
      const outputs = [];
      const future = kernel.requestExecute({ code, allow_stdin: true, store_history: true });
      future.onIOPub = (msg) => {
        const t = msg.header.msg_type;
        if (t === "status" || t === "execute_input") return;
        outputs.push({ type: t, content: msg.content, at: (performance.now() - t0) / 1000 });
      };
      future.onStdin = (msg) => {
        outputs.push({ type: "input_request", content: msg.content });
        kernel.sendInputReply({ status: "ok", value: "browser-user" }, msg.header);
      };
      let reply;
      try {
        reply = await Promise.race([
          future.done,
          new Promise((_, rej) => setTimeout(() => rej(new Error("timeout after 30 s")), 30000)),
        ]);
        out[name] = { reply: reply.content, session: reply.header.session, outputs, seconds: (performance.now() - t0) / 1000 };
      } catch (e) {
        out[name] = { error: String(e), outputs, seconds: (performance.now() - t0) / 1000 };
      }
    }
    return out;
  }, CELLS);
}

// What a fresh kernel's namespace holds, asked with a silent request (no execution
// count, no history) before any cell: a restored kernel's warm-up must leave it so.
async function freshState(page) {
  return await page.evaluate(async () => {
    const kernel = Array.from(window.jupyterapp.shell.widgets('main')).find((x) => x.sessionContext).sessionContext.session.kernel;
    const reply = await kernel.requestExecute({ code: "", silent: true, store_history: false, user_expressions: {
      state: "(repr(_), repr(__), len(In), len(Out), get_ipython().execution_count)" } }).done;
    const e = reply.content.user_expressions.state;
    return e && e.data ? e.data["text/plain"] : e;
  });
}

async function firstResult(page) {
  return await page.evaluate(async () => {
    const kernel = Array.from(window.jupyterapp.shell.widgets('main')).find((x) => x.sessionContext).sessionContext.session.kernel;
    const f = kernel.requestExecute({ code: "1 + 1" });
    let data = null;
    f.onIOPub = (m) => { if (m.header.msg_type === "execute_result") data = m.content.data; };
    const reply = await f.done;
    return { data, execution_count: reply.content.execution_count, session: reply.header.session };
  });
}

// Bytes the cold load moves until the kernel is ready: the body sizes of the responses
// that came from the network (the page's and the service worker's; the kernel's worker
// fetches through JupyterLite's service worker, whose answers to the page are not
// counted twice). Returns a function that stops counting and resolves to the total;
// it is given the URLs that must be counted: the script of the kernel's early worker
// (lite/page/xaccel-prestart.js) is not reported to the driver, so its size is added
// from the server when it is missing (out.added says so).
function countBytes(context, out) {
  const pending = [];
  let counting = true;
  const onFinished = (req) => {
    if (!counting) return;
    pending.push(Promise.all([req.sizes(), req.response()]).then(([s, resp]) => {
      if (resp && resp.fromServiceWorker()) return;
      out.total += s.responseBodySize;
      const p = new URL(req.url()).pathname;
      out.by_path[p] = (out.by_path[p] || 0) + s.responseBodySize;
    }).catch(() => {}));
  };
  context.on("requestfinished", onFinished);
  return async (mustCount) => {
    counting = false;
    context.off("requestfinished", onFinished);
    await Promise.all(pending);
    out.added = {};
    for (const url of mustCount) {
      const p = new URL(url).pathname;
      if (out.by_path[p]) continue;
      const body = await (await fetch(url)).arrayBuffer();
      out.added[p] = body.byteLength;
      out.by_path[p] = body.byteLength;
      out.total += body.byteLength;
    }
    const top = Object.entries(out.by_path).sort((a, b) => b[1] - a[1]).slice(0, 15);
    out.by_path = Object.fromEntries(top);
    return out.total;
  };
}

// Records, in every page, the order of: the app's layout restored, JupyterLite's
// IndexedDB lookups of files, its writes of the workspace (store "statedb"). The route
// that opens ?path= should wait for the layout, not for the workspace's debounced save
// (lite/site_patch.py, patch_load_state).
function recordStorageOrder() {
  const order = (window.__xaccelStorageOrder = []);
  const wrap = (name, store) => {
    const original = IDBObjectStore.prototype[name];
    IDBObjectStore.prototype[name] = function (...args) {
      if (this.name === store) order.push(`${name} ${store} ${name === "put" ? args[1] : args[0]}`);
      return original.apply(this, args);
    };
  };
  wrap("get", "files");
  wrap("put", "statedb");
  // JupyterLite sets window.jupyterapp before it starts the app
  let app;
  Object.defineProperty(window, "jupyterapp", {
    configurable: true,
    get: () => app,
    set: (value) => {
      app = value;
      if (value && value.restored) value.restored.then(() => order.push("layout restored"));
    },
  });
}

// Settings > Theme, as a user picks it: the setting registry validates the new settings
// and lite/page/xaccel-settings-memo.js remembers them; returns once they are stored.
async function changeTheme(page, theme) {
  await page.evaluate((name) => window.jupyterapp.commands.execute("apputils:change-theme", { theme: name }), theme);
  return page.waitForFunction((name) => Object.keys(localStorage).some((k) => k.startsWith("xaccel-settings-memo:") &&
    (JSON.parse(localStorage.getItem(k))["@jupyterlab/apputils-extension:themes"] || { composite: "" }).composite.includes(name)),
    theme, { timeout: 30000, polling: 100 }).then(() => true, (e) => String(e));
}

// Runs `fn` in a page of the site's origin with no app (and no kernel) open; returns its answer.
async function withoutApp(context, fn) {
  const page = await context.newPage();
  await page.goto(`${base}jupyter-lite.json`, { waitUntil: "domcontentloaded" });
  try {
    return await page.evaluate(fn);
  } finally {
    await page.close();
  }
}

// The settings memo, with no app page open: the theme's entry (stored when the user
// picked a theme) gets a composite that is not JSON, and the notebook tracker an entry
// under another key (as if its schema or user settings had changed since; its seed
// entry still matches). Returns the plugins whose entries were changed.
function damageSettingsMemo(context) {
  return withoutApp(context, () => {
    const done = [];
    for (const k of Object.keys(localStorage).filter((k) => k.startsWith("xaccel-settings-memo:"))) {
      const table = JSON.parse(localStorage.getItem(k));
      const themes = table["@jupyterlab/apputils-extension:themes"];
      if (themes) { themes.composite = "{not json"; done.push("@jupyterlab/apputils-extension:themes"); }
      table["@jupyterlab/notebook-extension:tracker"] = { key: "0.0:0.0", composite: "{}" };
      done.push("@jupyterlab/notebook-extension:tracker");
      localStorage.setItem(k, JSON.stringify(table));
    }
    return done;
  });
}

// The settings memo's stored entries go (a first visit's storage) and, until the returned
// function is called, the site's seed reads as empty: the app validates every plugin's
// settings itself.
async function withoutSettingsSeed(context) {
  await withoutApp(context, () => {
    for (const k of Object.keys(localStorage).filter((k) => k.startsWith("xaccel-settings-memo:"))) localStorage.removeItem(k);
  });
  return withholdSettingsSeed(context, base);
}

const result = { console: [], other_origin_requests: [] };
runInSite(result, async (context) => {
  await context.addInitScript(recordStorageOrder);
  // A site built by lite/build loads only from its own origin (lite/site_patch.py).
  recordOtherOrigins(context, base, result.other_origin_requests);
  result.cold_bytes = { total: 0, by_path: {} };
  const stopCounting = countBytes(context, result.cold_bytes);
  const url = `${base}lab/index.html?path=${NOTEBOOK}`;
  let page = await context.newPage();
  recordConsole(page, result.console);
  page.on("requestfailed", (r) => result.console.push(`[requestfailed] ${r.url()} ${r.failure() && r.failure().errorText}`.slice(0, 500)));
  let t0 = Date.now();
  await page.goto(url, { waitUntil: "domcontentloaded" });
  result.cold_phases = {};
  result.ready_cold_s = await waitReady(page, t0, result.cold_phases);
  result.prestart_cold = await page.evaluate(() => window.__xaccelPrestart);
  result.prestart_worker_cold = await prestartWorkerState(page);
  result.storage_order_cold = await page.evaluate(() => window.__xaccelStorageOrder);
  await stopCounting(result.prestart_cold.script ? [result.prestart_cold.script] : []);
  result.fresh_state_cold = await freshState(page);
  result.cells = await runCells(page);
  result.snapshot_cold = await snapshotState(page);
  result.settings_memo_cold = await page.evaluate(() => self.xaccelSettingsMemo.stats());
  result.settings_seed = await page.evaluate(() => self.xaccelSettingsSeed);
  result.theme_cold = await page.evaluate(() => document.body.dataset.jpThemeName);
  result.theme_memo_saved = await changeTheme(page, "JupyterLab Dark");
  await page.close();
  result.settings_memo_damaged = await damageSettingsMemo(context);
  // Second load: same profile, so the HTTP cache (and the service worker) are warm.
  page = await context.newPage();
  t0 = Date.now();
  await page.goto(url, { waitUntil: "domcontentloaded" });
  result.warm_phases = {};
  result.ready_warm_s = await waitReady(page, t0, result.warm_phases);
  result.storage_order_warm = await page.evaluate(() => window.__xaccelStorageOrder);
  // the restored kernel warms up before any cell (kernel/lite/main.cpp, warm_up_restored)
  result.warmed_up = await waitWorkerMark(page, "warm_up_end_s", 30000);
  result.settings_memo_warm = await page.evaluate(() => self.xaccelSettingsMemo.stats());
  result.theme_warm = await page.evaluate(() => document.body.dataset.jpThemeName);
  result.fresh_state_warm = await freshState(page);
  const again = await firstResult(page);
  result.warm_cell = again.data;
  result.warm_first_result_s = (Date.now() - t0) / 1000;
  result.warm_first = again;
  result.prestart_warm = await page.evaluate(() => window.__xaccelPrestart);
  result.prestart_worker_warm = await prestartWorkerState(page);
  // The warm load's kernel started from the cold one's snapshot: every cell again.
  result.snapshot_warm = await snapshotState(page);
  result.warm_cells = await runCells(page);
  // A restart gets a new worker, started the ordinary way (the early one is used once).
  result.restarted = await page.evaluate(async () => {
    const ctx = Array.from(window.jupyterapp.shell.widgets('main')).find((x) => x.sessionContext).sessionContext;
    await ctx.session.kernel.requestExecute({ code: "before_restart = 1" }).done;
    await ctx.restartKernel();
    const until = performance.now() + 90000;
    while (!(ctx.session.kernel.status === "idle" && ctx.session.kernel.connectionStatus === "connected")) {
      if (performance.now() > until) return { error: "no idle kernel 90 s after the restart" };
      await new Promise((r) => setTimeout(r, 50));
    }
    const f = ctx.session.kernel.requestExecute({ code: "import os\n(os.getcwd(), 'before_restart' in dir(), 6 * 7)" });
    let data = null;
    f.onIOPub = (m) => { if (m.header.msg_type === "execute_result") data = m.content.data; };
    const reply = await f.done;
    return { reply: reply.content, data, prestart: window.__xaccelPrestart };
  });
  await page.close();
  // Third load with the stored snapshot damaged (cut short): the kernel starts the
  // ordinary way, and the damaged entry is deleted. It also runs without the settings
  // seed, to compare what it validates with what the seed says.
  const withSeedAgain = await withoutSettingsSeed(context);
  result.damaged_entries = await withoutApp(context, async () => {
    const cache = await caches.open("xaccel-start-snapshot");
    const keys = await cache.keys();
    for (const k of keys) {
      const bytes = new Uint8Array(await (await cache.match(k)).arrayBuffer());
      await cache.put(k, new Response(bytes.slice(0, bytes.length >> 1)));
    }
    return keys.map((k) => k.url);
  });
  page = await context.newPage();
  recordConsole(page, result.console);
  await page.goto(url, { waitUntil: "domcontentloaded" });
  await waitReady(page, Date.now(), {});
  result.damaged_first = await firstResult(page);
  result.snapshot_damaged = await snapshotState(page);
  result.entries_after_damage = await page.evaluate(async () =>
    (await (await caches.open("xaccel-start-snapshot")).keys()).map((k) => k.url));
  result.settings_memo_unseeded = await page.evaluate(() => self.xaccelSettingsMemo.stats());
  result.settings_unseeded = await page.evaluate(() => self.xaccelSettingsMemo.entries());
  await withSeedAgain();
});
