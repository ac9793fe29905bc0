"""Reference: the NAS-Bench-201 network in PyTorch, timed like metanas's harness.

Used by `cargo xtask bench-train-step`, which runs it beside the Burn backends and
prints images/s and ratios. Needs PyTorch (`pip install torch`, a CPU machine is
fine). The network follows NAS-Bench-201's own code (xautodl `TinyNetwork`,
`InferCell`, `ResNetBasicblock`, `ReLUConvBN`): stem conv3x3 + BN, three stages of
N cells with C, 2C, 4C channels joined by stride-2 ResNet blocks, BN-ReLU, global
average pooling, linear classifier.

Prints one JSON line: {"backend": "pytorch", "images_per_second": ..., ...}.
"""

import argparse
import json
import statistics
import time

import torch
import torch.nn as nn


class ReLUConvBN(nn.Module):
    def __init__(self, c_in, c_out, kernel, stride, padding):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x):
        return self.op(x)


class ResNetBasicblock(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x):
        return self.downsample(x) + self.conv_b(self.conv_a(x))


def make_op(name, c):
    if name == "nor_conv_3x3":
        return ReLUConvBN(c, c, 3, 1, 1)
    if name == "nor_conv_1x1":
        return ReLUConvBN(c, c, 1, 1, 0)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    if name == "skip_connect":
        return nn.Identity()
    raise ValueError(name)


class InferCell(nn.Module):
    """NB201 cell; `none` edges are dropped (they add zero)."""

    def __init__(self, arch, c):
        super().__init__()
        nodes = [group.strip("|").split("|") for group in arch.strip().split("+")]
        self.edges = []
        self.layers = nn.ModuleList()
        for to, entries in enumerate(nodes, start=1):
            for entry in entries:
                op, source = entry.split("~")
                if op != "none":
                    self.edges.append((int(source), to, len(self.layers)))
                    self.layers.append(make_op(op, c))
        self.num_nodes = len(nodes) + 1

    def forward(self, x):
        values = [x] + [None] * (self.num_nodes - 1)
        for node in range(1, self.num_nodes):
            terms = [
                self.layers[k](values[src] if values[src] is not None else torch.zeros_like(x))
                for (src, to, k) in self.edges
                if to == node
            ]
            values[node] = sum(terms) if terms else None
        out = values[-1]
        return out if out is not None else torch.zeros_like(x)


class TinyNetwork(nn.Module):
    def __init__(self, arch, c, n, num_classes, in_channels=3):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        blocks = []
        widths = [c, 2 * c, 4 * c]
        for stage, width in enumerate(widths):
            if stage > 0:
                blocks.append(ResNetBasicblock(widths[stage - 1], width))
            blocks += [InferCell(arch, width) for _ in range(n)]
        self.cells = nn.Sequential(*blocks)
        self.lastact = nn.Sequential(nn.BatchNorm2d(widths[-1]), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(widths[-1], num_classes)

    def forward(self, x):
        x = self.lastact(self.cells(self.stem(x)))
        return self.classifier(self.global_pooling(x).flatten(1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", required=True)
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--cells", type=int, default=5)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=0, help="0: PyTorch's default")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = TinyNetwork(a.arch, a.channels, a.cells, a.classes)
    params = sum(p.numel() for p in net.parameters())
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(a.batch, 3, a.size, a.size)
    y = torch.randint(0, a.classes, (a.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    median = statistics.median(times)
    print(json.dumps({
        "backend": "pytorch",
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "params": params,
        "median_step_ms": median * 1e3,
        "images_per_second": a.batch / median,
    }))


if __name__ == "__main__":
    main()
