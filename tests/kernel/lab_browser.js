// JupyterLab (served from .venv) with the xaccel kernel, in headless Debian
// chromium driven by playwright-core (installed by `npm ci --prefix lite/tests`,
// found through NODE_PATH). Usage:
//   node lab_browser.js <Lab base URL> <token>
// Opens run_all.ipynb, widgets.ipynb and busy.ipynb from the server's root, runs
// them as a user would (Run All, a slider moved with the keyboard, a button
// clicked, a subshell console used while a cell sleeps) and
// prints one JSON object with what the page shows; the pytest side asserts.
// Exits 2 with a message naming what is missing if chromium or playwright-core is.

const { chromium, CHROMIUM } = require("../../lite/tests/chromium");

const [base, token] = [process.argv[2].replace(/\/?$/, "/"), process.argv[3]];
const TIMEOUT = Number(process.env.XACCEL_LAB_TIMEOUT || 120000);

async function openNotebook(page, name) {
  await page.goto(`${base}lab/tree/${name}?token=${token}`);
  // The notebook is open and its kernel (xaccel) connected and idle.
  await page.waitForFunction((name) => {
    const app = window.jupyterapp;
    const w = app && app.shell && app.shell.currentWidget;
    const kernel = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
    return !!(kernel && w.context.path === name && kernel.name === "xaccel"
              && kernel.connectionStatus === "connected" && kernel.status === "idle");
  }, name, { timeout: TIMEOUT, polling: 100 });
}

// Runs `code` through the notebook's kernel connection; returns its stdout.
async function probe(page, code) {
  return page.evaluate(async (code) => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    let text = "";
    const future = kernel.requestExecute({ code, store_history: false });
    future.onIOPub = (msg) => {
      if (msg.header.msg_type === "stream") text += msg.content.text;
    };
    await future.done;
    return text;
  }, code);
}

async function runAll(page) {
  await page.evaluate(() => window.jupyterapp.commands.execute("notebook:run-all-cells"));
}

// What each cell shows: its prompt, all its output text, and the text inside
// Output widgets.
async function cells(page) {
  return page.evaluate(() => Array.from(
    window.jupyterapp.shell.currentWidget.node.querySelectorAll(".jp-Notebook .jp-Cell")).map((cell) => {
    const prompt = cell.querySelector(".jp-InputArea-prompt");
    const outputs = cell.querySelector(".jp-Cell-outputWrapper");
    const widgets = Array.from(cell.querySelectorAll(".widget-output"));
    return {
      prompt: prompt ? prompt.innerText.trim() : "",
      output: outputs ? outputs.innerText : "",
      in_output_widgets: widgets.map((w) => w.innerText),
    };
  }));
}

async function waitForCellText(page, index, text, inWidget) {
  await page.waitForFunction(([index, text, inWidget]) => {
    const notebook = window.jupyterapp.shell.currentWidget.node;
    const cell = notebook.querySelectorAll(".jp-Notebook .jp-Cell")[index];
    if (!cell) return false;
    const nodes = inWidget ? Array.from(cell.querySelectorAll(".widget-output")) : [cell];
    return nodes.some((n) => n.innerText.includes(text));
  }, [index, text, inWidget], { timeout: TIMEOUT, polling: 100 });
}

async function runAllScenario(page) {
  await openNotebook(page, "run_all.ipynb");
  await runAll(page);
  await waitForCellText(page, 1, "ZeroDivisionError", false);
  // Sent after the error's reply: answered after the queued cells were.
  const laterCellRan = await probe(page, "print('c_ran' in globals(), 'd_ran' in globals())");
  return { cells: await cells(page), later_cells_ran: laterCellRan.trim() };
}

async function widgetScenario(page) {
  await openNotebook(page, "widgets.ipynb");
  await runAll(page);
  // interact: the first value is printed inside the widget's output area.
  await waitForCellText(page, 0, "square of 3 is 9", true);
  // Output widget and button.
  await waitForCellText(page, 1, "inside the output widget", true);
  const before = await cells(page);

  // The notebook's cells (other notebooks stay in the page, hidden).
  const id = await page.evaluate(() => window.jupyterapp.shell.currentWidget.id);
  const cellLocator = page.locator(`[id="${id}"] .jp-Notebook .jp-Cell`);
  // Move the slider one step with the keyboard (as a user can).
  const handle = cellLocator.nth(0).locator(".noUi-handle").first();
  await handle.focus();
  await page.keyboard.press("ArrowRight");
  await waitForCellText(page, 0, "square of 4 is 16", true);

  // Click the button.
  await cellLocator.nth(2).locator("button", { hasText: "Click me" }).click();
  await waitForCellText(page, 2, "button clicked", true);
  // Let a wrongly placed output (if any) arrive before the page is read.
  await probe(page, "pass");
  return { before, after: await cells(page) };
}

// Makes cell `index` the active one and runs `command` (a notebook command).
async function runFrom(page, index, command) {
  await page.evaluate(([index, command]) => {
    window.jupyterapp.shell.currentWidget.content.activeCellIndex = index;
    // Not awaited: the command's promise ends when the cells have run.
    window.jupyterapp.commands.execute(command);
  }, [index, command]);
}

// Until the output area (not the source) of cell `index` shows `text`.
async function waitForOutputText(page, index, text) {
  await page.waitForFunction(([index, text]) => {
    const cell = window.jupyterapp.shell.currentWidget.node.querySelectorAll(".jp-Notebook .jp-Cell")[index];
    const outputs = cell && cell.querySelector(".jp-Cell-outputWrapper");
    return !!(outputs && outputs.innerText.includes(text));
  }, [index, text], { timeout: TIMEOUT, polling: 50 });
}

// The prompt and output text of cell `index` of the current notebook.
async function cellState(page, index) {
  return page.evaluate((index) => {
    const cell = window.jupyterapp.shell.currentWidget.node.querySelectorAll(".jp-Notebook .jp-Cell")[index];
    const prompt = cell.querySelector(".jp-InputArea-prompt");
    const outputs = cell.querySelector(".jp-Cell-outputWrapper");
    return { prompt: prompt ? prompt.innerText.trim() : "", output: outputs ? outputs.innerText : "" };
  }, index);
}

// A slider moved while the notebook's cell sleeps (its comm messages go to a
// subshell), and a subshell console that reads a variable meanwhile.
async function busyScenario(page) {
  await openNotebook(page, "busy.ipynb");
  const notebookId = await page.evaluate(() => window.jupyterapp.shell.currentWidget.id);
  // The subshell console of this notebook, made before the cells run.
  await page.evaluate(async () => {
    window.__subshellConsole = await window.jupyterapp.commands.execute(
      "notebook:create-subshell-console", { activate: false });
  });
  await page.waitForFunction(() => {
    const panel = window.__subshellConsole;
    const kernel = panel && panel.sessionContext.session && panel.sessionContext.session.kernel;
    return !!(kernel && kernel.subshellId);
  }, null, { timeout: TIMEOUT, polling: 100 });
  await page.evaluate((id) => window.jupyterapp.shell.activateById(id), notebookId);
  // The slider's cell first, until its widgets show; then the sleeping cells.
  await runFrom(page, 0, "notebook:run-cell");
  const cellLocator = page.locator(`[id="${notebookId}"] .jp-Notebook .jp-Cell`);
  const handle = cellLocator.nth(0).locator(".noUi-handle").first();
  await handle.waitFor({ timeout: TIMEOUT });
  await waitForOutputText(page, 0, "not moved");
  await runFrom(page, 1, "notebook:run-all-below");
  // The cell prints (and flushes) that it starts sleeping.
  await waitForOutputText(page, 1, "sleeping");
  const moved = Date.now();
  await handle.focus();
  await page.keyboard.press("ArrowRight");
  await waitForOutputText(page, 0, "moved to 1");
  const slider = { label_after_ms: Date.now() - moved, sleeping_cell: await cellState(page, 1) };

  await waitForOutputText(page, 2, "sleeping again");
  const asked = Date.now();
  await page.evaluate(() => window.__subshellConsole.console.inject("print('console sees', busy_value)"));
  await page.waitForFunction(() => window.__subshellConsole.node.innerText.includes("console sees 4321"),
                             null, { timeout: TIMEOUT, polling: 50 });
  const consoleResult = {
    answer_after_ms: Date.now() - asked,
    busy_cell: await cellState(page, 2),
    subshell_id: await page.evaluate(() => window.__subshellConsole.sessionContext.session.kernel.subshellId),
  };
  await waitForOutputText(page, 2, "second sleep over");
  return { slider, console: consoleResult, cells: await cells(page) };
}

(async () => {
  const result = {};
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const page = await browser.newPage();
  const consoleLines = [];
  page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  try {
    result.run_all = await runAllScenario(page);
    result.widgets = await widgetScenario(page);
    result.busy = await busyScenario(page);
  } catch (e) {
    result.fatal = String((e && e.stack) || e);
    result.page = await cells(page).catch(() => null);
    result.console = consoleLines.slice(-60);
  }
  console.log(JSON.stringify(result));
  await browser.close();
})();
