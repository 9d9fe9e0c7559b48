"""congest_route.py - the baseline of tests/bench/congest-route_bench.c: the
same router in plain Python (Debian python3, json module), running the
same policy as `congest-route route` (carmab): read each request or
feedback line; answer a request with the arm the current plan gives for
the window and the window's congestion map; fold a feedback, matched by
t, into the mean of its (arm, congestion) and the epoch's counts; when a
count in the epoch reaches its count at the epoch's start, plan again on
the optimistic profile (relative value iteration on the K^Δ states, then
the greedy policy: a planner of our own, not the C one's policy
iteration, so where plans tie the two may pick different arms).

usage: python3 congest_route.py ARMS WINDOW < requests > decisions
"""
import json
import math
import sys


def plan(f, k, window, nstates):
    """The greedy policy of the relative values of profile f (f[a][c])."""
    low = nstates // k if window else 0

    def counts(v):
        cnt = [0] * k
        for _ in range(window):
            cnt[v % k] += 1
            v //= k
        return cnt

    cnts = [counts(v) for v in range(nstates)]

    def q(h, v, a):
        return f[a][cnts[v][a]] + h[v % low * k + a if low else 0]

    h = [0.0] * nstates
    for _ in range(100000):
        # h/2 + Th/2: aperiodic, as congest_rvi_gain
        th = [0.5 * h[v] + 0.5 * max(q(h, v, a) for a in range(k)) for v in range(nstates)]
        d = [th[v] - h[v] for v in range(nstates)]
        h = [x - th[0] for x in th]
        if max(d) - min(d) <= 1e-12:
            break
    policy = []
    for v in range(nstates):
        best = 0
        for a in range(1, k):
            if q(h, v, a) > q(h, v, best) + 1e-9:
                best = a
        policy.append(best)
    return policy


def main():
    arms = sys.argv[1].split(",")
    window = int(sys.argv[2])
    k = len(arms)
    p = window + 1
    nstates = k ** window
    delta = 0.05
    ring = [-1] * window
    count = [0] * k
    pos = 0
    code = 0
    steps = 0
    n = [[0] * p for _ in arms]
    mean = [[0.0] * p for _ in arms]
    n_epoch = [[0] * p for _ in arms]
    n_start = [[0] * p for _ in arms]
    replan = True
    policy = None
    pending = {}
    out = sys.stdout
    for line in sys.stdin:
        r = json.loads(line)
        if r["type"] == "request":
            if replan:
                logterm = max(math.log(2.0 * k * p * (steps + 1) / delta), 0)
                f = [[min(1.0, mean[a][c] + math.sqrt(2 * logterm / n[a][c])) if n[a][c] else 1.0
                      for c in range(p)] for a in range(k)]
                for a in range(k):
                    n_start[a] = n[a][:]
                    n_epoch[a] = [0] * p
                policy = plan(f, k, window, nstates)
                replan = False
            arm = policy[code]
            cong = {arms[i]: count[i] for i in range(k)}
            c = count[arm]
            out.write(json.dumps({"type": "decision", "t": r["t"], "arm": arms[arm],
                                  "congestion": cong}, separators=(",", ":")) + "\n")
            if window:
                if ring[pos] >= 0:
                    count[ring[pos]] -= 1
                ring[pos] = arm
                count[arm] += 1
                pos = (pos + 1) % window
                code = code % (nstates // k) * k + arm
            steps += 1
            pending[r["t"]] = (arm, c)
        else:
            arm, c = pending.pop(r["t"])
            n[arm][c] += 1
            mean[arm][c] += (r["reward"] - mean[arm][c]) / n[arm][c]
            n_epoch[arm][c] += 1
            if n_epoch[arm][c] >= max(n_start[arm][c], 1):
                replan = True


main()
