#!/usr/bin/env bats
# reward-query: kernel reward learning with query design (see
# man/reward-query.1).  Parity is with scikit-learn's
# GaussianProcessRegressor through tests/tools/sklearn-gp and small
# python3 snippets (Debian's /usr/bin/python3, where make deps puts
# python3-sklearn: its absence fails these tests); the data are made by
# awk from sin(), the same on every awk.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# points N DIM SEED: N lines of DIM coordinates in [0, 1).
points() {
	awk -v n="$1" -v d="$2" -v s="$3" 'BEGIN { for (i = 0; i < n; i++) {
		line = ""
		for (j = 0; j < d; j++) {
			v = sin((i + 1) * 12.9898 + (j + 1) * 78.233 + s) * 43758.5453
			line = line (j ? " " : "") sprintf("%.17g", v - int(v) + (v < 0))
		}
		print line
	} }'
}

# reward X...: a smooth reward with a little pseudo-noise of index i.
reward='function r(i, x1, x2) { return sin(3 * x1) + cos(2 * x2) + 0.05 * sin(i * 7.31) }'

# records PTS NOBS: candidate i (id i) at each line of PTS, the first NOBS
# observed once.
records() {
	awk -v nobs="$2" "$reward"'{
		printf "{\"type\":\"candidate\",\"id\":%d,\"x\":[%s]}\n", NR - 1, $1 (NF > 1 ? "," $2 : "")
		if (NR <= nobs) printf "{\"type\":\"obs\",\"id\":%d,\"y\":%.17g}\n", NR - 1, r(NR, $1, $2)
	}' "$1"
}

# sklearn_input PTS NOBS: sklearn-gp's input, every point a test point.
sklearn_input() {
	awk -v nobs="$2" "$reward"'{ p[NR] = $0; x1[NR] = $1; x2[NR] = $2; d = NF }
	END {
		print nobs, NR, d
		for (i = 1; i <= nobs; i++) printf "%s %.17g\n", p[i], r(i, x1[i], x2[i])
		for (i = 1; i <= NR; i++) print p[i]
	}' "$1"
}

# max_rel A B: the largest |a - b| / max(|b|, 1e-3) over the numbers of
# two files of the same shape.
max_rel() {
	paste "$1" "$2" | awk '{ h = NF / 2; for (i = 1; i <= h; i++) {
		a = $i; b = $(i + h); e = (a > b ? a - b : b - a) / ((b < 0 ? -b : b) > 1e-3 ? (b < 0 ? -b : b) : 1e-3)
		if (e > worst) worst = e } } END { printf "%.3g\n", worst + 0 }'
}

@test "--help prints the usage to stdout and exits 0; bad options exit 2 with the message" {
	run -0 --separate-stderr reward-query --help
	assert_line --index 0 'usage: reward-query [-hqV] [--kernel name] [--lengthscale l[,l...]]'
	[ -z "$stderr" ]
	run -2 --separate-stderr reward-query --bogus
	assert_equal "${stderr_lines[0]}" "reward-query: unknown option '--bogus'"
	run -2 --separate-stderr reward-query --kernel matern:0
	assert_equal "${stderr_lines[0]}" "reward-query: --kernel: 'matern:0' is not matern12, matern32, matern52, matern:NU (NU > 0) or rbf"
	run -2 --separate-stderr reward-query --design thompson
	assert_equal "${stderr_lines[0]}" "reward-query: --design: 'thompson' is not gopt, maxvar, ucb, eigen or random"
	run -2 --separate-stderr reward-query --lambda 0.1 --noise 0.1
	assert_equal "${stderr_lines[0]}" "reward-query: --lambda and --noise: the same value, given twice"
	run -2 --separate-stderr reward-query --delta 1 /dev/null
	assert_equal "${stderr_lines[0]}" "reward-query: --delta: '1' is not in (0, 1)"
	run -2 --separate-stderr reward-query --lengthscale 1,,2
	[[ "${stderr_lines[0]}" == "reward-query: --lengthscale: "* ]]
	echo '{"type":"candidate","id":"a","x":[0,1]}' > c.jsonl
	run -2 --separate-stderr reward-query --lengthscale 1,2,3 c.jsonl
	assert_equal "${stderr_lines[0]}" "reward-query: 3 lengthscales for 2-dimensional candidates"
}

@test "the records: pred per candidate in input order, recommend, queries; ids as given; obs before its candidate" {
	printf '%s\n' '{"type":"obs","id":"late","y":0.4}' '{"type":"candidate","id":"a","x":[0]}' \
	    '{"type":"candidate","id":7,"x":[0.5]}' '{"type":"candidate","id":"late","x":[1]}' \
	    '{"type":"obs","id":7,"y":0.9}' '{"type":"pred","id":"a","mean":5,"sd":1}' \
	    '{"type":"query","id":"a","order":1,"criterion":1}' > in.jsonl
	run -0 --separate-stderr reward-query --batch 2 in.jsonl
	assert_equal "$(jq -c '[.type, .id]' <<< "$output" | head -n 3 | paste -sd' ')" \
	    '["pred","a"] ["pred",7] ["pred","late"]'
	assert_equal "$(jq -r .type <<< "$output" | tail -n 3 | paste -sd' ')" 'recommend query query'
	# the recommendation is the largest mean; two distinct queries
	assert_equal "$(jq -c 'select(.type == "recommend") | .id' <<< "$output")" \
	    "$(jq -s -c 'map(select(.type == "pred")) | max_by(.mean) | .id' <<< "$output")"
	assert_equal "$(jq -c 'select(.type == "query") | .id' <<< "$output" | sort -u | wc -l)" 2
	assert_equal "$(head -n1 <<< "$output" | jq -c 'keys')" '["id","mean","sd","type"]'
	assert_equal "$(grep recommend <<< "$output" | jq -c 'keys')" '["beta","bound","id","mean","sd","type"]'
	assert_equal "$(grep query <<< "$output" | jq -c '[.order, (.criterion > 0)]' | paste -sd' ')" '[1,true] [2,true]'
	assert_equal "$stderr" "reward-query: 3 candidates, 2 observations of 2; jitter 0; 2 queries"
	# the bound is 2 beta max sd
	jq -s -e '(map(select(.type == "pred").sd) | max) as $m | .[3] | (.bound - 2 * .beta * $m) | fabs < 1e-12' <<< "$output"
	# an integer id and its digits are one id
	printf '%s\n' '{"type":"candidate","id":7,"x":[0]}' '{"type":"obs","id":"7","y":1}' | reward-query -q | jq -s -e '.[1] | .type == "recommend" and .id == 7 and .mean > 0.9'
	# --no-pred and --batch 0
	run -0 reward-query -q --no-pred --batch 0 in.jsonl
	assert_equal "$(jq -r .type <<< "$output")" recommend
}

@test "parity with scikit-learn through the command: 500 points, Matern 5/2 and 3/2, RBF, to 1e-8 relative" {
	points 500 2 0 > pts
	records pts 300 > in.jsonl
	sklearn_input pts 300 | "$LOAM_TOP/tests/tools/sklearn-gp" 2.5 0.4 1.3 0.01 1.5 0.3,0.5 0.8 0.01 rbf 0.5 1 0.02 > sk.txt
	reward-query -q --batch 0 --kernel matern52 --lengthscale 0.4 --variance 1.3 --lambda 0.01 in.jsonl > a.jsonl
	reward-query -q --batch 0 --kernel matern32 --lengthscale 0.3,0.5 --variance 0.8 --noise 0.01 in.jsonl > b.jsonl
	reward-query -q --batch 0 --kernel rbf --lengthscale 0.5 --lambda 0.02 in.jsonl > c.jsonl
	i=0
	for f in a b c; do
		jq -r 'select(.type == "pred") | "\(.mean) \(.sd)"' $f.jsonl > ours
		assert_equal "$(wc -l < ours)" 500
		sed -n "$((i * 501 + 1)),$((i * 501 + 500))p" sk.txt > theirs
		e=$(max_rel ours theirs)
		echo "kernel $f: max relative $e"
		awk -v e="$e" 'BEGIN { exit !(e < 1e-8) }'
		i=$((i + 1))
	done
}

@test "--fit-hyper reaches a log marginal likelihood at least scikit-learn's from the same start, and reports it truly" {
	points 80 1 3 > pts
	records pts 80 > in.jsonl
	sklearn_input pts 80 | sed -n '2,81p' > train.txt
	run -0 reward-query -q --fit-hyper --batch 0 --no-pred in.jsonl
	hyper=$(head -n1 <<< "$output")
	assert_equal "$(jq -c '[.type, .kernel, .observations]' <<< "$hyper")" '["hyper","matern52",80]'
	read -r ls var noise lml < <(jq -r '"\(.lengthscale[0]) \(.variance) \(.noise) \(.lml)"' <<< "$hyper")
	/usr/bin/python3 - "$ls" "$var" "$noise" "$lml" <<-'EOF'
	import sys, warnings; warnings.filterwarnings("ignore")
	import numpy as np
	from sklearn.gaussian_process import GaussianProcessRegressor
	from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
	ls, var, noise, ours = map(float, sys.argv[1:])
	d = np.loadtxt("train.txt")
	k = ConstantKernel(1.0) * Matern(1.0, nu=2.5) + WhiteKernel(0.01)
	gp = GaussianProcessRegressor(k, alpha=0, n_restarts_optimizer=0).fit(d[:, :1], d[:, 1])
	theirs = gp.log_marginal_likelihood_value_
	at_ours = gp.log_marginal_likelihood(np.log([var, ls, noise]))
	print("ours %r, scikit-learn's optimum %r, scikit-learn at ours %r" % (ours, theirs, at_ours))
	assert abs(at_ours - ours) <= 1e-8 * abs(ours), "the reported lml is not the lml of the values reported"
	assert ours >= theirs - 1e-6 * abs(theirs), "lower than scikit-learn's"
	EOF
	# the fitted values then serve the posterior: equal to a run given them
	reward-query -q --fit-hyper in.jsonl | tail -n +2 > fit.jsonl
	reward-query -q --lengthscale "$ls" --variance "$var" --noise "$noise" in.jsonl > given.jsonl
	cmp fit.jsonl given.jsonl
}

@test "repeats are consolidated: 200 observations of one id fit, and equal the raw observations' posterior" {
	points 30 1 5 > pts
	records pts 20 > in.jsonl
	awk 'BEGIN { for (i = 0; i < 200; i++) printf "{\"type\":\"obs\",\"id\":7,\"y\":%.17g}\n", 0.3 + 0.2 * sin(i) }' >> in.jsonl
	run -0 --separate-stderr reward-query --batch 0 --kernel matern32 --lengthscale 0.2 --lambda 0.05 in.jsonl
	assert_equal "$stderr" "reward-query: 30 candidates, 220 observations of 20; jitter 0; 0 queries"
	jq -r 'select(.type == "pred") | "\(.mean) \(.sd)"' <<< "$output" > ours
	{
		echo 220 30 1
		sklearn_input pts 20 | sed -n '2,21p'
		x7=$(sed -n 8p pts)
		awk -v x="$x7" 'BEGIN { for (i = 0; i < 200; i++) printf "%s %.17g\n", x, 0.3 + 0.2 * sin(i) }'
		cat pts
	} | "$LOAM_TOP/tests/tools/sklearn-gp" 1.5 0.2 1 0.05 | head -n 30 > theirs
	e=$(max_rel ours theirs)
	echo "max relative $e"
	awk -v e="$e" 'BEGIN { exit !(e < 1e-8) }'
}

@test "policy candidates: one sample is a point; weights are normalised; the embedding's norm" {
	printf '%s\n' '{"type":"candidate","id":"p","x":[0.3,0.1]}' '{"type":"candidate","id":"q","x":[0.9,0.4]}' \
	    '{"type":"obs","id":"p","y":1}' > points.jsonl
	printf '%s\n' '{"type":"candidate","id":"p","samples":[[0.3,0.1]]}' '{"type":"candidate","id":"q","samples":[[0.9,0.4]],"weights":[5]}' \
	    '{"type":"obs","id":"p","y":1}' > policies.jsonl
	cmp <(reward-query -q points.jsonl) <(reward-query -q policies.jsonl)
	printf '%s\n' '{"type":"candidate","id":"m","samples":[[0],[1]],"weights":[1,3]}' '{"type":"obs","id":"m","y":1}' > a.jsonl
	printf '%s\n' '{"type":"candidate","id":"m","samples":[[0],[1]],"weights":[0.25,0.75]}' '{"type":"obs","id":"m","y":1}' > b.jsonl
	cmp <(reward-query -q a.jsonl) <(reward-query -q b.jsonl)
	# two samples too far apart to interact: prior variance 1/4 + 1/4
	echo '{"type":"candidate","id":"far","samples":[[0],[1000]]}' | reward-query -q | jq -s -e '.[0] | .type == "pred" and .sd == (0.5 | sqrt)'
	# a policy is between its outcomes: the mean of a 50:50 policy is the mean of its samples' means
	printf '%s\n' '{"type":"candidate","id":"u","x":[0]}' '{"type":"candidate","id":"v","x":[1]}' \
	    '{"type":"candidate","id":"uv","samples":[[0],[1]]}' '{"type":"obs","id":"u","y":1}' '{"type":"obs","id":"v","y":-0.5}' |
	    reward-query -q | jq -s -e 'map(select(.type == "pred")) | (.[2].mean - (.[0].mean + .[1].mean) / 2) | fabs < 1e-12'
}

@test "every design returns --batch distinct ids, the same bytes for a seed; --exclude-observed" {
	points 40 2 7 > pts
	records pts 12 > in.jsonl
	for d in gopt maxvar ucb eigen random; do
		reward-query -q --no-pred --design $d --batch 5 in.jsonl > a.jsonl
		reward-query -q --no-pred --design $d --batch 5 in.jsonl > b.jsonl
		cmp a.jsonl b.jsonl
		assert_equal "$(jq -r 'select(.type == "query") | .id' a.jsonl | sort -u | wc -l)" 5
		assert_equal "$(jq -r 'select(.type == "query") | .order' a.jsonl | paste -sd,)" 1,2,3,4,5
		reward-query -q --no-pred --design $d --batch 30 --exclude-observed in.jsonl > x.jsonl
		# 28 are eligible; none of them observed
		assert_equal "$(jq -r 'select(.type == "query") | .id' x.jsonl | sort -u | wc -l)" 28
		jq -s -e 'map(select(.type == "query" and .id < 12)) | length == 0' x.jsonl
	done
	reward-query -q --no-pred --design random --batch 5 -s 1 in.jsonl > r1.jsonl
	reward-query -q --no-pred --design random --batch 5 -s 2 in.jsonl > r2.jsonl
	! cmp -s r1.jsonl r2.jsonl
	# gopt's criterion, the largest sd left, falls pick by pick; maxvar picks the largest sd first
	reward-query -q --no-pred --design gopt --batch 5 in.jsonl | jq -s -e 'map(select(.type == "query").criterion) | . == sort_by(-.)'
	top=$(reward-query -q --batch 0 in.jsonl | jq -s -r 'map(select(.type == "pred")) | max_by(.sd).id')
	assert_equal "$(reward-query -q --no-pred --design maxvar in.jsonl | jq -r 'select(.type == "query").id')" "$top"
}

@test "above 2048 candidates the designs compute covariance columns on demand: maxvar's first pick is still the largest sd" {
	points 2100 1 3 > pts
	records pts 20 > in.jsonl
	top=$(reward-query -q --batch 0 --lengthscale 0.02 in.jsonl | jq -s -r 'map(select(.type == "pred")) | max_by(.sd).id')
	assert_equal "$(reward-query -q --no-pred --design maxvar --lengthscale 0.02 in.jsonl | jq -r 'select(.type == "query").id')" "$top"
	for d in gopt maxvar ucb; do
		reward-query -q --no-pred --design $d --batch 4 --lengthscale 0.02 --exclude-observed in.jsonl > a.jsonl
		assert_equal "$(jq -r 'select(.type == "query") | .id' a.jsonl | sort -u | wc -l)" 4
		jq -s -e 'map(select(.type == "query" and .id < 20)) | length == 0' a.jsonl
	done
}

@test "the same bytes on one thread and on several (the Cholesky on one BLAS thread, predict's blocks one each)" {
	# 400 observations: OpenBLAS would thread a Cholesky this size, and its
	# threaded dpotrf rounds differently; 700 candidates make three blocks
	points 700 2 5 > pts
	records pts 400 > in.jsonl
	reward-query -q --threads 1 --lengthscale 0.3 --batch 3 in.jsonl > one.jsonl
	reward-query -q --threads 2 --lengthscale 0.3 --batch 3 in.jsonl > two.jsonl
	reward-query -q --threads 3 --lengthscale 0.3 --batch 3 in.jsonl > three.jsonl
	assert_equal "$(grep -c '"pred"' one.jsonl)" 700
	cmp one.jsonl two.jsonl
	cmp one.jsonl three.jsonl
}

@test "--save then --load with the new records equals one run over all of them" {
	points 60 2 9 > pts
	records pts 30 > all.jsonl
	head -n 50 all.jsonl > first.jsonl
	tail -n +51 all.jsonl > rest.jsonl
	reward-query -q --kernel matern32 --lengthscale 0.3,0.6 --batch 3 all.jsonl > one.jsonl
	reward-query -q --kernel matern32 --lengthscale 0.3,0.6 --save st.jsonl first.jsonl > /dev/null
	head -n1 st.jsonl | jq -e '.format == "reward-query state" and .version == 1 and .kernel == "matern32" and .lengthscale == [0.3, 0.6]'
	assert_equal "$(wc -l < st.jsonl)" 51
	reward-query -q --load st.jsonl --batch 3 rest.jsonl > two.jsonl
	cmp one.jsonl two.jsonl
	# updating in place; the fitted hyperparameters are carried
	reward-query -q --fit-hyper --load st.jsonl --save st.jsonl rest.jsonl > fit.jsonl
	assert_equal "$(head -n1 fit.jsonl | jq -c '[.lengthscale, .variance, .noise]')" \
	    "$(head -n1 st.jsonl | jq -c '[.lengthscale, .variance, .noise]')"
	assert_equal "$(wc -l < st.jsonl)" 91
	run -1 --separate-stderr reward-query --load all.jsonl /dev/null
	assert_equal "$stderr" 'reward-query: all.jsonl:1: not a reward-query state (no "format":"reward-query state" header)'
	sed '1s/"version":1/"version":9/' st.jsonl > v9.jsonl
	run -1 --separate-stderr reward-query --load v9.jsonl /dev/null
	assert_equal "$stderr" 'reward-query: v9.jsonl:1: state version 9; this reward-query reads version 1'
	# a candidate given again after the state has it
	run -1 --separate-stderr reward-query --load st.jsonl first.jsonl
	assert_equal "$stderr" "reward-query: first.jsonl:1: candidate id '0' given twice"
}

@test "bad input names file:line and exits 1" {
	bad() {
		printf '%s\n' "$@" > bad.jsonl
		run -1 --separate-stderr reward-query bad.jsonl
	}
	c='{"type":"candidate","id":"a","x":[0,1]}'
	bad "$c" '{"type":"candidate","id":"b","x":[0]}'
	assert_equal "$stderr" "reward-query: bad.jsonl:2: field 'x': 1 coordinates; the candidates have 2"
	bad "$c" '{"type":"candidate","id":"b","samples":[[0,1],[2,3,4]]}'
	assert_equal "$stderr" "reward-query: bad.jsonl:2: field 'samples': 3 coordinates; the candidates have 2"
	bad "$c" '{"type":"candidate","id":"a","x":[2,3]}'
	assert_equal "$stderr" "reward-query: bad.jsonl:2: candidate id 'a' given twice"
	bad "$c" '{"type":"obs","id":"zz","y":1}' '{"type":"obs","id":"a","y":1}'
	assert_equal "$stderr" "reward-query: bad.jsonl:2: obs for unknown id 'zz': no candidate has it"
	bad "$c" '{"type":"obs","id":"a","y":1e999}'
	assert_equal "$stderr" "reward-query: bad.jsonl:2:28: number out of range: 1e999"
	bad '{"type":"candidate","id":"a","x":[0,-1e400]}'
	assert_equal "$stderr" "reward-query: bad.jsonl:1:37: number out of range: -1e400"
	bad "$c" '{"type":"obs","id":"a","y":"high"}'
	assert_equal "$stderr" "reward-query: bad.jsonl:2: field 'y': expected a number, got \"high\""
	bad "$c" '{"type":"obs","id":"a"}'
	assert_equal "$stderr" "reward-query: bad.jsonl:2: field 'y' missing"
	bad '{"type":"candidate","id":"a","samples":[[0],[1]],"weights":[1,-1]}'
	assert_equal "$stderr" "reward-query: bad.jsonl:1: weight -1: must be finite and non-negative"
	bad '{"type":"candidate","id":"a","samples":[[0],[1]],"weights":[1]}'
	assert_equal "$stderr" "reward-query: bad.jsonl:1: field 'weights': 1 weights for 2 samples"
	bad '{"type":"candidate","id":"a","x":[0],"samples":[[0]]}'
	assert_equal "$stderr" "reward-query: bad.jsonl:1: a candidate has either 'x' or 'samples'"
	bad '{"type":"candidate","id":"a","x":[]}'
	assert_equal "$stderr" "reward-query: bad.jsonl:1: field 'x': 0 coordinates (1 to 65536)"
	bad '{"type":"candidate","id":1.5,"x":[0]}'
	assert_equal "$stderr" "reward-query: bad.jsonl:1: field 'id': expected a string or an integer"
	bad '{"type":"label","id":"a"}'
	assert_equal "$stderr" "reward-query: bad.jsonl:1: type 'label': expected candidate or obs"
	bad '{"id":"a"}'
	assert_equal "$stderr" "reward-query: bad.jsonl:1: field 'type' missing (candidate or obs)"
	bad '{"type":"candidate",'
	[[ "$stderr" == "reward-query: bad.jsonl:1:"* ]]
	# --skip-bad reports and goes on
	printf '%s\n' "$c" '{"type":"obs","id":"zz","y":1}' '{"type":"oops"}' '{"type":"obs","id":"a","y":2}' > skip.jsonl
	run -0 --separate-stderr reward-query -q --skip-bad skip.jsonl
	[[ "$stderr" == *"skip.jsonl:3: type 'oops'"* ]]
	[[ "$stderr" == *"skip.jsonl:2: obs for unknown id 'zz': no candidate has it (skipped)"* ]]
	jq -s -e 'map(select(.type == "recommend")) | .[0].mean > 1.5' <<< "$output"
}

@test "a Gram matrix that stays singular after the jitter names the last obs; a missing file" {
	# Matern nu = 1000 by the Bessel path, 200 points 0.001 apart, no
	# noise to speak of: the kernel's rounding leaves it indefinite
	awk 'BEGIN { for (i = 0; i < 200; i++) printf "{\"type\":\"candidate\",\"id\":%d,\"x\":[%.17g]}\n{\"type\":\"obs\",\"id\":%d,\"y\":%.17g}\n", i, i * 0.001, i, sin(i) }' > near.jsonl
	run -1 --separate-stderr reward-query --kernel matern:1000 --noise 1e-300 --batch 0 near.jsonl
	assert_equal "$stderr" "reward-query: near.jsonl:400: gram matrix not positive definite after jitter 1e-06 (1e-6 of its mean diagonal)"
	run -1 --separate-stderr reward-query -q nonexistent.jsonl
	assert_equal "$stderr" "reward-query: nonexistent.jsonl: No such file or directory"
}

@test "empty input: nothing; no final newline; a full disk; | head -n1 is quiet" {
	run -0 --separate-stderr reward-query /dev/null
	assert_output ''
	assert_equal "$stderr" "reward-query: no candidates"
	printf '{"type":"candidate","id":"a","x":[0]}' > nonl.jsonl
	run -0 reward-query -q nonl.jsonl
	assert_line --index 0 '{"type":"pred","id":"a","mean":0,"sd":1}'
	run -1 --separate-stderr reward-query -q nonl.jsonl -o /dev/full
	[[ "$stderr" == "reward-query: "*"No space left on device"* ]]
	points 5000 1 1 > pts
	records pts 10 > many.jsonl
	run -0 --separate-stderr bash -c "reward-query -q --batch 0 many.jsonl | head -n1"
	[ -z "$stderr" ]
}

@test "-o is atomic: an existing output survives a failed run; --save too" {
	points 10 1 2 > pts
	records pts 5 > ok.jsonl
	reward-query -q -o out.jsonl --save st.jsonl ok.jsonl
	cp out.jsonl before.jsonl
	cp st.jsonl st-before.jsonl
	echo '{"type":"obs","id":99,"y":1}' >> ok.jsonl
	run -1 reward-query -q -o out.jsonl --save st.jsonl ok.jsonl
	cmp out.jsonl before.jsonl
	cmp st.jsonl st-before.jsonl
	ls -A | grep -v -e '^ok.jsonl$' -e '^out.jsonl$' -e '^before.jsonl$' -e '^st.jsonl$' -e '^st-before.jsonl$' -e '^pts$' && false
	true
}

@test "the man page EXAMPLES run" {
	man_text "$LOAM_TOP/man/reward-query.1" | sed -n '/^EXAMPLES/,/^SEE ALSO/p' |
	    sed -n 's/^[[:space:]]*\$ //p' > examples.sh
	[ "$(wc -l < examples.sh)" -ge 5 ]
	run -0 bash -e -o pipefail examples.sh
	assert_equal "$(jq -r 'select(.type == "query") | .id' <<< "$output" | paste -sd,)" e,a,p,e
	jq -s -e 'map(select(.type == "hyper")) | length == 1 and .[0].observations == 3' <<< "$output"
}
