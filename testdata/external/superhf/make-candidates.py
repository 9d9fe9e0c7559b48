# make-candidates.py - pool the SuperHF paper's test completions of eight models
# into best-of-n candidate records, one per (prompt, model), with the test
# reward model's score: python3 make-candidates.py DIR > candidates.jsonl
# (DIR: completions/ and scores/ from openfeedback/superhf).
import json, sys
d = sys.argv[1] if len(sys.argv) > 1 else "../shared/external/superhf"
models = ["alpaca_7b", "llama-7b", "llama-instruct-12379", "rlhf-fixed-llama-instruct-bs-16",
          "shf-v4-llama-10000-kl-0", "shf-v4-llama-10000-kl-0.1", "shf-v4-llama-10000-kl-0.35",
          "shf-v4-llama-10000-kl-0.5"]
C = {m: json.load(open(f"{d}/completions/{m}.json")) for m in models}
S = {m: json.load(open(f"{d}/scores/{m}.json")) for m in models}
for ds in S[models[0]]:
    for i in range(len(S[models[0]][ds])):
        for m in models:
            print(json.dumps({"prompt_id": f"{ds}/{i}", "dataset": ds, "model": m,
                              "completion": C[m][ds][i], "score": S[m][ds][i][0]}))
