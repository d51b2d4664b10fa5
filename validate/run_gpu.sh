#!/bin/sh
# run_gpu.sh — the GPU calibration run in one command, from the repository
# root of a machine with a CUDA GPU (sm_80 or newer) and nvcc:
#
#   sh validate/run_gpu.sh OUTDIR [build] [default] [heldout] [compare]
#
# Steps (all four when none is named; each can run alone, e.g. to fit a time
# limit, as long as the earlier ones ran with the same OUTDIR and build dir):
#   build    configure and build sftsim-validate (Release, CUDA)    ~1-3 min
#   default  measure --grid default -> OUTDIR/$NAME.json             ~2-3 min on an H100
#   heldout  measure --grid heldout -> OUTDIR/$PREFIX-heldout.json   ~1-2 min
#   compare  the table's predictions of the held-out points, and the
#            published seed table's predictions of the measured ones
# Environment: NAME (default h100-measured: the table the h100-sxm GPU
# prefers), BUILD_DIR (default build-gpu), NVCC (default
# /usr/local/cuda/bin/nvcc), CUDA_ARCHS (default: the device's compute
# capability from nvidia-smi, else "80;90").
#
# Outputs in OUTDIR, every table with device, driver, date and grid inside:
#   $NAME.json                 -> commit as models/hw/calibration/$NAME.json
#   $PREFIX-heldout.json       -> validate/results/ (the held-out measurements)
#   $PREFIX-compare.json, .txt -> validate/results/ (per-kernel error and MAPE)
#   $PREFIX-seed-compare.txt   -> validate/results/ (published seed vs measured)
#   measure-*.log              progress and the numerics check
# where PREFIX is NAME without its "-measured" suffix (h100).
set -eu

usage() {
    echo "usage: sh validate/run_gpu.sh OUTDIR [build] [default] [heldout] [compare]" >&2
    exit 2
}
[ $# -ge 1 ] || usage
out=$1
shift
[ -f validate/run_gpu.sh ] || { echo "run_gpu.sh: run it from the repository root" >&2; exit 2; }
steps=${*:-build default heldout compare}
for s in $steps; do
    case $s in build | default | heldout | compare) ;; *) usage ;; esac
done

name=${NAME:-h100-measured}
prefix=${name%-measured}
build=${BUILD_DIR:-build-gpu}
nvcc=${NVCC:-/usr/local/cuda/bin/nvcc}
bin=$build/sftsim-validate
mkdir -p "$out"

# Runs a measurement, its progress into a log; prints the log's end.
measure() { # grid table-name file log
    echo "run_gpu.sh: measure --grid $1 -> $3 (progress: $4)"
    if ! "$bin" measure --backend cuda --grid "$1" --name "$2" -o "$3" 2>"$4"; then
        tail -n 20 "$4" >&2
        echo "run_gpu.sh: measure --grid $1 failed" >&2
        exit 1
    fi
    grep -E '^(numerics|wrote|measure:)' "$4" || true
}

for s in $steps; do
    case $s in
    build)
        archs=${CUDA_ARCHS:-}
        if [ -z "$archs" ] && command -v nvidia-smi >/dev/null 2>&1; then
            archs=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null |
                head -n 1 | tr -d ' .')
        fi
        [ -n "$archs" ] || archs="80;90"
        cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_COMPILER="$nvcc" \
            -DSFT_CUDA_ARCHS="$archs" >"$out/build.log" 2>&1 ||
            { tail -n 30 "$out/build.log" >&2; exit 1; }
        cmake --build "$build" -j "$(nproc 2>/dev/null || echo 4)" --target sftsim-validate \
            >>"$out/build.log" 2>&1 || { tail -n 30 "$out/build.log" >&2; exit 1; }
        echo "run_gpu.sh: built $bin (CUDA archs $archs)"
        ;;
    default) measure default "$name" "$out/$name.json" "$out/measure-default.log" ;;
    heldout) measure heldout "$prefix-heldout" "$out/$prefix-heldout.json" "$out/measure-heldout.log" ;;
    compare)
        "$bin" compare --calibration "$out/$name.json" --measured "$out/$prefix-heldout.json" \
            --format json >"$out/$prefix-compare.json"
        "$bin" compare --calibration "$out/$name.json" --measured "$out/$prefix-heldout.json" \
            >"$out/$prefix-compare.txt"
        "$bin" compare --calibration h100-fa2-published --measured "$out/$name.json" \
            >"$out/$prefix-seed-compare.txt"
        cat "$out/$prefix-compare.txt"
        ;;
    esac
done
echo "run_gpu.sh: done; commit $out/$name.json as models/hw/calibration/$name.json and" \
    "$out/$prefix-heldout.json, $prefix-compare.json, $prefix-compare.txt," \
    "$prefix-seed-compare.txt under validate/results/"
