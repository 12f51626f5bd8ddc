// Run All in the xaccel JupyterLite site, in headless Debian chromium driven by
// playwright-core (no browser download). Usage:
//   node notebooks_test.js <site base URL> <notebook path>...
// For each notebook: loads lab/index.html?path=<notebook> (its kernel starts), runs
// Lab's "Run All Cells" and waits for every cell's execute_reply; then reports each
// code cell's tags, execution count, reply status and outputs (from the notebook model)
// and how many output nodes its DOM shows.
// Then, on notebooks it creates: the stop_on_error scenario (print('A'), 1/0,
// print('C ran'), Run All, then the third cell run again on its own) and asyncio.run()
// in cells. Prints one JSON object: {notebooks: {path: {cells: [...]}}, stop_on_error,
// asyncio_run}.
// Exits 2 with a message naming what is missing if chromium or playwright-core is.

const { runInSite } = require("./chromium");

const base = process.argv[2].replace(/\/?$/, "/");
const notebooks = process.argv.slice(3);
const READY_TIMEOUT = Number(process.env.XACCEL_READY_TIMEOUT || 120000);
const RUN_TIMEOUT = Number(process.env.XACCEL_RUN_TIMEOUT || 180000);

// The notebook panel whose kernel is xaccel, idle and connected.
async function waitNotebookReady(page, notebookPath) {
  await page.waitForFunction((p) => {
    const app = window.jupyterapp;
    const w = app && app.shell && Array.from(app.shell.widgets("main")).find((x) => x.sessionContext && x.context && x.context.path === p);
    const ctx = w && w.sessionContext;
    const k = ctx && ctx.session && ctx.session.kernel;
    return !!(k && k.name === "xaccel" && k.status === "idle" && k.connectionStatus === "connected" && ctx.isReady
      && w.content.widgets.length > 0);
  }, notebookPath, { timeout: READY_TIMEOUT, polling: 50 });
}

// Runs `command` on the notebook at `notebookPath` and waits until `replies` execute_replies
// came back and the kernel is idle again. Returns the replies' statuses in order.
async function runAndWait(page, notebookPath, command, replies) {
  return await page.evaluate(async ([p, command, replies, timeout]) => {
    const app = window.jupyterapp;
    const w = Array.from(app.shell.widgets("main")).find((x) => x.context && x.context.path === p);
    app.shell.activateById(w.id);
    const kernel = w.sessionContext.session.kernel;
    const statuses = [];
    let done;
    const finished = new Promise((r) => { done = r; });
    const onMessage = (_, args) => {
      const m = args.msg;
      if (args.direction === "recv" && m.header.msg_type === "execute_reply") {
        statuses.push(m.content.status);
      }
      if (args.direction === "recv" && statuses.length >= replies && m.header.msg_type === "status"
          && m.content.execution_state === "idle") {
        done();
      }
    };
    kernel.anyMessage.connect(onMessage);
    try {
      await app.commands.execute(command);
      await Promise.race([finished, new Promise((_, rej) => setTimeout(
        () => rej(new Error(`${p}: ${statuses.length} of ${replies} replies after ${timeout / 1000} s`)), timeout))]);
    } finally {
      kernel.anyMessage.disconnect(onMessage);
    }
    return statuses;
  }, [notebookPath, command, replies, RUN_TIMEOUT]);
}

async function codeCellCount(page, notebookPath) {
  return await page.evaluate((p) => {
    const w = Array.from(window.jupyterapp.shell.widgets("main")).find((x) => x.context && x.context.path === p);
    return w.content.widgets.filter((c) => c.model.type === "code").length;
  }, notebookPath);
}

// What each code cell of the notebook shows now.
async function cellReport(page, notebookPath) {
  return await page.evaluate((p) => {
    const w = Array.from(window.jupyterapp.shell.widgets("main")).find((x) => x.context && x.context.path === p);
    const out = [];
    w.content.widgets.forEach((cell, index) => {
      const m = cell.model;
      if (m.type !== "code") return;
      out.push({
        index,
        source: m.sharedModel.getSource().slice(0, 200),
        tags: m.getMetadata("tags") || [],
        execution_count: m.executionCount,
        outputs: m.outputs.toJSON(),
        dom_outputs: cell.node.querySelectorAll(".jp-OutputArea-output").length,
      });
    });
    return out;
  }, notebookPath);
}

async function openNotebook(context, result, notebookPath) {
  const page = await context.newPage();
  page.on("pageerror", (e) => result.console.push(`[pageerror] ${e}`.slice(0, 500)));
  page.on("worker", (wk) => wk.on("console", (m) => {
    if (m.type() === "error" && result.console.length < 200) result.console.push(`[worker error] ${m.text()}`.slice(0, 500));
  }));
  await page.goto(`${base}lab/index.html?path=${encodeURIComponent(notebookPath)}`, { waitUntil: "domcontentloaded" });
  await waitNotebookReady(page, notebookPath);
  return page;
}

// A notebook created in the browser's own storage (JupyterLite's contents), opened.
async function createNotebook(context, result, name, sources) {
  const page = await context.newPage();
  await page.goto(`${base}lab/index.html`, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(() => !!(window.jupyterapp && window.jupyterapp.serviceManager), null, { timeout: READY_TIMEOUT });
  await page.evaluate(async ([name, sources]) => {
    const cells = sources.map((s) => ({ cell_type: "code", source: s, metadata: {}, outputs: [], execution_count: null }));
    const content = { nbformat: 4, nbformat_minor: 5, cells,
      metadata: { kernelspec: { name: "xaccel", display_name: "Python 3 (xaccel)", language: "python" } } };
    await window.jupyterapp.serviceManager.contents.save(name, { type: "notebook", format: "json", content });
  }, [name, sources]);
  await page.close();
  return await openNotebook(context, result, name);
}

const STOP_NOTEBOOK = "xaccel-stop-on-error-test.ipynb";
const STOP_CELLS = ["print('A')", "1/0", "print('C ran')"];

async function stopOnError(context, result) {
  const nb = await createNotebook(context, result, STOP_NOTEBOOK, STOP_CELLS);
  const run_all = await runAndWait(nb, STOP_NOTEBOOK, "notebook:run-all-cells", STOP_CELLS.length);
  const after_run_all = await cellReport(nb, STOP_NOTEBOOK);
  // The third cell, run on its own after the error's reply: it runs.
  await nb.evaluate((p) => {
    const w = Array.from(window.jupyterapp.shell.widgets("main")).find((x) => x.context && x.context.path === p);
    w.content.activeCellIndex = 2;
  }, STOP_NOTEBOOK);
  const run_again = await runAndWait(nb, STOP_NOTEBOOK, "notebook:run-cell", 1);
  const after_run_again = await cellReport(nb, STOP_NOTEBOOK);
  await nb.close();
  return { run_all, after_run_all, run_again, after_run_again };
}

// asyncio.run() and run_until_complete() in cells (JSPI); Run All sends the later
// cells while the first one's stack is suspended, so they queue behind it.
const RUN_NOTEBOOK = "xaccel-asyncio-run-test.ipynb";
const RUN_CELLS = [
  "import asyncio, time\nbeats = []\nasync def beat():\n    while True:\n        beats.append(1)\n        await asyncio.sleep(0.02)\nticker = asyncio.create_task(beat())",
  "t0 = time.monotonic()\nresult = asyncio.run(asyncio.sleep(0.3, result='asyncio.run returned'))\n"
    + "print(result, len(beats) >= 5, time.monotonic() - t0 >= 0.3)",
  "asyncio.get_event_loop().run_until_complete(asyncio.sleep(0.05, result=7))",
  "print('queued cell ran, ticker alive:', not ticker.done())",
  "ticker.cancel()\nawait asyncio.sleep(0)\ntry:\n    asyncio.run(asyncio.sleep(0))\nexcept RuntimeError as exc:\n    print('in a task:', exc)",
];

async function asyncioRun(context, result) {
  const nb = await createNotebook(context, result, RUN_NOTEBOOK, RUN_CELLS);
  const jspi = await nb.evaluate(() => typeof WebAssembly.Suspending === "function");
  const run_all = await runAndWait(nb, RUN_NOTEBOOK, "notebook:run-all-cells", RUN_CELLS.length);
  const cells = await cellReport(nb, RUN_NOTEBOOK);
  await nb.close();
  return { jspi, run_all, cells };
}

const result = { console: [], notebooks: {} };
runInSite(result, async (context) => {
  for (const nbPath of notebooks) {
    const t0 = Date.now();
    const page = await openNotebook(context, result, nbPath);
    const n = await codeCellCount(page, nbPath);
    const replies = await runAndWait(page, nbPath, "notebook:run-all-cells", n);
    result.notebooks[nbPath] = { replies, cells: await cellReport(page, nbPath), seconds: (Date.now() - t0) / 1000 };
    await page.close();
  }
  result.stop_on_error = await stopOnError(context, result);
  result.asyncio_run = await asyncioRun(context, result);
});
