#!/usr/bin/env bats
# compress.bats - compressed JSON Lines (lib/base/zio): every program's
# inputs may be .gz or .zst, files or pipes, found by their first bytes;
# -o FILE.gz / FILE.zst compresses, atomically like any output.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	for i in $(seq 1 2000); do printf '{"prompt_id":"p%d","completion":"answer %d","score":%d}\n' $((i % 50)) "$i" "$i"; done > in.jsonl
	gzip -c in.jsonl > in.jsonl.gz
	superhf-filter -q --meteor-pairs 0 --top-k 2000 -o plain.out in.jsonl
}

@test "gzip and zstd inputs, files and pipes, give what the plain input gives" {
	superhf-filter -q --meteor-pairs 0 --top-k 2000 -o in.jsonl.zst in.jsonl.gz
	# the zstd file is zstd (magic 28 b5 2f fd), and reads back
	[ "$(head -c 4 in.jsonl.zst | od -An -tx1 | tr -d ' ')" = 28b52ffd ]
	for f in in.jsonl.gz in.jsonl.zst; do
		superhf-filter -q --meteor-pairs 0 --top-k 2000 "$f" > a.out
		cmp a.out plain.out
		superhf-filter -q --meteor-pairs 0 --top-k 2000 < "$f" > b.out
		cmp b.out plain.out
	done
	# a record program reads them the same way
	[ "$(meteor-sim pairs -q --group-field '' --text-field completion --stages exact < in.jsonl.gz | tail -n1 | jq .texts)" = 2000 ]
}

@test "concatenated members are one input; -o FILE.gz is what gzip reads" {
	cat in.jsonl.gz in.jsonl.gz > twice.gz
	run -0 superhf-filter -q --meteor-pairs 0 --top-k 4000 twice.gz
	assert_equal "${#lines[@]}" 4000
	superhf-filter -q --meteor-pairs 0 --top-k 2000 -o out.jsonl.gz in.jsonl
	gzip -dc out.jsonl.gz | cmp - plain.out
	# -o - stays plain: stdout is the caller's
	superhf-filter -q --meteor-pairs 0 --top-k 2000 -o - in.jsonl.gz | cmp - plain.out
}

@test "truncated or corrupt compressed input is an error naming the input, exit 1" {
	head -c 300 in.jsonl.gz > cut.gz
	run -1 --separate-stderr superhf-filter -q --meteor-pairs 0 cut.gz
	assert_equal "$stderr" "superhf-filter: cut.gz: compressed input ends early (truncated?)"
	{ head -c 20 in.jsonl.gz; head -c 2000 /dev/zero; } > bad.gz
	run -1 --separate-stderr superhf-filter -q --meteor-pairs 0 bad.gz
	[[ "$stderr" == "superhf-filter: bad.gz: "* ]]
}

@test "-o FILE.gz keeps an existing file when the run fails" {
	echo old | gzip -c > keep.gz
	printf '{"prompt_id":1}\n' > bad.jsonl
	run -1 superhf-filter -q --meteor-pairs 0 -o keep.gz bad.jsonl
	assert_equal "$(gzip -dc keep.gz)" old
}

@test "a plain line on a pipe is answered at once (sniffing waits only for a magic's prefix)" {
	echo '{"skills":["a","b"],"graph":[[1,0],[0,1]]}' > g.json
	coproc SK { skillit-mix weights --follow --graph g.json; }
	sk_pid=$SK_PID	# bash unsets SK_PID when the coprocess ends
	read -t 10 -r first <&"${SK[0]}"
	[[ "$first" == '{"round":0,'* ]]
	# one line, and nothing more until it is answered
	echo '{"step":5,"losses":{"a":1,"b":2}}' >&"${SK[1]}"
	read -t 10 -r second <&"${SK[0]}"
	[[ "$second" == '{"round":1,"step":5,'* ]]
	exec {SK[1]}>&-
	wait "$sk_pid"
}
