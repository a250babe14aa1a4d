"""Keras 3 (torch backend) numbers for tests/on_batch.rs: train_on_batch, test_on_batch and
predict_on_batch on a small Dense model with fixed weights.

Run: KERAS_BACKEND=torch PYTHONPATH=$CACHE/py-keras:$CACHE/torch-2.11.0 python3 tests/reference/keras_on_batch.py
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np
import keras

X = np.array([[0.5, -1.0, 2.0, 0.1], [1.5, 0.2, -0.3, 0.7], [-0.4, 0.9, 1.1, -1.2],
              [0.3, 0.3, 0.3, 0.3], [2.0, -0.5, 0.0, 1.0], [-1.0, -1.0, 0.5, 0.25]], dtype="float32")
Y = np.array([[1.0], [0.0], [2.0], [-1.0], [0.5], [1.5]], dtype="float32")
W = np.array([1.0, 0.0, 2.0, 0.5, 3.0, 1.0], dtype="float32")
KERNEL = np.array([[0.1], [-0.2], [0.3], [0.05]], dtype="float32")
BIAS = np.array([0.1], dtype="float32")


def p(name, v):
    print(f"{name} = {np.array(v).ravel().tolist()}")


m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
m.set_weights([KERNEL, BIAS])
m.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse", metrics=["mae"])
# Three calls: the first four samples, the last two, then all six with sample weights. Each
# returns that batch's values (Keras 3 resets the metrics at each call).
print("first =", m.train_on_batch(X[:4], Y[:4], return_dict=True))
print("second =", m.train_on_batch(X[4:], Y[4:], return_dict=True))
print("weighted =", m.train_on_batch(X, Y, sample_weight=W, return_dict=True))
p("kernel", m.get_weights()[0])
p("bias", m.get_weights()[1])
print("iterations =", int(m.optimizer.iterations.numpy()))
print("test =", m.test_on_batch(X, Y, return_dict=True))
print("test_weighted =", m.test_on_batch(X, Y, sample_weight=W, return_dict=True))
p("predict", m.predict_on_batch(X[:3]))
