"""Reference numbers for the nested summary test in tests/residual.rs, computed with Keras 3
(torch backend).

Run: KERAS_BACKEND=torch PYTHONPATH=<py-keras>:<torch> python3 tests/reference/keras_residual_summary.py

The functional model a Keras user writes for tch-keras's `Residual` with a 1x1-conv + batch
norm projection shortcut and a nested identity block, channels-last:

    x = Input((8, 8, 3))
    y = Conv2D(8, 3, strides=2, padding="same")(x); y = BatchNormalization()(y)
    y = Activation("relu")(y)
    z = Conv2D(8, 3, padding="same")(y); z = BatchNormalization()(z)
    y = Activation("relu")(Add()([z, y]))            # the nested block, identity shortcut
    s = Conv2D(8, 1, strides=2)(x); s = BatchNormalization()(s)
    x = Add()([y, s])
    out = Dense(2)(GlobalAveragePooling2D()(x))

Printed: each weighted layer's parameter count, the model's count_params() and its trainable
and non-trainable counts (Keras's summary lists every layer of the functional model flat).
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras
from keras import layers

inp = keras.Input((8, 8, 3))
named = {}


def add(name, layer):
    named[name] = layer
    return layer


y = add("block.0 (Conv2D)", layers.Conv2D(8, 3, strides=2, padding="same"))(inp)
y = add("block.1 (BatchNormalization)", layers.BatchNormalization())(y)
y = layers.Activation("relu")(y)
z = add("block.3.block.0 (Conv2D)", layers.Conv2D(8, 3, padding="same"))(y)
z = add("block.3.block.1 (BatchNormalization)", layers.BatchNormalization())(z)
y = layers.Activation("relu")(layers.Add()([z, y]))
s = add("shortcut.0 (Conv2D)", layers.Conv2D(8, 1, strides=2))(inp)
s = add("shortcut.1 (BatchNormalization)", layers.BatchNormalization())(s)
x = layers.Add()([y, s])
x = layers.GlobalAveragePooling2D()(x)
out = add("dense (Dense)", layers.Dense(2))(x)
model = keras.Model(inp, out)

print(f"// Keras {keras.__version__}")
for name, layer in named.items():
    print(f"// {name}: {layer.count_params()} params, output {tuple(layer.output.shape)}")
print(f"// count_params {model.count_params()}")
print(f"// trainable {sum(int(keras.ops.size(w)) for w in model.trainable_weights)}")
print(f"// non-trainable {sum(int(keras.ops.size(w)) for w in model.non_trainable_weights)}")
