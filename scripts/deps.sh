#!/bin/sh
# Installs the Debian packages sftsim needs, and only those that are missing.
# Called by `make run` and `make test`; safe to run again (does nothing then).
set -eu

PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev
libsimgrid-dev libhdf5-dev hdf5-tools libgraphviz-dev libcjson-dev libcmocka-dev
libgsl-dev libglpk-dev libcairo2-dev libopenmpi-dev openmpi-bin valgrind"

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

echo "sftsim: installing missing packages:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "sftsim: need root (or sudo) to install:$missing" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
