#!/usr/bin/env bats
# reward-sensitivity: reward inference under a Boltzmann human model and
# its sensitivity to that model (see man/reward-sensitivity.1).  Small
# instances written here: a 5 x 4 gridworld with four rbf features, and a
# two-state MDP (action 0 stays, action 1 switches).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	echo '{"type":"gridworld","width":5,"height":4,"gamma":0.9,"slip":0.1,"features":"rbf:2"}' > grid.jsonl
}

# mdp2 [P]: the two-state MDP, P the probability of its last transition.
mdp2() {
	printf '{"type":"mdp","states":2,"actions":2,"gamma":0.8,"transitions":[{"s":0,"a":0,"s2":0,"p":1},{"s":0,"a":1,"s2":1,"p":1},{"s":1,"a":0,"s2":1,"p":1},{"s":1,"a":1,"s2":0,"p":%s}],"features":[[1,0],[1,0],[0,1],[0,1]]}\n' "${1:-1}"
}

# cosine A B: cosine similarity of two JSON arrays.
cosine() {
	jq -n --argjson a "$1" --argjson b "$2" \
	    '([range($a|length)] | map($a[.] * $b[.]) | add) / ((($a | map(.*.) | add) * ($b | map(.*.) | add)) | sqrt)'
}

@test "--help prints the usage to stdout and exits 0; bad options exit 2" {
	run -0 --separate-stderr reward-sensitivity --help
	assert_line --index 0 --partial 'usage: reward-sensitivity fit [-hV] [--beta beta]'
	[ -z "$stderr" ]
	run -2 --separate-stderr reward-sensitivity simulate grid.jsonl
	assert_equal "${stderr_lines[0]}" "reward-sensitivity: --theta LIST is required"
	run -2 --separate-stderr reward-sensitivity simulate --theta 1,2 grid.jsonl
	assert_equal "${stderr_lines[0]}" "reward-sensitivity: --theta: 2 values where the MDP has 4 features"
	run -2 --separate-stderr reward-sensitivity simulate --theta 1,2,3,4,5 grid.jsonl
	assert_equal "${stderr_lines[0]}" "reward-sensitivity: --theta: more than 4 values in '1,2,3,4,5'"
	run -2 --separate-stderr reward-sensitivity simulate --theta 1,,3,4 grid.jsonl
	assert_equal "${stderr_lines[0]}" "reward-sensitivity: --theta: empty element in '1,,3,4'"
	run -2 --separate-stderr reward-sensitivity grid --grid "beta=1,x" grid.jsonl
	assert_equal "${stderr_lines[0]}" "reward-sensitivity: --grid: 'x' is not a number in [1e-12, 1e+12]"
	run -2 --separate-stderr reward-sensitivity grid --grid "gamma-h=" grid.jsonl
	assert_equal "${stderr_lines[0]}" "reward-sensitivity: --grid: gamma-h has no values"
	run -2 --separate-stderr reward-sensitivity grid --grid "beta=1 rho=2" grid.jsonl
	assert_equal "${stderr_lines[0]}" "reward-sensitivity: --grid: 'rho' is not beta, gamma-h or slip-h"
	run -2 --separate-stderr reward-sensitivity grid grid.jsonl
	assert_equal "${stderr_lines[0]}" "reward-sensitivity: --grid \"KEY=LIST ...\" is required"
	run -2 --separate-stderr reward-sensitivity fit --bellman max grid.jsonl
	assert_equal "${stderr_lines[0]}" "reward-sensitivity: --bellman: 'max' is not soft or hard"
	run -2 --separate-stderr reward-sensitivity simulate --theta 1,1,1,1 --bias worst:1 grid.jsonl
	[[ "${stderr_lines[0]}" == *"'worst:1' is not adversarial:EPS or random:EPS"* ]]
}

@test "simulate | fit recovers theta (cosine > 0.99); --exact recovers it to 1e-6" {
	reward-sensitivity simulate --theta 1,-1,0.5,0 --beta 2 --trajectories 300 -s 4 grid.jsonl > demos.jsonl
	assert_equal "$(jq -r .type demos.jsonl | sort | uniq -c | tr -s ' ')" " 300 demo
 1 gridworld
 1 simulation"
	run -0 reward-sensitivity fit --beta 2 demos.jsonl
	theta=$(jq -c .theta <<< "$output")
	c=$(cosine "$theta" '[1,-1,0.5,0]')
	echo "theta $theta cosine $c"
	jq -e -n "$c > 0.99" >/dev/null
	assert_equal "$(jq -c '[.type, .pairs, .demos, .bellman, .beta]' <<< "$output")" '["fit",6000,300,"soft",2]'
	assert_equal "$(jq -c 'keys_unsorted[:8]' <<< "$output")" '["type","theta","loglik","alpha","G","condition","direction","amplification"]'
	run -0 bash -c 'reward-sensitivity simulate --theta 1,-1,0.5,0 --beta 2 --exact grid.jsonl | reward-sensitivity fit --beta 2'
	jq -e '[.theta, [1,-1,0.5,0]] | transpose | map(.[0] - .[1] | fabs) | max < 1e-6' <<< "$output"
	# the report: amplification at most 2G/alpha; a unit direction
	jq -e '.alpha > 0 and .amplification <= 2 * .G / .alpha and (.direction | map(.*.) | add - 1 | fabs) < 1e-9' <<< "$output"
}

@test "simulate: an adversarial bias moves the fit by EPS at a smaller TV than a random one" {
	for b in adversarial random; do
		reward-sensitivity simulate --theta 1,-1,0.5,0 --beta 2 --exact --bias $b:0.3 -s 2 grid.jsonl > $b.jsonl
		reward-sensitivity fit --beta 2 $b.jsonl > $b.fit
		# |theta^ - theta*| = EPS (infinite data, the model's own family)
		jq -e -s '[.[0].theta, [1,-1,0.5,0]] | transpose | map((.[0] - .[1]) * (.[0] - .[1])) | add | sqrt - 0.3 | fabs < 1e-5' $b.fit
	done
	tv_adv=$(jq 'select(.type == "simulation") | .tv' adversarial.jsonl)
	tv_rnd=$(jq 'select(.type == "simulation") | .tv' random.jsonl)
	echo "tv adversarial $tv_adv random $tv_rnd"
	jq -e -n "$tv_adv > 0 and $tv_adv < $tv_rnd" >/dev/null
	# the adversarial direction is the fit's least identifiable one at theta*
	jq -e -s '[.[0].direction, .[1].direction] | transpose | map(.[0] * .[1]) | add | fabs > 0.99' \
	    <(jq -c 'select(.type == "simulation")' adversarial.jsonl) \
	    <(reward-sensitivity simulate --theta 1,-1,0.5,0 --beta 2 --exact grid.jsonl | reward-sensitivity fit --beta 2)
}

@test "simulate and grid are deterministic: byte-identical reruns, any thread count" {
	reward-sensitivity simulate --theta 1,-1,0.5,0 --gamma-h 0.7 --slip-h 0.2 --trajectories 50 -s 9 grid.jsonl > a.jsonl
	reward-sensitivity simulate --theta 1,-1,0.5,0 --gamma-h 0.7 --slip-h 0.2 --trajectories 50 -s 9 grid.jsonl > b.jsonl
	cmp a.jsonl b.jsonl
	reward-sensitivity simulate --theta 1,-1,0.5,0 --gamma-h 0.7 --slip-h 0.2 --trajectories 50 -s 10 grid.jsonl > c.jsonl
	! cmp -s a.jsonl c.jsonl
	reward-sensitivity grid --grid "beta=1,2 gamma-h=0.9,0.5" -t 1 a.jsonl > g1.jsonl
	reward-sensitivity grid --grid "beta=1,2 gamma-h=0.9,0.5" -t 2 a.jsonl > g2.jsonl
	cmp g1.jsonl g2.jsonl
}

@test "grid: a fit record, then one sensitivity record per model in grid order, with their fields" {
	reward-sensitivity simulate --theta 1,-1,0.5,0 --trajectories 100 -s 1 grid.jsonl > d.jsonl
	run -0 reward-sensitivity grid --grid "beta=0.5,1,2 gamma-h=0.99,0.9,0.7 slip-h=0,0.1,0.2" d.jsonl
	assert_equal "${#lines[@]}" 28
	assert_equal "$(jq -r .type <<< "${lines[0]}")" fit
	assert_equal "$(printf '%s\n' "${lines[@]:1}" | jq -c '[.model.beta, .model.gamma_h, .model.slip_h]' | head -4 | tr '\n' ' ')" \
	    "[0.5,0.99,0] [0.5,0.99,0.1] [0.5,0.99,0.2] [0.5,0.9,0] "
	for f in tv wkl delta_theta delta_normalised cos bound ratio theta loglik; do
		assert_equal "$(printf '%s\n' "${lines[@]:1}" | jq "has(\"$f\")" | sort -u)" true
	done
	# the assumed model itself (beta 1, gamma-h 0.9, its true dynamics): no move
	assert_equal "$(printf '%s\n' "${lines[@]:1}" | jq -c 'select(.model == {"beta":1,"gamma_h":0.9,"slip_h":0}) | [.tv, .delta_theta < 1e-6]')" '[0,true]'
	# beta only rescales theta: cosine 1 for beta 2 at the assumed gamma and dynamics
	printf '%s\n' "${lines[@]:1}" | jq -s -e 'map(select(.model == {"beta":2,"gamma_h":0.9,"slip_h":0})) | .[0] | .cos > 0.999999 and .delta_normalised < 1e-5 and .tv > 0'
	# a grid over one key keeps the assumed dynamics: slip_h null
	run -0 reward-sensitivity grid --grid "gamma-h=0.9,0.6" d.jsonl
	assert_equal "${#lines[@]}" 3
	assert_equal "$(jq -c .model <<< "${lines[2]}")" '{"beta":1,"gamma_h":0.6,"slip_h":null}'
}

@test "pref records move theta towards the preferred trajectories" {
	{ mdp2; echo '{"type":"demo","traj":[[0,0],[0,1],[1,0],[1,1]]}'; } > base.jsonl
	run -0 reward-sensitivity fit base.jsonl
	base=$(jq '.theta[0] - .theta[1]' <<< "$output")
	{ cat base.jsonl; for i in 1 2 3; do echo '{"type":"pref","a":[[0,0],[0,0]],"b":[[1,0],[1,0]],"y":1}'; done; } > pa.jsonl
	{ cat base.jsonl; for i in 1 2 3; do echo '{"type":"pref","a":[[0,0],[0,0]],"b":[[1,0],[1,0]],"y":0}'; done; } > pb.jsonl
	run -0 reward-sensitivity fit pa.jsonl
	up=$(jq '.theta[0] - .theta[1]' <<< "$output")
	assert_equal "$(jq .prefs <<< "$output")" 3
	run -0 reward-sensitivity fit pb.jsonl
	down=$(jq '.theta[0] - .theta[1]' <<< "$output")
	echo "base $base, a preferred $up, b preferred $down"
	jq -e -n "$up > $base + 0.1 and $down < $base - 0.1" >/dev/null
}

@test "--dynamics-h: true, slip:P, an mdp record file and a transitions file" {
	reward-sensitivity simulate --theta 1,-1,0.5,0 --trajectories 30 -s 2 grid.jsonl > d.jsonl
	reward-sensitivity fit d.jsonl > default.fit
	reward-sensitivity fit --dynamics-h true d.jsonl > true.fit
	cmp default.fit true.fit
	# the grid slipped by 0.1 more: slip:0.1 of its dynamics = a slip 0.19 grid
	reward-sensitivity fit --dynamics-h slip:0.1 d.jsonl > slip.fit
	! cmp -s default.fit slip.fit
	echo '{"type":"gridworld","width":5,"height":4,"gamma":0.9,"slip":0.19,"features":"rbf:2"}' > believed.jsonl
	reward-sensitivity fit --dynamics-h believed.jsonl d.jsonl > file.fit
	jq -e -s '[.[0].theta, .[1].theta] | transpose | map(.[0] - .[1] | fabs) | max < 1e-6' slip.fit file.fit
	# transition records: the two-state MDP believed to always stay
	{ mdp2; echo '{"type":"demo","traj":[[0,1],[1,1],[0,0]]}'; } > m.jsonl
	printf '%s\n' '{"s":0,"a":0,"s2":0,"p":1}' '{"s":0,"a":1,"s2":0,"p":1}' \
	    '{"type":"transition","s":1,"a":0,"s2":1,"p":1}' '{"s":1,"a":1,"s2":1,"p":1}' > stay.jsonl
	reward-sensitivity fit m.jsonl > m_true.fit
	reward-sensitivity fit --dynamics-h stay.jsonl m.jsonl > m_stay.fit
	! cmp -s m_true.fit m_stay.fit
	run -1 --separate-stderr reward-sensitivity fit --dynamics-h grid.jsonl m.jsonl
	assert_equal "${stderr_lines[0]}" "reward-sensitivity: grid.jsonl:1: believed dynamics: 20 states x 5 actions where the MDP has 2 x 2"
	printf '%s\n' '{"s":0,"a":0,"s2":0,"p":0.5}' > half.jsonl
	run -1 --separate-stderr reward-sensitivity fit --dynamics-h half.jsonl m.jsonl
	[[ "${stderr_lines[0]}" == "reward-sensitivity: half.jsonl: transitions from state 0 action 0 sum to 0.5"* ]]
	run -2 --separate-stderr reward-sensitivity fit --dynamics-h slip:2 m.jsonl
}

@test "bad input: file:line and exit 1 for each refusal" {
	mdp2 0.5 > bad.jsonl
	run -1 --separate-stderr reward-sensitivity fit bad.jsonl
	assert_equal "${stderr_lines[0]}" "reward-sensitivity: bad.jsonl:1: transitions from state 1 action 1 sum to 0.5, not 1 (tolerance 1e-06)"
	mdp2 | sed 's/"s2":1,"p":1}/"s2":7,"p":1}/' > bad.jsonl
	run -1 --separate-stderr reward-sensitivity fit bad.jsonl
	assert_equal "${stderr_lines[0]}" "reward-sensitivity: bad.jsonl:1: transition 1: next state 7 out of range [0, 2)"
	mdp2 | sed 's/\[0,1\],\[0,1\]\]/[0,1],[0,1,2]]/' > bad.jsonl
	run -1 --separate-stderr reward-sensitivity fit bad.jsonl
	assert_equal "${stderr_lines[0]}" "reward-sensitivity: bad.jsonl:1: feature row 3 (state 1 action 1): 3 features where row 0 has 2"
	{ mdp2; echo '{"type":"demo","traj":[[0,0],[1,0]]}'; } > bad.jsonl
	run -1 --separate-stderr reward-sensitivity fit bad.jsonl
	assert_equal "${stderr_lines[0]}" "reward-sensitivity: bad.jsonl:2: field 'traj': step 1: state 0 action 0 cannot lead to state 1"
	{ mdp2; echo '{"type":"choice","s":0,"a":2}'; } > bad.jsonl
	run -1 --separate-stderr reward-sensitivity fit bad.jsonl
	assert_equal "${stderr_lines[0]}" "reward-sensitivity: bad.jsonl:2: field 'a': 2 is not in [0, 1]"
	{ echo '{"type":"choice","s":0,"a":0}'; mdp2; } > bad.jsonl
	run -1 --separate-stderr reward-sensitivity fit bad.jsonl
	assert_equal "${stderr_lines[0]}" "reward-sensitivity: bad.jsonl:1: a choice record before the mdp (or gridworld) record"
	mdp2 > only.jsonl
	run -1 --separate-stderr reward-sensitivity fit only.jsonl
	assert_equal "${stderr_lines[0]}" "reward-sensitivity: only.jsonl: no demo, choice or pref records"
}

@test "an existing -o file survives a failed run" {
	echo keep > out.jsonl
	mdp2 0.5 > bad.jsonl
	run -1 reward-sensitivity fit -o out.jsonl bad.jsonl
	assert_equal "$(cat out.jsonl)" keep
	run -1 reward-sensitivity simulate --theta 1,1 -o out.jsonl bad.jsonl
	assert_equal "$(cat out.jsonl)" keep
	{ mdp2; echo '{"type":"choice","s":0,"a":1}'; } > ok.jsonl
	reward-sensitivity fit -o out.jsonl ok.jsonl
	assert_equal "$(jq -r .type out.jsonl)" fit
}
