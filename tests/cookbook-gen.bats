#!/usr/bin/env bats
# cookbook-gen: templates, generation, check, align (see man/cookbook-gen.1).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

TEMPLATES="docqa-span mcq-overlap yesno-contains entity-match entity-disambig continuation fill-blank two-choice lego addition"

@test "--help prints the usage to stdout and exits 0" {
	run -0 --separate-stderr cookbook-gen --help
	assert_line --index 0 'usage: cookbook-gen list [-hV]'
	[ -z "$stderr" ]
}

@test "the usage lines match the man page SYNOPSIS" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	run -0 bash -c "man_text '$LOAM_TOP/man/cookbook-gen.1' | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p'"
	for cmd in list gen check align mix; do
		assert_output --partial "cookbook-gen $cmd"
	done
}

@test "--version" {
	run -0 cookbook-gen --version
	assert_output --regexp '^cookbook-gen \(loam\) [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "a bad option is a usage error, exit 2" {
	run -2 --separate-stderr cookbook-gen gen --bogus docqa-span
	[ "${stderr_lines[0]}" = "cookbook-gen: unknown option '--bogus'" ]
}

@test "an unknown command or template is a usage error" {
	run -2 --separate-stderr cookbook-gen frobnicate
	[ "${stderr_lines[0]}" = "cookbook-gen: unknown command 'frobnicate'" ]
	run -2 --separate-stderr cookbook-gen gen nope
	[ "${stderr_lines[0]}" = "cookbook-gen: unknown template 'nope' (cookbook-gen list shows them)" ]
}

@test "list gives every template as a record" {
	run -0 cookbook-gen list
	[ "${#lines[@]}" -eq 10 ]
	for t in $TEMPLATES; do
		assert_output --partial "{\"name\":\"$t\""
	done
}

@test "every template's records pass check" {
	cookbook-gen gen -n 5000 -s 3 $TEMPLATES > all.jsonl
	run -0 --separate-stderr cookbook-gen check all.jsonl
	[ "$stderr" = "cookbook-gen: checked 5000 records: 0 mismatches" ]
}

@test "golden files: each template at seed 42" {
	for t in $TEMPLATES; do
		cookbook-gen gen -n 3 -s 42 "$t" > got.jsonl
		diff -u "$TESTDATA/cookbook-gen/$t.jsonl" got.jsonl
	done
}

@test "LEGO and addition strings have the reference format" {
	cookbook-gen gen -n 200 -s 1 --format text lego addition > t.jsonl
	run -0 grep -c '"text":"Give the value of the queried variable.\\n\\nInput:  *[a-z] = \(val [01]\|val [a-z]\|not [a-z]\) ,.*\. Output: [a-z] = val [01], "}' t.jsonl
	[ "$output" -gt 50 ]
	run -0 grep -c 'Input: A = [0-9] [0-9] [0-9] + [0-9] [0-9] [0-9] , A [0-2] = ? Output: [0-9]"}' t.jsonl
	[ "$output" -gt 50 ]
}

@test "shards concatenate to the unsharded output (N = 1, 3, 7)" {
	cookbook-gen gen -n 1000 -s 9 docqa-span lego fill-blank > one.jsonl
	for n in 1 3 7; do
		rm -f cat.jsonl
		for i in $(seq 0 $((n - 1))); do
			cookbook-gen gen -n 1000 -s 9 --shard "$i/$n" docqa-span lego fill-blank >> cat.jsonl
		done
		cmp one.jsonl cat.jsonl
	done
}

@test "--mix counts are exact: floor(p*N), remainder by largest fraction" {
	printf 'docqa-span: 0.5\nlego: 0.3\naddition: 0.2\n' > mix.yaml
	cookbook-gen gen -n 1001 --mix mix.yaml > m.jsonl
	[ "$(grep -c '"template":"docqa-span"' m.jsonl)" -eq 501 ]
	[ "$(grep -c '"template":"lego"' m.jsonl)" -eq 300 ]
	[ "$(grep -c '"template":"addition"' m.jsonl)" -eq 200 ]
	printf '{"two-choice": 1, "fill-blank": 2}' > mix.json
	cookbook-gen gen -n 10 --mix mix.json > m.jsonl
	[ "$(grep -c '"template":"fill-blank"' m.jsonl)" -eq 7 ]
}

@test "--mix errors name file:line:column" {
	printf 'docqa-span: 1\nnope: 2\n' > bad.yaml
	run -1 --separate-stderr cookbook-gen gen --mix bad.yaml
	[ "$stderr" = "cookbook-gen: bad.yaml:2:7: unknown template 'nope' (cookbook-gen list shows them)" ]
	printf 'docqa-span: -1\n' > neg.yaml
	run -1 --separate-stderr cookbook-gen gen --mix neg.yaml
	[ "$stderr" = "cookbook-gen: neg.yaml:1:13: template 'docqa-span': weight must be a number >= 0" ]
}

@test "formats: alpaca, chat, text" {
	run -0 cookbook-gen gen -n 1 --format alpaca addition
	assert_output --regexp '^\{"instruction":"[^"]*","input":"Input: A = [0-9 ]+\+[0-9 ]+, A [0-2] = \? Output: ","output":"[0-9]"\}$'
	run -0 cookbook-gen gen -n 1 --format chat two-choice
	assert_output --regexp '^\{"messages":\[\{"role":"user","content":"[^"]*\\nOptions:\\n- [^"]*"\},\{"role":"assistant","content":"[^"]*"\}\]\}$'
	run -0 cookbook-gen gen -n 1 --format text lego
	assert_output --regexp '^\{"text":"Give the value'
}

@test "parameters: -p and template.name; bad values name the option" {
	run -0 cookbook-gen gen -n 1 -p docqa-span.doc_len=16 docqa-span
	[ "$(echo "$output" | sed 's/.*"input":"Document: \([^\\]*\)\\n.*/\1/' | wc -w)" -eq 16 ]
	run -2 --separate-stderr cookbook-gen gen -n 1 -p nosuch=3 docqa-span
	[ "${stderr_lines[0]}" = "cookbook-gen: --param: no template has a parameter 'nosuch'" ]
}

@test "check reports a mismatch with file:line and exits 1" {
	cookbook-gen gen -n 3 -s 1 addition > a.jsonl
	sed '2s/"output":"[0-9]"/"output":"x"/' a.jsonl > bad.jsonl
	run -1 --separate-stderr cookbook-gen check bad.jsonl
	[[ "${stderr_lines[0]}" == "cookbook-gen: bad.jsonl:2: template 'addition': output 'x' is not the rule's "* ]]
}

@test "check: a malformed record names file:line" {
	printf '{"template":"lego"}\n{"template":' > bad.jsonl
	run -1 --separate-stderr cookbook-gen check bad.jsonl
	[ "$stderr" = "cookbook-gen: bad.jsonl:1: field 'input' missing" ]
	printf '{"template":"lego",' > bad2.jsonl
	run -1 --separate-stderr cookbook-gen check bad2.jsonl
	[[ "$stderr" == "cookbook-gen: bad2.jsonl:1:"* ]]
}

@test "check: empty input, missing final newline, missing file" {
	run -0 cookbook-gen check -q < /dev/null
	cookbook-gen gen -n 2 lego | head -c -1 > nonl.jsonl
	run -0 cookbook-gen check -q nonl.jsonl
	run -1 --separate-stderr cookbook-gen check -q missing.jsonl
	[ "$stderr" = "cookbook-gen: missing.jsonl: No such file or directory" ]
}

@test "a full disk is an error, exit 1; a closed pipe is quiet" {
	run -1 --separate-stderr bash -c 'cookbook-gen gen -n 10 lego > /dev/full'
	[ "$stderr" = "cookbook-gen: stdout: write error: No space left on device" ]
	run -0 --separate-stderr bash -c 'cookbook-gen gen -n 1000000 lego | head -n1'
	[ "${#lines[@]}" -eq 1 ] && [ -z "$stderr" ]
}

@test "determinism: same seed, same bytes; another seed differs" {
	cookbook-gen gen -n 500 -s 5 mcq-overlap continuation > a.jsonl
	cookbook-gen gen -n 500 -s 5 mcq-overlap continuation > b.jsonl
	cookbook-gen gen -n 500 -s 6 mcq-overlap continuation > c.jsonl
	cmp a.jsonl b.jsonl
	! cmp -s a.jsonl c.jsonl
}

@test "-o keeps an existing file when the run fails" {
	echo precious > out.jsonl
	run -2 cookbook-gen gen -o out.jsonl -n 5 nosuch
	[ "$(cat out.jsonl)" = precious ]
	run -0 cookbook-gen gen -o out.jsonl -n 5 -q lego
	[ "$(wc -l < out.jsonl)" -eq 5 ]
}

@test "--vocab: tokens from a file; errors with file:line" {
	printf 'alpha\nbeta\ngamma\n' > v.txt
	for i in $(seq 1 200); do echo "tok$i"; done >> v.txt
	cookbook-gen gen -n 50 --vocab v.txt docqa-span > g.jsonl
	run -0 cookbook-gen check -q g.jsonl
	printf 'ok\nbad token\n' > bad.txt
	run -1 --separate-stderr cookbook-gen gen -n 1 --vocab bad.txt docqa-span
	[[ "$stderr" == "cookbook-gen: bad.txt:2: "* ]]
}

@test "align: hand-computed alignment, rule accuracy and the split" {
	cat > tasks.jsonl <<'J'
{"task":"arc","input":"plants need sunlight and water to grow","options":["sunlight and water","rocks","sand and salt"],"answer":0,"generation":"sunlight and water"}
{"task":"arc","input":"the moon orbits the earth","options":["the sun","the earth orbits","moon rock"],"answer":0,"generation":"the sun"}
{"task":"arc","input":"fish live in water","options":["in water","on land"],"answer":0,"generation":"on land"}
J
	run -0 cookbook-gen align --templates two-choice,mcq-overlap tasks.jsonl
	# By hand (context = question = input): the rules pick options 0, 1, 0
	# ("the earth orbits" shares 3 words with record 2); gold is 0, 0, 0;
	# generations match the rule on record 1 only, and gold on 1 and 2.
	want='"n":3,"alignment":0.3333333333333333,"rule_failures":0,"n_gold":3,"rule_accuracy":0.6666666666666666,"model_accuracy":0.6666666666666666,"model_accuracy_rule_right":0.5,"model_accuracy_rule_wrong":1}'
	assert_line --index 0 "{\"template\":\"two-choice\",\"task\":\"arc\",$want"
	assert_line --index 1 "{\"template\":\"mcq-overlap\",\"task\":\"arc\",$want"
	# A template with options on a record without: the rule abstains.
	echo '{"input":"a b c","generation":"x"}' > noopt.jsonl
	run -0 cookbook-gen align --templates fill-blank noopt.jsonl
	assert_output '{"template":"fill-blank","task":"-","n":1,"alignment":0,"rule_failures":1,"n_gold":0,"rule_accuracy":null,"model_accuracy":null,"model_accuracy_rule_right":null,"model_accuracy_rule_wrong":null}'
}

@test "the man page EXAMPLES run" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	man_text "$LOAM_TOP/man/cookbook-gen.1" |
		sed -n '/^EXAMPLES/,/^SEE ALSO/p' | sed -n 's/^[[:space:]]*\$ //p' > examples.sh
	[ "$(wc -l < examples.sh)" -ge 5 ]
	run -0 bash -e examples.sh
	[ "$(wc -l < train.jsonl)" -eq 10000 ]
}

@test "mix: too few distinct rules on a task is a clear error" {
	cookbook-gen gen -n 200 -s 4 mcq-overlap | sed 's/"template":"mcq-overlap"/"task":"A"/' > t.jsonl
	run -1 --separate-stderr cookbook-gen mix t.jsonl
	[ "${stderr_lines[0]}" = "cookbook-gen: task 'A': 2 distinct voting rules, the label model needs 3" ]
	[ "${stderr_lines[1]}" = "cookbook-gen: no template's accuracy could be estimated on any task" ]
	run -2 --separate-stderr cookbook-gen mix --temperature 0 t.jsonl
	[ "${stderr_lines[0]}" = "cookbook-gen: --temperature: '0' is not a number in [1e-06, 1e+06]" ]
}

@test "mix: precomputed outputs, checked against the triplet method by hand" {
	# Three yes/no rules on 16 items (and their mirror images): all agree
	# on 10, r1 alone differs on 1, r2 alone on 1, r3 alone on 4.  Second
	# moments M12 = 12/16, M13 = M23 = 6/16; the triplet method gives
	# e1 = e2 = sqrt(M12 M13 / M23) = sqrt(.75), e3 = sqrt(.1875), so the
	# accuracies (1 + e)/2 are 0.9330127 and 0.7165064, and with T = 0.1
	# the weights are 1/(2 + exp(-2.1650635)) = 0.4728708 (twice) and
	# 0.0542584.
	for rep in $(seq 1 25); do
		for flip in 0 1; do
			y=yes n=no
			[ $flip = 1 ] && { y=no n=yes; }
			o() { echo "{\"task\":\"T\",\"outputs\":{\"r1\":\"$1\",\"r2\":\"$2\",\"r3\":\"$3\"}}"; }
			for i in 1 2 3 4 5; do o $y $y $y; o $n $n $n; done
			o $n $y $y; o $y $n $y
			for i in 1 2; do o $y $y $n; o $n $n $y; done
		done
	done > ext.jsonl
	run -0 cookbook-gen mix --details ext.jsonl
	assert_line --index 0 --regexp '"template":"r1","task":"T","examples":800,"accuracy":0\.933012701892219'
	assert_line --index 2 --regexp '"template":"r3","task":"T","examples":800,"accuracy":0\.716506350946109'
	run -0 cookbook-gen mix ext.jsonl
	assert_output --regexp '^\{"r1":0\.472870777614871[0-9]*,"r2":0\.472870777614871[0-9]*,"r3":0\.054258444770256[0-9]*\}$'
	# The map is a --mix file as it is.
	cookbook-gen mix -o mix.json ext.jsonl
	run -1 --separate-stderr cookbook-gen gen -n 10 --mix mix.json
	[ "$stderr" = "cookbook-gen: mix.json:1:7: unknown template 'r1' (cookbook-gen list shows them)" ]
}

# The input fields of records, one a line (lego and addition inputs hold no
# quotes).
inputs() {
	grep -o '"input":"[^"]*"' "$@"
}

@test "--unique: lego k=2 has repeats, and none with --unique; check passes" {
	cookbook-gen gen -n 5000 -p k=2 lego > plain.jsonl
	cookbook-gen gen -n 5000 -p k=2 --unique lego > uniq.jsonl
	[ "$(inputs plain.jsonl | sort | uniq -d | wc -l)" -gt 500 ]
	[ "$(wc -l < uniq.jsonl)" -eq 5000 ]
	[ "$(inputs uniq.jsonl | sort | uniq -d | wc -l)" -eq 0 ]
	run -0 --separate-stderr cookbook-gen check uniq.jsonl
	[ "$stderr" = "cookbook-gen: checked 5000 records: 0 mismatches" ]
	# a repeat is replaced in its place: the records before the plain
	# run's first repeat are the same, that one is not
	first=$(inputs plain.jsonl | awk 'seen[$0]++ { print NR; exit }')
	[ "$first" -gt 1 ]
	cmp <(head -n $((first - 1)) plain.jsonl) <(head -n $((first - 1)) uniq.jsonl)
	! cmp -s <(sed -n "${first}p" plain.jsonl) <(sed -n "${first}p" uniq.jsonl)
	[ "$(sed -n "${first}p" uniq.jsonl | grep -o '"id":[0-9]*')" = "\"id\":$((first - 1))" ]
}

@test "--unique: every distinct example when -n is exactly their number" {
	cookbook-gen gen -n 10400 -p k=2 --unique lego > l.jsonl
	[ "$(inputs l.jsonl | sort -u | wc -l)" -eq 10400 ]
	cookbook-gen gen -n 19602 -p addition.k=2 --unique addition > a.jsonl
	[ "$(inputs a.jsonl | sort -u | wc -l)" -eq 19602 ]
}

@test "--unique: same seed, same bytes; another seed differs; no repeats, no change" {
	cookbook-gen gen -n 3000 -s 5 -p k=2 --unique lego addition > a.jsonl
	cookbook-gen gen -n 3000 -s 5 -p k=2 --unique lego addition > b.jsonl
	cookbook-gen gen -n 3000 -s 6 -p k=2 --unique lego addition > c.jsonl
	cmp a.jsonl b.jsonl
	! cmp -s a.jsonl c.jsonl
	# where the plain run has no repeats --unique changes nothing
	cookbook-gen gen -n 2000 -s 5 docqa-span fill-blank > p.jsonl
	cookbook-gen gen -n 2000 -s 5 --unique docqa-span fill-blank | cmp - p.jsonl
}

@test "--unique --shard: each part unique, parts may repeat each other" {
	cookbook-gen gen -n 9000 -p k=2 lego addition --unique --shard 0/3 > s0.jsonl
	cookbook-gen gen -n 9000 -p k=2 lego addition --unique --shard 1/3 > s1.jsonl
	cookbook-gen gen -n 9000 -p k=2 lego addition --unique --shard 2/3 > s2.jsonl
	for i in 0 1 2; do
		[ "$(wc -l < s$i.jsonl)" -eq 3000 ]
		[ "$(inputs s$i.jsonl | sort | uniq -d | wc -l)" -eq 0 ]
	done
	[ "$(cat s0.jsonl s1.jsonl s2.jsonl | inputs | sort | uniq -d | wc -l)" -gt 0 ]
	# 20000 lego examples are more than k=2's 10400, half of them not
	cookbook-gen gen -n 20000 -p k=2 --unique --shard 1/2 lego > half.jsonl
	[ "$(inputs half.jsonl | sort -u | wc -l)" -eq 10000 ]
}

@test "--unique: too few distinct examples is an error, exit 1" {
	run -1 --separate-stderr cookbook-gen gen -n 10401 -p k=2 --unique lego
	[ "$stderr" = "cookbook-gen: lego (k=2 skill=-1) has 10400 distinct examples; --unique cannot make 10401" ]
	[ -z "$output" ]
	run -1 --separate-stderr cookbook-gen gen -n 120 -p lego.k=1 -p lego.skill=0 --unique lego addition
	[ "$stderr" = "cookbook-gen: lego (k=1 skill=0) has 52 distinct examples; --unique cannot make 60" ]
	run -1 --separate-stderr cookbook-gen gen -n 20802 -p k=2 --unique --shard 0/2 lego
	[ "$stderr" = "cookbook-gen: lego (k=2 skill=-1) has 10400 distinct examples; --unique cannot make 10401" ]
	# uncounted templates: the bound on rejected draws, and -o stays unmade
	printf 'aa\nbb\ncc\n' > v.txt
	run -1 --separate-stderr cookbook-gen gen -n 100 --vocab v.txt -p goal_len=1 -p solution_len=1 --unique -o t.jsonl two-choice
	[[ "$stderr" == "cookbook-gen: two-choice: 1048576 draws in a row repeated earlier examples ("*" distinct made): too few distinct examples for --unique" ]]
	[ ! -e t.jsonl ]
}

@test "align: 20k distinct tasks, each seen twice, cells in input order" {
	# The cells are found through a hash table (a scan per record was
	# quadratic: 40k tasks took 2.5 s, 160k a minute); no timing here,
	# only that many cells come out whole and in order.
	awk 'BEGIN { for (i = 0; i < 40000; i++)
	    printf "{\"task\":\"t%d\",\"input\":\"fish live in water\",\"options\":[\"in water\",\"on land\"],\"answer\":0,\"generation\":\"on land\"}\n", i % 20000 }' > tasks.jsonl
	run -0 cookbook-gen align --templates two-choice,mcq-overlap tasks.jsonl
	[ "${#lines[@]}" -eq 40000 ]
	assert_line --index 0 --partial '{"template":"two-choice","task":"t0","n":2,'
	assert_line --index 1 --partial '{"template":"mcq-overlap","task":"t0","n":2,'
	assert_line --index 39999 --partial '{"template":"mcq-overlap","task":"t19999","n":2,'
}
