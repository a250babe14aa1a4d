"""Turns the per-run JSON files of benches/compare.sh into a markdown table and summary JSON.

Usage: summarize.py OUT_DIR  (reads OUT_DIR/runs/*.json, writes OUT_DIR/summary.{md,json})
"""
import glob
import json
import os
import statistics
import sys


def median_epoch(times):
    """Median epoch time, first epoch (warm-up) excluded when there are others."""
    rest = times[1:] if len(times) > 1 else times
    return statistics.median(rest)


def main(out):
    runs = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(out, "runs", "*.json")))]
    rows = {}
    for r in runs:
        peer = r.get("peer", "tch-keras")
        key = (r["model"], peer)
        row = rows.setdefault(key, {"model": r["model"], "peer": peer, "epochs": [], "acc": [], "rss": []})
        row["epochs"].append(median_epoch(r["epoch_seconds"]))
        row["acc"].append(r["test_accuracy"])
        rss = r.get("peak_rss_mb", r.get("peak_rss_mib"))
        if rss is not None:
            row["rss"].append(rss)
        row["batch_size"] = r.get("batch_size")
    table = []
    for (model, peer), row in sorted(rows.items()):
        base = rows.get((model, "pytorch-eager"))
        med = statistics.median(row["epochs"])
        entry = {
            "model": model,
            "peer": peer,
            "batch_size": row["batch_size"],
            "runs": len(row["epochs"]),
            "median_epoch_seconds": med,
            "ratio_to_pytorch_eager": med / statistics.median(base["epochs"]) if base else None,
            "test_accuracy": statistics.median(row["acc"]),
            "peak_rss_mb": max(row["rss"]) if row["rss"] else None,
            "rss_ratio_to_pytorch_eager": (max(row["rss"]) / max(base["rss"])) if base and row["rss"] and base["rss"] else None,
        }
        table.append(entry)
    lines = [
        "| model | implementation | batch | runs | median epoch (s) | ratio to PyTorch eager | test accuracy | peak RSS (MB) | RSS ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    fmt = lambda v, f: "-" if v is None else format(v, f)
    for e in table:
        lines.append(
            f"| {e['model']} | {e['peer']} | {e['batch_size']} | {e['runs']} | {e['median_epoch_seconds']:.3f} | "
            f"{fmt(e['ratio_to_pytorch_eager'], '.2f')} | {e['test_accuracy']:.4f} | {fmt(e['peak_rss_mb'], '.0f')} | "
            f"{fmt(e['rss_ratio_to_pytorch_eager'], '.2f')} |"
        )
    md = "\n".join(lines) + "\n"
    open(os.path.join(out, "summary.md"), "w").write(md)
    json.dump(table, open(os.path.join(out, "summary.json"), "w"), indent=2)
    print(md)


if __name__ == "__main__":
    main(sys.argv[1])
