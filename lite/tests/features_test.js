// Interrupts and %pip of the xaccel JupyterLite kernel in headless chromium.
//   node features_test.js <site base URL> isolated|not-isolated
// Opens the test notebook; on the isolated page first runs the %pip cells (PIP: the
// site carries the test wheels of tests/lite/test_browser_pip.py); then starts a
// background task and runs each interrupt case: sends the cell, waits until it runs,
// interrupts the kernel (the first case through the Kernel > Interrupt command itself,
// the others through the KernelConnection.interrupt() it calls), and records the cell's outputs, its reply and the
// time from the interrupt to the reply. Every request to another origin than the
// site's is recorded. Prints one JSON object. Exits 2 naming what is missing if
// chromium or playwright-core is.

const { runInSite, recordConsole, recordOtherOrigins, snapshotState, prestartWorkerState } = require("./chromium");

const base = process.argv[2].replace(/\/?$/, "/");
// isolated | not-isolated | isolated-restored (the kernel starts from the start-up
// snapshot a first load of the page stored: kernel/lite/snapshot_pre.js)
const MODE = process.argv[3] || "isolated";
const ISOLATED = MODE.startsWith("isolated");
const NOTEBOOK = process.env.XACCEL_TEST_NOTEBOOK || "xaccel-browser-test.ipynb";
const READY_TIMEOUT = Number(process.env.XACCEL_READY_TIMEOUT || 90000);

// name -> code; __ORIGIN__ becomes the site's origin
const PIP = {
  install: "%pip install xaccel-test-wheel",
  import_it: "import xaccel_test_wheel, xaccel_test_dep\n(xaccel_test_wheel.ANSWER, xaccel_test_dep.NAME)",
  install_url: "%pip install __ORIGIN__/xaccel-wheels/xaccel_url_wheel-0.1-py3-none-any.whl\nimport xaccel_url_wheel\nxaccel_url_wheel.VALUE",
  missing: "%pip install xaccel-no-such-package\nprint('went on')",
  compiled: "%pip install xaccel-native-ext",
  bad_url: "%pip install __ORIGIN__/nowhere/xaccel_gone-1.0-py3-none-any.whl",
  list: "%pip list",
  pip_name: "pip = 3\npip",
};

const SETUP = "import asyncio, time, accel\nticks = []\nasync def ticker():\n    while True:\n"
  + "        ticks.append(1)\n        await asyncio.sleep(0.05)\nbg = asyncio.create_task(ticker())\nlen(ticks)";
// name -> [code, seconds to let it run before the interrupt]
const AWAITED = {
  asyncio_sleep: ["await asyncio.sleep(100)\nprint('not interrupted')", 1.0],
  accel_sleep: ["await accel.sleep(100)\nprint('not interrupted')", 1.0],
  stalled_fetch: ["r = await accel.fetch('__xaccel_test__/stall')\nprint('not interrupted')", 1.5],
  busy_in_awaited_cell: ["await asyncio.sleep(0.1)\nwhile True:\n    pass", 1.0],
};
const SYNC = {
  busy_loop: ["while True:\n    pass", 1.0],
  time_sleep: ["time.sleep(100)\nprint('not interrupted')", 1.0],
};
// A background task that never awaits holds the worker between cells: the first
// interrupt goes unread, the second (forced) stops the task (isolated page only).
const HOG = "go = asyncio.Event()\nasync def hog():\n    await go.wait()\n    while True:\n"
  + "        time.sleep(0.01)\nhog_task = asyncio.create_task(hog())";
// Without isolation, synchronous code runs to its end and the page says why.
const NOT_ISOLATED = {
  short_sync_sleep: ["time.sleep(3)\nprint('slept to the end')", 0.5],
};

async function waitReady(page) {
  await page.waitForFunction(() => {
    const app = window.jupyterapp;
    const w = app && app.shell && Array.from(app.shell.widgets("main")).find((x) => x.sessionContext);
    const ctx = w && w.sessionContext;
    const k = ctx && ctx.session && ctx.session.kernel;
    return !!(k && k.name === "xaccel" && k.status === "idle" && k.connectionStatus === "connected" && ctx.isReady);
  }, null, { timeout: READY_TIMEOUT, polling: 50 });
}

async function run(page, cases) {
  return await page.evaluate(async (cases) => {
    const kernel = Array.from(window.jupyterapp.shell.widgets("main")).find((x) => x.sessionContext)
      .sessionContext.session.kernel;
    async function execute(code, interruptAfter, viaMenu) {
      const outputs = [];
      let started = false;
      const t0 = performance.now();
      const future = kernel.requestExecute({ code, store_history: true, allow_stdin: true });
      future.onStdin = (msg) => {
        outputs.push({ type: "input_request", content: msg.content, at: performance.now() });
        kernel.sendInputReply({ status: "ok", value: "typed in " + (self.crossOriginIsolated ? "isolated" : "plain") }, msg.header);
      };
      future.onIOPub = (msg) => {
        const t = msg.header.msg_type;
        if (t === "status") { if (msg.content.execution_state === "busy") started = true; return; }
        if (t === "execute_input") return;
        outputs.push({ type: t, content: msg.content, at: performance.now() });
      };
      let interruptedAt = null;
      const notesBefore = (window.__xaccelInterruptNotes || []).length;
      if (interruptAfter !== null) {
        const until = performance.now() + 20000;
        while (!started && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
        await new Promise((r) => setTimeout(r, interruptAfter * 1000));
        interruptedAt = performance.now();
        if (viaMenu) {
          // the menu's own command (Kernel > Interrupt), on the open notebook
          await window.jupyterapp.commands.execute("notebook:interrupt-kernel");
        } else {
          await kernel.interrupt();  // what that command calls
        }
      }
      try {
        const reply = await Promise.race([future.done,
          new Promise((_, rej) => setTimeout(() => rej(new Error("no reply within 30 s")), 30000))]);
        const end = performance.now();
        // a note is shown a second after an unanswered interrupt: give it the time
        if (interruptedAt !== null) await new Promise((r) => setTimeout(r, Math.max(0, interruptedAt + 1500 - performance.now())));
        const firstError = outputs.find((o) => o.type === "error");
        return { reply: reply.content, outputs, seconds: (end - t0) / 1000,
                 error_shown_s: firstError && interruptedAt !== null ? (firstError.at - interruptedAt) / 1000 : null,
                 after_interrupt_s: interruptedAt === null ? null : (end - interruptedAt) / 1000,
                 notes: (window.__xaccelInterruptNotes || []).slice(notesBefore) };
      } catch (e) {
        return { error: String(e), outputs };
      }
    }
    const out = { pip: {}, cases: {} };
    for (const [name, code] of Object.entries(cases.pip)) {
      out.pip[name] = await execute(code.replace(/__ORIGIN__/g, location.origin), null);
    }
    // IPython's first traceback of a session imports its traceback machinery (about a
    // second here): paid by this cell, so that the cases measure the interrupt itself
    out.first_traceback = await execute("raise ValueError('first traceback of the session')", null);
    // stdin reaches the page through coincident (isolated) or the service worker
    out.stdin = await execute("print('got', input('name? '))", null);
    out.setup = await execute(cases.setup, null);
    let first = true;
    for (const [name, [code, wait]] of Object.entries(cases.interrupted)) {
      out.cases[name] = await execute(code, wait, first);
      first = false;
      await new Promise((r) => setTimeout(r, 300));
    }
    out.after = await execute("(len(ticks), bg.done(), 6 * 7)", null);
    await new Promise((r) => setTimeout(r, 500));
    out.after_later = await execute("(len(ticks), bg.done())", null);
    if (cases.hog) {
      // the page script's state of this kernel (lite/page/xaccel-interrupt.js)
      const state = window.jupyterapp.serviceManager.kernels._kernelAPIClient._kernels.get(kernel.id).__xaccel;
      out.hog_setup = await execute(cases.hog, null);
      out.hog_go = await execute("go.set()", null);
      await new Promise((r) => setTimeout(r, 1000));  // the task holds the worker now
      let presses = 0;
      let freed = false;
      while (!freed && presses < 6) {
        await kernel.interrupt();
        presses += 1;
        // the worker answers an interrupt message once it is free again
        const until = performance.now() + 3000;
        while (state.waiting !== 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
        freed = state.waiting === 0;
      }
      out.hog = { presses, freed };
      out.hog_after = await execute("(hog_task.done(), type(hog_task.exception()).__name__, bg.done(), 6 * 7)", null);
      await new Promise((r) => setTimeout(r, 500));
      out.hog_after_later = await execute("(len(ticks), bg.done())", null);
    }
    out.notes = (window.__xaccelInterruptNotes || []).slice();
    out.isolated = self.crossOriginIsolated === true;
    return out;
  }, cases);
}

const result = { mode: MODE, console: [], other_origin_requests: [] };
runInSite(result, async (context) => {
  // A site built by lite/build loads only from its own origin (lite/site_patch.py).
  recordOtherOrigins(context, base, result.other_origin_requests);
  if (MODE.endsWith("-restored")) {
    const first = await context.newPage();
    await first.goto(`${base}lab/index.html?path=${NOTEBOOK}`, { waitUntil: "domcontentloaded" });
    await waitReady(first);
    result.snapshot_first = await snapshotState(first);
    await first.close();
  }
  const page = await context.newPage();
  recordConsole(page, result.console);
  await page.goto(`${base}lab/index.html?path=${NOTEBOOK}`, { waitUntil: "domcontentloaded" });
  await waitReady(page);
  result.prestart = await page.evaluate(() => window.__xaccelPrestart);
  result.prestart_worker = await prestartWorkerState(page);
  result.snapshot = await snapshotState(page);
  // the page script hands the signal buffer to the worker once it is ready
  await page.waitForTimeout(500);
  const interrupted = ISOLATED ? { ...AWAITED, ...SYNC } : { ...AWAITED, ...NOT_ISOLATED };
  if (!ISOLATED) delete interrupted.busy_in_awaited_cell;
  const pip = ISOLATED ? PIP : {};
  const hog = MODE === "isolated" ? HOG : null;
  Object.assign(result, await run(page, { pip, setup: SETUP, interrupted, hog }));
});
