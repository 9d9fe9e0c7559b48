#!/usr/bin/env bats
# embroid-fix: Embroid smoothing and the triplet label model (see man/embroid-fix.1).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	DEMO=$EXTERNAL/embroid-dbpedia-animal
	CL=$TESTDATA/embroid-fix/clusters.jsonl
}

demo_records() {
	npy-cat votes="$DEMO/votes.npy" label="$DEMO/labels.npy" > demo.jsonl
}

NBRS() {
	echo --neighbors roberta="$DEMO/roberta_neighbors.npy" --neighbors sbert="$DEMO/sbert_neighbors.npy" \
	    --neighbors bert="$DEMO/bert_neighbors.npy"
}

@test "--help prints the usage to stdout and exits 0" {
	run -0 --separate-stderr embroid-fix --help
	assert_line --index 0 --partial 'usage: embroid-fix [-hqV] [--votes field]'
	[ -z "$stderr" ]
}

@test "the usage line matches the man page SYNOPSIS" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	run -0 bash -c "man_text '$LOAM_TOP/man/embroid-fix.1' | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p'"
	for opt in --votes --zero-one --classes --embed-field --neighbors --metric --index \
	    --thresholds --class-balance --min-z --reference --explain --gold; do
		assert_output --partial -- "$opt"
	done
}

@test "usage errors exit 2 with the message" {
	run -2 --separate-stderr embroid-fix --bogus
	[ "${stderr_lines[0]}" = "embroid-fix: unknown option '--bogus'" ]
	run -2 --separate-stderr embroid-fix -e x=y.npy
	[ "${stderr_lines[0]}" = "embroid-fix: --votes is required" ]
	run -2 --separate-stderr embroid-fix --votes v
	[ "${stderr_lines[0]}" = "embroid-fix: no embedding space: give -e, --embed-field or --neighbors" ]
	run -2 --separate-stderr embroid-fix --votes v --embed-field e --metric hamming
	[ "${stderr_lines[0]}" = "embroid-fix: --metric: 'hamming' is not cosine, l2 or ip" ]
}

@test "reference parity on the DBPedia demo: macro-F1 0.7670, 342 flips, 992 positive" {
	demo_records
	run -0 --separate-stderr embroid-fix --zero-one --votes votes --gold label -k 10 $(NBRS) demo.jsonl
	[ "$(printf '%s\n' "${lines[@]}" | grep -c '"embroid":1,')" -eq 992 ]
	[ "${stderr_lines[0]}" = "embroid-fix: 2000 rows, 1 source, 3 spaces: knn ${stderr_lines[0]#*knn }" ]
	[[ "${stderr_lines[0]}" == *"flipped 342 of 2000" ]]
	[ "${stderr_lines[2]}" = "embroid-fix: gold: accuracy 0.7230 -> 0.7670, macro-F1 0.7203 -> 0.7670" ]
}

@test "demo: votes as -1/+1 give the same labels as --zero-one" {
	demo_records
	sed 's/"votes":\[0\]/"votes":[-1]/' demo.jsonl > pm.jsonl
	embroid-fix -q --zero-one --votes votes $(NBRS) demo.jsonl | grep -o '"embroid":[01]' | sed 's/:0/:-1/' > a.txt
	embroid-fix -q --votes votes $(NBRS) pm.jsonl | grep -o '"embroid":-\?1' > b.txt
	diff a.txt b.txt
}

@test "demo: the reference's thresholds are one flag away; clipping is documented" {
	demo_records
	run -0 --separate-stderr embroid-fix --zero-one --votes votes --gold label --thresholds 0.5,0.5 $(NBRS) demo.jsonl
	# The reference flips impossible cells (0.7610); we clip them (0.7740).
	[ "${stderr_lines[2]}" = "embroid-fix: gold: accuracy 0.7230 -> 0.7740, macro-F1 0.7203 -> 0.7740" ]
}

@test "embeddings through FAISS: a binary task improves, and -e .npy equals --embed-field" {
	run -0 --separate-stderr embroid-fix --votes bv --gold bin --embed-field e1 --embed-field e2 --embed-field e3 "$CL"
	[ "${stderr_lines[2]}" = "embroid-fix: gold: accuracy 0.6867 -> 0.8633, macro-F1 0.6762 -> 0.8578" ]
	# The same spaces as .npy files.
	for s in e1 e2 e3; do
		grep -o "\"$s\":\[[^]]*\]" "$CL" | sed 's/.*\[//; s/\]//' > $s.txt
	done
	perl -e 'for $f (@ARGV) { open F, "<$f.txt"; @r = map { chomp; [split /,/] } <F>; $n = @r; $d = @{$r[0]};
	    $h = "{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: ($n, $d), }";
	    $h .= " " x (63 - (10 + length($h)) % 64) . "\n"; open O, ">$f.npy"; binmode O;
	    print O "\x93NUMPY\x01\x00", pack("v", length $h), $h, pack("f<*", map { @$_ } @r); close O }' e1 e2 e3
	embroid-fix -q --votes bv --embed-field e1 --embed-field e2 --embed-field e3 "$CL" > a.jsonl
	embroid-fix -q --votes bv -e e1=e1.npy -e e2=e2.npy -e e3=e3.npy "$CL" > b.jsonl
	cmp a.jsonl b.jsonl
	# And e2 as safetensors (one F32 tensor), written by hand.
	perl -e 'open F, "<e2.txt"; @r = map { chomp; [split /,/] } <F>; $n = @r; $b = 4 * 3 * $n;
	    $h = "{\"e2\":{\"dtype\":\"F32\",\"shape\":[$n,3],\"data_offsets\":[0,$b]}}";
	    $h .= " " x ((8 - length($h) % 8) % 8); open O, ">e2.safetensors"; binmode O;
	    print O pack("Q<", length $h), $h, pack("f<*", map { @$_ } @r); close O'
	embroid-fix -q --votes bv -e e1=e1.npy -e e2=e2.safetensors -e e3=e3.npy "$CL" > c.jsonl
	cmp a.jsonl c.jsonl
}

@test "multiclass one-vs-all picks the most probable class" {
	run -0 --separate-stderr embroid-fix --classes 3 --votes vote --gold gold --embed-field e1 --embed-field e2 --embed-field e3 "$CL"
	[ "${stderr_lines[4]}" = "embroid-fix: gold: accuracy 0.7967 -> 1.0000, macro-F1 0.7962 -> 1.0000" ]
	[ "$(printf '%s\n' "${lines[@]}" | grep -c '"embroid":[012],"embroid_p":0')" -eq 300 ]
}

@test "--explain adds the smoothed votes and the accuracies" {
	run -0 embroid-fix -q --explain --votes bv --embed-field e1 --embed-field e2 --embed-field e3 "$CL"
	assert_line --index 0 --regexp '"embroid_smoothed":\[-?[01],-?[01],-?[01]\],"embroid_accuracy":\[0\.[0-9]+,0\.[0-9]+,0\.[0-9]+,0\.[0-9]+\]\}$'
}

@test "abstains (0) are accepted and carry no evidence" {
	sed 's/"bv":-1/"bv":0/' "$CL" > abst.jsonl
	run -0 embroid-fix -q --votes bv --embed-field e1 --embed-field e2 --embed-field e3 abst.jsonl
	[ "${#lines[@]}" -eq 300 ]
}

@test "bad input: counts, NaN, votes, file:line, missing file" {
	head -5 "$CL" > five.jsonl
	run -1 --separate-stderr embroid-fix --votes bv -e e1=/dev/null five.jsonl
	[[ "$stderr" == "embroid-fix: /dev/null: "* ]]
	head -10 "$CL" > ten.jsonl
	grep -o '"e1":\[[^]]*\]' "$CL" | head -5 | sed 's/.*\[//; s/\]//' > e1.txt
	perl -e 'open F, "<e1.txt"; @r = map { chomp; [split /,/] } <F>; $n = @r;
	    $h = "{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: ($n, 3), }";
	    $h .= " " x (63 - (10 + length($h)) % 64) . "\n"; open O, ">e1.npy"; binmode O;
	    print O "\x93NUMPY\x01\x00", pack("v", length $h), $h, pack("f<*", map { @$_ } @r); close O'
	run -1 --separate-stderr embroid-fix --votes bv -e e1=e1.npy ten.jsonl
	[ "$stderr" = "embroid-fix: e1.npy: 5 rows but 10 records" ]
	sed '3s/"e1":\[[^]]*\]/"e1":[1e999,0,0]/' ten.jsonl > nan.jsonl
	run -1 --separate-stderr embroid-fix --votes bv --embed-field e1 nan.jsonl
	[[ "$stderr" == "embroid-fix: nan.jsonl:3:"*"number out of range"* ]]
	sed '4s/"bv":-\?1/"bv":2/' ten.jsonl > badvote.jsonl
	run -1 --separate-stderr embroid-fix --votes bv --embed-field e1 badvote.jsonl
	[ "$stderr" = "embroid-fix: badvote.jsonl:4: vote 0: 2 is not -1, 0 or +1" ]
	printf '{"bv":1,"e1":[1,0,0]}\n{"bv":' > trunc.jsonl
	run -1 --separate-stderr embroid-fix --votes bv --embed-field e1 trunc.jsonl
	[[ "$stderr" == "embroid-fix: trunc.jsonl:2:"* ]]
	run -1 --separate-stderr embroid-fix --votes bv --embed-field e1 missing.jsonl
	[ "$stderr" = "embroid-fix: missing.jsonl: No such file or directory" ]
}

@test "empty input, missing final newline, full disk, closed pipe, determinism" {
	run -0 --separate-stderr embroid-fix --votes bv --embed-field e1 < /dev/null
	[ -z "$output" ]
	head -c -1 "$CL" > nonl.jsonl
	run -0 embroid-fix -q --votes bv --embed-field e1 --embed-field e2 --embed-field e3 nonl.jsonl
	[ "${#lines[@]}" -eq 300 ]
	run -1 --separate-stderr bash -c "embroid-fix -q --votes bv --embed-field e1 --embed-field e2 --embed-field e3 '$CL' > /dev/full"
	[ "$stderr" = "embroid-fix: stdout: write error: No space left on device" ]
	run -0 --separate-stderr bash -c "embroid-fix -q --votes bv --embed-field e1 --embed-field e2 --embed-field e3 '$CL' | head -n1"
	[ "${#lines[@]}" -eq 1 ] && [ -z "$stderr" ]
	embroid-fix -q --votes bv --embed-field e1 --embed-field e2 --embed-field e3 "$CL" > a.jsonl
	embroid-fix -q -t 1 --votes bv --embed-field e1 --embed-field e2 --embed-field e3 "$CL" > b.jsonl
	cmp a.jsonl b.jsonl
}

@test "the man page EXAMPLES run" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	cp "$CL" clusters.jsonl
	man_text "$LOAM_TOP/man/embroid-fix.1" |
		sed -n '/^EXAMPLES/,/^SEE ALSO/p' | sed -n 's/^[[:space:]]*\$ //p' > examples.sh
	[ "$(wc -l < examples.sh)" -ge 2 ]
	run -0 bash -e examples.sh
}

# 5000 synthetic rows: sources 60/70/80% accurate, 30% positive, two
# 4-d spaces whose means follow the label (seeded, perl as in minbase).
synthetic() {
	perl -e '
		srand(11);
		sub g { my $u = 1 - rand(); my $v = rand(); sqrt(-2 * log($u)) * cos(6.283185307179586 * $v) }
		for (1 .. 5000) {
			my $y = rand() < 0.3 ? 1 : -1;
			my @v = map { rand() < $_ ? $y : -$y } 0.6, 0.7, 0.8;
			my @a = map { sprintf "%.4f", 0.6 * $y + g() } 1 .. 4;
			my @b = map { sprintf "%.4f", 0.4 * $y + g() } 1 .. 4;
			printf "{\"votes\":[%s],\"gold\":%d,\"e1\":[%s],\"e2\":[%s]}\n",
			    join(",", @v), $y, join(",", @a), join(",", @b);
		}' > synth.jsonl
}

labels() { embroid-fix -q --votes votes --embed-field e1 --embed-field e2 "$@" synth.jsonl | grep -o '"embroid":-\?1'; }
differ() { paste -d' ' "$1" "$2" | awk '$1 != $2' | wc -l; }

@test "--min-z: the triplet significance rule changes labels at k = 5 (37 of 5000), none at k = 15; 0 turns it off as --reference does" {
	synthetic
	labels -k 5 > d5; labels -k 5 --min-z 0 > z5; labels -k 5 --reference > r5
	labels -k 5 --min-z 2 > t5
	[ "$(wc -l < d5)" -eq 5000 ]
	[ "$(differ d5 z5)" -eq 37 ]
	[ "$(differ z5 r5)" -eq 0 ]
	cmp d5 t5	# 2 is the default
	labels -k 15 > d15; labels -k 15 --min-z 0 > z15
	[ "$(differ d15 z15)" -eq 0 ]
}

@test "--reference on the DBPedia demo gives the reference's numbers; bad --min-z exits 2" {
	demo_records
	run -0 --separate-stderr embroid-fix --reference --zero-one --votes votes --gold label -k 10 $(NBRS) demo.jsonl
	[[ "${stderr_lines[0]}" == *"flipped 342 of 2000" ]]
	[ "${stderr_lines[2]}" = "embroid-fix: gold: accuracy 0.7230 -> 0.7670, macro-F1 0.7203 -> 0.7670" ]
	# with the reference's (0.5, 0.5) thresholds its flip of negative cells gives 0.7610
	run -0 --separate-stderr embroid-fix --reference --thresholds 0.5,0.5 --zero-one --votes votes --gold label -k 10 $(NBRS) demo.jsonl
	[[ "${stderr_lines[2]}" == *"macro-F1 0.7203 -> 0.7610" ]]
	run -2 --separate-stderr embroid-fix --min-z -1 --votes v --embed-field e
	[ "${stderr_lines[0]}" = "embroid-fix: --min-z: '-1' is not a number in [0, 1e+06]" ]
	run -2 --separate-stderr embroid-fix --min-z two --votes v --embed-field e
	[ "${stderr_lines[0]}" = "embroid-fix: --min-z: 'two' is not a number in [0, 1e+06]" ]
	run -2 --separate-stderr embroid-fix --min-z 0 --reference --votes v --embed-field e
	[ "${stderr_lines[0]}" = "embroid-fix: --min-z and --reference exclude each other" ]
}

@test "a FAISS error (IVF with more lists than points) frees the index: exit 1" {
	for i in 1 2 3; do
		run -1 --separate-stderr embroid-fix -q --index 'IVF99999,Flat' --votes bv --embed-field e1 "$CL"
		[[ "$stderr" == "embroid-fix: e1: faiss: Error: 'nx >= k' failed: Number of training points (300)"* ]]
	done
}
