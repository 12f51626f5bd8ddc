"""Split one xaccel `pass` round trip: in-kernel Python stages vs everything else.

1. Client RTT of `pass` against xaccel (lean client of bench_kernel.py).
2. Inside the same kernel, in a cell: median time of Engine.execute('pass') and of the
   IPython run_cell stages it is made of (transform_cell, store_inputs, ...).
3. A floor: the same client against a pure-Python pyzmq ROUTER that verifies the request
   and sends busy + execute_reply + idle at once (Session sign/verify, no execution).
RTT - Engine.execute - floor ~ the C++ core's own cost (+ scheduling).

Usage: .venv/bin/python bench/kernel/profile_stages.py [--rt]   (--rt: SCHED_FIFO 1, see bench_kernel.py)
Writes bench/results/kernel_profile_stages.txt.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zmq
from jupyter_client.session import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_kernel as bk  # noqa: E402

CELL = r'''
import time as _time, statistics as _st, sys as _sys
from xaccel_kernel import engine as _e
_eng = _e._engine; _sh = get_ipython()
def _t(fn, n=300):
    ts = []
    for _ in range(n):
        t = _time.perf_counter_ns(); fn(); ts.append(_time.perf_counter_ns() - t)
    return _st.median(ts) / 1000
_r = {}
_r["Engine.execute('pass') (all of the Python side of execute_request)"] = _t(lambda: _eng.execute('pass', False, True, {}, False, True))
_r["  shell.run_cell('pass', store_history=True)"] = _t(lambda: _sh.run_cell('pass', store_history=True))
_r["  shell.run_cell('pass', store_history=False)"] = _t(lambda: _sh.run_cell('pass', store_history=False))
_r["    shell.transform_cell('pass') (input transformers, prefilter)"] = _t(lambda: _sh.transform_cell('pass'))
_r["    shell.should_run_async (second parse for top-level await)"] = _t(lambda: _sh.should_run_async('pass', transformed_cell='pass\n', preprocessing_exc_tuple=None))
_r["    history_manager.store_inputs (+ _i/_ii/_iii push)"] = _t(lambda: _sh.history_manager.store_inputs(_sh.execution_count, 'pass'))
_r["    compile.ast_parse('pass')"] = _t(lambda: _sh.compile.ast_parse('pass'))
_r["  sys.stdout/stderr flush"] = _t(lambda: (_sys.stdout.flush(), _sys.stderr.flush()))
_r["  payload read+clear"] = _t(lambda: (_sh.payload_manager.read_payload(), _sh.payload_manager.clear_payload()))
for k, v in _r.items(): print(f"{v:8.1f} us  {k}")
'''

SERVER = r'''
import zmq
from jupyter_client.session import Session
ctx = zmq.Context(); s = ctx.socket(zmq.ROUTER); port = s.bind_to_random_port("tcp://127.0.0.1")
pub = ctx.socket(zmq.PUB); pport = pub.bind_to_random_port("tcp://127.0.0.1")
print(port, pport, flush=True)
sess = Session(key=b"k")
while True:
    idents, msg = sess.feed_identities(s.recv_multipart())
    req = sess.deserialize(msg)
    if req["header"]["msg_type"] == "shutdown_request":
        break
    sess.send(pub, "status", {"execution_state": "busy"}, parent=req)
    sess.send(s, "execute_reply", {"status": "ok", "execution_count": 1}, parent=req, ident=idents)
    sess.send(pub, "status", {"execution_state": "idle"}, parent=req)
'''


def floor(ctx, n):
    p = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        port, pport = map(int, p.stdout.readline().split())

        class FakeKM:
            session = Session(key=b"k")

            def get_connection_info(self, session=False):
                return {"transport": "tcp", "ip": "127.0.0.1", "shell_port": port, "iopub_port": pport}

        c = bk.LeanClient(FakeKM(), ctx)
        time.sleep(0.3)
        bk.pass_round(c, 50)
        rtt, _ = bk.pass_round(c, n)
        c.send("shutdown_request", {})
        p.wait(timeout=5)
        c.close()
        return statistics.median(rtt) / 1000
    finally:
        if p.poll() is None:
            p.kill()


def main():
    if "--rt" in sys.argv:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    bk.check_kernelspecs()
    ipdir = tempfile.mkdtemp(prefix="bench_kernel_ipython_")
    os.environ["IPYTHONDIR"] = ipdir
    ctx = zmq.Context()
    out = [f"load at start {os.getloadavg()}; scheduling {'SCHED_FIFO 1' if '--rt' in sys.argv else 'normal'}"]
    km, c, _, _ = bk.start("xaccel", ctx)
    try:
        c.settle_shell()
        bk.pass_round(c, 100)
        rtt, idle = bk.pass_round(c, 300)
        out.append(f"xaccel client RTT median {statistics.median(rtt) / 1000:.0f} us, "
                   f"to idle {statistics.median(idle) / 1000:.0f} us")
        coll = []
        mid = c.execute(CELL)
        c.wait_idle(mid, collect=coll, timeout_s=120)
        c.wait_reply(mid)
        out.append("in-kernel medians:")
        out.append("".join(m["content"].get("text", "") for m in coll if m["msg_type"] == "stream").rstrip())
        for m in coll:
            if m["msg_type"] == "error":
                out.append("\n".join(m["content"]["traceback"]))
    finally:
        bk.stop(km, c)
        shutil.rmtree(ipdir, ignore_errors=True)
    out.append(f"floor: same client vs pure-Python echo ROUTER (verify + busy/reply/idle): "
               f"RTT median {floor(ctx, 500):.0f} us")
    out.append(f"load at end {os.getloadavg()}")
    ctx.destroy(linger=0)
    text = "\n".join(out)
    print(text)
    res = bk.RESULTS / "kernel_profile_stages.txt"
    res.write_text(text + "\n")
    print(f"wrote {res}")


if __name__ == "__main__":
    main()
