"""Reference numbers for tests/layer_kinds.rs and tests/layers.rs, computed with Keras 3 (torch backend).

Run: KERAS_BACKEND=torch PYTHONPATH=<py-keras>:<torch> python3 tests/reference/layers.py

Every input and weight is `vals(shape, offset)`: sin(0.7 * i + offset) * scale over the
flattened shape, the same formula the Rust tests use. Weights are given in tch-keras's layout
(PyTorch's) and converted here to Keras's. Images use data_format="channels_first", so the
shapes are the same on both sides.
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


def run(layer, x):
    return layer(x, training=False)


CF = "channels_first"

# --- parameter counts and default names --------------------------------------------------
def count(layer, shape):
    m = keras.Sequential([keras.Input(shape), layer])
    return layer.name, m.count_params(), tuple(m.output_shape[1:])


print("// count_params (name, params, output shape)")
for layer, shape in [
    (layers.Conv1D(16, 5, data_format=CF), (8, 100)),
    (layers.AveragePooling2D(2, data_format=CF), (3, 9, 9)),
    (layers.GlobalAveragePooling2D(data_format=CF), (3, 9, 9)),
    (layers.GlobalMaxPooling2D(data_format=CF), (3, 9, 9)),
    (layers.ZeroPadding2D(((1, 2), (0, 3)), data_format=CF), (3, 9, 9)),
    (layers.UpSampling2D(2, data_format=CF), (3, 9, 9)),
    (layers.Embedding(1000, 64), (10,)),
    (layers.LayerNormalization(), (10, 32)),
    (layers.LSTM(32), (10, 16)),
    (layers.LSTM(32, return_sequences=True), (10, 16)),
    (layers.GRU(32), (10, 16)),
    (layers.SpatialDropout2D(0.3, data_format=CF), (3, 9, 9)),
    (layers.GaussianNoise(0.1), (7,)),
]:
    print(count(layer, shape))

# --- forward passes --------------------------------------------------------------------
# Conv1D(3, 3, strides=2, padding="same") on [2, 2, 8]: asymmetric padding (0 left, 1 right).
x = vals((2, 2, 8), 0.1)
w = vals((3, 2, 3), 0.2, 0.5)  # [filters, in, k]
b = vals((3,), 0.3, 0.1)
l = layers.Conv1D(3, 3, strides=2, padding="same", data_format=CF)
l.build((None, 2, 8))
l.set_weights([w.transpose(2, 1, 0), b])
show("conv1d", run(l, x))

x = vals((2, 2, 5, 6), 0.4)
show("average_pooling2d valid 2", run(layers.AveragePooling2D(2, data_format=CF), x))
# 'same' with symmetric padding (1 on each side of both axes): Keras leaves padded cells out
# of each mean.
x7 = vals((2, 2, 5, 5), 0.45)
show("average_pooling2d same 3 s2 symmetric", run(layers.AveragePooling2D(3, strides=2, padding="same", data_format=CF), x7))
# With asymmetric padding (width 6: 0 left, 1 right) Keras's TensorFlow and JAX backends still
# average only the cells inside the image, but its torch backend pads by replicating the edge
# and averages those copies too. tch-keras follows TensorFlow and JAX: that definition, here
# with numpy.
def avg_pool_same(x, k, s):
    n, c, h, w = x.shape
    oh, ow = -(-h // s), -(-w // s)
    top = max((oh - 1) * s + k - h, 0) // 2
    left = max((ow - 1) * s + k - w, 0) // 2
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s - top, j * s - left
            win = x[:, :, max(r0, 0):min(r0 + k, h), max(c0, 0):min(c0 + k, w)]
            y[:, :, i, j] = win.astype(np.float64).mean(axis=(2, 3))
    return y


show("average_pooling2d same 3 s2 (TensorFlow's definition)", avg_pool_same(x, 3, 2))
print("// (Keras 3 torch backend on the same input:",
      keras.ops.convert_to_numpy(run(layers.AveragePooling2D(3, strides=2, padding="same", data_format=CF), x)).reshape(-1)[:3], "...)")
# MaxPooling2D 'same': width 6 with a 3x3 window and stride 2 pads 0 left, 1 right (Keras's
# torch backend replicates the edge, which never changes a maximum); 5x5 symmetric (1, 1); and a
# ReLU before it (tch-keras applies it after the pooling).
show("max_pooling2d same 3 s2", run(layers.MaxPooling2D(3, strides=2, padding="same", data_format=CF), x))
show("max_pooling2d same 3 s2 symmetric", run(layers.MaxPooling2D(3, strides=2, padding="same", data_format=CF), x7))
show("max_pooling2d same 2 after relu", run(layers.MaxPooling2D(2, padding="same", data_format=CF),
                                             keras.activations.relu(x7)))
x = vals((2, 3, 4, 5), 0.5)
show("global_average_pooling2d", run(layers.GlobalAveragePooling2D(data_format=CF), x))
show("global_max_pooling2d", run(layers.GlobalMaxPooling2D(data_format=CF), x))
x = vals((1, 2, 3, 4), 0.6)
show("zero_padding2d", run(layers.ZeroPadding2D(((1, 2), (0, 3)), data_format=CF), x))
show("up_sampling2d nearest", run(layers.UpSampling2D((2, 3), data_format=CF), x))
show("up_sampling2d bilinear", run(layers.UpSampling2D((2, 3), data_format=CF, interpolation="bilinear"), x))

l = layers.Embedding(10, 4)
l.build((None, 3))
l.set_weights([vals((10, 4), 0.7)])
show("embedding", run(l, np.array([[1, 2, 9], [0, 0, 5]], dtype=np.int64)))

x = vals((2, 3, 5), 0.8, 2.0)
l = layers.LayerNormalization()
l.build((None, 3, 5))
l.set_weights([vals((5,), 0.9, 0.5) + 1.0, vals((5,), 1.0, 0.3)])
show("layer_normalization last", run(l, x))
x = vals((2, 3, 2, 2), 1.1, 2.0)
# Keras 3's torch backend hands axis=1 to torch.layer_norm, which refuses it: Keras's formula
# with keras.ops instead (moments over the axis, biased variance).
gamma, beta = vals((3,), 1.2, 0.5) + 1.0, vals((3,), 1.3, 0.3)
x = keras.ops.convert_to_tensor(x)
mean, var = keras.ops.moments(x, axes=[1], keepdims=True)
y = (x - mean) / keras.ops.sqrt(var + 1e-3) * keras.ops.reshape(gamma, (1, 3, 1, 1)) + keras.ops.reshape(beta, (1, 3, 1, 1))
show("layer_normalization axis 1", y)

# LSTM(4) on [2, 5, 3]: tch-keras weight_ih [16, 3], weight_hh [16, 4], bias_ih [16]; the same
# gate order (i, f, c, o) as Keras, so Keras's weights are the transposes.
x = vals((2, 5, 3), 1.4)
w_ih, w_hh, b_ih = vals((16, 3), 1.5, 0.5), vals((16, 4), 1.6, 0.5), vals((16,), 1.7, 0.2)
for seq in [False, True]:
    l = layers.LSTM(4, return_sequences=seq)
    l.build((None, 5, 3))
    l.set_weights([w_ih.T, w_hh.T, b_ih])
    show(f"lstm return_sequences={seq}", run(l, x))
keras_lstm = keras.ops.convert_to_numpy(run(l, x))

# GRU(4) on [2, 5, 3]: tch-keras (PyTorch) gate rows r, z, n; Keras's columns z, r, h.
def keras_gates(a):
    u = a.shape[0] // 3
    return np.concatenate([a[u:2 * u], a[:u], a[2 * u:]], axis=0)


w_ih, w_hh = vals((12, 3), 1.8, 0.5), vals((12, 4), 1.9, 0.5)
b_ih, b_hh = vals((12,), 2.0, 0.2), vals((12,), 2.1, 0.2)
for seq in [False, True]:
    l = layers.GRU(4, return_sequences=seq)
    l.build((None, 5, 3))
    l.set_weights([keras_gates(w_ih).T, keras_gates(w_hh).T, np.stack([keras_gates(b_ih), keras_gates(b_hh)])])
    show(f"gru return_sequences={seq}", run(l, x))
keras_gru = keras.ops.convert_to_numpy(run(l, x))

# The same weights under tch-keras's variable names load into PyTorch's modules: nn.GRU as they
# are; nn.LSTM without bias_hh_l0 (Keras's single bias), which must then be zero.
import torch

t = lambda a: torch.tensor(np.ascontiguousarray(a))
gru = torch.nn.GRU(3, 4, batch_first=True)
gru.load_state_dict({"weight_ih_l0": t(w_ih), "weight_hh_l0": t(w_hh), "bias_ih_l0": t(b_ih), "bias_hh_l0": t(b_hh)})
lstm = torch.nn.LSTM(3, 4, batch_first=True)
w_ih, w_hh, b_ih = vals((16, 3), 1.5, 0.5), vals((16, 4), 1.6, 0.5), vals((16,), 1.7, 0.2)
result = lstm.load_state_dict({"weight_ih_l0": t(w_ih), "weight_hh_l0": t(w_hh), "bias_ih_l0": t(b_ih)}, strict=False)
assert result.missing_keys == ["bias_hh_l0"], result
with torch.no_grad():
    lstm.bias_hh_l0.zero_()
    for name, module, ref in [("GRU", gru, keras_gru), ("LSTM", lstm, keras_lstm)]:
        diff = np.abs(module(t(x))[0].numpy() - ref).max()
        print(f"// torch.nn.{name} with tch-keras's weights: max |difference| to Keras {diff:.1e}")
        assert diff < 1e-5

# --- summaries ---------------------------------------------------------------------------
def summarize(name, m):
    print(f"// summary {name}: total {m.count_params()}")
    for l in m.layers:
        print(f"//   {l.name} ({l.__class__.__name__}) {tuple(l.output.shape)} {l.count_params()}")


summarize("sequence", keras.Sequential([
    keras.Input((20,)),
    layers.Embedding(1000, 16),
    layers.LSTM(32, return_sequences=True),
    layers.LayerNormalization(),
    layers.GRU(16),
    layers.Dense(4, activation="softmax"),
]))
summarize("image", keras.Sequential([
    keras.Input((3, 32, 32)),
    layers.ZeroPadding2D(1, data_format=CF),
    layers.Conv2D(8, 3, activation="relu", data_format=CF),
    layers.AveragePooling2D(2, data_format=CF),
    layers.SpatialDropout2D(0.2, data_format=CF),
    layers.UpSampling2D(2, data_format=CF),
    layers.Conv2D(4, 3, data_format=CF),
    layers.GlobalMaxPooling2D(data_format=CF),
    layers.GaussianNoise(0.1),
    layers.Dense(10),
]))
summarize("conv1d", keras.Sequential([
    keras.Input((4, 50)),
    layers.Conv1D(8, 5, activation="relu", data_format=CF),
    layers.Conv1D(8, 3, strides=2, padding="same", data_format=CF),
    layers.Flatten(),
    layers.Dense(3),
]))

summarize("wide cnn (recipes::wide_cnn)", keras.Sequential([
    keras.Input((1, 28, 28)),
    layers.Conv2D(64, 3, padding="same", activation="relu", data_format=CF),
    layers.Conv2D(64, 3, padding="same", activation="relu", data_format=CF),
    layers.MaxPooling2D(2, data_format=CF),
    layers.Conv2D(128, 3, padding="same", activation="relu", data_format=CF),
    layers.Conv2D(128, 3, padding="same", activation="relu", data_format=CF),
    layers.MaxPooling2D(2, data_format=CF),
    layers.Flatten(),
    layers.Dense(256, activation="relu"),
    layers.Dense(10, activation="softmax"),
]))

# --- BatchNormalization's moving statistics (tests/layers.rs) ------------------------------
# Two training passes then one inference pass, after Dense (axis 1 of [N, C]) and after Conv2D
# (axis 1 of [N, C, H, W]). Keras updates moving_mean and moving_variance with the batch's
# biased variance (ops.moments): moving * momentum + batch * (1 - momentum).
def bn_after(first, x, weights, momentum):
    bn = layers.BatchNormalization(axis=1, momentum=momentum)
    m = keras.Sequential([keras.Input(x.shape[1:]), first, bn])
    first.set_weights(weights)
    for _ in range(2):
        m(x, training=True)
    show(f"batch_norm momentum={momentum} moving_mean", bn.moving_mean)
    show(f"batch_norm momentum={momentum} moving_variance", bn.moving_variance)
    show(f"batch_norm momentum={momentum} inference", m(x, training=False))


x = vals((4, 2), 2.2, 2.0)
bn_after(layers.Dense(3), x, [vals((3, 2), 2.3, 0.8).T, vals((3,), 2.4, 0.5)], 0.99)
x = vals((2, 1, 4, 4), 2.5, 2.0)
bn_after(layers.Conv2D(2, 3, data_format=CF), x,
         [vals((2, 1, 3, 3), 2.6, 0.7).transpose(2, 3, 1, 0), vals((2,), 2.7, 0.5)], 0.9)

# --- training a small CNN end to end (tests/layers.rs) -------------------------------------
# Conv2D(3, 4, 'same', relu) -> BatchNormalization -> MaxPooling2D(2) -> Flatten -> Dense(4,
# softmax) on 10 images [1, 6, 6], Adam(0.01), sparse categorical cross-entropy, batches of 4
# (4, 4, 2), 2 epochs without shuffling, validated on the first 5 images.
X = vals((10, 1, 6, 6), 5.0)
Y = np.array([0, 1, 2, 3, 0, 1, 2, 3, 1, 2])
conv = layers.Conv2D(3, 4, padding="same", activation="relu", data_format=CF)
bn = layers.BatchNormalization(axis=1)
dense = layers.Dense(4, activation="softmax")
m = keras.Sequential([keras.Input((1, 6, 6)), conv, bn, layers.MaxPooling2D(2, data_format=CF), layers.Flatten(),
                      dense])
conv.set_weights([vals((3, 1, 4, 4), 5.1, 0.5).transpose(2, 3, 1, 0), vals((3,), 5.2, 0.1)])
dense.set_weights([vals((4, 27), 5.3, 0.3).T, vals((4,), 5.4, 0.1)])
m.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
h = m.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0, validation_data=(X[:5], Y[:5]))
print("// cnn training history", {k: [float(f"{v:.9g}") for v in vs] for k, vs in h.history.items()})
show("cnn conv kernel [out, in, kh, kw]", conv.get_weights()[0].transpose(3, 2, 0, 1))
show("cnn conv bias", conv.get_weights()[1])
for name, w in zip(["gamma", "beta", "moving_mean", "moving_variance"], bn.get_weights()):
    show(f"cnn batch_norm {name}", w)
show("cnn dense bias", dense.get_weights()[1])
show("cnn predict first 2", m.predict(X[:2], verbose=0))

# --- training Embedding -> LSTM / GRU -> Dense end to end (tests/layer_kinds.rs) ----------
# 7 sequences of 6 tokens (i * 3 % 10), labels [0, 1, 2, 0, 1, 2, 1], Adam(0.05), batches of
# 3 (3, 3, 1), 3 epochs without shuffling. Weights in tch-keras's layout, converted as above.
XT = (np.arange(7 * 6).reshape(7, 6) * 3 % 10).astype("int64")
YT = np.array([0, 1, 2, 0, 1, 2, 1])
for kind in ["lstm", "gru"]:
    emb, dense = layers.Embedding(10, 4), layers.Dense(3, activation="softmax")
    rnn = layers.LSTM(5) if kind == "lstm" else layers.GRU(5)
    m = keras.Sequential([keras.Input((6,), dtype="int64"), emb, rnn, dense])
    emb.set_weights([vals((10, 4), 6.0, 0.5)])
    g = 4 if kind == "lstm" else 3
    w_ih, w_hh = vals((g * 5, 4), 6.1, 0.4), vals((g * 5, 5), 6.2, 0.4)
    b_ih, b_hh = vals((g * 5,), 6.3, 0.2), vals((g * 5,), 6.4, 0.2)
    if kind == "lstm":
        rnn.set_weights([w_ih.T, w_hh.T, b_ih])
    else:
        rnn.set_weights([keras_gates(w_ih).T, keras_gates(w_hh).T, np.stack([keras_gates(b_ih), keras_gates(b_hh)])])
    dense.set_weights([vals((3, 5), 6.5, 0.5).T, vals((3,), 6.6, 0.1)])
    m.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = m.fit(XT, YT, batch_size=3, epochs=3, shuffle=False, verbose=0)
    print(f"// {kind} training history", {k: [float(f"{v:.9g}") for v in vs] for k, vs in h.history.items()})
    w_hh_after = rnn.get_weights()[1].T if kind == "lstm" else keras_gates(rnn.get_weights()[1].T)
    show(f"{kind} trained weight_hh_l0 first row", w_hh_after[0])
    show(f"{kind} trained embedding first 3 rows", emb.get_weights()[0][:3])
    show(f"{kind} trained predict first 2", m.predict(XT[:2], verbose=0))
