#!/usr/bin/env bats
# congest-route: Congested Bandits (see man/congest-route.1).  The
# instances are the research notes' (testdata/congest-route).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

cr=$LOAM_TOP/testdata/congest-route

# mean_regret ALGO T: the regret of sim averaged over seeds 0, 1, 2.
mean_regret() {
	for s in 0 1 2; do
		congest-route sim -q --profiles "$cr/two-routes.yaml" --horizon "$2" --every 0 --algo "$1" -s $s
	done | jq -s 'map(.regret) | add / 3'
}

# requests N: requests 1..N, each answered two steps later (the last two
# not at all), with rewards from a fixed list.
requests() {
	awk -v n="$1" 'BEGIN { for (t = 1; t <= n; t++) {
		printf "{\"type\":\"request\",\"t\":%d}\n", t
		if (t > 2) printf "{\"type\":\"feedback\",\"t\":%d,\"reward\":%.3f}\n", t - 2, ((t * 7919) % 1000) / 1000
	} }'
}

@test "--help prints the usage to stdout and exits 0; a bad option exits 2" {
	run -0 --separate-stderr congest-route --help
	assert_line --index 0 'usage: congest-route route [-hqV] [--profiles file] [--arms list] [--window n]'
	[ -z "$stderr" ]
	run -0 congest-route sim --help
	assert_line --index 0 --partial 'usage: congest-route sim [-hqV] [--profiles file]'
	run -2 --separate-stderr congest-route plan --bogus
	assert_equal "${stderr_lines[0]}" "congest-route: unknown option '--bogus'"
	run -2 --separate-stderr congest-route sim --algo thompson --profiles "$cr/two-routes.yaml"
	assert_equal "${stderr_lines[0]}" "congest-route: --algo: 'thompson' is not carmab, ucb1, sw-ucb, known, carcb or carmab-ctx"
	run -2 --separate-stderr congest-route plan
	assert_equal "${stderr_lines[0]}" "congest-route: --profiles FILE is required"
}

@test "plan: the notes' pitfall gives 0.651 from a 9-cycle (arm1 x5, arm2 x4); two routes 0.625" {
	run -0 congest-route plan --profiles "$cr/pitfall.json"
	assert_equal "$(jq '.gain * 1000 | round' <<< "$output")" 651
	assert_equal "$(jq '.cycle | length' <<< "$output")" 9
	assert_equal "$(jq '[.cycle[] | select(. == "arm1")] | length' <<< "$output")" 5
	assert_equal "$(jq .states <<< "$output")" 64
	run -0 congest-route plan --profiles "$cr/two-routes.yaml"
	assert_output '{"gain":0.625,"cycle":["r2","r1","r2","r2"],"states":8}'
	# too many states: a usage error naming the limit
	run -2 --separate-stderr congest-route plan --profiles "$cr/pitfall.json" --max-states 63
	[[ "${stderr_lines[0]}" == *"exceed max-states 63"* ]]
}

@test "sim: the summary's fields; the oracle's regret is 0; byte-identical for a seed" {
	run -0 congest-route sim -q --profiles "$cr/two-routes.yaml" --horizon 1000 --every 0 --algo known
	assert_equal "$(jq -c '[.type, .steps, .gain, .regret]' <<< "$output")" '["summary",1000,0.625,0]'
	congest-route sim -q --profiles "$cr/two-routes.yaml" --horizon 500 -s 3 > a.jsonl
	congest-route sim -q --profiles "$cr/two-routes.yaml" --horizon 500 -s 3 > b.jsonl
	congest-route sim -q --profiles "$cr/two-routes.yaml" --horizon 500 -s 4 > c.jsonl
	cmp a.jsonl b.jsonl
	! cmp -s a.jsonl c.jsonl
	assert_equal "$(wc -l < a.jsonl)" 501
	assert_equal "$(head -n1 a.jsonl | jq -c 'keys')" '["arm","congestion","mean","regret","reward","t","type"]'
	assert_equal "$(tail -n1 a.jsonl | jq -c '[.type, .steps] + (keys - ["type", "steps"])')" \
	    '["summary",500,"algo","epochs","gain","planned_gain","regret","reward"]'
	run -0 congest-route sim -q --profiles "$cr/two-routes.yaml" --horizon 1000 --every 100
	assert_equal "${#lines[@]}" 11
	for a in ucb1 sw-ucb carcb; do
		congest-route sim -q --profiles "$cr/two-routes.yaml" --horizon 300 --every 0 --algo $a | jq -e '.regret > 0'
	done
}

@test "sim: regret of ucb1 grows linearly (about 0.128 T), carmab's as sqrt(T), as in the notes" {
	u16=$(mean_regret ucb1 16000)
	u64=$(mean_regret ucb1 64000)
	c16=$(mean_regret carmab 16000)
	c64=$(mean_regret carmab 64000)
	echo "ucb1 $u16 $u64 carmab $c16 $c64"
	awk -v u16="$u16" -v u64="$u64" -v c16="$c16" -v c64="$c64" 'BEGIN {
		exit !(u16 / 16000 > 0.12 && u16 / 16000 < 0.14 && u64 / 64000 > 0.12 && u64 / 64000 < 0.14 &&
		    c64 / c16 > 1.5 && c64 / c16 < 2.8 && c64 < 0.02 * 64000) }'
}

@test "sim --contexts: carcb beats carmab run per context on 30 linear contexts, at 4k and 32k steps" {
	for T in 4000 32000; do
		for a in known carcb carmab-ctx carmab; do
			for s in 0 1 2; do
				congest-route sim -q --contexts "$cr/contexts.yaml" --horizon $T --every 0 --algo $a -s $s
			done
		done
	done > all.jsonl
	# per horizon and algorithm: the mean noiseless reward per step over the seeds
	jq -sc 'group_by(.steps)[] | group_by(.algo) | map({(.[0].algo): (map(.mean_reward) | add / 3)}) | add' \
	    all.jsonl > means.jsonl
	cat means.jsonl
	jq -se '.[0] as $s | .[1] as $l | [$s, $l] | all(.carcb > ."carmab-ctx" + 0.03 and .carcb > .carmab + 0.02)
	    and $s.known - $s.carcb < 0.04 and $l.known - $l.carcb < 0.015
	    and $l.known - $l."carmab-ctx" < $s.known - $s."carmab-ctx"' means.jsonl
	# the oracle is known run on the same contexts
	jq -se 'map(select(.algo == "known") | .regret == 0 and .contexts == 30) | all' all.jsonl
	congest-route sim -q --contexts "$cr/contexts.yaml" --horizon 50 --algo carcb -s 5 > a.jsonl
	congest-route sim -q --contexts "$cr/contexts.yaml" --horizon 50 --algo carcb -s 5 > b.jsonl
	cmp a.jsonl b.jsonl
	assert_equal "$(head -n1 a.jsonl | jq -c 'keys')" '["arm","congestion","context","mean","regret","reward","t","type"]'
	run -2 --separate-stderr congest-route sim --algo carmab-ctx --profiles "$cr/two-routes.yaml"
	assert_equal "${stderr_lines[0]}" "congest-route: --algo carmab-ctx needs --contexts FILE"
	run -2 --separate-stderr congest-route route --algo carmab-ctx --arms a,b --window 1 /dev/null
	assert_equal "${stderr_lines[0]}" "congest-route: --algo carmab-ctx: only in sim, with --contexts FILE"
	printf -- '- profiles: {a: [0.5, 0.4]}\n  features: {a: [[1], [0]]}\n- profiles: {b: [0.5, 0.4]}\n  features: {b: [[1], [0]]}\n' > bad.yaml
	run -1 --separate-stderr congest-route sim --contexts bad.yaml
	assert_equal "$stderr" "congest-route: bad.yaml:3:3: context 1: arm 'b' where the first context has 'a'"
}

@test "route: a coprocess answers each request at once" {
	mkfifo in out
	congest-route route -q --profiles "$cr/two-routes.yaml" < in > out &
	exec 7> in 8< out
	for t in 1 2 3 4 5; do
		echo "{\"type\":\"request\",\"t\":$t}" >&7
		read -r -t 10 line <&8
		[[ "$line" == "{\"type\":\"decision\",\"t\":$t,\"arm\":\"r"[12]"\",\"congestion\":{\"r1\":"* ]]
		echo "{\"type\":\"feedback\",\"t\":$t,\"reward\":0.5}" >&7
	done
	exec 7>&-
	read -r -t 10 line <&8
	[[ "$line" == '{"type":"summary","algo":"carmab","steps":5,"feedbacks":5,'* ]]
	exec 8<&-
	wait
}

@test "route: late and out-of-order feedback; the congestion is the window's before the decision" {
	printf '%s\n' '{"type":"request","t":1}' '{"type":"request","t":2}' '{"type":"request","t":3}' \
	    '{"type":"feedback","t":3,"reward":0.1}' '{"type":"feedback","t":1,"reward":1,"arm":"a"}' \
	    '{"type":"feedback","t":2,"reward":0.5}' > in.jsonl
	run -0 congest-route route -q --arms a,b --window 2 in.jsonl
	assert_line --index 0 '{"type":"decision","t":1,"arm":"a","congestion":{"a":0,"b":0}}'
	assert_line --index 1 '{"type":"decision","t":2,"arm":"a","congestion":{"a":1,"b":0}}'
	assert_line --index 2 '{"type":"decision","t":3,"arm":"a","congestion":{"a":2,"b":0}}'
	assert_line --index 3 '{"type":"summary","algo":"carmab","steps":3,"feedbacks":3,"pending":0,"avg_reward":0.5333333333333333,"epochs":1,"planned_gain":1,"est_profiles":{"a":[1,0.5,0.1],"b":[0,0,0]}}'
	# beyond --max-states: the lookahead, labelled
	run -0 congest-route route -q --arms a,b --window 30 --lookahead 3 in.jsonl
	assert_line --index 0 '{"type":"decision","t":1,"arm":"a","congestion":{"a":0,"b":0},"planner":"lookahead"}'
	run -2 --separate-stderr congest-route route -q --arms a,b --window 30 in.jsonl
	assert_equal "${stderr_lines[0]}" "congest-route: congest: K^Δ = 2^30 states exceed max-states 1048576: raise --max-states or plan by --lookahead H"
}

@test "route: --save and --load continue exactly, for every algorithm" {
	requests 3000 > all.jsonl
	head -n 3000 all.jsonl > first.jsonl
	tail -n +3001 all.jsonl > rest.jsonl
	for a in carmab ucb1 sw-ucb known; do
		congest-route route -q --algo $a --sw-window 50 --profiles "$cr/two-routes.yaml" all.jsonl > whole.out
		congest-route route -q --algo $a --sw-window 50 --profiles "$cr/two-routes.yaml" --save st.json first.jsonl |
		    grep -v '"summary"' > split.out
		jq -e '.format == "congest-route state" and .version == 1' st.json
		congest-route route -q --load st.json rest.jsonl >> split.out
		cmp whole.out split.out
	done
	# carcb, with a context per request
	awk 'BEGIN { for (t = 1; t <= 200; t++) {
		x = (t * 37 % 100) / 100
		printf "{\"type\":\"request\",\"t\":%d,\"context\":{\"a\":[[1,%g],[1,%g]],\"b\":[[0.5,0],[0.5,0]]}}\n", t, x, x / 2
		printf "{\"type\":\"feedback\",\"t\":%d,\"reward\":%g}\n", t, (t * 7919 % 1000) / 1000 } }' > cb.jsonl
	congest-route route -q --algo carcb --arms a,b --window 1 cb.jsonl > whole.out
	head -n 201 cb.jsonl | congest-route route -q --algo carcb --arms a,b --window 1 --save st.json | grep -v '"summary"' > split.out
	tail -n +202 cb.jsonl | congest-route route -q --load st.json >> split.out
	cmp whole.out split.out
	# the state's parameters rule; others given must agree
	run -2 --separate-stderr congest-route route -q --load st.json --algo ucb1 rest.jsonl
	assert_equal "${stderr_lines[0]}" "congest-route: --algo ucb1: the state st.json is carcb"
	echo '{"format":"congest-route state","version":2}' > v2.json
	run -1 --separate-stderr congest-route route -q --load v2.json rest.jsonl
	assert_equal "$stderr" "congest-route: v2.json: state version 2; this congest-route reads version 1"
}

@test "bad input: unknown t, arm or type, non-finite reward, a missing context name file:line" {
	check() {	# the record after one request t=1, the message
		printf '%s\n' '{"type":"request","t":1}' "$1" > in.jsonl
		run -1 --separate-stderr congest-route route -q --arms a,b --window 2 in.jsonl
		assert_equal "$stderr" "congest-route: in.jsonl:2: $2"
	}
	check '{"type":"feedback","t":7,"reward":1}' "feedback for t 7: no decision awaits it (unknown t, feedback before its request, or given twice)"
	check '{"type":"feedback","t":1,"reward":1,"arm":"z"}' "unknown arm 'z'"
	check '{"type":"feedback","t":1,"reward":1,"arm":"b"}' "feedback for t 1 names arm 'b'; the decision was 'a'"
	check '{"type":"feedback","t":1}' "field 'reward' missing"
	check '{"type":"feedback","t":1,"reward":"x"}' "field 'reward': expected a number, got \"x\""
	check '{"type":"cancel","t":1}' "type 'cancel': expected request or feedback"
	check '{"type":"request"}' "field 't' missing"
	check '{"type":"request","t":1}' "request t 1: a decision for t 1 awaits its feedback"
	printf '%s\n' '{"type":"request","t":1}' '{"type":"feedback","t":1,"reward":1e999}' > inf.jsonl
	run -1 --separate-stderr congest-route route -q --arms a,b --window 2 inf.jsonl
	[[ "$stderr" == "congest-route: inf.jsonl:2:"*"number out of range: 1e999" ]]
	echo '{"type":"request","t":1}' > r.jsonl
	run -1 --separate-stderr congest-route route -q --algo carcb --arms a,b --window 1 r.jsonl
	assert_equal "$stderr" "congest-route: r.jsonl:1: carcb needs a context: per arm, 2 lists of features"
	printf '{"type":"request","t":1' > cut.jsonl
	run -1 --separate-stderr congest-route route -q --arms a,b --window 1 cut.jsonl
	[[ "$stderr" == "congest-route: cut.jsonl:1:"* ]]
}

@test "bad profiles, missing files, options that disagree" {
	printf '{"a": [1, 0.5], "b": [1]}\n' > short.json
	run -1 --separate-stderr congest-route plan --profiles short.json
	assert_equal "$stderr" "congest-route: short.json:1:22: arm 'b': 1 values where the first arm has 2"
	printf 'a: [1, 1.5]\n' > big.yaml
	run -1 --separate-stderr congest-route plan --profiles big.yaml
	[[ "$stderr" == "congest-route: big.yaml:1:"*": arm 'a': f(1) is not a number in [0, 1]" ]]
	run -1 --separate-stderr congest-route plan --profiles nothere.yaml
	[[ "$stderr" == "congest-route: nothere.yaml"*"No such file or directory"* ]]
	run -1 --separate-stderr congest-route route -q --arms a,b --window 1 nothere.jsonl
	assert_equal "$stderr" "congest-route: nothere.jsonl: No such file or directory"
	run -2 --separate-stderr congest-route route -q --profiles "$cr/two-routes.yaml" --window 2 /dev/null
	assert_equal "${stderr_lines[0]}" "congest-route: --window 2: the profiles give Δ = 3"
	run -2 --separate-stderr congest-route route -q --arms a,a --window 1 /dev/null
	assert_equal "${stderr_lines[0]}" "congest-route: --arms: arm 'a' twice"
	run -2 --separate-stderr congest-route route -q --algo known --arms a,b --window 1 /dev/null
	assert_equal "${stderr_lines[0]}" "congest-route: --algo known needs --profiles FILE"
	run -2 --separate-stderr congest-route route -q /dev/null
	assert_equal "${stderr_lines[0]}" "congest-route: the arms: --profiles FILE, or --arms LIST and --window Δ"
}

@test "empty input: the summary alone; no final newline; a full disk; | head -n1 is quiet" {
	run -0 --separate-stderr congest-route route --arms a,b --window 1 /dev/null
	assert_output '{"type":"summary","algo":"carmab","steps":0,"feedbacks":0,"pending":0,"avg_reward":null,"epochs":0,"planned_gain":null,"est_profiles":{"a":[0,0],"b":[0,0]}}'
	assert_equal "$stderr" "congest-route: 0 decisions, no feedback"
	printf '{"type":"request","t":1}' > nonl.jsonl
	run -0 congest-route route -q --arms a,b --window 1 nonl.jsonl
	assert_line --index 0 '{"type":"decision","t":1,"arm":"a","congestion":{"a":0,"b":0}}'
	run -1 --separate-stderr congest-route sim -q --profiles "$cr/two-routes.yaml" -o /dev/full
	[[ "$stderr" == "congest-route: "*"No space left on device"* ]]
	requests 20000 > many.jsonl
	run -0 --separate-stderr bash -c "congest-route route -q --arms a,b --window 2 many.jsonl | head -n1"
	[ -z "$stderr" ]
	run -0 --separate-stderr bash -c "congest-route sim -q --profiles '$cr/two-routes.yaml' --horizon 100000 | head -n1"
	[ -z "$stderr" ]
}

@test "-o is atomic: an existing output survives a failed run; --save too" {
	requests 10 > ok.jsonl
	congest-route route -q --arms a,b --window 1 -o out.jsonl --save st.json ok.jsonl
	cp out.jsonl before.jsonl
	cp st.json st-before.json
	echo '{"type":"feedback","t":99,"reward":1}' >> ok.jsonl
	run -1 congest-route route -q --arms a,b --window 1 -o out.jsonl --save st.json ok.jsonl
	cmp out.jsonl before.jsonl
	cmp st.json st-before.json
	ls -A | grep -v -e '^ok.jsonl$' -e '^out.jsonl$' -e '^before.jsonl$' -e '^st.json$' -e '^st-before.json$' && false
	true
}

@test "the man page EXAMPLES run" {
	ln -s "$LOAM_TOP/testdata" testdata
	man_text "$LOAM_TOP/man/congest-route.1" | sed -n '/^EXAMPLES/,/^SEE ALSO/p' |
	    sed -n 's/^[[:space:]]*\$ //p' > examples.sh
	[ "$(wc -l < examples.sh)" -ge 4 ]
	run -0 bash -e -o pipefail examples.sh
	[[ "${lines[0]}" == '{"gain":0.6512222222222221,'* ]]
}
