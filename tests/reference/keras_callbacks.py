"""Keras 3 (torch backend) behaviour for tests/keras_callbacks.rs.

Run: KERAS_BACKEND=torch PYTHONPATH=$CACHE/py-keras:$CACHE/torch-2.11.0 python3 tests/reference/keras_callbacks.py
(CACHE=/root/.cache/tch-keras). Each section prints what the Rust test asserts.
"""
import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402
import numpy as np  # noqa: E402

keras.config.disable_traceback_filtering()


def model():
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def drive_early_stopping(values, external_stop_at=None, **kwargs):
    """As tests/keras_callbacks.rs drives it: each epoch sets every weight to epoch + 1, then
    on_epoch_end with val_loss = values[epoch]; another callback may stop training after
    epoch `external_stop_at`. Returns (epochs run, final weight value, stopped_epoch)."""
    m = model()
    es = keras.callbacks.EarlyStopping(monitor="val_loss", restore_best_weights=True, **kwargs)
    es.set_model(m)
    m.stop_training = False
    es.on_train_begin()
    ran = 0
    for epoch, v in enumerate(values):
        m.set_weights([np.full_like(w, epoch + 1.0) for w in m.get_weights()])
        es.on_epoch_end(epoch, {"loss": 1.0, "val_loss": v})
        ran += 1
        if epoch == external_stop_at:
            m.stop_training = True
        if m.stop_training:
            break
    es.on_train_end()
    final = {float(w.mean()) for w in m.get_weights()}
    return ran, final, es.stopped_epoch


print("# keras", keras.__version__)
print("early_stopping all epochs ran:", drive_early_stopping([1.0, 0.5, 0.7, 0.8], patience=10))
print("early_stopping stops itself:", drive_early_stopping([1.0, 0.5, 0.7, 0.8], patience=1))
print("early_stopping stopped by another:", drive_early_stopping([1.0, 0.5, 0.4, 0.8, 0.3], 3, patience=10))
print("early_stopping start_from_epoch 2:", drive_early_stopping([0.1, 0.2, 0.9, 0.8, 0.85], patience=10, start_from_epoch=2))
# Never improving enough: a baseline that is never beaten, min_delta in both modes, and
# start_from_epoch with a constant value.
print("early_stopping baseline 0.5 never beaten, patience 2:",
      drive_early_stopping([1.0, 0.9, 0.8, 0.85, 0.86, 0.87], patience=2, baseline=0.5))
print("early_stopping baseline 0.5, worse each epoch, patience 1:",
      drive_early_stopping([1.0, 1.1, 1.2], patience=1, baseline=0.5))
print("early_stopping min_delta 0.05, patience 1:",
      drive_early_stopping([1.0, 0.95, 0.91, 0.85, 0.84, 0.83], patience=1, min_delta=0.05))
print("early_stopping mode max, min_delta 0.05, patience 1:",
      drive_early_stopping([0.5, 0.6, 0.62, 0.7, 0.69, 0.68], patience=1, min_delta=0.05, mode="max"))
print("early_stopping constant 1.0, start_from_epoch 3, patience 0:",
      drive_early_stopping([1.0] * 5, patience=0, start_from_epoch=3))

# ModelCheckpoint(save_best_only=True) monitoring a key that is not in the logs.
rng = np.random.default_rng(0)
x = rng.normal(size=(40, 4)).astype("float32")
y = rng.integers(0, 3, size=40)
with tempfile.TemporaryDirectory() as d:
    m = model()
    # Only the decision to save matters here (this h5py build cannot write .h5 files): each
    # save writes an empty file.
    m.save_weights = lambda filepath, overwrite=True: open(filepath, "w").close()
    ck = keras.callbacks.ModelCheckpoint(
        os.path.join(d, "w-{epoch:02d}.weights.h5"), monitor="val_missing", mode="min",
        save_best_only=True, save_weights_only=True)
    m.fit(x, y, epochs=3, verbose=0, callbacks=[ck])
    print("checkpoint missing monitor saves:", sorted(os.listdir(d)))

# TerminateOnNaN(raise_error=True): NaN in sample 40, batches of 10, no shuffling.
xs = np.concatenate([x, x, x[:10]])
xs[40] = np.nan
ys = np.concatenate([y, y, y[:10]])


class Ends(keras.callbacks.Callback):
    train_end_called = False

    def on_train_end(self, logs=None):
        Ends.train_end_called = True


m = model()
try:
    m.fit(xs, ys, epochs=5, batch_size=10, shuffle=False, verbose=0,
          callbacks=[keras.callbacks.TerminateOnNaN(raise_error=True), Ends()])
except RuntimeError as e:
    print("terminate_on_nan raise_error:", e, "| on_train_end called:", Ends.train_end_called,
          "| iterations:", int(m.optimizer.iterations))
m = model()
Ends.train_end_called = False
h = m.fit(xs, ys, epochs=5, batch_size=10, shuffle=False, verbose=0,
          callbacks=[keras.callbacks.TerminateOnNaN(), Ends()])
print("terminate_on_nan quiet: epochs", h.epoch, "| on_train_end called:", Ends.train_end_called,
      "| iterations:", int(m.optimizer.iterations))

# ModelCheckpoint(save_freq=4): every 4 batches, counted across epochs; {batch} from 1.
with tempfile.TemporaryDirectory() as d:
    m = model()
    m.save_weights = lambda filepath, overwrite=True: open(filepath, "w").close()
    ck = keras.callbacks.ModelCheckpoint(
        os.path.join(d, "b-{epoch:02d}-{batch:02d}.weights.h5"), save_freq=4, save_weights_only=True)
    m.fit(np.concatenate([x, x, x])[:90], np.concatenate([y, y, y])[:90], epochs=3, batch_size=10,
          verbose=0, callbacks=[ck])
    print("checkpoint save_freq=4, 9 batches per epoch:", sorted(os.listdir(d)))

# initial_value_threshold, and the best value kept from one fit to the next.
with tempfile.TemporaryDirectory() as d:
    m = model()
    saved = []
    m.save_weights = lambda filepath, overwrite=True: saved.append(os.path.basename(filepath))
    ck = keras.callbacks.ModelCheckpoint(
        os.path.join(d, "t-{epoch:02d}.weights.h5"), save_best_only=True, save_weights_only=True,
        mode="min", initial_value_threshold=0.6)
    ck.set_model(m)
    for run, values in enumerate([[0.9, 0.7, 0.5, 0.55, 0.4], [0.45, 0.3]]):
        ck.on_train_begin()
        for epoch, v in enumerate(values):
            ck.on_epoch_begin(epoch)
            ck.on_epoch_end(epoch, {"loss": 1.0, "val_loss": v})
        print(f"checkpoint initial_value_threshold=0.6, fit {run + 1}:", saved)

# ModelCheckpoint(save_best_only=True), mode "min", when the first monitored value is NaN.
with tempfile.TemporaryDirectory() as d:
    m = model()
    saved = []
    m.save_weights = lambda filepath, overwrite=True: saved.append(os.path.basename(filepath))
    ck = keras.callbacks.ModelCheckpoint(
        os.path.join(d, "n-{epoch:02d}.weights.h5"), save_best_only=True, save_weights_only=True)
    ck.set_model(m)
    ck.on_train_begin()
    for epoch, v in enumerate([float("nan"), 0.9, 0.5]):
        ck.on_epoch_begin(epoch)
        ck.on_epoch_end(epoch, {"loss": 1.0, "val_loss": v})
    print("checkpoint save_best_only, val_loss [nan, 0.9, 0.5] saves:", saved, "best:", ck.best)

# mode="auto": the direction of the compiled metric with the monitored name (without val_).
def auto_direction(monitor, metrics):
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer="sgd", loss="binary_crossentropy", metrics=metrics)
    es = keras.callbacks.EarlyStopping(monitor=monitor)
    try:
        m.fit(x, (y > 0).astype("float32"), epochs=1, verbose=0, validation_data=(x, (y > 0).astype("float32")),
              callbacks=[es])
        return es.monitor_op.__name__
    except ValueError as e:
        return "ValueError: " + str(e).split(",")[0]


metrics = [keras.metrics.AUC(name="auc_pr", curve="PR"), keras.metrics.MeanSquaredError(name="score"),
           keras.metrics.BinaryAccuracy(name="hits_loss"), keras.metrics.Precision(name="p")]
for monitor in ["val_auc_pr", "auc_pr", "score", "val_hits_loss", "val_p", "loss", "val_loss"]:
    print(f"auto mode {monitor}:", auto_direction(monitor, metrics))
for monitor in ["val_accuracy", "val_acc", "val_mae", "val_unknown"]:
    print(f"auto mode {monitor} (metrics ['accuracy', 'mae']):", auto_direction(monitor, ["accuracy", "mae"]))

# ReduceLROnPlateau refuses factor >= 1 when made.
for factor in [1.0, 1.5, 0.99, 0.0]:
    try:
        keras.callbacks.ReduceLROnPlateau(factor=factor)
        print(f"reduce_lr_on_plateau factor={factor}: accepted")
    except ValueError as e:
        print(f"reduce_lr_on_plateau factor={factor}: ValueError: {e}")

# CSVLogger: validation every second epoch (validation_freq=2), and how values are written.
with tempfile.TemporaryDirectory() as d:
    p = os.path.join(d, "log.csv")

    class Put(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs.update({"loss": [1.0, float("nan"), 2.5e-07][epoch], "accuracy": [0.25, 1e16, float("inf")][epoch]})
            if epoch == 1:
                logs.update({"val_loss": 1e-05, "val_accuracy": 0.5})

    model().fit(x, y, epochs=3, verbose=0, validation_data=(x, y), validation_freq=2,
                callbacks=[Put(), keras.callbacks.CSVLogger(p)])
    print("csv_logger validation_freq=2:", repr(open(p).read()))

# A NaN as the first monitored value: Keras's "no best yet" takes it as the best, and nothing
# compares as an improvement on NaN afterwards.
nan = float("nan")
print("early_stopping val_loss [nan, 0.9, 0.5, 0.4, 0.3], patience 2:",
      drive_early_stopping([nan, 0.9, 0.5, 0.4, 0.3], patience=2))


def drive_reduce_lr(values, **kwargs):
    """ReduceLROnPlateau on val_loss = values[epoch], SGD(0.01): the rate after each epoch."""
    m = model()
    m.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    cb = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", **kwargs)
    cb.set_model(m)
    cb.on_train_begin()
    rates = []
    for epoch, v in enumerate(values):
        cb.on_epoch_end(epoch, {"loss": 1.0, "val_loss": v})
        rates.append(float(keras.ops.convert_to_numpy(m.optimizer.learning_rate)))
    return "[" + ", ".join(str(np.float32(r)) for r in rates) + "]"  # float32, shortest form


print("reduce_lr_on_plateau val_loss [nan, 0.9, 0.5, 0.4, 0.3], factor 0.5, patience 1:",
      drive_reduce_lr([nan, 0.9, 0.5, 0.4, 0.3], factor=0.5, patience=1))

# ModelCheckpoint's file names: Keras formats the path with str.format, so log values without a
# format are Python floats ("1.0", "1e-05") and non-finite ones lower case.
m = model()
saved = []
m.save_weights = lambda filepath, overwrite=True: saved.append(os.path.basename(filepath))
ck = keras.callbacks.ModelCheckpoint(
    "/tmp/names/m-{epoch:02d}-{loss}-{accuracy}-{val_loss:.3f}-{tiny}-{big}.weights.h5", save_weights_only=True)
ck.set_model(m)
ck.on_train_begin()
for epoch, logs in enumerate([
        {"loss": 1.0, "accuracy": 1.0, "val_loss": float("nan"), "tiny": 1e-05, "big": 1e16},
        {"loss": 0.25, "accuracy": 0.5, "val_loss": float("inf"), "tiny": 2.5e-7, "big": 123456.0}]):
    ck.on_epoch_begin(epoch)
    ck.on_epoch_end(epoch, logs)
print("checkpoint file names from logs:", saved)
