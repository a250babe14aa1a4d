"""Reference numbers for tests/augmentation.rs, computed with Keras 3 (torch backend).

Run: KERAS_BACKEND=torch PYTHONPATH=<py-keras>:<torch> python3 tests/reference/augmentation.py

Ranges with lower == upper make Keras's random augmentations deterministic, so their outputs
can be compared. Images are channels-first [N, C, H, W]; the input is
`vals(shape, offset)`: sin(0.7 * i + offset) over the flattened shape, as in the Rust test.
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


CF = "channels_first"
print("// names and parameter counts")
for layer in [
    layers.RandomFlip(data_format=CF),
    layers.RandomTranslation(0.1, 0.1, data_format=CF),
    layers.RandomRotation(0.1, data_format=CF),
    layers.RandomZoom(0.1, data_format=CF),
    layers.RandomContrast(0.1),
    layers.RandomBrightness(0.1),
]:
    m = keras.Sequential([keras.Input((1, 6, 6)), layer])
    print(layer.name, m.count_params(), m.output_shape[1:])

x = vals((1, 2, 6, 8), 0.3)
cases = {
    "rotation 0.25 constant": layers.RandomRotation((0.25, 0.25), fill_mode="constant", data_format=CF),
    "rotation 0.5 constant": layers.RandomRotation((0.5, 0.5), fill_mode="constant", data_format=CF),
    "rotation 0.1 constant": layers.RandomRotation((0.1, 0.1), fill_mode="constant", data_format=CF),
    "rotation 0.1 nearest": layers.RandomRotation((0.1, 0.1), fill_mode="nearest", data_format=CF),
    "rotation 0.1 reflect": layers.RandomRotation((0.1, 0.1), fill_mode="reflect", data_format=CF),
    "translation down 2 right 1 constant 0.5": layers.RandomTranslation(
        (2 / 6, 2 / 6), (-1 / 8, -1 / 8), fill_mode="constant", fill_value=0.5, data_format=CF),
    "translation down 2 reflect": layers.RandomTranslation((2 / 6, 2 / 6), (0, 0), data_format=CF),
    "translation down 2 nearest": layers.RandomTranslation((2 / 6, 2 / 6), (0, 0), fill_mode="nearest",
                                                          data_format=CF),
    "translation 0.1 0.2 reflect": layers.RandomTranslation((0.1, 0.1), (0.2, 0.2), data_format=CF),
    "zoom out 0.5 constant": layers.RandomZoom((0.5, 0.5), fill_mode="constant", data_format=CF),
    "zoom in -0.3 width 0.2 reflect": layers.RandomZoom((-0.3, -0.3), (0.2, 0.2), data_format=CF),
}
for name, layer in cases.items():
    show(name, layer(x, training=True))
# (-0.5, 0.5): Keras draws the contrast from [1 - (-0.5), 1 + 0.5], always 1.5.
c = layers.RandomContrast((-0.5, 0.5), value_range=(-0.5, 0.5), data_format=CF)
show("contrast 1.5 value_range -0.5 0.5", c(x, training=True))
# (0.25, 0.25): Keras adds 0.25 of the value range, always.
b = layers.RandomBrightness((0.25, 0.25), value_range=(-0.5, 0.5), data_format=CF)
show("brightness 0.25 value_range -0.5 0.5", b(x, training=True))
# RandomContrast(0.5): the range of the contrasts Keras draws for a single number (each image's
# contrast estimated by least squares over 2000 images with values in [0.4, 0.6]).
xs = (np.random.default_rng(0).random((2000, 3, 4, 4)) * 0.2 + 0.4).astype("float32")
ys = keras.ops.convert_to_numpy(layers.RandomContrast(0.5, value_range=(0, 1), data_format=CF, seed=3)(xs, training=True))
dx = (xs - xs.mean(axis=(2, 3), keepdims=True)).reshape(2000, -1)
dy = (ys - ys.mean(axis=(2, 3), keepdims=True)).reshape(2000, -1)
cs = (dx * dy).sum(1) / (dx * dx).sum(1)
print(f"contrast 0.5 drawn in [{cs.min():.4f}, {cs.max():.4f}]")
