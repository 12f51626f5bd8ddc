#!/usr/bin/env bash
# The main job: set up and build, then JupyterLab on 127.0.0.1 with the xaccel
# kernel and notebooks/ open. --console: `jupyter console --kernel xaccel`;
# --notebook: Notebook 7 instead of JupyterLab.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh" --kernel-only
export PATH="$VENV/bin:$PATH"
case "${1:-}" in
    --console) exec jupyter console --kernel xaccel ;;
    --notebook) app=notebook ;;
    ""|--lab) app=lab ;;
    *) die "unknown option '$1' (use --console, --notebook or --lab)" ;;
esac
port=${XACCEL_PORT:-8888}
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-root)  # Jupyter refuses root without it
log "starting Jupyter $app on http://127.0.0.1:$port (kernel: xaccel; Ctrl-C stops it)"
exec jupyter "$app" --ip=127.0.0.1 --port="$port" --no-browser \
    --ServerApp.root_dir="$ROOT/notebooks" --MultiKernelManager.default_kernel_name=xaccel "${extra[@]}"
