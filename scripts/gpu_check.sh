#!/usr/bin/env bash
# gradviz on a GPU, in one call of at most 10 minutes:
#   set-up (./dev setup: the CUDA build of torch from PyPI where nvidia-smi exists; a .venv
#   whose torch already sees the GPU is kept), the device-parametrized tests on the GPU
#   (pytest -k cuda), gradviz doctor, gradviz bench --json, and the default demo trained on the
#   GPU headless (gradviz train) and in the window (offscreen, gradviz --screenshot).
# Everything goes to one folder: $OUT if set, else ./gpu-check-out (or --out DIR):
#   summary.txt  one line per step (ok / FAILED / TIMEOUT / NONE / SKIPPED) and the facts
#   log.txt      every step's output, in order
#   doctor.json  bench.json  window.png
# Exit 0 when every step passed, 1 otherwise.
#
#   scripts/gpu_check.sh                 on a machine with an NVIDIA GPU
#   scripts/gpu_check.sh --device cpu    the same steps on the CPU, reduced (to try the script)
#   options: --device cuda|mps|cpu  --out DIR  --steps N (demo steps, default 300)
#            --no-setup (use .venv as it is)  --full-bench (gradviz bench without --quick)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1  # the repository root, wherever it is called from

DEVICE=cuda
OUT_DIR=${OUT:-./gpu-check-out}
STEPS=300
SETUP=1
BENCH_MODE=--quick
BUDGET_S=570  # 10 minutes less a margin for the summary
while [ $# -gt 0 ]; do
    case "$1" in
        --device) DEVICE=$2; shift 2 ;;
        --out) OUT_DIR=$2; shift 2 ;;
        --steps) STEPS=$2; shift 2 ;;
        --no-setup) SETUP=0; shift ;;
        --full-bench) BENCH_MODE=; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "gpu_check.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$DEVICE" in cuda|mps|cpu) ;; *) echo "gpu_check.sh: --device must be cuda, mps or cpu" >&2; exit 2 ;; esac
case "$STEPS" in ''|*[!0-9]*) echo "gpu_check.sh: --steps must be a number" >&2; exit 2 ;; esac

# The reduced CPU form: one test file, 30 demo steps, the quick doctor and bench.
TESTS=(tests/core)
DOCTOR_ARGS=()
if [ "$DEVICE" = cpu ]; then
    TESTS=(tests/core/test_models.py)
    DOCTOR_ARGS=(--quick)
    [ "$STEPS" = 300 ] && STEPS=30
fi

mkdir -p "$OUT_DIR" || exit 1
OUT_DIR=$(cd "$OUT_DIR" && pwd)
SUMMARY=$OUT_DIR/summary.txt
LOG=$OUT_DIR/log.txt
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
: >"$LOG"
PY=.venv/bin/python
GRADVIZ=.venv/bin/gradviz
STARTED=$(date +%s)
RESULTS=()

# run_step NAME CAP_SECONDS COMMAND...: runs it with a time limit (its cap, or what is left of
# the budget), keeps its output in $SCRATCH/NAME.out and log.txt, and records its result line.
run_step() {
    local name=$1 cap=$2
    shift 2
    local left=$((BUDGET_S - ($(date +%s) - STARTED)))
    if [ "$left" -lt 10 ]; then
        RESULTS+=("$(printf '%-12s NOT RUN: the 10-minute budget is spent' "$name")")
        return 1
    fi
    [ "$cap" -gt "$left" ] && cap=$left
    local begin code status
    begin=$(date +%s)
    timeout --kill-after=10 "$cap" "$@" >"$SCRATCH/$name.out" 2>&1
    code=$?
    case $code in
        0) status=ok ;;
        124|137) status="TIMEOUT after ${cap} s" ;;
        *) status="FAILED (exit $code)" ;;
    esac
    if [ "$name" = tests ] && [ $code -eq 5 ]; then  # pytest's "no test was selected"
        status="NONE: no test id matched -k $DEVICE (device-parametrized tests not in this checkout?)"
    fi
    { echo "===== $name: $* (limit ${cap} s)"; cat "$SCRATCH/$name.out"; echo "===== $name: $status"; } >>"$LOG"
    RESULTS+=("$(printf '%-12s %-44s %4s s' "$name" "$status" "$(($(date +%s) - begin))")")
    return $code
}

summary() {
    local failed=0 line
    for line in "${RESULTS[@]}"; do
        case "$line" in *FAILED*|*TIMEOUT*|*"NOT RUN"*) failed=1 ;; esac
    done
    {
        echo "gradviz GPU check, device $DEVICE, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
        command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | sed 's/^/gpu: /'
        [ -x "$PY" ] && "$PY" -c 'import torch; print(f"torch: {torch.__version__}, CUDA {torch.version.cuda}, GPU seen: {torch.cuda.is_available()}")' 2>/dev/null
        echo
        printf '%s\n' "${RESULTS[@]}"
        echo
        grep -h -E '^[0-9]+ steps in ' "$SCRATCH/train.out" 2>/dev/null | sed 's/^/headless demo: /'
        grep -h -E '^wrote .* at step ' "$SCRATCH/window.out" 2>/dev/null | sed 's/^/window: /'
        grep -h -E 'checks passed' "$SCRATCH/doctor.out" 2>/dev/null | sed 's/^/doctor: /'
        grep -h -E '(passed|failed|skipped|deselected|error)' "$SCRATCH/tests.out" 2>/dev/null | tail -1 | sed 's/^/tests: /'
        echo "total: $(($(date +%s) - STARTED)) s; every step's output is in log.txt"
        if [ $failed -eq 0 ]; then echo "RESULT: every step passed"; else echo "RESULT: a step failed (see above and log.txt)"; fi
    } >"$SUMMARY"
    cat "$SUMMARY"
    return $failed
}

# 1. Set-up: ./dev decides the torch build (the CUDA one from PyPI where nvidia-smi exists).
if [ "$DEVICE" = cuda ] && ! command -v nvidia-smi >/dev/null 2>&1; then
    echo "gpu_check.sh: no nvidia-smi here: is this a machine with an NVIDIA GPU? (--device cpu tries the script)" >&2
fi
if [ $SETUP -eq 1 ]; then
    run_step setup 300 ./dev setup
else
    RESULTS+=("$(printf '%-12s SKIPPED (--no-setup)' setup)")
fi
if [ ! -x "$PY" ]; then
    RESULTS+=("$(printf '%-12s FAILED: no .venv/bin/python, nothing else can run' environment)")
    summary
    exit 1
fi
# 2. The device is there for torch (else every later step would only repeat that).
if ! run_step device 90 "$PY" -c "
import sys, torch
from gradviz.engine.device import choose_device, describe_device
print(torch.__version__, 'CUDA', torch.version.cuda, '->', describe_device(choose_device(sys.argv[1])))
" "$DEVICE"; then
    summary
    exit 1
fi
# 3. The device-parametrized tests on this device (ids such as test_x[cuda]).
run_step tests 180 env QT_QPA_PLATFORM=offscreen "$PY" -m pytest -q -p no:cacheprovider -k "$DEVICE" \
    "${TESTS[@]}"
# 4. gradviz doctor on this device.
run_step doctor 120 "$GRADVIZ" doctor --device "$DEVICE" ${DOCTOR_ARGS[@]+"${DOCTOR_ARGS[@]}"} --json "$OUT_DIR/doctor.json"
# 5. What watching costs on this device (the table for docs/PERFORMANCE.md).
run_step bench 200 "$GRADVIZ" bench --device "$DEVICE" $BENCH_MODE --json "$OUT_DIR/bench.json"
# 6. The default demo, headless, on this device.
run_step train 90 "$GRADVIZ" train --preset vanishing --device "$DEVICE" --steps "$STEPS" --out "$SCRATCH/demo.npz"
# 7. The same in the window, offscreen (its trainer child trains on the device).
"$PY" -c "
import sys
from gradviz.config import with_overrides
from gradviz.presets import load_preset
print(with_overrides(load_preset('vanishing').config, {'device': sys.argv[1]}).to_json())
" "$DEVICE" >"$SCRATCH/window.json"
run_step window 120 env QT_QPA_PLATFORM=offscreen "$GRADVIZ" --config "$SCRATCH/window.json" \
    --screenshot "$OUT_DIR/window.png" --force --size 1280x800 --steps "$STEPS"

summary
