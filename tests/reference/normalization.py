"""Keras 3 numbers for tests/normalization.rs: Normalization.adapt on fixed data, its output and
the model's parameter counts."""
import numpy as np
import keras
from keras import layers

np.set_printoptions(precision=8, suppress=False)

# (6, 3) features, adapt over the samples (axis=-1).
x = np.array([[1., 2., 30.], [2., 4., 10.], [3., 6., 20.], [4., 9., 40.], [5., 1., 50.], [9., 3., 0.]],
             dtype="float32")
norm = layers.Normalization()
norm.adapt(x)
print("mean", norm.adapt_mean.numpy().tolist())
print("variance", norm.adapt_variance.numpy().tolist())
print("count", int(norm.count.numpy()))
q = np.array([[0., 5., 25.], [10., -1., 60.]], dtype="float32")
print("out", np.asarray(norm(q)).tolist())
model = keras.Sequential([keras.Input((3,)), norm, layers.Dense(2)])
print("params", model.count_params(),
      "non_trainable", sum(int(np.prod(w.shape)) for w in model.non_trainable_weights))

# Channels-first images (2, 2, 3) = (c, h, w), per-channel statistics: axis=1.
img = np.arange(24, dtype="float32").reshape(2, 2, 2, 3) ** 1.5
ch = layers.Normalization(axis=1)
ch.adapt(img)
print("img_mean", ch.adapt_mean.numpy().tolist())
print("img_variance", ch.adapt_variance.numpy().tolist())
print("img_count", int(ch.count.numpy()))

# axis=None: one mean and variance.
g = layers.Normalization(axis=None)
g.adapt(x)
print("global", float(g.adapt_mean.numpy()), float(g.adapt_variance.numpy()))

# Given directly: no variables; a constant feature (variance 0) divides by epsilon.
d = layers.Normalization(mean=[1., 2., 3.], variance=[4., 0., 1.])
print("given_out", np.asarray(d(np.array([[3., 2.5, 5.]], dtype="float32"))).tolist())
m2 = keras.Sequential([keras.Input((3,)), d])
print("given_params", m2.count_params())
