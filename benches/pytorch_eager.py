"""The recipe's MLP and CNN in a plain PyTorch loop, eager or torch.compile'd, for side-by-side
timing.

Same data files, model, initialisation family (glorot-uniform, zero bias), optimizer (Adam,
lr 0.001, eps 1e-7), batch size and epochs as tch-keras. Data is held in memory as tensors on
the device, shuffled with randperm each epoch, and loss/accuracy sums stay on the device until
the epoch ends -- the lean loop a PyTorch user would write, without a DataLoader.

--compile MODE (default none: eager) compiles the whole training step -- forward, loss,
backward and the Adam update -- as one function with torch.compile(fullgraph=False,
dynamic=False, mode=MODE). Dynamo breaks the graph at loss.backward(): the forward and loss
form one graph (AOTAutograd compiles its backward), the Adam step (traced by Dynamo, which makes
it capturable on CUDA) and zero_grad another. With mode="reduce-overhead" Inductor replays
those graphs as CUDA graphs (on CUDA only; on the CPU the mode runs without them), and every
step begins with torch.compiler.cudagraph_mark_step_begin(). dynamic=False gives each input
shape its own graph: the full batch and the last, partial one.

Compilation is not timed. Before the timed epochs a warm-up runs the compiled step three times
on each of the two batch shapes (compilation, then for reduce-overhead the CUDA-graph warm-up
run and recording), then puts the weights back and zeroes Adam's state in place (same tensors,
so compiled graphs and CUDA-graph addresses stay valid): training then starts from the same
initial weights and fresh optimizer state as in eager mode, and every epoch in
"epoch_seconds" is a steady-state epoch. The warm-up's wall time is "compile_seconds". The
eager loop has no warm-up (its first epoch holds CUDA/cuDNN start-up, as before).

Prints one JSON object: epoch times, test accuracy, peak memory; "peer" is "pytorch-eager" or
"pytorch-compile-MODE".
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
    if name == "cnn-wide":  # tch-keras's recipes::wide_cnn
        return nn.Sequential(
            nn.Conv2d(1, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(6272, 256), nn.ReLU(), nn.Linear(256, 10))
    return nn.Sequential(
        nn.Conv2d(1, 25, 4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(25, 50, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(800, 10))


def make_step(net, opt, autocast, mode):
    """The training step: (inputs, labels) -> (loss, correct count), both on the device.

    Eager when mode is "none", else everything but zero_grad under torch.compile."""

    def forward_backward_update(xb, yb):
        with autocast():
            out = net(xb)
        out = out.float()
        loss = F.cross_entropy(out, yb)
        correct = (out.argmax(1) == yb).sum()
        loss.backward()
        opt.step()
        return loss.detach(), correct

    run = forward_backward_update
    if mode != "none":
        run = torch.compile(run, fullgraph=False, dynamic=False, mode=None if mode == "default" else mode)
    mark = mode == "reduce-overhead"

    def train_step(xb, yb):
        # Optimizer.zero_grad is skipped by Dynamo (it would be a graph break of its own): it
        # runs eagerly, setting the gradients to None, before the (compiled) rest of the step.
        opt.zero_grad(set_to_none=True)
        if mark:
            torch.compiler.cudagraph_mark_step_begin()
        return run(xb, yb)

    return train_step


def warm_up(step, net, opt, x, y, batch_size, sync):
    """Runs the compiled step three times on each batch shape of an epoch, then restores the
    weights and zeroes Adam's state in place. Returns the seconds it took."""
    sync()
    t0 = time.perf_counter()
    with torch.no_grad():
        weights = [p.detach().clone() for p in net.parameters()]
    sizes = [batch_size] + ([x.shape[0] % batch_size] if x.shape[0] % batch_size else [])
    for size in sizes:
        for _ in range(3):
            loss, correct = step(x[:size], y[:size])
            loss.item(), correct.item()
    with torch.no_grad():
        for p, w in zip(net.parameters(), weights):
            p.copy_(w)
        for state in opt.state.values():
            for t in state.values():
                if torch.is_tensor(t):
                    t.zero_()
    opt.zero_grad(set_to_none=True)
    sync()
    return time.perf_counter() - t0


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["mlp", "cnn", "cnn-wide"], default="mlp")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", choices=["f32", "bf16"], default="f32")
    p.add_argument("--tf32", choices=["default", "on", "off"], default="default")
    p.add_argument("--cudnn-benchmark", action="store_true")
    p.add_argument("--compile", choices=["none", "default", "reduce-overhead", "max-autotune-no-cudagraphs"],
                   default="none", help="torch.compile mode for the whole training step (none: eager)")
    return p.parse_args()


def main():
    a = parse_args()
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
    step = make_step(net, opt, autocast, a.compile)
    net.train()
    compile_seconds = None if a.compile == "none" else warm_up(step, net, opt, x, y, a.batch_size, sync)
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
            loss, right = step(xb, yb)
            with torch.no_grad():
                loss_sum += loss * xb.shape[0]
                correct += right
        train_loss, train_acc = (loss_sum / n).item(), (correct / n).item()
        sync()
        times.append(time.perf_counter() - t0)
    net.eval()
    with torch.no_grad(), autocast():
        acc = sum((net(xt[i:i + 1024]).argmax(1) == yt[i:i + 1024]).sum().item() for i in range(0, xt.shape[0], 1024)) / xt.shape[0]
    out = {
        "peer": "pytorch-eager" if a.compile == "none" else "pytorch-compile-" + a.compile,
        "model": a.model,
        "device": a.device,
        "batch_size": a.batch_size,
        "precision": a.precision,
        "tf32": a.tf32,
        "cudnn_benchmark": a.cudnn_benchmark,
        "compile": a.compile,
        "compile_seconds": compile_seconds,
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
