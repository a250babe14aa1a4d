"""Keras 3 values for the regression scores, F-scores and loss metrics tested in
tests/metrics.rs (`new_metrics_*`) and src/metrics.rs (weighted). Run with
KERAS_BACKEND=torch PYTHONPATH=<py-keras>:<torch> python3 tests/reference/metrics_more.py"""
import numpy as np
import keras
from keras import metrics as M

# Regression: 8 samples x 3 outputs (positive, for msle and poisson).
Y_REG = np.array([[1.0, 2.0, 0.5], [3.0, 0.2, 1.5], [0.7, 1.1, 2.2], [2.5, 2.0, 0.1],
                  [0.3, 0.9, 1.0], [1.8, 2.6, 0.4], [0.9, 0.1, 3.0], [2.2, 1.4, 0.8]], np.float32)
P_REG = np.array([[1.2, 1.5, 0.7], [2.4, 0.5, 1.1], [0.9, 1.0, 2.9], [2.0, 2.5, 0.3],
                  [0.6, 0.7, 1.3], [1.5, 2.2, 0.2], [1.1, 0.4, 2.4], [2.6, 1.0, 1.2]], np.float32)
# Classification: 8 samples x 3 classes, one-hot (multi-class) and multi-label targets.
LABELS = np.array([0, 2, 1, 1, 0, 2, 2, 1])
Y_HOT = np.eye(3, dtype=np.float32)[LABELS]
Y_MULTI = np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 0],
                    [1, 0, 0], [0, 0, 0], [1, 1, 1], [0, 1, 1]], np.float32)
P_CLS = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3], [0.4, 0.35, 0.25],
                  [0.5, 0.1, 0.4], [0.3, 0.3, 0.4], [0.05, 0.15, 0.8], [0.6, 0.3, 0.1]], np.float32)
W = np.array([1.0, 0.5, 2.0, 0.0, 1.5, 1.0, 0.25, 3.0], np.float32)


def streamed(metric, y, p, batch=3, w=None):
    metric.reset_state()
    for s in range(0, len(y), batch):
        sw = None if w is None else w[s:s + batch]
        metric.update_state(y[s:s + batch], p[s:s + batch], sample_weight=sw)
    return float(np.asarray(metric.result()))


def show(name, metric, y, p, w=None):
    once = streamed(metric, y, p, batch=len(y), w=w)
    many = streamed(metric, y, p, batch=3, w=w)
    assert abs(once - many) < 1e-5, (name, once, many)
    print(f"{name}: {many:.9g}")


print("# regression, unweighted, batches of 3")
show("root_mean_squared_error", M.RootMeanSquaredError(), Y_REG, P_REG)
show("root_mean_squared_error_1col", M.RootMeanSquaredError(), Y_REG[:, :1], P_REG[:, :1])
show("r2_score", M.R2Score(), Y_REG, P_REG)
show("r2_variance", M.R2Score(class_aggregation="variance_weighted_average"), Y_REG, P_REG)
show("r2_adjusted", M.R2Score(num_regressors=2), Y_REG, P_REG)
show("r2_1col", M.R2Score(), Y_REG[:, :1], P_REG[:, :1])
show("mape", M.MeanAbsolutePercentageError(), Y_REG, P_REG)
show("msle", M.MeanSquaredLogarithmicError(), Y_REG, P_REG)
show("cosine_similarity", M.CosineSimilarity(), Y_REG, P_REG)
show("logcosh", M.LogCoshError(), Y_REG, P_REG)
show("poisson", M.Poisson(), Y_REG, P_REG)
print("# classification, unweighted, batches of 3")
show("kl_divergence", M.KLDivergence(), Y_HOT, P_CLS)
show("hinge", M.Hinge(), Y_MULTI, P_CLS)
show("squared_hinge", M.SquaredHinge(), Y_MULTI, P_CLS)
show("categorical_hinge", M.CategoricalHinge(), Y_HOT, P_CLS)
show("binary_crossentropy", M.BinaryCrossentropy(), Y_MULTI, P_CLS)
show("bce_logits_smooth", M.BinaryCrossentropy(from_logits=True, label_smoothing=0.1), Y_MULTI, P_CLS * 4 - 2)
show("categorical_crossentropy", M.CategoricalCrossentropy(), Y_HOT, P_CLS)
show("cce_logits_smooth", M.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2), Y_HOT, P_CLS * 4 - 2)
show("sparse_categorical_crossentropy", M.SparseCategoricalCrossentropy(), LABELS, P_CLS)
show("f1_micro", M.F1Score(average="micro"), Y_HOT, P_CLS)
show("f1_macro", M.F1Score(average="macro"), Y_HOT, P_CLS)
show("f1_weighted", M.F1Score(average="weighted"), Y_HOT, P_CLS)
show("f1_macro_multi_0.3", M.F1Score(average="macro", threshold=0.3), Y_MULTI, P_CLS)
show("f2_weighted_multi_0.3", M.FBetaScore(average="weighted", beta=2.0, threshold=0.3), Y_MULTI, P_CLS)
show("f05_micro_multi_0.25", M.FBetaScore(average="micro", beta=0.5, threshold=0.25), Y_MULTI, P_CLS)
show("f1_binary_column", M.F1Score(average="micro", threshold=0.3), Y_MULTI[:, :1], P_CLS[:, :1])
print("# weighted (sample_weight W), batches of 3")
show("w_root_mean_squared_error", M.RootMeanSquaredError(), Y_REG, P_REG, W)
show("w_r2_score", M.R2Score(), Y_REG, P_REG, W)
show("w_mape", M.MeanAbsolutePercentageError(), Y_REG, P_REG, W)
show("w_cosine_similarity", M.CosineSimilarity(), Y_REG, P_REG, W)
show("w_f1_macro", M.F1Score(average="macro"), Y_HOT, P_CLS, W)
show("w_f2_weighted_multi_0.3", M.FBetaScore(average="weighted", beta=2.0, threshold=0.3), Y_MULTI, P_CLS, W)
show("w_categorical_crossentropy", M.CategoricalCrossentropy(), Y_HOT, P_CLS, W)
