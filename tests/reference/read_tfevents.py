"""Reads TensorBoard runs with TensorBoard's own EventAccumulator and prints them as JSON.

Usage: PYTHONPATH=$(scripts/py-deps.sh tensorboard) python3 tests/reference/read_tfevents.py RUN_DIR...

Prints {RUN_DIR: {"scalars": {tag: [[step, value], ...]},
                  "histograms": {tag: [{"step", "min", "max", "num", "sum", "sum_squares",
                                        "bucket_limit", "bucket"}, ...]}}}.
Used by tests/tensorboard.rs to check that tch-keras's event files parse with the real reader.
"""
import json
import sys

from tensorboard.backend.event_processing import event_accumulator as ea

out = {}
for run in sys.argv[1:]:
    acc = ea.EventAccumulator(run, size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0})
    acc.Reload()
    tags = acc.Tags()
    scalars = {t: [[e.step, e.value] for e in acc.Scalars(t)] for t in tags["scalars"]}
    histograms = {}
    for t in tags["histograms"]:
        histograms[t] = [
            {
                "step": e.step,
                "min": e.histogram_value.min,
                "max": e.histogram_value.max,
                "num": e.histogram_value.num,
                "sum": e.histogram_value.sum,
                "sum_squares": e.histogram_value.sum_squares,
                "bucket_limit": list(e.histogram_value.bucket_limit),
                "bucket": list(e.histogram_value.bucket),
            }
            for e in acc.Histograms(t)
        ]
    out[run] = {"scalars": scalars, "histograms": histograms}
print(json.dumps(out))
