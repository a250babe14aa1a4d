#!/usr/bin/env bash
# Side-by-side benchmark: tch-keras against a plain PyTorch eager loop and Keras 3 (torch
# backend, and TensorFlow backend where installed) on the same MNIST files, models, batch size
# and epochs, run alternately in one go. Then `tch-keras bench` for ms/step at several batch
# sizes and the cost of fit over a hand-written tch loop.
#
# Usage: benches/compare.sh [--device cpu|cuda] [--rounds N] [--out DIR]
# Environment:
#   TCH_KERAS_BIN  the release binary to time (default: target/release/tch-keras, built if absent)
#   PYTHON         a python3 with torch 2.11 (default: python3 with the wheel scripts/setup.sh
#                  installed on its PYTHONPATH)
#   MLP_EPOCHS / CNN_EPOCHS / BATCH   defaults 5 / 3 / 64, the recipe's
# Writes OUT/runs/*.json, OUT/bench.json and OUT/summary.{md,json} (default OUT: bench-out).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DEVICE=cpu ROUNDS=2 OUT=bench-out
while [ $# -gt 0 ]; do
    case $1 in
    --device) DEVICE=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
MLP_EPOCHS=${MLP_EPOCHS:-5} CNN_EPOCHS=${CNN_EPOCHS:-3} BATCH=${BATCH:-64}
# shellcheck source=benches/peers.sh
. benches/peers.sh

rm -rf "$OUT/runs"
mkdir -p "$OUT/runs"
n=0
run() { # name command...
    n=$((n + 1))
    local file
    file=$OUT/runs/$(printf '%03d' $n)-$1.json
    shift
    echo "compare: $*" >&2
    "$@" >"$file.out" 2>"$file.err" || { echo "compare: failed, see $file.err" >&2; return 0; }
    tail -n 1 "$file.out" >"$file"
    rm -f "$file.out"
}
for round in $(seq "$ROUNDS"); do
    for model in mlp cnn; do
        epochs=$MLP_EPOCHS
        [ $model = cnn ] && epochs=$CNN_EPOCHS
        n=$((n + 1))
        echo "compare: tch-keras $model round $round" >&2
        "$TCH_KERAS_BIN" --model $model --epochs "$epochs" --batch-size "$BATCH" --device "$DEVICE" \
            --no-validation --verbose 0 --data-dir "$DATA" --report "$OUT/runs/$(printf '%03d' $n)-tch-keras.json" >/dev/null
        run pytorch-eager $PYTHON -W ignore benches/pytorch_eager.py --model $model --epochs "$epochs" \
            --batch-size "$BATCH" --device "$DEVICE" --data-dir "$DATA"
        if [ -f "$KERAS_DIR/.complete" ]; then
            run keras-torch env PYTHONPATH="$KERAS_PATH" KERAS_BACKEND=torch $PYTHON -W ignore benches/keras_peer.py \
                --model $model --epochs "$epochs" --batch-size "$BATCH" --data-dir "$DATA"
        fi
        if [ $HAVE_TF = 1 ]; then
            run keras-tensorflow env PYTHONPATH="$KERAS_PATH" KERAS_BACKEND=tensorflow $PYTHON -W ignore \
                benches/keras_peer.py --model $model --epochs "$epochs" --batch-size "$BATCH" --data-dir "$DATA"
        fi
    done
done
echo "compare: tch-keras bench" >&2
"$TCH_KERAS_BIN" bench --device "$DEVICE" --data-dir "$DATA" --report "$OUT/bench.json" | tee "$OUT/bench.md"
echo
$PYTHON benches/summarize.py "$OUT"
