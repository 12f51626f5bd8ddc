#!/usr/bin/env bash
# bench/lite/build_pyodide_site.sh -- the baseline of bench/lite/bench_startup.py: a
# JupyterLite site with jupyterlite-pyodide-kernel 0.8.6 and Pyodide, built offline
# and served entirely from the local server (no CDN, no PyPI at run time).
#
#   bench/lite/build_pyodide_site.sh     -> bench/lite/_pyodide_site (about 1 min; cached)
#
# - jupyterlite-core 0.8.6 + jupyterlite-pyodide-kernel 0.8.6 from PyPI, in their own
#   venv (bench/lite/_pyodide_build/venv; the other pins are lite/requirements-build.txt's);
# - Pyodide 314.0.6 (the version jupyterlite-pyodide-kernel 0.8.6 names in its
#   constants.PYODIDE_VERSION) from npm (`npm pack pyodide@314.0.6`): its core files go
#   to the lite dir's static/pyodide, which the kernel's addon copies into the site;
# - the npm package has no Python packages: the kernel loads micropip from Pyodide's
#   repository and IPython with its dependencies (pyodide-kernel requires ipython and
#   comm). The wheels pyodide-lock.json names for micropip and IPython's dependency
#   closure (all pure Python) are downloaded from PyPI at the lock's versions and put
#   beside it under the lock's file names; the lock's sha256 entries are set to those
#   files (Pyodide checks them). comm, which is not in the lock, goes into the site's
#   piplite index (pypi/), and the PyPI fallback is disabled.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$HERE/_pyodide_build
LITE_DIR=$WORK/lite
OUT=$HERE/_pyodide_site
VENV=$WORK/venv
PYODIDE_VERSION=314.0.6
say() { echo "[pyodide-site] $*"; }

mkdir -p "$WORK/cache"
if [[ ! -f $VENV/.installed ]]; then
    # the pins of the xaccel site's build venv (jupyterlite-core 0.8.6, jupyter_server for
    # contents), without its xeus and widget extensions, plus the Pyodide kernel
    say "venv: jupyterlite-core==0.8.6 jupyterlite-pyodide-kernel==0.8.6"
    /usr/bin/python3.11 -m venv "$VENV"
    grep -v -i -E "^(jupyterlite_xeus|jupyterlab_widgets)==" "$HERE/../../lite/requirements-build.txt" >"$WORK/requirements.txt"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$WORK/requirements.txt" jupyterlite-pyodide-kernel==0.8.6
    touch "$VENV/.installed"
fi
expected=$("$VENV/bin/python" -c "from jupyterlite_pyodide_kernel.constants import PYODIDE_VERSION as v; print(v)")
[[ $expected == "$PYODIDE_VERSION" ]] || { echo "jupyterlite-pyodide-kernel expects Pyodide $expected" >&2; exit 1; }

TGZ=$WORK/cache/pyodide-$PYODIDE_VERSION.tgz
if [[ ! -f $TGZ ]]; then
    say "npm pack pyodide@$PYODIDE_VERSION"
    (cd "$WORK/cache" && npm pack -q "pyodide@$PYODIDE_VERSION" >/dev/null)
fi
rm -rf "$LITE_DIR" "$OUT"
mkdir -p "$LITE_DIR/static/pyodide" "$LITE_DIR/pypi" "$LITE_DIR/contents"
tar xzf "$TGZ" -C "$LITE_DIR/static/pyodide" --strip-components=1 package

say "wheels for micropip and IPython (PyPI, at pyodide-lock.json's versions)"
"$VENV/bin/python" - "$LITE_DIR" "$WORK/cache" "$VENV/bin/pip" <<'PYEOF'
import hashlib, json, re, shutil, subprocess, sys
from pathlib import Path
lite, cache, pip = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
lock_path = lite / "static" / "pyodide" / "pyodide-lock.json"
lock = json.loads(lock_path.read_text())
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
by_name = {norm(k): k for k in lock["packages"]}

def wheel(name, version, dest):
    got = [p for p in cache.glob("*.whl") if norm(p.name.split("-")[0]) == norm(name) and p.name.split("-")[1] == version]
    if not got:
        subprocess.run([pip, "download", "-q", "--disable-pip-version-check", "--no-deps", "--only-binary=:all:",
                        "--platform", "any", "--python-version", "3.14", "--implementation", "py",
                        "-d", str(cache), f"{name}=={version}"], check=True)
        got = [p for p in cache.glob("*.whl") if norm(p.name.split("-")[0]) == norm(name) and p.name.split("-")[1] == version]
    shutil.copy(got[0], dest)
    return dest

todo, seen = ["micropip", "ipython", "jedi"], set()  # jedi: the kernel loads it at start
while todo:
    key = by_name[norm(todo.pop())]
    if key in seen:
        continue
    seen.add(key)
    entry = lock["packages"][key]
    dest = wheel(entry["name"], entry["version"], lite / "static" / "pyodide" / entry["file_name"])
    entry["sha256"] = hashlib.sha256(dest.read_bytes()).hexdigest()
    todo += entry["depends"]
lock_path.write_text(json.dumps(lock))
# comm (pyodide-kernel requires it; not in Pyodide's lock): the site's piplite index
wheel("comm", "0.2.3", lite / "pypi" / "comm-0.2.3-py3-none-any.whl")
print(f"[pyodide-site] {len(seen)} wheels from the lock ({', '.join(sorted(seen))}) + comm")
PYEOF

cat >"$LITE_DIR/jupyter-lite.json" <<'EOF'
{
  "jupyter-lite-schema-version": 0,
  "jupyter-config-data": {
    "exposeAppInBrowser": true,
    "litePluginSettings": {
      "@jupyterlite/pyodide-kernel-extension:kernel": {"disablePyPIFallback": true}
    }
  }
}
EOF
cat >"$LITE_DIR/contents/bench.ipynb" <<'EOF'
{"cells": [{"cell_type": "code", "execution_count": null, "id": "b1", "metadata": {}, "outputs": [], "source": ["1 + 1"]}],
 "metadata": {"kernelspec": {"display_name": "Python (Pyodide)", "language": "python", "name": "python"}},
 "nbformat": 4, "nbformat_minor": 5}
EOF
say "jupyter lite build -> $OUT"
(cd "$LITE_DIR" && "$VENV/bin/jupyter" lite build --lite-dir "$LITE_DIR" --contents "$LITE_DIR/contents" \
    --output-dir "$OUT") >"$WORK/lite-build.log" 2>&1 || { tail -30 "$WORK/lite-build.log"; exit 1; }
[[ -f $OUT/static/pyodide/pyodide.mjs ]] || { echo "no static/pyodide in $OUT" >&2; exit 1; }
grep -q '"pyodideUrl"' "$OUT/jupyter-lite.json" || { echo "jupyter-lite.json names no local pyodideUrl" >&2; exit 1; }
say "site ready: $OUT ($(du -sh "$OUT" | cut -f1))"
