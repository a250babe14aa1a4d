"""Reference numbers for tests/layers_new.rs, computed with Keras 3.15.1 (torch backend).

Run: KERAS_BACKEND=torch PYTHONPATH=<py-keras>:<torch> python3 tests/reference/keras_new_layers.py

Every input and weight is `vals(shape, offset, scale)`: sin(0.7 * i + offset) * scale over the
flattened shape, the same formula the Rust tests use. MultiHeadAttention's variables are in
Keras's layout on both sides. The convolutions and GroupNormalization run channels-first here
(`data_format="channels_first"`, `axis=1`), the crate's layout; their kernels are given in
tch-keras's layout (PyTorch's) and converted here to Keras's.
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


CF = "channels_first"
SGD = dict(batch_size=2, epochs=2, shuffle=False, verbose=0)


def fit(model, x, y, name):
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    h = model.fit(x, y, **SGD)
    print(f"// {name}: losses per epoch {h.history['loss']}")


# --- MultiHeadAttention (self-attention) ----------------------------------------------------
# Variables, in Keras's order and layout; value i is vals(shape, 0.2 + 0.3 * i, 0.5) for a
# kernel, vals(shape, 0.2 + 0.3 * i, 0.1) for a bias.
def mha_weights(layer):
    return [vals(w.shape, 0.2 + 0.3 * i, 0.5 if len(w.shape) > 1 else 0.1) if "kernel" in w.path
            else vals(w.shape, 0.2 + 0.3 * i, 0.1) for i, w in enumerate(layer.weights)]


x = vals((2, 4, 6), 0.1)
mha_cases = [
    ("mha h2 k3", dict(num_heads=2, key_dim=3), False),
    ("mha h3 k2 v4 out5 causal", dict(num_heads=3, key_dim=2, value_dim=4, output_shape=5), True),
    ("mha h1 k4 no bias causal", dict(num_heads=1, key_dim=4, use_bias=False), True),
    # With dropout Keras takes its explicit path (query scaled, einsum, masked softmax) instead
    # of the fused kernel; in inference it drops nothing.
    ("mha h3 k2 v4 out5 causal dropout0.3 inference", dict(num_heads=3, key_dim=2, value_dim=4, output_shape=5,
                                                           dropout=0.3), True),
]
for name, kw, causal in mha_cases:
    layer = layers.MultiHeadAttention(**kw)
    layer(x, x)
    print("// " + name + " weights:", [(w.path.split("/")[-2] + "/" + w.path.split("/")[-1], tuple(w.shape))
                                      for w in layer.weights])
    layer.set_weights(mha_weights(layer))
    show(name, layer(x, x, use_causal_mask=causal))

# Two SGD steps of the causal layer alone on mse.
inp = keras.Input((4, 6))
layer = layers.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=4, output_shape=5)
m = keras.Model(inp, layer(inp, inp, use_causal_mask=True))
layer.set_weights(mha_weights(layer))
fit(m, x, vals((2, 4, 5), 0.9), "mha fit")
for w in layer.weights:
    show("mha after fit " + w.path.split("/")[-2] + "/" + w.path.split("/")[-1], w)
print("// mha params", layer.count_params())


# --- DepthwiseConv2D and SeparableConv2D ----------------------------------------------------
def depthwise_keras(w, c, m):
    # ours [c * m, 1, kh, kw] -> Keras (kh, kw, c, m)
    kh, kw = w.shape[2:]
    return w.reshape(c, m, kh, kw).transpose(2, 3, 0, 1)


def pointwise_keras(w):
    # ours [filters, c * m, 1, 1] -> Keras (1, 1, c * m, filters)
    return w.transpose(2, 3, 1, 0)


x = vals((2, 3, 7, 6), 0.4)
dw_cases = [
    ("depthwise k3 valid", dict(kernel_size=3), 1),
    ("depthwise k3 s2 same dm2", dict(kernel_size=3, strides=2, padding="same", depth_multiplier=2), 2),
    ("depthwise k2x3 s3x2 same relu no bias", dict(kernel_size=(2, 3), strides=(3, 2), padding="same",
                                                   activation="relu", use_bias=False), 1),
    ("depthwise k2x3 d2 same dm2", dict(kernel_size=(2, 3), dilation_rate=2, padding="same", depth_multiplier=2), 2),
]
for name, kw, dm in dw_cases:
    layer = layers.DepthwiseConv2D(data_format=CF, **kw)
    k = kw["kernel_size"]
    kh, kwid = (k, k) if isinstance(k, int) else k
    w = vals((3 * dm, 1, kh, kwid), 0.9, 0.5)
    weights = [depthwise_keras(w, 3, dm)]
    if kw.get("use_bias", True):
        weights.append(vals((3 * dm,), 1.0, 0.1))
    layer.build(x.shape)
    layer.set_weights(weights)
    show(name, layer(x))

sep_cases = [
    ("separable f4 k3 s2 same dm2", dict(filters=4, kernel_size=3, strides=2, padding="same", depth_multiplier=2), 2),
    ("separable f5 k2 valid dm1 tanh", dict(filters=5, kernel_size=2, activation="tanh"), 1),
]
for name, kw, dm in sep_cases:
    layer = layers.SeparableConv2D(data_format=CF, **kw)
    k = kw["kernel_size"]
    f = kw["filters"]
    layer.build(x.shape)
    layer.set_weights([depthwise_keras(vals((3 * dm, 1, k, k), 0.9, 0.5), 3, dm),
                       pointwise_keras(vals((f, 3 * dm, 1, 1), 0.3, 0.5)), vals((f,), 1.0, 0.1)])
    show(name, layer(x))

# DepthwiseConv2D -> SeparableConv2D, two SGD steps on mse.
dw = layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, data_format=CF)
sep = layers.SeparableConv2D(4, 2, depth_multiplier=1, activation="tanh", data_format=CF)
m = keras.Sequential([keras.Input((3, 7, 6)), dw, sep])
dw.set_weights([depthwise_keras(vals((6, 1, 3, 3), 0.9, 0.5), 3, 2), vals((6,), 1.0, 0.1)])
sep.set_weights([depthwise_keras(vals((6, 1, 2, 2), 0.5, 0.5), 6, 1), pointwise_keras(vals((4, 6, 1, 1), 0.3, 0.5)),
                 vals((4,), 0.7, 0.1)])
print("// conv params", [(l.name, l.count_params(), tuple(l.output.shape[1:])) for l in m.layers])
fit(m, x, vals((2, 4, 3, 2), 0.9), "conv fit")
show("depthwise after fit weight", dw.get_weights()[0].transpose(2, 3, 0, 1).reshape(6, 1, 3, 3))
show("depthwise after fit bias", dw.get_weights()[1])
show("separable after fit depthwise_weight", sep.get_weights()[0].transpose(2, 3, 0, 1).reshape(6, 1, 2, 2))
show("separable after fit pointwise_weight", sep.get_weights()[1].transpose(3, 2, 0, 1))
show("separable after fit bias", sep.get_weights()[2])

# --- GroupNormalization (channels on axis 1) ------------------------------------------------
gn_cases = [
    ("group_norm g3 image", dict(groups=3), (2, 6, 3, 4)),
    ("group_norm g2 sequence eps0.1", dict(groups=2, epsilon=0.1), (2, 4, 5)),
    ("group_norm instance (-1) no center", dict(groups=-1, center=False), (2, 4, 5)),
    ("group_norm g1 flat", dict(groups=1), (3, 4)),
]
for name, kw, shape in gn_cases:
    layer = layers.GroupNormalization(axis=1, **kw)
    x = vals(shape, 0.3, 2.0) + 0.5
    layer.build(shape)
    layer.set_weights([vals(w.shape, 0.6 + 0.5 * i, 0.5) + 1.0 - i for i, w in enumerate(layer.weights)])
    show(name, layer(x))

layer = layers.GroupNormalization(groups=3, axis=1)
m = keras.Sequential([keras.Input((6, 3, 4)), layer])
layer.set_weights([vals((6,), 0.6, 0.5) + 1.0, vals((6,), 1.1, 0.5)])
fit(m, vals((2, 6, 3, 4), 0.3, 2.0) + 0.5, vals((2, 6, 3, 4), 0.8), "group_norm fit")
show("group_norm after fit gamma", layer.get_weights()[0])
show("group_norm after fit beta", layer.get_weights()[1])

# --- UnitNormalization ----------------------------------------------------------------------
x = vals((2, 3, 4), 0.2, 3.0)
x[1, 2] = 0.0  # an all-zero vector stays zero
show("unit_normalization axis -1", layers.UnitNormalization()(x))
show("unit_normalization axis 1", layers.UnitNormalization(axis=1)(x))
