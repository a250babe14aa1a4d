"""Turns the per-run JSON files of benches/compare.sh, or the outputs of benches/gpu.sh, into
markdown tables and JSON.

Usage:
  summarize.py OUT_DIR        reads OUT_DIR/runs/*.json (compare.sh), writes OUT_DIR/summary.{md,json}
  summarize.py --gpu OUT_DIR  reads gpu.sh's OUT_DIR/bench.json, bench-eager.json and the peers'
                              *.out files, writes OUT_DIR/peers.{md,json}: ms per training step
                              by model and batch size for tch-keras and each peer, and the ratio
                              tch-keras / peer at the same batch (below 1: tch-keras is faster)
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


# gpu.sh's peers, in table order: (peer field of the JSON, column label).
GPU_PEERS = [
    ("pytorch-eager", "PyTorch eager"),
    ("pytorch-compile-default", "torch.compile"),
    ("pytorch-compile-reduce-overhead", "torch.compile reduce-overhead"),
    ("pytorch-compile-max-autotune-no-cudagraphs", "torch.compile max-autotune-no-cudagraphs"),
    ("keras-torch", "Keras 3 (torch)"),
]
TRAIN_SAMPLES = 60000  # MNIST's training set, for the Keras peer's steps per epoch


def peer_ms_per_step(r):
    """Median ms per step of a peer's run. The first epoch is left out when there are others,
    except after torch.compile's untimed warm-up (compile_seconds set), where every epoch is
    steady-state."""
    times = r["epoch_seconds"]
    if r.get("compile_seconds") is None and len(times) > 1:
        times = times[1:]
    steps = -(-TRAIN_SAMPLES // r["batch_size"])
    return statistics.median(times) * 1e3 / steps


def gpu_peer_runs(out):
    """{(model, batch, peer): [ms per step, ...]} from the peers' *.out files in float32 with
    PyTorch's default TF32 and cuDNN settings (the switch variants are left out)."""
    found = {}
    for f in sorted(glob.glob(os.path.join(out, "*.out"))):
        lines = [l for l in open(f).read().splitlines() if l.startswith("{")]
        if not lines:
            continue
        try:
            r = json.loads(lines[-1])
        except json.JSONDecodeError:
            continue
        if "peer" not in r or "epoch_seconds" not in r or not r["epoch_seconds"]:
            continue
        if r.get("precision", "f32") != "f32" or r.get("tf32", "default") != "default" or r.get("cudnn_benchmark"):
            continue
        found.setdefault((r["model"], r["batch_size"], r["peer"]), []).append(peer_ms_per_step(r))
    return found


def gpu_summary(out):
    """Writes OUT/peers.{md,json} from gpu.sh's outputs and returns the markdown."""
    tch = {}
    for name, label in (("bench.json", "graphs"), ("bench-eager.json", "eager")):
        path = os.path.join(out, name)
        if os.path.exists(path):
            for row in json.load(open(path))["rows"]:
                tch[(row["model"], row["batch_size"], label)] = row["ms_per_step"]
    peers = gpu_peer_runs(out)
    peer_names = [p for p, _ in GPU_PEERS if any(k[2] == p for k in peers)]
    peer_names += sorted({k[2] for k in peers} - set(peer_names))
    labels = dict(GPU_PEERS)
    keys = sorted({k[:2] for k in tch} | {k[:2] for k in peers}, key=lambda k: (k[0] != "mlp", k[0], k[1]))
    table = []
    for model, batch in keys:
        graphs = tch.get((model, batch, "graphs"))
        entry = {"model": model, "batch_size": batch, "tch_keras_ms_per_step": graphs,
                 "tch_keras_eager_ms_per_step": tch.get((model, batch, "eager")), "peers": {}}
        for p in peer_names:
            runs = peers.get((model, batch, p))
            ms = statistics.median(runs) if runs else None
            ratio = graphs / ms if graphs is not None and ms else None
            entry["peers"][p] = {"ms_per_step": ms, "runs": len(runs or []), "tch_keras_over_peer": ratio}
        table.append(entry)
    fmt = lambda v, f: "-" if v is None else format(v, f)
    head = ["model", "batch", "tch-keras (CUDA graphs)", "tch-keras eager"]
    for p in peer_names:
        head += [labels.get(p, p), "ratio"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for e in table:
        cells = [e["model"], str(e["batch_size"]), fmt(e["tch_keras_ms_per_step"], ".3f"),
                 fmt(e["tch_keras_eager_ms_per_step"], ".3f")]
        for p in peer_names:
            cells += [fmt(e["peers"][p]["ms_per_step"], ".3f"), fmt(e["peers"][p]["tch_keras_over_peer"], ".3f")]
        lines.append("| " + " | ".join(cells) + " |")
    md = ("ms per training step; tch-keras from `tch-keras bench`, the peers from whole epochs; "
          "ratio: tch-keras (CUDA graphs) / that peer at the same batch (below 1: tch-keras is faster)\n\n"
          + "\n".join(lines) + "\n")
    open(os.path.join(out, "peers.md"), "w").write(md)
    json.dump(table, open(os.path.join(out, "peers.json"), "w"), indent=2)
    return md


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--gpu":
        print(gpu_summary(sys.argv[2]))
    elif len(sys.argv) == 2:
        main(sys.argv[1])
    else:
        sys.exit(__doc__)
