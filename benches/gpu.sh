#!/usr/bin/env bash
# The GPU run, for a machine with an NVIDIA GPU and PyTorch 2.11 for Python but no Rust
# toolchain. Build the bundle first on any machine with scripts/gpu-bundle.sh, then, from the
# repository root on the GPU machine:
#
#   OUT=/some/folder benches/gpu.sh
#
# It runs the GPU tests, the recipe's MLP (5 epochs) and CNN (3 epochs) on cuda with reports
# (float32 and bf16), the bench mode at batch 64/256/1024 with each speed switch, and, on the
# same card, the peers at batch 64/256/1024: PyTorch eager (pytorch-*), the whole training
# step under torch.compile in default mode and in mode="reduce-overhead", PyTorch's own CUDA
# graphs (pytorch-compile-default-*, pytorch-compile-ro-*; compilation is untimed, reported as
# compile_seconds), and Keras 3 on the torch backend (keras-torch-*, where Keras imports; see
# KERAS_PATH below). Everything goes under $OUT; every step has a time limit (90 s at most) and
# writes its output as it finishes; at the end benches/summarize.py --gpu writes the table of
# ms per step, tch-keras against each peer at each batch size, to $OUT/peers.{md,json}.
#
# Time: the steps up to the PyTorch eager peer take about 4 minutes on an H100/H200 (measured);
# the 12 torch.compile steps add an estimated 4-6 minutes (Inductor compiles two batch shapes
# per step; kernels shared between steps come from its cache in /tmp) and the 6 Keras steps
# about 2, so about 10-12 minutes in all. Run a part with ONLY, a regular expression matched
# against the step names, e.g. ONLY='^pytorch-compile-ro-' or ONLY='^(bench|pytorch-|keras-)'.
#
# KERAS_PATH: a folder put on PYTHONPATH for the Keras steps (Keras 3 and numpy installed with
# `pip install --target` for this machine's Python), when $PYTHON cannot import keras itself.
# Without an importable Keras the Keras steps are skipped, with the reason in log.txt.
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
skip() { # name reason: logs a step that cannot run here, when ONLY selects it
    [[ $1 =~ $ONLY ]] || return 0
    log "$1: skipped: $2"
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
# The wide CNN at batch 1024, where the GPU's arithmetic bounds the step: bench rows report
# train_gflop_per_sample and tflops (float32, TF32 on, bf16), two trained epochs with their
# accuracy, and the PyTorch eager peer of the same model.
WIDE=("$TCH_KERAS_BIN" bench --device cuda --models cnn-wide --batch-sizes 1024 --steps 40 --warmup 10 --repeats 3 --data-dir "$DATA")
step bench-wide 90 "${WIDE[@]}" --report "$OUT/bench-wide.json"
step bench-wide-tf32-on 90 "${WIDE[@]}" --tf32 on --report "$OUT/bench-wide-tf32-on.json"
step bench-wide-bf16 90 "${WIDE[@]}" --precision bf16 --report "$OUT/bench-wide-bf16.json"
step cnn-wide 90 "${BIN[@]}" --model cnn-wide --epochs 2 --report "$OUT/cnn-wide.json"
step cnn-wide-bf16 90 "${BIN[@]}" --model cnn-wide --epochs 2 --precision bf16 --report "$OUT/cnn-wide-bf16.json"
step pytorch-cnn-wide-b1024 90 $PYTHON -W ignore benches/pytorch_eager.py --device cuda --data-dir "$DATA" \
    --model cnn-wide --epochs 2 --batch-size 1024
step pytorch-cnn-wide-b1024-bf16 90 $PYTHON -W ignore benches/pytorch_eager.py --device cuda --data-dir "$DATA" \
    --model cnn-wide --epochs 2 --batch-size 1024 --precision bf16
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
# torch.compile of the whole training step (forward, loss, backward, Adam), default mode and
# reduce-overhead (CUDA graphs), two epochs after an untimed warm-up that compiles both batch
# shapes (the full batch and the last, partial one).
for model in mlp cnn; do
    for b in 64 256 1024; do
        step "pytorch-compile-default-$model-b$b" 90 "${PEER[@]}" --model $model --epochs 2 --batch-size $b --compile default
        step "pytorch-compile-ro-$model-b$b" 90 "${PEER[@]}" --model $model --epochs 2 --batch-size $b --compile reduce-overhead
    done
done
# Keras 3 on the torch backend (on the GPU when torch sees one), two epochs; the first holds
# Keras's start-up.
KERAS_PY=${KERAS_PATH:-}
[ -n "${PYTHONPATH:-}" ] && KERAS_PY=${KERAS_PY:+$KERAS_PY:}$PYTHONPATH
KERAS=(env KERAS_BACKEND=torch PYTHONPATH="$KERAS_PY" $PYTHON -W ignore)
keras_missing=
if ! "${KERAS[@]}" -c 'import keras, numpy' >/dev/null 2>"$OUT/keras-import.err"; then
    keras_missing="keras and numpy do not import with $PYTHON (PYTHONPATH=$KERAS_PY): $(tail -n 1 "$OUT/keras-import.err"); set KERAS_PATH"
fi
for model in mlp cnn; do
    for b in 64 256 1024; do
        if [ -n "$keras_missing" ]; then
            skip "keras-torch-$model-b$b" "$keras_missing"
        else
            step "keras-torch-$model-b$b" 90 "${KERAS[@]}" benches/keras_peer.py --model $model --epochs 2 --batch-size $b --data-dir "$DATA"
        fi
    done
done
# The ms-per-step table of tch-keras and the peers: $OUT/peers.{md,json}.
$PYTHON benches/summarize.py --gpu "$OUT" >/dev/null 2>>"$OUT/log.txt" || log "summarize.py --gpu failed"
rm -rf "$OUT/.mnist"
log "done"
