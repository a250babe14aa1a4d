#!/bin/bash
# Measurements for BENCHMARKS.md on a quiet machine: before (3410807) and after, alternating,
# with the PyTorch eager peer as compare.sh runs it, then data-parallel throughput.
OLD=/work/wt-old/target/release/tch-keras
NEW=/work/main/target/release/tch-keras
DATA=/root/.cache/tch-keras/data/mnist
OUT=/tmp/bench/final; rm -rf $OUT; mkdir -p $OUT; cd /work/main
export PYTHONPATH=/root/.cache/tch-keras/torch-2.11.0
uptime > $OUT/uptime-start.txt
for i in 1 2; do
  for v in old new; do
    B=$OLD; [ $v = new ] && B=$NEW
    $B bench --device cpu --models mlp,cnn --batch-sizes 64,256 --steps 50 --warmup 5 --repeats 3 --report $OUT/bench-$v-$i.json > $OUT/bench-$v-$i.md 2>&1
  done
done
for m in mlp cnn; do
  e=5; [ $m = cnn ] && e=3
  for v in old new; do
    B=$OLD; [ $v = new ] && B=$NEW
    $B --model $m --epochs $e --batch-size 64 --no-validation --verbose 0 --data-dir $DATA --report $OUT/epochs-$m-$v.json > /dev/null 2>&1
  done
  python3 -W ignore benches/pytorch_eager.py --model $m --epochs $e --batch-size 64 --device cpu --data-dir $DATA 2>/dev/null | tail -n 1 > $OUT/epochs-$m-pytorch.json
done
# Data-parallel: 1 process x 2 threads vs 2 processes x 1 thread (same global batch 64).
for m in cnn mlp; do
  $NEW --model $m --epochs 2 --batch-size 64 --no-validation --verbose 0 --report $OUT/dp-$m-1x2.json > /dev/null 2>&1
  python3 -m torch.distributed.run --no-python --nproc-per-node 2 $NEW --model $m --epochs 2 --batch-size 32 --no-validation --verbose 0 --report $OUT/dp-$m-2x1.json > /dev/null 2>&1
done
python3 -m torch.distributed.run --no-python --nproc-per-node 2 /work/main/target/release/examples/dist_bench 39735 1000 > $OUT/allreduce.txt 2>&1
uptime > $OUT/uptime-end.txt
echo done
