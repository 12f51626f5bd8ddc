"""xaccel vs ipykernel (python3) vs xeus-python (xpython), measured in the same run.

Metrics, per kernel:
  1. startup     time from KernelManager.start_kernel() to the first kernel_info_reply
                 (a kernel_info_request is re-sent every 20 ms until one is answered);
                 median of N fresh starts, the kernels interleaved round-robin.
                 Two client kinds, N starts each: ZeroMQ's default reconnect interval
                 (100 ms plus up to 100 ms of jitter, as jupyter_client: its first
                 connect comes before the kernel listens, so this mostly measures the
                 client's back-off) and a client reconnecting every 5 ms, which measures
                 the kernel. With the latter, also start to the reply of a first
                 execute_request `1+1` sent as soon as kernel_info is answered (xaccel
                 answers kernel_info before IPython is loaded: this is the honest
                 "ready to run code" figure).
  2. pass RTT    execute_request('pass') -> execute_reply on the shell channel,
                 median and p99 of N after W warm-up runs. Lean client: one raw
                 pyzmq DEALER on shell + jupyter_client.session.Session to sign and
                 (de)serialise, one SUB on iopub in the same process. While a request
                 is in flight only the shell socket is polled; after the reply the
                 iopub messages of that request are drained (up to its idle status,
                 outside the timed region) so the next request starts on a quiet
                 kernel. The time to that idle status is recorded too.
  2b. pass RTT, kernel-only client: the same round trip with the client's own work
                 taken out of the timed region. All requests of a round are built and
                 signed before it (unique msg_ids, so replay protection holds); timed
                 is only sending the prepared frames and receiving the reply frames,
                 with a bytes check that the parent header holds the request's msg_id.
                 The reply is verified and parsed afterwards, and the iopub messages
                 drained up to idle, outside the timed region. Same kernels, same
                 rounds, interleaved with the default client.
  3. 1000 prints `for i in range(1000): print(i)`: time from sending the
                 execute_request to the idle status on iopub for that request, the
                 kernel's CPU time meanwhile (all its threads, /proc schedstat), the
                 number of stream messages, and a check that the text is complete.
  4. RSS         of the kernel process (plus its children, if any) 1 s after the
                 first kernel_info_reply, psutil; median over the fresh starts.

Writes bench/results/kernel.json and bench/results/kernel.png.
Usage: .venv/bin/python bench/kernel/bench_kernel.py [--quick] [--wait-load 1.0 --max-wait 900]
"""
import argparse
import atexit
import datetime
import gc
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import zmq
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import KernelManager
from jupyter_client.session import Session

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"

KERNELS = [("xaccel", "xaccel"), ("ipykernel", "python3"), ("xeus-python", "xpython")]
PEERS = ["ipykernel", "xeus-python"]
PRINT_CODE = "for i in range(1000): print(i)"
PRINT_TEXT = "".join(f"{i}\n" for i in range(1000))

_live = []  # every KernelManager started and not yet shut down
_logs = {}  # KernelManager -> open log file of the kernel's stdout/stderr
LOG_DIR = Path(tempfile.gettempdir()) / "bench_kernel_logs"


# --------------------------------------------------------------------------- helpers
def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def percentile(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def kill_all():
    """Last resort: kill every kernel this process started (and their children)."""
    for km in list(_live):
        try:
            pid = kernel_pid(km)
            if pid:
                try:
                    proc = psutil.Process(pid)
                    for child in proc.children(recursive=True):
                        child.kill()
                    proc.kill()
                except psutil.NoSuchProcess:
                    pass
            km.cleanup_resources()
        except Exception as exc:  # noqa: BLE001
            log(f"cleanup: {exc!r}")
        _live.remove(km)
        logf = _logs.pop(km, None)
        if logf is not None:
            logf.close()
            log(f"killed a kernel; its log: {logf.name}")


def _on_signal(signum, frame):
    kill_all()
    sys.exit(128 + signum)


def kernel_pid(km):
    prov = getattr(km, "provisioner", None)
    proc = getattr(prov, "process", None) if prov else None
    return getattr(proc, "pid", None)


def check_kernelspecs():
    ksm = KernelSpecManager()
    for label, name in KERNELS:
        try:
            ksm.get_kernel_spec(name)
        except NoSuchKernel:
            sys.exit(f"kernelspec {name} ({label}) not found: run ./dev setup")


def wait_for_load(threshold, max_wait):
    """Poll the 1-minute load until it is below threshold or max_wait seconds passed."""
    t0 = time.monotonic()
    best = os.getloadavg()
    samples = []
    while True:
        la = os.getloadavg()
        samples.append((round(time.monotonic() - t0, 1), la[0]))
        if la[0] < best[0]:
            best = la
        if la[0] < threshold:
            log(f"load {la[0]:.2f} < {threshold}: starting")
            break
        if time.monotonic() - t0 >= max_wait:
            log(f"load still {la[0]:.2f} after {max_wait:.0f}s (best seen {best[0]:.2f}): starting anyway")
            break
        log(f"load {la[0]:.2f} >= {threshold}, waiting ({time.monotonic() - t0:.0f}/{max_wait:.0f}s)")
        time.sleep(15)
    return {"threshold": threshold, "max_wait_s": max_wait, "waited_s": round(time.monotonic() - t0, 1),
            "samples": samples}


# --------------------------------------------------------------------------- lean client
class LeanClient:
    """DEALER on shell and SUB on iopub, with a Session; no threads."""

    def __init__(self, km, ctx, reconnect_ivl_ms=None):
        info = km.get_connection_info(session=False)
        self.session = Session(key=km.session.key, signature_scheme=km.session.signature_scheme,
                               username="bench")
        url = f"{info['transport']}://{info['ip']}:"
        self.shell = ctx.socket(zmq.DEALER)
        self.shell.linger = 0
        self.shell.setsockopt(zmq.IDENTITY, self.session.bsession)
        if reconnect_ivl_ms is not None:
            self.shell.setsockopt(zmq.RECONNECT_IVL, reconnect_ivl_ms)
        self.shell.connect(url + str(info["shell_port"]))
        self.iopub = ctx.socket(zmq.SUB)
        self.iopub.linger = 0
        self.iopub.setsockopt(zmq.SUBSCRIBE, b"")
        if reconnect_ivl_ms is not None:
            self.iopub.setsockopt(zmq.RECONNECT_IVL, reconnect_ivl_ms)
        self.iopub.connect(url + str(info["iopub_port"]))
        self.shell_poller = zmq.Poller()
        self.shell_poller.register(self.shell, zmq.POLLIN)

    def close(self):
        self.shell.close(0)
        self.iopub.close(0)

    def send(self, msg_type, content):
        msg = self.session.msg(msg_type, content)
        self.session.send(self.shell, msg)
        return msg["header"]["msg_id"]

    def execute(self, code):
        return self.send("execute_request", {"code": code, "silent": False, "store_history": True,
                                             "user_expressions": {}, "allow_stdin": False,
                                             "stop_on_error": True})

    def _recv(self, sock):
        frames = sock.recv_multipart(copy=True)
        _, frames = self.session.feed_identities(frames, copy=True)
        return self.session.deserialize(frames, content=True, copy=True)

    def recv_shell(self, timeout_ms):
        if self.shell_poller.poll(timeout_ms):
            return self._recv(self.shell)
        return None

    def recv_iopub(self, timeout_ms):
        """Returns (msg, perf_counter_ns at receipt) or (None, None)."""
        if self.iopub.poll(timeout_ms):
            frames = self.iopub.recv_multipart()
            t = time.perf_counter_ns()
            _, frames = self.session.feed_identities(frames)
            return self.session.deserialize(frames), t
        return None, None

    def drain_iopub(self):
        n = 0
        while self.iopub.poll(0):
            self.iopub.recv_multipart()
            n += 1
        return n

    def wait_reply(self, msg_id, timeout_s=30.0):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            msg = self.recv_shell(int(max(1, (deadline - time.monotonic()) * 1000)))
            if msg is not None and (msg["parent_header"] or {}).get("msg_id") == msg_id:
                return msg
        raise TimeoutError(f"no reply to {msg_id}")

    def wait_idle(self, msg_id, timeout_s=30.0, collect=None):
        """Read iopub until status idle for msg_id; returns the perf_counter_ns of its arrival."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            msg, t = self.recv_iopub(int(max(1, (deadline - time.monotonic()) * 1000)))
            if msg is None:
                continue
            if (msg["parent_header"] or {}).get("msg_id") != msg_id:
                continue
            if collect is not None:
                collect.append(msg)
            if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                return t
        raise TimeoutError(f"no idle status for {msg_id}")

    def wait_iopub_ready(self, timeout_s=30.0):
        """Sends kernel_info_request until the status of one arrives on iopub (as
        jupyter_client's wait_for_ready does): then the SUB socket is connected
        and subscribed, and no later message of the kernel is lost to it."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                self.wait_idle(self.send("kernel_info_request", {}), timeout_s=0.2)
            except TimeoutError:
                continue
            self.settle_shell()
            return
        raise TimeoutError("iopub never delivered a status")

    def first_kernel_info(self, t0_ns, timeout_s=60.0, resend_ms=20):
        """Send kernel_info_request every resend_ms until one is answered; ns since t0_ns."""
        deadline = time.monotonic() + timeout_s
        sent = set()
        while time.monotonic() < deadline:
            sent.add(self.send("kernel_info_request", {}))
            msg = self.recv_shell(resend_ms)
            if msg is not None and (msg["parent_header"] or {}).get("msg_id") in sent \
                    and msg["msg_type"] == "kernel_info_reply":
                return time.perf_counter_ns() - t0_ns, msg, len(sent)
        raise TimeoutError("no kernel_info_reply")

    def settle_shell(self, quiet_ms=100):
        """Swallow the late replies to the surplus kernel_info_requests."""
        while self.recv_shell(quiet_ms) is not None:
            pass


# --------------------------------------------------------------------------- kernels
FAST_RECONNECT_MS = 5


def start(kernel_name, ctx, reconnect_ivl_ms=None, first_cell=False):
    """Start a kernel and wait for its first kernel_info_reply. Returns (km, client, startup_s, info);
    with first_cell, info["first_result_s"] is the time to the reply of `1+1` sent right after."""
    km = KernelManager(kernel_name=kernel_name)
    km.ip = "127.0.0.1"
    km.transport = "tcp"
    gc.collect()
    t0 = time.perf_counter_ns()
    _live.append(km)
    LOG_DIR.mkdir(exist_ok=True)
    logf = open(LOG_DIR / f"{kernel_name}-{os.getpid()}-{len(_logs) + time.monotonic_ns()}.log", "w")
    _logs[km] = logf
    km.start_kernel(stdout=logf, stderr=subprocess.STDOUT)
    client = LeanClient(km, ctx, reconnect_ivl_ms)
    info = {}
    try:
        dt_ns, reply, n_sent = client.first_kernel_info(t0)
        info["cpu_at_kernel_info_s"] = cpu_seconds(km)
        if first_cell:
            msg_id = client.execute("1+1")
            answer = client.wait_reply(msg_id)
            info["first_result_s"] = (time.perf_counter_ns() - t0) / 1e9
            info["cpu_at_first_result_s"] = cpu_seconds(km)
            assert answer["content"]["status"] == "ok", answer["content"]
            try:
                client.wait_idle(msg_id, timeout_s=5.0)
            except TimeoutError:
                # With ZeroMQ's reconnect back-off the SUB socket can join
                # after the cell's idle was published (each socket retries at
                # its own random moment); later messages reach it once joined.
                client.wait_iopub_ready()
                info["iopub_joined_late"] = True
            client.settle_shell()
    except BaseException:
        client.close()
        raise
    info.update({"requests_sent": n_sent, "implementation": reply["content"].get("implementation")})
    return km, client, dt_ns / 1e9, info


def cpu_seconds(km):
    """CPU time (user + system) the kernel process has used so far: on a loaded
    machine a steadier measure of start-up work than the wall time."""
    t = psutil.Process(kernel_pid(km)).cpu_times()
    return t.user + t.system


def rss_of(km):
    pid = kernel_pid(km)
    proc = psutil.Process(pid)
    procs = [proc] + proc.children(recursive=True)
    rss = sum(p.memory_info().rss for p in procs)
    try:
        uss = sum(p.memory_full_info().uss for p in procs)
    except (psutil.AccessDenied, AttributeError):
        uss = None
    return {"pid": pid, "n_processes": len(procs), "rss_mb": rss / 2**20,
            "uss_mb": uss / 2**20 if uss is not None else None,
            "threads": sum(p.num_threads() for p in procs)}


def stop(km, client):
    """Shut down through the protocol (control channel); kill if that does not work."""
    pid = kernel_pid(km)
    client.close()
    clean = True
    try:
        km.shutdown_kernel(now=False)
    except Exception as exc:  # noqa: BLE001
        log(f"shutdown_kernel failed: {exc!r}")
        clean = False
    if pid and psutil.pid_exists(pid):
        try:
            p = psutil.Process(pid)
            if p.status() != psutil.STATUS_ZOMBIE:
                clean = False
                p.kill()
        except psutil.NoSuchProcess:
            pass
    if km in _live:
        _live.remove(km)
    logf = _logs.pop(km, None)
    if logf is not None:
        logf.close()
        if clean:
            os.unlink(logf.name)
        else:
            log(f"kernel log kept: {logf.name}")
    return clean


# --------------------------------------------------------------------------- measurements
def measure_startups(n, ctx, settle_s):
    out = {label: {"startup_s": [], "rss": [], "clean_shutdown": []} for label, _ in KERNELS}
    # One untimed start each first: warms the page cache and creates the IPython profile dir.
    for label, name in KERNELS:
        km, client, dt, info = start(name, ctx)
        stop(km, client)
        out[label]["warmup_start_s"] = dt
        log(f"  warm-up start {label:12s} {dt * 1000:7.1f} ms (not counted)")
    for i in range(n):
        for label, name in KERNELS:
            km, client, dt, info = start(name, ctx)
            try:
                time.sleep(settle_s)
                rss = rss_of(km)
            finally:
                clean = stop(km, client)
            out[label]["startup_s"].append(dt)
            out[label]["rss"].append(rss)
            out[label]["clean_shutdown"].append(clean)
            out[label]["implementation"] = info["implementation"]
            log(f"  start {i + 1}/{n} {label:12s} {dt * 1000:7.1f} ms  rss {rss['rss_mb']:6.1f} MB"
                f"  ({info['requests_sent']} kernel_info_requests)")
    # The same with a client that reconnects every few ms: the kernel's own start-up.
    for label in out:
        for key in ("startup_fast_s", "first_result_s", "cpu_at_kernel_info_s", "cpu_at_first_result_s"):
            out[label][key] = []
    for i in range(n):
        for label, name in KERNELS:
            km, client, dt, info = start(name, ctx, FAST_RECONNECT_MS, first_cell=True)
            stop(km, client)
            out[label]["startup_fast_s"].append(dt)
            for key in ("first_result_s", "cpu_at_kernel_info_s", "cpu_at_first_result_s"):
                out[label][key].append(info[key])
            log(f"  fast-reconnect start {i + 1}/{n} {label:12s} kernel_info {dt * 1000:7.1f} ms"
                f" (CPU {info['cpu_at_kernel_info_s'] * 1000:5.0f} ms)"
                f"  first `1+1` reply {info['first_result_s'] * 1000:7.1f} ms"
                f" (CPU {info['cpu_at_first_result_s'] * 1000:5.0f} ms)")
    # First result again with ZeroMQ's default reconnect back-off, as
    # jupyter_server's clients have: what a notebook waits for.
    for label in out:
        out[label]["first_result_default_s"] = []
    for i in range(n):
        for label, name in KERNELS:
            km, client, dt, info = start(name, ctx, first_cell=True)
            stop(km, client)
            out[label]["first_result_default_s"].append(info["first_result_s"])
            log(f"  default-reconnect start {i + 1}/{n} {label:12s} kernel_info {dt * 1000:7.1f} ms"
                f"  first `1+1` reply {info['first_result_s'] * 1000:7.1f} ms"
                + ("  (its iopub SUB joined after the cell's idle)" if info.get("iopub_joined_late") else ""))
    return out


def pass_round(client, n):
    """n round trips of `pass`; returns (reply ns list, idle ns list)."""
    rtt, idle = [], []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        msg_id = client.execute("pass")
        while True:
            if client.shell_poller.poll(30000):
                frames = client.shell.recv_multipart()
                t1 = time.perf_counter_ns()
                _, frames = client.session.feed_identities(frames)
                reply = client.session.deserialize(frames)
                if (reply["parent_header"] or {}).get("msg_id") == msg_id:
                    break
            else:
                raise TimeoutError("no execute_reply to pass")
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"pass failed: {reply['content']}")
        t2 = client.wait_idle(msg_id)
        rtt.append(t1 - t0)
        idle.append(t2 - t0)
    return rtt, idle


DELIMITER = b"<IDS|MSG>"


def prebuild_requests(client, n, code="pass"):
    """n execute_requests, built and signed now: (msg_id bytes, frames)."""
    requests = []
    for _ in range(n):
        msg = client.session.msg("execute_request", {"code": code, "silent": False, "store_history": True,
                                                     "user_expressions": {}, "allow_stdin": False,
                                                     "stop_on_error": True})
        requests.append((msg["header"]["msg_id"].encode(), client.session.serialize(msg)))
    return requests


def pass_round_kernel_only(client, n):
    """n round trips of `pass` timing the kernel rather than the client: the
    requests are signed beforehand, the timed region is send + receive of
    the frames and a bytes check of the parent msg_id; the reply is verified
    and parsed after the clock stopped. Returns (reply ns list, idle ns list)."""
    requests = prebuild_requests(client, n)
    shell = client.shell
    rtt, idle = [], []
    shell.rcvtimeo = 30000
    try:
        for msg_id, frames in requests:
            t0 = time.perf_counter_ns()
            shell.send_multipart(frames)
            while True:
                reply = shell.recv_multipart()  # zmq.Again after 30 s
                t1 = time.perf_counter_ns()
                i = reply.index(DELIMITER)
                if msg_id in reply[i + 3]:
                    break
            # Outside the timed region: the reply is checked in full.
            _, parts = client.session.feed_identities(reply)
            msg = client.session.deserialize(parts)
            if msg["parent_header"].get("msg_id") != msg_id.decode() or msg["content"]["status"] != "ok":
                raise RuntimeError(f"bad reply to pass: {msg['parent_header']} {msg['content']}")
            t2 = client.wait_idle(msg_id.decode())
            rtt.append(t1 - t0)
            idle.append(t2 - t0)
    except zmq.Again:
        raise TimeoutError("no execute_reply to pass (kernel-only client)") from None
    finally:
        shell.rcvtimeo = -1
    return rtt, idle


def thread_cpu_ns(pid):
    """{thread id: on-CPU ns} of a process (/proc/PID/task/*/schedstat: nanosecond
    resolution, unlike the 10 ms ticks of psutil's cpu_times)."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out[task.name] = int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that just ended
    return out


def cpu_between(before, after):
    """CPU ns used between two thread_cpu_ns() readings (threads that ended
    in between are left out, new ones count in full)."""
    return sum(ns - before.get(tid, 0) for tid, ns in after.items())


def print_run(client, pid=None):
    collected = []
    client.drain_iopub()
    cpu0 = thread_cpu_ns(pid) if pid else None
    t0 = time.perf_counter_ns()
    msg_id = client.execute(PRINT_CODE)
    t_idle = client.wait_idle(msg_id, collect=collected)
    cpu1 = thread_cpu_ns(pid) if pid else None
    reply = client.wait_reply(msg_id)
    streams = [m for m in collected if m["msg_type"] == "stream"]
    text = "".join(m["content"]["text"] for m in streams if m["content"]["name"] == "stdout")
    return {"time_s": (t_idle - t0) / 1e9, "kernel_cpu_s": cpu_between(cpu0, cpu1) / 1e9 if pid else None,
            "stream_messages": len(streams),
            "text_complete": text == PRINT_TEXT, "text_len": len(text),
            "reply_status": reply["content"]["status"]}


def to_normal_scheduling(pids):
    """SCHED_OTHER for this process and every thread of the given kernels (and their children)."""
    procs = [psutil.Process()]
    for pid in pids:
        p = psutil.Process(pid)
        procs += [p] + p.children(recursive=True)
    for p in procs:
        for t in p.threads():
            os.sched_setscheduler(t.id, os.SCHED_OTHER, os.sched_param(0))
    log("  back to normal scheduling for the print runs")


def measure_running(n_pass, warmup, rounds, n_print, ctx, settle_s):
    """One long-lived kernel each; pass and print runs interleaved across kernels in rounds."""
    running = {}
    out = {}
    try:
        for label, name in KERNELS:
            km, client, dt, info = start(name, ctx)
            running[label] = (km, client)
            client.settle_shell()
        time.sleep(settle_s)
        for label, (km, client) in running.items():
            out[label] = {"rss_long_lived_after_start": rss_of(km), "pass_rtt_ns": [], "pass_idle_ns": [],
                          "pass_kernel_rtt_ns": [], "pass_kernel_idle_ns": [], "prints": []}
            client.drain_iopub()
            try:
                pass_round(client, warmup)  # warm-up
                pass_round_kernel_only(client, warmup)
                if os.sched_getscheduler(0) == os.SCHED_OTHER:
                    print_run(client)  # warm-up of the print path (later under --rt)
            except TimeoutError as exc:
                raise TimeoutError(f"{label}: {exc}") from None
        per_round = max(1, n_pass // rounds)
        gc.disable()
        try:
            for r in range(rounds):
                for label, (km, client) in running.items():
                    rtt, idle = pass_round(client, per_round)
                    out[label]["pass_rtt_ns"] += rtt
                    out[label]["pass_idle_ns"] += idle
                    rtt, idle = pass_round_kernel_only(client, per_round)
                    out[label]["pass_kernel_rtt_ns"] += rtt
                    out[label]["pass_kernel_idle_ns"] += idle
                log(f"  pass round {r + 1}/{rounds}: " + "  ".join(
                    f"{label} {statistics.median(out[label]['pass_rtt_ns'][-per_round:]) / 1000:.0f}"
                    f"/{statistics.median(out[label]['pass_kernel_rtt_ns'][-per_round:]) / 1000:.0f} us"
                    for label in running) + "  (default/kernel-only client)")
            if os.sched_getscheduler(0) != os.SCHED_OTHER:
                to_normal_scheduling([kernel_pid(km) for km, _ in running.values()])
                for label, (km, client) in running.items():
                    print_run(client)  # warm-up of the print path
            for i in range(n_print):
                for label, (km, client) in running.items():
                    try:
                        res = print_run(client, kernel_pid(km))
                    except TimeoutError as exc:
                        raise TimeoutError(f"{label}: {exc}") from None
                    out[label]["prints"].append(res)
                log(f"  prints {i + 1}/{n_print}: " + "  ".join(
                    f"{label} {out[label]['prints'][-1]['time_s'] * 1000:.0f} ms"
                    f" (CPU {out[label]['prints'][-1]['kernel_cpu_s'] * 1000:.0f} ms)"
                    f"/{out[label]['prints'][-1]['stream_messages']} msgs" for label in running))
        finally:
            gc.enable()
        for label, (km, client) in running.items():
            out[label]["rss_long_lived_after_bench"] = rss_of(km)
    finally:
        for label, (km, client) in running.items():
            clean = stop(km, client)
            if label in out:
                out[label]["clean_shutdown"] = clean
    return out


# --------------------------------------------------------------------------- report
METRICS = [
    # key, title, unit, target text, target check (ratio vs peer)
    ("startup_ms", "start to first kernel_info_reply (median)", "ms",
     "xaccel <= 0.5x xeus-python", lambda r: r["xeus-python"] <= 0.5),
    ("startup_fast_ms", "same, client reconnecting every 5 ms", "ms",
     "xaccel <= 0.5x xeus-python", lambda r: r["xeus-python"] <= 0.5),
    ("first_result_ms", "same, to the reply of a first `1+1`", "ms", None, None),
    ("first_result_default_ms", "first `1+1` reply, default reconnect client", "ms", None, None),
    ("cpu_kernel_info_ms", "kernel CPU time until first kernel_info_reply", "ms", None, None),
    ("cpu_first_result_ms", "kernel CPU time until first `1+1` reply", "ms", None, None),
    ("pass_rtt_median_us", "`pass` round trip, median", "us",
     "xaccel <= 0.5x xeus-python", lambda r: r["xeus-python"] <= 0.5),
    ("pass_rtt_p99_us", "`pass` round trip, p99", "us", None, None),
    ("pass_to_idle_median_us", "`pass` request to idle status, median", "us", None, None),
    ("pass_rtt_kernel_median_us", "`pass` round trip, kernel-only client, median", "us",
     "xaccel <= 0.5x xeus-python", lambda r: r["xeus-python"] <= 0.5),
    ("pass_rtt_kernel_p99_us", "`pass` round trip, kernel-only client, p99", "us", None, None),
    ("print1000_ms", "1000 print() to idle (median)", "ms",
     "xaccel <= 1.0x ipykernel", lambda r: r["ipykernel"] <= 1.0),
    ("print1000_cpu_ms", "1000 print(): kernel CPU time (median)", "ms", None, None),
    ("print1000_stream_msgs", "1000 print(): stream messages", "msgs", None, None),
    ("rss_mb", "RSS after start + 1 s (median)", "MB",
     "xaccel <= 1.0x xeus-python", lambda r: r["xeus-python"] <= 1.0),
]


def summarise(startups, running):
    summary = {}
    for label, _ in KERNELS:
        s, r = startups[label], running[label]
        rtt = [x / 1000 for x in r["pass_rtt_ns"]]
        idle = [x / 1000 for x in r["pass_idle_ns"]]
        krtt = [x / 1000 for x in r["pass_kernel_rtt_ns"]]
        prints = r["prints"]
        summary[label] = {
            "startup_ms": statistics.median(s["startup_s"]) * 1000,
            "startup_fast_ms": statistics.median(s["startup_fast_s"]) * 1000,
            "first_result_ms": statistics.median(s["first_result_s"]) * 1000,
            "first_result_default_ms": statistics.median(s["first_result_default_s"]) * 1000,
            "cpu_kernel_info_ms": statistics.median(s["cpu_at_kernel_info_s"]) * 1000,
            "cpu_first_result_ms": statistics.median(s["cpu_at_first_result_s"]) * 1000,
            "pass_rtt_median_us": statistics.median(rtt),
            "pass_rtt_p99_us": percentile(rtt, 99),
            "pass_rtt_min_us": min(rtt),
            "pass_to_idle_median_us": statistics.median(idle),
            "pass_rtt_kernel_median_us": statistics.median(krtt),
            "pass_rtt_kernel_p99_us": percentile(krtt, 99),
            "pass_rtt_kernel_min_us": min(krtt),
            "print1000_ms": statistics.median(p["time_s"] for p in prints) * 1000,
            "print1000_cpu_ms": statistics.median(p["kernel_cpu_s"] for p in prints) * 1000,
            "print1000_stream_msgs": statistics.median(p["stream_messages"] for p in prints),
            "print1000_text_complete": all(p["text_complete"] for p in prints),
            "rss_mb": statistics.median(x["rss_mb"] for x in s["rss"]),
            "uss_mb": (statistics.median(x["uss_mb"] for x in s["rss"])
                       if all(x["uss_mb"] is not None for x in s["rss"]) else None),
        }
    ratios = {}
    for key, *_ in METRICS + [("uss_mb",)]:
        ratios[key] = {}
        for peer in PEERS:
            a, b = summary["xaccel"].get(key), summary[peer].get(key)
            ratios[key][peer] = (a / b) if a is not None and b else None
    targets = {}
    for key, title, unit, text, check in METRICS:
        if text:
            targets[key] = {"target": text, "met": bool(check(ratios[key]))}
    return summary, ratios, targets


def print_table(summary, ratios, targets):
    labels = [label for label, _ in KERNELS]
    head = f"{'metric':42s} {'unit':5s}" + "".join(f"{l:>12s}" for l in labels) + \
        f"{'x/ipyk':>9s}{'x/xpy':>9s}  target"
    print(head)
    print("-" * len(head))
    for key, title, unit, text, _ in METRICS:
        row = f"{title:42s} {unit:5s}" + "".join(f"{summary[l][key]:12.1f}" for l in labels)
        row += "".join(f"{ratios[key][p]:9.2f}" for p in PEERS)
        if key in targets:
            row += f"  {targets[key]['target']}: {'met' if targets[key]['met'] else 'NOT met'}"
        print(row)
    print("1000 print() text complete: " + ", ".join(
        f"{l}={summary[l]['print1000_text_complete']}" for l in labels))


def plot(summary, ratios, path, load):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ["startup_ms", "startup_fast_ms", "first_result_ms", "pass_rtt_median_us", "pass_rtt_p99_us",
            "pass_to_idle_median_us", "pass_rtt_kernel_median_us", "pass_rtt_kernel_p99_us", "print1000_ms",
            "print1000_cpu_ms", "rss_mb", "uss_mb"]
    titles = {k: (t, u) for k, t, u, *_ in METRICS}
    labels = [label for label, _ in KERNELS]
    colors = ["#d62728", "#1f77b4", "#2ca02c"]
    titles["uss_mb"] = ("USS after start + 1 s (median)", "MB")
    fig, axes = plt.subplots(4, 3, figsize=(13, 14))
    for ax, key in zip(axes.flat, keys):
        vals = [summary[l][key] for l in labels]
        bars = ax.bar(labels, vals, color=colors)
        for b, v in zip(bars, vals):
            ax.annotate(f"{v:.1f}" if v < 1000 else f"{v:.0f}", (b.get_x() + b.get_width() / 2, v),
                        ha="center", va="bottom", fontsize=8)
        title, unit = titles[key]
        ax.set_title(f"{title}\n({unit}, lower is better)", fontsize=9)
        ax.set_xlabel(f"xaccel/ipyk {ratios[key]['ipykernel']:.2f}   xaccel/xpy {ratios[key]['xeus-python']:.2f}",
                      fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle("Jupyter kernels: xaccel vs ipykernel vs xeus-python (same run; "
                 f"load {load[0]:.2f} at start, {load[1]:.2f} at end, 1-min)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def kernel_versions():
    versions = {}
    try:
        import ipykernel
        versions["ipykernel"] = ipykernel.__version__
    except ImportError:
        pass
    try:
        from importlib.metadata import version
        versions["xeus-python"] = version("xeus-python")
        versions["IPython"] = version("ipython")
        versions["jupyter_client"] = version("jupyter_client")
        versions["pyzmq"] = version("pyzmq")
    except Exception:  # noqa: BLE001
        pass
    try:
        from jupyter_client.kernelspec import KernelSpecManager as _K
        xbin = Path(_K().get_kernel_spec("xaccel").argv[0])
        st = xbin.stat()
        versions["xaccel_binary"] = {"path": str(xbin), "size": st.st_size,
                                     "mtime": datetime.datetime.fromtimestamp(
                                         st.st_mtime, datetime.timezone.utc).isoformat(timespec="seconds")}
    except Exception:  # noqa: BLE001
        pass
    return versions


# --------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="few repetitions, for a smoke run")
    ap.add_argument("--starts", type=int, default=None, help="fresh starts per kernel (default 5, quick 2)")
    ap.add_argument("--pass-runs", type=int, default=None, help="timed pass round trips (default 300, quick 60)")
    ap.add_argument("--warmup", type=int, default=None, help="warm-up pass runs (default 30, quick 10)")
    ap.add_argument("--print-runs", type=int, default=None, help="1000-print cells per kernel (default 5, quick 2)")
    ap.add_argument("--wait-load", type=float, default=None,
                    help="wait until the 1-minute load average is below this before measuring")
    ap.add_argument("--max-wait", type=float, default=900, help="give up waiting for load after this many s")
    ap.add_argument("--real-ipythondir", action="store_true",
                    help="use the user's IPython dir (history database) instead of a fresh temporary one")
    ap.add_argument("--rt", action="store_true",
                    help="approximate a quiet machine on a busy one: the client and the kernels (inherited) "
                         "run at SCHED_FIFO priority 1 for startup and `pass`, so other jobs do not delay "
                         "their wake-ups; the 1000-print runs go back to normal scheduling (xeus-python "
                         "livelocks on them under SCHED_FIFO). Needs root/CAP_SYS_NICE.")
    ap.add_argument("--out", default=str(RESULTS / "kernel.json"))
    ap.add_argument("--png", default=str(RESULTS / "kernel.png"))
    args = ap.parse_args()
    starts = args.starts or (2 if args.quick else 5)
    n_pass = args.pass_runs or (60 if args.quick else 300)
    warmup = args.warmup or (10 if args.quick else 30)
    n_print = args.print_runs or (2 if args.quick else 5)
    rounds = 3 if args.quick else 6
    settle_s = 1.0

    check_kernelspecs()
    if args.rt:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        except PermissionError:
            sys.exit("--rt: SCHED_FIFO not permitted (needs root or CAP_SYS_NICE)")
    ipython_dir = None
    if not args.real_ipythondir:
        # All three kernels run IPython and write its history to an SQLite file; a fresh
        # directory keeps the user's history out of it and makes the runs comparable.
        ipython_dir = tempfile.mkdtemp(prefix="bench_kernel_ipython_")
        os.environ["IPYTHONDIR"] = ipython_dir
        atexit.register(lambda: __import__("shutil").rmtree(ipython_dir, ignore_errors=True))
    atexit.register(kill_all)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)

    load_wait = None
    if args.wait_load is not None:
        load_wait = wait_for_load(args.wait_load, args.max_wait)

    versions = kernel_versions()
    started_at, load_start = now_iso(), os.getloadavg()
    log(f"{started_at}  load {load_start}  nproc {os.cpu_count()}")
    ctx = zmq.Context()
    try:
        log(f"startup + RSS: {starts} fresh starts per kernel, interleaved")
        startups = measure_startups(starts, ctx, settle_s)
        log(f"pass round trip: {warmup} warm-up + {n_pass} timed per kernel, {rounds} interleaved rounds;"
            f" {n_print} x 1000 prints")
        running = measure_running(n_pass, warmup, rounds, n_print, ctx, settle_s)
    except BaseException:
        kill_all()
        raise
    finally:
        ctx.destroy(linger=0)
    finished_at, load_end = now_iso(), os.getloadavg()

    summary, ratios, targets = summarise(startups, running)
    print()
    if args.rt:
        print("scheduling: SCHED_FIFO 1 for startup and `pass` (--rt); 1000 prints at normal scheduling")
    print(f"load average (1, 5, 15 min): start {tuple(round(x, 2) for x in load_start)}, "
          f"end {tuple(round(x, 2) for x in load_end)}; nproc {os.cpu_count()}")
    print_table(summary, ratios, targets)

    result = {
        "benchmark": "kernel",
        "quick": args.quick,
        "method": __doc__,
        "parameters": {"starts": starts, "pass_runs": n_pass, "warmup": warmup, "rounds": rounds,
                       "print_runs": n_print, "print_code": PRINT_CODE, "rss_settle_s": settle_s,
                       "kernel_info_resend_ms": 20, "fast_reconnect_ivl_ms": FAST_RECONNECT_MS,
                       "ipython_dir": ipython_dir or "user's default",
                       "scheduling": ("SCHED_FIFO 1 for startup and pass (--rt), inherited by the kernels; "
                                      "prints at normal scheduling") if args.rt else "normal"},
        "machine": {
            "nproc": os.cpu_count(), "platform": platform.platform(), "machine": platform.machine(),
            "python": sys.version, "python_executable": sys.executable,
            "load_average_start": load_start, "load_average_end": load_end, "load_wait": load_wait,
            "started_at": started_at, "finished_at": finished_at,
        },
        "versions": versions,
        "kernels": {label: name for label, name in KERNELS},
        "summary": summary,
        "ratios_xaccel_over": ratios,
        "targets": targets,
        "raw": {label: {
            "startup_s": startups[label]["startup_s"],
            "startup_fast_reconnect_s": startups[label]["startup_fast_s"],
            "first_result_fast_reconnect_s": startups[label]["first_result_s"],
            "first_result_default_reconnect_s": startups[label]["first_result_default_s"],
            "cpu_at_kernel_info_s": startups[label]["cpu_at_kernel_info_s"],
            "cpu_at_first_result_s": startups[label]["cpu_at_first_result_s"],
            "warmup_start_s_not_counted": startups[label]["warmup_start_s"],
            "rss_fresh_starts": startups[label]["rss"],
            "clean_shutdown_fresh_starts": startups[label]["clean_shutdown"],
            "pass_rtt_us": [x / 1000 for x in running[label]["pass_rtt_ns"]],
            "pass_to_idle_us": [x / 1000 for x in running[label]["pass_idle_ns"]],
            "pass_rtt_kernel_only_client_us": [x / 1000 for x in running[label]["pass_kernel_rtt_ns"]],
            "pass_to_idle_kernel_only_client_us": [x / 1000 for x in running[label]["pass_kernel_idle_ns"]],
            "print1000": running[label]["prints"],
            "rss_long_lived_after_start": running[label]["rss_long_lived_after_start"],
            "rss_long_lived_after_bench": running[label]["rss_long_lived_after_bench"],
            "clean_shutdown_long_lived": running[label]["clean_shutdown"],
        } for label, _ in KERNELS},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    plot(summary, ratios, args.png, (load_start[0], load_end[0]))
    print(f"\nwrote {out} and {args.png}")
    unclean = [l for l in result["raw"] if not all(result["raw"][l]["clean_shutdown_fresh_starts"])
               or not result["raw"][l]["clean_shutdown_long_lived"]]
    if unclean:
        print(f"WARNING: kernels that needed a kill at shutdown: {', '.join(unclean)}")


if __name__ == "__main__":
    main()
