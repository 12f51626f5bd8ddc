// Runs xaccel.js under node the way the @jupyterlite/xeus worker does (without a
// browser): createXeusModule, new xkernel(argv), get_server(), start(), then
// notify_listener() for each request; messages come back through postMessage.
// Usage: node node_kernel.js <dir with xaccel.js> 'code 1' 'code 2' ...
// Prints one JSON line per message received, then "DONE".
const path = require("path");
const dir = path.resolve(process.argv[2]);
const cells = process.argv.slice(3);
const createXeusModule = require(path.join(dir, "xaccel.js"));

let waiting = null;
globalThis.postMessage = (msg) => {
  const short = { channel: msg.channel, msg_type: msg.header.msg_type, content: msg.content };
  console.log(JSON.stringify(short));
  if (waiting && msg.channel === "iopub" && msg.header.msg_type === "status" &&
      msg.content.execution_state === "idle" && msg.parent_header.msg_id === waiting.id) {
    const w = waiting; waiting = null; w.resolve();
  }
};
globalThis.get_stdin = (msg) => ({ header: {}, content: { value: "typed-by-node", status: "ok" } });

let n = 0;
function request(server, msg_type, content) {
  const id = `req-${++n}`;
  const msg = { header: { msg_id: id, msg_type, session: "s", username: "u", date: new Date().toISOString(), version: "5.3" },
                parent_header: {}, metadata: {}, content, buffers: [], channel: "shell" };
  return new Promise((resolve) => { waiting = { id, resolve }; server.notify_listener(msg); });
}

(async () => {
  const t0 = Date.now();
  const Module = await createXeusModule({ locateFile: (f) => path.join(dir, f) });
  const t1 = Date.now();
  const kernel = new Module.xkernel(["xaccel"]);
  const server = kernel.get_server();
  kernel.start();
  const t2 = Date.now();
  console.error(`module ${t1 - t0} ms, start ${t2 - t1} ms`);
  await request(server, "kernel_info_request", {});
  for (const code of cells) {
    const t = Date.now();
    await request(server, "execute_request", { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: true, stop_on_error: true });
    console.error(`cell ${Date.now() - t} ms`);
  }
  console.log("DONE");
  process.exit(0);
})().catch((e) => { console.error("FAILED", e); process.exit(1); });
