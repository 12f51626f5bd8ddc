#!/usr/bin/env bash
# Installs and builds what the tests need (like setup.sh), then runs every
# test: C++ (ctest, plus ASan/UBSan and TSan builds of the accel runtime),
# the wasm toolchain, and pytest (kernel, accel; lite beside them). Extra
# arguments replace `tests` in one pytest run, which then runs alone.
#
# Every stage writes its full output to $CACHE/logs/test/<stage>.log; at the end
# one summary line per stage says what ran, passed, failed and how long it took.
# A failed stage does not stop the later test stages (a failed build stops the
# run): the summary names each failed stage and its log, and the exit status is 1.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

TEST_LOGS="$CACHE/logs/test"
mkdir -p "$TEST_LOGS"
SUMMARY=()
FAILED=()

summary() {
    local line
    echo
    echo "=== ./dev test summary ($(( ($(date +%s) - START_TIME) / 60 ))m$(printf '%02d' $(( ($(date +%s) - START_TIME) % 60 )))s) ==="
    for line in "${SUMMARY[@]}"; do echo "$line"; done
    if [ ${#FAILED[@]} -gt 0 ]; then
        printf "FAILED: %s\n" "${FAILED[@]}"
    fi
    if [ -n "$INTERRUPTED" ]; then
        echo "INTERRUPTED: the run stopped there, later stages did not run"
    elif [ "$1" -ne 0 ] && [ ${#FAILED[@]} -eq 0 ]; then
        echo "the run stopped before its end (exit $1)"
    elif [ ${#SUMMARY[@]} -gt 0 ] && [ ${#FAILED[@]} -eq 0 ]; then
        echo "all stages passed"
    fi
}
trap 'rc=$?; stop_beside; summary $rc' EXIT
# Ctrl-C ends the run once the foreground stage has stopped (pytest exits with
# a status of its own, not by the signal, which alone would not end the script)
INTERRUPTED=
trap 'INTERRUPTED=1; exit 130' INT TERM

# counts NAME LOG: "passed P, failed F[, skipped S]" from a pytest or ctest log
counts() {
    "$VENV/bin/python" - "$1" <<'PY' 2>/dev/null || echo "counts n/a"
import re, sys
text = open(sys.argv[1], errors="replace").read()
m = re.findall(r"(\d+)% tests passed, (\d+) tests? failed out of (\d+)", text)
if m:
    _, failed, total = m[-1]
    print(f"passed {int(total) - int(failed)}, failed {failed}")
    sys.exit()
lines = [l for l in text.splitlines() if re.search(r"\d+ (passed|failed|error)", l) and " in " in l]
if not lines:
    print("no test counts"); sys.exit()
c = dict((k, int(v)) for v, k in re.findall(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)", lines[-1]))
errors = c.get("error", 0) + c.get("errors", 0)
out = f"passed {c.get('passed', 0)}, failed {c.get('failed', 0) + errors}"
for k in ("skipped", "xfailed", "xpassed"):
    if c.get(k):
        out += f", {k} {c[k]}"
print(out)
PY
}

# record NAME WHAT LOG SECS RC: the stage's summary line (and its failure)
record() {
    local name=$1 what=$2 logf=$3 secs=$4 rc=$5 status=ok
    if [ "$rc" -ne 0 ]; then
        status="FAILED (exit $rc, log: $logf)"
        FAILED+=("$name (log: $logf)")
    fi
    SUMMARY+=("$(printf '%-14s %-52s %-34s %4dm%02ds  %s' "$name" "$what" "$(counts "$logf")" $((secs / 60)) $((secs % 60)) "$status")")
}

# stage [--live] NAME WHAT CMD... : runs CMD with its output in $TEST_LOGS/NAME.log
# (shown as it comes with --live, else its last lines), records a summary line;
# returns CMD's status.
stage() {
    local live=0
    if [ "$1" = --live ]; then live=1; shift; fi
    local name=$1 what=$2
    shift 2
    local logf="$TEST_LOGS/$name.log" t0 rc
    log "$name: $what (log: $logf)"
    t0=$(date +%s)
    set +e
    if [ $live = 1 ]; then
        "$@" < /dev/null 2>&1 | tee "$logf"
        rc=${PIPESTATUS[0]}
    else
        "$@" > "$logf" 2>&1 < /dev/null
        rc=$?
        tail -n 6 "$logf" | sed 's/^/    /'
    fi
    set -e
    record "$name" "$what" "$logf" $(( $(date +%s) - t0 )) $rc
    return $rc
}

# stage_beside NAME WHAT CMD... : starts CMD in the background (output in its
# log only) to run beside the next stages; stage_join NAME waits for it, shows
# its last lines and records its summary line.
declare -A BESIDE_PID BESIDE_WHAT BESIDE_T0
stage_beside() {
    local name=$1 what=$2
    shift 2
    log "$name: $what, in the background (log: $TEST_LOGS/$name.log)"
    BESIDE_WHAT[$name]=$what
    BESIDE_T0[$name]=$(date +%s)
    # its own process group (job control on for the launch): Ctrl-C in the
    # terminal reaches the foreground stage only, and stop_beside can stop the
    # whole background stage with the SIGINT that pytest tears down on
    set -m
    "$@" > "$TEST_LOGS/$name.log" 2>&1 < /dev/null &
    BESIDE_PID[$name]=$!
    set +m
}
stage_join() {
    local name=$1 rc=0
    wait "${BESIDE_PID[$name]}" || rc=$?
    unset "BESIDE_PID[$name]"
    log "$name: finished"
    tail -n 6 "$TEST_LOGS/$name.log" | sed 's/^/    /'
    record "$name" "${BESIDE_WHAT[$name]}" "$TEST_LOGS/$name.log" $(( $(date +%s) - BESIDE_T0[$name] )) $rc
    return $rc
}
# an interrupted run does not leave a background stage running
stop_beside() {
    local name
    for name in "${!BESIDE_PID[@]}"; do
        log "$name: stopping (the run was interrupted)"
        kill -INT -- "-${BESIDE_PID[$name]}" 2>/dev/null || true
        wait "${BESIDE_PID[$name]}" 2>/dev/null || true
    done
}

stage --live setup "apt, venv, native build and install" "$ROOT/scripts/setup.sh" || exit 1

stage ctest "C++ unit tests (build/)" ctest --test-dir "$BUILD" --output-on-failure || true

# Builds accel alone in build-NAME with extra CMake flags, then runs its ctest.
accel_variant() {
    local name=$1; shift
    local dir="$ROOT/build-$name"
    if [ ! -f "$dir/build.ninja" ]; then
        cmake -S "$ROOT/accel" -B "$dir" -G Ninja -DPython3_EXECUTABLE="$VENV/bin/python" "$@" \
            || { echo "cmake configure of the $name build failed"; return 1; }
    fi
    nice cmake --build "$dir" || { echo "$name build failed"; return 1; }
    ctest --test-dir "$dir" --output-on-failure
}

stage accel-asan "accel runtime under ASan+UBSan (build-asan)" \
    accel_variant asan -DCMAKE_BUILD_TYPE=Debug -DACCEL_BUILD_PYTHON=OFF -DACCEL_SANITIZE=address,undefined || true
stage accel-tsan "accel runtime under TSan (build-tsan)" \
    accel_variant tsan -DCMAKE_BUILD_TYPE=Debug -DACCEL_BUILD_PYTHON=OFF -DACCEL_SANITIZE=thread || true
stage accel-st "accel single-threaded backend: ctest (build-accel-st)" \
    accel_variant accel-st -DACCEL_SINGLE_THREADED=ON -DACCEL_USE_OPENSSL=OFF || true
if [ -f "$ROOT/build-accel-st/build.ninja" ]; then
    stage --live accel-st-py "accel single-threaded backend: pytest tests/accel" \
        env ACCEL_BUILD_DIR="$ROOT/build-accel-st" "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$ROOT/tests/accel" || true
fi

# The kernel itself (core, transport, built-in accel) under ASan+UBSan, installed
# beside the normal one as the kernelspec `xaccel-asan` (the binary must live in
# .venv/bin to find the venv). A sanitizer report aborts the kernel, failing the test.
kernel_asan_build() {
    local asan_dir="$ROOT/build-kernel-asan"
    if [ ! -f "$asan_dir/build.ninja" ]; then
        # -g1: line tables, what a sanitizer report's stack needs (full -g compiles slower)
        cmake -S "$ROOT" -B "$asan_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPython3_EXECUTABLE="$VENV/bin/python" \
            -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1 \
            -DXACCEL_BUILD_TESTS=OFF -DACCEL_BUILD_TESTS=OFF \
            -DXACCEL_SANITIZE=address,undefined -DACCEL_SANITIZE=address,undefined \
            || { echo "cmake configure of the kernel ASan build failed"; return 1; }
    fi
    nice cmake --build "$asan_dir" --target xaccel || { echo "kernel ASan build failed"; return 1; }
    install -m 755 "$asan_dir/kernel/xaccel" "$VENV/bin/xaccel-asan"
    mkdir -p "$VENV/share/jupyter/kernels/xaccel-asan"
    cat > "$VENV/share/jupyter/kernels/xaccel-asan/kernel.json" <<JSON
{
  "display_name": "Python 3 (xaccel, ASan+UBSan)",
  "language": "python",
  "argv": ["$VENV/bin/xaccel-asan", "-f", "{connection_file}"],
  "interrupt_mode": "signal",
  "metadata": {"kernel_provisioner": {"provisioner_name": "xaccel-provisioner", "config": {}}},
  "env": {"ASAN_OPTIONS": "detect_leaks=0:halt_on_error=1:abort_on_error=1",
          "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"}
}
JSON
}
if stage kernel-asan "kernel ASan+UBSan build (build-kernel-asan)" kernel_asan_build; then
    stage --live pytest-asan "kernel tests on the ASan+UBSan kernel" \
        env XACCEL_TEST_KERNEL=xaccel-asan "$VENV/bin/python" -m pytest -q -p no:cacheprovider -m "not cpu_budget" \
        "$ROOT/tests/kernel/test_execution.py" "$ROOT/tests/kernel/test_bad_input.py" \
        "$ROOT/tests/kernel/test_async.py" "$ROOT/tests/kernel/test_interrupt.py" \
        "$ROOT/tests/kernel/test_accel_in_kernel.py" "$ROOT/tests/kernel/test_comms.py" \
        "$ROOT/tests/kernel/test_stop_on_error.py" "$ROOT/tests/kernel/test_kernel_subshells.py" \
        "$ROOT/tests/kernel/test_comms_while_awaiting.py" "$ROOT/tests/kernel/test_start_up.py" \
        "$ROOT/tests/kernel/test_provisioner.py" "$ROOT/tests/kernel/test_opening_messages.py" || true
fi

# The browser tests: Debian's Chromium, driven by playwright-core from npm (before
# lite/build, whose settings seed boots the built site in them).
browser_deps() {
    apt_install chromium gdb  # gdb: stacks of a stuck kernel in a test failure message
    if [ ! -d "$ROOT/lite/tests/node_modules" ] || stamp_changed "$ROOT/lite/tests/node_modules/.lock.sha256" "$ROOT/lite/tests/package-lock.json"; then
        npm ci --prefix "$ROOT/lite/tests" --no-audit --no-fund || { echo "npm ci in lite/tests failed"; return 1; }
        stamp_write "$ROOT/lite/tests/node_modules/.lock.sha256" "$ROOT/lite/tests/package-lock.json"
    fi
}
stage browser-deps "chromium, gdb (apt); playwright-core (npm)" browser_deps || true

# The WebAssembly toolchain (cached in $CACHE) and the browser kernel + JupyterLite
# site (incremental); the lite tests then use that site as built here.
lite_ok=1
stage --live wasm-toolchain "lite/build-toolchain (cached in $CACHE)" "$ROOT/lite/build-toolchain" || lite_ok=0
if [ $lite_ok = 1 ]; then
    stage --live lite-build "lite/build: wasm kernel and JupyterLite site" "$ROOT/lite/build" || lite_ok=0
fi
# the browser tests use the site built above (after a failed build their fixture tries
# lite/build again and fails with its output)
if [ $lite_ok = 1 ]; then export XACCEL_LITE_NO_BUILD=1; fi

cd "$ROOT"
if [ $# -gt 0 ]; then
    stage --live pytest "pytest $*" "$VENV/bin/python" -m pytest "$@" || true
else
    # Two pytest runs side by side: the lite tests keep the CPU busy (Chromium,
    # wasm under node) while most of the others wait on kernels' replies; one
    # after the other they took about 13 minutes, most of a run with nothing to build.
    stage_beside pytest-lite "pytest tests/lite (browser and node)" "$VENV/bin/python" -m pytest tests/lite
    stage --live pytest "pytest tests, but tests/lite (kernel, accel, ...)" \
        "$VENV/bin/python" -m pytest tests --ignore=tests/lite || true
    stage_join pytest-lite || true
fi

[ ${#FAILED[@]} -eq 0 ]
