#!/usr/bin/env bash
# Builds what a GPU machine without a Rust toolchain needs, into gpu-bundle/: the release
# binary, the GPU test binaries (built with --features cuda-tests) and MNIST, gzipped. On the GPU machine, run benches/gpu.sh from the repository root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The CUDA headers are needed to build CUDA graphs and NCCL in, even on a machine without a GPU.
TCH_KERAS_CUDA_HEADERS=1 scripts/setup.sh
touch build.rs # headers that appeared since the last build are not noticed otherwise
rm -rf gpu-bundle
mkdir -p gpu-bundle
cargo build --release --features cuda-tests --quiet
cp target/release/tch-keras gpu-bundle/
# The GPU test binaries: tests/cuda.rs, cuda_fallback.rs, cuda_layers.rs, distributed_fit.rs.
tests=$(cargo test --release --features cuda-tests --test cuda --test cuda_fallback --test cuda_layers --test distributed_fit --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") in ("cuda", "cuda_fallback", "cuda_layers", "distributed_fit") and m.get("executable"):
        print(m["target"]["name"], m["executable"])')
while read -r name exe; do cp "$exe" "gpu-bundle/${name//_/-}-tests"; done <<<"$tests"
# MNIST, gzipped (about 11 MB), so the bundle fits what can be carried to the GPU machine.
mkdir -p gpu-bundle/mnist
cache=${TCH_KERAS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tch-keras}
for f in "$cache"/data/mnist/*-ubyte; do gzip -9 -c "$f" >"gpu-bundle/mnist/$(basename "$f").gz"; done
echo "gpu-bundle/: $(ls gpu-bundle | tr '\n' ' ')"
