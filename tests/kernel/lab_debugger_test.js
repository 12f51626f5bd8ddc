// JupyterLab's visual debugger on an xaccel notebook, in headless Debian chromium
// driven by playwright-core (from lite/tests/node_modules; no browser download).
// Usage: node lab_debugger_test.js <lab URL of the notebook, with ?token=...>
// Enables the debugger, clicks the breakpoint gutter of line 3 of the first cell,
// runs the cell, reads the Callstack and Variables panels, presses Continue and
// waits for the cell's output. Prints one JSON object with what it saw.
// Exits 2 with a message naming what is missing if chromium or playwright-core is.
const fs = require("fs");
const os = require("os");
const path = require("path");

const { chromium, CHROMIUM } = require("../../lite/tests/chromium");

const url = process.argv[2];
const TIMEOUT = Number(process.env.XACCEL_LAB_TIMEOUT || 60000);

async function main() {
  const result = { steps: [] };
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "xaccel-lab-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--no-first-run"],
  });
  const page = browser.pages()[0] || (await browser.newPage());
  page.setDefaultTimeout(TIMEOUT);
  const step = (name) => result.steps.push(name);
  try {
    await page.goto(url);
    // The notebook is open and its xaccel kernel idle.
    await page.waitForFunction(() => {
      const app = window.jupyterapp;
      const w = app && app.shell && Array.from(app.shell.widgets("main")).find((x) => x.sessionContext);
      const k = w && w.sessionContext.session && w.sessionContext.session.kernel;
      return !!(k && k.name === "xaccel" && k.status === "idle" && k.connectionStatus === "connected");
    }, null, { polling: 100 });
    step("kernel idle");

    // The toolbar's bug button (a jp-button web component), enabled once the
    // kernel reported debugger: true.
    const bug = page.locator(".jp-DebuggerBugButton").first();
    await page.waitForFunction(() => {
      const b = document.querySelector(".jp-DebuggerBugButton");
      return b && b.getAttribute("aria-disabled") === "false";
    }, null, { polling: 100 });
    await bug.click();
    await page.waitForFunction(() => {
      const b = document.querySelector(".jp-DebuggerBugButton");
      return b && b.getAttribute("aria-pressed") === "true";
    }, null, { polling: 100 });
    step("debugger enabled");

    // Click the breakpoint gutter beside line 3 of the first cell.
    const cell = page.locator(".jp-Notebook .jp-Cell").first();
    const line3 = cell.locator(".cm-content .cm-line").nth(2);
    const gutter = cell.locator(".cm-gutter.cm-breakpoint-gutter").first();
    await line3.waitFor();
    await gutter.waitFor();
    const lineBox = await line3.boundingBox();
    const gutterBox = await gutter.boundingBox();
    await page.mouse.click(gutterBox.x + gutterBox.width / 2, lineBox.y + lineBox.height / 2);
    // (The gutter's hidden spacer holds an icon too: wait for a visible marker.)
    await cell.locator(".cm-gutterElement .cm-breakpoint-icon").filter({ visible: true }).first().waitFor();
    step("breakpoint set");

    // Run the cell (select it, Shift+Enter).
    await cell.locator(".jp-InputPrompt").first().click();
    await page.keyboard.press("Shift+Enter");

    // The Callstack panel shows the stopped frame.
    const frame = page.locator(".jp-DebuggerCallstackFrame").first();
    await frame.waitFor();
    result.callstack = await page.locator(".jp-DebuggerCallstackFrame").allInnerTexts();
    step("stopped");

    // The Variables panel (tree view) lists the cell's globals with values.
    await page.waitForFunction(() => {
      const body = document.querySelector(".jp-DebuggerVariables-body");
      return body && /\bb\b/.test(body.innerText) && /\ba\b/.test(body.innerText);
    }, null, { polling: 200 });
    result.variables = await page.locator(".jp-DebuggerVariables-body").first().innerText();
    step("variables shown");

    const cont = page.locator('[data-command="debugger:continue"]').first();
    await page.waitForFunction(() => {
      const b = document.querySelector('[data-command="debugger:continue"]');
      return b && b.getAttribute("aria-disabled") === "false" && /Continue/.test(b.getAttribute("title") || "");
    }, null, { polling: 100 });
    await cont.click();
    step("continued");

    await cell.locator(".jp-OutputArea-output").filter({ hasText: "finished 2" }).first().waitFor();
    result.output = await cell.locator(".jp-OutputArea-output").first().innerText();
    step("cell finished");
  } catch (e) {
    result.fatal = String(e && e.stack ? e.stack : e);
    try {
      result.dom = await page.evaluate(() => {
        const pick = (sel) => Array.from(document.querySelectorAll(sel)).map((x) => x.outerHTML.slice(0, 600));
        return { bug: pick(".jp-DebuggerBugButton"), gutter: pick(".cm-breakpoint-gutter").slice(0, 3),
                 callstack: pick(".jp-DebuggerCallstack-body"), continue: pick('[data-command="debugger:continue"]') };
      });
    } catch (_) {}
    try {
      fs.writeFileSync(path.join(os.tmpdir(), "xaccel-lab-debugger-failure.png"), await page.screenshot());
    } catch (_) {}
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(JSON.stringify(result));
}

main();
