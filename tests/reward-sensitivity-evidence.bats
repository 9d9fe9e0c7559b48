#!/usr/bin/env bats
# reward-sensitivity-evidence: the issue's evidence, checked fast.
# (1) fit --bellman soft --beta 1 equals an independent maximum causal
# entropy IRL in NumPy (tests/tools/mce-irl-numpy); (2) the shape of the
# research notes' CPU check and of the myopia and false-dynamics curves
# (tests/tools/reward-sensitivity-check; the figures are in README.md and
# `make evidence`).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	export OMP_NUM_THREADS=1
}

# check.jsonl: the shape cases, run once for the two tests that read them
check() {
	[ -s "$BATS_FILE_TMPDIR/check.jsonl" ] ||
		"$LOAM_TOP/tests/tools/reward-sensitivity-check" shape > "$BATS_FILE_TMPDIR/check.jsonl"
	cp "$BATS_FILE_TMPDIR/check.jsonl" check.jsonl
}

# gridworld W H SLIP [GAMMA]: a gridworld record (discount GAMMA, 0.9 if
# not given) with three smooth per-cell features (cell s: sin 2.4s,
# sin(4.8s + 1), x/W).
gridworld() {
	jq -nc --argjson w "$1" --argjson h "$2" --argjson slip "$3" --argjson gamma "${4:-0.9}" \
	    '{type: "gridworld", width: $w, height: $h, gamma: $gamma, slip: $slip,
	      features: [range($w * $h) as $s | [($s * 2.3999 | sin), ($s * 4.7998 + 1 | sin), ($s % $w) / $w]]}'
}

# same_theta A B: max_j |A_j - B_j| <= 1e-6 max_j |B_j|, the .theta of two
# JSON objects.
same_theta() {
	jq -n -e --slurpfile a "$1" --slurpfile b "$2" '
		($b[0].theta | map(fabs) | max) as $scale |
		([$a[0].theta, $b[0].theta] | transpose | map(.[0] - .[1] | fabs) | max) as $diff |
		"relative difference \($diff / $scale)" | debug |
		if $diff <= 1e-6 * $scale then true
		else error("theta differs by \($diff), relative \($diff / $scale)") end'
}

# The likelihood both sides maximise (reward-sensitivity(1) with l2 = 0):
# L(θ) = Σ_{s,a} n(s,a) log π_θ(a|s), n the demonstrated state-action
# counts (each pair of a trajectory once, undiscounted; a choice's "w" is a
# real count), π_θ the soft (MCE) policy at β = 1 under the MDP's discount
# 0.9 and true dynamics; the start distribution does not enter it.
@test "fit --bellman soft --beta 1 = NumPy MCE-IRL to 1e-6 (sampled demonstrations)" {
	gridworld 6 5 0.1 > grid.jsonl
	run -0 reward-sensitivity simulate --theta 1.5,-1,0.8 --trajectories 150 -s 4 -o demos.jsonl grid.jsonl
	run -0 reward-sensitivity fit --bellman soft --beta 1 -o ours.json demos.jsonl
	run -0 "$LOAM_TOP/tests/tools/mce-irl-numpy" --beta 1 demos.jsonl
	echo "$output" > numpy.json
	jq -c '{ours: .theta}' ours.json
	jq -c '{numpy: .theta, grad_inf}' numpy.json
	run -0 same_theta ours.json numpy.json
	# and the fit is not at the start or at the truth: the data moved it
	run -0 jq -e '.theta | (map(fabs) | max) > 0.1 and (.[0] != 1.5)' ours.json
}

@test "fit --bellman soft --beta 1 = NumPy MCE-IRL to 1e-6 (real-valued weights, slip 0.3, a 9 x 4 grid)" {
	gridworld 9 4 0.3 > grid.jsonl
	run -0 reward-sensitivity simulate --exact --theta -0.5,2,1 --beta 1.7 -o demos.jsonl grid.jsonl
	run -0 reward-sensitivity fit --bellman soft --beta 1 -o ours.json demos.jsonl
	run -0 "$LOAM_TOP/tests/tools/mce-irl-numpy" --beta 1 demos.jsonl
	echo "$output" > numpy.json
	jq -c '{ours: .theta}' ours.json
	jq -c '{numpy: .theta, grad_inf}' numpy.json
	run -0 same_theta ours.json numpy.json
	# β = 1.7 demonstrations fitted at β = 1: θ̂ ≈ 1.7 θ*, not θ*
	run -0 jq -e '.theta[1] > 2.5' ours.json
}

@test "fit = NumPy MCE-IRL to 1e-6 above 3000 states (3025: rewinfer's expected-visitation gradient, warm starts)" {
	# γ = 0.5: a few dozen sweeps per evaluation keep NumPy's side short
	gridworld 55 55 0.1 0.5 > grid.jsonl
	run -0 reward-sensitivity simulate --theta 1.5,-1,0.8 --trajectories 100 -s 2 -o demos.jsonl grid.jsonl
	run -0 reward-sensitivity fit --bellman soft --beta 1 -o ours.json demos.jsonl
	run -0 "$LOAM_TOP/tests/tools/mce-irl-numpy" --beta 1 demos.jsonl
	echo "$output" > numpy.json
	jq -c '{ours: .theta}' ours.json
	jq -c '{numpy: .theta, grad_inf}' numpy.json
	run -0 same_theta ours.json numpy.json
}

@test "the parity check fails when the two differ (beta 1.00001 on one side)" {
	gridworld 6 5 0.1 > grid.jsonl
	run -0 reward-sensitivity simulate --theta 1.5,-1,0.8 --trajectories 150 -s 4 -o demos.jsonl grid.jsonl
	run -0 reward-sensitivity fit --bellman soft --beta 1 -o ours.json demos.jsonl
	run -0 "$LOAM_TOP/tests/tools/mce-irl-numpy" --beta 1.00001 demos.jsonl
	echo "$output" > numpy.json
	run ! same_theta ours.json numpy.json
}

@test "the notes' CPU check: linear when well conditioned, divergent along an uninformative feature, all under the bound" {
	run -0 check
	jq -c 'del(.theta, .direction)' check.jsonl
	# every biased case lies under 2Ĝ tv / α̂
	run -0 jq -s -e 'map(select(.case == "adversarial" or .case == "random")) |
	    length == 14 and all(.error <= .bound)' check.jsonl
	# well conditioned: error/TV within 25% of itself from ε = 0.05 to 0.4
	run -0 jq -s -e 'map(select(.case == "adversarial" and .scale == 1) | .ratio) |
	    length == 4 and max <= 1.25 * min' check.jsonl
	# the uninformative feature: α̂ 50x smaller, the same ε's error/TV over
	# 5x larger, and flat in ε too (the amplification is a property of θ*)
	run -0 jq -s -e '
	    (map(select(.case == "base")) | INDEX(.scale | tostring)) as $b |
	    (map(select(.case == "adversarial")) | group_by(.scale) |
	        map({key: (.[0].scale | tostring), value: (map(.ratio) | min)}) | from_entries) as $r |
	    $b["0.05"].alpha * 50 < $b["1"].alpha and $r["0.05"] > 5 * $r["1"]' check.jsonl
	# random directions of the same size: milder than the adversarial one
	# where it matters (at least 2x below it along the uninformative feature)
	run -0 jq -s -e '
	    (map(select(.case == "adversarial" and .scale == 0.05) | .ratio) | min) as $adv |
	    map(select(.case == "random" and .scale == 0.05) | .ratio) | length == 3 and max * 2 < $adv' check.jsonl
}

@test "myopia and false dynamics: the error grows linearly near zero" {
	run -0 check
	for c in myopia dynamics; do
		jq -c "select(.case == \"$c\") | {delta, tv, error}" check.jsonl
		# error(0.02) / error(0.01) = 2 within 10%; error(0.2) / error(0.01)
		# = 20 within 30%; and the error is not nothing
		run -0 jq -s -e --arg c "$c" '
		    map(select(.case == $c)) | INDEX(.delta | tostring) as $e |
		    ($e["0.02"].error / $e["0.01"].error) as $two |
		    ($e["0.2"].error / $e["0.01"].error) as $twenty |
		    $e["0.01"].error > 1e-4 and ($two - 2 | fabs) <= 0.2 and ($twenty - 20 | fabs) <= 6' check.jsonl
	done
}
