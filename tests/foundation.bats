#!/usr/bin/env bats
# The behaviour every loam program shares (DESIGN.md §5), checked through
# rec-cat, a pass-through tool built only from lib/cli and lib/rec.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "--help prints the usage line to stdout and exits 0" {
	run -0 --separate-stderr rec-cat --help
	assert_line --index 0 --partial 'usage: rec-cat [-hqV]'
	assert_output --partial '--skip-bad'
	[ -z "$stderr" ]
}

@test "-h is --help" {
	run -0 rec-cat -h
	assert_line --index 0 --partial 'usage: rec-cat'
}

@test "--version prints 'prog (loam) X.Y.Z'" {
	run -0 rec-cat --version
	assert_output --regexp '^rec-cat \(loam\) [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "an unknown long option is a usage error, exit 2" {
	run -2 --separate-stderr rec-cat --bogus
	[ "${stderr_lines[0]}" = "rec-cat: unknown option '--bogus'" ]
	[ "${stderr_lines[1]:0:14}" = "usage: rec-cat" ]
	[ -z "$output" ]
}

@test "an unknown short option is a usage error, exit 2" {
	run -2 --separate-stderr rec-cat -Z
	[ "${stderr_lines[0]}" = "rec-cat: unknown option -Z" ]
}

@test "a missing option argument is a usage error, exit 2" {
	run -2 --separate-stderr rec-cat -o
	[ "${stderr_lines[0]}" = "rec-cat: option -o requires an argument" ]
}

@test "a bad number names the option and the range" {
	run -2 --separate-stderr rec-cat --threads 0
	[ "${stderr_lines[0]}" = "rec-cat: --threads: '0' is not an integer in [1, 1024]" ]
	run -2 --separate-stderr rec-cat -s -5
	[ "${stderr_lines[0]}" = "rec-cat: --seed: '-5' is not an integer in [0, 18446744073709551615]" ]
}

@test "a missing file: 'prog: file: strerror', exit 1" {
	run -1 --separate-stderr rec-cat nonexistent.jsonl
	[ "$stderr" = "rec-cat: nonexistent.jsonl: No such file or directory" ]
}

@test "empty input gives empty output" {
	run -0 --separate-stderr rec-cat < /dev/null
	[ -z "$output" ] && [ -z "$stderr" ]
}

@test "a missing final newline is accepted" {
	printf '{"a":1}\n{"a":2}' > in.jsonl
	run -0 rec-cat in.jsonl
	assert_output $'{"a":1}\n{"a":2}'
}

@test "a malformed record: 'prog: file:line:col: message', exit 1" {
	printf '{"a":1}\n\n{"a":}\n{"a":3}\n' > in.jsonl
	run -1 --separate-stderr rec-cat in.jsonl
	[ "$stderr" = "rec-cat: in.jsonl:3:6: unexpected '}'" ]
	[ "$output" = '{"a":1}' ]
}

@test "a malformed record on stdin is named <stdin>" {
	run -1 --separate-stderr rec-cat <<< '[1,2]'
	[ "$stderr" = "rec-cat: <stdin>:1: expected a JSON object, got an array" ]
}

@test "NaN is refused with file:line" {
	run -1 --separate-stderr rec-cat <<< '{"x":NaN}'
	[ "$stderr" = "rec-cat: <stdin>:1:6: NaN is not JSON" ]
}

@test "--skip-bad reports, skips and counts bad lines" {
	printf '{"a":1}\n{"a":\n{"a":3}\n' > in.jsonl
	run -0 --separate-stderr rec-cat --skip-bad in.jsonl
	assert_output $'{"a":1}\n{"a":3}'
	[ "${stderr_lines[0]}" = "rec-cat: in.jsonl:2:6: unexpected end of line" ]
	[ "${stderr_lines[1]}" = "rec-cat: skipped 1 bad line" ]
}

@test "a full disk is an error, exit 1" {
	run -1 --separate-stderr bash -c 'echo "{\"a\":1}" | rec-cat > /dev/full'
	[ "$stderr" = "rec-cat: stdout: write error: No space left on device" ]
}

@test "a closed pipe ends quietly" {
	for i in $(seq 1 100000); do echo "{\"i\":$i}"; done > in.jsonl
	run -0 --separate-stderr bash -c 'rec-cat in.jsonl | head -n1'
	[ "$output" = '{"i":1}' ]
	[ -z "$stderr" ]
}

@test "-o writes atomically and leaves no temporary file" {
	printf '{"a":1}\n' > in.jsonl
	run -0 rec-cat -q -o out.jsonl in.jsonl
	[ "$(cat out.jsonl)" = '{"a":1}' ]
	[ "$(ls)" = $'in.jsonl\nout.jsonl' ]
}

@test "-o: an existing output survives a failed run" {
	echo 'precious' > out.jsonl
	printf '{"a":1}\n{"a":\n' > in.jsonl
	run -1 rec-cat -o out.jsonl in.jsonl
	[ "$(cat out.jsonl)" = 'precious' ]
	[ "$(ls)" = $'in.jsonl\nout.jsonl' ]
}

@test "-o: an interrupted run leaves the old output and no temporary file" {
	echo 'precious' > out.jsonl
	mkfifo fifo
	(echo '{"a":1}'; exec sleep 20) > fifo 3>&- &
	feeder=$!
	rec-cat -o out.jsonl fifo &
	pid=$!
	# Mid-run: wait (up to 10 s) until the temporary file is open (an
	# anonymous one, "#INODE (deleted)", or .out.jsonl.loam-tmp.*).
	for i in $(seq 1 100); do
		ls -l /proc/$pid/fd | grep -q -e "$PWD/#" -e loam-tmp && break
		sleep 0.1
	done
	ls -l /proc/$pid/fd | grep -q -e "$PWD/#" -e loam-tmp
	kill -TERM "$pid"
	wait "$pid" || true
	kill "$feeder" 2>/dev/null || true
	[ "$(cat out.jsonl)" = 'precious' ]
	[ "$(ls -A)" = $'fifo\nout.jsonl' ]
}

@test "-o: a missing input file fails the run and keeps the old output" {
	echo 'precious' > out.jsonl
	printf '{"a":1}\n' > in.jsonl
	run -1 rec-cat -q -o out.jsonl in.jsonl missing.jsonl
	[ "$output" = "rec-cat: missing.jsonl: No such file or directory" ]
	[ "$(cat out.jsonl)" = 'precious' ]
	[ "$(ls)" = $'in.jsonl\nout.jsonl' ]
}

@test "-o into a missing directory fails cleanly" {
	run -1 --separate-stderr rec-cat -o nodir/out.jsonl < /dev/null
	[[ "$stderr" == "rec-cat: nodir/out.jsonl: No such file or directory" ]]
}

@test "unknown fields pass through byte for byte; added fields are appended" {
	printf '%s\n' '{"id":"x1","t":"caf\u00e9 \/ 😀","n":1.50,"o":{"k":[1,2]}}' > in.jsonl
	run -0 rec-cat in.jsonl
	assert_output "$(cat in.jsonl)"
	run -0 rec-cat --set 'y=[true,null]' in.jsonl
	assert_output '{"id":"x1","t":"caf\u00e9 \/ 😀","n":1.50,"o":{"k":[1,2]},"y":[true,null]}'
}

@test "replacing a field re-serialises compactly, keeping order and values" {
	printf '%s\n' '{"id": 1, "t": "a\/b", "n": 1.50}' > in.jsonl
	run -0 rec-cat --set 'id=2' in.jsonl
	assert_output '{"id":2,"t":"a/b","n":1.50}'
}

@test "numeric arrays are read as floats" {
	printf '{"e":[%s]}\n' "$(seq -s, 1 100)" > in.jsonl
	run -0 rec-cat --floats e in.jsonl
	assert_output --partial ',"e_sum":5050}'
}

@test "output is byte-identical across runs (determinism)" {
	for i in $(seq 1 2000); do printf '{"i":%d,"v":[%d.5,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23]}\n' "$i" "$i"; done > in.jsonl
	rec-cat --floats v in.jsonl > a.jsonl
	rec-cat --floats v in.jsonl > b.jsonl
	cmp a.jsonl b.jsonl
}

@test "scale-out: parallel --pipepart chunks give the single-process output" {
	command -v parallel >/dev/null || skip "GNU parallel not installed"
	for i in $(seq 1 20000); do printf '{"i":%d,"s":"r%d"}\n' "$i" "$i"; done > in.jsonl
	rec-cat --set 'k=1' in.jsonl > one.jsonl
	parallel --will-cite --pipepart -a in.jsonl --block 64k -k -j2 \
		rec-cat --set k=1 > many.jsonl
	cmp one.jsonl many.jsonl
}

@test "make install and uninstall honour DESTDIR and PREFIX" {
	run -0 make -s -C "$LOAM_TOP" install DESTDIR="$BATS_TEST_TMPDIR/root" PREFIX=/opt/loam
	[ -f "$BATS_TEST_TMPDIR/root/opt/loam/share/man/man5/loam-records.5" ]
	run -0 make -s -C "$LOAM_TOP" uninstall DESTDIR="$BATS_TEST_TMPDIR/root" PREFIX=/opt/loam
	[ -z "$(find "$BATS_TEST_TMPDIR/root" -type f)" ]
}

@test "the manual pages pass mandoc -T lint" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	run -0 mandoc -T lint -W warning "$LOAM_TOP"/man/*
	[ -z "$output" ]
}

@test "long work ends with a one-line summary on stderr; -q silences it" {
	printf '{"a":1}\n{"a":2}\n' > in.jsonl
	run -0 --separate-stderr rec-cat -o out.jsonl in.jsonl
	[[ "$stderr" =~ ^rec-cat:\ records:\ 2\ in\ [0-9.]+\ s,\ [0-9.]+[kM]?/s$ ]]
	run -0 --separate-stderr rec-cat -q -o out.jsonl in.jsonl
	[ -z "$stderr" ]
}

@test "progress is drawn only on a terminal" {
	command -v script >/dev/null || skip "script(1) not installed"
	feed="(echo '{\"a\":1}'; sleep 0.3; echo '{\"a\":2}')"
	# On a terminal (script gives one): updates ending in erase-line.
	run -0 script -qec "$feed | rec-cat -o out.jsonl" /dev/null
	[[ "$output" == *$'\r'"rec-cat: records: "*$'\033[K'* ]]
	[[ "$output" == *"rec-cat: records: 2 in "* ]]
	# Not a terminal: the summary alone.
	run -0 --separate-stderr bash -c "$feed | rec-cat -o out.jsonl"
	[[ "$stderr" != *$'\r'* ]]
	[[ "$stderr" == "rec-cat: records: 2 in "* ]]
}
