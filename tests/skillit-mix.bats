#!/usr/bin/env bats
# skillit-mix: weights, graph, sample (see man/skillit-mix.1).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	GRAPHS=$EXTERNAL/skillit-graphs
}

@test "--help prints the usage to stdout and exits 0" {
	run -0 --separate-stderr skillit-mix --help
	assert_line --index 0 --partial 'usage: skillit-mix weights [-hqV] [--graph file]'
	[ -z "$stderr" ]
}

@test "the usage lines match the man page SYNOPSIS" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	run -0 bash -c "man_text '$LOAM_TOP/man/skillit-mix.1' | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p'"
	for cmd in weights graph sample; do
		assert_output --partial "skillit-mix $cmd"
	done
}

@test "--version, bad options, unknown command" {
	run -0 skillit-mix --version
	assert_output --regexp '^skillit-mix \(loam\) [0-9.]+$'
	run -2 --separate-stderr skillit-mix weights --bogus
	[ "${stderr_lines[0]}" = "skillit-mix: unknown option '--bogus'" ]
	run -2 --separate-stderr skillit-mix weights
	[ "${stderr_lines[0]}" = "skillit-mix: --graph is required" ]
	run -2 --separate-stderr skillit-mix mix
	[ "${stderr_lines[0]}" = "skillit-mix: unknown command 'mix'" ]
	run -2 --separate-stderr skillit-mix weights --graph g.json --agg median
	[ "${stderr_lines[0]}" = "skillit-mix: --agg: 'median' is not sum or mean" ]
}

@test "weights: a 2-skill graph by hand (continual pre-training)" {
	# A = [[1, 0.5], [0, 1]] after the binary rule (the 1 off the
	# diagonal becomes 0.5); p1 = softmax(eta A 1) = softmax(0.3, 0.2).
	echo '{"skills":["a","b"],"graph":[[1,1],[0,1]]}' > g.json
	run -0 skillit-mix weights --graph g.json --eta 0.2 < /dev/null
	assert_output '{"round":0,"weights":{"a":0.52497918747894,"b":0.47502081252106}}'
}

@test "weights: V1-V12 are in the unit tests; the shipped NI graph loads in Fortran order" {
	run -0 skillit-mix weights --static --graph "$GRAPHS/top_23_early_decreases.npy" --skills "$GRAPHS/top_23.txt"
	[ "${#lines[@]}" -eq 1 ]
	assert_output --regexp '^\{"round":0,"weights":\{"answer_verification":0\.0[0-9]+,'
}

@test "weights: one record per evaluation or per skill give the same mixtures" {
	echo '{"skills":["a","b","c"],"graph":[[1,0.5,0],[0,1,0.5],[0.5,0,1]]}' > g.json
	printf '{"step":10,"losses":{"a":2,"b":1,"c":3}}\n{"step":20,"losses":{"a":1.5,"b":0.9,"c":2}}\n' > whole.jsonl
	printf '%s\n' '{"eval":10,"skill":"a","loss":2}' '{"eval":10,"skill":"c","loss":3}' \
	    '{"eval":10,"skill":"b","loss":1}' '{"eval":20,"skill":"b","loss":0.9}' \
	    '{"eval":20,"skill":"a","loss":1.5}' '{"eval":20,"skill":"c","loss":2}' > parts.jsonl
	skillit-mix weights --graph g.json whole.jsonl > w1.jsonl
	skillit-mix weights --graph g.json parts.jsonl > w2.jsonl
	[ "$(wc -l < w1.jsonl)" -eq 3 ]
	diff w1.jsonl w2.jsonl
}

@test "weights: each variant flag changes the mixture; fine-tuning uses --target" {
	# Unequal row sums, so that even a constant pseudo-loss (--init-loss)
	# moves the mixture.
	echo '{"skills":["a","b","c"],"graph":[[1,0.5,0],[0,1,0],[0.5,0.5,1]]}' > g.json
	printf '{"step":10,"losses":{"a":2,"b":1,"c":3}}\n{"step":20,"losses":{"a":1.5,"b":0.9,"c":2}}\n{"step":30,"losses":{"a":1.2,"b":0.8,"c":1.1}}\n' > e.jsonl
	skillit-mix weights --graph g.json e.jsonl > base.jsonl
	for flag in "--prior a=1,b=2,c=1" "--init a=0.5,b=0.25,c=0.25" --normalize-loss \
	    --init-loss --eta-schedule --dynamic-lambda "--target b,c" "--window 1" \
	    "--agg mean" "--eta 1"; do
		skillit-mix weights --graph g.json $flag e.jsonl > v.jsonl
		! cmp -s base.jsonl v.jsonl || { echo "no effect: $flag"; false; }
	done
}

@test "weights: large eta stays finite (log-sum-exp)" {
	echo '{"skills":["a","b"],"graph":[[1,0],[0,1]]}' > g.json
	run -0 skillit-mix weights --graph g.json --eta 100000 <<< '{"step":1,"losses":{"a":100,"b":1}}'
	assert_line --index 1 '{"round":1,"step":1,"weights":{"a":1,"b":0}}'
}

@test "weights --follow answers each evaluation at once (coprocess)" {
	echo '{"skills":["a","b"],"graph":[[1,0],[0,1]]}' > g.json
	coproc SK { skillit-mix weights --follow --graph g.json; }
	sk_pid=$SK_PID	# bash unsets SK_PID when the coprocess ends
	read -t 5 -r first <&"${SK[0]}"
	[[ "$first" == '{"round":0,'* ]]
	echo '{"step":5,"losses":{"a":1,"b":2}}' >&"${SK[1]}"
	read -t 5 -r second <&"${SK[0]}"
	[[ "$second" == '{"round":1,"step":5,'* ]]
	echo '{"step":6,"losses":{"a":2,"b":1}}' >&"${SK[1]}"
	read -t 5 -r third <&"${SK[0]}"
	[[ "$third" == '{"round":2,"step":6,'* ]]
	exec {SK[1]}>&-
	wait "$sk_pid"
}

@test "weights: bad input names file:line" {
	echo '{"skills":["a","b"],"graph":[[1,0],[0,1]]}' > g.json
	printf '{"step":1,"losses":{"a":1,"b":2}}\n{"step":2,"losses":{"a":1,"z":2}}\n' > e.jsonl
	run -1 --separate-stderr skillit-mix weights --graph g.json e.jsonl
	[ "$stderr" = "skillit-mix: e.jsonl:2: losses: unknown skill 'z'" ]
	printf '{"step":1,"losses":{"a":1,"b":2}}\n{"step":' > e.jsonl
	run -1 --separate-stderr skillit-mix weights --graph g.json e.jsonl
	[[ "$stderr" == "skillit-mix: e.jsonl:2:"* ]]
	echo '{"skills":["a"],"graph":[[1,0],[0,1]]}' > bad.json
	run -1 --separate-stderr skillit-mix weights --graph bad.json < /dev/null
	[ "$stderr" = "skillit-mix: bad.json: 2 rows but 1 skill names" ]
	run -1 --separate-stderr skillit-mix weights --graph missing.npy --skills a < /dev/null
	[ "$stderr" = "skillit-mix: missing.npy: No such file or directory" ]
}

@test "graph: linear and relative from synthetic loss logs" {
	# Two skills; training on a lowers a by 1 and b by 0.5; on b, b by 1.
	printf '%s\n' '{"trained_on":"a","skill":"a","before":2,"after":1}' \
	    '{"trained_on":"a","skill":"b","before":2,"after":1.5}' \
	    '{"trained_on":"b","skill":"a","before":2,"after":2}' \
	    '{"trained_on":"b","skill":"b","before":2,"after":1}' > logs.jsonl
	run -0 --separate-stderr skillit-mix graph logs.jsonl
	assert_output '{"skills":["a","b"],"graph":[[1,0.5],[0,1]]}'
	[ "$stderr" = "skillit-mix: graph density 50.0% (1 of 2 possible edges)" ]
	run -0 skillit-mix graph -q --method relative logs.jsonl
	assert_output '{"skills":["a","b"],"graph":[[0.5,0.25],[0,0.5]]}'
	# The estimate feeds weights as it is.
	skillit-mix graph -q -o g.json logs.jsonl
	run -0 skillit-mix weights --graph g.json < /dev/null
	[ "${#lines[@]}" -eq 1 ]
}

@test "graph: pairwise from loss curves" {
	# Alone, b reaches 0.01 at step 30; with a at step 20 (an edge a->b);
	# a alone at 10, with b never (no edge b->a).
	for s in 10 20 30; do
		echo "{\"trained_on\":[\"b\"],\"skill\":\"b\",\"step\":$s,\"loss\":$([ $s -ge 30 ] && echo 0.005 || echo 0.5)}"
		echo "{\"trained_on\":[\"a\",\"b\"],\"skill\":\"b\",\"step\":$s,\"loss\":$([ $s -ge 20 ] && echo 0.005 || echo 0.5)}"
		echo "{\"trained_on\":[\"a\"],\"skill\":\"a\",\"step\":$s,\"loss\":0.001}"
		echo "{\"trained_on\":[\"a\",\"b\"],\"skill\":\"a\",\"step\":$s,\"loss\":0.5}"
	done > curves.jsonl
	run -0 skillit-mix graph -q --method pairwise curves.jsonl
	assert_output '{"skills":["b","a"],"graph":[[1,0],[0.5,1]]}'
}

@test "graph: a nearly empty graph is warned about" {
	for i in a b c d; do for j in a b c d; do
		d=0; [ $i = $j ] && d=1
		echo "{\"trained_on\":\"$i\",\"skill\":\"$j\",\"before\":2,\"after\":$((2 - d))}"
	done; done > logs.jsonl
	run -0 --separate-stderr skillit-mix graph logs.jsonl
	[ "${stderr_lines[1]}" = "skillit-mix: warning: the graph is nearly empty: Skill-It will sample by loss alone" ]
}

records() {
	# n records, skills s0..s(k-1) in turn
	awk -v n="$1" -v k="$2" 'BEGIN { for (i = 0; i < n; i++) printf "{\"id\":%d,\"skill\":\"s%d\"}\n", i, i % k }'
}

@test "sample: exact counts floor(p n), the remainder to the last skill" {
	records 10000 4 > in.jsonl
	run -0 skillit-mix sample -q -n 101 --weights s0=0.5,s1=0.3,s3=0.2 in.jsonl
	[ "${#lines[@]}" -eq 101 ]
	[ "$(printf '%s\n' "${lines[@]}" | grep -c '"skill":"s0"')" -eq 50 ]
	[ "$(printf '%s\n' "${lines[@]}" | grep -c '"skill":"s1"')" -eq 30 ]
	[ "$(printf '%s\n' "${lines[@]}" | grep -c '"skill":"s3"')" -eq 21 ]
	[ "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" -eq 101 ]
}

@test "sample: deterministic by seed; the output order is shuffled" {
	records 5000 3 > in.jsonl
	skillit-mix sample -q -n 300 -s 4 --weights s0=1,s1=1,s2=1 in.jsonl > a.jsonl
	skillit-mix sample -q -n 300 -s 4 --weights s0=1,s1=1,s2=1 in.jsonl > b.jsonl
	skillit-mix sample -q -n 300 -s 5 --weights s0=1,s1=1,s2=1 in.jsonl > c.jsonl
	cmp a.jsonl b.jsonl
	! cmp -s a.jsonl c.jsonl
	! cmp -s a.jsonl <(sort -t: -k2 -n a.jsonl)
}

@test "sample: with replacement and iid draws" {
	records 10 2 > in.jsonl
	run -0 skillit-mix sample -q -n 100 --replace --weights s0=1,s1=1 in.jsonl
	[ "${#lines[@]}" -eq 100 ]
	[ "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" -le 10 ]
	run -0 skillit-mix sample -q -n 1000 --draw iid --replace --weights s0=0.9,s1=0.1 in.jsonl
	n0=$(printf '%s\n' "${lines[@]}" | grep -c '"skill":"s0"')
	[ "$n0" -gt 850 ] && [ "$n0" -lt 950 ]
}

@test "sample: too few records is reported, the sample still written" {
	records 10 2 > in.jsonl
	run -0 --separate-stderr skillit-mix sample -q -n 20 --weights s0=1,s1=1 in.jsonl
	[ "${#lines[@]}" -eq 10 ]
	[ "${stderr_lines[0]}" = "skillit-mix: round 0: skill 's0': 5 records, 10 wanted" ]
}

@test "sample: rounds from a weights stream tag their records" {
	records 1000 2 > in.jsonl
	printf '%s\n' '{"round":0,"weights":{"s0":1,"s1":0}}' '{"round":1,"weights":{"s0":0,"s1":1}}' > rounds.jsonl
	run -0 skillit-mix sample -q -n 5 --rounds rounds.jsonl in.jsonl
	[ "${#lines[@]}" -eq 10 ]
	[ "$(printf '%s\n' "${lines[@]:0:5}" | grep -c '"skill":"s0",.*"round":0}')" -eq 5 ]
	[ "$(printf '%s\n' "${lines[@]:5:5}" | grep -c '"skill":"s1",.*"round":1}')" -eq 5 ]
}

@test "sample: memory stays flat from 1M to 10M input records" {
	command -v /usr/bin/time >/dev/null || skip "time(1) not installed"
	rss() {
		records "$1" 10 | /usr/bin/time -f %M skillit-mix sample -q -n 1000 \
		    --weights s0=1,s1=1,s2=1 2>&1 >/dev/null | tail -n1
	}
	small=$(rss 1000000)
	large=$(rss 10000000)
	echo "max RSS: $small KiB at 1M records, $large KiB at 10M" >&3
	[ "$large" -lt $((small * 3 / 2)) ]
}

@test "sample: bad input, missing field, full disk, closed pipe" {
	printf '{"skill":"s0"}\n{"id":2}\n' > in.jsonl
	run -1 --separate-stderr skillit-mix sample -q -n 1 --weights s0=1 in.jsonl
	[ "$stderr" = "skillit-mix: in.jsonl:2: field 'skill' missing" ]
	printf '{"skill":"s0"}\n{"skill":' > in.jsonl
	run -1 --separate-stderr skillit-mix sample -q -n 1 --weights s0=1 in.jsonl
	[[ "$stderr" == "skillit-mix: in.jsonl:2:"* ]]
	run -2 --separate-stderr skillit-mix sample -n 1 in.jsonl
	[ "${stderr_lines[0]}" = "skillit-mix: give one of --weights and --rounds" ]
	records 100 2 > ok.jsonl
	run -1 --separate-stderr bash -c 'skillit-mix sample -q -n 10 --weights s0=1 ok.jsonl > /dev/full'
	[ "$stderr" = "skillit-mix: stdout: write error: No space left on device" ]
	run -0 --separate-stderr bash -c 'skillit-mix sample -q -n 50 --weights s0=1 ok.jsonl | head -n1'
	[ "${#lines[@]}" -eq 1 ] && [ -z "$stderr" ]
	run -0 --separate-stderr skillit-mix sample -q -n 5 --weights s0=1 < /dev/null
	[ -z "$output" ]
}

@test "the man page EXAMPLES run" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	man_text "$LOAM_TOP/man/skillit-mix.1" |
		sed -n '/^EXAMPLES/,/^SEE ALSO/p' | sed -n 's/^[[:space:]]*\$ //p' > examples.sh
	[ "$(wc -l < examples.sh)" -ge 4 ]
	run -0 bash -e examples.sh
}

@test "closed loop (simulated learner): Skill-It ends below stratified and random" {
	# build/tests/tools/skillit-loop: LEGO k = 5, the real skillit-mix
	# as a coprocess choosing each round's mixture from the evaluations;
	# the learner is a simulation, which the output must say.
	run -0 --separate-stderr skillit-loop
	assert_line --index 0 --partial 'SIMULATED learner'
	# Round 1 is V1, then the mixture follows the losses.
	assert_line --regexp '^skillit .* mixtures 0\.16/0\.35/0\.16/0\.16/0\.16 0\.10/'
	json=${lines[${#lines[@]} - 1]}
	jq -e '.method == "skillit" and .learner == "simulated" and
	    .skillit < .stratified and .skillit < .random and
	    .steps_skillit < .steps_stratified and .steps_random == null' <<< "$json"
	# Deterministic: a second run prints the same.
	run -0 --separate-stderr skillit-loop
	[ "${lines[${#lines[@]} - 1]}" = "$json" ]
	run -1 --separate-stderr skillit-loop --mix ./no-such-program
	[ "${stderr_lines[1]}" = "skillit-loop: ./no-such-program: no mixture came back" ]
}

@test "error paths free what they hold (exit 1, not LeakSanitizer's 99)" {
	echo '{"skills":["a","b"],"graph":[[1,0],[0,1]]}' > g.json
	echo '{"step":1,"losses":{"a":"x","b":2}}' > e.jsonl
	run -1 --separate-stderr skillit-mix weights --graph g.json e.jsonl
	[ "$stderr" = "skillit-mix: e.jsonl:1: losses: field 'a': expected a number, got \"x\"" ]
	echo '{"step":1,"losses":{}}' > e.jsonl
	run -1 --separate-stderr skillit-mix weights --graph g.json e.jsonl
	[ "$stderr" = "skillit-mix: e.jsonl:1: loss of skill 0 is nan" ]
	echo '{"skill":1}' > in.jsonl
	run -1 --separate-stderr skillit-mix sample -q -n 1 --weights s0=1 in.jsonl
	[ "$stderr" = "skillit-mix: in.jsonl:1: field 'skill': expected a string, got 1" ]
	printf '%s\n' '{"trained_on":"a","skill":"a","before":2,"after":1}' \
	    '{"trained_on":"a","skill":"a","before":2,"after":1}' > logs.jsonl
	run -1 --separate-stderr skillit-mix graph -q logs.jsonl
	[ "$stderr" = "skillit-mix: trained on 'a', measured on 'a': given twice" ]
}

@test "graph and sample --rounds: 200k records (arrays grow geometrically)" {
	# One realloc per record was quadratic: 100k records took minutes
	# under ASan (now seconds).  No timing asserted: what comes out is.
	awk 'BEGIN { for (i = 0; i < 200000; i++)
	    printf "{\"trained_on\":[\"a\"],\"skill\":\"a\",\"step\":%d,\"loss\":%g}\n", i, 1 / (i + 1) }' > curves.jsonl
	awk 'BEGIN { for (i = 0; i < 200000; i++) printf "{\"round\":%d,\"weights\":{\"s0\":1}}\n", i }' > rounds.jsonl
	echo '{"id":1,"skill":"s0"}' > in.jsonl
	run -0 --separate-stderr skillit-mix graph -q --method pairwise curves.jsonl
	assert_output '{"skills":["a"],"graph":[[1]]}'
	run -0 skillit-mix sample -q -n 1 --rounds rounds.jsonl in.jsonl
	[ "${#lines[@]}" -eq 200000 ]
}

@test "out of memory names the program, not loam" {
	[ -z "${LOAM_SANITIZE:-}" ] || skip "ASan's allocator reports out of memory itself"
	echo '{"id":1,"skill":"s0"}' > in.jsonl
	# 4e9 reservoir slots of 8 bytes cannot fit in 1 GB of address space
	run -1 --separate-stderr bash -c 'ulimit -v 1000000; skillit-mix sample -q -n 4000000000 --weights s0=1 in.jsonl'
	[ "$stderr" = "skillit-mix: out of memory" ]
}
