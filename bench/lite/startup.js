// One site's start-up in headless Chromium (Debian's, driven by playwright-core from
// lite/tests/node_modules). Run by bench/lite/bench_startup.py; prints one JSON line.
//
//   node startup.js BASE_URL NOTEBOOK KERNEL_NAME RUNS
//
// RUNS times: a fresh browser profile (cold: empty HTTP cache, no service worker), one
// load, then a second load in the same profile (warm). Each load: navigation ->
// notebook widget open (the JupyterLab app) -> kernel idle and connected -> the
// execute_result of `1 + 1`, sent as soon as the kernel is connected. Bytes: the body
// and header sizes of every response the browser received from the network (page and
// service worker; the kernel's worker fetches through the service worker), as Chromium
// reports them (the server does not compress). For the xaccel kernel the
// worker's start-up marks (Module.__xwLoad, kernel/lite/load_pre.js) are read too.
const path = require("path");
const { launchSite } = require(path.join(__dirname, "..", "..", "lite", "tests", "chromium.js"));

const [base0, notebook, kernelName, runsArg] = process.argv.slice(2);
const base = base0.replace(/\/?$/, "/");
const RUNS = Number(runsArg || 3);
const TIMEOUT = 180000;

async function oneLoad(context, label) {
  const load = { label, bytes: 0, header_bytes: 0, requests: 0, by_path: {}, failed: [] };
  const pending = [];
  const onFinished = (req) => {
    pending.push(Promise.all([req.sizes(), req.response()]).then(([s, resp]) => {
      // The page's and workers' requests that JupyterLite's service worker answers
      // appear twice (the page's, and the service worker's own fetch): count the fetch.
      if (resp && resp.fromServiceWorker()) return;
      const u = new URL(req.url());
      const key = u.origin === new URL(base).origin ? u.pathname : u.href;
      load.requests += 1;
      load.bytes += s.responseBodySize;
      load.header_bytes += s.responseHeadersSize;
      load.by_path[key] = (load.by_path[key] || 0) + s.responseBodySize;
    }).catch(() => {}));
  };
  const onFailed = (req) => load.failed.push(req.url());
  // bench_startup.py's server counts the bytes it sends per segment (a cross-check)
  if (process.env.XACCEL_BENCH_SEGMENT) await fetch(`${process.env.XACCEL_BENCH_SEGMENT}-${label.split(" ")[0]}`);
  context.on("requestfinished", onFinished);
  context.on("requestfailed", onFailed);
  const page = await context.newPage();
  const workers = [];
  page.on("worker", (w) => workers.push({ w, at: Date.now() }));
  const t0 = Date.now();
  await page.goto(`${base}lab/index.html?path=${notebook}`, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(() => {
    const app = window.jupyterapp;
    return !!(app && app.shell && Array.from(app.shell.widgets("main")).find((x) => x.sessionContext));
  }, null, { timeout: TIMEOUT, polling: 20 });
  load.app_s = (Date.now() - t0) / 1000;
  await page.waitForFunction((name) => {
    const app = window.jupyterapp;
    const w = Array.from(app.shell.widgets("main")).find((x) => x.sessionContext);
    const ctx = w && w.sessionContext;
    const k = ctx && ctx.session && ctx.session.kernel;
    return !!(k && k.name === name && k.connectionStatus === "connected" && k.status === "idle");
  }, kernelName, { timeout: TIMEOUT, polling: 20 });
  load.kernel_ready_s = (Date.now() - t0) / 1000;
  // A kernel that never answers fails this load instead of hanging the benchmark.
  const value = await page.evaluate(async (ms) => {
    const w = Array.from(window.jupyterapp.shell.widgets("main")).find((x) => x.sessionContext);
    const f = w.sessionContext.session.kernel.requestExecute({ code: "1 + 1" });
    let data = null;
    f.onIOPub = (m) => { if (m.header.msg_type === "execute_result") data = m.content.data["text/plain"]; };
    const late = new Promise((resolve) => setTimeout(() => resolve("late"), ms));
    return (await Promise.race([f.done.then(() => "done"), late])) === "late" ? { late: true } : data;
  }, TIMEOUT);
  if (value && value.late) throw new Error(`${label}: no reply to the first cell within ${TIMEOUT / 1000} s`);
  load.first_result_s = (Date.now() - t0) / 1000;
  load.first_result = value;
  if (value !== "2") throw new Error(`${label}: first cell gave ${JSON.stringify(value)}`);
  // the xaccel site's early kernel start (lite/page/xaccel-prestart.js); absent elsewhere
  load.prestart = await page.evaluate(() => window.__xaccelPrestart || null);
  for (const { w, at } of workers) {
    let marks = null;
    try {
      marks = await w.evaluate(() => (globalThis.Module && globalThis.Module.__xwLoad) ?
        JSON.parse(JSON.stringify(globalThis.Module.__xwLoad, (k, v) => (v instanceof Promise ? undefined : v))) : null);
    } catch (e) { /* a worker that ended */ }
    if (marks) {
      load.worker_started_s = (at - t0) / 1000;
      const off = (marks.t0 - t0) / 1000;
      load.worker = { xaccel_js_s: off };
      for (const [k, v] of Object.entries(marks)) if (k.endsWith("_s")) load.worker[k] = off + v;
      load.worker.files = marks.files;
      // kernel/lite/snapshot_pre.js: restored, saving/saved, off, ...
      load.snapshot = await w.evaluate(() => globalThis.Module.__xwSnapshot && globalThis.Module.__xwSnapshot.status)
        .catch(() => null);
    }
  }
  await Promise.all(pending);
  context.off("requestfinished", onFinished);
  context.off("requestfailed", onFailed);
  await page.close();
  return load;
}

(async () => {
  const out = { base, notebook, kernel: kernelName, cold: [], warm: [] };
  for (let i = 0; i < RUNS; i++) {
    const { context, profile } = await launchSite();
    try {
      out.cold.push(await oneLoad(context, `cold ${i + 1}`));
      out.warm.push(await oneLoad(context, `warm ${i + 1}`));
    } catch (e) {
      out.fatal = String(e && e.stack || e);
    } finally {
      await context.close();
      require("fs").rmSync(profile, { recursive: true, force: true });
    }
    if (out.fatal) break;
  }
  console.log(JSON.stringify(out));
})();
