"""Start-up of the xaccel JupyterLite site against a Pyodide JupyterLite site, same run.

Both sites are served by one local server (this process; COOP/COEP headers as
lite/serve sends them, no HTTP compression, `Cache-Control: no-cache` so a warm load
revalidates), under /xaccel/ (lite/_output, built by lite/build) and /pyodide/
(bench/lite/_pyodide_site, built by bench/lite/build_pyodide_site.sh). /xaccel-late/
(`--only xaccel-late`) is the xaccel site with its early kernel start turned off
(`"xaccelPrestartKernel": false` in the jupyter-lite.json this server sends): the
kernel's worker starts when the notebook asks for a kernel, as JupyterLite does;
/xaccel-nosnap/ has its start-up snapshot turned off (`"xaccelStartSnapshot": false`:
warm loads start CPython and import IPython again). For each of
--runs rounds, alternating the sites, bench/lite/startup.js (headless Chromium) does a
cold load (fresh profile) and a warm load (same profile) of a notebook, and measures:

  app ready         navigation -> the notebook widget exists (JupyterLab app booted)
  kernel ready      -> the notebook's kernel is connected and idle
  first result      -> the execute_result of `1 + 1`, sent once the kernel is ready
  MB (browser)      response bodies the browser received from the network
  MB (server)       bytes this server sent for that load (a cross-check)

and, for xaccel, where its kernel's time goes (marks of kernel/lite/load_pre.js and
kernel/lite/main.cpp, seconds after navigation): worker started, xaccel.js running,
wasm fetched + compiled, data fetched + inflated, file tree mounted, start-up snapshot
read and restored (warm loads), CPython + kernel core started, IPython (engine) imported.

Prints a table (medians, ratios Pyodide / xaccel), writes bench/results/lite_startup.json
and bench/results/lite_startup.png. A benchmark, not a test (timings depend on load).

Usage: .venv/bin/python bench/lite/bench_startup.py [--runs 5] [--only xaccel]
"""
import argparse
import datetime
import functools
import http.server
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
RESULTS = REPO / "bench" / "results"
SITES = {
    # name: (directory, notebook, kernel name)
    "xaccel": (REPO / "lite" / "_output", "xaccel-browser-test.ipynb", "xaccel"),
    "pyodide": (HERE / "_pyodide_site", "bench.ipynb", "python"),
    "xaccel-late": (REPO / "lite" / "_output", "xaccel-browser-test.ipynb", "xaccel"),
    "xaccel-nosnap": (REPO / "lite" / "_output", "xaccel-browser-test.ipynb", "xaccel"),
}
# site -> page config entries this server changes in the site's jupyter-lite.json
CONFIG_OVERRIDES = {"xaccel-late": {"xaccelPrestartKernel": False}, "xaccel-nosnap": {"xaccelStartSnapshot": False}}
PAGE_TIMES = ["app_s", "kernel_ready_s", "first_result_s"]
WORKER_TIMES = ["worker_started_s", "xaccel_js_s", "wasm_s", "data_s", "mounted_s", "snapshot_read_s",
                "snapshot_restored_s", "start_begin_s", "start_end_s", "engine_begin_s", "engine_end_s"]


class CountingHandler(http.server.SimpleHTTPRequestHandler):
    counts = None  # {segment: bytes}, set on the subclass
    segment = ["none"]
    lock = threading.Lock()
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm",
                      ".js": "application/javascript", ".mjs": "application/javascript",
                      ".json": "application/json", ".data": "application/octet-stream"}

    def end_headers(self):
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()

    def do_GET(self):
        if self.path.startswith("/__bench__/segment/"):
            with self.lock:
                self.segment[0] = self.path.rsplit("/", 1)[1]
            self.send_response(204)
            self.end_headers()
            return
        site, _, rest = self.path.split("?")[0].lstrip("/").partition("/")
        if rest == "jupyter-lite.json" and site in CONFIG_OVERRIDES:
            self.send_config(site)
            return
        super().do_GET()

    def send_config(self, site):
        config = json.loads((SITES[site][0] / "jupyter-lite.json").read_text())
        config["jupyter-config-data"].update(CONFIG_OVERRIDES[site])
        body = json.dumps(config).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.count_sent(len(body))

    def copyfile(self, source, outputfile):
        n = 0
        while True:
            buf = source.read(1 << 16)
            if not buf:
                break
            outputfile.write(buf)
            n += len(buf)
        self.count_sent(n)

    def count_sent(self, n):
        with self.lock:
            self.counts[self.segment[0]] = self.counts.get(self.segment[0], 0) + n

    def log_message(self, fmt, *args):
        pass


def serve(root):
    handler = type("Handler", (CountingHandler,), {"counts": {}, "segment": ["none"]})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, handler


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise(loads):
    s = {k: median([l.get(k) for l in loads]) for k in PAGE_TIMES}
    s["mb_browser"] = median([l["bytes"] / 1e6 for l in loads])
    s["mb_server"] = median([l.get("server_bytes", 0) / 1e6 for l in loads])
    s["requests"] = median([l["requests"] for l in loads])
    statuses = sorted({l["snapshot"] for l in loads if l.get("snapshot")})
    if statuses:
        s["snapshot"] = statuses  # of the start-up snapshot, per load (kernel/lite/snapshot_pre.js)
    workers = [l.get("worker") or {} for l in loads]
    for k in WORKER_TIMES:
        src = loads if k == "worker_started_s" else workers
        v = median([w.get(k) for w in src]) if any(w for w in workers) else None
        if v is not None:
            s[k] = v
    return s


def fmt(v, unit=""):
    return "-" if v is None else f"{v:.2f}{unit}"


def print_table(summary):
    names = list(summary)
    cols = [(n, mode) for n in names for mode in ("cold", "warm")]
    ratios = "xaccel" in names and "pyodide" in names
    print("\n| | " + " | ".join(f"{n} {m}" for n, m in cols) +
          (" | pyodide/xaccel cold | pyodide/xaccel warm |" if ratios else " |"))
    print("|---" * (len(cols) + 1 + (2 if ratios else 0)) + "|")
    rows = [("JupyterLab app ready (s)", "app_s"), ("kernel ready (s)", "kernel_ready_s"),
            ("first result (s)", "first_result_s"), ("MB over the wire (browser)", "mb_browser"),
            ("MB sent (server)", "mb_server"), ("requests", "requests")]
    rows += [(f"xaccel: {k[:-2].replace('_', ' ')} (s)", k) for k in WORKER_TIMES]
    for label, key in rows:
        vals = [summary[n][m].get(key) for n, m in cols]
        if all(v is None for v in vals):
            continue
        line = f"| {label} | " + " | ".join(fmt(v) for v in vals)
        if ratios:
            for m in ("cold", "warm"):
                a, b = summary["xaccel"][m].get(key), summary["pyodide"][m].get(key)
                line += f" | {b / a:.2f}" if a and b else " | -"
        print(line + " |")


def plot(summary, path, meta):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    names = list(summary)
    colors = {"xaccel": "#1f77b4", "pyodide": "#ff7f0e", "xaccel-late": "#9ecae1", "xaccel-nosnap": "#08519c"}
    for ax, key, title in ((axes[0], "first_result_s", "first result (s)"), (axes[1], "mb_server", "MB sent by the server")):
        x = range(2)
        width = 0.8 / len(names)
        for i, n in enumerate(names):
            vals = [summary[n][m].get(key) or 0 for m in ("cold", "warm")]
            bars = ax.bar([j + i * width for j in x], vals, width, label=n, color=colors.get(n))
            ax.bar_label(bars, fmt="%.1f")
        ax.set_xticks([j + width * (len(names) - 1) / 2 for j in x], ["cold", "warm"])
        ax.set_title(title)
        ax.legend()
    ax = axes[2]
    # per load: the app's bar above, the kernel's phases (between xaccel's marks) below;
    # they overlap when the worker starts early (medians; a phase is skipped if a mark is)
    app_phases = [("JupyterLab app", None, "app_s")]
    kernel_phases = [("until worker runs xaccel.js", "worker_started_s", "xaccel_js_s"),
                     ("wasm + data load, mount", "xaccel_js_s", "mounted_s"),
                     ("CPython + core start, or snapshot restore", "mounted_s", "start_end_s"),
                     ("IPython import", "start_end_s", "engine_end_s"),
                     ("kernel ready -> first result", "kernel_ready_s", "first_result_s")]
    cmap = plt.get_cmap("tab10")
    ticks, labels = [], []
    for j, m in enumerate(("cold", "warm")):
        s = summary.get("xaccel", {}).get(m, {})
        for row, phases, offset in ((0.2, app_phases, 0), (-0.2, kernel_phases, 1)):
            for k, (label, a, b) in enumerate(phases):
                start = s.get(a, 0) if a else 0
                if s.get(b) is None or (a and s.get(a) is None):
                    continue
                ax.barh(j + row, max(0.0, s[b] - start), height=0.35, left=start, color=cmap(k + offset),
                        label=label if j == 0 else None)
        ticks += [j + 0.2, j - 0.2]
        labels += [f"{m}: app", f"{m}: kernel"]
    ax.set_yticks(ticks, labels)
    ax.set_xlabel("s after navigation")
    ax.set_title("xaccel: where the time goes (medians)")
    ax.legend(fontsize=7, loc="upper right")
    fig.suptitle(f"JupyterLite start-up, headless Chromium, {meta['runs']} runs, load {meta['load_start'][0]:.1f}"
                 f" -> {meta['load_end'][0]:.1f} ({meta['nproc']} cores)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", choices=list(SITES), action="append")
    ap.add_argument("--out", default=str(RESULTS / "lite_startup.json"))
    ap.add_argument("--png", default=str(RESULTS / "lite_startup.png"))
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    sites = args.only or list(SITES)
    for name in sites:
        d = SITES[name][0]
        if not (d / "index.html").is_file():
            how = "bench/lite/build_pyodide_site.sh" if name == "pyodide" else "lite/build"
            sys.exit(f"no {name} site in {d}: build it with {how}")
    root = Path(tempfile.mkdtemp(prefix="xaccel-bench-lite-"))
    for name in sites:
        (root / name).symlink_to(SITES[name][0])
    server, handler = serve(root)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    meta = {"started": datetime.datetime.now().isoformat(timespec="seconds"), "load_start": os.getloadavg(),
            "nproc": os.cpu_count(), "runs": args.runs, "chromium": "/usr/bin/chromium"}
    raw = {n: {"cold": [], "warm": []} for n in sites}
    failures = {n: [] for n in sites}
    try:
        for i in range(args.runs):
            for name in (sites if i % 2 == 0 else sites[::-1]):
                _, notebook, kernel = SITES[name]
                seg = f"{name}-{i}"
                handler.counts.clear()
                try:
                    out = run_site_segmented(base, name, notebook, kernel, seg, args.timeout)
                except LoadFailed as exc:
                    # Counted and reported; the medians are over the loads that finished.
                    failures[name].append(f"round {i + 1}: {exc}")
                    print(f"[{name} round {i + 1}/{args.runs}] FAILED: {str(exc)[:300]}", flush=True)
                    continue
                for mode in ("cold", "warm"):
                    load = out[mode][0]
                    load["server_bytes"] = handler.counts.get(f"{seg}-{mode}", 0)
                    raw[name][mode].append(load)
                    print(f"[{name} {mode} {i + 1}/{args.runs}] first result {load['first_result_s']:.2f} s, "
                          f"{load['bytes'] / 1e6:.1f} MB (server {load['server_bytes'] / 1e6:.1f} MB)", flush=True)
    finally:
        server.shutdown()
        for name in sites:
            (root / name).unlink()
        root.rmdir()
    meta["load_end"] = os.getloadavg()
    meta["failed_rounds"] = failures
    meta["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    if not all(raw[n]["cold"] for n in sites):
        sys.exit("a site finished no load: nothing to report")
    summary = {n: {m: summarise(raw[n][m]) for m in ("cold", "warm")} for n in sites}
    print_table(summary)
    print(f"\nload average (1 min): {meta['load_start'][0]:.2f} at start, {meta['load_end'][0]:.2f} at end; "
          f"{meta['nproc']} cores")
    for n in sites:
        if failures[n]:
            print(f"{n}: {len(failures[n])} of {args.runs} rounds failed (not in the medians): " + "; ".join(failures[n]))
    for n in sites:
        for l in raw[n]["cold"] + raw[n]["warm"]:
            l["by_path"] = dict(sorted(l["by_path"].items(), key=lambda kv: -kv[1])[:40])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"meta": meta, "summary": summary, "raw": raw}, indent=1))
    plot(summary, args.png, meta)
    print(f"wrote {args.out} and {args.png}")


class LoadFailed(Exception):
    """One round of a site (its cold and warm load) did not finish."""


def run_site_segmented(base, name, notebook, kernel, seg, timeout):
    """startup.js marks its cold and warm load as server segments SEG-cold / SEG-warm."""
    env = dict(os.environ, XACCEL_BENCH_SEGMENT=f"{base}/__bench__/segment/{seg}")
    # Its own session: a round that outlives `timeout` is ended with its browser.
    proc = subprocess.Popen(["node", str(HERE / "startup.js"), f"{base}/{name}/", notebook, kernel, "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise LoadFailed(f"startup.js on {name} took more than {timeout:.0f} s")
    lines = [l for l in stdout.splitlines() if l.startswith("{")]
    if proc.returncode == 2 or not lines:
        raise LoadFailed(f"startup.js failed (exit {proc.returncode}):\n{stdout[-2000:]}\n{stderr[-2000:]}")
    out = json.loads(lines[-1])
    if out.get("fatal"):
        raise LoadFailed(f"startup.js failed on {name}: {out['fatal']}")
    return out


if __name__ == "__main__":
    main()
