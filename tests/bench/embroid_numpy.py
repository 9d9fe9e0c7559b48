#!/usr/bin/env python3
"""embroid_numpy - the baseline of embroid-fix_bench: Embroid's smoothed
votes and the triplet label model, vectorised with NumPy, exactly as
lib/embroid.h and lib/labelmodel.h state them for the default path
(notebook thresholds, class balance 0.5, min_z 2, probability floor 1e-3,
ties abstain; labelmodel_opts_default()).  Abstains are handled as the C
code handles them, but the benchmark's data have none.

usage: embroid_numpy.py [-k K] VOTES NEIGHBORS... LABELS PROBA

VOTES: n x m integer .npy of votes in {-1, 0, +1}; NEIGHBORS: one n x c
int64 .npy of neighbour ids per embedding space, nearest first (-1 pads).
Writes the hard labels (int32, 0 for a tie) to LABELS and P(y = +1) to
PROBA (float64).  Only the computation is timed (time.perf_counter(), the
files are read before and written after): stdout gets one line,
"compute_s SECONDS".  Estimated accuracies go to stderr.

The floating-point steps follow lib/labelmodel.c operation by operation
(integer moments, the same summation orders, libm's log through
math.log), so the labels must equal the C code's, to the bit.
"""

import math
import sys
import time

import numpy as np

MIN_Z = 2.0
PROB_FLOOR = 1e-3
CLASS_BALANCE = 0.5


def default_thresholds(votes):
    """embroid_default_thresholds(): tau_pos = share of +1 among the votes."""
    pos = np.count_nonzero(votes > 0, axis=0)
    neg = np.count_nonzero(votes < 0, axis=0)
    tot = pos + neg
    tau_pos = np.where(tot > 0, pos / np.maximum(tot, 1), 0.5)
    return tau_pos, 1.0 - tau_pos


def smooth(votes, nb, k, tau_pos, tau_neg):
    """One space's smoothed votes, n x m int8 (embroid.h's rule)."""
    n, m = votes.shape
    if k < 1 or k > nb.shape[1]:
        raise ValueError("k = %d is not in [1, %d]" % (k, nb.shape[1]))
    lo = nb.min()
    if lo < -1 or nb.max() >= n:
        raise ValueError("a neighbour id is not in [-1, %d)" % n)
    rows = np.arange(n)
    body = nb[:, 1:k + 1]
    if lo >= 0 and nb.shape[1] > k and (nb[:, 0] == rows).all() and \
            not (body == rows[:, None]).any():
        # the usual shape, a search's k + 1 with the row itself first and
        # no padding: the k entries to take are columns 1..k
        ids, take = body, None
    else:
        # the first k entries that are neither the row itself nor -1
        valid = nb != rows[:, None]
        valid &= nb >= 0
        take = valid & (np.cumsum(valid, axis=1, dtype=np.int32) <= k)
        ids = np.where(take, nb, 0)
    out = np.empty((n, m), dtype=np.int8)
    for j in range(m):
        v = votes[:, j][ids]                # n x k (or c) neighbour votes
        if take is not None:
            v *= take                       # not taken: counts as neither
        pos = (v > 0).sum(axis=1, dtype=np.int16)
        neg = (v < 0).sum(axis=1, dtype=np.int16)
        tot = pos + neg
        with np.errstate(invalid="ignore", divide="ignore"):
            f = pos / tot
        s = np.zeros(n, dtype=np.int8)
        s[f >= tau_pos[j]] = 1
        s[1.0 - f >= tau_neg[j]] = -1       # the reference's order: -1 wins
        s[tot == 0] = 0
        out[:, j] = s
    return out


def fit(L):
    """labelmodel_fit() with the default options: per-source tables."""
    n, m = L.shape
    if m < 3:
        raise ValueError("the triplet label model needs at least 3 sources")
    if L.min() < -1 or L.max() > 1:
        raise ValueError("a vote is not -1, 0 or +1")
    # step 1: integer sums, exact in float64 (n < 2^53), whatever order
    # BLAS sums them in
    Lf = L.astype(np.float64)
    S = Lf.T @ Lf
    Z = (L != 0).astype(np.float64)
    C = Z.T @ Z
    npos = np.count_nonzero(L > 0, axis=0)
    nneg = np.count_nonzero(L < 0, axis=0)
    S = S.astype(np.int64)
    nr = C.astype(np.int64)
    for i in range(m):
        if nr[i, i] == 0:
            raise ValueError("source %d never votes" % i)
    for i in range(m):
        for j in range(i + 1, m):
            if nr[i, j] == nr[i, i] == nr[j, j] and abs(S[i, j]) == nr[i, j]:
                raise ValueError("sources %d and %d are identical or "
                                 "opposite" % (i, j))
    M = [[float(S[i, j]) / float(nr[i, j]) if nr[i, j] > 0 else 0.0
          for j in range(m)] for i in range(m)]
    nr = nr.tolist()

    # step 2: triplet means of sqrt(M_ij M_ik / M_jk)
    e = [0.0] * m
    ntrip = [0] * m
    for i in range(m):
        total, count = 0.0, 0
        for j in range(m):
            if j == i:
                continue
            for kk in range(j + 1, m):
                if kk == i:
                    continue
                mij, mik, mjk = M[i][j], M[i][kk], M[j][kk]
                if nr[i][j] == 0 or nr[i][kk] == 0 or nr[j][kk] == 0 or \
                        mjk == 0:
                    continue
                if abs(mjk) < MIN_Z * math.sqrt((1 - mjk * mjk) /
                                                float(nr[j][kk])):
                    continue
                r = mij * mik / mjk
                count += 1
                if r > 0:
                    total += math.sqrt(r)
        ntrip[i] = count
        e[i] = total / count if count > 0 else 0.0

    # step 3: signs of the leading eigenvector, oriented to sum >= 0
    a = np.array([[e[i] * e[i] if i == j else (M[i][j] if nr[i][j] > 0
                                                else 0.0)
                   for j in range(m)] for i in range(m)])
    _, vec = np.linalg.eigh(a)
    total = 0.0
    for i in range(m):
        if vec[i, m - 1] < 0:
            e[i] = -e[i]
        total += e[i]
    if total < 0:
        e = [-x for x in e]

    # steps 4 and 5: the class balance given, the clipped tables
    p = CLASS_BALANCE
    acc, wpos, wneg = [], [], []
    fl = PROB_FLOOR
    for i in range(m):
        q = float(npos[i]) / float(nr[i][i])
        lo, hi = max(0.0, p + q - 1), min(p, q)
        if ntrip[i] == 0:
            A = p * q
        else:
            A = min(max(0.5 * (p + q + 0.5 * (1 + e[i]) - 1), lo), hi)
        acc.append(2 * A - p - q + 1)
        cp = min(max(A / p, fl), 1 - fl)
        cn = min(max((1 - p - q + A) / (1 - p), fl), 1 - fl)
        # log-likelihood terms indexed by vote + 1: (-1, 0, +1)
        wpos.append([math.log(1 - cp), 0.0, math.log(cp)])
        wneg.append([math.log(cn), 0.0, math.log(1 - cn)])
    return {"accuracy": acc, "wpos": np.array(wpos), "wneg": np.array(wneg),
            "logprior": (math.log(p), math.log(1 - p))}


def predict(model, L):
    """labelmodel_predict(): posterior and hard label per row."""
    n, m = L.shape
    idx = L.astype(np.intp)
    idx += 1
    pos = np.full(n, model["logprior"][0])
    neg = np.full(n, model["logprior"][1])
    # the C code's summation order: the prior, then source by source
    for i in range(m):
        col = idx[:, i]
        pos += model["wpos"][i][col]
        neg += model["wneg"][i][col]
    d = pos - neg
    ed = np.exp(-np.abs(d))
    proba = np.where(d > 0, 1 / (1 + ed), ed / (1 + ed))
    proba[d == 0] = 0.5
    labels = np.sign(d).astype(np.int8)     # tie: 0, no decision
    return proba, labels


def embroid(votes, nbs, k):
    tau_pos, tau_neg = default_thresholds(votes)
    L = np.concatenate([votes] + [smooth(votes, nb, k, tau_pos, tau_neg)
                                  for nb in nbs], axis=1)
    model = fit(L)
    proba, labels = predict(model, L)
    return model, proba, labels


def main(argv):
    k = 10
    if len(argv) > 1 and argv[1] == "-k":
        k = int(argv[2])
        argv = argv[:1] + argv[3:]
    if len(argv) < 5:
        sys.stderr.write("usage: embroid_numpy.py [-k K] VOTES NEIGHBORS... "
                         "LABELS PROBA\n")
        return 2
    votes = np.load(argv[1]).astype(np.int8)
    if votes.ndim == 1:
        votes = votes[:, None]
    nbs = [np.ascontiguousarray(np.load(f), dtype=np.int64)
           for f in argv[2:-2]]
    t0 = time.perf_counter()
    model, proba, labels = embroid(votes, nbs, k)
    t = time.perf_counter() - t0
    np.save(argv[-2], labels.astype(np.int32))
    np.save(argv[-1], proba)
    sys.stderr.write("embroid_numpy: numpy %s, accuracies %s\n" % (
        np.__version__, " ".join("%.4f" % x for x in model["accuracy"])))
    print("compute_s %.6f" % t)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
