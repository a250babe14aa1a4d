"""The recipe's MLP and CNN in a plain PyTorch eager loop, for side-by-side timing.

Same data files, model, initialisation family (glorot-uniform, zero bias), optimizer (Adam,
lr 0.001, eps 1e-7), batch size and epochs as tch-keras. Data is held in memory as tensors on
the device, shuffled with randperm each epoch, and loss/accuracy sums stay on the device until
the epoch ends -- the lean loop a PyTorch user would write, without a DataLoader.

Prints one JSON object: epoch times, test accuracy, peak memory.
"""
import argparse
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import idx


def load(data_dir):
    x, y, xt, yt = idx.load(data_dir, lambda b, shape: torch.frombuffer(b, dtype=torch.uint8).reshape(shape))
    return x.float().div_(255.0), y.long(), xt.float().div_(255.0), yt.long()


def glorot(m):
    if isinstance(m, (nn.Linear, nn.Conv2d)):
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)


def model(name):
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 10))
    return nn.Sequential(
        nn.Conv2d(1, 25, 4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(25, 50, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(800, 10))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", choices=["f32", "bf16"], default="f32")
    p.add_argument("--tf32", choices=["default", "on", "off"], default="default")
    p.add_argument("--cudnn-benchmark", action="store_true")
    a = p.parse_args()
    torch.manual_seed(a.seed)
    dev = torch.device(a.device)
    if a.tf32 != "default":
        value = "tf32" if a.tf32 == "on" else "ieee"
        torch.backends.cuda.matmul.fp32_precision = value
        torch.backends.cudnn.conv.fp32_precision = value
    torch.backends.cudnn.benchmark = a.cudnn_benchmark
    autocast = lambda: torch.autocast(dev.type, dtype=torch.bfloat16, enabled=a.precision == "bf16")
    x, y, xt, yt = load(a.data_dir)
    shape = (-1, 784) if a.model == "mlp" else (-1, 1, 28, 28)
    x, y, xt, yt = x.reshape(shape).to(dev), y.to(dev), xt.reshape(shape).to(dev), yt.to(dev)
    net = model(a.model).to(dev)
    net.apply(glorot)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    n = x.shape[0]
    sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)
    times = []
    for _ in range(a.epochs):
        sync()
        t0 = time.perf_counter()
        net.train()
        perm = torch.randperm(n, device=dev)
        loss_sum = torch.zeros((), device=dev)
        correct = torch.zeros((), device=dev)
        for i in range(0, n, a.batch_size):
            idx = perm[i:i + a.batch_size]
            xb, yb = x[idx], y[idx]
            with autocast():
                out = net(xb)
            out = out.float()
            loss = F.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():
                loss_sum += loss.detach() * xb.shape[0]
                correct += (out.argmax(1) == yb).sum()
        train_loss, train_acc = (loss_sum / n).item(), (correct / n).item()
        sync()
        times.append(time.perf_counter() - t0)
    net.eval()
    with torch.no_grad(), autocast():
        acc = sum((net(xt[i:i + 1024]).argmax(1) == yt[i:i + 1024]).sum().item() for i in range(0, xt.shape[0], 1024)) / xt.shape[0]
    out = {
        "peer": "pytorch-eager",
        "model": a.model,
        "device": a.device,
        "batch_size": a.batch_size,
        "precision": a.precision,
        "tf32": a.tf32,
        "cudnn_benchmark": a.cudnn_benchmark,
        "ms_per_step": [t * 1e3 / -(-n // a.batch_size) for t in times],
        "epoch_seconds": times,
        "train_loss": train_loss,
        "train_accuracy": train_acc,
        "test_accuracy": acc,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    if dev.type == "cuda":
        out["gpu_peak_alloc_mb"] = torch.cuda.max_memory_allocated() / 2**20
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
