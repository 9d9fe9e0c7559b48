"""congest_route.py - the baseline of tests/bench/congest-route_bench.c: the
same router loop in plain Python (Debian python3, json module): read each
request or feedback line, answer a request with the arm the plan gives for
the current window (a fixed table, as carmab between epochs) and the
window's congestion map, fold a feedback into the mean of its (arm,
congestion), matched by t.

usage: python3 congest_route.py ARMS WINDOW < requests > decisions
"""
import json
import sys


def main():
    arms = sys.argv[1].split(",")
    window = int(sys.argv[2])
    k = len(arms)
    nstates = k ** window
    # the plan: play arm 0 only when it is absent from the window
    policy = []
    for code in range(nstates):
        digits = [(code // k ** i) % k for i in range(window)]
        policy.append(0 if 0 not in digits else 1 % k)
    ring = [-1] * window
    count = [0] * k
    pos = 0
    code = 0
    n = [[0] * (window + 1) for _ in arms]
    mean = [[0.0] * (window + 1) for _ in arms]
    pending = {}
    out = sys.stdout
    for line in sys.stdin:
        r = json.loads(line)
        if r["type"] == "request":
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
            pending[r["t"]] = (arm, c)
        else:
            arm, c = pending.pop(r["t"])
            n[arm][c] += 1
            mean[arm][c] += (r["reward"] - mean[arm][c]) / n[arm][c]


main()
