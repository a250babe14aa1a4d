"""Keras 3 values for the focal, categorical hinge and ignore_class losses tested in
tests/losses.rs (`focal_*`, `categorical_hinge_*`, `ignore_class_*`), on the data of
keras_losses.py. Run with
KERAS_BACKEND=torch PYTHONPATH=<py-keras>:<torch> python3 tests/reference/losses_more.py"""
import numpy as np
import keras
from keras import losses as L

PROBS = np.array([[0.2, 0.5, 0.1], [0.7, 0.6, 0.05], [0.1, 0.1, 0.9], [0.3, 0.3, 0.3]], np.float32)
LABELS = np.array([1, 0, 2, 1])
LOGITS = np.array([[1.0, -2.0, 0.5], [0.3, 0.1, 2.2], [-1.0, 3.0, 0.0], [2.0, 2.0, -1.0]], np.float32)
B_PROBS = np.array([[0.9, 0.2], [0.4, 0.6], [0.05, 0.99], [0.7, 0.3]], np.float32)
B_LOGITS = np.array([[2.0, -1.0], [0.5, -0.3], [-3.0, 4.0], [0.0, 1.5]], np.float32)
B_TRUE = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]], np.float32)
ONE_HOT = np.eye(3, dtype=np.float32)[LABELS]
W = np.array([0.5, 2.0, 1.0, 3.0], np.float32)


def show(name, loss, y, p, w=None):
    print(f"{name}: {float(np.asarray(loss(y, p, sample_weight=w))):.9g}")


show("cfocal", L.CategoricalFocalCrossentropy(), ONE_HOT, PROBS)
show("cfocal_options", L.CategoricalFocalCrossentropy(alpha=0.5, gamma=1.0, label_smoothing=0.1), ONE_HOT, PROBS)
show("cfocal_logits", L.CategoricalFocalCrossentropy(from_logits=True), ONE_HOT, LOGITS)
show("cfocal_weighted", L.CategoricalFocalCrossentropy(), ONE_HOT, PROBS, W)
show("bfocal", L.BinaryFocalCrossentropy(), B_TRUE, B_PROBS)
show("bfocal_balanced", L.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3, gamma=1.5), B_TRUE, B_PROBS)
show("bfocal_logits_smooth", L.BinaryFocalCrossentropy(from_logits=True, label_smoothing=0.2), B_TRUE, B_LOGITS)
show("bfocal_weighted", L.BinaryFocalCrossentropy(apply_class_balancing=True), B_TRUE, B_PROBS, W)
show("categorical_hinge", L.CategoricalHinge(), ONE_HOT, LOGITS)
show("categorical_hinge_weighted", L.CategoricalHinge(), ONE_HOT, LOGITS, W)
show("ignore_1", L.SparseCategoricalCrossentropy(ignore_class=1), LABELS, PROBS)
show("ignore_1_logits", L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1), LABELS, LOGITS)
show("ignore_1_weighted", L.SparseCategoricalCrossentropy(ignore_class=1), LABELS, PROBS, W)
show("ignore_minus1", L.SparseCategoricalCrossentropy(ignore_class=-1), np.array([1, -1, 2, -1]), PROBS)
show("ignore_all", L.SparseCategoricalCrossentropy(ignore_class=1), np.array([1, 1, 1, 1]), PROBS)
per = L.SparseCategoricalCrossentropy(ignore_class=1, reduction=None)(LABELS, PROBS)
print("ignore_1_per_sample:", [f"{v:.9g}" for v in np.asarray(per)])
# Dice and Tversky with Keras's default axis=None: one value for the whole batch.
show("dice", L.Dice(), B_TRUE, B_PROBS)
show("dice_weighted", L.Dice(), B_TRUE, B_PROBS, W)
show("dice_multi", L.Dice(), ONE_HOT, PROBS)
show("tversky", L.Tversky(), B_TRUE, B_PROBS)
show("tversky_0.3_0.7", L.Tversky(alpha=0.3, beta=0.7), ONE_HOT, PROBS)
show("tversky_weighted", L.Tversky(alpha=0.3, beta=0.7), ONE_HOT, PROBS, W)
