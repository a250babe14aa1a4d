#!/usr/bin/env bash
# The GPU run, for a machine with an NVIDIA GPU and PyTorch 2.11 for Python but no Rust
# toolchain. Build the bundle first on any machine with scripts/gpu-bundle.sh, then, from the
# repository root on the GPU machine:
#
#   OUT=/some/folder benches/gpu.sh
#
# It runs the GPU tests, the recipe's MLP (5 epochs) and CNN (3 epochs) on cuda with reports
# (float32 and bf16), the bench mode at batch 64/256/1024 with each speed switch, and the
# PyTorch eager peer on the same card, writing everything under $OUT. Every step has a time
# limit and writes its output as it finishes; the whole run takes a few minutes on an H100/H200.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${OUT:-gpu-out}
BUNDLE=${BUNDLE:-gpu-bundle}
PYTHON=${PYTHON:-python3}
if ! $PYTHON -c 'import torch' 2>/dev/null && [ -x /opt/torch/.venv/bin/python3 ]; then
    PYTHON=/opt/torch/.venv/bin/python3
fi
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
ONLY=${ONLY:-.} # a regular expression: run only the steps whose names match it
step() { # name timeout command...
    local name=$1 limit=$2
    shift 2
    [[ $name =~ $ONLY ]] || return 0
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
step cuda-fallback-tests 60 "$BUNDLE/cuda-fallback-tests"
step cuda-layers-tests 120 "$BUNDLE/cuda-layers-tests" --test-threads 1
# Data-parallel: NCCL (world of one, captured steps) and Gloo on CUDA tensors (two processes).
step distributed-tests 120 "$BUNDLE/distributed-fit-tests" --test-threads 1 nccl_world gloo_on_one_gpu
BIN=("$TCH_KERAS_BIN" --device cuda --verbose 2 --data-dir "$DATA")
# The recipe's runs (accuracy), then the same in bf16 mixed precision.
step mlp 90 "${BIN[@]}" --model mlp --report "$OUT/mlp.json"
step cnn 90 "${BIN[@]}" --model cnn --report "$OUT/cnn.json"
step mlp-bf16 90 "${BIN[@]}" --model mlp --precision bf16 --report "$OUT/mlp-bf16.json"
step cnn-bf16 90 "${BIN[@]}" --model cnn --precision bf16 --report "$OUT/cnn-bf16.json"
# Whole epochs at batch 64 without validation, as the PyTorch peer runs them, with CUDA graphs
# (the default) and with eager steps.
step mlp-b64 90 "${BIN[@]}" --model mlp --batch-size 64 --report "$OUT/mlp-b64.json"
step cnn-noval 90 "${BIN[@]}" --model cnn --no-validation --report "$OUT/cnn-noval.json"
step mlp-b64-eager 90 "${BIN[@]}" --model mlp --batch-size 64 --run-eagerly --report "$OUT/mlp-b64-eager.json"
step cnn-noval-eager 90 "${BIN[@]}" --model cnn --no-validation --run-eagerly --report "$OUT/cnn-noval-eager.json"
# Bench mode: plain float32 with LibTorch's defaults, then one switch at a time.
BENCH=("$TCH_KERAS_BIN" bench --device cuda --steps 200 --warmup 30 --repeats 3 --data-dir "$DATA")
step bench 90 "${BENCH[@]}" --report "$OUT/bench.json"
step bench-eager 90 "${BENCH[@]}" --run-eagerly --report "$OUT/bench-eager.json"
step bench-tf32-on 90 "${BENCH[@]}" --tf32 on --report "$OUT/bench-tf32-on.json"
step bench-tf32-off 90 "${BENCH[@]}" --tf32 off --report "$OUT/bench-tf32-off.json"
step bench-bf16 90 "${BENCH[@]}" --precision bf16 --report "$OUT/bench-bf16.json"
step bench-cudnn-benchmark 90 "${BENCH[@]}" --cudnn-benchmark --report "$OUT/bench-cudnn-benchmark.json"
# The PyTorch eager peer on the same card: the recipe's epochs at batch 64, two epochs at the
# larger batches, and the same switches at batch 64.
PEER=($PYTHON -W ignore benches/pytorch_eager.py --device cuda --data-dir "$DATA")
for model in mlp cnn; do
    epochs=5
    [ $model = cnn ] && epochs=3
    step "pytorch-$model" 120 "${PEER[@]}" --model $model --epochs $epochs --batch-size 64
    for b in 256 1024; do
        step "pytorch-$model-b$b" 60 "${PEER[@]}" --model $model --epochs 2 --batch-size $b
    done
    step "pytorch-$model-tf32-on" 60 "${PEER[@]}" --model $model --epochs 2 --batch-size 64 --tf32 on
    step "pytorch-$model-bf16" 60 "${PEER[@]}" --model $model --epochs 2 --batch-size 64 --precision bf16
done
rm -rf "$OUT/.mnist"
log "done"
