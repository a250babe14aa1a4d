"""Reference numbers for tests/rnn_more.rs (SimpleRNN, Bidirectional), computed with Keras 3 (torch backend).

Run: KERAS_BACKEND=torch PYTHONPATH=<py-keras>:<torch> python3 tests/reference/rnn_more.py

Inputs and weights are `vals(shape, offset, scale)`: sin(0.7 * i + offset) * scale over the
flattened shape, the formula the Rust test uses. Weights are given in tch-keras's layout
(PyTorch's: weight_ih [gates * units, features], weight_hh [gates * units, units]) and
converted here to Keras's.
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
    print("&[" + ", ".join(f"{v:.6}" for v in y.reshape(-1)) + "],")


def count(layer, shape):
    m = keras.Sequential([keras.Input(shape), layer])
    return layer.name, m.count_params(), tuple(m.output_shape[1:])


print("// counts")
for layer, shape in [
    (layers.SimpleRNN(32), (10, 16)),
    (layers.SimpleRNN(32, return_sequences=True), (10, 16)),
    (layers.Bidirectional(layers.LSTM(32)), (10, 16)),
    (layers.Bidirectional(layers.GRU(8, return_sequences=True)), (10, 16)),
    (layers.Bidirectional(layers.SimpleRNN(8), merge_mode="sum"), (10, 16)),
]:
    print(count(layer, shape))


def keras_gates(a):
    """PyTorch's GRU gate blocks r, z, n to Keras's z, r, h."""
    u = a.shape[0] // 3
    return np.concatenate([a[u:2 * u], a[:u], a[2 * u:]], axis=0)


def keras_weights(kind, w_ih, w_hh, b_ih, b_hh):
    if kind == "gru":
        return [keras_gates(w_ih).T, keras_gates(w_hh).T, np.stack([keras_gates(b_ih), keras_gates(b_hh)])]
    return [w_ih.T, w_hh.T, b_ih]


def make(kind, units, seq, activation="tanh"):
    if kind == "lstm":
        return layers.LSTM(units, return_sequences=seq)
    if kind == "gru":
        return layers.GRU(units, return_sequences=seq)
    return layers.SimpleRNN(units, return_sequences=seq, activation=activation)


GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def direction(kind, units, offset):
    """One direction's weights in tch-keras's layout, offsets as tests/rnn_more.rs's `direction`."""
    g = GATES[kind] * units
    return vals((g, 3), offset, 0.5), vals((g, units), offset + 0.1, 0.5), vals((g,), offset + 0.2, 0.2), vals(
        (g,), offset + 0.3, 0.2)


x = vals((2, 5, 3), 1.4)

# SimpleRNN(4) on [2, 5, 3]: weight_ih [4, 3], weight_hh [4, 4], bias_ih [4].
for activation in ["tanh", "relu"]:
    for seq in [False, True]:
        l = make("rnn", 4, seq, activation)
        l.build((None, 5, 3))
        w_ih, w_hh, b_ih, b_hh = direction("rnn", 4, 2.5)
        l.set_weights(keras_weights("rnn", w_ih, w_hh, b_ih, b_hh))
        show(f"simple_rnn {activation} return_sequences={seq}", l(x, training=False))

# Bidirectional: forward weights at offset 3.0, backward at 3.5.
for kind, units, seq, mode in [
    ("lstm", 4, False, "concat"),
    ("lstm", 4, True, "concat"),
    ("gru", 3, True, "sum"),
    ("gru", 3, False, "mul"),
    ("rnn", 4, True, "ave"),
    ("rnn", 4, False, "concat"),
]:
    l = layers.Bidirectional(make(kind, units, seq), merge_mode=mode)
    l.build((None, 5, 3))
    w = keras_weights(kind, *direction(kind, units, 3.0)) + keras_weights(kind, *direction(kind, units, 3.5))
    assert [a.shape for a in w] == [tuple(v.shape) for v in l.get_weights()]
    l.set_weights(w)
    show(f"bidirectional {kind} return_sequences={seq} merge_mode={mode}", l(x, training=False))
