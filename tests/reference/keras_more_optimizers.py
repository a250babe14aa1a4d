"""Keras 3 (torch backend) numbers for tests/more_optimizers.rs: Nadam, Adamax, Adadelta,
Lion and Ftrl, their defaults, and the weights of a small model after each of four training steps.

Run: KERAS_BACKEND=torch PYTHONPATH=$CACHE/py-keras:$CACHE/torch-2.11.0 python3 tests/reference/keras_more_optimizers.py
(CACHE=/root/.cache/tch-keras). Each section prints what the Rust test asserts.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402
import numpy as np  # noqa: E402

O = keras.optimizers
S = O.schedules


def fmt(a):
    return "[" + ", ".join(f"{float(v):.9g}" for v in np.ravel(a)) + "]"


print("# defaults: Keras's string -> config")
for name in ["nadam", "adamax", "adadelta", "lion", "ftrl"]:
    c = O.get(name).get_config()
    keys = [k for k in ["learning_rate", "beta_1", "beta_2", "epsilon", "rho", "learning_rate_power",
                        "initial_accumulator_value", "l1_regularization_strength", "l2_regularization_strength",
                        "l2_shrinkage_regularization_strength", "beta"] if k in c]
    print(name, {k: c[k] for k in keys})

print("# Ranges Keras itself checks")
for label, make in [
    ("lion beta_1=0", lambda: O.Lion(beta_1=0.0)),
    ("lion beta_1=1.5", lambda: O.Lion(beta_1=1.5)),
    ("lion beta_1=1", lambda: O.Lion(beta_1=1.0)),
    ("ftrl learning_rate_power=0.5", lambda: O.Ftrl(learning_rate_power=0.5)),
    ("ftrl learning_rate_power=0", lambda: O.Ftrl(learning_rate_power=0.0)),
    ("ftrl initial_accumulator_value=-0.1", lambda: O.Ftrl(initial_accumulator_value=-0.1)),
    ("ftrl l1=-0.1", lambda: O.Ftrl(l1_regularization_strength=-0.1)),
    ("ftrl l2=-0.1", lambda: O.Ftrl(l2_regularization_strength=-0.1)),
    ("ftrl l2_shrinkage=-0.1", lambda: O.Ftrl(l2_shrinkage_regularization_strength=-0.1)),
]:
    try:
        make()
        print(f"{label}: accepted")
    except ValueError as e:
        print(f"{label}: ValueError: {e}")

print("# steps: Dense(2) on x [6, 3], MSE; one train_on_batch per step on samples (0, 1), (2, 3),")
print("# (4, 5), (0, 1); weights after each step (kernel as [out, in], then bias)")
x = np.sin(np.arange(18, dtype="float32") * 0.7).reshape(6, 3)
y = np.cos(np.arange(12, dtype="float32") * 0.3).reshape(6, 2)
kernel = np.arange(6, dtype="float32").reshape(2, 3) * 0.1 - 0.2  # [out, in]
bias = np.array([0.1, -0.1], "float32")
CASES = [
    ("nadam", lambda: O.Nadam(0.01)),
    ("nadam betas epsilon", lambda: O.Nadam(0.02, beta_1=0.8, beta_2=0.99, epsilon=1e-3)),
    ("nadam weight_decay", lambda: O.Nadam(0.01, weight_decay=0.1)),
    ("nadam schedule clipnorm", lambda: O.Nadam(S.ExponentialDecay(0.02, 2, 0.5), clipnorm=0.1)),
    ("adamax", lambda: O.Adamax(0.01)),
    ("adamax betas epsilon", lambda: O.Adamax(0.02, beta_1=0.7, beta_2=0.9, epsilon=1e-3)),
    ("adamax clipnorm", lambda: O.Adamax(0.01, clipnorm=0.1)),
    ("adamax schedule weight_decay", lambda: O.Adamax(S.CosineDecay(0.0, 4, warmup_target=0.05, warmup_steps=2),
                                                      weight_decay=0.05)),
    ("adadelta", lambda: O.Adadelta(1.0)),
    ("adadelta rho epsilon", lambda: O.Adadelta(0.5, rho=0.8, epsilon=1e-4)),
    ("adadelta weight_decay", lambda: O.Adadelta(1.0, weight_decay=0.1)),
    ("adadelta schedule clipvalue", lambda: O.Adadelta(S.InverseTimeDecay(2.0, 1, 0.5), clipvalue=0.1)),
    ("lion", lambda: O.Lion(0.01)),
    ("lion betas", lambda: O.Lion(0.02, beta_1=0.5, beta_2=0.9)),
    ("lion weight_decay", lambda: O.Lion(0.01, weight_decay=0.5)),
    ("lion schedule global_clipnorm", lambda: O.Lion(S.PiecewiseConstantDecay([1, 2], [0.02, 0.01, 0.005]),
                                                     global_clipnorm=0.1)),
    ("ftrl", lambda: O.Ftrl(0.1)),
    ("ftrl regularization", lambda: O.Ftrl(0.2, learning_rate_power=-0.7, initial_accumulator_value=0.5,
                                           l1_regularization_strength=0.01, l2_regularization_strength=0.02,
                                           l2_shrinkage_regularization_strength=0.05, beta=0.3)),
    ("ftrl weight_decay", lambda: O.Ftrl(0.1, weight_decay=0.1)),
    ("ftrl schedule clipnorm", lambda: O.Ftrl(S.ExponentialDecay(0.2, 2, 0.5), clipnorm=0.1)),
]
BATCHES = [(0, 2), (2, 4), (4, 6), (0, 2)]
for name, make in CASES:
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    m.layers[0].set_weights([kernel.T, bias])
    opt = make()
    m.compile(optimizer=opt, loss="mse")
    print(f"{name}:")
    for a, b in BATCHES:
        m.train_on_batch(x[a:b], y[a:b])
        k, bb = m.layers[0].get_weights()
        print("   ", fmt(np.concatenate([k.T.ravel(), bb])) + ",")
    extra = ""
    if name.startswith("nadam"):
        extra = f" u_product {float(keras.ops.convert_to_numpy(opt._u_product.value)):.9g}"
    print("    iterations", int(opt.iterations.numpy()), "variables", [v.path for v in opt.variables] if name
          in ("nadam", "adamax", "adadelta", "lion", "ftrl") else "", extra)
