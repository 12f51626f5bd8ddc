#!/usr/bin/env bash
# Installs what is missing (Debian packages, the project venv), builds the
# native kernel and accel, and installs them with the kernelspec into .venv.
# Idempotent: with nothing changed it only checks, in seconds.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mkdir -p "$CACHE"

BUILD_PACKAGES=(
    build-essential cmake ninja-build pkg-config
    python3.11 python3.11-dev python3.11-venv libpython3.11-dev
    xeus-dev nlohmann-json3-dev cppzmq-dev libzmq3-dev xtl-dev uuid-dev libssl-dev
    pybind11-dev libcurl4-openssl-dev zlib1g-dev libgtest-dev
)
apt_install "${BUILD_PACKAGES[@]}"

# Targets: everything (the C++ tests too) by default; --kernel-only (./dev start)
# builds what gets installed, the kernel and the accel extension.
TARGETS=()
case "${1:-}" in
    --kernel-only) TARGETS=(--target xaccel accel) ;;
    "") ;;
    *) die "unknown option '$1' (use --kernel-only or nothing)" ;;
esac

# The venv comes from Debian's python3.11: the kernel embeds that same CPython.
if [ ! -x "$VENV/bin/python" ]; then
    log "venv: creating $VENV from /usr/bin/python3.11"
    /usr/bin/python3.11 -m venv "$VENV"
fi

venv_packages() {
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements.txt" \
        || { echo "pip install -r requirements.txt failed"; return 1; }
    # The JupyterLite site tools moved to lite/build's own venv (lite/requirements-build.txt):
    # left in this venv, jupyterlite-xeus adds a labextension that Lab fails to load.
    for pkg in jupyterlite-xeus jupyterlite-core empack; do
        if "$VENV/bin/python" -m pip show -q "$pkg" > /dev/null 2>&1; then
            echo "removing $pkg (a site-building tool, now in lite/build's venv)"
            "$VENV/bin/python" -m pip uninstall -y -q "$pkg" > /dev/null || { echo "pip uninstall $pkg failed"; return 1; }
        fi
    done
    # Peers measured by bench/: ipykernel and the xeus-python wheel, with kernelspecs in the venv.
    "$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 > /dev/null
    stamp_write "$VENV/.requirements.sha256" "$ROOT/requirements.txt"
}

# The PyPI packages install beside the native build, which needs only the venv's
# interpreter (the build's C++ dependencies come from Debian): on a new machine the
# download and the compile overlap instead of adding up.
# In a process group of its own, so that a set-up that stops early (Ctrl-C, a
# failed build) stops pip too instead of leaving it writing into the venv; the
# next set-up installs again (the stamp is written only after a whole install).
pip_pid=
trap '[ -z "$pip_pid" ] || kill -TERM -- "-$pip_pid" 2>/dev/null || true' EXIT
if stamp_changed "$VENV/.requirements.sha256" "$ROOT/requirements.txt"; then
    log "venv: installing pinned PyPI packages (requirements.txt), beside the build (log: $CACHE/pip.log)"
    set -m
    venv_packages > "$CACHE/pip.log" 2>&1 &
    pip_pid=$!
    set +m
fi

log "build: configuring and building (CMake + Ninja) in $BUILD"
if [ ! -f "$BUILD/build.ninja" ]; then
    # -g1: line tables and function names, enough for the backtraces of a crash
    # or of gdb; full -g made every compile about 40% slower (a build for the
    # debugger: -DCMAKE_BUILD_TYPE=Debug in a build directory of your own).
    cmake -S "$ROOT" -B "$BUILD" -G Ninja \
        -DPython3_EXECUTABLE="$VENV/bin/python" \
        "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
        -DCMAKE_INSTALL_PREFIX="$VENV" > "$CACHE/configure.log" 2>&1 \
        || { tail -30 "$CACHE/configure.log"; die "cmake configure failed (log: $CACHE/configure.log)"; }
fi
cmake --build "$BUILD" "${TARGETS[@]}" > "$CACHE/build.log" 2>&1 \
    || { grep -E "error|FAILED" "$CACHE/build.log" | head -30; die "build failed (log: $CACHE/build.log)"; }
if [ -n "$pip_pid" ]; then
    wait "$pip_pid" || { pip_pid=; tail -20 "$CACHE/pip.log"; die "venv: installing the PyPI packages failed (log: $CACHE/pip.log)"; }
    pip_pid=
    log "venv: PyPI packages installed"
fi
cmake --install "$BUILD" > /dev/null
log "build: kernel installed: $VENV/bin/xaccel, kernelspec $VENV/share/jupyter/kernels/xaccel"
