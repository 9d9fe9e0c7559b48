#!/usr/bin/env bats
# superhf-filter: SuperHF's best-of-n filter (see man/superhf-filter.1).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# cand ID SCORE TEXT: one candidate record.
cand() { printf '{"prompt_id":"%s","completion":"%s","score":%s}\n' "$1" "$3" "$2"; }

# candidates N G: N candidates in groups of G (interleaved: record i is in
# group i % (N / G)), ~120 bytes of text each, scores from a fixed LCG.
candidates() {
	awk -v n="$1" -v g="$2" 'BEGIN {
		groups = int(n / g); s = 12345
		for (i = 0; i < n; i++) {
			s = (s * 1103515245 + 12345) % 2147483648
			printf "{\"prompt_id\":\"p%d\",\"completion\":\"answer number %d of a candidate, padded out to look like a real completion of sorts\",\"score\":%.6f}\n", i % groups, i, s / 2147483648
		}
	}'
}

@test "--help prints the usage to stdout and exits 0" {
	run -0 --separate-stderr superhf-filter --help
	assert_line --index 0 --partial 'usage: superhf-filter [-hqV]'
	[ -z "$stderr" ]
}

@test "top-1 per group, ties to the first, the four fields added, best first" {
	{
		cand a 1 x1; cand b 5 y1; cand a 3 x2; cand b 5 y2; cand a 3 x3; cand c -1 z1
	} > in.jsonl
	run -0 --separate-stderr superhf-filter -q in.jsonl
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 '{"prompt_id":"a","completion":"x2","score":3,"rank":1,"n_candidates":3,"score_mean":2.3333333333333335,"score_std":0.9428090415820634}'
	assert_line --index 1 '{"prompt_id":"b","completion":"y1","score":5,"rank":1,"n_candidates":2,"score_mean":5,"score_std":0}'
	assert_line --index 2 '{"prompt_id":"c","completion":"z1","score":-1,"rank":1,"n_candidates":1,"score_mean":-1,"score_std":0}'
	run -0 superhf-filter -q --top-k 2 in.jsonl
	assert_equal "${#lines[@]}" 5
	[[ "${lines[0]}" == *'"x2",'*'"rank":1,'* ]] && [[ "${lines[1]}" == *'"x3",'*'"rank":2,'* ]]
	[[ "${lines[2]}" == *'"y1",'*'"rank":1,'* ]] && [[ "${lines[3]}" == *'"y2",'*'"rank":2,'* ]]
}

@test "--sorted gives the same records as the interleaved default on sorted input" {
	candidates 2000 16 | sort -t'"' -k4,4 -s > in.jsonl
	superhf-filter -q --top-k 3 in.jsonl > a.jsonl
	superhf-filter -q --top-k 3 --sorted in.jsonl > b.jsonl
	[ -s a.jsonl ]
	cmp a.jsonl b.jsonl
	# A group that comes back after it ended is an error naming the line.
	{ cand a 1 x; cand b 1 y; cand a 2 z; } > bad.jsonl
	run -1 --separate-stderr superhf-filter -q --sorted bad.jsonl
	assert_equal "$stderr" "superhf-filter: bad.jsonl:3: group 'a' again after it ended: the input is not sorted by prompt_id (leave out --sorted)"
}

@test "trimming: prompt delimiter, invented turns, white space; prompt added" {
	printf '%s\n' '{"prompt_id":1,"completion":"\n\nHuman: hi?\n\nAssistant:  Hello!\n\nHuman: more","score":1}' > in.jsonl
	run -0 superhf-filter -q in.jsonl
	assert_output '{"prompt_id":1,"completion":"Hello!","score":1,"prompt":"\n\nHuman: hi?\n\nAssistant:","rank":1,"n_candidates":1,"score_mean":1,"score_std":0}'
	run -0 superhf-filter -q --no-trim in.jsonl
	[[ "$output" == '{"prompt_id":1,"completion":"\n\nHuman: hi?\n\nAssistant:  Hello!\n\nHuman: more","score":1,"rank":1,'* ]]
	# Options spell newlines as \n.
	printf '%s\n' '{"prompt_id":1,"completion":"Q: x\n\nA: the answer###tail","score":1}' > in2.jsonl
	run -0 superhf-filter -q --delimiter '\n\nA:' --trim-regex '###' in2.jsonl
	[[ "$output" == '{"prompt_id":1,"completion":"the answer","score":1,"prompt":"Q: x\n\nA:",'* ]]
}

@test "empty completions go; --min-chars counts characters; --length-penalty shapes" {
	{ cand a 9 ""; cand a 1 "é"; cand a 2 "  "; cand a 0 "abc"; } > in.jsonl
	run -0 superhf-filter -q in.jsonl
	[[ "$output" == '{"prompt_id":"a","completion":"é","score":1,"rank":1,"n_candidates":2,'* ]]
	run -0 superhf-filter -q --min-chars 2 in.jsonl
	[[ "$output" == *'"completion":"abc"'*'"n_candidates":1,'* ]]
	{ cand b 1 "aaaa"; cand b 1.5 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; } > len.jsonl
	run -0 superhf-filter -q len.jsonl
	[[ "$output" == *'"score":1.5,'* ]]
	run -0 superhf-filter -q --length-penalty 0.25 len.jsonl
	[[ "$output" == '{"prompt_id":"b","completion":"aaaa","score":1,"score_shaped":0.6534264097200273,'* ]]
}

@test "--min-score and --margin (RAFT) drop kept records below the bar" {
	{ cand a 1 x; cand a 2 y; cand a 9 z; cand b 1 u; cand b 1.1 v; } > in.jsonl
	run -0 superhf-filter -q --min-score 2 in.jsonl
	assert_equal "${#lines[@]}" 1
	run -0 superhf-filter -q --margin 1 in.jsonl
	# a: mean 4, 9 beats it by 5; b: mean 1.05, 1.1 beats it by 0.05 < 1.
	assert_equal "${#lines[@]}" 1
	[[ "$output" == *'"z"'* ]]
}

@test "summary: stderr line and --summary record; KL estimate from logp, ref_logp" {
	printf '%s\n' '{"prompt_id":"a","completion":"xx","score":1,"logp":-3,"ref_logp":-4}' \
	    '{"prompt_id":"a","completion":"","score":5,"logp":-2,"ref_logp":-2}' \
	    '{"prompt_id":"b","completion":"yyyy","score":3,"logp":-1,"ref_logp":-1.5}' > in.jsonl
	run -0 --separate-stderr superhf-filter --summary sum.json --meteor-pairs 0 in.jsonl
	assert_equal "$stderr" "superhf-filter: 2 groups, 1.5 candidates each, 2 kept: score 2 -> 2, length 3.0, KL 0.5"
	run -0 cat sum.json
	assert_output '{"type":"summary","groups":2,"candidates":3,"n_mean":1.5,"dropped_short":1,"kept":2,"score_mean_all":2,"score_mean_kept":2,"len_mean_kept":3,"kl_estimate":0.5}'
}

@test "bad input: missing or mistyped fields name file:line; --skip-bad goes on" {
	printf '%s\n' '{"prompt_id":"a","completion":"x","score":1}' '{"prompt_id":"a","completion":"x"}' > in.jsonl
	run -1 --separate-stderr superhf-filter -q in.jsonl
	assert_equal "$stderr" "superhf-filter: in.jsonl:2: field 'score' missing"
	printf '%s\n' '{"prompt_id":[1],"completion":"x","score":1}' > t.jsonl
	run -1 --separate-stderr superhf-filter -q t.jsonl
	assert_equal "$stderr" "superhf-filter: t.jsonl:1: field 'prompt_id': expected a string or an integer"
	printf '%s\n' '{"prompt_id":"a","completion":"x","score":"high"}' > s.jsonl
	run -1 --separate-stderr superhf-filter -q s.jsonl
	[[ "$stderr" == "superhf-filter: s.jsonl:1: field 'score': expected a number"* ]]
	printf '%s\n' '{"prompt_id":"a","completion":"x","score":1e999}' > n.jsonl
	run -1 --separate-stderr superhf-filter -q n.jsonl
	[[ "$stderr" == "superhf-filter: n.jsonl:1:"* ]]
	cat in.jsonl s.jsonl > mixed.jsonl
	run -0 --separate-stderr superhf-filter -q --skip-bad mixed.jsonl
	assert_equal "${#lines[@]}" 1
	[[ "$stderr" == *"skipped 2 bad lines" ]]
	run -2 --separate-stderr superhf-filter --trim-regex '(' in.jsonl
	[[ "${stderr_lines[0]}" == "superhf-filter: --trim-regex: "* ]]
}

@test "an existing output survives a failed run" {
	cand a 1 x > ok.jsonl
	superhf-filter -q -o out.jsonl ok.jsonl
	cp out.jsonl before.jsonl
	printf '%s\n' '{"prompt_id":"a"}' >> ok.jsonl
	run -1 superhf-filter -q -o out.jsonl --summary sum.json ok.jsonl
	cmp out.jsonl before.jsonl
	[ ! -e sum.json ]
}

@test "memory is O(groups x k), not O(candidates); --sorted holds one group" {
	command -v /usr/bin/time >/dev/null || skip "time(1) not installed"
	rss() {
		candidates "$1" "$2" | /usr/bin/time -f %M superhf-filter -q $3 2>&1 >/dev/null | tail -n1
	}
	# 1000 groups either way: 10^5 and 10^6 candidates.
	small=$(rss 100000 100 "")
	large=$(rss 1000000 1000 "")
	echo "interleaved, 1000 groups: max RSS $small KiB at 10^5 candidates, $large KiB at 10^6" >&3
	[ "$large" -lt $((small * 3 / 2)) ]
	# Sorted: 10^6 candidates in 62500 groups, one held at a time.
	candidates 1000000 16 | sort -t'"' -k4,4 -s > sorted.jsonl
	sorted=$(/usr/bin/time -f %M superhf-filter -q --sorted sorted.jsonl 2>&1 >/dev/null | tail -n1)
	interleaved=$(/usr/bin/time -f %M superhf-filter -q sorted.jsonl 2>&1 >/dev/null | tail -n1)
	echo "62500 groups: max RSS $sorted KiB sorted, $interleaved KiB interleaved" >&3
	[ "$sorted" -lt "$interleaved" ]
}

@test "deterministic: the same input gives byte-identical output" {
	candidates 5000 16 > in.jsonl
	superhf-filter -q --top-k 2 in.jsonl > a
	superhf-filter -q --top-k 2 in.jsonl > b
	cmp a b
}

@test "best-of-n on the paper's completions: the choices and the summary, checked independently" {
	gzip -dc "$LOAM_TOP/testdata/external/superhf/candidates.jsonl.gz" > cands.jsonl
	run -0 --separate-stderr superhf-filter --summary sum.json --meteor-pairs 1000000 -o kept.jsonl cands.jsonl
	# The same selection in Python, from SuperHF's own rules: the text
	# after the prompt delimiter, cut at the first "\n\n<role>:", "Human"
	# or "Assistant", stripped; empty ones dropped; the best score, the
	# earliest on ties.
	"$LOAM_TOP/tests/tools/superhf-best-of-n" cands.jsonl > want.txt
	jq -r '"\(.prompt_id) \(.model)"' kept.jsonl > got.txt
	diff <(tail -n +2 want.txt) got.txt
	read -r n mean_kept len_kept mean_all < want.txt
	assert_equal "$(jq .kept sum.json)" "$n"
	# the means agree to the last bits (summation order aside)
	jq -e --argjson k "$mean_kept" --argjson l "$len_kept" --argjson a "$mean_all" \
	    '((.score_mean_kept - $k) | fabs) < 1e-12 and ((.len_mean_kept - $l) | fabs) < 1e-9 and
	     ((.score_mean_all - $a) | fabs) < 1e-12' sum.json
	# SuperHF-Instruct-like pooling: the best-of-8 beats every model's mean
	[ "$(jq '.score_mean_kept > -1 and .score_mean_all < -2' sum.json)" = true ]
	# the summary's METEOR similarity is meteor-sim's over the kept texts
	assert_equal "$(jq .meteor_pairs sum.json)" 639200
	want=$(meteor-sim pairs -q --group-field '' kept.jsonl | tail -n1 | jq .meteor_similarity)
	jq -e --argjson w "$want" '((.meteor_similarity_kept - $w) | fabs) < 1e-12' sum.json
}
