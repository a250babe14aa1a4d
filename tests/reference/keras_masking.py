"""Reference numbers for tests/masking.rs (masks from Embedding(mask_zero=True) and Masking through
recurrent layers, GlobalAveragePooling1D and the loss), computed with Keras 3.15.1 (torch backend).

Run: KERAS_BACKEND=torch PYTHONPATH=<py-keras>:<torch> python3 tests/reference/keras_masking.py

Inputs and weights are `vals(shape, offset, scale)`: sin(0.7 * i + offset) * scale over the
flattened shape, the formula the Rust test uses. Weights are given in tch-keras's layout
(PyTorch's: weight_ih [gates * units, features], Dense weight [units, inputs]) and converted here
to Keras's.
"""
import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np
import keras
from keras import layers

warnings.simplefilter("ignore")


def vals(shape, offset, scale=1.0):
    n = int(np.prod(shape))
    return (np.sin(np.arange(n, dtype=np.float64) * 0.7 + offset) * scale).astype(np.float32).reshape(shape)


def show(name, y):
    y = np.asarray(keras.ops.convert_to_numpy(y), dtype=np.float64)
    print(f"// {name}: shape {list(y.shape)}")
    print("&[" + ", ".join(f"{v:.7}" for v in y.reshape(-1)) + "],")


def keras_gates(a):
    """PyTorch's GRU gate blocks r, z, n to Keras's z, r, h."""
    u = a.shape[0] // 3
    return np.concatenate([a[u:2 * u], a[:u], a[2 * u:]], axis=0)


GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def direction(kind, units, features, offset):
    """One direction's weights in Keras's layout, from tch-keras's (as tests/masking.rs's `direction`)."""
    g = GATES[kind] * units
    w_ih, w_hh = vals((g, features), offset, 0.5), vals((g, units), offset + 0.1, 0.5)
    b_ih, b_hh = vals((g,), offset + 0.2, 0.2), vals((g,), offset + 0.3, 0.2)
    if kind == "gru":
        return [keras_gates(w_ih).T, keras_gates(w_hh).T, np.stack([keras_gates(b_ih), keras_gates(b_hh)])]
    return [w_ih.T, w_hh.T, b_ih]


def recurrent(kind, units, seq):
    return {"lstm": layers.LSTM, "gru": layers.GRU, "rnn": layers.SimpleRNN}[kind](units, return_sequences=seq)


def dense_weights(units, inputs, offset):
    return [vals((units, inputs), offset, 0.5).T, vals((units,), offset + 0.5, 0.1)]


TOKENS = np.array([[1, 2, 3, 4, 5], [2, 5, 1, 0, 0], [0, 0, 3, 1, 2], [4, 0, 2, 0, 0]], dtype="int32")
EMBED = vals((6, 3), 0.3, 0.5)


def token_model(middle, head=None):
    """Embedding(6, 3, mask_zero=True) -> middle -> head, weights set."""
    stack = [keras.Input((5,), dtype="int32"), layers.Embedding(6, 3, mask_zero=True), middle]
    if head is not None:
        stack.append(head)
    m = keras.Sequential(stack)
    m.layers[0].set_weights([EMBED])
    return m


def set_rnn(layer, kind, units, features):
    if isinstance(layer, layers.Bidirectional):
        layer.set_weights(direction(kind, units, features, 3.0) + direction(kind, units, features, 3.5))
    else:
        layer.set_weights(direction(kind, units, features, 3.0))


# Embedding(mask_zero) -> recurrent(4) -> Dense(1, sigmoid): predictions.
for kind in ["lstm", "gru", "rnn"]:
    m = token_model(recurrent(kind, 4, False), layers.Dense(1, activation="sigmoid"))
    set_rnn(m.layers[1], kind, 4, 3)
    m.layers[2].set_weights(dense_weights(1, 4, 1.0))
    show(f"embedding mask_zero {kind} dense sigmoid", m.predict(TOKENS, verbose=0))

# Embedding(mask_zero) -> recurrent(4, return_sequences): every step, as Keras outputs masked steps.
for kind in ["lstm", "gru", "rnn"]:
    m = token_model(recurrent(kind, 4, True))
    set_rnn(m.layers[1], kind, 4, 3)
    show(f"embedding mask_zero {kind} return_sequences", m.predict(TOKENS, verbose=0))

# Bidirectional, last step and every step.
for kind, seq in [("lstm", False), ("gru", True), ("lstm", True)]:
    m = token_model(layers.Bidirectional(recurrent(kind, 4, seq)))
    set_rnn(m.layers[1], kind, 4, 3)
    show(f"embedding mask_zero bidirectional {kind} return_sequences={seq}", m.predict(TOKENS, verbose=0))

# Embedding(mask_zero) -> Dense(4) -> GlobalAveragePooling1D -> Dense(1): the mean of unmasked steps.
m = token_model(layers.Dense(4), layers.GlobalAveragePooling1D())
m.layers[1].set_weights(dense_weights(4, 3, 2.0))
show("embedding mask_zero dense global_average_pooling1d", m.predict(TOKENS, verbose=0))

# GlobalMaxPooling1D does not support masking: Keras drops the mask (with a warning).
m = token_model(layers.Dense(4), layers.GlobalMaxPooling1D())
m.layers[1].set_weights(dense_weights(4, 3, 2.0))
show("embedding mask_zero dense global_max_pooling1d", m.predict(TOKENS, verbose=0))

# Masking on float sequences: all-zero steps are masked (a step with one zero feature is not).
X = vals((4, 5, 3), 1.4)
X[1, 3:] = 0.0
X[2, :2] = 0.0
X[3, 1] = 0.0
X[0, 2, 1] = 0.0
m = keras.Sequential([keras.Input((5, 3)), layers.Masking(0.0)])
show("masking output", m.predict(X, verbose=0))


def masking_model():
    m = keras.Sequential([keras.Input((5, 3)), layers.Masking(0.0), layers.LSTM(4, return_sequences=True),
                          layers.Dense(2)])
    set_rnn(m.layers[1], "lstm", 4, 3)
    m.layers[2].set_weights(dense_weights(2, 4, 4.0))
    return m


show("masking lstm return_sequences dense", masking_model().predict(X, verbose=0))

# Two full-batch SGD(0.1) steps where the mask reaches the loss: Masking -> LSTM(seq) -> Dense(2), mse.
Y = vals((4, 5, 2), 0.9)
m = masking_model()
m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
h = m.fit(X, Y, epochs=2, batch_size=4, shuffle=False, verbose=0)
show("masking sequence mse losses", np.array(h.history["loss"]))
show("masking sequence mse dense kernel after (tch-keras layout)", m.layers[2].get_weights()[0].T)
show("masking sequence mse lstm kernel after (tch-keras layout)", m.layers[1].get_weights()[0].T)

# Two full-batch SGD(0.1) steps of the text classifier: Embedding(mask_zero) -> LSTM(4) -> Dense(1, sigmoid).
m = token_model(layers.LSTM(4), layers.Dense(1, activation="sigmoid"))
set_rnn(m.layers[1], "lstm", 4, 3)
m.layers[2].set_weights(dense_weights(1, 4, 1.0))
m.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
h = m.fit(TOKENS, np.array([[1.0], [0.0], [1.0], [0.0]], dtype="float32"), epochs=2, batch_size=4, shuffle=False,
          verbose=0)
show("text classifier bce losses", np.array(h.history["loss"]))
show("text classifier embeddings after", m.layers[0].get_weights()[0])

# The same sequence model with per-timestep sample weights (N, T): the mask and the weights multiply.
# Weights (N,) or (N, 1) with an output mask fail in Keras 3.15.1 (apply_mask cannot broadcast them).
m = masking_model()
m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
h = m.fit(X, Y, sample_weight=vals((4, 5), 0.2, 0.5) + 1.0, epochs=2, batch_size=4, shuffle=False, verbose=0)
show("masking sequence mse step weights losses", np.array(h.history["loss"]))
show("masking sequence mse step weights dense kernel after (tch-keras layout)", m.layers[2].get_weights()[0].T)
