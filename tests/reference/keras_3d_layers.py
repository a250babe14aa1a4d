"""Reference numbers for tests/layers_3d.rs, computed with Keras 3.15.1 (torch backend).

Run: KERAS_BACKEND=torch PYTHONPATH=<py-keras>:<torch> python3 tests/reference/keras_3d_layers.py

Every input and weight is `vals(shape, offset, scale)`: sin(0.7 * i + offset) * scale over the
flattened shape, the same formula the Rust tests use. Kernels are given in tch-keras's layout
(PyTorch's: Conv3D `[filters, in / groups, kd, kh, kw]`, Conv1DTranspose `[in, filters, k]`,
Dense `[units, in]`) and converted here to Keras's. Each case names its data_format.
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


CF, CL = "channels_first", "channels_last"


def conv3d_weights(layer):
    """Kernel vals(ours, 0.3, 0.4) in PyTorch's layout, bias vals([filters], 0.5, 0.1)."""
    k = layer.kernel.shape  # (kd, kh, kw, in / groups, filters)
    ours = vals((k[4], k[3], k[0], k[1], k[2]), 0.3, 0.4)
    w = [ours.transpose(2, 3, 4, 1, 0)]
    if layer.use_bias:
        w.append(vals((k[4],), 0.5, 0.1))
    layer.set_weights(w)


# --- Conv3D ---------------------------------------------------------------------------------
conv_cases = [
    ("conv3d valid cl", (2, 4, 5, 6, 3), dict(filters=4, kernel_size=(2, 3, 2), data_format=CL)),
    ("conv3d same strides odd cl", (2, 5, 7, 6, 2),
     dict(filters=3, kernel_size=3, strides=(2, 2, 3), padding="same", data_format=CL)),
    ("conv3d same dilation cf", (2, 2, 6, 5, 7),
     dict(filters=2, kernel_size=(2, 3, 2), dilation_rate=(2, 1, 3), padding="same", data_format=CF)),
    ("conv3d groups no bias relu cl", (2, 3, 4, 3, 4),
     dict(filters=6, kernel_size=2, groups=2, use_bias=False, activation="relu", data_format=CL)),
]
for name, shape, kw in conv_cases:
    layer = layers.Conv3D(**kw)
    x = vals(shape, 0.1)
    layer.build(shape)
    conv3d_weights(layer)
    show(name, layer(x))

# --- Poolings -------------------------------------------------------------------------------
pool_cases = [
    ("max valid cl", layers.MaxPooling3D(2, data_format=CL), (2, 5, 6, 7, 3)),
    ("max same asymmetric cl", layers.MaxPooling3D((3, 2, 3), strides=2, padding="same", data_format=CL),
     (2, 5, 7, 6, 2)),
    ("max same stride1 cf", layers.MaxPooling3D(2, strides=1, padding="same", data_format=CF), (1, 2, 3, 4, 3)),
    ("avg valid strides cf", layers.AveragePooling3D((2, 3, 2), strides=(1, 2, 2), data_format=CF),
     (2, 2, 4, 7, 5)),
    ("avg same stride2 odd cl", layers.AveragePooling3D(3, strides=2, padding="same", data_format=CL),
     (2, 5, 7, 9, 2)),
    ("avg same stride1 cf", layers.AveragePooling3D(3, strides=1, padding="same", data_format=CF),
     (1, 2, 4, 5, 6)),
    ("gap cl", layers.GlobalAveragePooling3D(data_format=CL), (2, 3, 4, 5, 3)),
    ("gap keepdims cf", layers.GlobalAveragePooling3D(data_format=CF, keepdims=True), (2, 3, 4, 5, 3)),
    ("gmp cl keepdims", layers.GlobalMaxPooling3D(data_format=CL, keepdims=True), (2, 3, 4, 5, 3)),
    ("gmp cf", layers.GlobalMaxPooling3D(data_format=CF), (2, 3, 4, 5, 3)),
    ("upsampling cl", layers.UpSampling3D((2, 1, 3), data_format=CL), (2, 2, 3, 2, 2)),
    ("upsampling cf", layers.UpSampling3D(2, data_format=CF), (1, 2, 2, 3, 2)),
    ("zeropadding cf", layers.ZeroPadding3D(((1, 2), (0, 1), (2, 0)), data_format=CF), (2, 2, 2, 3, 2)),
    ("zeropadding cl", layers.ZeroPadding3D(1, data_format=CL), (1, 2, 1, 2, 2)),
    ("cropping cl", layers.Cropping3D(((1, 0), (0, 2), (1, 1)), data_format=CL), (2, 3, 4, 5, 2)),
    ("cropping cf", layers.Cropping3D(1, data_format=CF), (1, 2, 3, 4, 5)),
]
for name, layer, shape in pool_cases:
    show(name, layer(vals(shape, 0.1)))

# --- Two SGD steps of Conv3D -> MaxPooling3D -> GlobalAveragePooling3D -> Dense -------------
x = vals((2, 5, 6, 5, 2), 0.1)
y = vals((2, 3), 0.9, 0.5)
model = keras.Sequential([
    keras.Input((5, 6, 5, 2)),
    layers.Conv3D(4, 2, activation="relu", padding="same", data_format=CL),
    layers.MaxPooling3D(2, data_format=CL),
    layers.GlobalAveragePooling3D(data_format=CL),
    layers.Dense(3),
])
conv3d_weights(model.layers[0])
dense = model.layers[3]
dense.set_weights([vals((3, 4), 0.7, 0.5).T, vals((3,), 0.2, 0.1)])
model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
h = model.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0)
print(f"// sgd: losses per epoch {h.history['loss']}")
k, b = model.layers[0].get_weights()
show("sgd conv weight (ours)", k.transpose(4, 3, 0, 1, 2))
show("sgd conv bias", b)
k, b = dense.get_weights()
show("sgd dense weight (ours)", k.T)
show("sgd dense bias", b)

# --- Conv1DTranspose and Conv3DTranspose ----------------------------------------------------
def transpose_weights(layer, rank):
    """Kernel vals(ours, 0.3, 0.4) in PyTorch's layout [in, filters, k..], bias vals([filters], 0.5, 0.1)."""
    k = layer.kernel.shape  # (k.., filters, in)
    ours = vals((k[rank + 1], k[rank]) + tuple(k[:rank]), 0.3, 0.4)
    w = [ours.transpose(tuple(range(2, rank + 2)) + (1, 0))]
    if layer.use_bias:
        w.append(vals((k[rank],), 0.5, 0.1))
    layer.set_weights(w)


transpose_cases = [
    ("conv1dt valid stride2 cl", 1, (2, 5, 3), dict(filters=2, kernel_size=3, strides=2, data_format=CL)),
    ("conv1dt same stride3 cf", 1, (2, 3, 4), dict(filters=2, kernel_size=2, strides=3, padding="same",
                                                 data_format=CF)),
    ("conv1dt valid output_padding cl", 1, (2, 4, 2), dict(filters=3, kernel_size=3, strides=2, output_padding=1,
                                                          data_format=CL)),
    ("conv1dt same output_padding cl", 1, (2, 5, 2), dict(filters=2, kernel_size=4, strides=3, output_padding=2,
                                                         padding="same", data_format=CL)),
    ("conv1dt dilation same no bias cl", 1, (2, 6, 2), dict(filters=2, kernel_size=3, dilation_rate=2,
                                                           padding="same", use_bias=False, data_format=CL)),
    ("conv3dt same strides cl", 3, (2, 2, 3, 2, 2), dict(filters=2, kernel_size=(2, 3, 3), strides=(2, 1, 2),
                                                        padding="same", data_format=CL)),
    ("conv3dt valid output_padding cf", 3, (1, 2, 2, 3, 2), dict(filters=3, kernel_size=2, strides=(2, 3, 2),
                                                                output_padding=(1, 2, 0), data_format=CF)),
]
for name, rank, shape, kw in transpose_cases:
    layer = (layers.Conv1DTranspose if rank == 1 else layers.Conv3DTranspose)(**kw)
    layer.build(shape)
    transpose_weights(layer, rank)
    show(name, layer(vals(shape, 0.1)))
