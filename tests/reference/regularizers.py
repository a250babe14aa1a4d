"""Reference numbers for tests/regularizers.rs, computed with Keras 3 (torch backend).

Run: KERAS_BACKEND=torch PYTHONPATH=<py-keras>:<torch> python3 tests/reference/regularizers.py

A two-layer Dense model with regularized kernels and bias, fixed weights and data, trained
with SGD without shuffling. Inputs and weights are `vals(shape, offset, scale)`:
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
Y = vals((6, 1), 1.1)
SW = np.array([1.0, 2.0, 0.5, 1.0, 3.0, 1.0], dtype=np.float32)
W0, B0 = vals((3, 4), 0.5, 0.5), vals((3,), 0.9, 0.2)
W1, B1 = vals((1, 3), 1.7, 0.5), vals((1,), 2.1, 0.2)


def model(frozen=False):
    m = keras.Sequential(
        [
            keras.Input((4,)),
            layers.Dense(
                3,
                activation="tanh",
                kernel_regularizer=regularizers.L2(0.1),
                bias_regularizer=regularizers.L1(0.05),
            ),
            layers.Dense(1, kernel_regularizer=regularizers.L1L2(l1=0.02, l2=0.03)),
        ]
    )
    m.set_weights([W0.T, B0, W1.T, B1])
    if frozen:
        m.layers[0].trainable = False
    m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return m


def weights(m):
    # Back in tch-keras's layout and order (per layer: bias, then weight).
    k0, b0, k1, b1 = m.get_weights()
    return np.concatenate([b0, k0.T.reshape(-1), b1, k1.T.reshape(-1)])


m = model()
plain = keras.losses.MeanSquaredError()(Y, m.predict(X, verbose=0))
show("loss without penalty at the start", plain)
show("evaluate at the start (loss + penalty)", m.evaluate(X, Y, batch_size=3, verbose=0))
h = m.fit(X, Y, batch_size=3, epochs=2, shuffle=False, verbose=0, validation_data=(X, Y))
show("fit: loss per epoch", h.history["loss"])
show("fit: val_loss per epoch", h.history["val_loss"])
show("fit: weights after (bias0, weight0, bias1, weight1)", weights(m))
show("evaluate after", m.evaluate(X, Y, batch_size=3, verbose=0))

m = model()
h = m.fit(X, Y, sample_weight=SW, batch_size=3, epochs=1, shuffle=False, verbose=0)
show("weighted fit: loss", h.history["loss"])
show("weighted fit: weights after", weights(m))

m = model(frozen=True)
show("frozen first layer: evaluate at the start", m.evaluate(X, Y, batch_size=3, verbose=0))
h = m.fit(X, Y, batch_size=3, epochs=1, shuffle=False, verbose=0)
show("frozen first layer: fit loss", h.history["loss"])
show("frozen first layer: weights after", weights(m))

m = model()
show("train_on_batch on the first 3 samples: loss", m.train_on_batch(X[:3], Y[:3]))
show("then test_on_batch on the last 3: loss", m.test_on_batch(X[3:], Y[3:]))
