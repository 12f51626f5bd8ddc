// The headless browser of every browser test: Debian's chromium, driven by
// playwright-core (npm, installed in lite/tests by `./dev test`).
// Requiring this module exits with status 2 and names what is missing, so that
// the pytest side can fail with that message instead of a stack trace.
const fs = require("fs");
const os = require("os");
const path = require("path");

const CHROMIUM = process.env.XACCEL_CHROMIUM || "/usr/bin/chromium";
let chromium;
try {
  ({ chromium } = require(path.join(__dirname, "node_modules", "playwright-core")));
} catch (e) {
  console.error("MISSING: npm package playwright-core (run: npm ci --prefix lite/tests)");
  process.exit(2);
}
if (!fs.existsSync(CHROMIUM)) {
  console.error(`MISSING: ${CHROMIUM} (apt-get install chromium)`);
  process.exit(2);
}

// A headless Chromium with a fresh profile (the caller removes `profile`).
async function launchSite() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "xaccel-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  return { context, profile };
}

// Appends to `list` every request of the context to an origin other than base's.
function recordOtherOrigins(context, base, list) {
  const origin = new URL(base).origin;
  context.on("request", (r) => {
    const u = r.url();
    if (/^(data|blob|about|chrome|chrome-extension):/.test(u)) return;
    try {
      if (new URL(u).origin !== origin) list.push(u);
    } catch (e) {
      list.push(u);
    }
  });
}

// Appends the page's and its workers' console messages (at most 200) and
// uncaught errors to `list`.
function recordConsole(page, list) {
  const add = (line) => { if (list.length < 200) list.push(line.slice(0, 500)); };
  page.on("console", (m) => add(`[${m.type()}] ${m.text()}`));
  page.on("pageerror", (e) => add(`[pageerror] ${e}`));
  page.on("worker", (w) => w.on("console", (m) => add(`[worker ${m.type()}] ${m.text()}`)));
}

// A driver's whole run: body(context) in a fresh headless Chromium; a thrown
// error becomes result.fatal (the pytest side reports it); the browser and its
// profile are always removed; result is printed as one JSON line.
async function runInSite(result, body) {
  const { context, profile } = await launchSite();
  try {
    await body(context);
  } catch (e) {
    result.fatal = String(e && e.stack || e);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(JSON.stringify(result));
}

// Polls the page's workers every 100 ms for up to `ms`: `probe(arg)` runs in each worker
// and its last non-null answer is returned as soon as `settled(answer)` holds, or at the end.
async function pollWorkers(page, probe, arg, settled, ms) {
  const until = Date.now() + ms;
  let last = null;
  while (Date.now() < until) {
    for (const w of page.workers()) {
      try {
        const answer = await w.evaluate(probe, arg);
        if (answer !== null && answer !== undefined) last = answer;
      } catch (e) { /* a worker that ended */ }
    }
    if (last !== null && settled(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

// The kernel worker's start-up snapshot (kernel/lite/snapshot_pre.js): its status once it
// is settled (not "none" or "saving"), polled up to 60 s, with the names of the worker's
// start-up marks (kernel/lite/load_pre.js).
async function snapshotState(page) {
  const last = await pollWorkers(page, () => (globalThis.Module && globalThis.Module.__xwSnapshot)
    ? { status: globalThis.Module.__xwSnapshot.status, bytes: globalThis.Module.__xwSnapshot.bytes,
        marks: Object.keys(globalThis.Module.__xwLoad || {}).filter((k) => k.endsWith("_s")) } : null,
  null, (s) => s.status !== "none" && s.status !== "saving", 60000);
  return last || { status: "no kernel worker found" };
}

// Whether a worker of the page has the start-up mark `name` (kernel/lite/load_pre.js),
// polled up to `ms`.
async function waitWorkerMark(page, name, ms) {
  return !!(await pollWorkers(page, (n) => (globalThis.Module && globalThis.Module.__xwLoad
    && globalThis.Module.__xwLoad[n] !== undefined) || null, name, () => true, ms));
}

// How the kernel of the page's early worker started (lite/page/worker/xaccel-prestart-worker.js),
// once the page's kernel took it; polled up to 60 s.
async function prestartWorkerState(page) {
  const last = await pollWorkers(page, () => {
    const state = globalThis.xaccelPrestart && globalThis.xaccelPrestart.state;
    return state && state.start === "early" ? Object.assign({}, state) : null;
  }, null, (s) => s.taken_ms !== null, 60000);
  return last || { start: "no early worker found" };
}

// Until the returned function is called, the site's settings seed
// (xaccel-page/xaccel-settings-seed.js, written by lite/settings_seed.js) reads as empty
// in `context`: its pages validate every plugin's settings themselves.
const SETTINGS_SEED = "xaccel-page/xaccel-settings-seed.js";
async function withholdSettingsSeed(context, base) {
  const seed = `${base}${SETTINGS_SEED}`;
  await context.route(seed, (route) => route.fulfill({
    status: 200, contentType: "application/javascript", body: "self.xaccelSettingsSeed = null;\n" }));
  return () => context.unroute(seed);
}

module.exports = { chromium, CHROMIUM, launchSite, runInSite, recordOtherOrigins, recordConsole, snapshotState,
  waitWorkerMark, prestartWorkerState, SETTINGS_SEED, withholdSettingsSeed };
