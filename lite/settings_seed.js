// node lite/settings_seed.js SITE PYTHON
//
// Writes SITE/xaccel-page/xaccel-settings-seed.js: the settings JupyterLab's setting
// registry validated while the built site booted in headless Chromium, so that a user's
// first visit takes them from there instead of compiling about seventy JSON schemas
// (lite/page/xaccel-settings-memo.js explains the memo and the keys; lite/build runs
// this after lite/site_patch.py).
//
// Each entry is keyed by a hash of the plugin's schema and of its raw user settings, as
// the page saw them: a user whose settings differ, or a site whose schemas changed, does
// not match it and is validated as before. The site is booted twice, each time in a
// fresh profile with a notebook opened, and only entries both boots computed alike are
// kept (JupyterLab builds a few schemas anew on every load; they would never match).
//
// Needs Debian's chromium and playwright-core (lite/tests/chromium.js says which is
// missing, exit status 2); PYTHON runs lite/serve.py.
"use strict";
const fs = require("fs");
const path = require("path");
const { spawn } = require("child_process");

const [site, python] = process.argv.slice(2);
if (!site || !python) {
  console.error("usage: node lite/settings_seed.js SITE PYTHON");
  process.exit(2);
}
const { launchSite, SETTINGS_SEED, withholdSettingsSeed } = require("./tests/chromium.js");

const QUIET_MS = 2000;       // no new entry for this long: the boot has validated everything
const BOOT_TIMEOUT_MS = 120000;

// lite/serve.py on a free port; resolves to its base URL.
function serve() {
  const server = spawn(python, [path.join(__dirname, "serve.py"), "--port", "0", "--dir", site],
                       { stdio: ["ignore", "pipe", "inherit"] });
  const base = new Promise((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) resolve(`http://127.0.0.1:${m[1]}/`);
    });
    server.on("exit", (code) => reject(new Error(`lite/serve.py exited (${code}) before serving ${site}`)));
  });
  return { server, base };
}

// One boot in a fresh profile: the lab page, then a new notebook (the notebook's plugins
// load their settings when the first one opens). Returns the memo's { build, entries }.
async function boot(base) {
  const { context, profile } = await launchSite();
  try {
    // The page must validate everything itself, whatever seed the site holds already.
    await withholdSettingsSeed(context, base);
    const page = await context.newPage();
    await page.goto(`${base}lab/index.html`, { waitUntil: "domcontentloaded" });
    await page.waitForFunction(() => window.jupyterapp && window.jupyterapp.shell && self.xaccelSettingsMemo,
                               null, { timeout: BOOT_TIMEOUT_MS, polling: 50 });
    await page.evaluate(async () => {
      await window.jupyterapp.restored;
      await window.jupyterapp.commands.execute("notebook:create-new", { kernelName: "xaccel" });
    });
    await page.waitForFunction(() => Array.from(window.jupyterapp.shell.widgets("main")).some(
      (w) => w.sessionContext && w.context && w.context.isReady), null, { timeout: BOOT_TIMEOUT_MS, polling: 100 });
    // until the memo stops growing
    let count = -1;
    let since = Date.now();
    for (const start = Date.now(); Date.now() - start < BOOT_TIMEOUT_MS;) {
      const now = await page.evaluate(() => Object.keys(self.xaccelSettingsMemo.entries().entries).length);
      if (now !== count) {
        count = now;
        since = Date.now();
      } else if (Date.now() - since >= QUIET_MS) {
        return await page.evaluate(() => self.xaccelSettingsMemo.entries());
      }
      await page.waitForTimeout(200);
    }
    throw new Error(`the memo of ${base}lab/ kept growing for ${BOOT_TIMEOUT_MS / 1000} s`);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

(async () => {
  const { server, base: served } = serve();
  try {
    const base = await served;
    const first = await boot(base);
    const second = await boot(base);
    if (!first.build || first.build !== second.build) {
      throw new Error(`the two boots used different JupyterLab bundles (${first.build}, ${second.build})`);
    }
    const entries = {};
    for (const [id, entry] of Object.entries(first.entries)) {
      const again = second.entries[id];
      if (again && again.key === entry.key && again.composite === entry.composite) entries[id] = entry;
    }
    const dropped = Object.keys(first.entries).length - Object.keys(entries).length;
    if (Object.keys(entries).length === 0) throw new Error("no plugin's settings were validated alike twice");
    const seed = JSON.stringify({ build: first.build, entries });
    // JSON.parse of one string literal: cheaper for the page than an object literal
    const text = "// written by lite/settings_seed.js (lite/build): see lite/page/xaccel-settings-memo.js\n" +
      `self.xaccelSettingsSeed = JSON.parse(${JSON.stringify(seed)});\n`;
    fs.writeFileSync(path.join(site, SETTINGS_SEED), text);
    console.log(`settings seed: ${Object.keys(entries).length} plugins (${dropped} left out: computed ` +
                `differently by the two boots), ${text.length} bytes, for ${first.build}`);
  } finally {
    server.kill();
  }
})().catch((e) => {
  console.error(`settings_seed: ${e.stack || e}`);
  process.exit(1);
});
