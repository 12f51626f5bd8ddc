#!/usr/bin/env bash
# Installs and builds what the tests need (like setup.sh), then runs every
# test: C++ (ctest, plus ASan/UBSan and TSan builds of the accel runtime),
# the wasm toolchain, and pytest (kernel, accel, lite). Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/setup.sh"

log "ctest: C++ unit tests ($BUILD)"
ctest --test-dir "$BUILD" --output-on-failure 2>&1 | tail -n 25

# Builds accel alone in build-NAME with extra CMake flags, then runs its ctest.
accel_variant() {
    local name=$1; shift
    local dir="$ROOT/build-$name"
    if [ ! -f "$dir/build.ninja" ]; then
        cmake -S "$ROOT/accel" -B "$dir" -G Ninja -DPython3_EXECUTABLE="$VENV/bin/python" "$@" \
            > "$CACHE/$name-configure.log" 2>&1 \
            || { tail -20 "$CACHE/$name-configure.log"; die "cmake configure of the $name build failed"; }
    fi
    cmake --build "$dir" > "$CACHE/$name-build.log" 2>&1 \
        || { grep -E "error|FAILED" "$CACHE/$name-build.log" | head -20; die "$name build failed (log: $CACHE/$name-build.log)"; }
    ctest --test-dir "$dir" --output-on-failure 2>&1 | tail -n 8
}

log "ctest: accel runtime under ASan+UBSan (build-asan)"
accel_variant asan -DCMAKE_BUILD_TYPE=Debug -DACCEL_BUILD_PYTHON=OFF -DACCEL_SANITIZE=address,undefined
log "ctest: accel runtime under TSan (build-tsan)"
accel_variant tsan -DCMAKE_BUILD_TYPE=Debug -DACCEL_BUILD_PYTHON=OFF -DACCEL_SANITIZE=thread
log "accel: single-threaded backend (the browser's), ctest and its pytest run (build-accel-st)"
accel_variant accel-st -DACCEL_SINGLE_THREADED=ON -DACCEL_USE_OPENSSL=OFF
ACCEL_BUILD_DIR="$ROOT/build-accel-st" "$VENV/bin/python" -m pytest -q "$ROOT/tests/accel" -p no:cacheprovider

if [ -x "$ROOT/lite/build-toolchain" ]; then
    log "wasm: toolchain and CPython for wasm32-emscripten (cached in $CACHE)"
    "$ROOT/lite/build-toolchain"
fi

log "pytest: kernel, accel and lite tests"
cd "$ROOT"
exec "$VENV/bin/python" -m pytest "${@:-tests}"
