"""Reference numbers for tests/activations.rs, computed with Keras 3 (torch backend).

Run: KERAS_BACKEND=torch PYTHONPATH=<py-keras>:<torch> python3 tests/reference/activations.py

Inputs and weights are `vals(shape, offset)`: sin(0.7 * i + offset) * scale over the flattened
shape, the same formula the Rust tests use; `X` is a row of negative, zero and large values.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np
import torch
import keras
from keras import layers

X = [-30.0, -5.0, -2.5, -1.0, -0.3, 0.0, 0.4, 1.0, 2.9, 6.5, 25.0]


def vals(shape, offset, scale=1.0):
    n = int(np.prod(shape))
    return (np.sin(np.arange(n, dtype=np.float64) * 0.7 + offset) * scale).astype(np.float32).reshape(shape)


def show(name, y):
    y = np.asarray(y, dtype=np.float64)
    print(f"// {name}: shape {list(y.shape)}")
    print("&[" + ", ".join(f"{v:.8e}" for v in y.reshape(-1)) + "],")


def value_and_grad(fn, x):
    """fn(x) and the gradient of sum(fn(x) * w), w = vals(x.shape, 0.5)."""
    x = torch.tensor(x, requires_grad=True)
    y = fn(x)
    (y * torch.tensor(vals(list(x.shape), 0.5))).sum().backward()
    return y.detach().numpy(), x.grad.numpy()


# --- activation functions (Keras's defaults) ----------------------------------------------
NAMES = ["relu", "sigmoid", "tanh", "softmax", "elu", "selu", "gelu", "softplus", "softsign",
         "silu", "swish", "hard_sigmoid", "hard_silu", "hard_swish", "leaky_relu", "relu6",
         "mish", "log_softmax", "exponential", "linear"]
x = np.array([X], dtype=np.float32)
for name in NAMES:
    y, g = value_and_grad(keras.activations.get(name), x)
    print(f'("{name}",')
    show("value", y)
    show("grad", g)
    print("),")

# --- activation layers --------------------------------------------------------------------
LAYERS = [
    ("LeakyReLU()", layers.LeakyReLU()),
    ("LeakyReLU(0.1)", layers.LeakyReLU(negative_slope=0.1)),
    ("ELU()", layers.ELU()),
    ("ELU(0.5)", layers.ELU(alpha=0.5)),
    ("ReLU()", layers.ReLU()),
    ("ReLU(max_value=6)", layers.ReLU(max_value=6.0)),
    ("ReLU(max_value=2.5)", layers.ReLU(max_value=2.5)),
    ("ReLU(negative_slope=0.2)", layers.ReLU(negative_slope=0.2)),
    ("ReLU(threshold=1)", layers.ReLU(threshold=1.0)),
    ("ReLU(4, 0.1, 0.5)", layers.ReLU(max_value=4.0, negative_slope=0.1, threshold=0.5)),
    ("ReLU(None, 0.1, 0.5)", layers.ReLU(negative_slope=0.1, threshold=0.5)),
    ("Softmax()", layers.Softmax()),
]
for label, layer in LAYERS:
    y, g = value_and_grad(layer, x)
    print(f"// {label}")
    show("value", y)
    show("grad", g)

# Softmax over axis 1 of [2, 3, 4].
y, g = value_and_grad(layers.Softmax(axis=1), vals([2, 3, 4], 0.1, 3.0))
print("// Softmax(axis=1) on vals([2, 3, 4], 0.1, 3.0)")
show("value", y)
show("grad", g)

# PReLU with alpha = vals(shape, 0.3), shared over axes 2 and 3 of [2, 3, 4, 5].
prelu = layers.PReLU(shared_axes=[2, 3])
prelu.build((None, 3, 4, 5))
prelu.alpha.assign(vals([3, 1, 1], 0.3))
y, g = value_and_grad(prelu, vals([2, 3, 4, 5], 0.1, 2.0))
print("// PReLU(shared_axes=[2, 3]) on vals([2, 3, 4, 5], 0.1, 2.0), alpha vals([3, 1, 1], 0.3)")
show("value", y)
show("grad", g)

# --- names and parameter counts -----------------------------------------------------------
m = keras.Sequential([keras.Input((3, 4, 5)), layers.LeakyReLU(), layers.PReLU(), layers.ReLU(), layers.ELU(),
                      layers.Softmax(), layers.PReLU(shared_axes=[2, 3]), layers.LeakyReLU()])
print("// names and params:", [(l.name, l.count_params()) for l in m.layers], "total", m.count_params())

# --- PReLU learns: Dense(3) -> PReLU, one SGD step on mse ---------------------------------
keras.utils.set_random_seed(0)
m = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.PReLU()])
m.layers[0].set_weights([vals([3, 4], 0.2).T, vals([3], 0.3)])
m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
h = m.fit(vals([5, 4], 0.1, 2.0), vals([5, 3], 0.9), batch_size=5, epochs=2, shuffle=False, verbose=0)
print("// PReLU fit: loss per epoch", h.history["loss"])
show("alpha after 2 epochs", m.layers[1].get_weights()[0])
