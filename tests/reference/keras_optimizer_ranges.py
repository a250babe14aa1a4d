"""Which optimizer arguments Keras 3 itself rejects, for tests/optimizer_ranges.rs.

Run: KERAS_BACKEND=torch PYTHONPATH=$CACHE/py-keras:$CACHE/torch-2.11.0 python3 tests/reference/keras_optimizer_ranges.py
Keras 3.15 checks SGD's momentum ([0, 1]) when the optimizer is made; the other ranges the
Rust test checks are those its update rules need (a beta of 1 divides by zero in Adam's bias
correction, a negative epsilon or accumulator can take a square root of a negative number).
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402

O = keras.optimizers
for label, make in [
    ("sgd momentum=1.5", lambda: O.SGD(momentum=1.5)),
    ("sgd momentum=-0.1", lambda: O.SGD(momentum=-0.1)),
    ("sgd momentum=1.0", lambda: O.SGD(momentum=1.0)),
    ("sgd momentum=0.0", lambda: O.SGD(momentum=0.0)),
]:
    try:
        make()
        print(f"{label}: accepted")
    except ValueError as e:
        print(f"{label}: ValueError: {e}")
