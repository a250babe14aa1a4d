"""The recipe's MLP and CNN in Keras 3, for side-by-side timing with tch-keras.

Run with KERAS_BACKEND=torch (LibTorch underneath, as tch-keras) or tensorflow where it is
installed. Same data files, models, optimizer (Adam 0.001), loss, batch size and epochs.
Prints one JSON object: epoch times, test accuracy, peak memory.
"""
import argparse
import json
import resource
import sys
import time

import idx


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", required=True)
    a = p.parse_args()

    import keras
    from keras import layers

    keras.utils.set_random_seed(a.seed)
    import numpy as np

    x, y, xt, yt = idx.load(a.data_dir, lambda b, shape: np.frombuffer(b, dtype=np.uint8).reshape(shape))
    x, xt = x.astype("float32") / 255.0, xt.astype("float32") / 255.0
    y, yt = keras.utils.to_categorical(y, 10), keras.utils.to_categorical(yt, 10)
    if a.model == "mlp":
        x, xt = x.reshape(-1, 784), xt.reshape(-1, 784)
        model = keras.Sequential([
            keras.Input((784,)),
            layers.Dense(32, activation="relu"),
            layers.Dense(16, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ])
    else:
        x, xt = x.reshape(-1, 28, 28, 1), xt.reshape(-1, 28, 28, 1)
        model = keras.Sequential([
            keras.Input((28, 28, 1)),
            layers.Conv2D(25, (4, 4), strides=1, activation="relu"),
            layers.MaxPooling2D((2, 2), strides=2),
            layers.Conv2D(50, (5, 5), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.t0)

    timer = Timer()
    model.fit(x, y, batch_size=a.batch_size, epochs=a.epochs, verbose=0, callbacks=[timer])
    _, acc = model.evaluate(xt, yt, batch_size=1024, verbose=0)
    print(json.dumps({
        "peer": "keras-" + keras.backend.backend(),
        "model": a.model,
        "batch_size": a.batch_size,
        "params": model.count_params(),
        "epoch_seconds": timer.times,
        "test_accuracy": float(acc),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "seed": a.seed,
        "keras": keras.__version__,
    }))


if __name__ == "__main__":
    sys.exit(main())
