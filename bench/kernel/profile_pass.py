"""Where does one `pass` round trip go inside a kernel? py-spy on the live kernel.

Starts the kernel (default xaccel) through jupyter_client, hammers it with
`pass` execute_requests from the lean client of bench_kernel.py (one at a time,
each waited for up to its idle status), and records it meanwhile with
`py-spy record --native --format raw` (collapsed stacks, main + all threads,
non-idle samples only). Then sums the samples per frame (inclusive) and prints
the cost per request in microseconds: samples / rate / requests.

Usage: .venv/bin/python bench/kernel/profile_pass.py [--kernel xaccel] [--seconds 10] [--rate 2000]
Needs py-spy in the venv (.venv/bin/pip install py-spy) and ptrace rights.
"""
import argparse
import collections
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import zmq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_kernel as bk  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def frame_name(frame):
    # py-spy raw frames look like "run_cell (IPython/core/interactiveshell.py:3202)"
    # or native "zmq::socket_base_t::send (libzmq.so)".
    return re.sub(r":\d+\)$", ")", frame.strip())


def report_perf(data, n, wall, rtt_us, args):
    """Split of the kernel's CPU samples by library and by symbol (no children)."""
    out = [f"kernel {args.kernel}: {n} `pass` requests in {wall:.1f} s under perf -F {args.rate}; "
           f"client RTT median {rtt_us:.0f} us; load {os.getloadavg()}"]
    for sort, limit in (("comm,dso", 25), ("dso,sym", 45)):
        rep = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--sort", sort,
                              "--stdio", "-g", "none", "--percent-limit", "0.5"],
                             capture_output=True, text=True).stdout
        body = [l for l in rep.splitlines() if l.strip() and not l.startswith("#")][:limit]
        out += ["", f"perf report --sort {sort} (self %, top {limit}):"] + body
    samples = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--header-only"],
                             capture_output=True, text=True).stdout
    m = re.search(r"sample_freq \S+ = (\d+)", samples)
    text = "\n".join(out)
    print(text)
    Path(args.out).write_text(text + "\n")
    data.unlink()
    print(f"\nwrote {args.out}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", default="xaccel")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--top", type=int, default=45)
    ap.add_argument("--native", action="store_true",
                    help="include C/C++ frames (py-spy then pauses the kernel per sample: the split is "
                         "meaningful, the absolute us are inflated)")
    ap.add_argument("--perf", action="store_true",
                    help="use Linux perf instead (native frames only: Python code shows as libpython)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "kernel_profile_pass.txt"))
    args = ap.parse_args()
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    bk.check_kernelspecs()
    ipdir = tempfile.mkdtemp(prefix="bench_kernel_ipython_")
    os.environ["IPYTHONDIR"] = ipdir
    ctx = zmq.Context()
    km, client, dt, _ = bk.start(args.kernel, ctx)
    raw = Path(tempfile.mkstemp(suffix=".txt")[1])
    try:
        client.settle_shell()
        bk.pass_round(client, 200)
        pid = bk.kernel_pid(km)
        if args.perf:
            spy = subprocess.Popen(["perf", "record", "-F", str(args.rate), "-g", "-o", str(raw) + ".perf",
                                    "-p", str(pid), "--", "sleep", str(args.seconds)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        else:
            mode = ["--native"] if args.native else ["--nonblocking"]
            spy = subprocess.Popen([pyspy, "record", *mode, "--threads", "-r", str(args.rate),
                                    "-d", str(int(args.seconds)), "-f", "raw", "-o", str(raw), "-p", str(pid)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)  # let py-spy attach
        rtts, n = [], 0
        t0 = time.monotonic()
        while spy.poll() is None:
            rtt, _ = bk.pass_round(client, 20)
            rtts += rtt
            n += 20
        wall = time.monotonic() - t0
        err = spy.stderr.read().decode()
        if spy.returncode != 0:
            sys.exit(f"py-spy failed ({spy.returncode}): {err}")
    finally:
        bk.stop(km, client)
        ctx.destroy(linger=0)
        shutil.rmtree(ipdir, ignore_errors=True)

    if args.perf:
        report_perf(Path(str(raw) + ".perf"), n, wall, statistics.median(rtts) / 1000, args)
        raw.unlink()
        return
    # n requests in `wall` s; py-spy sampled args.seconds of it (with --native it pauses the
    # kernel for every sample and falls behind its rate, so the us below are then only relative).
    req_in_window = n * min(1.0, args.seconds / wall)
    inclusive = collections.Counter()
    self_cost = collections.Counter()
    total = 0
    threads = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        count = int(count)
        frames = [frame_name(f) for f in stack.split(";")]
        total += count
        threads[frames[0]] += count
        for f in set(frames[1:]):
            inclusive[f] += count
        self_cost[frames[-1]] += count
    raw.unlink()

    def us(samples):
        return samples / args.rate / req_in_window * 1e6

    lines = [
        f"kernel {args.kernel}: {n} `pass` requests in {wall:.1f} s while py-spy sampled {args.seconds:.0f} s "
        f"at {args.rate} Hz; client-side RTT median {statistics.median(rtts) / 1000:.0f} us; "
        f"load {os.getloadavg()}",
        f"non-idle samples {total} = {us(total):.0f} us of kernel CPU per request (all threads)",
        "", "per thread (us/request):",
    ]
    lines += [f"  {us(c):8.1f}  {t}" for t, c in threads.most_common(10)]
    lines += ["", f"top {args.top} frames, inclusive (us/request, % of non-idle samples):"]
    lines += [f"  {us(c):8.1f} {100 * c / total:5.1f}%  {f}" for f, c in inclusive.most_common(args.top)]
    stages = ["Engine.execute", "Engine.before_request", "InteractiveShell.run_cell",
              "InteractiveShell.transform_cell", "InteractiveShell.should_run_async",
              "HistoryManager.store_inputs", "InteractiveShell.run_ast_nodes", "InteractiveShell.run_code",
              "EventManager.trigger", "BuiltinTrap.__enter__", "BuiltinTrap.__exit__",
              "DisplayTrap.__enter__", "DisplayTrap.__exit__", "PrefilterManager.prefilter_lines",
              "CachingCompiler.cache", "CachingCompiler.ast_parse", "InteractiveShell.user_expressions",
              "OutStream.flush", "TaskErrorReporter.cell_started", "TaskErrorReporter.cell_finished",
              "PayloadManager.read_payload", "KernelSelector.select", "BaseEventLoop._run_once",
              "xeus::xzmq_serializer::deserialize", "xeus::xzmq_serializer::serialize_iopub",
              "xeus::xauthentication::sign", "HMAC_Init_ex", "zmq_msg_send", "zmq_poll",
              "HistorySavingThread.run", "fdatasync"]
    lines += ["", "selected stages, inclusive (us/request, % of non-idle samples):"]
    for st in stages:
        c = sum(v for k, v in inclusive.items() if k.startswith(st + " ") or k.startswith(st + "["))
        if c:
            lines.append(f"  {us(c):8.1f} {100 * c / total:5.1f}%  {st}")
    lines += ["", "top 25 frames, self (leaf) cost:"]
    lines += [f"  {us(c):8.1f} {100 * c / total:5.1f}%  {f}" for f, c in self_cost.most_common(25)]
    text = "\n".join(lines)
    print(text)
    Path(args.out).write_text(text + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
