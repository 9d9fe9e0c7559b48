#!/usr/bin/env bats
# meteor-sim: NLTK's METEOR and SuperHF's METEOR similarity (see
# man/meteor-sim.1).  The paper's test completions are in
# testdata/external/superhf.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

shf=$LOAM_TOP/testdata/external/superhf

# pairs N: N (hypothesis, reference) pairs of the paper's completions, the
# prompt cut off, in a fixed order (the pairs of meteor-nltk.txt).
pairs() {
	gzip -dc "$shf/candidates.jsonl.gz" | jq -c -s --argjson n "$1" '. as $a | range($n) |
	    {hypothesis: ($a[(. * 7919) % 6400].completion | split("\n\nAssistant:")[1:] | join("\n\nAssistant:")),
	     reference: ($a[(. * 104729 + 13) % 6400].completion | split("\n\nAssistant:")[1:] | join("\n\nAssistant:"))}'
}

# model M: the candidates of one model.
model() { gzip -dc "$shf/candidates.jsonl.gz" | jq -c --arg m "$1" 'select(.model == $m)'; }

@test "--help prints the usage to stdout and exits 0" {
	run -0 --separate-stderr meteor-sim --help
	assert_line --index 0 'usage: meteor-sim pairs [-hqV] [--pairs all|n] [-s seed] [--text-field name]'
	[ -z "$stderr" ]
	run -0 meteor-sim score --help
	assert_line --index 0 --partial 'usage: meteor-sim score [-hqV]'
}

@test "NLTK's documented example: 0.6944; disjoint and empty texts: 0" {
	printf '%s\n' '{"hypothesis":"It is a guide to action which ensures that the military always obeys the commands of the party","reference":"It is a guide to action that ensures that the military will forever heed Party commands"}' \
	    '{"hypothesis":"non matching hypothesis","reference":"this is a cat"}' \
	    '{"hypothesis":"","reference":"this is a cat"}' > in.jsonl
	run -0 meteor-sim score -q in.jsonl
	assert_equal "$(jq -r .meteor <<< "$output" | paste -sd' ')" "0.6944444444444445 0 0"
	# the other fields pass through, meteor added last
	assert_line --index 1 '{"hypothesis":"non matching hypothesis","reference":"this is a cat","meteor":0}'
}

@test "parity: equal to NLTK 3.8 on 10,000 pairs of the paper's completions" {
	pairs 10000 > pairs.jsonl
	meteor-sim score -q pairs.jsonl | jq -r .meteor > ours.txt
	assert_equal "$(wc -l < ours.txt)" 10000
	# every score equal as a double to NLTK's (meteor-nltk.txt: repr())
	run -0 awk 'NR == FNR { want[FNR] = $1; next } $1 != want[FNR] + 0 { bad++ } END { print bad + 0; exit bad > 0 }' \
	    "$shf/meteor-nltk.txt" ours.txt
	# each stage matters on these pairs
	for st in exact exact,stem; do
		n=$(meteor-sim score -q --stages $st pairs.jsonl | jq -r .meteor |
		    awk 'NR == FNR { want[FNR] = $1; next } $1 != want[FNR] + 0 { n++ } END { print n + 0 }' "$shf/meteor-nltk.txt" -)
		[ "$n" -gt 1000 ]
	done
}

@test "parity, live: NLTK's meteor_score itself on 300 of the pairs" {
	pairs 300 > pairs.jsonl
	"$LOAM_TOP/tests/tools/nltk-meteor" < pairs.jsonl > nltk.txt
	meteor-sim score -q pairs.jsonl | jq -r .meteor > ours.txt
	run -0 awk 'NR == FNR { want[FNR] = $1; next } $1 != want[FNR] + 0 { bad++ } END { exit bad > 0 }' nltk.txt ours.txt
	cmp nltk.txt <(head -300 "$shf/meteor-nltk.txt")
}

@test "pairs all: the mean of score over every ordered pair, per group and overall" {
	printf '%s\n' '{"g":"a","completion":"the dog runs home"}' '{"g":"a","completion":"a dog ran home"}' \
	    '{"g":"a","completion":"the party obeys"}' '{"g":"b","completion":"cats sleep"}' \
	    '{"g":"b","completion":"cats sleep a lot"}' '{"g":"c","completion":"alone"}' > in.jsonl
	run -0 --separate-stderr meteor-sim pairs --group-field g in.jsonl
	assert_equal "${#lines[@]}" 4
	# independently: every ordered pair through score
	want=$(jq -c -s 'group_by(.g)[] | select(length > 1) | . as $t |
	    [range(length) as $i | range(length) as $j | select($i != $j) |
	     {g: $t[0].g, hypothesis: $t[$j].completion, reference: $t[$i].completion}][]' in.jsonl |
	    meteor-sim score -q | jq -s -c 'group_by(.g) | map({g: .[0].g, m: (map(.meteor) | add / length), n: length})')
	got=$(jq -s -c '[.[] | select(.type == "group" and .pairs > 0) | {g: .group, m: .meteor_similarity, n: .pairs}]' <<< "$output")
	assert_equal "$got" "$want"
	assert_line --index 2 '{"type":"group","group":"c","texts":1,"pairs":0,"meteor_similarity":null,"stderr":null}'
	assert_line --index 3 --partial '{"type":"overall","groups":3,"texts":6,"pairs":8,'
	[[ "$stderr" == 'meteor-sim: 3 groups, 6 texts, 8 pairs: METEOR similarity '* ]]
}

@test "the paper's claim: SuperHF without KL collapses (similarity ~0.6), with KL 0.35 not (~0.05)" {
	for m in shf-v4-llama-10000-kl-0 shf-v4-llama-10000-kl-0.35 llama-7b; do
		for st in exact exact,stem,synonym; do
			model $m | meteor-sim pairs -q --pairs 200 -s 1 --stages $st --delimiter '\n\nAssistant:' |
			    tail -n1 | jq -r --arg m $m --arg st $st '"\($m) \($st) \(.meteor_similarity) \(.pairs)"'
		done
	done > sims.txt
	cat sims.txt
	# 4 datasets x 200 draws x 2 orders
	awk '$4 != 1600 { exit 1 }' sims.txt
	awk '$1 == "shf-v4-llama-10000-kl-0" && !($3 > 0.5 && $3 < 0.8) { exit 1 }
	     $1 == "shf-v4-llama-10000-kl-0.35" && !($3 > 0.02 && $3 < 0.1) { exit 1 }
	     $1 == "llama-7b" && !($3 > 0.01 && $3 < 0.08) { exit 1 }' sims.txt
	# stems and synonyms only add matches
	awk '{ v[$1 " " $2] = $3 } END { for (k in v) if (k ~ / exact$/) { m = k; sub(/ exact$/, "", m)
	    if (v[m " exact,stem,synonym"] < v[k]) exit 1 } }' sims.txt
}

@test "the bootstrap: same seed, same bytes; another seed differs" {
	model llama-7b > in.jsonl
	meteor-sim pairs -q --pairs 50 -s 3 in.jsonl > a.jsonl
	meteor-sim pairs -q --pairs 50 -s 3 in.jsonl > b.jsonl
	meteor-sim pairs -q --pairs 50 -s 4 in.jsonl > c.jsonl
	cmp a.jsonl b.jsonl
	! cmp -s a.jsonl c.jsonl
	assert_equal "$(jq -s 'map(.pairs) | join(" ")' a.jsonl)" '"100 100 100 100 400"'
}

@test "--delimiter: only what follows the first delimiter is scored" {
	printf '%s\n' '{"hypothesis":"Q: x y z A: the cat","reference":"Q: p q r A: the cat"}' > in.jsonl
	run -0 meteor-sim score -q in.jsonl
	a=$(jq .meteor <<< "$output")
	run -0 meteor-sim score -q --delimiter 'A:' in.jsonl
	b=$(jq .meteor <<< "$output")
	[ "$a" != "$b" ]
	assert_equal "$b" "$(printf '%s\n' '{"hypothesis":" the cat","reference":" the cat"}' | meteor-sim score -q | jq .meteor)"
}

@test "bad input: missing field, wrong type, invalid UTF-8, options, missing WordNet" {
	printf '%s\n' '{"hypothesis":"a","reference":"a"}' '{"hypothesis":"a"}' > in.jsonl
	run -1 --separate-stderr meteor-sim score -q in.jsonl
	assert_equal "$stderr" "meteor-sim: in.jsonl:2: field 'reference' missing"
	printf '%s\n' '{"completion":"a","dataset":[1]}' > in.jsonl
	run -1 --separate-stderr meteor-sim pairs -q in.jsonl
	assert_equal "$stderr" "meteor-sim: in.jsonl:1: field 'dataset': expected a string or an integer"
	printf '{"hypothesis":"a\xff","reference":"a"}\n' > bad.jsonl
	run -1 --separate-stderr meteor-sim score -q bad.jsonl
	[[ "$stderr" == "meteor-sim: bad.jsonl:1:"*"invalid UTF-8"* ]]
	run -2 meteor-sim score --stages stem in.jsonl
	run -2 meteor-sim pairs --pairs 0 in.jsonl
	run -1 --separate-stderr meteor-sim score --wordnet /nonexistent in.jsonl
	[[ "$stderr" == *"/nonexistent/index.noun: cannot open"*"--stages exact,stem)" ]]
	run -0 meteor-sim score -q --stages exact,stem --wordnet /nonexistent < /dev/null
}

@test "-o keeps an existing file when the run fails; --skip-bad goes on" {
	printf '%s\n' '{"hypothesis":"a b","reference":"a"}' '{"hypothesis":"a"}' '{"hypothesis":"b","reference":"b"}' > in.jsonl
	echo old > out.jsonl
	run -1 meteor-sim score -q -o out.jsonl in.jsonl
	assert_equal "$(cat out.jsonl)" old
	run -0 --separate-stderr meteor-sim score -q --skip-bad -o out.jsonl in.jsonl
	assert_equal "$(wc -l < out.jsonl)" 2
}

@test "the man page EXAMPLES run" {
	cp "$shf/candidates.jsonl.gz" .
	man_text "$LOAM_TOP/man/meteor-sim.1" | sed -n '/^EXAMPLES/,/^SEE ALSO/p' |
	    sed -n 's/^[[:space:]]*\$ //p' > examples.sh
	[ "$(wc -l < examples.sh)" -ge 2 ]
	run -0 bash -e -o pipefail examples.sh
}
