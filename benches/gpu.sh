#!/usr/bin/env bash
# The GPU run, for a machine with an NVIDIA GPU and PyTorch 2.11 for Python but no Rust
# toolchain. Build the bundle first on any machine with scripts/gpu-bundle.sh, then, from the
# repository root on the GPU machine:
#
#   OUT=/some/folder benches/gpu.sh
#
# It runs the GPU tests, the recipe's MLP (5 epochs) and CNN (3 epochs) on cuda with reports,
# the bench mode at batch 64/256/1024, and the PyTorch eager peer on the same card, writing
# everything under $OUT. Budget: well under 8 minutes on an H100/H200.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${OUT:-gpu-out}
BUNDLE=${BUNDLE:-gpu-bundle}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"
TORCH_LIB=$($PYTHON -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
export LD_LIBRARY_PATH=$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export TCH_KERAS_BIN=$PWD/$BUNDLE/tch-keras
DATA=${DATA:-$OUT/.mnist}
if [ ! -f "$DATA/train-images-idx3-ubyte" ]; then
    mkdir -p "$DATA"
    for f in "$BUNDLE"/mnist/*.gz; do gzip -dc "$f" >"$DATA/$(basename "$f" .gz)"; done
fi
log() { echo "gpu.sh: $*" | tee -a "$OUT/log.txt" >&2; }
step() { # name timeout command...
    local name=$1 limit=$2
    shift 2
    log "$name"
    local t0=$SECONDS
    timeout "$limit" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
    log "$name: exit $? in $((SECONDS - t0))s"
}
{
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
    $PYTHON -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
    date -u
} >"$OUT/machine.txt" 2>&1
step cuda-tests 120 "$BUNDLE/cuda-tests" --test-threads 1
step mlp 120 "$TCH_KERAS_BIN" --model mlp --device cuda --verbose 2 --data-dir "$DATA" --report "$OUT/mlp.json"
step cnn 150 "$TCH_KERAS_BIN" --model cnn --device cuda --verbose 2 --data-dir "$DATA" --report "$OUT/cnn.json"
step bench 150 "$TCH_KERAS_BIN" bench --device cuda --steps 200 --warmup 30 --data-dir "$DATA" --report "$OUT/bench.json"
for model in mlp cnn; do
    epochs=5
    [ $model = cnn ] && epochs=3
    step "pytorch-$model" 150 $PYTHON -W ignore benches/pytorch_eager.py --model $model --epochs $epochs \
        --batch-size 64 --device cuda --data-dir "$DATA"
done
rm -rf "$OUT/.mnist"
log "done"
