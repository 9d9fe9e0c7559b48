#!/usr/bin/python3
# tart_torch.py - the baseline of tart-fit's training-step benchmark: the
# same architecture as lib/gpt (GPT-2 pre-LN blocks, learned positions,
# GELU-tanh, causal attention, linear read-in and read-out) and the same
# step (synthetic logistic-regression batch, BCE at the x positions, Adam)
# in PyTorch, timed on the same number of threads.
#
#   tart_torch.py LAYERS WIDTH HEADS BATCH POINTS THREADS REPEATS
#
# Prints the median seconds per step.  Written for loam's benchmark; it
# uses only torch (Debian's python3-torch), not transformers.
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, c, nh):
        super().__init__()
        self.nh = nh
        self.ln_1 = nn.LayerNorm(c, eps=1e-5)
        self.c_attn = nn.Linear(c, 3 * c)
        self.c_proj = nn.Linear(c, c)
        self.ln_2 = nn.LayerNorm(c, eps=1e-5)
        self.c_fc = nn.Linear(c, 4 * c)
        self.mlp_proj = nn.Linear(4 * c, c)

    def forward(self, x, mask):
        b, t, c = x.shape
        hs = c // self.nh
        q, k, v = self.c_attn(self.ln_1(x)).split(c, dim=2)
        q = q.view(b, t, self.nh, hs).transpose(1, 2)
        k = k.view(b, t, self.nh, hs).transpose(1, 2)
        v = v.view(b, t, self.nh, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        att = att.masked_fill(mask[:t, :t] == 0, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        x = x + self.c_proj(y)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class Tart(nn.Module):
    def __init__(self, layers, c, nh, n_in, positions):
        super().__init__()
        self.read_in = nn.Linear(n_in, c)
        self.wpe = nn.Embedding(positions, c)
        self.h = nn.ModuleList(Block(c, nh) for _ in range(layers))
        self.ln_f = nn.LayerNorm(c, eps=1e-5)
        self.read_out = nn.Linear(c, 1)
        self.register_buffer("mask", torch.tril(torch.ones(positions, positions)))

    def forward(self, z):
        t = z.shape[1]
        x = self.read_in(z) + self.wpe(torch.arange(t))
        for blk in self.h:
            x = blk(x, self.mask)
        return self.read_out(self.ln_f(x))[..., 0]


def batch(b, n, d, alpha):
    x = torch.randn(b, n, d)
    w = alpha * torch.randn(b, d, 1)
    y = torch.bernoulli(torch.sigmoid(x @ w))[..., 0]
    z = torch.zeros(b, 2 * n, d)
    z[:, 0::2] = x
    z[:, 1::2, 0] = y
    return z, y


def main():
    layers, width, heads, b, n, threads, repeats = map(int, sys.argv[1:8])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    d = 16
    model = Tart(layers, width, heads, d, 2 * n)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    times = []
    for i in range(repeats + 1):
        t0 = time.perf_counter()
        z, y = batch(b, n, d, 10.0)
        logits = model(z)[:, 0::2]
        loss = F.binary_cross_entropy_with_logits(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i > 0:  # the first step warms up the allocator
            times.append(time.perf_counter() - t0)
    times.sort()
    print("%.6f" % times[len(times) // 2])


if __name__ == "__main__":
    main()
