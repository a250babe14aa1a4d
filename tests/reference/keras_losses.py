"""Keras 3 (torch backend) values for tests/losses.rs.

Run: KERAS_BACKEND=torch PYTHONPATH=$CACHE/py-keras:$CACHE/torch-2.11.0 python3 tests/reference/keras_losses.py
(CACHE=/root/.cache/tch-keras). Prints one `name = value` line per case, in the order the Rust
test lists them; the data below is repeated literally in the test.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402
import numpy as np  # noqa: E402

# Probabilities that do not sum to 1 per row (a linear or sigmoid last layer).
PROBS = np.array([[0.2, 0.5, 0.1], [0.7, 0.6, 0.05], [0.1, 0.1, 0.9], [0.3, 0.3, 0.3]], "float32")
LABELS = np.array([1, 0, 2, 1])
ONE_HOT = np.eye(3, dtype="float32")[LABELS]
LOGITS = np.array([[1.0, -2.0, 0.5], [0.3, 0.1, 2.2], [-1.0, 3.0, 0.0], [2.0, 2.0, -1.0]], "float32")
B_PROBS = np.array([[0.9, 0.2], [0.4, 0.6], [0.05, 0.99], [0.7, 0.3]], "float32")
B_LOGITS = np.array([[2.0, -1.0], [0.5, -0.3], [-3.0, 4.0], [0.0, 1.5]], "float32")
B_TRUE = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], "float32")
SOFT_TRUE = np.array([[0.1, 0.6, 0.3], [0.5, 0.5, 0.0], [0.2, 0.2, 0.6], [0.0, 1.0, 0.0]], "float32")
REG_TRUE = np.array([[1.0, -2.0, 0.0], [3.0, 0.5, 2.0], [-1.0, 4.0, 0.25], [0.0, 0.0, 0.0]], "float32")
REG_PRED = np.array([[0.5, -1.0, 0.3], [2.0, 1.5, 2.5], [1.0, 3.0, -0.5], [0.2, -0.1, 0.4]], "float32")
POS_PRED = np.array([[0.5, 1.0, 0.3], [2.0, 1.5, 2.5], [1.0, 3.0, 0.01], [0.2, 0.1, 0.4]], "float32")
COUNTS = np.array([[1.0, 0.0, 2.0], [3.0, 1.0, 2.0], [0.0, 4.0, 1.0], [0.0, 0.0, 0.0]], "float32")
HINGE_PM = np.array([[1, -1, 1], [-1, -1, 1], [1, 1, -1], [-1, 1, 1]], "float32")

L = keras.losses
CASES = [
    ("categorical_probs", L.CategoricalCrossentropy(), ONE_HOT, PROBS),
    ("sparse_probs", L.SparseCategoricalCrossentropy(), LABELS, PROBS),
    ("categorical_logits", L.CategoricalCrossentropy(from_logits=True), ONE_HOT, LOGITS),
    ("sparse_logits", L.SparseCategoricalCrossentropy(from_logits=True), LABELS, LOGITS),
    ("categorical_smooth", L.CategoricalCrossentropy(label_smoothing=0.1), ONE_HOT, PROBS),
    ("categorical_logits_smooth", L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2), ONE_HOT, LOGITS),
    ("binary_probs", L.BinaryCrossentropy(), B_TRUE, B_PROBS),
    ("binary_logits", L.BinaryCrossentropy(from_logits=True), B_TRUE, B_LOGITS),
    ("binary_smooth", L.BinaryCrossentropy(label_smoothing=0.1), B_TRUE, B_PROBS),
    ("binary_logits_smooth", L.BinaryCrossentropy(from_logits=True, label_smoothing=0.3), B_TRUE, B_LOGITS),
    ("kl_divergence", L.KLDivergence(), SOFT_TRUE, PROBS),
    ("poisson", L.Poisson(), COUNTS, POS_PRED),
    ("log_cosh", L.LogCosh(), REG_TRUE, REG_PRED),
    ("hinge_01", L.Hinge(), B_TRUE, B_LOGITS),
    ("hinge_pm", L.Hinge(), HINGE_PM, REG_PRED),
    ("squared_hinge_01", L.SquaredHinge(), B_TRUE, B_LOGITS),
    ("squared_hinge_pm", L.SquaredHinge(), HINGE_PM, REG_PRED),
    ("cosine_similarity", L.CosineSimilarity(), REG_TRUE, REG_PRED),
    ("msle", L.MeanSquaredLogarithmicError(), REG_TRUE, REG_PRED),
    ("mape", L.MeanAbsolutePercentageError(), REG_TRUE, REG_PRED),
    ("mape_nonzero", L.MeanAbsolutePercentageError(), POS_PRED, REG_PRED),
]

print(f"# keras {keras.__version__}, backend {keras.backend.backend()}")
for name, loss, y_true, y_pred in CASES:
    print(f"{name} = {float(keras.ops.convert_to_numpy(loss(y_true, y_pred))):.9g}")

# Weighted losses: sum(per-sample loss * w) / N.
W = np.array([0.5, 2.0, 0.0, 1.5], "float32")
WEIGHTED = [
    ("w_categorical_probs", L.CategoricalCrossentropy(), ONE_HOT, PROBS),
    ("w_sparse_logits", L.SparseCategoricalCrossentropy(from_logits=True), LABELS, LOGITS),
    ("w_categorical_logits_smooth", L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2), ONE_HOT, LOGITS),
    ("w_binary_probs", L.BinaryCrossentropy(), B_TRUE, B_PROBS),
    ("w_binary_logits", L.BinaryCrossentropy(from_logits=True), B_TRUE, B_LOGITS),
    ("w_mse", L.MeanSquaredError(), REG_TRUE, REG_PRED),
    ("w_mae", L.MeanAbsoluteError(), REG_TRUE, REG_PRED),
    ("w_huber", L.Huber(), REG_TRUE, REG_PRED),
    ("w_kl_divergence", L.KLDivergence(), SOFT_TRUE, PROBS),
    ("w_hinge_01", L.Hinge(), B_TRUE, B_LOGITS),
    ("w_cosine_similarity", L.CosineSimilarity(), REG_TRUE, REG_PRED),
    ("w_mape_nonzero", L.MeanAbsolutePercentageError(), POS_PRED, REG_PRED),
    # Options together with sample weights.
    ("w_huber_0.3", L.Huber(delta=0.3), REG_TRUE, REG_PRED),
    ("w_binary_logits_smooth", L.BinaryCrossentropy(from_logits=True, label_smoothing=0.3), B_TRUE, B_LOGITS),
    ("w_binary_smooth", L.BinaryCrossentropy(label_smoothing=0.1), B_TRUE, B_PROBS),
    ("w_categorical_smooth", L.CategoricalCrossentropy(label_smoothing=0.1), ONE_HOT, PROBS),
    ("w_sparse_probs", L.SparseCategoricalCrossentropy(), LABELS, PROBS),
    ("w_squared_hinge_pm", L.SquaredHinge(), HINGE_PM, REG_PRED),
    ("w_poisson", L.Poisson(), COUNTS, POS_PRED),
    ("w_log_cosh", L.LogCosh(), REG_TRUE, REG_PRED),
    ("w_msle", L.MeanSquaredLogarithmicError(), REG_TRUE, REG_PRED),
]
for name, loss, y_true, y_pred in WEIGHTED:
    value = loss(y_true, y_pred, sample_weight=W)
    print(f"{name} = {float(keras.ops.convert_to_numpy(value)):.9g}")

# class_weight as Keras turns it into sample weights (fit's data adapter).
from keras.src.trainers.data_adapters.data_adapter_utils import class_weight_to_sample_weights  # noqa: E402

CW = {0: 0.25, 2: 3.0}
print("class_weight one-hot =", class_weight_to_sample_weights(ONE_HOT, CW).tolist())
print("class_weight labels =", class_weight_to_sample_weights(LABELS, CW).tolist())
print("class_weight binary (N, 1) =",
      class_weight_to_sample_weights(np.array([[0.0], [1.0], [1.0], [0.0]], "float32"), {0: 0.25, 1: 4.0}).tolist())
