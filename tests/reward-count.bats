#!/usr/bin/env bats
# reward-count: count-based intrinsic rewards (see man/reward-count.1).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "--help prints the usage to stdout and exits 0" {
	run -0 --separate-stderr reward-count --help
	assert_line --index 0 --partial 'usage: reward-count [-hqV] [--mode progress|simhash|exact|progress-reward]'
	[ -z "$stderr" ]
}

@test "the usage lines match the man page SYNOPSIS" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	run -0 bash -c "man_text '$LOAM_TOP/man/reward-count.1' | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p'"
	for opt in --mode --field --bins --total-bins --range --key --update --bonus --lambda \
	    --normalize --scope --simhash-bits --quantum --load --save --unbuffered merge dump; do
		assert_output --partial -- "$opt"
	done
}

@test "usage errors exit 2" {
	run -2 --separate-stderr reward-count --bogus
	[ "${stderr_lines[0]}" = "reward-count: unknown option '--bogus'" ]
	run -2 --separate-stderr reward-count --mode magic
	[ "${stderr_lines[0]}" = "reward-count: --mode: 'magic' is not progress, simhash, exact or progress-reward" ]
	run -2 --separate-stderr reward-count merge a.rc
	[ "${stderr_lines[0]}" = "reward-count: merge needs -o file" ]
}

@test "progress: bonuses by hand, per step (lambda/(sqrt N + 1))" {
	printf '%s\n' '{"progress":[0.5,0.5]}' '{"progress":[0.5,0.5],"r":1}' \
	    '{"progress":[0.55,0.5]}' '{"progress":[0.9,0.1]}' > in.jsonl
	run -0 reward-count -q --bonus inv_sqrt_plus1 --lambda 1 in.jsonl
	assert_line --index 0 '{"progress":[0.5,0.5],"bin":[5,5],"count":0,"r_int":1}'
	assert_line --index 1 '{"progress":[0.5,0.5],"r":1,"bin":[5,5],"count":1,"r_int":0.5,"r_total":1.5}'
	assert_line --index 2 '{"progress":[0.55,0.5],"bin":[5,5],"count":2,"r_int":0.4142135623730951}'
	assert_line --index 3 '{"progress":[0.9,0.1],"bin":[9,1],"count":0,"r_int":1}'
}

@test "update orders: batch-sync, before, after (by hand)" {
	printf '%s\n' '{"iter":1,"progress":[0.5]}' '{"iter":1,"progress":[0.5]}' '{"iter":2,"progress":[0.5]}' > in.jsonl
	# batch-sync: iter 1 sees N = 0 twice (max(N,1) = 1), iter 2 sees 2.
	run -0 reward-count -q --lambda 1 in.jsonl
	[ "$(printf '%s\n' "${lines[@]}" | grep -o '"count":[0-9]*,"r_int":[0-9.]*' | tr '\n' ' ')" = '"count":0,"r_int":1 "count":0,"r_int":1 "count":2,"r_int":0.7071067811865475 ' ]
	# before: the count before each step: 0, 1, 2.
	run -0 reward-count -q --lambda 1 --update before in.jsonl
	[ "$(printf '%s\n' "${lines[@]}" | grep -o '"count":[0-9]*' | tr '\n' ' ')" = '"count":0 "count":1 "count":2 ' ]
	# after: the count including the step: 1, 2, 3.
	run -0 reward-count -q --lambda 1 --update after in.jsonl
	[ "$(printf '%s\n' "${lines[@]}" | grep -o '"count":[0-9]*' | tr '\n' ' ')" = '"count":1 "count":2 "count":3 ' ]
}

@test "vectorised and per-step forms agree (batch-sync)" {
	printf '%s\n' '{"progress":[[0.5,0.5],[0.5,0.5],[0.9,0.1]]}' '{"progress":[[0.5,0.5],[0.2,0.5],[0.9,0.1]]}' > vec.jsonl
	printf '%s\n' '{"iter":1,"progress":[0.5,0.5]}' '{"iter":1,"progress":[0.5,0.5]}' '{"iter":1,"progress":[0.9,0.1]}' \
	    '{"iter":2,"progress":[0.5,0.5]}' '{"iter":2,"progress":[0.2,0.5]}' '{"iter":2,"progress":[0.9,0.1]}' > steps.jsonl
	reward-count -q vec.jsonl | grep -o '"r_int":\[[^]]*\]' | tr -d '[]"r_int:' | tr ',' '\n' > a.txt
	reward-count -q steps.jsonl | grep -o '"r_int":[0-9.e-]*' | cut -d: -f2 > b.txt
	diff a.txt b.txt
}

@test "added fields: shortest numbers that read back, vectors with r, fields replaced" {
	printf '%s\n' '{"progress":[[0.5],[0.5],[0.1]],"r":[1,0.1,-2]}' \
	    '{"progress":[[0.5],[0.5],[0.1]],"r":[1,0.1,-2],"iter":3}' \
	    '{"count":"x","progress":[0.5],"r":0.2,"bin":null}' \
	    '{ "progress" : [0.5] , "r" : 1e-3 }' > in.jsonl
	run -0 reward-count -q --lambda 0.1 in.jsonl
	assert_line --index 0 '{"progress":[[0.5],[0.5],[0.1]],"r":[1,0.1,-2],"bin":[[5],[5],[1]],"count":[0,0,0],"r_int":[0.1,0.1,0.1],"r_total":[1.1,0.2,-1.9]}'
	# 0.1/sqrt(2), and 1 + 0.1/sqrt(2) (%.17g would print 0.070710678118654752)
	assert_line --index 1 '{"progress":[[0.5],[0.5],[0.1]],"r":[1,0.1,-2],"iter":3,"bin":[[5],[5],[1]],"count":[2,2,1],"r_int":[0.07071067811865475,0.07071067811865475,0.1],"r_total":[1.0707106781186548,0.17071067811865476,-1.9]}'
	assert_line --index 2 '{"count":2,"progress":[0.5],"r":0.2,"bin":[5],"r_int":0.07071067811865475,"r_total":0.2707106781186548}'
	assert_line --index 3 '{"progress":[0.5],"r":1e-3,"bin":[5],"count":5,"r_int":0.044721359549995794,"r_total":0.045721359549995795}'
}

@test "simhash: same state, same code; the seed changes the projection" {
	printf '%s\n' '{"state":[1,2,3]}' '{"state":[1,2,3]}' '{"state":[-3,0.5,2]}' > in.jsonl
	run -0 reward-count -q --mode simhash in.jsonl
	b0=$(echo "${lines[0]}" | grep -o '"bin":[^,]*')
	[ "$b0" = "$(echo "${lines[1]}" | grep -o '"bin":[^,]*')" ]
	reward-count -q --mode simhash -s 1 in.jsonl > s1.jsonl
	reward-count -q --mode simhash -s 1 in.jsonl > s1b.jsonl
	reward-count -q --mode simhash -s 2 in.jsonl > s2.jsonl
	cmp s1.jsonl s1b.jsonl
	! cmp -s s1.jsonl s2.jsonl
}

@test "exact and progress-reward modes" {
	printf '%s\n' '{"state":[1,2]}' '{"state":[1,2]}' > in.jsonl
	run -0 reward-count -q --mode exact --lambda 1 --update before in.jsonl
	assert_line --index 1 --partial '"count":1,"r_int":1}'
	printf '%s\n' '{"progress":[0.2,0.3]}' > p.jsonl
	run -0 reward-count -q --mode progress-reward p.jsonl
	assert_output --partial '"r_int":0.5'
}

@test "merge of shard tables equals the single-run table; dump shows bins" {
	for i in $(seq 1 200); do echo "{\"progress\":[0.$((i % 7)),0.$((i % 5))]}"; done > all.jsonl
	head -100 all.jsonl > a.jsonl
	tail -100 all.jsonl > b.jsonl
	reward-count -q --save all.rc all.jsonl > /dev/null
	reward-count -q --save a.rc a.jsonl > /dev/null
	reward-count -q --save b.rc b.jsonl > /dev/null
	reward-count merge -q -o ab.rc a.rc b.rc
	reward-count dump all.rc > d1.jsonl
	reward-count dump ab.rc > d2.jsonl
	cmp d1.jsonl d2.jsonl
	[ "$(wc -l < d1.jsonl)" -eq 35 ]
	run -0 head -n1 d1.jsonl
	assert_output --regexp '^\{"key":"[0-9a-f]{16}","count":[0-9]+,"bin":\[[0-9],[0-9]\](,"task":"[0-9a-f]{16}")?\}$'
}

@test "save and load continue the counts; different settings are refused" {
	printf '%s\n' '{"progress":[0.5]}' > one.jsonl
	reward-count -q --update before --save t.rc one.jsonl > /dev/null
	run -0 reward-count -q --update before --load t.rc one.jsonl
	assert_output --partial '"count":1,'
	run -1 --separate-stderr reward-count -q --bins 20 --load t.rc one.jsonl
	[[ "$stderr" == "reward-count: bins: 20 here, 10 in t.rc"* ]]
	reward-count -q --bins 20 --save u.rc one.jsonl > /dev/null
	run -1 --separate-stderr reward-count merge -q -o x.rc t.rc u.rc
	[[ "$stderr" == "reward-count: "*"bins"* ]]
	[ ! -e x.rc ]
}

@test "warm-up ranges: answered at once with 0, then frozen" {
	printf '%s\n' '{"progress":[10]}' '{"progress":[20]}' '{"progress":[15]}' '{"progress":[15]}' > in.jsonl
	run -0 reward-count -q --update before --range warmup:2 in.jsonl
	assert_line --index 0 --partial '"count":0,"r_int":0}'
	assert_line --index 2 --partial '"bin":[5],'
	reward-count -q --range warmup:2 --save w.rc in.jsonl > /dev/null
	run -0 reward-count dump w.rc
	[ "${#lines[@]}" -ge 2 ]
}

@test "bad input: wrong length, NaN, file:line, missing file" {
	printf '%s\n' '{"progress":[0.5,0.5]}' '{"progress":[0.5]}' > in.jsonl
	run -1 --separate-stderr reward-count -q in.jsonl
	[ "$stderr" = "reward-count: in.jsonl:2: progress: 1 value, expected 2" ]
	printf '%s\n' '{"progress":[0.5,0.5]}' '{"progress":[0.5,"x"]}' > bad.jsonl
	run -1 --separate-stderr reward-count -q bad.jsonl
	[[ "$stderr" == "reward-count: bad.jsonl:2: "* ]]
	printf '{"progress":[0.5]}\n{"progress":' > trunc.jsonl
	run -1 --separate-stderr reward-count -q trunc.jsonl
	[[ "$stderr" == "reward-count: trunc.jsonl:2:"* ]]
	run -1 --separate-stderr reward-count -q missing.jsonl
	[ "$stderr" = "reward-count: missing.jsonl: No such file or directory" ]
}

@test "empty input, missing newline, full disk, closed pipe, determinism, unbuffered" {
	run -0 --separate-stderr reward-count -q < /dev/null
	[ -z "$output" ]
	printf '{"progress":[0.5]}' > nonl.jsonl
	run -0 reward-count -q nonl.jsonl
	[ "${#lines[@]}" -eq 1 ]
	for i in $(seq 1 20000); do echo "{\"progress\":[0.$((i % 10))]}"; done > many.jsonl
	run -1 --separate-stderr bash -c 'reward-count -q many.jsonl > /dev/full'
	[ "$stderr" = "reward-count: stdout: write error: No space left on device" ]
	run -0 --separate-stderr bash -c 'reward-count -q many.jsonl | head -n1'
	[ "${#lines[@]}" -eq 1 ] && [ -z "$stderr" ]
	reward-count -q many.jsonl > a.jsonl
	reward-count -q many.jsonl > b.jsonl
	cmp a.jsonl b.jsonl
	coproc RC { reward-count -q --unbuffered; }
	# bash unsets RC_PID when the coprocess ends, which may be before
	# the wait below: keep the pid (wait still reports its status).
	rc_pid=$RC_PID
	echo '{"progress":[0.5]}' >&"${RC[1]}"
	read -t 5 -r line <&"${RC[0]}"
	[[ "$line" == '{"progress":[0.5],"bin":[5],'* ]]
	exec {RC[1]}>&-
	wait "$rc_pid"
}

@test "the man page EXAMPLES run" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	man_text "$LOAM_TOP/man/reward-count.1" |
		sed -n '/^EXAMPLES/,/^SEE ALSO/p' | sed -n 's/^[[:space:]]*\$ //p' > examples.sh
	[ "$(wc -l < examples.sh)" -ge 3 ]
	run -0 bash -e examples.sh
}

@test "wrong types: r not a number, env/episode/task not a string or integer >= 0" {
	for v in '"1.5"' '[1]' null true; do
		printf '{"progress":[0.5]}\n{"r":%s,"progress":[0.5]}\n' "$v" > r.jsonl
		run -1 --separate-stderr reward-count -q r.jsonl
		[ "$stderr" = "reward-count: r.jsonl:2: field 'r': expected a number, got $v" ]
	done
	printf '{"r":[1],"progress":[[0.5],[0.2]]}\n' > rv.jsonl
	run -1 --separate-stderr reward-count -q rv.jsonl
	[ "$stderr" = "reward-count: rv.jsonl:1: field 'r': expected an array of 2 numbers, one per vector" ]
	for f in env episode task; do
		for v in -1 1.5 null true '[1]' 18446744073709551615; do
			printf '{"progress":[0.5]}\n{"%s":%s,"progress":[0.5]}\n' "$f" "$v" > e.jsonl
			run -1 --separate-stderr reward-count -q --scope env e.jsonl
			[ "$stderr" = "reward-count: e.jsonl:2: field '$f': expected a string or an integer in [0, 2^63), got $v" ]
		done
	done
	# the accepted forms still count apart from a record without env
	printf '{"progress":[0.5]}\n{"env":0,"progress":[0.5]}\n{"env":"a","progress":[0.5]}\n{"env":9223372036854775807,"progress":[0.5]}\n' |
		reward-count -q --scope env | jq -c .count > counts
	[ "$(paste -sd' ' counts)" = "0 0 0 0" ]
}

@test "runaway input: /dev/zero, --max-line, too many dimensions, all with file:line" {
	run -1 --separate-stderr timeout 10 reward-count -q /dev/zero
	[ "$stderr" = "reward-count: /dev/zero:1:1: NUL byte in the line" ]
	printf '{"progress":[0.5]}\nnot json\n' > bad.jsonl
	run -1 --separate-stderr reward-count -q bad.jsonl
	[ "$stderr" = "reward-count: bad.jsonl:2:1: unexpected 'n'" ]
	printf '{"progress":[0.5]}\n{"progress":[0.25],"pad":"%s"}\n' "$(printf '%040d' 0)" > long.jsonl
	run -0 reward-count -q --max-line 68 long.jsonl
	run -1 --separate-stderr reward-count -q --max-line 67 long.jsonl
	[ "$stderr" = "reward-count: long.jsonl:2: line longer than 67 bytes" ]
	run -2 --separate-stderr reward-count --max-line 0 long.jsonl
	# 65536 values are taken, 65537 refused before conversion, in every mode
	awk 'BEGIN { for (k = 65536; k <= 65537; k++) { printf "{\"progress\":[0"; for (i = 1; i < k; i++) printf ",0.5"; print "]}" } }' > wide.jsonl
	head -n1 wide.jsonl | reward-count -q --mode simhash --field progress > /dev/null
	tail -n1 wide.jsonl > wider.jsonl
	for mode in progress simhash exact; do
		run -1 --separate-stderr reward-count -q --mode "$mode" --field progress wider.jsonl
		[ "$stderr" = "reward-count: wider.jsonl:1: field 'progress': 65537 values, more than 65536 (vectors and vectors per record are limited alike)" ]
	done
}
