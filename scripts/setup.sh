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

# The venv comes from Debian's python3.11: the kernel embeds that same CPython.
if [ ! -x "$VENV/bin/python" ]; then
    log "venv: creating $VENV from /usr/bin/python3.11"
    /usr/bin/python3.11 -m venv "$VENV"
fi
if stamp_changed "$VENV/.requirements.sha256" "$ROOT/requirements.txt"; then
    log "venv: installing pinned PyPI packages (requirements.txt)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements.txt" \
        || die "pip install -r requirements.txt failed"
    # The JupyterLite site tools moved to lite/build's own venv (lite/requirements-build.txt):
    # left in this venv, jupyterlite-xeus adds a labextension that Lab fails to load.
    for pkg in jupyterlite-xeus jupyterlite-core empack; do
        if "$VENV/bin/python" -m pip show -q "$pkg" > /dev/null 2>&1; then
            log "venv: removing $pkg (a site-building tool, now in lite/build's venv)"
            "$VENV/bin/python" -m pip uninstall -y -q "$pkg" > /dev/null || die "pip uninstall $pkg failed"
        fi
    done
    # Peers measured by bench/: ipykernel and the xeus-python wheel, with kernelspecs in the venv.
    "$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 > /dev/null
    stamp_write "$VENV/.requirements.sha256" "$ROOT/requirements.txt"
fi

log "build: configuring and building (CMake + Ninja) in $BUILD"
if [ ! -f "$BUILD/build.ninja" ]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja \
        -DPython3_EXECUTABLE="$VENV/bin/python" \
        -DCMAKE_INSTALL_PREFIX="$VENV" > "$CACHE/configure.log" 2>&1 \
        || { tail -30 "$CACHE/configure.log"; die "cmake configure failed (log: $CACHE/configure.log)"; }
fi
cmake --build "$BUILD" > "$CACHE/build.log" 2>&1 || { grep -E "error|FAILED" "$CACHE/build.log" | head -30; die "build failed (log: $CACHE/build.log)"; }
cmake --install "$BUILD" > /dev/null
log "build: kernel installed: $VENV/bin/xaccel, kernelspec $VENV/share/jupyter/kernels/xaccel"
