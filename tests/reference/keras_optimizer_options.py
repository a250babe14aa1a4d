"""Keras 3 (torch backend) numbers for tests/optimizer_options.rs and the unit tests in
src/optimizers.rs: gradient clipping, weight decay, learning-rate schedules, and training steps
that use them.

Run: KERAS_BACKEND=torch PYTHONPATH=$CACHE/py-keras:$CACHE/torch-2.11.0 python3 tests/reference/keras_optimizer_options.py
(CACHE=/root/.cache/tch-keras). Each section prints what the Rust tests assert.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402
import numpy as np  # noqa: E402

S = keras.optimizers.schedules


def fmt(a):
    return "[" + ", ".join(f"{float(v):.9g}" for v in np.ravel(a)) + "]"


# Two variables (3 and 2 elements, one flat buffer in tch-keras) and two steps of gradients.
W1, W2 = np.array([1.0, -2.0, 3.0], "float32"), np.array([0.5, -0.5], "float32")
GRADS = [
    (np.array([3.0, 4.0, 12.0], "float32"), np.array([0.3, -0.4], "float32")),
    (np.array([-0.2, 0.1, 0.05], "float32"), np.array([2.0, 1.0], "float32")),
]


def run(opt, steps):
    v = [keras.Variable(W1.copy()), keras.Variable(W2.copy())]
    for g1, g2 in GRADS[:steps]:
        opt.apply_gradients([(keras.ops.convert_to_tensor(g1), v[0]), (keras.ops.convert_to_tensor(g2), v[1])])
    return np.concatenate([keras.ops.convert_to_numpy(x.value) for x in v])


print("# clipping: parameters after steps on GRADS (flat: w1 then w2)")
for name, kw in [("clipnorm", dict(clipnorm=1.0)), ("global_clipnorm", dict(global_clipnorm=1.0)),
                 ("clipvalue", dict(clipvalue=0.5))]:
    print(f"sgd {name} 1 step:", fmt(run(keras.optimizers.SGD(learning_rate=0.1, **kw), 1)))
    print(f"adam {name} 2 steps:", fmt(run(keras.optimizers.Adam(learning_rate=0.1, **kw), 2)))

print("# weight decay: 3 steps, gradients GRADS[0], GRADS[1], GRADS[0]")
GRADS.append(GRADS[0])
for name, opt in [
    ("sgd", keras.optimizers.SGD(learning_rate=0.1, weight_decay=0.05)),
    ("sgd momentum", keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, weight_decay=0.05)),
    ("rmsprop", keras.optimizers.RMSprop(learning_rate=0.01, weight_decay=0.1)),
    ("adagrad", keras.optimizers.Adagrad(learning_rate=0.1, weight_decay=0.1)),
    ("adam", keras.optimizers.Adam(learning_rate=0.01, weight_decay=0.1)),
]:
    print(f"{name}:", fmt(run(opt, 3)))
print("# update rules' options: 3 steps, gradients GRADS[0], GRADS[1], GRADS[0]")
for name, opt in [
    ("sgd nesterov", keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True)),
    ("rmsprop centered momentum", keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True)),
    ("rmsprop momentum", keras.optimizers.RMSprop(0.01, momentum=0.5)),
    ("adam amsgrad", keras.optimizers.Adam(0.1, amsgrad=True)),
    ("adamw default weight decay", keras.optimizers.AdamW(0.1)),
    ("adagrad default accumulator", keras.optimizers.Adagrad(0.1)),
    ("adam betas epsilon", keras.optimizers.Adam(0.05, beta_1=0.5, beta_2=0.8, epsilon=0.1)),
]:
    print(f"{name}:", fmt(run(opt, 3)))
print("# a schedule with weight decay and clipping: SGD(ExponentialDecay(0.1, 1, 0.5), weight_decay=0.1, clipnorm=1), 3 steps")
print("sgd scheduled:", fmt(run(keras.optimizers.SGD(learning_rate=S.ExponentialDecay(0.1, 1, 0.5),
                                                     weight_decay=0.1, clipnorm=1.0), 3)))

print("# schedules: learning rate at steps")
STEPS = [0, 1, 5, 6, 10, 11, 25, 60, 100, 109, 110, 111, 150, 200]
print("steps:", STEPS)
for name, sched in [
    ("exponential", S.ExponentialDecay(0.1, 10, 0.5)),
    ("exponential staircase", S.ExponentialDecay(0.1, 10, 0.5, staircase=True)),
    ("piecewise", S.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1])),
    ("cosine", S.CosineDecay(0.1, 100, alpha=0.1)),
    ("cosine warmup", S.CosineDecay(0.0, 100, alpha=0.0, warmup_target=0.1, warmup_steps=10)),
    ("cosine warmup from 0.02", S.CosineDecay(0.02, 100, alpha=0.2, warmup_target=0.1, warmup_steps=10)),
    ("inverse time", S.InverseTimeDecay(0.1, 10, 0.5)),
    ("inverse time staircase", S.InverseTimeDecay(0.1, 10, 0.5, staircase=True)),
]:
    print(f"{name}:", fmt([keras.ops.convert_to_numpy(sched(s)) for s in STEPS]))

print("# fit: Dense(2) on x [6, 3], MSE, batch 2, 2 epochs, no shuffle; weights after (kernel as [out, in], bias)")
x = np.sin(np.arange(18, dtype="float32") * 0.7).reshape(6, 3)
y = np.cos(np.arange(12, dtype="float32") * 0.3).reshape(6, 2)
kernel = (np.arange(6, dtype="float32").reshape(2, 3) * 0.1 - 0.2)  # [out, in]
bias = np.array([0.1, -0.1], "float32")
for name, opt in [
    ("adam exponential clipnorm", keras.optimizers.Adam(learning_rate=S.ExponentialDecay(0.05, 2, 0.5), clipnorm=0.1)),
    ("sgd cosine warmup global_clipnorm weight_decay",
     keras.optimizers.SGD(learning_rate=S.CosineDecay(0.0, 4, warmup_target=0.2, warmup_steps=2), momentum=0.5,
                          global_clipnorm=0.5, weight_decay=0.01)),
    ("rmsprop piecewise clipvalue", keras.optimizers.RMSprop(
        learning_rate=S.PiecewiseConstantDecay([1, 3], [0.01, 0.005, 0.001]), clipvalue=0.1)),
]:
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    m.layers[0].set_weights([kernel.T, bias])
    m.compile(optimizer=opt, loss="mse")
    m.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0)
    k, b = m.layers[0].get_weights()
    print(f"{name}: kernel", fmt(k.T), "bias", fmt(b), "iterations", int(opt.iterations.numpy()),
          "learning_rate", f"{float(keras.ops.convert_to_numpy(opt.learning_rate)):.9g}")
