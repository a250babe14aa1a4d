"""The tabular example (examples/tabular.rs) as a plain Keras 3 model, for comparison.

Same data file (scikit-learn's breast_cancer.csv as scripts/setup.sh provisions it), split
(every fifth row is a test row), standardisation (training rows' mean and population standard
deviation), architecture, loss, optimizer, epochs, batch size and shuffling.

Run: KERAS_BACKEND=torch PYTHONPATH=$CACHE/py-keras:$CACHE/torch-2.11.0 \
     python3 examples/reference/tabular_keras.py [SEEDS...]      (default seeds 0-4)
"""
import os
import sys

import numpy as np
import keras

cache = os.environ.get("TCH_KERAS_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tch-keras"
)
table = np.loadtxt(os.path.join(cache, "data", "sklearn", "breast_cancer.csv"), delimiter=",", skiprows=1)
x, y = table[:, :-1].astype("float32"), table[:, -1].astype("int64")
rows = np.arange(len(x))
train, test = rows % 5 != 4, rows % 5 == 4
mean, std = x[train].mean(axis=0), x[train].std(axis=0)
x_train, x_test = (x[train] - mean) / std, (x[test] - mean) / std
y_train, y_test = y[train], y[test]

seeds = [int(s) for s in sys.argv[1:]] or [0, 1, 2, 3, 4]
accuracies = []
for seed in seeds:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((x.shape[1],)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=30, batch_size=32, shuffle=True, verbose=0)
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    accuracies.append(acc)
    print(f"seed {seed}: test loss {loss:.4f}, test accuracy {acc:.4f}")
print(
    f"keras {keras.__version__} ({keras.backend.backend()}), {len(x_train)} train / {len(x_test)} test rows: "
    f"test accuracy {min(accuracies):.4f}-{max(accuracies):.4f}, mean {np.mean(accuracies):.4f}"
)
