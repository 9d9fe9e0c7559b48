#!/usr/bin/env bats
# Reliability of outputs (lib/base/util.h atomic_open, loam-records(5) "-o"):
# what a path names decides how it is written, and a killed run leaves
# no temporary file behind once the same output is written again.

load helper

# In a folder of its own: bats keeps files of its own (run
# --separate-stderr's) in BATS_TEST_TMPDIR, and the tests list theirs.
setup() {
	mkdir "$BATS_TEST_TMPDIR/w"
	cd "$BATS_TEST_TMPDIR/w"
}

# devices: make ./null.dev (1,3, /dev/null's) and ./full.dev (1,7,
# /dev/full's) here, or skip.
devices() {
	mknod null.dev c 1 3 2>/dev/null && mknod full.dev c 1 7 2>/dev/null ||
		skip "mknod not permitted here (the tests need root, as in CI)"
}

# still_device FILE: FILE is still a character device.
still_device() {
	[ -c "$1" ] && [ ! -L "$1" ]
}

# open_output PID: wait (up to 10 s) until PID has its temporary file open
# (anonymous: "DIR/#INODE (deleted)"; named: .NAME.loam-tmp.*).
open_output() {
	for _ in $(seq 100); do
		ls -l "/proc/$1/fd" 2>/dev/null | grep -q -e "$PWD/#" -e loam-tmp && return 0
		sleep 0.1
	done
	return 1
}

# dead_pid: a process id that is no longer running.
dead_pid() {
	true &
	local p=$!
	wait "$p"
	echo "$p"
}

@test "-o onto a character device writes to it and leaves it a device" {
	devices
	run -0 cookbook-gen gen -q -n 3 -o null.dev lego
	still_device null.dev
	[ "$(ls -A)" = $'full.dev\nnull.dev' ]
}

@test "-o onto /dev/full: the write error is an error (exit 1), the device stays" {
	devices
	run -1 --separate-stderr cookbook-gen gen -q -n 3 -o full.dev lego
	[ "$stderr" = "cookbook-gen: full.dev: No space left on device" ]
	still_device full.dev
	[ "$(ls -A)" = $'full.dev\nnull.dev' ]
}

@test "reward-count --save onto a device: written in place; /dev/full fails" {
	devices
	printf '%s\n' '{"progress":[0.5]}' '{"progress":[0.2]}' > in.jsonl
	run -0 reward-count -q --save null.dev in.jsonl
	still_device null.dev
	run -1 --separate-stderr reward-count -q --save full.dev in.jsonl
	[[ "$stderr" == *"full.dev: No space left on device"* ]]
	still_device full.dev
	[ "$(ls -A)" = $'full.dev\nin.jsonl\nnull.dev' ]
}

@test "-o onto a FIFO delivers the data to its reader" {
	mkfifo fifo
	cat fifo > got &
	reader=$!
	run -0 cookbook-gen gen -q -n 3 -o fifo lego
	wait "$reader"
	[ -p fifo ]
	cookbook-gen gen -q -n 3 lego > want
	cmp got want
	[ "$(ls -A)" = $'fifo\ngot\nwant' ]
}

@test "-o onto a symlink replaces its target atomically and keeps the link" {
	mkdir d
	echo old > d/target
	ln -s d/target link
	ino=$(stat -c %i d/target)
	run -0 cookbook-gen gen -q -n 3 -o link lego
	[ -L link ] && [ "$(readlink link)" = d/target ]
	cookbook-gen gen -q -n 3 lego > want
	cmp d/target want
	# A new file renamed into place, not the old one rewritten.
	[ "$(stat -c %i d/target)" != "$ino" ]
	[ "$(ls -A . d | tr '\n' ' ')" = ".: d link want  d: target " ]
}

@test "-o through a chain of relative links; a failed run leaves the target intact" {
	mkdir -p a/b
	echo precious > a/b/t
	ln -s b/t a/l2		# relative to a/, not to the working directory
	ln -s a/l2 l1
	printf '{"a":1}\n' > good.jsonl
	printf '{"a":1}\n{"a":\n' > bad.jsonl
	run -1 rec-cat -q -o l1 bad.jsonl
	[ "$(cat a/b/t)" = precious ]
	[ -L l1 ] && [ -L a/l2 ]
	run -0 rec-cat -q -o l1 good.jsonl
	[ "$(cat a/b/t)" = '{"a":1}' ]
	[ -L l1 ] && [ -L a/l2 ]
	[ "$(ls -A a/b)" = t ]
}

@test "-o onto a dangling link creates its target" {
	ln -s new.jsonl link
	printf '{"a":1}\n' > in.jsonl
	run -0 rec-cat -q -o link in.jsonl
	[ -L link ] && [ -f new.jsonl ]
	[ "$(cat new.jsonl)" = '{"a":1}' ]
	[ "$(ls -A)" = $'in.jsonl\nlink\nnew.jsonl' ]
}

@test "-o onto a symlink to a device writes to the device" {
	devices
	ln -s null.dev link
	run -0 cookbook-gen gen -q -n 2 -o link lego
	[ -L link ] && still_device null.dev
}

@test "-o - and -o /dev/stdout go to stdout" {
	cookbook-gen gen -q -n 3 lego > want
	cookbook-gen gen -q -n 3 -o - lego > got1
	cmp want got1
	cookbook-gen gen -q -n 3 -o /dev/stdout lego > got2
	cmp want got2
	# The same open stdout, not a file renamed over it: >> appends.
	echo first > got3
	cookbook-gen gen -q -n 3 -o /dev/stdout lego >> got3
	[ "$(head -n1 got3)" = first ]
	[ "$(tail -n +2 got3)" = "$(cat want)" ]
	cookbook-gen gen -q -n 3 -o /dev/stdout lego | cmp - want
	[ "$(ls -A)" = $'got1\ngot2\ngot3\nwant' ]
}

@test "--save /dev/fd/N writes to that open descriptor (appending with >>)" {
	printf '%s\n' '{"progress":[0.5]}' > in.jsonl
	reward-count -q --save t.rc in.jsonl > /dev/null
	echo first > got
	reward-count -q --save /dev/fd/3 in.jsonl > /dev/null 3>> got
	[ "$(head -n1 got)" = first ]
	cmp <(tail -c +7 got) t.rc
}

@test "pipeline-run: stdout: to a FIFO is written in place and never up to date" {
	mkfifo fifo
	printf 'b\na\n' > in.txt
	printf 'stages:\n  - {name: s, run: [sort], stdin: in.txt, stdout: fifo}\n' > p.yaml
	cat fifo > got &
	reader=$!
	run -0 pipeline-run -q p.yaml
	wait "$reader"
	[ -p fifo ]
	[ "$(cat got)" = $'a\nb' ]
	[ ! -e .fifo.stamp ]
	cat fifo > got2 &
	reader=$!
	run -0 --separate-stderr pipeline-run --explain p.yaml
	wait "$reader"
	[ "$(cat got2)" = $'a\nb' ]
	[[ "$stderr" == *"runs: fifo is not a regular file"* ]]
	[ "$(ls -A)" = $'fifo\ngot\ngot2\nin.txt\np.yaml' ]
}

@test "pipeline-run: stdout: to a device is written in place, no stamp" {
	devices
	printf 'b\na\n' > in.txt
	printf 'stages:\n  - {name: s, run: [sort], stdin: in.txt, stdout: null.dev}\n' > p.yaml
	run -0 pipeline-run -q p.yaml
	still_device null.dev
	[ ! -e .null.dev.stamp ]
	printf 'stages:\n  - {name: s, run: [sort], stdin: in.txt, stdout: full.dev}\n' > p.yaml
	run -1 --separate-stderr pipeline-run -q p.yaml
	[[ "$stderr" == *"No space left on device"* ]]
	still_device full.dev
}

@test "pipeline-run: stdout: to a symlink replaces the target, keeps the link, caches" {
	mkdir d
	echo old > d/t
	ln -s d/t link
	printf 'b\na\n' > in.txt
	printf 'stages:\n  - {name: s, run: [sort], stdin: in.txt, stdout: link}\n' > p.yaml
	for sync in "" --no-sync; do
		rm -f .link.stamp
		run -0 pipeline-run -q $sync p.yaml
		[ -L link ] && [ "$(readlink link)" = d/t ]
		[ "$(cat d/t)" = $'a\nb' ]
		[ "$(ls -A d)" = t ]
	done
	run -0 --separate-stderr pipeline-run --explain p.yaml
	[[ "$stderr" == *"up to date"* ]]
	[ "$(ls -A)" = $'.link.stamp\nd\nin.txt\nlink\np.yaml' ]
}

@test "SIGKILL mid-run leaves the old output and, after a rerun, no temporary file" {
	echo precious > out.jsonl
	cookbook-gen gen -q -n 100000000 -o out.jsonl lego &
	pid=$!
	open_output "$pid"
	sleep 0.3		# well into writing
	kill -9 "$pid"
	wait "$pid" || true
	[ "$(cat out.jsonl)" = precious ]
	run -0 cookbook-gen gen -q -n 3 -o out.jsonl lego
	[ "$(ls -A)" = out.jsonl ]
	cookbook-gen gen -q -n 3 lego | cmp - out.jsonl
}

@test "leftover .NAME.loam-tmp.PID.* of a dead process go at the next commit; a live one's stay" {
	dead=$(dead_pid)
	echo junk > ".out.jsonl.loam-tmp.$dead.AbC123"
	echo live > ".out.jsonl.loam-tmp.$$.AbC123"
	echo other > ".other.loam-tmp.$dead.AbC123"
	printf '{"a":1}\n{"a":\n' > bad.jsonl
	run -1 rec-cat -q -o out.jsonl bad.jsonl
	[ -e ".out.jsonl.loam-tmp.$dead.AbC123" ]	# only a success cleans up
	printf '{"a":1}\n' > in.jsonl
	run -0 rec-cat -q -o out.jsonl in.jsonl
	[ ! -e ".out.jsonl.loam-tmp.$dead.AbC123" ]
	[ -e ".out.jsonl.loam-tmp.$$.AbC123" ]
	[ -e ".other.loam-tmp.$dead.AbC123" ]
}

@test "without O_TMPFILE (no /proc): a SIGKILLed run's named temporary file goes at the next run" {
	unshare -m true 2>/dev/null || skip "unshare -m not permitted here"
	echo precious > out.jsonl
	# With /proc hidden, the anonymous file could not be linked into place,
	# so the named temporary file is used; the pid in its name is global.
	run -0 unshare -m bash -c '
		umount -l /proc || exit 3
		cookbook-gen gen -q -n 100000000 -o out.jsonl lego 2>/dev/null &
		pid=$!
		for _ in $(seq 100); do
			ls -A | grep -q "^\.out\.jsonl\.loam-tmp\.$pid\." && break
			sleep 0.1
		done
		sleep 0.3
		kill -9 $pid
		{ wait $pid; } 2>/dev/null
		ls -A'
	assert_output --regexp $'^\\.out\\.jsonl\\.loam-tmp\\.[0-9]+\\.[A-Za-z0-9]{6}\nout\\.jsonl$'
	[ "$(cat out.jsonl)" = precious ]
	run -0 cookbook-gen gen -q -n 3 -o out.jsonl lego
	[ "$(ls -A)" = out.jsonl ]
}

@test "a .json file is JSON: a trailing comma is refused with file:line:column (YAML would take it)" {
	printf '{"lego": 1, "addition": 2,}\n' > m.json
	run -1 --separate-stderr cookbook-gen gen -n 2 --mix m.json
	[ "$stderr" = "cookbook-gen: m.json:1:27: not JSON: unexpected character" ]
	printf '{"lego": 1}\n{"addition": 2}\n' > two.json
	run -1 --separate-stderr cookbook-gen gen -n 2 --mix two.json
	[ "$stderr" = "cookbook-gen: two.json:2:1: not JSON: unexpected character" ]
	printf '{"lego": 1, "addition": 2}\n' > m.json
	run -0 cookbook-gen gen -q -n 2 --mix m.json
	[ "${#lines[@]}" -eq 2 ]
	printf '{"skills":["a","b"],"graph":[[1,0],[0,1],]}' > g.json
	run -1 --separate-stderr skillit-mix weights --static --graph g.json
	[[ "$stderr" == "skillit-mix: g.json:1:"*": not JSON: "* ]]
}

@test "skill names that are not UTF-8 are refused, not written raw into JSON" {
	printf 'a\n\377\nc\n' > sk.txt
	printf '{"graph":[[1,0,0],[0,1,0],[0,0,1]]}' > g.json
	run -1 --separate-stderr skillit-mix weights --static --graph g.json --skills sk.txt
	[ "$stderr" = "skillit-mix: sk.txt:2: skill name is not valid UTF-8" ]
	printf 'a\nb\n\303\251\n' > sk.txt
	run -0 skillit-mix weights --static --graph g.json --skills sk.txt
	assert_output --partial '"é":0.33'
}

@test "list options refuse an empty element (a typo, not a shorter list), exit 2" {
	run -2 --separate-stderr tart-fit eval -m "$TESTDATA/tart-cpu.safetensors" --ks 18,,64
	[ "${stderr_lines[0]}" = "tart-fit: --ks: empty element in '18,,64'" ]
	run -2 --separate-stderr tart-fit eval -m "$TESTDATA/tart-cpu.safetensors" --ks 18,
	[ "${stderr_lines[0]}" = "tart-fit: --ks: empty element in '18,'" ]
	run -2 --separate-stderr cookbook-gen align --templates lego,,addition
	[ "${stderr_lines[0]}" = "cookbook-gen: --templates: empty element in 'lego,,addition'" ]
	printf '{"graph":[[1,0],[0,1]]}' > g.json
	run -2 --separate-stderr skillit-mix weights --static --graph g.json --skills a,,b
	[ "${stderr_lines[0]}" = "skillit-mix: --skills: empty element in 'a,,b'" ]
	run -2 --separate-stderr skillit-mix sample -n 1 --weights a=1,,b=1 /dev/null
	[ "${stderr_lines[0]}" = "skillit-mix: --weights: empty element in 'a=1,,b=1'" ]
}

@test "reward-count and hedgehog-train: an empty --range and empty list elements are usage errors, exit 2" {
	echo '{"progress":[0.5]}' > p.jsonl
	run -2 --separate-stderr reward-count --range 1:0 p.jsonl
	[ "${stderr_lines[0]}" = "reward-count: --range: '1:0' is empty: min must be below max" ]
	run -2 --separate-stderr reward-count --range 0:1,, p.jsonl
	[ "${stderr_lines[0]}" = "reward-count: --range: empty element in '0:1,,'" ]
	run -2 --separate-stderr reward-count --bins 10,,10 p.jsonl
	[ "${stderr_lines[0]}" = "reward-count: --bins: empty element in '10,,10'" ]
	run -2 --separate-stderr hedgehog-train eval --fmap elu1,,relu x.safetensors
	[ "${stderr_lines[0]}" = "hedgehog-train: --fmap: empty element in 'elu1,,relu'" ]
	run -2 --separate-stderr hedgehog-train fit --layers 0, -o m.safetensors x.safetensors
	[ "${stderr_lines[0]}" = "hedgehog-train: --layers: empty element in '0,'" ]
}
