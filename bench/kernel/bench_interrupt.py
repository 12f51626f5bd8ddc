"""Interrupt latency: xaccel vs ipykernel vs xeus-python, measured in the same run.

    .venv/bin/python bench/kernel/bench_interrupt.py [--runs 5] [--quick]

For each kernel and each case (an awaited `asyncio.sleep(100)`, a `time.sleep(100)`,
a `while True: pass`), a cell is started, interrupted 0.3 s after its `busy` status
with KernelManager.interrupt_kernel() (the kernelspec's interrupt mode, as a notebook
server does), and timed from the interrupt to the cell's execute_reply. After each
interrupt a `1+1` must answer, or the kernel counts as unusable and is restarted.
A cell not answered within 15 s counts as "no reply". The kernels run round-robin;
medians are printed with the ratios xaccel/peer and written to
bench/results/interrupt.json and interrupt.png.

The tests only check that an interrupt ends a cell long before its work would end
(tests/kernel/kernel_harness.py INTERRUPTED_WITHIN_S); the figure lives here because
on a loaded 2-core machine it follows the load.
"""

import argparse
import json
import os
import platform
import queue
import statistics
import sys
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_kernel import KERNELS, PEERS, RESULTS, check_kernelspecs, kernel_versions, now_iso  # noqa: E402

CASES = {
    "awaited asyncio.sleep": "import asyncio\nawait asyncio.sleep(100)",
    "time.sleep": "import time\ntime.sleep(100)",
    "busy loop": "while True:\n    pass",
}
NO_REPLY_S = 15.0


def reply_of(kc, msg_id, timeout):
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            msg = kc.get_shell_msg(timeout=left)
        except queue.Empty:
            return None
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def wait_busy(kc, msg_id):
    while True:
        msg = kc.get_iopub_msg(timeout=30)
        if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "busy"):
            return


def one_interrupt(km, kc, code):
    """Seconds from the interrupt to the reply, or None; and whether `1+1` answers after."""
    msg_id = kc.execute(code)
    wait_busy(kc, msg_id)
    time.sleep(0.3)
    sent = time.monotonic()
    km.interrupt_kernel()
    reply = reply_of(kc, msg_id, NO_REPLY_S)
    elapsed = time.monotonic() - sent if reply else None
    check = reply_of(kc, kc.execute("1+1"), NO_REPLY_S)
    usable = bool(check and check["content"]["status"] == "ok")
    while True:  # what the two cells published
        try:
            kc.get_iopub_msg(timeout=0.05)
        except queue.Empty:
            break
    return elapsed, usable


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="2 runs")
    ap.add_argument("--out", default=str(RESULTS / "interrupt.json"))
    ap.add_argument("--png", default=str(RESULTS / "interrupt.png"))
    args = ap.parse_args()
    runs = 2 if args.quick else args.runs
    check_kernelspecs()
    started = now_iso()
    load_start = os.getloadavg()
    kernels = {label: start_new_kernel(kernel_name=name) for label, name in KERNELS}
    samples = {label: {case: [] for case in CASES} for label, _ in KERNELS}
    failures = {label: {case: 0 for case in CASES} for label, _ in KERNELS}
    try:
        for _ in range(runs):
            for case, code in CASES.items():
                for label, name in KERNELS:
                    km, kc = kernels[label]
                    elapsed, usable = one_interrupt(km, kc, code)
                    if elapsed is None or not usable:
                        failures[label][case] += 1
                        print(f"{label}: {case}: {'no reply' if elapsed is None else 'unusable after'}; "
                              "restarting it", file=sys.stderr)
                        kc.stop_channels()
                        km.shutdown_kernel(now=True)
                        kernels[label] = start_new_kernel(kernel_name=name)
                    if elapsed is not None:
                        samples[label][case].append(elapsed)
    finally:
        for km, kc in kernels.values():
            kc.stop_channels()
            km.shutdown_kernel(now=True)

    medians = {label: {case: (statistics.median(v) * 1000 if v else None) for case, v in per.items()}
               for label, per in samples.items()}
    ratios = {case: {peer: (medians["xaccel"][case] / medians[peer][case]
                            if medians["xaccel"][case] and medians[peer][case] else None)
                     for peer in PEERS} for case in CASES}
    print(f"\ninterrupt -> execute_reply, median of {runs} (ms); failures = no reply or unusable after")
    print(f"{'case':24}" + "".join(f"{label:>22}" for label, _ in KERNELS) + "".join(f"{'/' + p:>14}" for p in PEERS))
    for case in CASES:
        cells = []
        for label, _ in KERNELS:
            m, f = medians[label][case], failures[label][case]
            cells.append(f"{('-' if m is None else f'{m:.0f}') + (f' ({f} failed)' if f else ''):>22}")
        rs = "".join(f"{'-' if r is None else f'{r:.2f}x':>14}" for r in ratios[case].values())
        print(f"{case:24}" + "".join(cells) + rs)

    result = {"benchmark": "interrupt", "method": __doc__, "runs": runs, "cases": CASES,
              "machine": {"nproc": os.cpu_count(), "platform": platform.platform(),
                          "load_average_start": load_start, "load_average_end": os.getloadavg(),
                          "started_at": started, "finished_at": now_iso()},
              "versions": kernel_versions(), "kernels": dict(KERNELS),
              "samples_s": samples, "failures": failures, "median_ms": medians, "ratios_xaccel_over": ratios}
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plot", file=sys.stderr)
        return
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.27
    for i, (label, _) in enumerate(KERNELS):
        values = [medians[label][case] or 0 for case in CASES]
        ax.bar([x + (i - 1) * width for x in range(len(CASES))], values, width, label=label)
    ax.set_xticks(range(len(CASES)), list(CASES))
    ax.set_ylabel("interrupt -> reply, median (ms)")
    ax.set_title(f"Interrupt latency ({runs} runs, load {load_start[0]:.1f})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.png, dpi=100)
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
