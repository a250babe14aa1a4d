"""Keras 3 (torch backend) numbers for tests/fit_options.rs: sample and class weights in fit and
evaluate, and the parameter counts of a model with a frozen Dense.

Run: KERAS_BACKEND=torch PYTHONPATH=$CACHE/py-keras:$CACHE/torch-2.11.0 python3 tests/reference/keras_fit_options.py
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


def regression():
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    m.set_weights([KERNEL, BIAS])
    return m


def p(name, v):
    print(f"{name} = {np.array(v).ravel().tolist()}")


# 1. one full-batch SGD step with sample weights, MSE.
m = regression()
m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"], weighted_metrics=["mse"])
h = m.fit(X, Y, sample_weight=W, batch_size=6, epochs=1, shuffle=False, verbose=0)
print("weighted_fit_logs =", {k: v[0] for k, v in h.history.items()})
p("weighted_fit_kernel", m.get_weights()[0])
p("weighted_fit_bias", m.get_weights()[1])

# 2. evaluate with sample weights (batches of 4: 4 + 2 samples).
m = regression()
m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"], weighted_metrics=["mse"])
print("weighted_evaluate =", m.evaluate(X, Y, sample_weight=W, batch_size=4, verbose=0, return_dict=True))
print("unweighted_evaluate =", m.evaluate(X, Y, batch_size=4, verbose=0, return_dict=True))

# 3. class_weight on an imbalanced binary set: one full-batch SGD step.
XB = np.array([[0.2, 1.0], [1.0, -0.5], [-0.3, 0.4], [0.8, 0.8], [-1.0, 0.1], [0.5, -1.5],
               [0.0, 0.3], [1.2, 0.6]], dtype="float32")
YB = np.array([[0], [0], [0], [0], [0], [0], [1], [1]], dtype="float32")
mb = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
mb.set_weights([np.array([[0.3], [-0.4]], dtype="float32"), np.array([0.05], dtype="float32")])
mb.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
h = mb.fit(XB, YB, class_weight={0: 1.0, 1: 3.0}, batch_size=8, epochs=1, shuffle=False, verbose=0)
print("class_weight_loss =", h.history["loss"][0])
p("class_weight_kernel", mb.get_weights()[0])
p("class_weight_bias", mb.get_weights()[1])

# 4. parameter counts with a frozen Dense.
mf = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                       keras.layers.BatchNormalization(), keras.layers.Dense(4)])
mf.layers[0].trainable = False
mf.compile(optimizer="sgd", loss="mse")
trainable = sum(int(np.prod(w.shape)) for w in mf.trainable_weights)
frozen = sum(int(np.prod(w.shape)) for w in mf.non_trainable_weights)
print("frozen_counts =", {"total": mf.count_params(), "trainable": trainable, "non_trainable": frozen})

# 5. validation_split (the last 30% of 13 samples: 4) with sample weights, then with class
# weights (training part only), batches of 4 (a partial last batch), 2 epochs, no shuffling;
# then evaluate in batches of 5 with and without sample weights. Data: vals(shape, offset) =
# sin(0.7 * i + offset) * scale, as tests/reference/layers.py.
def vals(shape, offset, scale=1.0):
    n = int(np.prod(shape))
    return (np.sin(np.arange(n, dtype=np.float64) * 0.7 + offset) * scale).astype(np.float32).reshape(shape)


def history(h):
    return {k: [float(f"{x:.9g}") for x in v] for k, v in h.history.items()}


XS, YS = vals((13, 3), 0.1), vals((13, 2), 0.5)
WS = (np.arange(13) % 4 * 0.5).astype("float32")
m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
m.set_weights([vals((3, 2), 0.9, 0.5), vals((2,), 1.3, 0.1)])
m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"], weighted_metrics=["mse"])
h = m.fit(XS, YS, sample_weight=WS, batch_size=4, epochs=2, shuffle=False, validation_split=0.3, verbose=0)
print("split_weighted_history =", history(h))
p("split_weighted_kernel (in, out)", m.get_weights()[0])
p("split_weighted_bias", m.get_weights()[1])

YSB = (vals((13, 1), 2.0) > 0).astype("float32")
mb = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
mb.set_weights([vals((3, 1), 2.1, 0.5), np.array([0.05], "float32")])
mb.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy",
           metrics=["accuracy", keras.metrics.AUC(name="auc")], weighted_metrics=["accuracy"])
h = mb.fit(XS, YSB, class_weight={0: 1.0, 1: 3.0}, batch_size=4, epochs=2, shuffle=False, validation_split=0.3,
           verbose=0)
print("split_class_history =", history(h))
p("split_class_kernel", mb.get_weights()[0])
p("split_class_bias", mb.get_weights()[1])
print("evaluate_batch_5 =", mb.evaluate(XS, YSB, batch_size=5, verbose=0, return_dict=True))
print("evaluate_weighted_batch_5 =", mb.evaluate(XS, YSB, sample_weight=WS, batch_size=5, verbose=0, return_dict=True))

# 6. sample weights of shape (N, 1): the same numbers as sections 1 and 2 with shape (N,).
m = regression()
m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"], weighted_metrics=["mse"])
h = m.fit(X, Y, sample_weight=W[:, None], batch_size=6, epochs=1, shuffle=False, verbose=0)
print("column_weights_fit_logs =", {k: v[0] for k, v in h.history.items()})
p("column_weights_fit_kernel", m.get_weights()[0])
m = regression()
m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"], weighted_metrics=["mse"])
print("column_weights_evaluate =",
      m.evaluate(X, Y, sample_weight=W[:, None], batch_size=4, verbose=0, return_dict=True))
