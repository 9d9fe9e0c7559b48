#!/usr/bin/env bats
# hedgehog-train: Hedgehog feature maps by attention distillation (see
# man/hedgehog-train.1).  The data: queries, keys and values of a small
# byte-level GPT trained on Debian's licence texts (testdata/README.md).

load helper

QKV=$TESTDATA/hedgehog/qkv.safetensors

setup() {
	cd "$BATS_TEST_TMPDIR"
	ln -sf "$QKV" qkv.safetensors
}

# The safetensors header of $1 as JSON.
header() {
	local n
	n=$(od -An -t u8 -N 8 "$1" | tr -d ' ')
	tail -c +9 "$1" | head -c "$n"
}

# The mean record of map $2 in eval output $1: field $3.
mean() {
	jq -r "select(.mean and .fmap == \"$2\") | .$3" "$1"
}

@test "--help prints the usage to stdout and exits 0" {
	run -0 --separate-stderr hedgehog-train --help
	assert_line --index 0 'usage: hedgehog-train fit [-hqV] [--fmap hedgehog|hedgehog-exp|hedgehog-fla]'
	assert_line --partial '       hedgehog-train eval [-hqV] [--weights file] [--fmap list]'
	[ -z "$stderr" ]
	run -0 --separate-stderr hedgehog-train eval --help
	assert_line --index 0 'usage: hedgehog-train eval [-hqV] [--weights file] [--fmap list]'
	assert_line '  --all               every sequence, not only the held-out ones'
	run -0 --separate-stderr hedgehog-train fit --help
	assert_line '  -o, --output FILE   the weights (required)'
}

@test "the usage lines match the man page SYNOPSIS" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	run -0 bash -c "man_text '$LOAM_TOP/man/hedgehog-train.1' | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p'"
	for opt in fit eval --fmap --feature-dim --bias --no-bias --layers --map --causal --bidirectional \
	    --lr --weight-decay --epochs --steps --batch --val --eval-every --patience --block \
	    --xent-factor --mse-factor --prefix --applied-after --weights --all; do
		assert_output --partial -- "$opt"
	done
	run -0 mandoc -T lint -W warning "$LOAM_TOP/man/hedgehog-train.1"
}

@test "usage errors exit 2 with exact messages" {
	run -2 --separate-stderr hedgehog-train fit --bogus
	[ "${stderr_lines[0]}" = "hedgehog-train: unknown option '--bogus'" ]
	run -2 --separate-stderr hedgehog-train fit --fmap magic -o w.safetensors qkv.safetensors
	[ "${stderr_lines[0]}" = "hedgehog-train: --fmap: 'magic' is not hedgehog, hedgehog-exp or hedgehog-fla" ]
	run -2 --separate-stderr hedgehog-train fit qkv.safetensors
	[ "${stderr_lines[0]}" = "hedgehog-train: fit needs -o weights.safetensors" ]
	run -2 --separate-stderr hedgehog-train fit -o w.safetensors
	[ "${stderr_lines[0]}" = "hedgehog-train: no input files" ]
	run -2 --separate-stderr hedgehog-train fit --val 8 -o w.safetensors qkv.safetensors
	[ "${stderr_lines[0]}" = "hedgehog-train: --val 8 leaves no training sequence of 8" ]
	run -2 --separate-stderr hedgehog-train eval --fmap hedgehog,hedgehog-exp qkv.safetensors
	[ "${stderr_lines[0]}" = "hedgehog-train: --fmap: one trained map at a time (hedgehog, hedgehog-exp)" ]
	run -2 --separate-stderr hedgehog-train frob
	[ "${stderr_lines[0]}" = "hedgehog-train: unknown command 'frob'" ]
	[ ! -e w.safetensors ]
}

@test "evidence: Hedgehog's held-out KL >= 3x below 1+ELU's and below every baseline's, entropy nearest softmax's" {
	hedgehog-train fit -q --val 2 --epochs 60 -o maps.safetensors qkv.safetensors > fit.jsonl
	run -0 --separate-stderr hedgehog-train eval --weights maps.safetensors qkv.safetensors
	echo "$stderr"
	printf '%s\n' "${lines[@]}" > eval.jsonl
	# the table on stderr, one row per map
	[[ "${stderr_lines[0]}" == "fmap "*KL*CE*"H(map)"*"H(soft)"*mono*MSE ]]
	[ "${#stderr_lines[@]}" -eq 7 ]
	# 2 layers x 2 heads x 6 maps, then 6 means
	[ "$(jq -s 'map(select(.mean | not)) | length' eval.jsonl)" -eq 24 ]
	kl=$(mean eval.jsonl hedgehog kl)
	# measured: 0.179 against 1.163 (6.5x); the claim needs 3x
	awk -v a="$kl" -v b="$(mean eval.jsonl elu1 kl)" 'BEGIN { exit !(3 * a <= b) }'
	th=$(mean eval.jsonl hedgehog teacher_entropy)
	dh=$(awk -v a="$(mean eval.jsonl hedgehog entropy)" -v t="$th" 'BEGIN { print (a > t ? a - t : t - a) }')
	for b in elu1 relu performer cosformer taylor; do
		# below every baseline (the nearest, cosformer/performer, is 5x)
		awk -v a="$kl" -v b="$(mean eval.jsonl $b kl)" 'BEGIN { exit !(2 * a <= b) }'
		# entropy closer to the teacher's (0.25 against >= 0.57)
		awk -v d="$dh" -v e="$(mean eval.jsonl $b entropy)" -v t="$th" \
		    'BEGIN { x = e > t ? e - t : t - e; exit !(1.5 * d <= x) }'
	done
	# monotone in q.k, more than every baseline
	awk -v m="$(mean eval.jsonl hedgehog monotonicity)" 'BEGIN { exit !(m > 0.9) }'
	# the fit lowered every head's held-out loss well below the identity's (by 0.47 to 1.16)
	[ "$(jq -s 'map(select(.best_loss < .init_loss - 0.3)) | length' fit.jsonl)" -eq 4 ]
	# and the output of its linear attention is closer to softmax attention's
	awk -v a="$(mean eval.jsonl hedgehog mse)" -v b="$(mean eval.jsonl performer mse)" 'BEGIN { exit !(2 * a <= b) }'
}

@test "the other variants train and beat 1+ELU too; the identity map does not" {
	for f in hedgehog-exp hedgehog-fla; do
		hedgehog-train fit -q --fmap $f --val 2 --epochs 30 -o $f.safetensors qkv.safetensors > /dev/null
		hedgehog-train eval -q --weights $f.safetensors --fmap $f,elu1 qkv.safetensors > $f.jsonl
		awk -v a="$(mean $f.jsonl $f kl)" -v b="$(mean $f.jsonl elu1 kl)" 'BEGIN { exit !(3 * a <= b) }'
		[ "$(mean $f.jsonl $f trained)" = true ]
	done
	hedgehog-train eval -q --val 2 --fmap hedgehog,elu1 qkv.safetensors > id.jsonl
	[ "$(mean id.jsonl hedgehog trained)" = false ]
	awk -v a="$(mean id.jsonl hedgehog kl)" -v b="$(mean id.jsonl elu1 kl)" 'BEGIN { exit !(a > b / 3) }'
}

@test "weights: LoLCATs names and layout, every setting in __metadata__" {
	hedgehog-train fit -q --steps 3 -o w.safetensors qkv.safetensors > /dev/null
	header w.safetensors > h.json
	run -0 jq -r 'del(.__metadata__) | to_entries[] | "\(.key) \(.value.dtype) \(.value.shape)"' h.json
	assert_line 'model.layers.0.self_attn.feature_map_q.mlp.layer F32 [2,32,32]'
	assert_line 'model.layers.0.self_attn.feature_map_k.mlp.layer F32 [2,32,32]'
	assert_line 'model.layers.1.self_attn.feature_map_q.mlp.layer F32 [2,32,32]'
	assert_line 'model.layers.1.self_attn.feature_map_k.mlp.layer F32 [2,32,32]'
	[ "${#lines[@]}" -eq 4 ]
	run -0 jq -r '.__metadata__ | "\(.fmap) \(.halves) \(.num_heads) \(.head_dim) \(.feature_dim) \(.features) \(.tie_qk) \(.share_heads) \(.bias) \(.init) \(.causal) \(.loss) \(.teacher_scale) \(.student_scale) \(.applied_after) \(.val_sequences) \(.layers)"' h.json
	assert_output 'hedgehog 2 2 32 32 64 false false false identity true xent 0.176776695 1 proj 3 0,1'
	for k in feature_map layout prefix xent_factor mse_factor lr seed steps q_names k_names source tool; do
		[ "$(jq -r ".__metadata__.\"$k\" | type" h.json)" = string ]
	done
	# fla: one map for the heads, biases, another prefix
	hedgehog-train fit -q --fmap hedgehog-fla --feature-dim 16 --prefix 'transformer.h.{L}.attn.' \
	    --layers 1 --steps 2 -o f.safetensors qkv.safetensors > /dev/null
	run -0 bash -c "$(declare -f header); header f.safetensors | jq -r 'del(.__metadata__) | to_entries[] | \"\(.key) \(.value.shape)\"'"
	assert_line 'transformer.h.1.attn.feature_map_q.mlp.layer [1,32,16]'
	assert_line 'transformer.h.1.attn.feature_map_k.mlp.bias [1,16]'
	[ "${#lines[@]}" -eq 4 ]
}

@test "the identity initialisation is written unchanged when nothing improves it" {
	# lr 0: the maps stay the identity (LoLCATs' lk_zero_init)
	hedgehog-train fit -q --lr 0 --steps 1 --layers 0 -o w.safetensors qkv.safetensors > /dev/null
	n=$(od -An -t u8 -N 8 w.safetensors | tr -d ' ')
	# the data of the first tensor: 2 heads x 32 x 32 floats, 1.0 on the diagonals
	run -0 bash -c "tail -c +$((9 + n)) w.safetensors | head -c 8192 | od -An -v -t f4 -w4 | awk '{ v[NR-1] = \$1 + 0 } END { bad = 0; for (i = 0; i < 2048; i++) { h = int(i / 1024); r = int((i % 1024) / 32); c = i % 32; if (v[i] != (r == c)) bad++ } print bad }'"
	assert_output 0
}

@test ".npy inputs and --map, safetensors inputs: the same fit; -t does not change it" {
	for t in layers.0.q layers.0.k layers.1.q layers.1.k; do hedgehog-npy qkv.safetensors $t $t.npy; done
	hedgehog-train fit -q --epochs 3 -o a.safetensors qkv.safetensors > a.jsonl
	hedgehog-train fit -q --epochs 3 -o b.safetensors layers.0.q.npy layers.0.k.npy layers.1.q.npy layers.1.k.npy > b.jsonl
	cmp a.jsonl b.jsonl
	mv layers.1.q.npy Q1.npy; mv layers.1.k.npy K1.npy
	hedgehog-train fit -q --epochs 3 --layers 1 --map 'q=Q{L},k=K{L}' -o c.safetensors Q1.npy K1.npy > c.jsonl
	[ "$(sed -n 3p a.jsonl)" = "$(sed -n 1p c.jsonl)" ]
	hedgehog-train fit -q -t 1 --fmap hedgehog-fla --epochs 3 -o t1.safetensors qkv.safetensors > /dev/null
	hedgehog-train fit -q -t 2 --fmap hedgehog-fla --epochs 3 -o t2.safetensors qkv.safetensors > /dev/null
	cmp t1.safetensors t2.safetensors
	# a different seed, a different split and order
	hedgehog-train fit -q -s 5 --epochs 3 -o s5.safetensors qkv.safetensors > /dev/null
	! cmp -s a.safetensors s5.safetensors
}

@test "--mse-factor trains the output term through the chunked linear attention" {
	hedgehog-train fit -q --xent-factor 0 --mse-factor 1 --lr 0.003 --val 2 --epochs 20 -o m.safetensors qkv.safetensors > fit.jsonl
	[ "$(jq -s 'map(select(.best_loss < .init_loss)) | length' fit.jsonl)" -eq 4 ]
	hedgehog-train eval -q --weights m.safetensors --fmap hedgehog qkv.safetensors > m.jsonl
	hedgehog-train eval -q --val 2 --fmap hedgehog qkv.safetensors > id.jsonl
	awk -v a="$(mean m.jsonl hedgehog mse)" -v b="$(mean id.jsonl hedgehog mse)" 'BEGIN { exit !(a < 0.8 * b) }'
	header m.safetensors | jq -e '.__metadata__.loss == "mse"'
	run -1 --separate-stderr hedgehog-train fit -q --mse-factor 1 --map q=layers.{L}.q,k=layers.{L}.k,v=layers.{L}.x -o x.safetensors qkv.safetensors
	[ "$stderr" = "hedgehog-train: --mse-factor needs values: no tensor 'layers.{L}.x' for every layer" ]
	run -2 --separate-stderr hedgehog-train fit -q --bidirectional --mse-factor 1 -o x.safetensors qkv.safetensors
	[ "${stderr_lines[0]}" = "hedgehog-train: --mse-factor needs causal attention" ]
}

@test "bidirectional attention, --all, --layers" {
	hedgehog-train fit -q --bidirectional --layers 1 --epochs 2 -o b.safetensors qkv.safetensors > /dev/null
	header b.safetensors | jq -e '.__metadata__.causal == "false"'
	run -0 hedgehog-train eval -q --bidirectional --all --layers 1 --fmap elu1,relu qkv.safetensors
	[ "${#lines[@]}" -eq 6 ]
	# no output measures without a causal mask
	run -0 jq -s 'map(select(has("mse"))) | length' <<< "$output"
	assert_output 0
}

@test "bad input: missing and empty files, not safetensors, mismatched shapes, NaN, unknown names" {
	run -1 --separate-stderr hedgehog-train eval missing.safetensors
	[ "$stderr" = "hedgehog-train: missing.safetensors: No such file or directory" ]
	: > empty.safetensors
	run -1 --separate-stderr hedgehog-train eval empty.safetensors
	[ "$stderr" = "hedgehog-train: empty.safetensors: too short for safetensors (0 bytes)" ]
	printf 'not a safetensors file at all' > junk.safetensors
	run -1 --separate-stderr hedgehog-train eval junk.safetensors
	[[ "$stderr" == "hedgehog-train: junk.safetensors: "* ]]
	hedgehog-npy --random 4,2,16,8 x.q.npy
	hedgehog-npy --random 4,2,16,4 x.k.npy
	run -1 --separate-stderr hedgehog-train fit -q --map q=x.q,k=x.k -o w.safetensors x.q.npy x.k.npy
	[ "$stderr" = "hedgehog-train: x.k.npy: tensor 'x.k' is [4, 2, 16, 4] but 'x.q' is [4, 2, 16, 8]" ]
	hedgehog-npy --nan --random 4,2,16,8 y.q.npy
	hedgehog-npy -s 1 --random 4,2,16,8 y.k.npy
	run -1 --separate-stderr hedgehog-train fit -q --map q=y.q,k=y.k -o w.safetensors y.q.npy y.k.npy
	[ "$stderr" = "hedgehog-train: y.q.npy: tensor 'y.q': non-finite value at [0, 0, 1, 2]" ]
	run -1 --separate-stderr hedgehog-train eval x.q.npy
	[ "$stderr" = "hedgehog-train: no tensor 'layers.0.q' in the input (name them with --map)" ]
	run -1 --separate-stderr hedgehog-train eval --map q=x.q,k=x.k x.q.npy
	[ "$stderr" = "hedgehog-train: no tensor 'x.k' in the input" ]
	run -1 --separate-stderr hedgehog-train eval --map q=x.q,k=y.q x.q.npy y.q.npy x.q.npy
	[[ "$stderr" == *"tensor 'x.q' also in"* ]]
	[ ! -e w.safetensors ]
	# weights for another model
	hedgehog-train fit -q --steps 1 --map q=x.q,k=x.q -o xw.safetensors x.q.npy > /dev/null
	run -1 --separate-stderr hedgehog-train eval --weights xw.safetensors qkv.safetensors
	[ "$stderr" = "hedgehog-train: xw.safetensors: maps for 2 heads of dimension 8, the input has 2 of 32" ]
	run -1 --separate-stderr hedgehog-train eval --weights qkv.safetensors qkv.safetensors
	[ "$stderr" = "hedgehog-train: qkv.safetensors: metadata 'fmap' is '(none)', not a hedgehog map" ]
}

@test "a tiny input: one sequence, one head, no held-out split" {
	hedgehog-npy --random 1,1,3,2 t.q.npy
	hedgehog-npy -s 2 --random 1,1,3,2 t.k.npy
	run -0 hedgehog-train fit -q --map q=t.q,k=t.k --steps 5 -o t.safetensors t.q.npy t.k.npy
	assert_output --regexp '^\{"layer":0,"head":0,"init_loss":[0-9.e-]+,"best_loss":[0-9.e-]+,"best_step":[0-9]+,"steps":5\}$'
	header t.safetensors | jq -e '.__metadata__.val_sequences == ""'
	run -0 hedgehog-train eval -q --map q=t.q,k=t.k --weights t.safetensors t.q.npy t.k.npy
	[ "${#lines[@]}" -eq 12 ]
}

@test "full disk, closed pipe, determinism" {
	run -1 --separate-stderr bash -c 'hedgehog-train eval -q qkv.safetensors > /dev/full'
	[ "$stderr" = "hedgehog-train: stdout: write error: No space left on device" ]
	run -0 --separate-stderr bash -c 'hedgehog-train eval -q --all qkv.safetensors | head -n1'
	[ "${#lines[@]}" -eq 1 ] && [ -z "$stderr" ]
	hedgehog-train eval -q -o a.jsonl qkv.safetensors
	hedgehog-train eval -q qkv.safetensors > b.jsonl
	cmp a.jsonl b.jsonl
	hedgehog-train fit -q --epochs 2 -o w1.safetensors qkv.safetensors > /dev/null
	hedgehog-train fit -q --epochs 2 -o w2.safetensors qkv.safetensors > /dev/null
	cmp w1.safetensors w2.safetensors
}

@test "contrib/hedgehog-to-pt.py: the LoLCATs state dict" {
	/usr/bin/python3 -c 'import torch' 2>/dev/null || skip "python3-torch not installed"
	hedgehog-train fit -q --fmap hedgehog-exp --steps 3 -o w.safetensors qkv.safetensors > /dev/null
	run -0 "$LOAM_TOP/contrib/hedgehog-to-pt.py" w.safetensors w_distill.pt
	assert_line 'model.layers.1.self_attn.feature_map_q.mlp.layer [2, 32, 32] float32'
	assert_line 'model.layers.0.self_attn.feature_map_k.mlp.bias [2, 32] float32'
	n=$(od -An -t u8 -N 8 w.safetensors | tr -d ' ')
	run -0 /usr/bin/python3 - w.safetensors w_distill.pt <<'EOF'
import json, struct, sys, torch
blob = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', blob[:8])[0]
h = json.loads(blob[8:8 + n])
d = torch.load(sys.argv[2])
sd = d['model_state_dict']
for name, t in h.items():
    if name == '__metadata__':
        continue
    b, e = t['data_offsets']
    vals = struct.unpack('<%df' % ((e - b) // 4), blob[8 + n + b:8 + n + e])
    assert sd[name].flatten().tolist() == list(vals), name
assert d['hedgehog_metadata']['fmap'] == 'hedgehog-exp'
print(len(sd))
EOF
	assert_output 8
}

@test "the man page EXAMPLES run" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	man_text "$LOAM_TOP/man/hedgehog-train.1" |
		sed -n '/^EXAMPLES/,/^SEE ALSO/p' | sed -n 's/^[[:space:]]*\$ //p' > examples.sh
	[ "$(wc -l < examples.sh)" -ge 4 ]
	run -0 --separate-stderr bash -e examples.sh
	# the table printed is the one in the man page
	man_text "$LOAM_TOP/man/hedgehog-train.1" |
		sed -n '/^ *fmap  /,/^ *taylor/p' | sed 's/^ *//' > want.txt
	[ "$(wc -l < want.txt)" -eq 7 ]
	printf '%s\n' "${stderr_lines[@]}" | sed -n '/^fmap  /,/^taylor/p' > got.txt
	diff want.txt got.txt
}

@test "hedgehog-lm (the test-data tool): a few steps, a dump hedgehog-train reads" {
	for i in $(seq 1 40); do echo "line $i of a small text for a byte-level model"; done > train.txt
	for i in $(seq 1 20); do echo "held-out line $i"; done > heldout.txt
	run -0 --separate-stderr hedgehog-lm -q --layers 1 --heads 2 --embd 16 --len 32 --batch 2 \
	    --steps 3 --sequences 3 --values --f16 --heldout heldout.txt -o lm.safetensors train.txt
	run -0 bash -c "$(declare -f header); header lm.safetensors | jq -r 'del(.__metadata__) | to_entries[] | \"\(.key) \(.value.dtype) \(.value.shape)\"' | sort"
	assert_output "$(printf '%s\n' 'layers.0.k F16 [3,2,32,8]' 'layers.0.q F16 [3,2,32,8]' 'layers.0.v F16 [3,2,32,8]')"
	hedgehog-train fit -q --steps 2 -o w.safetensors lm.safetensors > fit.jsonl
	[ "$(wc -l < fit.jsonl)" -eq 2 ]
}

@test "inputs too large for the scores are refused; nothing non-finite is written" {
	hedgehog-npy --fill 3e38 --random 2,1,4,2 big.q.npy
	hedgehog-npy -s 1 --random 2,1,4,2 big.k.npy
	msg="hedgehog-train: big.q.npy: tensor 'big.q': value 3e+38 at [0, 0, 0, 0] is beyond +-65504, more than the attention scores can hold"
	run -1 --separate-stderr hedgehog-train eval -q --map q=big.q,k=big.k big.q.npy big.k.npy
	[ "$stderr" = "$msg" ] && [ -z "$output" ]
	run -1 --separate-stderr hedgehog-train fit -q --steps 2 --map q=big.q,k=big.k -o w.safetensors big.q.npy big.k.npy
	[ "$stderr" = "$msg" ] && [ -z "$output" ]
	[ ! -e w.safetensors ]
	# at the bound every map still gives finite numbers
	hedgehog-npy --fill 65504 --random 2,2,8,4 edge.q.npy
	hedgehog-npy --fill -65504 --random 2,2,8,4 edge.k.npy
	hedgehog-npy -s 3 --random 2,2,8,4 edge.v.npy
	run -0 hedgehog-train eval -q --map q=edge.q,k=edge.k,v=edge.v edge.q.npy edge.k.npy edge.v.npy
	[ "${#lines[@]}" -gt 0 ]
	refute_output --regexp 'nan|inf'
	run -0 hedgehog-train fit -q --steps 2 --map q=edge.q,k=edge.k -o w.safetensors edge.q.npy edge.k.npy
	refute_output --regexp 'nan|inf'
}
