"""Round trips that need concurrency in the kernel: xaccel vs ipykernel 7.4
(python3), measured in the same run, kernels interleaved.

Metrics, per kernel:
  1. subshell pass   execute_request('pass') on a subshell -> its execute_reply,
                     while the main shell is inside `time.sleep(...)`;
                     median and p99 of N after W warm-up runs.
  2. comm echo       comm_msg -> the comm's answer (a comm_msg on iopub) while
                     the main shell's cell is suspended in an `await` (of an
                     asyncio.Event that a last comm message sets);
                     no subshell; median and p99 of N after W warm-up runs.
  3. main pass       execute_request('pass') on an idle main shell (context).

Client: jupyter_client's BlockingKernelClient in this process (the same for
both kernels). Writes bench/results/subshells.json and subshells.png.
Usage: .venv/bin/python bench/kernel/bench_subshells.py [--n 300] [--warmup 30] [--rounds 2]
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
KERNELS = [("xaccel", "xaccel"), ("ipykernel", "python3")]
METRICS = [("subshell_pass_ms", "subshell `pass` while main sleeps"),
           ("comm_echo_ms", "comm echo while a cell awaits"),
           ("main_pass_ms", "main-shell `pass` (idle)")]

# Echoes what it gets; "stop" ends the awaiting cell (an interrupt would not
# end ipykernel's `await asyncio.sleep()` before its timer fires).
ECHO_TARGET = (
    "import asyncio, comm\n"
    "bench_stop = asyncio.Event()\n"
    "def _bench_target(c, open_msg):\n"
    "    def on_msg(msg):\n"
    "        data = msg['content']['data']\n"
    "        bench_stop.set() if data == 'stop' else c.send({'echo': data})\n"
    "    c.on_msg(on_msg)\n"
    "comm.get_comm_manager().register_target('bench.echo', _bench_target)\n"
)


def percentile(values, p):
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def reply_to(kc, msg_id, channel="shell", timeout=60):
    get = kc.get_shell_msg if channel == "shell" else kc.get_control_msg
    while True:
        msg = get(timeout=timeout)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def wait_idle(kc, msg_id, timeout=60):
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"):
            return


def run(kc, code):
    msg_id = kc.execute(code)
    reply = reply_to(kc, msg_id)
    wait_idle(kc, msg_id)
    assert reply["content"]["status"] == "ok", reply["content"]


def execute_on(kc, code, subshell_id):
    msg = kc.session.msg("execute_request", {"code": code, "silent": False, "store_history": False,
                                             "user_expressions": {}, "allow_stdin": False})
    msg["header"]["subshell_id"] = subshell_id
    kc.shell_channel.send(msg)
    return msg["header"]["msg_id"]


def wait_running(kc, msg_id):
    while True:
        msg = kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
            return


def end_cell(km, kc, msg_id):
    km.interrupt_kernel()
    reply_to(kc, msg_id)
    wait_idle(kc, msg_id)


def subshell_pass(km, kc, n, warmup):
    create = kc.session.msg("create_subshell_request", {})
    kc.control_channel.send(create)
    subshell_id = reply_to(kc, create["header"]["msg_id"], "control")["content"]["subshell_id"]
    run(kc, "import time")
    busy = kc.execute("time.sleep(3600)")
    wait_running(kc, busy)
    times = []
    for i in range(warmup + n):
        start = time.perf_counter()
        msg_id = execute_on(kc, "pass", subshell_id)
        reply = reply_to(kc, msg_id)
        elapsed = time.perf_counter() - start
        assert reply["content"]["status"] == "ok", reply["content"]
        wait_idle(kc, msg_id)
        if i >= warmup:
            times.append(elapsed * 1000)
    end_cell(km, kc, busy)
    delete = kc.session.msg("delete_subshell_request", {"subshell_id": subshell_id})
    kc.control_channel.send(delete)
    reply_to(kc, delete["header"]["msg_id"], "control")
    return times


def comm_echo(km, kc, n, warmup):
    run(kc, ECHO_TARGET)
    comm_id = "bench-comm"
    kc.shell_channel.send(kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": "bench.echo", "data": {}}))
    busy = kc.execute("await bench_stop.wait()")
    wait_running(kc, busy)
    times = []
    for i in range(warmup + n):
        start = time.perf_counter()
        msg = kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"i": i}})
        kc.shell_channel.send(msg)
        while True:
            out = kc.get_iopub_msg(timeout=60)
            if out["msg_type"] == "comm_msg" and out["content"]["data"] == {"echo": {"i": i}}:
                break
        elapsed = time.perf_counter() - start
        # (ipykernel 7.4 publishes no busy/idle for a comm message it handles
        # beside a running cell; xaccel's are skipped by the next read.)
        if i >= warmup:
            times.append(elapsed * 1000)
    kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": comm_id, "data": "stop"}))
    assert reply_to(kc, busy)["content"]["status"] == "ok"
    return times


def main_pass(kc, n, warmup):
    times = []
    for i in range(warmup + n):
        start = time.perf_counter()
        msg_id = kc.execute("pass", store_history=False)
        reply_to(kc, msg_id)
        elapsed = time.perf_counter() - start
        wait_idle(kc, msg_id)
        if i >= warmup:
            times.append(elapsed * 1000)
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2, help="kernels interleaved, fresh kernels each round")
    parser.add_argument("--out", default=str(RESULTS / "subshells.json"))
    args = parser.parse_args()
    samples = {name: {key: [] for key, _ in METRICS} for name, _ in KERNELS}
    load_start = os.getloadavg()
    for round_ in range(args.rounds):
        for name, spec in KERNELS:
            print(f"round {round_ + 1}: {name}", file=sys.stderr, flush=True)
            km, kc = start_new_kernel(kernel_name=spec, startup_timeout=120)
            try:
                samples[name]["main_pass_ms"] += main_pass(kc, args.n, args.warmup)
                samples[name]["subshell_pass_ms"] += subshell_pass(km, kc, args.n, args.warmup)
                samples[name]["comm_echo_ms"] += comm_echo(km, kc, args.n, args.warmup)
            finally:
                kc.stop_channels()
                km.shutdown_kernel(now=True)
    summary = {name: {key: {"median": statistics.median(v), "p99": percentile(v, 99), "n": len(v)}
                      for key, v in metrics.items()} for name, metrics in samples.items()}
    ratios = {key: summary["xaccel"][key]["median"] / summary["ipykernel"][key]["median"] for key, _ in METRICS}
    print(f"{'metric':40} {'xaccel med/p99':>18} {'ipykernel med/p99':>20} {'ratio':>7}")
    for key, title in METRICS:
        a, b = summary["xaccel"][key], summary["ipykernel"][key]
        print(f"{title:40} {a['median']:8.3f}/{a['p99']:8.3f} {b['median']:9.3f}/{b['p99']:9.3f}  {ratios[key]:6.2f}")
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "loadavg_start": load_start, "loadavg_end": os.getloadavg()},
        "params": vars(args),
        "summary_ms": summary,
        "ratios_xaccel_over_ipykernel": ratios,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    plot(summary, ratios, out.with_suffix(".png"))
    print(f"wrote {out} and {out.with_suffix('.png')}")


def plot(summary, ratios, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(METRICS), figsize=(4 * len(METRICS), 3.5))
    for ax, (key, title) in zip(axes, METRICS):
        names = [name for name, _ in KERNELS]
        med = [summary[n][key]["median"] for n in names]
        p99 = [summary[n][key]["p99"] for n in names]
        ax.bar(names, med, color=["#2a7", "#888"])
        ax.scatter(names, p99, color="black", marker="_", s=200, label="p99")
        ax.set_title(title, fontsize=9)
        ax.set_ylabel("ms (median; p99 mark)")
        ax.set_xlabel(f"xaccel/ipykernel {ratios[key]:.2f}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
