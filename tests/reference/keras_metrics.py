"""Keras 3 (torch backend) values for tests/metrics.rs.

Run: KERAS_BACKEND=torch PYTHONPATH=$CACHE/py-keras:$CACHE/torch-2.11.0 python3 tests/reference/keras_metrics.py
(CACHE=/root/.cache/tch-keras). Each metric is updated batch by batch (the batch sizes the Rust
test's `evaluate` uses) and its final result printed; the data is repeated in the test.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402
import numpy as np  # noqa: E402

Y = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1], "float32")[:, None]
P = np.array([0.1, 0.8, 0.35, 0.4, 0.9, 0.65, 0.05, 0.5, 0.72, 0.3, 0.2, 0.55, 0.97, 0.0, 0.61, 0.45,
              0.81, 0.12, 0.5, 0.99, 0.25, 0.33, 1.0], "float32")[:, None]
Y3 = np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 0], [1, 0, 0], [0, 0, 0], [1, 1, 1], [0, 1, 1]], "float32")
P3 = np.array([[0.9, 0.2, 0.4], [0.6, 0.1, 0.8], [0.7, 0.45, 0.3], [0.2, 0.9, 0.55],
               [0.35, 0.6, 0.1], [0.51, 0.49, 0.05], [0.8, 0.3, 0.95], [0.1, 0.75, 0.25]], "float32")
SCORES = np.array([[0.1, 0.5, 0.2, 0.9, 0.3], [0.6, 0.6, 0.1, 0.2, 0.6], [0.3, 0.2, 0.1, 0.05, 0.4],
                   [0.9, 0.8, 0.7, 0.6, 0.5], [0.2, 0.2, 0.2, 0.2, 0.2], [0.05, 0.1, 0.3, 0.2, 0.25],
                   [0.7, 0.1, 0.6, 0.3, 0.2], [0.4, 0.45, 0.5, 0.35, 0.3], [0.15, 0.9, 0.8, 0.85, 0.1]], "float32")
LABELS = np.array([1, 4, 3, 4, 2, 0, 2, 1, 3])
LABELS2 = np.array([3, 0, 4, 1, 0, 2, 0, 2, 3])


def streamed(metric, y_true, y_pred, batch):
    for start in range(0, len(y_true), batch):
        metric.update_state(y_true[start:start + batch], y_pred[start:start + batch])
    return float(keras.ops.convert_to_numpy(metric.result()))


M = keras.metrics
print("# keras", keras.__version__)
for name, metric, args in [
    ("auc", M.AUC(), (Y, P, 5)),
    ("auc_pr", M.AUC(curve="PR"), (Y, P, 5)),
    ("auc_roc_minoring", M.AUC(summation_method="minoring"), (Y, P, 5)),
    ("auc_pr_majoring", M.AUC(curve="PR", summation_method="majoring"), (Y, P, 5)),
    ("auc_7", M.AUC(num_thresholds=7), (Y, P, 5)),
    ("auc_pr_7", M.AUC(num_thresholds=7, curve="PR"), (Y, P, 5)),
    ("auc_multi", M.AUC(), (Y3, P3, 3)),
    ("precision", M.Precision(), (Y, P, 5)),
    ("recall", M.Recall(), (Y, P, 5)),
    ("precision_0.3", M.Precision(thresholds=0.3), (Y, P, 5)),
    ("recall_0.7", M.Recall(thresholds=0.7), (Y, P, 5)),
    ("precision_multi", M.Precision(), (Y3, P3, 3)),
    ("recall_multi", M.Recall(), (Y3, P3, 3)),
    ("binary_accuracy", M.BinaryAccuracy(), (Y, P, 5)),
    ("binary_accuracy_0.7", M.BinaryAccuracy(threshold=0.7), (Y, P, 5)),
    ("binary_accuracy_multi", M.BinaryAccuracy(), (Y3, P3, 3)),
    ("top_2", M.TopKCategoricalAccuracy(k=2), (np.eye(5, dtype="float32")[LABELS], SCORES, 4)),
    ("top_3", M.TopKCategoricalAccuracy(k=3), (np.eye(5, dtype="float32")[LABELS], SCORES, 4)),
    ("sparse_top_2", M.SparseTopKCategoricalAccuracy(k=2), (LABELS, SCORES, 4)),
    ("sparse_top_1", M.SparseTopKCategoricalAccuracy(k=1), (LABELS, SCORES, 4)),
    ("categorical_accuracy", M.CategoricalAccuracy(), (np.eye(5, dtype="float32")[LABELS2], SCORES, 4)),
    ("sparse_categorical_accuracy", M.SparseCategoricalAccuracy(), (LABELS2, SCORES, 4)),
    ("categorical_accuracy_multi_hot", M.CategoricalAccuracy(), (Y3, P3, 3)),
]:
    print(f"{name} = {streamed(metric, *args):.9g}")

# Weighted metrics (compile's weighted_metrics): update_state(..., sample_weight=w), same batches.
W = np.array([1.0, 0.5, 2.0, 0.0, 1.0, 3.0, 1.0, 0.25, 1.0, 2.0, 1.0, 0.5, 1.0, 1.0, 0.0, 2.0, 1.5, 1.0,
              1.0, 0.5, 1.0, 2.5, 1.0], "float32")
W3 = np.array([1.0, 2.0, 0.5, 0.0, 1.0, 3.0, 1.0, 0.25], "float32")


def streamed_weighted(metric, y_true, y_pred, w, batch):
    for start in range(0, len(y_true), batch):
        s = slice(start, start + batch)
        metric.update_state(y_true[s], y_pred[s], sample_weight=w[s])
    return float(keras.ops.convert_to_numpy(metric.result()))


for name, metric, args in [
    ("w_auc", M.AUC(), (Y, P, W, 5)),
    ("w_auc_pr", M.AUC(curve="PR"), (Y, P, W, 5)),
    ("w_precision", M.Precision(), (Y, P, W, 5)),
    ("w_recall", M.Recall(), (Y, P, W, 5)),
    ("w_binary_accuracy", M.BinaryAccuracy(), (Y, P, W, 5)),
    ("w_mae", M.MeanAbsoluteError(), (Y, P, W, 5)),
    ("w_precision_multi", M.Precision(), (Y3, P3, W3, 3)),
    ("w_auc_multi", M.AUC(), (Y3, P3, W3, 3)),
    ("w_binary_accuracy_multi", M.BinaryAccuracy(), (Y3, P3, W3, 3)),
]:
    print(f"{name} = {streamed_weighted(metric, *args):.9g}")

# Arg-max accuracies on activated outputs: a ReLU output with every entry negative is all
# zeros (a tie: Keras's argmax takes the first index), and sigmoid saturates to 1.0 in float32
# (20 and 30 tie). The rows are pre-activation outputs; the metrics see activation(row).
RAW = np.array([[-3, -1, -2], [-2, -5, -1], [0.5, -1, 2], [-1, -3, -2], [20, 30, -1]], "float32")
RAW_LABELS = np.array([1, 2, 2, 0, 1])
for act in ["relu", "sigmoid", "tanh", "linear"]:
    out = keras.activations.get(act)(RAW)
    print(f"argmax_{act} =", keras.ops.convert_to_numpy(keras.ops.argmax(out, axis=-1)).tolist(),
          f"sparse_categorical_accuracy {streamed(M.SparseCategoricalAccuracy(), RAW_LABELS, out, 5):.9g}",
          f"categorical_accuracy {streamed(M.CategoricalAccuracy(), np.eye(3, dtype='float32')[RAW_LABELS], out, 5):.9g}")

# Repeated metric names: what fit logs (sorted keys) for metrics and weighted_metrics.
x = np.sin(np.arange(24, dtype="float32")).reshape(8, 3)
y = (x[:, :1] > 0).astype("float32")
for metrics, weighted in [(["accuracy"], ["accuracy"]), (["accuracy", "accuracy"], ["accuracy", "accuracy", "mae"]),
                          (["mae"], ["mae", "accuracy"])]:
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer="sgd", loss="binary_crossentropy", metrics=metrics, weighted_metrics=weighted)
    h = m.fit(x, y, epochs=1, verbose=0, validation_data=(x, y))
    print(f"names metrics={metrics} weighted_metrics={weighted}:", sorted(h.history))
