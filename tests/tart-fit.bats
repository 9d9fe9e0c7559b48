#!/usr/bin/env bats
# tart-fit: TART's reasoning module (see man/tart-fit.1).

load helper

# A tiny module trained in a few seconds, shared by the tests of a run.
tiny_model() {
	local m=$BATS_FILE_TMPDIR/tiny.safetensors
	if [ ! -f "$m" ]; then
		tart-fit train -q --config tiny --positions 130 --batch 8 --steps 40 \
		    --dims 4:16:4:10 --points 6:40:17:15 --lr 1e-3 -s 1 -o "$m" >&2
	fi
	echo "$m"
}

# N records of D-dimensional Gaussian embeddings whose label is the sign
# of their first coordinate plus a little of the second (awk, seeded).
make_data() {
	awk -v n="$1" -v d="$2" -v seed="$3" 'BEGIN {
		srand(seed)
		for (i = 0; i < n; i++) {
			s = "["
			for (j = 0; j < d; j++) {
				u = rand(); v = rand(); if (u < 1e-12) u = 1e-12
				x[j] = sqrt(-2 * log(u)) * cos(6.283185307179586 * v)
				s = s (j ? "," : "") sprintf("%.6f", x[j])
			}
			printf "{\"id\":%d,\"embedding\":%s],\"label\":%d}\n", i, s, (x[0] + 0.3 * x[1] > 0)
		}
	}'
}

# same_p A B: line by line, A's and B's tart_p agree within 1e-5 relative.
same_p() {
	paste -d'\t' "$1" "$2" | awk -F'\t' '{
		match($1, /"tart_p":[^,}]*/); a = substr($1, RSTART + 9, RLENGTH - 9)
		match($2, /"tart_p":[^,}]*/); b = substr($2, RSTART + 9, RLENGTH - 9)
		d = a - b; if (d < 0) d = -d
		if (d > 1e-5 * (a > 1e-3 ? a : 1e-3)) { print "line " NR ": " a " vs " b; bad = 1 }
	} END { exit bad }'
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "--help prints the usage to stdout and exits 0" {
	run -0 --separate-stderr tart-fit --help
	assert_line --index 0 --partial 'usage: tart-fit train [-hqV] [--config tiny|small|standard]'
	[ -z "$stderr" ]
	run -0 tart-fit predict --help
	assert_output --partial 'Adds tart_p'
	assert_line --index 1 --partial '[--heads n]'
	run -0 tart-fit eval --help
	assert_line --index 1 --partial '[--heads n]'
}

@test "the usage lines match the man page SYNOPSIS" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	run -0 bash -c "man_text '$LOAM_TOP/man/tart-fit.1' | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p'"
	for opt in --config --layers --width --heads --positions --steps --batch --lr --alpha \
	    --dims --points --checkpoint-every --log-every --resume --train --components \
	    --no-cache --field --label-field --embeddings --ks --tasks --queries --C \
	    --decay --orders --init; do
		assert_output --partial -- "$opt"
	done
}

@test "usage errors exit 2" {
	run -2 --separate-stderr tart-fit --bogus
	[ "${stderr_lines[0]}" = "tart-fit: unknown option '--bogus'" ]
	run -2 --separate-stderr tart-fit train --config huge -o m
	[ "${stderr_lines[0]}" = "tart-fit: --config: 'huge' is not tiny, small or standard" ]
	run -2 --separate-stderr tart-fit train --config tiny
	[ "${stderr_lines[0]}" = "tart-fit: train: -o model file required" ]
	run -2 --separate-stderr tart-fit train --dims 4:20:4:10 -o m
	[ "${stderr_lines[0]}" = "tart-fit: --dims: end 20 is more than the 16 input dimensions" ]
	run -2 --separate-stderr tart-fit predict --train t.jsonl
	[ "${stderr_lines[0]}" = "tart-fit: predict: -m model required" ]
}

@test "train is deterministic, and --resume continues exactly" {
	args="--config tiny --positions 20 --batch 4 --steps 12 --dims 4:16:4:3 --points 6:20:7:4 -s 5"
	run -0 tart-fit train -q $args -o a.safetensors
	run -0 tart-fit train -q $args -o b.safetensors
	cmp a.safetensors b.safetensors
	# stop at 8, then resume to 12
	run -0 tart-fit train -q ${args/--steps 12/--steps 8} -o c.safetensors
	[ -f c.safetensors.ckpt ] && [ -f c.safetensors.ckpt.adam ]
	run -0 tart-fit train -q --resume --steps 12 -o c.safetensors
	cmp a.safetensors c.safetensors
	# with a learning-rate decay, kept in __metadata__ for the resume
	run -0 tart-fit train -q $args --decay 5:11:1e-5 -o d.safetensors
	grep -a -q '"decay":"5:11:9.99999975e-06"' d.safetensors
	! cmp -s a.safetensors d.safetensors
	run -0 tart-fit train -q ${args/--steps 12/--steps 7} --decay 5:11:1e-5 -o e.safetensors
	run -0 tart-fit train -q --resume --steps 12 -o e.safetensors
	cmp d.safetensors e.safetensors
	# --init: another run from these weights, with a fresh Adam; resumable
	run -0 tart-fit train -q --init a.safetensors --dims 16:16:0:1 --points 20:20:0:1 \
	    --batch 4 --steps 6 -s 6 -o f.safetensors
	grep -a -q '"init":"a.safetensors"' f.safetensors
	grep -a -q '"n_positions":"40"' f.safetensors
	run -0 tart-fit train -q --init a.safetensors --dims 16:16:0:1 --points 20:20:0:1 \
	    --batch 4 --steps 3 -s 6 -o g.safetensors
	run -0 tart-fit train -q --resume --steps 6 -o g.safetensors
	cmp f.safetensors g.safetensors
	run -2 --separate-stderr tart-fit train --init a.safetensors --layers 6 -o g.safetensors
	[ "${stderr_lines[0]}" = "tart-fit: train: --init takes the sizes of its module; no --config, --layers, --width, --heads or --positions" ]
	run -2 --separate-stderr tart-fit train --init a.safetensors --resume -o g.safetensors
	[ "${stderr_lines[0]}" = "tart-fit: train: --init starts a run, --resume continues one" ]
	run -1 --separate-stderr tart-fit train --init nosuch.safetensors -o h.safetensors
	[[ ${stderr_lines[0]} == "tart-fit: nosuch.safetensors: "* ]]
	[ ! -e h.safetensors ]
	run -2 --separate-stderr tart-fit train --decay 9:3:0 -o m
	[ "${stderr_lines[0]}" = "tart-fit: --decay: '9:3:0' is not start:end:min with start < end and 0 <= min <= 10" ]
}

@test "the model file has the reference's names and every setting in __metadata__" {
	m=$(tiny_model)
	for key in _read_in.weight _backbone.wpe.weight _backbone.h.2.attn.c_attn.weight \
	    _backbone.ln_f.bias _read_out.weight n_positions n_layer n_head n_embd alpha \
	    dims points step; do
		grep -a -q -- "\"$key\"" "$m" || { echo "missing $key"; false; }
	done
}

@test "train: a progress line per --log-every when stderr is not a terminal" {
	run -0 --separate-stderr tart-fit train --config tiny --positions 20 --batch 4 \
	    --steps 6 --log-every 3 --dims 4:4:0:1 --points 6:6:0:1 -o m.safetensors
	[[ ${stderr_lines[1]} == "tart-fit: step 3/6  loss "*"steps/s  eta "* ]]
	[[ ${stderr_lines[3]} == "tart-fit: steps: 6 in "* ]]
}

@test "predict: cached and uncached agree, labels and probabilities" {
	m=$(tiny_model)
	make_data 40 24 1 > train.jsonl
	make_data 30 24 2 > test.jsonl
	run -0 tart-fit predict -q -m "$m" --train train.jsonl -k 18 -s 3 -o cached.jsonl test.jsonl
	run -0 tart-fit predict -q -m "$m" --train train.jsonl -k 18 -s 3 --no-cache -o full.jsonl test.jsonl
	[ "$(wc -l < cached.jsonl)" -eq 30 ]
	same_p cached.jsonl full.jsonl
	# the rest of each record passes through, fields added at the end
	run -0 head -n1 cached.jsonl
	[[ $output == '{"id":0,"embedding":['*'],"label":'?',"tart_p":'*',"tart_label":'[01]'}' ]]
}

@test "predict: --orders averages over orders of the examples, cached or not" {
	m=$(tiny_model)
	make_data 40 24 1 > train.jsonl
	make_data 30 24 2 > test.jsonl
	run -0 tart-fit predict -q -m "$m" --train train.jsonl -k 18 -s 3 -o one.jsonl test.jsonl
	run -0 tart-fit predict -q -m "$m" --train train.jsonl -k 18 -s 3 --orders 1 -o one1.jsonl test.jsonl
	cmp one.jsonl one1.jsonl
	run -0 tart-fit predict -q -m "$m" --train train.jsonl -k 18 -s 3 --orders 3 -o three.jsonl test.jsonl
	run -0 tart-fit predict -q -m "$m" --train train.jsonl -k 18 -s 3 --orders 3 --no-cache -o full.jsonl test.jsonl
	! cmp -s one.jsonl three.jsonl
	same_p three.jsonl full.jsonl
	run -0 tart-fit predict -q -m "$m" --train train.jsonl -k 18 -s 3 --orders 3 -o again.jsonl test.jsonl
	cmp three.jsonl again.jsonl
	run -2 --separate-stderr tart-fit predict -m "$m" --train train.jsonl --orders 0
	[[ ${stderr_lines[0]} == "tart-fit: --orders: "* ]]
}

@test "predict: embeddings as rows of a .npy file" {
	m=$(tiny_model)
	make_data 40 8 4 > all.jsonl
	# the same vectors, once inline and once by row of a .npy made by npy-write
	awk '{ match($0, /\[[^]]*\]/); print substr($0, RSTART + 1, RLENGTH - 2) }' all.jsonl > rows.txt
	npy-write rows.txt emb.npy
	awk '{ match($0, /"label":[01]/); printf "{\"row\":%d,%s}\n", NR - 1, substr($0, RSTART, RLENGTH) }' all.jsonl > byrow.jsonl
	head -n 30 all.jsonl > t1.jsonl; tail -n 10 all.jsonl > q1.jsonl
	head -n 30 byrow.jsonl > t2.jsonl; tail -n 10 byrow.jsonl > q2.jsonl
	# 8-d embeddings: 8 components, tiled to the module's 16 inputs
	run -0 tart-fit predict -q -m "$m" --train t1.jsonl --components 8 -k 20 q1.jsonl
	a=$(grep -o '"tart_p":[^,}]*' <<<"$output")
	run -0 tart-fit predict -q -m "$m" --train t2.jsonl --embeddings emb.npy --components 8 -k 20 q2.jsonl
	b=$(grep -o '"tart_p":[^,}]*' <<<"$output")
	[ -n "$a" ] && [ "$a" = "$b" ]
	run -1 --separate-stderr tart-fit predict -q -m "$m" --train t2.jsonl --embeddings emb.npy -k 20 < /dev/null
	[ "$stderr" = "tart-fit: t2.jsonl: embeddings have 8 dimensions, fewer than 16 components" ]
	run -2 --separate-stderr tart-fit predict -q -m "$m" --train t2.jsonl --components 5 < /dev/null
	[ "${stderr_lines[0]}" = "tart-fit: --components: 5 does not divide the module's 16 inputs" ]
	run -1 --separate-stderr tart-fit predict -q -m "$m" --train t2.jsonl --embeddings emb.npy --components 8 -k 20 <<<'{"row":40}'
	[ "$stderr" = "tart-fit: <stdin>:1: row 40 is outside emb.npy (40 rows)" ]
}

@test "predict: examples and queries as .npy matrices give what records give" {
	m=$(tiny_model)
	make_data 50 20 4 > all.jsonl
	awk '{ match($0, /\[[^]]*\]/); print substr($0, RSTART + 1, RLENGTH - 2) }' all.jsonl > rows.txt
	awk '{ match($0, /"label":[01]/); print substr($0, RSTART + 8, 1) }' all.jsonl > labels.txt
	head -n 40 rows.txt > trows.txt; tail -n 10 rows.txt > qrows.txt
	head -n 40 labels.txt > tlabels.txt
	npy-write trows.txt train.npy; npy-write qrows.txt queries.npy; npy-write tlabels.txt labels.npy
	head -n 40 all.jsonl > train.jsonl; tail -n 10 all.jsonl > q.jsonl
	run -0 tart-fit predict -q -m "$m" --train train.jsonl -k 20 -s 2 q.jsonl
	a=$(grep -o '"tart_p":[^,}]*' <<<"$output")
	run -0 tart-fit predict -q -m "$m" --train train.npy --train-labels labels.npy -k 20 -s 2 queries.npy
	b=$(grep -o '"tart_p":[^,}]*' <<<"$output")
	[ -n "$a" ] && [ "$a" = "$b" ]
	assert_line --index 9 --regexp '^\{"row":9,"tart_p":[0-9.e-]+,"tart_label":[01]\}$'
	run -2 --separate-stderr tart-fit predict -q -m "$m" --train train.npy queries.npy
	[ "${stderr_lines[0]}" = "tart-fit: predict: --train train.npy needs --train-labels" ]
	head -n 39 tlabels.txt > short.txt; npy-write short.txt short.npy
	run -1 --separate-stderr tart-fit predict -q -m "$m" --train train.npy --train-labels short.npy queries.npy
	[ "$stderr" = "tart-fit: short.npy: 39 labels for 40 examples" ]
}

@test "predict: k must exceed the 16 PCA components, and fit the module" {
	m=$(tiny_model)
	make_data 40 24 1 > train.jsonl
	run -1 --separate-stderr tart-fit predict -m "$m" --train train.jsonl -k 16 < /dev/null
	[ "$stderr" = "tart-fit: train.jsonl: 16 examples for 16 components: PCA needs more examples than components" ]
	run -1 --separate-stderr tart-fit predict -m "$m" --train train.jsonl -k 41 < /dev/null
	[ "$stderr" = "tart-fit: train.jsonl: -k 41 but only 40 examples" ]
	make_data 300 24 1 > many.jsonl
	run -1 --separate-stderr tart-fit predict -m "$m" --train many.jsonl -k 150 < /dev/null
	[ "$stderr" = "tart-fit: $m: k = 150 needs 301 positions, the module has 260 (k <= 129)" ]
}

@test "bad input: file:line, wrong dimension, bad label, missing file" {
	m=$(tiny_model)
	make_data 30 24 1 > train.jsonl
	printf '{"embedding":[1,2,3]}\n' > short.jsonl
	run -1 --separate-stderr tart-fit predict -q -m "$m" --train train.jsonl -k 20 short.jsonl
	[ "$stderr" = "tart-fit: short.jsonl:1: field 'embedding' has 3 dimensions, earlier records 24" ]
	printf '{"embedding":[1,2\n' > bad.jsonl
	run -1 --separate-stderr tart-fit predict -q -m "$m" --train train.jsonl -k 20 bad.jsonl
	[[ $stderr == "tart-fit: bad.jsonl:1:"* ]]
	sed '3s/"label":[01]/"label":7/' train.jsonl > badlabel.jsonl
	run -1 --separate-stderr tart-fit predict -q -m "$m" --train badlabel.jsonl -k 20 short.jsonl
	[ "$stderr" = "tart-fit: badlabel.jsonl:3: field 'label': expected a label 0 or 1" ]
	run -1 --separate-stderr tart-fit predict -q -m nothere.safetensors --train train.jsonl
	[[ $stderr == "tart-fit: nothere.safetensors: "* ]]
	run -1 --separate-stderr tart-fit eval -q -m train.jsonl
	[[ $stderr == "tart-fit: train.jsonl: "* ]]
}

@test "empty input, missing final newline, full disk, closed pipe, -o kept on failure" {
	m=$(tiny_model)
	make_data 30 24 1 > train.jsonl
	make_data 5 24 9 > q.jsonl
	run -0 tart-fit predict -q -m "$m" --train train.jsonl -k 20 < /dev/null
	[ -z "$output" ]
	printf '%s' "$(cat q.jsonl)" > nonl.jsonl
	run -0 tart-fit predict -q -m "$m" --train train.jsonl -k 20 nonl.jsonl
	[ "${#lines[@]}" -eq 5 ]
	run -1 --separate-stderr bash -c "tart-fit predict -q -m '$m' --train train.jsonl -k 20 q.jsonl > /dev/full"
	[[ $stderr == *"No space left on device"* ]]
	run -0 --separate-stderr bash -c "cat q.jsonl q.jsonl q.jsonl | tart-fit predict -q -m '$m' --train train.jsonl -k 20 | head -n1"
	[ -z "$stderr" ]
	echo keep > out.jsonl
	printf '{"embedding":[1]}\n' >> q.jsonl
	run -1 tart-fit predict -q -m "$m" --train train.jsonl -k 20 -o out.jsonl q.jsonl
	[ "$(cat out.jsonl)" = keep ]
}

@test "predict and eval are deterministic for a seed" {
	m=$(tiny_model)
	make_data 60 24 1 > train.jsonl
	make_data 20 24 2 > test.jsonl
	a=$(tart-fit predict -q -m "$m" --train train.jsonl -k 24 -s 7 test.jsonl)
	b=$(tart-fit predict -q -m "$m" --train train.jsonl -k 24 -s 7 test.jsonl)
	[ "$a" = "$b" ]
	# another thread count may change the last bits (OpenBLAS sums in
	# another order), never the labels
	b=$(tart-fit predict -q -m "$m" --train train.jsonl -k 24 -s 7 -t 1 test.jsonl)
	[ "$(grep -o '"tart_label":.' <<<"$a")" = "$(grep -o '"tart_label":.' <<<"$b")" ]
	c=$(tart-fit predict -q -m "$m" --train train.jsonl -k 24 -s 8 test.jsonl)
	[ "$a" != "$c" ]
	a=$(tart-fit eval -q -m "$m" --ks 18 --tasks 5 --queries 20 -s 3)
	b=$(tart-fit eval -q -m "$m" --ks 18 --tasks 5 --queries 20 -s 3)
	[ "$a" = "$b" ]
}

@test "eval: logistic regression matches scikit-learn's accuracies from the research notes" {
	m=$(tiny_model)
	# research/embroid-tart.md T.4: sklearn LogisticRegression(C=1) on
	# alpha = 10 tasks: 0.734 at k = 18, 0.883 at k = 64.  200 tasks x 100
	# queries put the standard error near 0.004.
	run -0 --separate-stderr tart-fit eval -t 1 -m "$m" --ks 18,64 --tasks 200 --queries 100 -s 1
	echo "$stderr"
	[[ ${stderr_lines[0]} == *"tart"*"logreg"*"bayes"* ]]
	awk '{ match($0, /"logreg":[0-9.]*/); lr = substr($0, RSTART + 9, RLENGTH - 9) + 0
	       match($0, /"k":[0-9]*/); k = substr($0, RSTART + 4, RLENGTH - 4) + 0
	       want = k == 18 ? 0.734 : 0.883
	       if (lr < want - 0.02 || lr > want + 0.02) { print k, lr, want; exit 1 }
	       match($0, /"bayes":[0-9.]*/); b = substr($0, RSTART + 8, RLENGTH - 8) + 0
	       if (b < 0.975 || b > 0.995) { print "bayes", b; exit 1 } }' <<<"$output"
	# k beyond the module's positions is skipped with a note
	run -0 --separate-stderr tart-fit eval -m "$m" --ks 18,256 --tasks 1 --queries 5
	[[ $stderr == *"k = 256 skipped: the module has 260 positions (k <= 129)"* ]]
}

@test "the man page EXAMPLES run" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	make_data 40 8 1 > examples.jsonl
	make_data 10 8 2 > queries.jsonl
	man_text "$LOAM_TOP/man/tart-fit.1" |
		sed -n '/^EXAMPLES/,/^SEE ALSO/p' | sed -n 's/^[[:space:]]*\$ //p' > examples.sh
	[ "$(wc -l < examples.sh)" -ge 4 ]
	run -0 bash -e examples.sh
	[ "$(wc -l < labelled.jsonl)" -eq 10 ]
	grep -a -q '"step":"40"' m.safetensors
}

@test "the shipped CPU module (make tart-model) learnt in-context logistic regression" {
	m=$TESTDATA/tart-cpu.safetensors
	[ -f "$m" ] || skip "testdata/tart-cpu.safetensors absent"
	grep -a -q '"format":"loam-tart"' "$m"
	# chance is 0.5; the module reaches about 0.82 at k = 64 (README.md)
	run -0 tart-fit eval -q -t 1 -m "$m" --ks 64 --tasks 50 --queries 100 -s 9
	awk '{ match($0, /"tart":[0-9.]*/); a = substr($0, RSTART + 7, RLENGTH - 7) + 0
	       if (a < 0.7) { print "accuracy " a; exit 1 } }' <<<"$output"
	# averaging over 16 orders of the examples lifts k = 128 by several
	# points and brings the module near logistic regression (README: within
	# 3 points on 200 tasks; 20 tasks here, so 5)
	run -0 tart-fit eval -q -t 1 -m "$m" --ks 128 --tasks 20 --queries 100 -s 9
	one=$output
	run -0 tart-fit eval -q -t 1 -m "$m" --ks 64,128 --tasks 20 --queries 100 -s 9 --orders 16
	awk -v one="$one" '{ match($0, /"tart":[0-9.]*/); b = substr($0, RSTART + 7, RLENGTH - 7) + 0
	       match($0, /"logreg":[0-9.]*/); lr = substr($0, RSTART + 9, RLENGTH - 9) + 0
	       if (b < lr - 0.05) { print "orders 16: " b " against logreg " lr; exit 1 }
	       if ($0 ~ /"k":128/) {
		       match(one, /"tart":[0-9.]*/); a = substr(one, RSTART + 7, RLENGTH - 7) + 0
		       if (b < a + 0.03) { print "orders 16: " b " against one order " a; exit 1 } } }' <<<"$output"
}

@test "usage errors exit 2: --heads that do not divide the width, --ks with an empty element" {
	run -2 --separate-stderr tart-fit train --heads 3 -o m.safetensors
	[ "${stderr_lines[0]}" = "tart-fit: train: width 256 is not a multiple of 3 heads (give --width, --heads or --config)" ]
	[ ! -e m.safetensors ] && [ ! -e m.safetensors.ckpt ]
	for ks in 18,,64 ,18 18,; do
		run -2 --separate-stderr tart-fit eval -m m.safetensors --ks "$ks"
		[ "${stderr_lines[0]}" = "tart-fit: --ks: empty element in '$ks'" ]
	done
}

@test "eval: every k skipped is an error, not an empty success" {
	run -0 tart-fit train -q --config tiny --positions 20 --batch 4 --steps 2 \
	    --dims 4:16:4:3 --points 6:20:7:4 -o m.safetensors
	run -1 --separate-stderr tart-fit eval -q -m m.safetensors --ks 1999 -o out.jsonl
	[ "$stderr" = "tart-fit: eval: every k was skipped: the module has 40 positions (k <= 19)" ]
	[ ! -e out.jsonl ]
	# k < 2000: the random streams of one k's tasks and another's orders stay apart
	run -2 --separate-stderr tart-fit eval -q -m m.safetensors --ks 2000
	[ "${stderr_lines[0]}" = "tart-fit: --ks: '2000' is not an integer in [1, 1999]" ]
}

@test "a model whose metadata lacks format or format_version is refused" {
	run -0 tart-fit train -q --config tiny --positions 20 --batch 4 --steps 2 \
	    --dims 4:16:4:3 --points 6:20:7:4 -o m.safetensors
	# same-length renames keep the header's size
	LC_ALL=C sed 's/"format":"loam-tart"/"formax":"loam-tart"/' m.safetensors > nofmt.safetensors
	LC_ALL=C sed 's/"format_version":"1"/"format_version":"7"/' m.safetensors > v7.safetensors
	run -1 --separate-stderr tart-fit eval -q -m nofmt.safetensors --ks 4 --tasks 1
	[ "$stderr" = "tart-fit: nofmt.safetensors: __metadata__ format is missing, not 'loam-tart'" ]
	run -1 --separate-stderr tart-fit eval -q -m v7.safetensors --ks 4 --tasks 1
	[ "$stderr" = "tart-fit: v7.safetensors: __metadata__ format_version is '7', not 1" ]
	cp nofmt.safetensors r.safetensors.ckpt
	cp m.safetensors.ckpt.adam r.safetensors.ckpt.adam
	run -1 --separate-stderr tart-fit train -q --resume --steps 4 -o r.safetensors
	[ "$stderr" = "tart-fit: r.safetensors.ckpt: __metadata__ format is missing, not 'loam-tart'" ]
}

@test "train: checkpoints go to model.ckpt; an interrupted retrain keeps the old model" {
	args="--config tiny --positions 20 --batch 4 --dims 4:16:4:3 --points 6:20:7:4 -s 5"
	run -0 tart-fit train -q $args --steps 4 -o m.safetensors
	cp m.safetensors old.safetensors
	rm m.safetensors.ckpt m.safetensors.ckpt.adam
	# A long retrain, stopped once its first checkpoint is written.
	tart-fit train -q $args -s 6 --steps 1000000 --checkpoint-every 20 -o m.safetensors &
	pid=$!
	for i in $(seq 600); do [ -f m.safetensors.ckpt ] && break; sleep 0.1; done
	kill $pid; wait $pid || true
	[ -f m.safetensors.ckpt ] && [ -f m.safetensors.ckpt.adam ]
	cmp m.safetensors old.safetensors
	# --resume reads the checkpoint (at whatever step the kill found it)
	# and replaces the model at the end.
	at=$(grep -a -o '"step":"[0-9]*"' m.safetensors.ckpt | tr -dc 0-9)
	run -0 tart-fit train -q --resume --steps $((at + 3)) -o m.safetensors
	! cmp -s m.safetensors old.safetensors
	grep -a -q "\"step\":\"$((at + 3))\"" m.safetensors
	cmp m.safetensors m.safetensors.ckpt
	# no checkpoint: --resume says which file it wanted
	run -1 --separate-stderr tart-fit train -q --resume --steps 9 -o none.safetensors
	[[ "$stderr" == "tart-fit: none.safetensors.ckpt: "* ]]
}
