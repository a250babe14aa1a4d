"""Reference numbers for tests/activity.rs, computed with Keras 3.15.1 (torch backend).

Run: KERAS_BACKEND=torch PYTHONPATH=<py-keras>:<torch> python3 tests/reference/keras_activity.py

Dense models with activity regularizers (l1, l2, l1_l2; on hidden layers and on the output
layer after its sigmoid) and a model with an ActivityRegularization layer, fixed weights and
data, trained with SGD without shuffling. Inputs and weights are `vals(shape, offset, scale)`:
sin(0.7 * i + offset) * scale over the flattened shape, the formula the Rust test uses.
Weights are given in tch-keras's layout ([units, in]) and transposed here to Keras's kernels.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np
import keras
from keras import layers, regularizers


def vals(shape, offset, scale=1.0):
    n = int(np.prod(shape))
    return (np.sin(np.arange(n, dtype=np.float64) * 0.7 + offset) * scale).astype(np.float32).reshape(shape)


def show(name, v):
    v = np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float64).reshape(-1)
    print(f"// {name}")
    print("&[" + ", ".join(f"{x:.7}" for x in v) + "],")


X = vals((6, 4), 0.3)
Y = vals((6, 1), 1.1) * 0.5 + 0.5
W0, B0 = vals((3, 4), 0.5, 0.5), vals((3,), 0.9, 0.2)
W1, B1 = vals((2, 3), 1.7, 0.5), vals((2,), 2.1, 0.2)
W2, B2 = vals((1, 2), 2.9, 0.5), vals((1,), 3.1, 0.2)


def stacked(frozen=False):
    m = keras.Sequential(
        [
            keras.Input((4,)),
            layers.Dense(3, activation="tanh", activity_regularizer=regularizers.L2(0.1)),
            layers.Dense(2, activity_regularizer=regularizers.L1(0.05)),
            layers.Dense(1, activation="sigmoid", activity_regularizer=regularizers.L1L2(l1=0.02, l2=0.03)),
        ]
    )
    m.set_weights([W0.T, B0, W1.T, B1, W2.T, B2])
    if frozen:
        m.layers[0].trainable = False
    m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return m


def with_layer():
    m = keras.Sequential(
        [
            keras.Input((4,)),
            layers.Dense(3, activation="tanh"),
            layers.ActivityRegularization(l1=0.02, l2=0.05),
            layers.Dense(1),
        ]
    )
    m.set_weights([W0.T, B0, vals((1, 3), 1.7, 0.5).T, vals((1,), 2.1, 0.2)])
    m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return m


def weights(m):
    # Back in tch-keras's layout and order (per layer: bias, then weight).
    w = m.get_weights()
    parts = []
    for k, b in zip(w[0::2], w[1::2]):
        parts += [b, k.T.reshape(-1)]
    return np.concatenate(parts)


m = stacked()
plain = keras.losses.MeanSquaredError()(Y, m.predict(X, verbose=0))
show("stacked: loss without penalty at the start", plain)
show("stacked: evaluate, batch 3", m.evaluate(X, Y, batch_size=3, verbose=0))
show("stacked: evaluate, batch 4 (batches of 4 and 2)", m.evaluate(X, Y, batch_size=4, verbose=0))
h = m.fit(X, Y, batch_size=3, epochs=2, shuffle=False, verbose=0, validation_data=(X, Y))
show("stacked: fit loss per epoch", h.history["loss"])
show("stacked: fit val_loss per epoch", h.history["val_loss"])
show("stacked: weights after (per layer bias, weight)", weights(m))

m = stacked(frozen=True)
show("stacked, first layer frozen: evaluate, batch 3", m.evaluate(X, Y, batch_size=3, verbose=0))
h = m.fit(X, Y, batch_size=3, epochs=1, shuffle=False, verbose=0)
show("stacked, first layer frozen: fit loss", h.history["loss"])
show("stacked, first layer frozen: weights after", weights(m))

m = with_layer()
show("ActivityRegularization: evaluate, batch 6", m.evaluate(X, Y, batch_size=6, verbose=0))
show("ActivityRegularization: train_on_batch on the first 3: loss", m.train_on_batch(X[:3], Y[:3]))
show("ActivityRegularization: then train_on_batch on the last 3: loss", m.train_on_batch(X[3:], Y[3:]))
show("ActivityRegularization: weights after", weights(m))
show("ActivityRegularization: then test_on_batch on all 6: loss", m.test_on_batch(X, Y))
