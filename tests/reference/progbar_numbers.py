"""How Keras 3's progress bar writes logged numbers, for tests/progress.rs.

Run: KERAS_BACKEND=torch PYTHONPATH=/root/.cache/tch-keras/py-keras:/root/.cache/tch-keras/torch-2.11.0 \
    python3 tests/reference/progbar_numbers.py
"""
import contextlib
import io
import re

from keras.src.utils.progbar import Progbar

for value in [0.25, 1.23e-5, 0.0, 1e-3, 0.0011, -5e-4, -0.5, 1.5e-12, float("nan"), float("inf")]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        Progbar(target=1, verbose=1).update(1, values=[("loss", value)], finalize=True)
    print(repr(value), re.search(r"loss: (\S+)", out.getvalue()).group(1))
