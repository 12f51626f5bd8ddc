# Shared helpers for the dev scripts: logging, idempotent installs, stamps.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
BUILD="$ROOT/build"
CACHE="${XACCEL_CACHE:-$HOME/.cache/xaccel}"
START_TIME=$(date +%s)

log() {
    local elapsed=$(( $(date +%s) - START_TIME ))
    printf '[xaccel %dm%02ds] %s\n' $((elapsed / 60)) $((elapsed % 60)) "$*"
}

die() {
    printf 'xaccel: error: %s\n' "$*" >&2
    exit 1
}

# True when the content hash of the given files differs from the stamp.
stamp_changed() {
    local stamp=$1; shift
    local sum
    sum=$(cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1)
    [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]
}

stamp_write() {
    local stamp=$1; shift
    cat "$@" | sha256sum | cut -d' ' -f1 > "$stamp"
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages that are missing; does nothing otherwise.
apt_install() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "apt: installing ${missing[*]}"
    as_root apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        > "$CACHE/apt.log" 2>&1 || { tail -20 "$CACHE/apt.log"; die "apt-get install ${missing[*]} failed"; }
}
