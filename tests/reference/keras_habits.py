"""Keras 3 (torch backend) behaviour for tests/keras_habits.rs: what `to_categorical` accepts.

Run: KERAS_BACKEND=torch PYTHONPATH=$CACHE/py-keras:$CACHE/torch-2.11.0 python3 tests/reference/keras_habits.py
(CACHE=/root/.cache/tch-keras).
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402
import numpy as np  # noqa: E402

print("# keras", keras.__version__)
for label, x in [
    ("float labels (3,)", np.array([1.0, 0.0, 2.0], "float32")),
    ("integer labels (3, 1)", np.array([[1], [0], [2]])),
    ("integer labels (2, 2)", np.array([[0, 1], [2, 0]])),
    ("fractional float labels (3,)", np.array([1.7, -0.5, 2.2])),
]:
    y = keras.utils.to_categorical(x, 3)
    print(f"to_categorical {label}, 3: shape {y.shape}", y.reshape(-1).astype(int).tolist())
