"""Keras 3 (torch backend) numbers for tests/sequence_weights.rs: per-timestep sample weights
`(N, T)` (zeros on padded steps) for per-timestep outputs: an Embedding -> LSTM(return_sequences)
-> Dense(softmax) tagger with sparse labels `(N, T)` (evaluate, two SGD train_on_batch steps, fit
with weighted validation data), the masked sparse loss (`ignore_class`), and a Dense regression
on `(N, T, F)` inputs with mse and mae losses.

Values are `vals(shape, offset, scale) = sin(0.7 * i + offset) * scale` as in tests/seq_labels.rs.

Run: KERAS_BACKEND=torch PYTHONPATH=$CACHE/py-keras:$CACHE/torch-2.11.0 python3 tests/reference/keras_sequence_weights.py
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


def logs(name, d):
    print(f"{name} = {sorted((k, float(v)) for k, v in d.items())}")


N, T, C = 5, 3, 4
TOKENS = np.array([[1, 4, 6], [0, 2, 2], [5, 3, 1], [6, 6, 0], [2, 1, 3]], dtype="int64")
LABELS = np.array([[0, 3, 1], [2, 2, 0], [1, 3, 3], [0, 1, 2], [3, 0, 1]], dtype="int64")
# Per-timestep weights: sequences 2 and 3 are padded after 2 and 1 steps (weight 0 there).
WS = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0], [2.0, 0.0, 0.0], [0.5, 1.5, 1.0], [1.0, 3.0, 0.5]],
              dtype="float32")
# The labels changed on the zero-weight steps only.
LABELS_PADDED = LABELS.copy()
LABELS_PADDED[1, 2] = 3
LABELS_PADDED[2, 1:] = [0, 1]


def tagger(loss="sparse_categorical_crossentropy", metrics=("accuracy",),
           weighted_metrics=("accuracy", "sce")):
    m = keras.Sequential([keras.Input((T,), dtype="int64"), keras.layers.Embedding(7, 3),
                          keras.layers.LSTM(4, return_sequences=True),
                          keras.layers.Dense(C, activation="softmax")])
    emb = vals((7, 3), 0.1, 0.8)
    w_ih, w_hh, b = vals((16, 3), 0.5, 0.5), vals((16, 4), 0.9, 0.5), vals((16,), 1.3, 0.2)
    dense_w, dense_b = vals((C, 4), 1.7, 0.7), vals((C,), 2.1, 0.1)  # PyTorch layout [out, in]
    m.set_weights([emb, w_ih.T, w_hh.T, b, dense_w.T, dense_b])
    weighted = [keras.metrics.SparseCategoricalCrossentropy(name="sce") if w == "sce" else w
                for w in weighted_metrics]
    m.compile(optimizer=keras.optimizers.SGD(0.5), loss=loss, metrics=list(metrics),
              weighted_metrics=weighted)
    return m


# Tagger: evaluate in one batch and in batches of 2, then two train_on_batch steps.
m = tagger()
logs("tagger_evaluate", m.evaluate(TOKENS, LABELS, sample_weight=WS, batch_size=N, verbose=0, return_dict=True))
logs("tagger_evaluate_b2", m.evaluate(TOKENS, LABELS, sample_weight=WS, batch_size=2, verbose=0, return_dict=True))
logs("tagger_evaluate_padded",
     m.evaluate(TOKENS, LABELS_PADDED, sample_weight=WS, batch_size=N, verbose=0, return_dict=True))
# (N, T, 1) weights: Keras squeezes the trailing 1.
logs("tagger_evaluate_t1",
     m.evaluate(TOKENS, LABELS, sample_weight=WS[:, :, None], batch_size=N, verbose=0, return_dict=True))
logs("tagger_step1", m.train_on_batch(TOKENS, LABELS, sample_weight=WS, return_dict=True))
logs("tagger_step2", m.train_on_batch(TOKENS, LABELS, sample_weight=WS, return_dict=True))
p("tagger_dense_bias", m.layers[-1].get_weights()[1])
p("tagger_dense_kernel", m.layers[-1].get_weights()[0].T)

# The same two steps through fit (batch N, no shuffle), with weighted validation data.
m = tagger()
h = m.fit(TOKENS, LABELS, sample_weight=WS, batch_size=N, epochs=2, shuffle=False, verbose=0,
          validation_data=(TOKENS, LABELS, WS))
for k in sorted(h.history):
    p(f"tagger_fit_{k}", h.history[k])
p("tagger_fit_dense_bias", m.layers[-1].get_weights()[1])

# One-hot targets (N, T, C) and categorical cross-entropy: the same numbers.
m = tagger("categorical_crossentropy", weighted_metrics=("accuracy",))
ONE_HOT = np.eye(C, dtype="float32")[LABELS]
logs("tagger_onehot_step1", m.train_on_batch(TOKENS, ONE_HOT, sample_weight=WS, return_dict=True))
# With a weighted precision (each timestep's weight on each of its C outputs), in batches of 2.
m = tagger("categorical_crossentropy", weighted_metrics=("accuracy", keras.metrics.Precision(0.27, name="prec")))
logs("tagger_onehot_precision",
     m.evaluate(TOKENS, ONE_HOT, sample_weight=WS, batch_size=2, verbose=0, return_dict=True))

# The masked sparse loss with per-timestep weights (ignore_class=3), on the tagger's outputs.
m = tagger(keras.losses.SparseCategoricalCrossentropy(ignore_class=3), (), ())
logs("tagger_ignore_evaluate", m.evaluate(TOKENS, LABELS, sample_weight=WS, batch_size=N, verbose=0,
                                          return_dict=True))
logs("tagger_ignore_step1", m.train_on_batch(TOKENS, LABELS, sample_weight=WS, return_dict=True))
p("tagger_ignore_dense_bias", m.layers[-1].get_weights()[1])

# Regression: Dense(D) on (N, T, F), mse and mae losses, per-timestep weights.
F, D = 3, 2
X = vals((N, T, F), 0.2, 1.5)
Y = vals((N, T, D), 1.1, 1.0)
for loss in ["mse", "mae"]:
    m = keras.Sequential([keras.Input((T, F)), keras.layers.Dense(D)])
    m.set_weights([vals((D, F), 0.4, 0.6).T, vals((D,), 0.8, 0.1)])
    m.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss, metrics=["mae"],
              weighted_metrics=["mae", "mse"])
    logs(f"reg_{loss}_evaluate", m.evaluate(X, Y, sample_weight=WS, batch_size=2, verbose=0, return_dict=True))
    logs(f"reg_{loss}_step1", m.train_on_batch(X, Y, sample_weight=WS, return_dict=True))
    logs(f"reg_{loss}_step2", m.train_on_batch(X, Y, sample_weight=WS, return_dict=True))
    p(f"reg_{loss}_kernel", m.layers[0].get_weights()[0].T)
    p(f"reg_{loss}_bias", m.layers[0].get_weights()[1])
