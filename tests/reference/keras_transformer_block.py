"""Reference numbers for tests/transformer_block.rs, computed with Keras 3.15.1 (torch backend).

Run: KERAS_BACKEND=torch PYTHONPATH=<py-keras>:<torch> python3 tests/reference/keras_transformer_block.py

A post-norm transformer encoder block written with Keras's functional API (the model
tests/transformer_block.rs builds from `Residual` blocks in a `Sequential`):
  x -> Add([x, MHA(x, x)]) -> LayerNorm -> Add([., Dense(8, relu) -> Dense(4)]) -> LayerNorm
    -> Flatten -> Dense(3)
Every input and weight is `vals(shape, offset, scale)`: sin(0.7 * i + offset) * scale over the
flattened shape, in Keras's layout (the Rust test transposes Dense kernels to its [out, in]).
Weight k of the model (Keras's order) has offset 0.2 + 0.3 * k and scale 0.5 (kernels) or 0.1
(biases, betas); a LayerNormalization's gamma is 1 + vals(shape, offset, 0.1).
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np
import keras
from keras import layers


def vals(shape, offset, scale=1.0):
    n = int(np.prod(shape))
    return (np.sin(np.arange(n, dtype=np.float64) * 0.7 + offset) * scale).astype(np.float32).reshape(shape)


def show(name, y):
    y = np.asarray(keras.ops.convert_to_numpy(y), dtype=np.float64)
    print(f"// {name}: shape {list(y.shape)}")
    print("&[" + ", ".join(f"{v:.7}" for v in y.reshape(-1)) + "],")


def block(causal):
    inp = keras.Input((5, 4))
    a = layers.MultiHeadAttention(num_heads=2, key_dim=3)(inp, inp, use_causal_mask=causal)
    x = layers.LayerNormalization()(layers.Add()([inp, a]))
    f = layers.Dense(4)(layers.Dense(8, activation="relu")(x))
    x = layers.LayerNormalization()(layers.Add()([x, f]))
    out = layers.Dense(3)(layers.Flatten()(x))
    m = keras.Model(inp, out)
    ws = []
    for k, w in enumerate(m.weights):
        off = 0.2 + 0.3 * k
        if w.path.endswith("gamma"):
            ws.append(1.0 + vals(w.shape, off, 0.1))
        elif "kernel" in w.path:
            ws.append(vals(w.shape, off, 0.5))
        else:
            ws.append(vals(w.shape, off, 0.1))
    m.set_weights(ws)
    return m


x = vals((2, 5, 4), 0.1)
y = vals((2, 3), 0.9)
for causal in (False, True):
    m = block(causal)
    tag = "causal" if causal else "full"
    print(f"// {tag} weights:", [(w.path, tuple(w.shape)) for w in m.weights])
    print(f"// {tag} params", m.count_params())
    show(f"{tag} predict", m(x))
    m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    h = m.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0)
    print(f"// {tag} losses per epoch {h.history['loss']}")
    show(f"{tag} predict after fit", m(x))
    show(f"{tag} after fit query kernel", m.weights[0])
    show(f"{tag} after fit last kernel", m.weights[-2])
