#!/usr/bin/env bats
# pipeline-run: YAML pipelines (see man/pipeline-run.1, man/loam-pipeline.5).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	printf 'b\na\nc\n' > in.txt
}

# check_bad YAML MESSAGE: pipeline-run refuses the pipeline YAML (printf %b
# escapes) with exit 2 and "pipeline-run: MESSAGE", before running any
# stage (the tests' first stage would touch ran).
check_bad() {
	printf '%b' "$1" > bad.yaml
	run -2 --separate-stderr pipeline-run bad.yaml
	assert_equal "$stderr" "pipeline-run: $2"
	[ ! -e ran ]
}

# wait_for FILE: until FILE is non-empty (at most 10 s).
wait_for() {
	for _ in $(seq 100); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

@test "--help prints the usage to stdout and exits 0" {
	run -0 --separate-stderr pipeline-run --help
	assert_line --index 0 'usage: pipeline-run [-hnqV] [-j jobs] [--force] [--explain] [--stats]'
	[ -z "$stderr" ]
}

@test "the usage lines match the man page SYNOPSIS" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	run -0 bash -c "man_text '$LOAM_TOP/man/pipeline-run.1' | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p'"
	for opt in -hnqV '-j jobs' --force --explain --stats '--set name=value' '--lock file' --no-sync pipeline.yaml; do
		assert_output --partial -- "$opt"
	done
}

@test "usage errors exit 2" {
	run -2 --separate-stderr pipeline-run --bogus p.yaml
	[ "${stderr_lines[0]}" = "pipeline-run: unknown option '--bogus'" ]
	run -2 --separate-stderr pipeline-run
	[ "${stderr_lines[0]}" = "pipeline-run: no pipeline file given" ]
	run -2 --separate-stderr pipeline-run -o x p.yaml
	[ "${stderr_lines[0]}" = "pipeline-run: -o: the outputs are named in the pipeline (stdout:, tee:)" ]
	run -2 --separate-stderr pipeline-run -j 0 p.yaml
	[ "${stderr_lines[0]}" = "pipeline-run: --jobs: '0' is not an integer in [1, 1024]" ]
}

@test "a missing pipeline file exits 1 naming it" {
	run -1 --separate-stderr pipeline-run nope.yaml
	[ "$stderr" = "pipeline-run: nope.yaml: No such file or directory" ]
}

@test "an empty pipeline file is an error" {
	: > p.yaml
	run -2 --separate-stderr pipeline-run p.yaml
	[ "$stderr" = "pipeline-run: p.yaml: empty file" ]
}

@test "pipes: stages without files between them are joined" {
	printf 'stages:\n  - {name: a, run: [sort], stdin: in.txt}\n  - {name: b, run: [tr, a-z, A-Z]}\n  - {name: c, run: [head, -n, 2], stdout: out.txt}' > p.yaml
	run -0 pipeline-run -q p.yaml
	[ "$(cat out.txt)" = "$(printf 'A\nB')" ]
	# no final newline in the YAML above: accepted
}

@test "files: stdin, stdout and needs; the last stage without stdout writes ours" {
	cat > p.yaml <<'EOF'
stages:
  - name: copy
    run: [cat]
    stdin: in.txt
    stdout: mid.txt
  - name: show
    run: [cat, mid.txt]
    needs: mid.txt
EOF
	run -0 --separate-stderr pipeline-run -q p.yaml
	[ "$output" = "$(cat in.txt)" ]
	cmp in.txt mid.txt
	# A stage that writes a file itself, without needs: after it, is
	# joined to the next by a pipe: mid2.txt is not made yet.
	printf 'stages:\n  - {run: [cp, in.txt, mid2.txt]}\n  - {run: [cat, mid2.txt], needs: mid2.txt}\n' > q.yaml
	run -1 --separate-stderr pipeline-run q.yaml
	[ "$stderr" = "pipeline-run: q.yaml:3:5: stage 'cat': mid2.txt: No such file or directory" ]
}

@test "a chain with no stdin reads /dev/null" {
	printf 'stages:\n  - {run: [wc, -c], stdout: n.txt}\n' > p.yaml
	pipeline-run -q p.yaml < in.txt
	[ "$(tr -d ' ' < n.txt)" = 0 ]
}

@test "tee: copies of a middle stage's output, and of the last one's" {
	cat > p.yaml <<'EOF'
stages:
  - {name: a, run: [sort], stdin: in.txt, tee: [sorted.txt, again.txt]}
  - {name: b, run: [tr, a-z, A-Z], stdout: upper.txt, tee: upper-copy.txt}
EOF
	pipeline-run -q p.yaml
	[ "$(cat sorted.txt)" = "$(printf 'a\nb\nc')" ]
	cmp sorted.txt again.txt
	[ "$(cat upper.txt)" = "$(printf 'A\nB\nC')" ]
	cmp upper.txt upper-copy.txt
}

@test "DAG: chains run after the chains that write their inputs, whatever the file order" {
	cat > p.yaml <<'EOF'
stages:
  - {name: last, run: [cat, b.txt], needs: b.txt, stdout: c.txt}
  - {name: middle, run: [sort], stdin: a.txt, stdout: b.txt}
  - {name: first, run: [cat], stdin: in.txt, stdout: a.txt}
EOF
	run -0 pipeline-run --explain p.yaml
	[ "$(cat c.txt)" = "$(printf 'a\nb\nc')" ]
	# The explanations come in the order the chains ran.
	[ "$(printf '%s\n' "${lines[@]}" | grep -o '^pipeline-run: [a-z]*:' | tr -d '\n')" = \
	    "pipeline-run: first:pipeline-run: middle:pipeline-run: last:" ]
}

@test "-j: independent chains run at the same time" {
	# 'wait' waits for a file that 'make' (after it in the file) creates:
	# one job at a time, it gives up; two at a time, it sees it.
	cat > p.yaml <<'EOF'
stages:
  - name: wait
    run: [sh, -c, 'for i in $(seq 100); do [ -e flag ] && exit 0; sleep 0.05; done; echo gave up >&2; exit 1']
    stdout: waited.txt
  - name: make
    run: [touch, flag]
    stdout: made.txt
EOF
	run -1 --separate-stderr pipeline-run -q -j 1 p.yaml
	assert_equal "${stderr_lines[0]}" "wait: gave up"
	rm -f flag
	run -0 pipeline-run -q -j 2 p.yaml
	[ -e waited.txt ] && [ -e made.txt ]
}

@test "variables: defaults, use in later variables, the environment, --set" {
	cat > p.yaml <<'EOF'
vars:
  greeting: hello
  who: world
  line: ${greeting}, ${who}
  price: $$5
stages:
  - run: [printf, '%s|%s|%s\n', "${line}", "${price}", 010]
EOF
	run -0 pipeline-run -q p.yaml
	[ "$output" = 'hello, world|$5|010' ]
	who=env run -0 pipeline-run -q p.yaml
	[ "$output" = 'hello, env|$5|010' ]
	who=env run -0 pipeline-run -q --set who=set --set greeting=hi p.yaml
	[ "$output" = 'hi, set|$5|010' ]
	run -2 --separate-stderr pipeline-run --set nobody=1 p.yaml
	[ "$stderr" = "pipeline-run: --set: p.yaml has no variable 'nobody'" ]
	run -2 --separate-stderr pipeline-run --set who p.yaml
	[ "$stderr" = "pipeline-run: --set: 'who' is not name=value" ]
}

@test "a value with shell metacharacters reaches the program as one word, unchanged" {
	v='a b; rm -rf x | y > z && $(touch pwned) `touch pwned2` "q" '"'r'"' * ~ $HOME \n'
	cat > p.yaml <<'EOF'
vars:
  v: x
stages:
  - run: [printf, '<%s>\n', "${v}", '${v}']
    stdout: list.txt
  - name: str
    run: printf '<%s>\n' ${v} "${v}"
EOF
	run -0 pipeline-run -q --set "v=$v" p.yaml
	[ "${lines[0]}" = "<$v>" ]
	[ "${lines[1]}" = "<$v>" ]
	[ "$(cat list.txt)" = "$(printf '<%s>\n' "$v" "$v")" ]
	[ ! -e pwned ] && [ ! -e pwned2 ] && [ ! -e z ]
}

@test "a command string with a shell operator is refused" {
	printf 'stages:\n  - run: sort in.txt | head\n' > p.yaml
	run -2 --separate-stderr pipeline-run p.yaml
	[ "$stderr" = "pipeline-run: p.yaml:2:10: run: '|' is not run by a shell here: write pipes as separate stages and files as stdin:/stdout: (or quote it to pass it as an argument)" ]
	printf 'stages:\n  - run: printf "%%s\\n" "|" x\\;y\n' > p.yaml
	run -0 pipeline-run -q p.yaml
	[ "$output" = "$(printf '|\nx;y')" ]
}

@test "a failing middle stage: exit 1, the stage named, its last stderr lines, outputs untouched" {
	echo old > out.txt
	cat > p.yaml <<'EOF'
stages:
  - {name: gen, run: [seq, 100000]}
  - name: bad
    run: [sh, -c, 'head -n 5 >/dev/null; for i in 1 2 3 4 5 6 7; do echo "line $i" >&2; done; exit 3']
  - {name: last, run: [cat], stdout: out.txt, tee: copy.txt}
EOF
	run -1 --separate-stderr pipeline-run p.yaml
	[ "$(cat out.txt)" = old ]
	[ ! -e copy.txt ]
	[ ! -e .out.txt.stamp ]
	[ -z "$(ls -A | grep -e tmp -e stamp)" ]
	assert_equal "${stderr_lines[0]}" "bad: line 1"
	assert_equal "${stderr_lines[7]}" "pipeline-run: stage 'bad' failed with exit status 3; outputs left as they were; its last lines on stderr:"
	assert_equal "${stderr_lines[8]}" "  bad: line 3"
	assert_equal "${stderr_lines[12]}" "  bad: line 7"
}

@test "a stage killed by a signal is named with the signal" {
	printf 'stages:\n  - {name: k, run: [sh, -c, "kill -USR1 $$$$"], stdout: o.txt}\n' > p.yaml
	run -1 --separate-stderr pipeline-run p.yaml
	assert_equal "${stderr_lines[0]}" "pipeline-run: stage 'k' failed with signal 10 (User defined signal 1); outputs left as they were (nothing on stderr)"
}

@test "a failure stops the other running chains, whose outputs stay as they were" {
	echo old > slow.txt
	cat > p.yaml <<'EOF'
stages:
  - {name: slow, run: [sleep, 30], stdout: slow.txt}
  - {name: fail, run: [sh, -c, 'sleep 0.2; exit 4'], stdout: fail.txt}
EOF
	run -1 --separate-stderr timeout 20 pipeline-run -j 2 p.yaml
	assert_equal "${stderr_lines[0]}" "pipeline-run: stage 'fail' failed with exit status 4; outputs left as they were (nothing on stderr)"
	[ "$(cat slow.txt)" = old ]
}

@test "a stage that stops reading early (head) is not a failure" {
	printf 'stages:\n  - {name: gen, run: [seq, 1000000]}\n  - {name: first, run: [head, -n, 2], stdout: h.txt}\n' > p.yaml
	run -0 pipeline-run -q p.yaml
	[ "$(cat h.txt)" = "$(printf '1\n2')" ]
	run -0 pipeline-run -q --stats p.yaml
}

@test "pipeline-run | head -n1 ends quietly" {
	printf 'stages:\n  - {name: gen, run: [seq, 1000000]}\n  - {name: cat, run: [cat]}\n' > p.yaml
	run -0 bash -c 'pipeline-run p.yaml 2>err | head -n1; echo "${PIPESTATUS[0]}"'
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = 141 ]
	[ ! -s err ]
	run -0 bash -c 'pipeline-run --stats p.yaml 2>/dev/null | head -n1'
	[ "$output" = 1 ]
}

@test "a full disk: writing to /dev/full fails with exit 1" {
	printf 'stages:\n  - {run: [echo, hello]}\n' > p.yaml
	run -1 --separate-stderr bash -c 'pipeline-run -q p.yaml > /dev/full'
	[ "${stderr_lines[0]}" = "echo: echo: write error: No space left on device" ]
	run -1 --separate-stderr bash -c 'pipeline-run -n p.yaml > /dev/full'
	[ "$stderr" = "pipeline-run: stdout: write error: No space left on device" ]
	printf 'stages:\n  - {name: e, run: [echo, hello], stdout: o.txt, tee: o2.txt}\n' > p.yaml
	pipeline-run -q --no-sync p.yaml
	[ "$(cat o2.txt)" = hello ]
}

@test "SIGTERM mid-run: the stages are stopped, outputs untouched, no temporary files" {
	echo old > out.txt
	cat > p.yaml <<'EOF'
stages:
  - {name: gen, run: [sh, -c, 'echo partial; echo $$ > pid; exec sleep 30']}
  - {name: cat, run: [cat], stdout: out.txt, tee: copy.txt}
EOF
	pipeline-run -q p.yaml 3>&- &
	pr=$!
	wait_for pid
	kill -TERM "$pr"
	rc=0
	wait "$pr" || rc=$?
	[ "$rc" -eq 143 ]
	[ "$(cat out.txt)" = old ]
	[ ! -e copy.txt ]
	[ -z "$(ls -A | grep tmp)" ]
	for _ in $(seq 50); do kill -0 "$(cat pid)" 2>/dev/null || break; sleep 0.1; done
	run ! kill -0 "$(cat pid)"
}

@test "cache: a second run skips; touching an input hits; changing it misses" {
	cat > p.yaml <<'EOF'
stages:
  - {name: sort, run: [sort], stdin: in.txt, stdout: sorted.txt}
  - {name: count, run: [wc, -l], stdin: sorted.txt, stdout: count.txt}
EOF
	run -0 --separate-stderr pipeline-run --explain p.yaml
	[ "${stderr_lines[0]}" = "pipeline-run: sort: runs: sorted.txt does not exist" ]
	[ "${stderr_lines[2]}" = "pipeline-run: 2 chains: 2 ran, 0 up to date (0.0 s)" ] ||
		[[ "${stderr_lines[2]}" == "pipeline-run: 2 chains: 2 ran, 0 up to date ("* ]]
	[ -s .sorted.txt.stamp ] && [ -s .count.txt.stamp ]
	run -0 --separate-stderr pipeline-run --explain p.yaml
	[ "${stderr_lines[0]}" = "pipeline-run: sort: up to date" ]
	[ "${stderr_lines[1]}" = "pipeline-run: count: up to date" ]
	touch -d '2001-01-01' in.txt
	run -0 --separate-stderr pipeline-run --explain p.yaml
	[ "${stderr_lines[0]}" = "pipeline-run: sort: up to date" ]
	printf 'b\na\nd\n' > in.txt
	run -0 --separate-stderr pipeline-run --explain p.yaml
	[ "${stderr_lines[0]}" = "pipeline-run: sort: runs: input in.txt changed" ]
	[ "${stderr_lines[1]}" = "pipeline-run: count: runs: input sorted.txt changed" ]
	[ "$(cat sorted.txt)" = "$(printf 'a\nb\nd')" ]
	# Same count: the chain after it ran, its input's contents are new.
	printf 'd\nb\na\n' > in.txt
	run -0 --separate-stderr pipeline-run --explain p.yaml
	[ "${stderr_lines[0]}" = "pipeline-run: sort: runs: input in.txt changed" ]
	[ "${stderr_lines[1]}" = "pipeline-run: count: up to date" ]
}

@test "cache: a changed command, a changed output, a deleted stamp, --force" {
	printf 'vars: {n: 2}\nstages:\n  - {name: h, run: [head, -n, "${n}"], stdin: in.txt, stdout: o.txt}\n' > p.yaml
	pipeline-run -q p.yaml
	run -0 --separate-stderr pipeline-run --explain --set n=3 p.yaml
	[ "${stderr_lines[0]}" = "pipeline-run: h: runs: the command of stage 'h' changed" ]
	echo edited > o.txt
	run -0 --separate-stderr pipeline-run --explain --set n=3 p.yaml
	[ "${stderr_lines[0]}" = "pipeline-run: h: runs: o.txt changed since it was made" ]
	[ "$(cat o.txt)" = "$(cat in.txt)" ]
	rm .o.txt.stamp
	run -0 --separate-stderr pipeline-run --explain --set n=3 p.yaml
	[ "${stderr_lines[0]}" = "pipeline-run: h: runs: o.txt has no stamp" ]
	run -0 --separate-stderr pipeline-run --explain --set n=3 --force p.yaml
	[ "${stderr_lines[0]}" = "pipeline-run: h: runs: forced (--force)" ]
}

@test "cache: a changed program makes its chain run" {
	printf '#!/bin/sh\ncat\n' > prog.sh
	chmod +x prog.sh
	printf 'stages:\n  - {name: p, run: [./prog.sh], stdin: in.txt, stdout: o.txt}\n' > p.yaml
	pipeline-run -q p.yaml
	printf '#!/bin/sh\nsort\n' > prog.sh
	run -0 --separate-stderr pipeline-run --explain p.yaml
	[ "${stderr_lines[0]}" = "pipeline-run: p: runs: program ./prog.sh changed" ]
	[ "$(cat o.txt)" = "$(printf 'a\nb\nc')" ]
}

@test "--dry-run prints shell commands that do the same, and runs nothing" {
	cat > p.yaml <<'EOF'
vars:
  q: "it's a 'test'"
stages:
  - {name: a, run: [sort], stdin: in.txt, tee: sub/sorted.txt}
  - {name: b, run: [sed, "s/^/${q} /"], stdout: sub/out.txt}
  - {name: c, run: [wc, -l], stdin: sub/out.txt, stdout: sub/n.txt}
EOF
	run -0 pipeline-run -n p.yaml
	[ ! -e sub ]
	# Programs as the files they resolved to.
	sort=$(command -v sort) sed=$(command -v sed) wc=$(command -v wc)
	assert_line --index 0 "mkdir -p sub"
	assert_line --index 2 "$sort < in.txt | tee sub/sorted.txt | $sed 's/^/it'\\''s a '\\''test'\\'' /' > sub/out.txt"
	assert_line --index 4 "$wc -l < sub/out.txt > sub/n.txt"
	bash -o pipefail -c "$output"
	mkdir ref && mv sub ref/
	pipeline-run -q p.yaml
	diff -r -x '.*.stamp' ref/sub sub
	# After a run: every chain, its lines commented out under a mark,
	# so that the output still runs nothing.
	run -0 pipeline-run -n p.yaml
	[ "${#lines[@]}" -eq 4 ]
	assert_line --index 0 "# up to date: sub/out.txt"
	assert_line --index 1 "# $sort < in.txt | tee sub/sorted.txt | $sed 's/^/it'\\''s a '\\''test'\\'' /' > sub/out.txt"
	assert_line --index 2 "# up to date: sub/n.txt"
	assert_line --index 3 "# $wc -l < sub/out.txt > sub/n.txt"
	# Only the chain whose input changed would run, and so the one after
	# it (its input is still to be made).
	printf 'z\n' >> in.txt
	run -0 pipeline-run -n p.yaml
	assert_line --index 0 "$sort < in.txt | tee sub/sorted.txt | $sed 's/^/it'\\''s a '\\''test'\\'' /' > sub/out.txt"
	assert_line --index 1 "$wc -l < sub/out.txt > sub/n.txt"
	printf 'stages:\n  - {run: [sort], stdin: in.txt, stdout: s.txt}\n  - {run: [cat], stdin: in.txt, stdout: c.txt}\n' > q.yaml
	pipeline-run -q q.yaml
	echo x > c.txt
	run -0 pipeline-run -n q.yaml
	[ "$output" = "$(printf '# up to date: s.txt\n# %s < in.txt > s.txt\n%s < in.txt > c.txt' "$sort" "$(command -v cat)")" ]
}

# A copy of pipeline-run in d/ with a fake cookbook-gen beside it, and
# p/, programs that only PATH names.
fake_install() {
	mkdir d p
	cp "$LOAM_OUT/bin/pipeline-run" d/
	printf '#!/bin/sh\necho "beside: $*"\n' > d/cookbook-gen
	printf '#!/bin/sh\necho "in PATH: $*"\n' > p/cookbook-gen
	printf '#!/bin/sh\necho "only in PATH: $*"\n' > p/only-in-path
	chmod +x d/cookbook-gen p/cookbook-gen p/only-in-path
}

@test "programs: found beside pipeline-run without PATH, then in PATH" {
	bin=$(cd "$LOAM_OUT/bin" && pwd -P)	# as /proc/self/exe has it
	cat > p.yaml <<END
stages:
  - {name: gen, run: cookbook-gen gen -q -n 5 -s 1 lego, stdout: gen.jsonl}
  - {name: count, run: [reward-count, -q], stdin: $TESTDATA/pipeline/trajectories.jsonl, stdout: r.jsonl}
END
	PATH=/usr/bin:/bin run -0 --separate-stderr "$LOAM_OUT/bin/pipeline-run" -q p.yaml
	[ "$(wc -l < gen.jsonl)" -eq 5 ]
	[ "$(wc -l < r.jsonl)" -eq 200 ]
	# The stamp hashes the file that ran, named by its resolved path.
	grep -qx "prog [0-9a-f]\{16\} $bin/cookbook-gen" .gen.jsonl.stamp
	PATH=/usr/bin:/bin run -0 "$LOAM_OUT/bin/pipeline-run" -n p.yaml
	assert_line --index 1 "# $bin/cookbook-gen gen -q -n 5 -s 1 lego < /dev/null > gen.jsonl"
	# A missing program: exit 2, before anything runs, as before.
	printf 'stages:\n  - {run: [cookbook-gen, gen], stdout: x.jsonl}\n  - {run: [no-such-program-x]}\n' > bad.yaml
	PATH=/usr/bin:/bin run -2 --separate-stderr "$LOAM_OUT/bin/pipeline-run" bad.yaml
	[ "$stderr" = "pipeline-run: bad.yaml:3:11: stage 'no-such-program-x': program 'no-such-program-x' not found in PATH" ]
	[ ! -e x.jsonl ]
}

@test "programs: one beside pipeline-run wins over PATH; -n and the stamp name it" {
	fake_install
	bin=$(cd "$LOAM_OUT/bin" && pwd -P) here=$(pwd -P)
	printf 'stages:\n  - {run: [cookbook-gen, a], stdout: a.txt}\n  - {run: [only-in-path, b], stdout: b.txt}\n' > p.yaml
	PATH=$here/p:$PATH run -0 --separate-stderr d/pipeline-run -q p.yaml
	[ "$(cat a.txt)" = "beside: a" ]
	[ "$(cat b.txt)" = "only in PATH: b" ]
	grep -qx "prog [0-9a-f]\{16\} $here/d/cookbook-gen" .a.txt.stamp
	grep -qx "prog [0-9a-f]\{16\} $here/p/only-in-path" .b.txt.stamp
	rm a.txt b.txt
	PATH=$here/p:$PATH run -0 d/pipeline-run -n p.yaml
	[ "$output" = "$(printf '%s a < /dev/null > a.txt\n%s b < /dev/null > b.txt' \
	    "$here/d/cookbook-gen" "$here/p/only-in-path")" ]
	# The real pipeline-run has the real cookbook-gen beside it: PATH's
	# fake is not the one.
	PATH=$here/p:$PATH run -0 "$LOAM_OUT/bin/pipeline-run" -n p.yaml
	assert_line --index 0 "$bin/cookbook-gen a < /dev/null > a.txt"
	# A changed program beside makes its chain run.
	PATH=$here/p:$PATH d/pipeline-run -q p.yaml
	printf '#!/bin/sh\necho "new: $*"\n' > d/cookbook-gen
	PATH=$here/p:$PATH run -0 --separate-stderr d/pipeline-run --explain p.yaml
	[ "${stderr_lines[0]}" = "pipeline-run: cookbook-gen: runs: program $here/d/cookbook-gen changed" ]
	[ "$(cat a.txt)" = "new: a" ]
}

@test "--stats: wall time, bytes and records per stage" {
	printf 'stages:\n  - {name: gen, run: [seq, 1000]}\n  - {name: even, run: [sed, -n, "n;p"], stdout: e.txt}\n' > p.yaml
	run -0 --separate-stderr pipeline-run -q --stats p.yaml
	[ "$(echo "${stderr_lines[0]}" | tr -s ' ')" = "stage status wall_s cpu_s bytes_out records_out" ]
	[ "$(echo "${stderr_lines[1]}" | awk '{print $1, $2, $5, $6}')" = "gen 0 3893 1000" ]
	[ "$(echo "${stderr_lines[2]}" | awk '{print $1, $2, $5, $6}')" = "even 0 $(seq 2 2 1000 | wc -c) 500" ]
	run -0 --separate-stderr pipeline-run -q --stats p.yaml
	[ "$(echo "${stderr_lines[1]}" | awk '{print $1, $2}')" = "gen cached" ]
}

@test "the lock: a second run of the same pipeline exits 75" {
	printf 'stages:\n  - {name: s, run: [sh, -c, "echo $$$$ > pid; exec sleep 30"], stdout: o.txt}\n' > p.yaml
	pipeline-run -q p.yaml 3>&- &
	pr=$!
	wait_for pid
	run -75 --separate-stderr pipeline-run p.yaml
	[ "$stderr" = "pipeline-run: p.yaml: another pipeline-run holds its lock; not starting" ]
	# Another lock file lets it through (it then fails on its own).
	printf 'stages:\n  - {name: s, run: [echo, hi], stdout: o2.txt}\n' > q.yaml
	# Another pipeline may use p.yaml as its lock: held too.
	run -75 pipeline-run -q --lock p.yaml q.yaml
	run -0 pipeline-run -q --lock other.lock q.yaml
	kill -TERM "$pr"
	wait "$pr" || true
	# Released with the process: a new run goes.
	printf 'stages:\n  - {name: s, run: [echo, hi], stdout: o.txt}\n' > p.yaml
	run -0 pipeline-run -q p.yaml
}

@test "errors in the file: exit 2 with file:line:column, before anything runs" {
	t='  - {name: t, run: [touch, ran]}\n'
	check_bad "stages:\n$t  - run: [cat\n" "bad.yaml:4:1: did not find expected ',' or ']' (while parsing a flow sequence at line 3 column 10)"
	check_bad "stages:\n$t  - {run: [cat], color: red}\n" "bad.yaml:3:25: unknown key 'color' in a stage (expected name, run, stdin, stdout, tee or needs)"
	check_bad "stages:\n$t  - {run: [cat], run: [sort]}\n" "bad.yaml:3:18: duplicate key 'run'"
	check_bad "stages:\n$t  - {run: [cat], stdout:o.txt}\n" "bad.yaml:3:18: key 'stdout:o.txt' has no value: a space is needed after ':' ('stdout:o.txt' reads as one key)"
	check_bad "stages:\n$t  - {run: [cat, \"\${nope}\"]}\n" "bad.yaml:3:17: run: undefined variable 'nope'"
	check_bad "stages:\n$t  - {run: [no-such-program-x]}\n" "bad.yaml:3:11: stage 'no-such-program-x': program 'no-such-program-x' not found in PATH"
	check_bad "stages:\n$t  - {name: a, run: cat, stdin: x, stdout: y}\n  - {name: b, run: cat, stdin: y, stdout: x}\n" \
	    "bad.yaml:3:5: cycle: b -> a -> b (each reads a file the one before writes)"
	check_bad "stages:\n$t  - {name: a, run: cat, stdout: x}\n  - {name: b, run: cat, stdout: ./x}\n" \
	    "bad.yaml:4:5: 'x' is also written by stage 'a' (bad.yaml:3:5): a file has one writer"
	check_bad "stages:\n$t  - {run: [cat]}\n  - {run: [cat]}\n" "bad.yaml:4:5: a second stage named 'cat' (the first is at bad.yaml:3:5): give each a name:"
	check_bad "colour: 1\nstages:\n$t" "bad.yaml:1:9: unknown key 'colour' (expected description, vars or stages)"
	check_bad "stages: []\n" "bad.yaml:1:9: stages: expected a list of stages"
	check_bad "stages:\n$t  - {run: 'a \"b'}\n" "bad.yaml:3:11: run: unterminated quote"
	check_bad "stages:\n$t  - {name: 'a b', run: [cat]}\n" "bad.yaml:3:12: name: 'a b' is not a valid stage name (letters, digits, '.', '_' and '-')"
}

@test "an input that nothing makes and that does not exist: exit 1 before anything runs" {
	printf 'stages:\n  - {name: t, run: [touch, ran]}\n  - {name: c, run: [cat], stdin: missing.txt}\n' > p.yaml
	run -1 --separate-stderr pipeline-run p.yaml
	[ "$stderr" = "pipeline-run: p.yaml:3:5: stage 'c': missing.txt: No such file or directory" ]
	[ ! -e ran ]
}

@test "determinism: two runs give the same outputs" {
	printf 'stages:\n  - {run: [sort, -r], stdin: in.txt, stdout: a.txt, tee: b.txt}\n' > p.yaml
	pipeline-run -q p.yaml
	cp a.txt first.txt
	pipeline-run -q --force p.yaml
	cmp a.txt first.txt
	cmp a.txt b.txt
}

# The man page examples: the pipeline file, the commands, the crontab
# line and the Makefile rule, taken from the man page source.
man_file() {	# man page, name after "example-file:" -> the block's text
	awk -v want="$2" '
		$0 == ".\\\" example-file: " want { found = 1; next }
		found && /^\.Bd/ { inblock = 1; next }
		inblock && /^\.Ed/ { exit }
		inblock { gsub(/\\e/, "\\"); print }' "$1"
}

@test "the man page EXAMPLES run: commands, crontab line, Makefile rule" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	man="$LOAM_TOP/man/pipeline-run.1"
	man_file "$man" mix.yaml > mix.yaml
	[ -s mix.yaml ]
	man_text "$man" | sed -n '/^EXAMPLES/,/^SEE ALSO/p' |
		sed -n 's/^[[:space:]]*\$ //p' > examples.sh
	[ "$(wc -l < examples.sh)" -ge 4 ]
	run -0 bash -e examples.sh
	[ "$(wc -l < data/mix.jsonl)" -eq 100 ]
	# The crontab line: its command as cron would run it.
	man_file "$man" crontab > crontab
	[ "$(wc -l < crontab)" -eq 1 ]
	mkdir -p home/data
	cp mix.yaml home/data/
	cmd=$(cut -d' ' -f6- crontab)
	HOME=$PWD/home run -0 sh -c "$cmd"
	[ "$(wc -l < home/data/data/mix.jsonl)" -eq 100 ]
	HOME=$PWD/home run -0 sh -c "$cmd"
	[ ! -s home/data/mix.log ]
	# The Makefile rule.
	man_file "$man" Makefile > Makefile
	grep -q '^	pipeline-run' Makefile
	rm -rf data
	run -0 make -s
	[ "$(wc -l < data/mix.jsonl)" -eq 100 ]
	run -0 make -s
}

@test "loam-pipeline(5) EXAMPLES run" {
	man="$LOAM_TOP/man/loam-pipeline.5"
	awk '/^\.Sh EXAMPLES/ { ex = 1 } ex && /^\.Bd/ { inb = 1; next } inb && /^\.Ed/ { exit } inb { print }' \
		"$man" > p.yaml
	ln -s "$TESTDATA" testdata
	run -0 pipeline-run -q p.yaml
	[ "$(cat build/count.txt)" = 300 ]
	# And the file in DESCRIPTION.
	awk '/^\.Sh DESCRIPTION/ { d = 1 } d && /^\.Bd/ { inb = 1; next } inb && /^\.Ed/ { exit } inb { print }' \
		"$man" > d.yaml
	run -0 pipeline-run -q d.yaml
	[ "$(wc -l < build/first.jsonl)" -eq 10 ]
	[ "$(wc -l < build/upper.jsonl)" -eq 1000 ]
}

# The pipelines/ library: each runs on the shipped data, then is up to date.
smoke() {	# pipeline name, then output files and their line counts
	local p=$1 out=$BATS_TEST_TMPDIR/out
	shift
	cd "$LOAM_TOP"
	run -0 --separate-stderr pipeline-run -j 2 --set out="$out" "pipelines/$p.yaml"
	while [ $# -gt 0 ]; do
		assert_equal "$(wc -l < "$out/$1")" "$2"
		shift 2
	done
	run -0 --separate-stderr pipeline-run --explain --set out="$out" "pipelines/$p.yaml"
	[ -z "$(printf '%s\n' "${stderr_lines[@]}" | grep ': runs: ' | grep -v 'writes no file')" ]
}

@test "pipelines/demo.yaml" {
	smoke demo instructions.jsonl 1000 fixed.jsonl 300 rewards.jsonl 200 counts.jsonl 18 \
	    tart.jsonl 300 hedgehog-eval.jsonl 30
	# Every chain writes a file, so a second run has nothing to do.
	[ "${stderr_lines[-1]%% (*}" = "pipeline-run: 11 chains: 0 ran, 11 up to date" ]
	run -0 --separate-stderr pipeline-run -q --force --set out="$BATS_TEST_TMPDIR/out" pipelines/demo.yaml
	[ -z "$output" ]
	grep -Eq '^ +1000 .*/instructions.jsonl$' "$BATS_TEST_TMPDIR/out/summary.txt"
	[[ "$stderr" == *"embroid: embroid-fix: gold: accuracy 0.6867 -> 0.8633"* ]]
	[[ "$stderr" == *"tart: tart-fit: predict: k = 64, accuracy "*" on 300 labelled queries"* ]]
	[[ "$stderr" == *"hedgehog-eval: hedgehog "* && "$stderr" == *"hedgehog-eval: elu1 "* ]]
	[[ "$stderr" == *"check: cookbook-gen: checked 1000 records: 0 mismatches"* ]]
}

@test "pipelines/cookbook-gen.yaml" {
	smoke cookbook-gen train.jsonl 20000 train-chat.jsonl 20000 heldout.jsonl 1000
	cookbook-gen check -q "$BATS_TEST_TMPDIR/out/heldout.jsonl"
}

@test "pipelines/skillit-mix.yaml" {
	smoke skillit-mix train.jsonl 5000
	[ "$(grep -c '"template":"lego"' "$BATS_TEST_TMPDIR/out/train.jsonl")" -gt 1000 ]
}

@test "pipelines/embroid-fix.yaml" {
	smoke embroid-fix binary.jsonl 300 classes.jsonl 300
}

@test "pipelines/tart-fit.yaml" {
	smoke tart-fit labelled.jsonl 300 eval.jsonl 3
	grep -q '"tart_label":' "$BATS_TEST_TMPDIR/out/labelled.jsonl"
}

@test "pipelines/hedgehog-train.yaml" {
	smoke hedgehog-train fit.jsonl 4 fit-exp.jsonl 4 eval.jsonl 30 eval-exp.jsonl 5
	[ -s "$BATS_TEST_TMPDIR/out/maps.safetensors" ]
}

@test "pipelines/superhf.yaml" {
	smoke superhf candidates.jsonl 6400 train.jsonl 800 collapse.jsonl 5
	run -0 --separate-stderr pipeline-run -q --force --set out="$BATS_TEST_TMPDIR/out" pipelines/superhf.yaml
	[[ "$stderr" == *"filter: superhf-filter: 800 groups, 8.0 candidates each, 800 kept"* ]]
	jq -e 'select(.type == "overall") | .meteor_similarity > 0.1 and .meteor_similarity < 0.5' \
	    "$BATS_TEST_TMPDIR/out/collapse.jsonl"
}

@test "pipelines/reward-count.yaml" {
	smoke reward-count rewards.jsonl 200 counts.jsonl 18 rewards-simhash.jsonl 200
}

@test "pipelines/congest-route.yaml" {
	smoke congest-route plan.jsonl 1 carmab.jsonl 17 ucb1.jsonl 17 known.jsonl 2001 requests.jsonl 4000 \
	    decisions.jsonl 2001
	jq -e '.gain == 0.625' "$BATS_TEST_TMPDIR/out/plan.jsonl"
	# carmab's regret is a fraction of UCB1's
	jq -e -s '.[0].regret < .[1].regret / 3' <(tail -n1 "$BATS_TEST_TMPDIR/out/carmab.jsonl") \
	    <(tail -n1 "$BATS_TEST_TMPDIR/out/ucb1.jsonl")
	jq -e '.format == "congest-route state" and .steps == 2000' "$BATS_TEST_TMPDIR/out/router.state"
}

@test "pipelines/reward-query.yaml" {
	smoke reward-query candidates.jsonl 200 obs1.jsonl 4 obs2.jsonl 4 obs3.jsonl 4 obs4.jsonl 4 \
	    final.jsonl 202
	# 16 distinct queries; the recommendation is the best candidate, x sin(3x)'s maximum on the grid
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/out/obs?.jsonl | jq -r .id | sort -u | wc -l)" 16
	assert_equal "$(jq -c 'select(.type == "recommend") | .id' "$BATS_TEST_TMPDIR/out/final.jsonl")" \
	    "$(jq -s 'max_by(.truth) | .id' "$BATS_TEST_TMPDIR/out/candidates.jsonl")"
	jq -e '.format == "reward-query state"' <(head -n1 "$BATS_TEST_TMPDIR/out/state.jsonl")
}

@test "an output that cannot be created: the stage and path named, exit 1, no hang, the lock released" {
	touch p.yaml
	printf 'stages:\n  - {name: g, run: [echo, new], stdout: p.yaml/x.txt}\n' > q.yaml
	run -1 --separate-stderr timeout 20 pipeline-run q.yaml
	[ "${stderr_lines[0]}" = "pipeline-run: stage 'g': cannot write p.yaml/x.txt (p.yaml/x.txt: Not a directory)" ]
	# the lock is free: a second run fails the same way, not with 75
	run -1 --separate-stderr timeout 20 pipeline-run q.yaml
	printf 'stages:\n  - {name: h, run: [echo, hi], tee: [/proc/loam/x], stdout: o.txt}\n' > t.yaml
	run -1 --separate-stderr timeout 20 pipeline-run t.yaml
	assert_equal "${stderr_lines[0]}" "pipeline-run: stage 'h': cannot write /proc/loam/x (/proc/loam: No such file or directory)"
	[ ! -e o.txt ]
}

@test "an output that is the pipeline file or an input of its own chain: exit 2 at load, nothing written" {
	check() {	# yaml, expected message
		printf '%b' "$1" > p.yaml
		cp p.yaml before.yaml
		run -2 --separate-stderr pipeline-run p.yaml
		assert_equal "$stderr" "pipeline-run: $2"
		cmp p.yaml before.yaml
		[ ! -e ran ]
	}
	t='  - {name: t, run: [touch, ran]}\n'
	check "stages:\n$t  - {name: a, run: [echo, hi], stdout: p.yaml}\n" \
	    "p.yaml:3:40: stdout: 'p.yaml' is the pipeline file itself: writing it would destroy the pipeline"
	check "stages:\n$t  - {name: a, run: [echo, hi], tee: [x, ./p.yaml]}\n" \
	    "p.yaml:3:41: tee: 'p.yaml' is the pipeline file itself: writing it would destroy the pipeline"
	check "stages:\n$t  - {name: a, run: [echo, hi], stdout: $PWD/p.yaml}\n" \
	    "p.yaml:3:40: stdout: '$PWD/p.yaml' is the pipeline file itself: writing it would destroy the pipeline"
	# Through a link, and through a directory made by the run.
	ln -s p.yaml link.yaml
	check "stages:\n$t  - {name: a, run: [echo, hi], stdout: link.yaml}\n" \
	    "p.yaml:3:40: stdout: 'link.yaml' is the pipeline file itself: writing it would destroy the pipeline"
	check "stages:\n$t  - {name: a, run: [echo, hi], stdout: new/../p.yaml}\n" \
	    "p.yaml:3:40: stdout: 'new/../p.yaml' is the pipeline file itself: writing it would destroy the pipeline"
	[ ! -e new ]
	# An input of the same chain: stdin: or needs: of any of its stages.
	check "stages:\n$t  - {name: a, run: [sort], stdin: in.txt}\n  - {name: b, run: [cat], stdout: ./in.txt}\n" \
	    "p.yaml:4:35: stdout: 'in.txt' is also an input of its chain (stdin: of stage 'a', p.yaml:3:35): a chain cannot write a file it reads"
	ln in.txt hard.txt
	check "stages:\n$t  - {name: a, run: [sort], needs: [x.txt, in.txt], tee: hard.txt}\n" \
	    "p.yaml:3:57: tee: 'hard.txt' is also an input of its chain (needs: of stage 'a', p.yaml:3:43): a chain cannot write a file it reads"
	check "stages:\n$t  - {name: a, run: [cat], needs: o.txt}\n  - {name: b, run: [cat], stdout: o.txt}\n" \
	    "p.yaml:4:35: stdout: 'o.txt' is also an input of its chain (needs: of stage 'a', p.yaml:3:34): a chain cannot write a file it reads"
	# Another chain reading it is the usual case, and the pipeline file
	# may be read.
	printf 'stages:\n  - {name: a, run: [cat], stdin: p.yaml, stdout: o.txt}\n  - {name: b, run: [cat], stdin: o.txt, stdout: o2.txt}\n' > p.yaml
	run -0 pipeline-run -q p.yaml
	cmp o2.txt p.yaml
}

@test "YAML limits: tags refused, nesting and size capped, each with file:line:column" {
	t='  - {name: t, run: [touch, ran]}\n'
	check_bad "stages:\n$t  - {name: a, run: !foo [echo]}\n" "bad.yaml:3:20: tags are not supported ('!foo'): quote a value to make it a string"
	check_bad "stages:\n$t  - {name: a, run: [echo, !!str 1]}\n" "bad.yaml:3:27: tags are not supported ('!!str'): quote a value to make it a string"
	check_bad "stages:\n$t  - !!python/object:os.system {name: a, run: [echo]}\n" "bad.yaml:3:5: tags are not supported ('!!python/object:os.system'): quote a value to make it a string"
	check_bad "!!map\nstages:\n$t" "bad.yaml:1:1: tags are not supported ('!!map'): quote a value to make it a string"
	# 100000 levels of flow nesting took libyaml 25 s and more: refused at
	# the 65th, at once.
	{ printf 'stages: '; head -c 100000 /dev/zero | tr '\0' '['; } > bad.yaml
	run -2 --separate-stderr timeout 5 pipeline-run bad.yaml
	assert_equal "$stderr" "pipeline-run: bad.yaml:1:72: nested deeper than 64 levels"
	# 17 MB: refused without parsing.
	{ printf 'stages:\n'; head -c 17000000 /dev/zero | tr '\0' ' '; } > bad.yaml
	run -2 --separate-stderr timeout 5 pipeline-run bad.yaml
	assert_equal "$stderr" "pipeline-run: bad.yaml:2:16777209: larger than 16 MiB (a configuration file, not data)"
	# The other readers of YAML have the same rules.
	printf 'lego: !!float 1\n' > mix.yaml
	run -1 --separate-stderr cookbook-gen gen -n 10 --mix mix.yaml
	[[ "$stderr" == *"mix.yaml:1:7: tags are not supported ('!!float')"* ]]
}

@test "values are typed: description: and name: are text, stdin:/stdout:/tee:/needs: file names" {
	s='stages:\n  - {name: a, run: [echo]}\n'
	check_bad "description: [1]\n$s" "bad.yaml:1:14: description: expected a string"
	check_bad "description: {a: b}\n$s" "bad.yaml:1:14: description: expected a string"
	check_bad "description:\n$s" "bad.yaml:1:1: description: expected a string"
	check_bad "vars: [a]\n$s" "bad.yaml:1:7: vars: expected a mapping of names to values"
	check_bad "vars: {a: [1]}\n$s" "bad.yaml:1:11: vars: a: expected a string or a number"
	check_bad "stages: {a: 1}\n" "bad.yaml:1:9: stages: expected a list of stages"
	check_bad "stages:\n  - {name: [a], run: [echo]}\n" "bad.yaml:2:12: name: expected a string"
	check_bad "stages:\n  - {name: a, run: {x: 1}}\n" "bad.yaml:2:20: run: expected a command string or a list of words"
	check_bad "stages:\n  - {name: a, run: [echo, [x]]}\n" "bad.yaml:2:27: run: word 2 is not a string or a number"
	check_bad "stages:\n  - {name: a, run: [echo], stdin: [x]}\n" "bad.yaml:2:35: stdin: expected a file name"
	check_bad "stages:\n  - {name: a, run: [echo], stdout: {x: 1}}\n" "bad.yaml:2:36: stdout: expected a file name"
	check_bad "stages:\n  - {name: a, run: [echo], tee: [[x]]}\n" "bad.yaml:2:34: tee: expected a file name"
	check_bad "stages:\n  - {name: a, run: [echo], needs: {x: 1}}\n" "bad.yaml:2:35: needs: expected a file name"
	# A number is text as written, here as everywhere.
	printf 'description: 2026\nstages:\n  - {name: 7, run: [echo, 010]}\n' > ok.yaml
	run -0 --separate-stderr pipeline-run -q ok.yaml
	[ "$output" = 010 ]
}

@test "variables of variables: a value past 1 MiB is an error naming the variable and where it is used" {
	{
		printf 'vars:\n  x0: %s\n' "$(head -c 100 /dev/zero | tr '\0' a)"
		for i in 1 2 3 4 5 6 7 8 9; do
			printf '  x%d: "' "$i"
			for _ in 1 2 3 4 5 6 7 8 9 10; do printf '${x%d}' $((i - 1)); done
			printf '"\n'
		done
		printf 'stages:\n  - {name: a, run: [echo, "${x9}"]}\n'
	} > p.yaml
	run -2 --separate-stderr timeout 10 pipeline-run p.yaml
	assert_equal "$stderr" "pipeline-run: p.yaml:7:7: vars: x5: \${x4} makes the value longer than 1 MiB (the limit for one value)"
	# In a command word, from the environment.
	printf 'stages:\n  - {name: a, run: [echo, "%s"]}\n' "$(printf '${big}%.0s' $(seq 11))" > p.yaml
	big=$(head -c 100000 /dev/zero | tr '\0' b) run -2 --separate-stderr pipeline-run p.yaml
	assert_equal "$stderr" "pipeline-run: p.yaml:2:27: run: \${big} makes the value longer than 1 MiB (the limit for one value)"
	# Many values under 1 MiB each: 64 MiB in all (word 135 crosses it).
	{
		printf 'vars:\n  a: %s\n' "$(head -c 500000 /dev/zero | tr '\0' a)"
		printf 'stages:\n  - {name: a, run: [echo'
		for _ in $(seq 140); do printf ', "${a}"'; done
		printf ']}\n'
	} > p.yaml
	run -2 --separate-stderr pipeline-run p.yaml
	assert_equal "$stderr" "pipeline-run: p.yaml:4:1099: run: \${a}: the variables substituted come to more than 64 MiB in all (the limit for a pipeline)"
	# Just under the limit still runs.
	printf 'vars:\n  a: "%s"\n  b: "${a}${a}"\nstages:\n  - {name: a, run: [wc, -c], stdin: in.txt}\n' "$(head -c 524288 /dev/zero | tr '\0' a)" > p.yaml
	run -0 pipeline-run -q p.yaml
}
