"""Does having the debugger cost a kernel that never debugs anything?

Compares the `pass` round trip (execute_request -> execute_reply) of two
kernelspecs started side by side, in interleaved rounds so that machine load
hits both alike: by default this checkout's `xaccel` against a baseline build
given by its kernelspec directory (e.g. one built from the main branch):

    .venv/bin/python bench/kernel/bench_debugger_cost.py --baseline /work/main/.venv/share/jupyter/kernels/xaccel

Prints the median and p90 of each, the kernel process's CPU time per round
trip (user + system, all threads; unlike wall time it hardly depends on the
machine's load), their ratios, and writes JSON to
bench/results/debugger_cost.json.
"""

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import psutil
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

RESULTS = Path(__file__).resolve().parents[1] / "results"


def start(name, spec_dirs):
    ksm = KernelSpecManager()
    ksm.kernel_dirs = spec_dirs + ksm.kernel_dirs
    km = KernelManager(kernel_name=name, kernel_spec_manager=ksm)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return km, kc


def pass_round_trip_ms(kc):
    t0 = time.perf_counter()
    msg_id = kc.execute("pass", store_history=False)
    while True:
        reply = kc.get_shell_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == msg_id:
            return (time.perf_counter() - t0) * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--baseline", required=True, help="kernelspec directory of the baseline kernel")
    ap.add_argument("--kernel", default="xaccel", help="kernelspec of the kernel under test")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--per-round", type=int, default=50)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(args.baseline, Path(tmp) / "xaccel-baseline")
        kernels = {"baseline": start("xaccel-baseline", [tmp]), "tested": start(args.kernel, [])}
        samples = {name: [] for name in kernels}
        cpu = {name: 0.0 for name in kernels}
        procs = {name: psutil.Process(km.provisioner.process.pid) for name, (km, _) in kernels.items()}
        try:
            for _, kc in kernels.values():
                for _ in range(30):
                    pass_round_trip_ms(kc)
            for r in range(args.rounds):
                order = list(kernels) if r % 2 == 0 else list(reversed(kernels))
                for name in order:
                    kc = kernels[name][1]
                    before = procs[name].cpu_times()
                    samples[name].extend(pass_round_trip_ms(kc) for _ in range(args.per_round))
                    after = procs[name].cpu_times()
                    cpu[name] += (after.user - before.user) + (after.system - before.system)
        finally:
            for km, kc in kernels.values():
                kc.stop_channels()
                km.shutdown_kernel(now=True)

    summary = {}
    for name, values in samples.items():
        values.sort()
        summary[name] = {"median_ms": statistics.median(values), "p90_ms": values[int(len(values) * 0.9)],
                         "cpu_ms_per_round_trip": cpu[name] * 1000 / len(values), "n": len(values)}
    summary["ratio_median"] = summary["tested"]["median_ms"] / summary["baseline"]["median_ms"]
    summary["ratio_cpu"] = summary["tested"]["cpu_ms_per_round_trip"] / summary["baseline"]["cpu_ms_per_round_trip"]
    summary["load_average"] = psutil.getloadavg()
    for name in ("baseline", "tested"):
        s = summary[name]
        print(f"{name:9s} pass round trip: median {s['median_ms']:.3f} ms, p90 {s['p90_ms']:.3f} ms, "
              f"kernel CPU {s['cpu_ms_per_round_trip']:.3f} ms per round trip (n={s['n']})")
    print(f"tested / baseline: median {summary['ratio_median']:.3f}, CPU {summary['ratio_cpu']:.3f} "
          f"(load average {summary['load_average'][0]:.1f})")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "debugger_cost.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
