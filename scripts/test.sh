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

# The kernel itself (core, transport, built-in accel) under ASan+UBSan, installed
# beside the normal one as the kernelspec `xaccel-asan` (the binary must live in
# .venv/bin to find the venv). A sanitizer report aborts the kernel, failing the test.
log "kernel: ASan+UBSan build (build-kernel-asan)"
asan_dir="$ROOT/build-kernel-asan"
if [ ! -f "$asan_dir/build.ninja" ]; then
    cmake -S "$ROOT" -B "$asan_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPython3_EXECUTABLE="$VENV/bin/python" \
        -DXACCEL_BUILD_TESTS=OFF -DACCEL_BUILD_TESTS=OFF \
        -DXACCEL_SANITIZE=address,undefined -DACCEL_SANITIZE=address,undefined \
        > "$CACHE/kernel-asan-configure.log" 2>&1 \
        || { tail -20 "$CACHE/kernel-asan-configure.log"; die "cmake configure of the kernel ASan build failed"; }
fi
cmake --build "$asan_dir" --target xaccel > "$CACHE/kernel-asan-build.log" 2>&1 \
    || { grep -E "error|FAILED" "$CACHE/kernel-asan-build.log" | head -20; die "kernel ASan build failed"; }
install -m 755 "$asan_dir/kernel/xaccel" "$VENV/bin/xaccel-asan"
mkdir -p "$VENV/share/jupyter/kernels/xaccel-asan"
cat > "$VENV/share/jupyter/kernels/xaccel-asan/kernel.json" <<JSON
{
  "display_name": "Python 3 (xaccel, ASan+UBSan)",
  "language": "python",
  "argv": ["$VENV/bin/xaccel-asan", "-f", "{connection_file}"],
  "interrupt_mode": "signal",
  "env": {"ASAN_OPTIONS": "detect_leaks=0:halt_on_error=1:abort_on_error=1",
          "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"}
}
JSON
log "pytest: kernel tests on the ASan+UBSan kernel"
XACCEL_TEST_KERNEL=xaccel-asan "$VENV/bin/python" -m pytest -q -p no:cacheprovider -m "not cpu_budget" \
    "$ROOT/tests/kernel/test_execution.py" "$ROOT/tests/kernel/test_bad_input.py" \
    "$ROOT/tests/kernel/test_async.py" "$ROOT/tests/kernel/test_interrupt.py" \
    "$ROOT/tests/kernel/test_accel_in_kernel.py" "$ROOT/tests/kernel/test_comms.py" \
    "$ROOT/tests/kernel/test_stop_on_error.py"

if [ -x "$ROOT/lite/build-toolchain" ]; then
    log "wasm: toolchain and CPython for wasm32-emscripten (cached in $CACHE)"
    "$ROOT/lite/build-toolchain"
fi

# The browser tests: Debian's Chromium, driven by playwright-core from npm.
apt_install chromium
if [ ! -d "$ROOT/lite/tests/node_modules" ] || stamp_changed "$ROOT/lite/tests/node_modules/.lock.sha256" "$ROOT/lite/tests/package-lock.json"; then
    log "npm: installing lite/tests (playwright-core)"
    npm ci --prefix "$ROOT/lite/tests" --no-audit --no-fund > "$CACHE/npm-lite-tests.log" 2>&1 \
        || { tail -20 "$CACHE/npm-lite-tests.log"; die "npm ci in lite/tests failed"; }
    stamp_write "$ROOT/lite/tests/node_modules/.lock.sha256" "$ROOT/lite/tests/package-lock.json"
fi

log "pytest: kernel, accel and lite tests"
cd "$ROOT"
exec "$VENV/bin/python" -m pytest "${@:-tests}"
