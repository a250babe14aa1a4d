"""Keras 3 (torch backend) numbers for tests/seq_labels.rs: sparse and categorical losses and
metrics on per-timestep outputs (N, T, C) with labels (N, T) or one-hot targets (N, T, C), with
and without per-sequence sample weights (N, 1), streamed over batches of 2; and one and two SGD
steps of Embedding -> LSTM(return_sequences) -> Dense(softmax) with fixed weights.

Values are `vals(shape, offset, scale) = sin(0.7 * i + offset) * scale` as in tests/seq_labels.rs.

Run: KERAS_BACKEND=torch PYTHONPATH=$CACHE/py-keras:$CACHE/torch-2.11.0 python3 tests/reference/seq_labels.py
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np
import keras


def vals(shape, offset, scale):
    n = int(np.prod(shape))
    return (np.sin(np.arange(n, dtype=np.float64) * 0.7 + offset) * scale).astype("float32").reshape(shape)


def p(name, v):
    print(f"{name} = {np.array(v, dtype=np.float64).ravel().tolist()}")


N, T, C = 5, 3, 4
LOGITS = vals((N, T, C), 0.3, 2.0)
PROBS = keras.ops.convert_to_numpy(keras.ops.softmax(LOGITS, axis=-1))
LABELS = np.array([[0, 3, 1], [2, 2, 0], [1, 3, 3], [0, 1, 2], [3, 0, 1]], dtype="int64")
ONE_HOT = np.eye(C, dtype="float32")[LABELS]
W = np.array([1.0, 0.0, 2.0, 0.5, 3.0], dtype="float32")
# Keras 3 broadcasts a weight of shape (N,) against the losses (N, T) from the right, and fails
# (or, with N == T, weighs timesteps): one weight per sequence is spelled (N, 1) there. tch-keras
# takes (N,) as one weight per sequence, which these (N, 1) numbers check.
W1 = W[:, None]
# With ignore_class, Keras 3 multiplies the weights by its mask in place, which needs them of the
# labels' shape: the same per-sequence weights repeated over the timesteps.
WT = np.repeat(W1, T, axis=1)
p("probs", PROBS)

# Losses on the whole batch, from probabilities and from logits, with and without weights.
for name, loss, y in [
    ("sparse", keras.losses.SparseCategoricalCrossentropy(), LABELS),
    ("sparse_logits", keras.losses.SparseCategoricalCrossentropy(from_logits=True), LABELS),
    ("sparse_ignore", keras.losses.SparseCategoricalCrossentropy(ignore_class=3), LABELS),
    ("categorical", keras.losses.CategoricalCrossentropy(), ONE_HOT),
]:
    pred = LOGITS if name == "sparse_logits" else PROBS
    p(f"loss_{name}", loss(y, pred))
    p(f"loss_{name}_weighted", loss(y, pred, sample_weight=WT if name == "sparse_ignore" else W1))


# A Dense(C) whose output is its input, evaluated in batches of 2: the loss and metrics stream.
def identity(loss, metrics, weighted_metrics=None):
    m = keras.Sequential([keras.Input((T, C)), keras.layers.Dense(C)])
    m.set_weights([np.eye(C, dtype="float32"), np.zeros(C, dtype="float32")])
    m.compile(optimizer="sgd", loss=loss, metrics=metrics, weighted_metrics=weighted_metrics)
    return m


sparse_metrics = ["accuracy",
                  keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2"),
                  keras.metrics.SparseCategoricalCrossentropy(name="sce")]
m = identity("sparse_categorical_crossentropy", sparse_metrics)
p("evaluate_sparse", m.evaluate(PROBS, LABELS, batch_size=2, verbose=0))
m = identity("sparse_categorical_crossentropy", ["sparse_categorical_accuracy"],
             weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="wacc")])
p("evaluate_sparse_weighted", m.evaluate(PROBS, LABELS, batch_size=2, sample_weight=W1, verbose=0))
m = identity(keras.losses.SparseCategoricalCrossentropy(ignore_class=3), [])
p("evaluate_sparse_ignore", m.evaluate(PROBS, LABELS, batch_size=2, verbose=0))
p("evaluate_sparse_ignore_weighted", m.evaluate(PROBS, LABELS, batch_size=2, sample_weight=WT, verbose=0))
m = identity("categorical_crossentropy", ["accuracy", "categorical_accuracy",
                                           keras.metrics.TopKCategoricalAccuracy(k=2, name="top2")])
p("evaluate_categorical", m.evaluate(PROBS, ONE_HOT, batch_size=2, verbose=0))
m = identity("categorical_crossentropy", [], weighted_metrics=["categorical_accuracy"])
p("evaluate_categorical_weighted", m.evaluate(PROBS, ONE_HOT, batch_size=2, sample_weight=W1, verbose=0))

# Embedding(7, 3) -> LSTM(4, return_sequences) -> Dense(C, softmax), SGD(0.5), two steps of 5.
TOKENS = np.array([[1, 4, 6], [0, 2, 2], [5, 3, 1], [6, 6, 0], [2, 1, 3]], dtype="int64")
emb = vals((7, 3), 0.1, 0.8)
w_ih, w_hh, b = vals((16, 3), 0.5, 0.5), vals((16, 4), 0.9, 0.5), vals((16,), 1.3, 0.2)
dense_w, dense_b = vals((C, 4), 1.7, 0.7), vals((C,), 2.1, 0.1)  # PyTorch layout [out, in]
for loss, y in [("sparse_categorical_crossentropy", LABELS), ("categorical_crossentropy", ONE_HOT)]:
    for sw in [None, W1]:
        m = keras.Sequential([keras.Input((T,), dtype="int64"), keras.layers.Embedding(7, 3),
                              keras.layers.LSTM(4, return_sequences=True),
                              keras.layers.Dense(C, activation="softmax")])
        m.set_weights([emb, w_ih.T, w_hh.T, b, dense_w.T, dense_b])
        m.compile(optimizer=keras.optimizers.SGD(0.5), loss=loss, metrics=["accuracy"])
        h = m.fit(TOKENS, y, batch_size=5, epochs=2, sample_weight=sw, shuffle=False, verbose=0)
        tag = f"fit_{loss.split('_')[0]}{'_weighted' if sw is not None else ''}"
        p(f"{tag}_loss", h.history["loss"])
        p(f"{tag}_accuracy", h.history["accuracy"])
        p(f"{tag}_dense_bias", m.layers[-1].get_weights()[1])
