#!/usr/bin/env bash
# Test accuracy across seeds: the same recipe (MLP: 5 epochs, batch 32, Keras's default; CNN:
# 3 epochs, batch 64) trained by tch-keras, by a plain PyTorch eager loop
# and by Keras 3 (torch backend) with seeds 0..N-1, to tell seed variance from a difference
# between implementations.
#
# Usage: benches/seeds.sh [--model mlp|cnn] [--seeds N] [--device cpu|cuda] [--out DIR]
#                         [--only tch-keras|pytorch-eager|keras-torch]
# Environment: TCH_KERAS_BIN, PYTHON as for benches/compare.sh (see benches/peers.sh). Keras runs
# on the CPU only.
# Writes OUT/seeds-MODEL.jsonl (one line per run) and prints a summary per implementation
# (default OUT: bench-out).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
MODEL=cnn SEEDS=8 DEVICE=cpu OUT=bench-out ONLY=
while [ $# -gt 0 ]; do
    case $1 in
    --model) MODEL=$2; shift 2 ;;
    --seeds) SEEDS=$2; shift 2 ;;
    --device) DEVICE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
case $MODEL in mlp) EPOCHS=5 BATCH=32 ;; cnn) EPOCHS=3 BATCH=64 ;; *) echo "unknown model $MODEL" >&2; exit 2 ;; esac
# shellcheck source=benches/peers.sh
. benches/peers.sh
mkdir -p "$OUT"
LOG=$OUT/seeds-$MODEL.jsonl
: >"$LOG"
TMP=$(mktemp)
trap 'rm -f "$TMP"' EXIT

want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }
record() { # implementation seed file
    $PYTHON - "$1" "$2" "$3" >>"$LOG" <<'EOF'
import json, sys
name, seed, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
text = open(path).read()
try:
    run = json.loads(text)  # a tch-keras report
except ValueError:  # a peer's output: its result is the last line
    lines = [l for l in text.splitlines() if l.startswith("{")]
    run = json.loads(lines[-1]) if lines else {}
print(json.dumps({"implementation": name, "seed": seed, "test_accuracy": run.get("test_accuracy")}))
EOF
    tail -n 1 "$LOG" >&2
}
for seed in $(seq 0 $((SEEDS - 1))); do
    if want tch-keras; then
        "$TCH_KERAS_BIN" --model "$MODEL" --epochs $EPOCHS --batch-size $BATCH --device "$DEVICE" --seed "$seed" --verbose 0 \
            --data-dir "$DATA" --report "$TMP" >/dev/null && record tch-keras "$seed" "$TMP"
    fi
    if want pytorch-eager; then
        $PYTHON benches/pytorch_eager.py --model "$MODEL" --epochs $EPOCHS --batch-size $BATCH --device "$DEVICE" \
            --seed "$seed" --data-dir "$DATA" >"$TMP" && record pytorch-eager "$seed" "$TMP"
    fi
    if want keras-torch && [ -f "$KERAS_DIR/.complete" ] && [ "$DEVICE" = cpu ]; then
        env PYTHONPATH="$KERAS_PATH" KERAS_BACKEND=torch CUDA_VISIBLE_DEVICES= $PYTHON -W ignore \
            benches/keras_peer.py --model "$MODEL" --epochs $EPOCHS --batch-size $BATCH --seed "$seed" --data-dir "$DATA" >"$TMP" &&
            record keras-torch "$seed" "$TMP"
    fi
done
$PYTHON - "$LOG" <<'EOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
for name in dict.fromkeys(r["implementation"] for r in runs):
    acc = [r["test_accuracy"] for r in runs if r["implementation"] == name and r["test_accuracy"] is not None]
    if not acc:
        continue
    sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
    print(f"{name:14} runs {len(acc):2}  mean {statistics.mean(acc):.4f}  sd {sd:.4f}  "
          f"min {min(acc):.4f}  max {max(acc):.4f}  values {' '.join(f'{a:.4f}' for a in acc)}")
EOF
