"""Reference numbers for tests/residual.rs, computed with Keras 3 (torch backend).

Run: KERAS_BACKEND=torch PYTHONPATH=<py-keras>:<torch> python3 tests/reference/keras_residual.py

The functional ResNet-style model a Keras user writes, in Keras's default channels-last layout:

    x = Input((7, 7, 1))
    x = Conv2D(4, 3, padding="same", activation="relu")(x)
    # a block that changes the shape, with a projection shortcut
    y = Conv2D(6, 3, strides=2, padding="same")(x); y = BatchNormalization()(y)
    y = Activation("relu")(y)
    y = Conv2D(6, 3, padding="same")(y); y = BatchNormalization()(y)
    s = Conv2D(6, 1, strides=2)(x); s = BatchNormalization()(s)
    x = Activation("relu")(Add()([y, s]))
    # a block with an identity shortcut
    y = Conv2D(6, 3, padding="same", activation="relu")(x); y = Conv2D(6, 3, padding="same")(y)
    x = Activation("relu")(Add()([y, x]))
    x = GlobalAveragePooling2D()(x)
    out = Dense(3, activation="softmax")(x)

Every input and weight is `vals(shape, offset, scale) + base`: sin(0.7 * i + offset) * scale
over the flattened shape, the formula the Rust test uses. The weights are listed below by their
tch-keras names, in tch-keras's layout (a Conv2D kernel is [out, in, kh, kw], a Dense kernel
[units, in]), and converted here to Keras's (HWIO kernels, [in, units]). The input is made in
tch-keras's [N, C, H, W] layout and transposed to Keras's [N, H, W, C].

Printed: the predictions before training, the loss of two full-batch SGD(0.1) steps with
categorical cross-entropy (fit, batch 4, no shuffling), per variable (in tch-keras's layout and
name order) the sum of its values and the sum of value * sin(index) after those steps, and the
predictions after them (moving statistics included).
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np
import keras
from keras import layers


def vals(shape, offset, scale=1.0):
    n = int(np.prod(shape))
    return (np.sin(np.arange(n, dtype=np.float64) * 0.7 + offset) * scale).astype(np.float32).reshape(shape)


def show(name, v):
    v = np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float64).reshape(-1)
    print(f"// {name}")
    print("&[" + ", ".join(f"{x:.8}" for x in v) + "],")


# name -> (shape in tch-keras's layout, offset, scale, base); the Rust test holds the same table.
WEIGHTS = [
    ("layers.0.weight", (4, 1, 3, 3), 0.1, 0.5, 0.0),
    ("layers.0.bias", (4,), 0.2, 0.1, 0.0),
    ("layers.1.block.0.weight", (6, 4, 3, 3), 0.3, 0.3, 0.0),
    ("layers.1.block.0.bias", (6,), 0.4, 0.1, 0.0),
    ("layers.1.block.1.weight", (6,), 0.5, 0.2, 1.0),
    ("layers.1.block.1.bias", (6,), 0.6, 0.1, 0.0),
    ("layers.1.block.1.running_mean", (6,), 0.7, 0.1, 0.0),
    ("layers.1.block.1.running_var", (6,), 0.8, 0.3, 1.0),
    ("layers.1.block.3.weight", (6, 6, 3, 3), 0.9, 0.25, 0.0),
    ("layers.1.block.3.bias", (6,), 1.0, 0.1, 0.0),
    ("layers.1.block.4.weight", (6,), 1.1, 0.2, 1.0),
    ("layers.1.block.4.bias", (6,), 1.2, 0.1, 0.0),
    ("layers.1.block.4.running_mean", (6,), 1.3, 0.1, 0.0),
    ("layers.1.block.4.running_var", (6,), 1.4, 0.3, 1.0),
    ("layers.1.shortcut.0.weight", (6, 4, 1, 1), 1.5, 0.5, 0.0),
    ("layers.1.shortcut.0.bias", (6,), 1.6, 0.1, 0.0),
    ("layers.1.shortcut.1.weight", (6,), 1.7, 0.2, 1.0),
    ("layers.1.shortcut.1.bias", (6,), 1.8, 0.1, 0.0),
    ("layers.1.shortcut.1.running_mean", (6,), 1.9, 0.1, 0.0),
    ("layers.1.shortcut.1.running_var", (6,), 2.0, 0.3, 1.0),
    ("layers.2.block.0.weight", (6, 6, 3, 3), 2.1, 0.25, 0.0),
    ("layers.2.block.0.bias", (6,), 2.2, 0.1, 0.0),
    ("layers.2.block.1.weight", (6, 6, 3, 3), 2.3, 0.25, 0.0),
    ("layers.2.block.1.bias", (6,), 2.4, 0.1, 0.0),
    ("layers.4.weight", (3, 6), 2.5, 0.5, 0.0),
    ("layers.4.bias", (3,), 2.6, 0.1, 0.0),
]
W = {name: vals(shape, offset, scale) + np.float32(base) for name, shape, offset, scale, base in WEIGHTS}

X_TCH = vals((4, 1, 7, 7), 0.3)
X = X_TCH.transpose(0, 2, 3, 1)
Y = np.eye(3, dtype=np.float32)[[0, 2, 1, 2]]


def conv(name, *args, **kwargs):
    return name, layers.Conv2D(*args, **kwargs)


def build():
    inp = keras.Input((7, 7, 1))
    named = {}

    def add(name, layer):
        named[name] = layer
        return layer

    x = add("layers.0", layers.Conv2D(4, 3, padding="same", activation="relu"))(inp)
    y = add("layers.1.block.0", layers.Conv2D(6, 3, strides=2, padding="same"))(x)
    y = add("layers.1.block.1", layers.BatchNormalization())(y)
    y = layers.Activation("relu")(y)
    y = add("layers.1.block.3", layers.Conv2D(6, 3, padding="same"))(y)
    y = add("layers.1.block.4", layers.BatchNormalization())(y)
    s = add("layers.1.shortcut.0", layers.Conv2D(6, 1, strides=2))(x)
    s = add("layers.1.shortcut.1", layers.BatchNormalization())(s)
    x = layers.Activation("relu")(layers.Add()([y, s]))
    y = add("layers.2.block.0", layers.Conv2D(6, 3, padding="same", activation="relu"))(x)
    y = add("layers.2.block.1", layers.Conv2D(6, 3, padding="same"))(y)
    x = layers.Activation("relu")(layers.Add()([y, x]))
    x = layers.GlobalAveragePooling2D()(x)
    out = add("layers.4", layers.Dense(3, activation="softmax"))(x)
    model = keras.Model(inp, out)
    for prefix, layer in named.items():
        if isinstance(layer, layers.BatchNormalization):
            keys = ["weight", "bias", "running_mean", "running_var"]
            layer.set_weights([W[f"{prefix}.{k}"] for k in keys])
        elif isinstance(layer, layers.Conv2D):
            layer.set_weights([W[f"{prefix}.weight"].transpose(2, 3, 1, 0), W[f"{prefix}.bias"]])
        else:
            layer.set_weights([W[f"{prefix}.weight"].T, W[f"{prefix}.bias"]])
    return model, named


def in_tch_layout(model, named):
    """Every variable by its tch-keras name, in tch-keras's layout."""
    out = {}
    for prefix, layer in named.items():
        w = [keras.ops.convert_to_numpy(v) for v in layer.weights]
        if isinstance(layer, layers.BatchNormalization):
            for k, v in zip(["weight", "bias", "running_mean", "running_var"], w):
                out[f"{prefix}.{k}"] = v
        elif isinstance(layer, layers.Conv2D):
            out[f"{prefix}.weight"] = w[0].transpose(3, 2, 0, 1)
            out[f"{prefix}.bias"] = w[1]
        else:
            out[f"{prefix}.weight"] = w[0].T
            out[f"{prefix}.bias"] = w[1]
    return out


def checksums(weights):
    """Per variable in name order: sum(v) and sum(v * sin(i)) over the flattened values."""
    sums = []
    for name in sorted(weights):
        v = weights[name].astype(np.float64).reshape(-1)
        sums += [v.sum(), (v * np.sin(np.arange(v.size))).sum()]
    return sums


print(f"// Keras {keras.__version__}")
model, named = build()
print(f"// count_params {model.count_params()}")
print(f"// variable names {sorted(in_tch_layout(model, named))}")
show("predictions before training", model.predict(X, verbose=0))
model.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy")
h = model.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0)
show("loss of the two steps", h.history["loss"])
show("checksums after two steps (sum, sum * sin(i)) per variable in name order", checksums(in_tch_layout(model, named)))
show("predictions after two steps", model.predict(X, verbose=0))
