"""Reference numbers for tests/preprocessing.rs, computed with Keras 3.15.1 (torch backend).

Run: KERAS_BACKEND=torch PYTHONPATH=<py-keras>:<torch> python3 tests/reference/keras_preprocessing.py

Images are channels-first [N, C, H, W] (data_format="channels_first") unless a case says
channels_last; the input is `vals(shape, offset)`: sin(0.7 * i + offset) over the flattened
shape, as in the Rust test. Each case prints its output shape and values.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np
import keras
from keras import layers

CF = "channels_first"


def vals(shape, offset):
    n = int(np.prod(shape))
    return np.sin(np.arange(n, dtype=np.float64) * 0.7 + offset).astype(np.float32).reshape(shape)


def show(name, y):
    y = np.asarray(keras.ops.convert_to_numpy(y), dtype=np.float64)
    print(f"// {name}: shape {list(y.shape)}")
    print("&[" + ", ".join(f"{v:.7}" for v in y.reshape(-1)) + "],")


print("// Keras", keras.__version__)
x = vals((1, 2, 5, 7), 0.3)
for interp in ["bilinear", "nearest", "bicubic"]:
    for h, w in [(8, 11), (3, 4)]:
        show(f"Resizing({h}, {w}) {interp}", layers.Resizing(h, w, interpolation=interp, data_format=CF)(x))
show("Resizing(4, 4) crop_to_aspect_ratio", layers.Resizing(4, 4, crop_to_aspect_ratio=True, data_format=CF)(x))
show("Resizing(3, 8) crop_to_aspect_ratio nearest",
     layers.Resizing(3, 8, interpolation="nearest", crop_to_aspect_ratio=True, data_format=CF)(x))
show("Resizing(4, 4) pad_to_aspect_ratio fill 0.5",
     layers.Resizing(4, 4, pad_to_aspect_ratio=True, fill_value=0.5, data_format=CF)(x))
show("Resizing(3, 4) bilinear antialias", layers.Resizing(3, 4, antialias=True, data_format=CF)(x))
show("Resizing(3, 4) bicubic antialias",
     layers.Resizing(3, 4, interpolation="bicubic", antialias=True, data_format=CF)(x))
xl = vals((1, 5, 7, 2), 0.3)
show("Resizing(3, 4) channels_last on vals([1, 5, 7, 2])", layers.Resizing(3, 4, data_format="channels_last")(xl))

for h, w in [(3, 4), (6, 4), (8, 9)]:
    show(f"CenterCrop({h}, {w})", layers.CenterCrop(h, w, data_format=CF)(x))

rc = layers.RandomCrop(3, 4, seed=1, data_format=CF)
print("// RandomCrop(3, 4) at inference returns shape", list(rc(x, training=False).shape),
      "against its compute_output_shape", rc.compute_output_shape((1, 2, 5, 7)))
show("smart_resize to (3, 4) (RandomCrop's documented inference)",
     keras.preprocessing.image.smart_resize(x, (3, 4), data_format=CF))
for h, w in [(5, 4), (6, 8)]:
    show(f"RandomCrop({h}, {w}) training (fixed window)",
         layers.RandomCrop(h, w, seed=1, data_format=CF)(x, training=True))

ids = np.array([[0, 1, 1, 3], [2, 2, 0, 0]], dtype=np.float32)
for mode in ["one_hot", "multi_hot", "count"]:
    show(f"CategoryEncoding(4, {mode}) on {ids.tolist()}", layers.CategoryEncoding(4, output_mode=mode)(ids))
show("CategoryEncoding(5, one_hot) on [[3], [0], [4]]",
     layers.CategoryEncoding(5, output_mode="one_hot")(np.array([[3], [0], [4]], dtype=np.float32)))

values = np.array([[-1.0, 0.0, 0.5, 1.0], [2.5, 2.4999, 3.0, 100.0]], dtype=np.float32)
for mode in ["int", "one_hot", "multi_hot", "count"]:
    show(f"Discretization([0.0, 1.0, 2.5], {mode}) on {values.tolist()}",
         layers.Discretization(bin_boundaries=[0.0, 1.0, 2.5], output_mode=mode)(values))

xg = vals((2, 3, 2, 3), 0.5)
show("RandomGrayscale(1.0) training on vals([2, 3, 2, 3], 0.5)",
     layers.RandomGrayscale(1.0, data_format=CF)(xg, training=True))
