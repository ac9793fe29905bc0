"""Reference for `cargo xtask bench-train-step --layers`: the NAS-Bench-201
network's blocks timed one at a time in PyTorch, with the case names of the
Rust harness (`benches/src/layer_breakdown.rs`).

Prints one JSON line: {"<case name>": median ms, ...}.
"""

import argparse
import json
import statistics
import time

import torch
import torch.nn as nn


def median_ms(run, warmup, steps):
    for _ in range(warmup):
        run()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        run()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=20)
    a = p.parse_args()
    torch.manual_seed(0)
    results = {}
    for channels, size in [(16, 32), (64, 8)]:
        conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        norm = nn.BatchNorm2d(channels)
        pool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        x = torch.randn(a.batch, channels, size, size)
        upstream = torch.randn(a.batch, channels, size, size)

        def conv_forward():
            with torch.no_grad():
                return conv(x).sum().item()

        def conv_forward_backward():
            xi = x.detach().requires_grad_()
            conv.zero_grad(set_to_none=True)
            (conv(xi) * upstream).sum().backward()
            return xi.grad.sum().item() + conv.weight.grad.sum().item()

        def norm_forward_backward():
            xi = x.detach().requires_grad_()
            norm.zero_grad(set_to_none=True)
            (norm(xi) * upstream).sum().backward()
            return xi.grad.sum().item()

        def pool_forward_backward():
            xi = x.detach().requires_grad_()
            (pool(xi) * upstream).sum().backward()
            return xi.grad.sum().item()

        shape = f"{channels}ch {size}×{size}"
        results[f"conv3x3 fwd {shape}"] = median_ms(conv_forward, a.warmup, a.steps)
        results[f"conv3x3 fwd+bwd {shape}"] = median_ms(conv_forward_backward, a.warmup, a.steps)
        results[f"batchnorm fwd+bwd {shape}"] = median_ms(norm_forward_backward, a.warmup, a.steps)
        results[f"avgpool3x3 fwd+bwd {shape}"] = median_ms(pool_forward_backward, a.warmup, a.steps)
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
