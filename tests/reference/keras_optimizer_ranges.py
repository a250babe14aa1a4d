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

# A learning rate of 0 (a warm-up that starts at 0, a schedule's value 0) is accepted, and an
# update with it leaves the weights as they are. Keras does not check the learning rate's sign.
import numpy as np  # noqa: E402

for label, make in [
    ("adam learning_rate=0.0", lambda: O.Adam(learning_rate=0.0)),
    ("sgd learning_rate=0.0", lambda: O.SGD(learning_rate=0.0)),
    ("adam learning_rate=-0.1", lambda: O.Adam(learning_rate=-0.1)),
    ("piecewise values [0.0, 0.1]", lambda: O.Adam(O.schedules.PiecewiseConstantDecay([2], [0.0, 0.1]))),
]:
    try:
        make()
        print(f"{label}: accepted")
    except ValueError as e:
        print(f"{label}: ValueError: {e}")


def weights_after(optimizer, steps):
    m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="ones")])
    m.compile(optimizer=optimizer, loss="mse")
    x = np.array([[1.0, 2.0], [3.0, -1.0]], dtype="float32")
    y = np.array([[1.0], [0.5]], dtype="float32")
    m.fit(x, y, epochs=steps, batch_size=2, shuffle=False, verbose=0)
    return [w.reshape(-1).round(6).tolist() for w in m.get_weights()]


print("adam lr 0, 2 steps: weights", weights_after(O.Adam(learning_rate=0.0), 2))
opt = O.Adam(learning_rate=0.1)
opt.learning_rate = 0.0
print("adam lr set to 0.0: accepted, learning_rate", float(opt.learning_rate))
# PiecewiseConstantDecay: 0 for steps 0, 1, 2 (a warm-up; the moments still accumulate), then 0.1.
print("adam piecewise [0, 0.1] at 2, 4 steps: weights",
      weights_after(O.Adam(O.schedules.PiecewiseConstantDecay([2], [0.0, 0.1])), 4))
