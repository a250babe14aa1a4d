"""Reference numbers for tests/layers_more.rs, computed with Keras 3 (torch backend).

Run: KERAS_BACKEND=torch PYTHONPATH=<py-keras>:<torch> python3 tests/reference/layers_more.py

Every input and weight is `vals(shape, offset, scale)`: sin(0.7 * i + offset) * scale over the
flattened shape, the same formula the Rust tests use. Weights are given in tch-keras's layout
(PyTorch's) and converted here to Keras's. The 1-D layers run in both data formats: Keras's
channels_first matches tch-keras's default (N, channels, length), channels_last is Keras's
default (N, steps, features); the input is the same `vals` in the shape each layout takes.
Conv2DTranspose runs with data_format="channels_first", the crate's image layout.
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


CF, CL = "channels_first", "channels_last"


def count(layer, shape):
    m = keras.Sequential([keras.Input(shape), layer])
    return layer.name, m.count_params(), tuple(m.output_shape[1:])


print("// count_params (name, params, output shape)")
for layer, shape in [
    (layers.Rescaling(1.0 / 255), (3, 4, 4)),
    (layers.GlobalAveragePooling1D(), (10, 16)),
    (layers.GlobalMaxPooling1D(), (10, 16)),
    (layers.GlobalAveragePooling1D(data_format=CF), (16, 10)),
    (layers.GlobalAveragePooling1D(keepdims=True), (10, 16)),
    (layers.MaxPooling1D(), (10, 16)),
    (layers.AveragePooling1D(3, strides=2, padding="same", data_format=CF), (16, 10)),
    (layers.MaxPooling1D(3, strides=2, padding="same"), (10, 16)),
    (layers.Dense(8), (10, 16)),
    (layers.Dense(8), (2, 3, 5)),
    (layers.Conv1D(8, 3), (10, 16)),
    (layers.Conv2DTranspose(8, 3, data_format=CF), (4, 5, 5)),
    (layers.Conv2DTranspose(8, 3, strides=2, padding="same", data_format=CF), (4, 5, 5)),
    (layers.Conv2DTranspose(6, (2, 3), strides=(3, 2), data_format=CF), (4, 5, 7)),
    (layers.Conv2DTranspose(2, 4, strides=2, padding="same", use_bias=False, data_format=CF), (3, 6, 6)),
]:
    print(count(layer, shape))

print("// summary of Embedding -> Conv1D -> GlobalMaxPooling1D -> Dense")
m = keras.Sequential([keras.Input((20,)), layers.Embedding(1000, 16), layers.Conv1D(32, 5, activation="relu"),
                      layers.GlobalMaxPooling1D(), layers.Dense(3, activation="softmax")])
print([(l.name, l.count_params(), tuple(l.output.shape[1:])) for l in m.layers], m.count_params())

# --- forward passes ------------------------------------------------------------------------
x = vals((2, 3, 4), 0.1, 200.0)
show("rescaling 1/255", run(layers.Rescaling(1.0 / 255), x))
show("rescaling 1/127.5 offset -1", run(layers.Rescaling(1.0 / 127.5, offset=-1.0), x))

xf = vals((2, 3, 8), 0.2)  # channels first: 3 channels, length 8
xl = vals((2, 8, 3), 0.2)  # channels last: 8 steps, 3 features
for fmt, x in [(CF, xf), (CL, xl)]:
    show(f"max_pooling1d 2 {fmt}", run(layers.MaxPooling1D(2, data_format=fmt), x))
    show(f"max_pooling1d 3 s2 same {fmt}", run(layers.MaxPooling1D(3, strides=2, padding="same", data_format=fmt), x))
    show(f"average_pooling1d 3 s1 valid {fmt}", run(layers.AveragePooling1D(3, strides=1, data_format=fmt), x))
    show(f"global_average_pooling1d {fmt}", run(layers.GlobalAveragePooling1D(data_format=fmt), x))
    show(f"global_max_pooling1d {fmt}", run(layers.GlobalMaxPooling1D(data_format=fmt), x))
    show(f"global_average_pooling1d keepdims {fmt}", run(layers.GlobalAveragePooling1D(data_format=fmt, keepdims=True), x))
# 'same' average pooling, 3 with stride 2 over length 7: one step of padding on each side,
# which Keras leaves out of each mean.
x7 = vals((2, 3, 7), 0.3)
show("average_pooling1d 3 s2 same symmetric channels_first",
     run(layers.AveragePooling1D(3, strides=2, padding="same", data_format=CF), x7))
# Over length 8 the padding is 0 left, 1 right: Keras's torch backend replicates the edge and
# averages the copy too, its TensorFlow and JAX backends average only the steps inside
# (tch-keras follows them, as its AveragePooling2D does): that definition with numpy.
def avg_pool1d_same(x, k, s):
    n, c, length = x.shape
    out = -(-length // s)
    left = max((out - 1) * s + k - length, 0) // 2
    y = np.zeros((n, c, out))
    for i in range(out):
        lo = i * s - left
        y[:, :, i] = x[:, :, max(lo, 0):min(lo + k, length)].astype(np.float64).mean(axis=2)
    return y


show("average_pooling1d 3 s2 same channels_first (TensorFlow's definition)", avg_pool1d_same(xf, 3, 2))

# Conv1D(4, 3, strides=2, padding="same") channels_last on [2, 8, 3]; tch-keras weight [4, 3, 3].
w, b = vals((4, 3, 3), 0.4, 0.5), vals((4,), 0.5, 0.1)
l = layers.Conv1D(4, 3, strides=2, padding="same")
l.build((None, 8, 3))
l.set_weights([w.transpose(2, 1, 0), b])
show("conv1d channels_last", run(l, xl))

# Dense(4) on sequences [2, 5, 3]; tch-keras weight [4, 3].
x = vals((2, 5, 3), 0.6)
w, b = vals((4, 3), 0.7, 0.5), vals((4,), 0.8, 0.1)
l = layers.Dense(4)
l.build((None, 5, 3))
l.set_weights([w.T, b])
show("dense on sequences", run(l, x))

# Conv2DTranspose channels_first; tch-keras weight [in_channels, filters, kh, kw]
# (PyTorch's ConvTranspose2d), Keras's kernel (kh, kw, filters, in_channels).
for name, args, kwargs, shape in [
    ("valid 3 s1", (3, 3), {}, (2, 2, 4, 5)),
    ("same 3 s2", (3, 3), {"strides": 2, "padding": "same"}, (2, 2, 4, 5)),
    ("same 4 s2", (2, 4), {"strides": 2, "padding": "same"}, (2, 2, 3, 3)),
    ("valid (2, 3) s(3, 2)", (2, (2, 3)), {"strides": (3, 2)}, (1, 2, 3, 4)),
    ("same 2 s3", (2, 2), {"strides": 3, "padding": "same"}, (1, 2, 3, 3)),
    # output_padding and dilation_rate (Keras 3's output size per axis: see
    # keras/src/ops/operation_utils.py compute_conv_transpose_output_shape).
    ("valid 3 s2 output_padding 1", (2, 3), {"strides": 2, "output_padding": 1}, (1, 2, 3, 4)),
    ("same 3 s2 output_padding 1", (2, 3), {"strides": 2, "padding": "same", "output_padding": 1}, (1, 2, 3, 4)),
    ("same 4 s3 output_padding (2, 0)", (2, 4), {"strides": 3, "padding": "same", "output_padding": (2, 0)},
     (1, 2, 3, 3)),
    ("same 2 s2 output_padding 0", (2, 2), {"strides": 2, "padding": "same", "output_padding": 0}, (1, 2, 3, 3)),
    ("valid 3 dilation 2", (2, 3), {"dilation_rate": 2}, (1, 2, 4, 5)),
    ("same (3, 2) dilation (2, 3)", (2, (3, 2)), {"padding": "same", "dilation_rate": (2, 3)}, (1, 2, 4, 5)),
]:
    filters, kernel = args
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    cin = shape[1]
    w, b = vals((cin, filters, kh, kw), 0.9, 0.5), vals((filters,), 1.0, 0.1)
    l = layers.Conv2DTranspose(filters, kernel, data_format=CF, **kwargs)
    l.build((None,) + shape[1:])
    l.set_weights([w.transpose(2, 3, 1, 0), b])
    show(f"conv2d_transpose {name}", run(l, vals(shape, 1.1)))

# --- cropping, padding, upsampling, RepeatVector, Permute ----------------------------------
# Keras's Cropping1D, ZeroPadding1D and UpSampling1D always act on axis 1 of (N, steps,
# features): the Rust tests compare them with data_format(ChannelsLast) as they are, and with
# the crate's default channels-first layout after transposing input and output to (N, C, L).
print("// count_params (name, params, output shape)")
for layer, shape in [
    (layers.Cropping1D((1, 2)), (6, 3)),
    (layers.Cropping2D(((1, 0), (2, 1)), data_format=CF), (2, 4, 5)),
    (layers.ZeroPadding1D((2, 1)), (4, 3)),
    (layers.UpSampling1D(3), (4, 3)),
    (layers.RepeatVector(3), (4,)),
    (layers.Permute((2, 1)), (4, 3)),
    (layers.Permute((3, 1, 2)), (2, 3, 4)),
]:
    print(count(layer, shape))
show("cropping1d (1, 2) channels_last", run(layers.Cropping1D((1, 2)), vals((2, 6, 3), 1.2)))
show("zero_padding1d (2, 1) channels_last", run(layers.ZeroPadding1D((2, 1)), vals((2, 4, 3), 1.3)))
show("up_sampling1d 3 channels_last", run(layers.UpSampling1D(3), vals((2, 4, 3), 1.4)))
show("cropping2d ((1, 0), (2, 1))", run(layers.Cropping2D(((1, 0), (2, 1)), data_format=CF), vals((2, 2, 4, 5), 1.5)))
show("repeat_vector 3", run(layers.RepeatVector(3), vals((2, 4), 1.6)))
show("permute (2, 1)", run(layers.Permute((2, 1)), vals((2, 4, 3), 1.7)))
show("permute (3, 1, 2)", run(layers.Permute((3, 1, 2)), vals((2, 2, 3, 4), 1.8)))
