"""xaccel vs ipykernel vs xeus-python under sustained load, measured in the same run.

  1. soak        N cells of `x = 1` one after the other on one client: round
                 trip (execute_request -> execute_reply) p50/p99 overall and per
                 tenth of the run, and the kernel's RSS after 100 warm-up cells
                 and at the end (growth).
  2. 5 clients   5 clients (own DEALER socket and session each) keep one
                 request in flight each until 1,000 cells ran in total: wall
                 time and cells/s.
  3. iopub       `for i in range(N): display(i)` with one client reading iopub
                 as fast as it can: time from the request to its idle status,
                 display_data received (lost = N - received), messages/s. A kernel
                 that sends nothing for this request for 30 s is taken as done
                 (its idle lost).

Writes bench/results/kernel_load.json and bench/results/kernel_load.png.
Usage: .venv/bin/python bench/kernel/bench_load.py [--cells 10000] [--displays 30000]
"""
import argparse
import atexit
import gc
import json
import os
import platform
import signal
import sys
import time
from pathlib import Path

import zmq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_kernel as bk  # noqa: E402

KERNELS = [("xaccel", "xaccel"), ("ipykernel", "python3"), ("xeus-python", "xpython")]
QUIET_S = 30


def soak(client, km, n):
    for _ in range(100):
        client.wait_reply(client.execute("x = 1"))
    client.drain_iopub()
    rss_start = bk.rss_of(km)["rss_mb"]
    rtt = []
    gc.disable()
    try:
        for i in range(n):
            t0 = time.perf_counter_ns()
            reply = client.wait_reply(client.execute("x = 1"))
            rtt.append((time.perf_counter_ns() - t0) / 1e3)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"cell failed: {reply['content']}")
            if i % 100 == 0:
                client.drain_iopub()  # keep the SUB side from backing up
    finally:
        gc.enable()
    time.sleep(1)
    rss_end = bk.rss_of(km)["rss_mb"]
    tenth = max(1, n // 10)
    chunks = [rtt[i:i + tenth] for i in range(0, n, tenth)]
    return {
        "cells": n,
        "p50_us": bk.percentile(rtt, 50),
        "p99_us": bk.percentile(rtt, 99),
        "p50_us_per_tenth": [bk.percentile(c, 50) for c in chunks],
        "p99_us_per_tenth": [bk.percentile(c, 99) for c in chunks],
        "rss_after_warmup_mb": rss_start,
        "rss_end_mb": rss_end,
        "rss_growth_mb": rss_end - rss_start,
    }


def many_clients(km, ctx, n_clients, total):
    clients = [bk.LeanClient(km, ctx) for _ in range(n_clients)]
    try:
        for c in clients:  # each one connected and answered once
            c.wait_reply(c.execute("x = 1"))
        poller = zmq.Poller()
        for c in clients:
            poller.register(c.shell, zmq.POLLIN)
        by_socket = {c.shell: c for c in clients}
        pending = {}
        sent = 0
        done = 0
        t0 = time.perf_counter()
        for c in clients:
            pending[c.shell] = c.execute("x = 1")
            sent += 1
        while done < total:
            events = dict(poller.poll(30000))
            if not events:
                raise TimeoutError("no reply within 30 s with several clients")
            for sock in events:
                c = by_socket[sock]
                msg = c._recv(sock)
                if (msg["parent_header"] or {}).get("msg_id") != pending.get(sock):
                    continue
                done += 1
                if sent < total:
                    pending[sock] = c.execute("x = 1")
                    sent += 1
                else:
                    pending.pop(sock)
            for c in clients:
                c.drain_iopub()
        wall = time.perf_counter() - t0
        return {"clients": n_clients, "cells": total, "wall_s": wall, "cells_per_s": total / wall}
    finally:
        for c in clients:
            c.close()


def iopub_flood(client, n):
    client.drain_iopub()
    t0 = time.perf_counter()
    msg_id = client.execute(f"for i in range({n}): display(i)")
    received = 0
    idle = False
    deadline = time.monotonic() + 600
    last, last_pc = time.monotonic(), t0
    while time.monotonic() < deadline and time.monotonic() - last < QUIET_S:
        msg, _ = client.recv_iopub(1000)
        if msg is None or (msg["parent_header"] or {}).get("msg_id") != msg_id:
            continue
        last, last_pc = time.monotonic(), time.perf_counter()
        if msg["msg_type"] == "display_data":
            received += 1
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            idle = True
            break
    # Without an idle: until the last message of the request.
    wall = (time.perf_counter() - t0) if idle else (last_pc - t0)
    try:
        client.wait_reply(msg_id, timeout_s=60)
        replied = True
    except TimeoutError:
        replied = False
    return {"displays": n, "received": received, "lost": n - received, "idle_received": idle,
            "reply_received": replied, "time_to_idle_s": wall, "messages_per_s": received / wall}


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for label, r in results.items():
        axes[0].plot(r["soak"]["p50_us_per_tenth"], label=f"{label} p50")
        axes[0].plot(r["soak"]["p99_us_per_tenth"], "--", label=f"{label} p99")
    axes[0].set_title(f"soak: round trip per tenth of {next(iter(results.values()))['soak']['cells']} cells")
    axes[0].set_ylabel("us")
    axes[0].legend(fontsize=7)
    labels = list(results)
    axes[1].bar(labels, [results[k]["clients"]["cells_per_s"] for k in labels])
    axes[1].set_title("1,000 cells, 5 clients: cells/s")
    axes[2].bar(labels, [results[k]["iopub"]["messages_per_s"] for k in labels])
    axes[2].set_title("iopub display_data/s (lost: " + ", ".join(
        f"{k} {results[k]['iopub']['lost']}" for k in labels) + ")")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=5)
    parser.add_argument("--client-cells", type=int, default=1000)
    parser.add_argument("--displays", type=int, default=30_000)
    parser.add_argument("--out", default=str(bk.RESULTS / "kernel_load.json"))
    parser.add_argument("--png", default=str(bk.RESULTS / "kernel_load.png"))
    parser.add_argument("--kernels", default=",".join(label for label, _ in KERNELS),
                        help="comma-separated labels among " + ", ".join(label for label, _ in KERNELS))
    args = parser.parse_args()
    chosen = [(label, name) for label, name in KERNELS if label in args.kernels.split(",")]

    atexit.register(bk.kill_all)
    signal.signal(signal.SIGTERM, bk._on_signal)
    ctx = zmq.Context()
    load_start = os.getloadavg()
    results = {}
    for label, name in chosen:
        bk.log(f"{label}: starting")
        km, client, _, _ = bk.start(name, ctx)
        try:
            client.settle_shell()
            bk.log(f"{label}: soak of {args.cells} cells")
            r = {"soak": soak(client, km, args.cells)}
            bk.log(f"{label}: {args.client_cells} cells with {args.clients} clients")
            r["clients"] = many_clients(km, ctx, args.clients, args.client_cells)
            bk.log(f"{label}: {args.displays} displays")
            r["iopub"] = iopub_flood(client, args.displays)
            results[label] = r
        finally:
            bk.stop(km, client)
    out = {"when": bk.now_iso(), "load_start": load_start, "load_end": os.getloadavg(),
           "nproc": os.cpu_count(), "python": platform.python_version(), "results": results}
    Path(args.out).write_text(json.dumps(out, indent=2))
    plot(results, args.png)
    for label, r in results.items():
        s, c, i = r["soak"], r["clients"], r["iopub"]
        print(f"{label:10s} soak p50 {s['p50_us']:.0f} us p99 {s['p99_us']:.0f} us RSS +{s['rss_growth_mb']:.1f} MB"
              f" | {c['clients']} clients {c['cells_per_s']:.0f} cells/s"
              f" | iopub {i['messages_per_s']:.0f} msg/s lost {i['lost']} idle {i['idle_received']}")
    if "xaccel" in results:
        for label in results:
            if label == "xaccel":
                continue
            a, b = results["xaccel"], results[label]
            print(f"xaccel/{label}: soak p50 {a['soak']['p50_us'] / b['soak']['p50_us']:.2f}"
                  f" p99 {a['soak']['p99_us'] / b['soak']['p99_us']:.2f}"
                  f" | 5 clients cells/s {a['clients']['cells_per_s'] / b['clients']['cells_per_s']:.2f}"
                  f" | iopub msg/s {a['iopub']['messages_per_s'] / max(b['iopub']['messages_per_s'], 1e-9):.2f}")
    print(f"load {load_start} -> {out['load_end']}")


if __name__ == "__main__":
    main()
