# Sourced by benches/compare.sh and benches/seeds.sh (after `cd` to the repository root): the
# cache, the MNIST folder, the tch-keras binary (set up and built unless TCH_KERAS_BIN is set),
# a python3 with torch 2.11 (PYTHON, default: python3 with the wheel scripts/setup.sh installed)
# and Keras 3 with numpy installed into the cache for the Keras peer.
# Sets CACHE, DATA, TCH_KERAS_BIN, PYTHON, KERAS_DIR (with .complete when usable), KERAS_PATH
# (PYTHONPATH for the Keras peer) and HAVE_TF (1 when Keras's TensorFlow backend imports).
CACHE=${TCH_KERAS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tch-keras}
DATA=$CACHE/data/mnist
if [ -z "${TCH_KERAS_BIN:-}" ]; then
    scripts/setup.sh
    cargo build --release --quiet
    TCH_KERAS_BIN=$PWD/target/release/tch-keras
fi
if [ -z "${PYTHON:-}" ]; then
    PYTHON=python3
    export PYTHONPATH=$CACHE/torch-2.11.0${PYTHONPATH:+:$PYTHONPATH}
fi
KERAS_DIR=$CACHE/py-keras
if [ ! -f "$KERAS_DIR/.complete" ]; then
    echo "$(basename "$0"): installing keras into $KERAS_DIR" >&2
    rm -rf "$KERAS_DIR"
    $PYTHON -m pip install --quiet --no-cache-dir --disable-pip-version-check --root-user-action=ignore \
        --target "$KERAS_DIR" keras numpy && touch "$KERAS_DIR/.complete" ||
        echo "$(basename "$0"): keras could not be installed; its runs are skipped" >&2
fi
KERAS_PATH=$KERAS_DIR${PYTHONPATH:+:$PYTHONPATH}
HAVE_TF=0
if PYTHONPATH=$KERAS_PATH $PYTHON -c 'import tensorflow' 2>/dev/null; then HAVE_TF=1; fi
