#!/usr/bin/env bash
# Installs and builds what the tests need (like setup.sh), then runs every
# test: C++ (ctest, plus ASan/UBSan and TSan builds of the accel runtime),
# the wasm toolchain, and pytest (kernel, accel, lite). Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/setup.sh"

log "ctest: C++ unit tests ($BUILD)"
ctest --test-dir "$BUILD" --output-on-failure 2>&1 | tail -n 25

for variant in "asan:address,undefined" "tsan:thread"; do
    name=${variant%%:*}
    sanitize=${variant#*:}
    dir="$ROOT/build-$name"
    log "ctest: accel runtime under $sanitize ($dir)"
    if [ ! -f "$dir/build.ninja" ]; then
        cmake -S "$ROOT/accel" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
            -DACCEL_BUILD_PYTHON=OFF -DACCEL_SANITIZE="$sanitize" > "$CACHE/$name-configure.log" 2>&1 \
            || { tail -20 "$CACHE/$name-configure.log"; die "cmake configure of the $name build failed"; }
    fi
    cmake --build "$dir" > "$CACHE/$name-build.log" 2>&1 || { grep -E "error|FAILED" "$CACHE/$name-build.log" | head -20; die "$name build failed"; }
    ctest --test-dir "$dir" --output-on-failure 2>&1 | tail -n 8
done

if [ -x "$ROOT/lite/build-toolchain" ]; then
    log "wasm: toolchain and CPython for wasm32-emscripten (cached in $CACHE)"
    "$ROOT/lite/build-toolchain"
fi

log "pytest: kernel, accel and lite tests"
cd "$ROOT"
exec "$VENV/bin/python" -m pytest "${@:-tests}"
