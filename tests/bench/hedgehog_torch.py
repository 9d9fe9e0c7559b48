#!/usr/bin/python3
"""hedgehog_torch - the PyTorch baseline of hedgehog-train_bench: one
attention-distillation step of one layer as LoLCATs computes it
(src/model/feature_map.py SoftmaxDim, src/model/linear_attention
quadratic_attention and softmax_attention, the cross-entropy of
src/trainer/distill_attention_xent_mse.py), written for Debian's
python3-torch 1.13 on the CPU.

    hedgehog_torch.py Q.npy K.npy THREADS RUNS

Q, K: [heads, length, head_dim] float32.  The map: per head
W (head_dim, feature_dim = head_dim) identity-initialised,
phi(x) = [softmax(x W), softmax(-x W)] clamped at 1e-12; AdamW lr 1e-2.
Prints the loss of the first step and the median seconds per step
(after one warm-up step) on one line: "loss SECONDS".
"""
import sys
import time

import numpy as np
import torch


def main():
    qpath, kpath, threads, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    q = torch.from_numpy(np.load(qpath))[None]   # (1, H, n, d)
    k = torch.from_numpy(np.load(kpath))[None]
    _, H, n, d = q.shape
    df = d
    eye = torch.eye(d, df).repeat(H, 1, 1)
    wq = torch.nn.Parameter(eye.clone())
    wk = torch.nn.Parameter(eye.clone())
    opt = torch.optim.AdamW([wq, wk], lr=1e-2, weight_decay=0)
    mask = torch.ones(n, n, dtype=torch.bool).triu(1)

    def fmap(x, w):
        z = torch.einsum('hdf,bhld->bhlf', w, x)
        return torch.cat([torch.softmax(z, dim=-1), torch.softmax(-z, dim=-1)],
                         dim=-1).clamp(min=1e-12)

    def step():
        with torch.no_grad():
            a_true = torch.einsum('bhmd,bhnd->bhmn', q, k) * d ** -0.5
            a_true = a_true.masked_fill(mask, -torch.finfo(q.dtype).max)
            a_true = torch.softmax(a_true, dim=-1)
        fq, fk = fmap(q, wq), fmap(k, wk)
        a_pred = torch.einsum('bhmd,bhnd->bhmn', fq, fk)
        a_pred = a_pred.masked_fill(mask, 0)
        a_pred = a_pred / (a_pred.sum(dim=-1, keepdim=True) + 1e-12)
        logits = torch.log(a_pred.clamp(min=1e-12)).flatten(end_dim=-2)
        loss = torch.nn.functional.cross_entropy(logits, a_true.flatten(end_dim=-2))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    first = step()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    print("%.9g %.6f" % (first, float(np.median(times))))


if __name__ == "__main__":
    main()
