#!/usr/bin/env bats
# readme.bats - README.md's commands run as typed, from the top of the tree,
# in a clean environment whose PATH has no bin/; the numbers it quotes are
# the ones the runs print.  A command in the README is a code span or an
# indented code line that starts with make, bin/, build/, man or mandoc.

load helper

# Commands the README names that this file does not run, and why.  Every
# other README command runs here; a README command in neither list fails.
declare -gA EXEMPT=(
	["make check"]="the suite itself"
	["make check SANITIZE=address,undefined"]="CI's second pass (.ci/run)"
	["make bench"]="20 minutes of timing, no pass or fail"
	["make tart-model"]="two hours of training"
	["make install"]="foundation.bats installs into a DESTDIR"
	["make uninstall"]="foundation.bats uninstalls from a DESTDIR"
	["make clean"]="would remove the build this suite is running"
	["make fuzz"]="libFuzzer runs without end, with clang"
)

# The README's commands, one a line: code spans (a span may wrap), and
# indented code lines less their comments.
readme_commands() {
	perl -0777 -ne '
		my %seen;
		sub out { my $c = shift; $c =~ s/\s+/ /g; $c =~ s/^ | $//g;
			print "$c\n" if $c =~ m{^(make\b|bin/\S+ \S|build/\S*[^/\s](\s|$)|man |mandoc )} && !$seen{$c}++ }
		for (/^    (\S.*)$/mg) { s/\s+#.*//; out($_) }
		s/\\\|/|/g;
		out($1) while /`([^`]+)`/g;
	' "$LOAM_TOP/README.md"
}

# clean CMD: CMD through bash from the top of the tree, with only the
# system's PATH and HOME.
clean() {
	env -i HOME="$HOME" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    LANG=C.UTF-8 bash -o pipefail -c "cd '$LOAM_TOP' && $1"
}

@test "the README names its commands, and each is run here or exempt with a reason" {
	run -0 readme_commands
	assert_line "make demo"
	assert_line "make evidence"
	assert_line "bin/pipeline-run -n pipelines/demo.yaml"
	assert_line "man ./man/loam-records.5"
	for c in "${!EXEMPT[@]}"; do
		assert_line "$c"
	done
}

@test "every README command that is not exempt runs as typed, PATH without bin/" {
	local ran=0
	while IFS= read -r c; do
		[ -n "${EXEMPT[$c]+x}" ] && continue
		# make demo and make evidence (which runs the Evidence table's
		# commands, as typed there) have their own tests below
		case $c in "make evidence"|"make demo"*) continue ;; esac
		sed 's/\\|/|/g' "$LOAM_TOP/README.md" | grep -qF -- "| \`$c\` |" && continue
		echo "# $c" >&3
		run clean "$c" < /dev/null
		[ "$status" -eq 0 ] || { echo "README command failed ($status): $c"; echo "$output" | tail -n 20; false; }
		ran=$((ran + 1))
	done < <(readme_commands)
	[ "$ran" -ge 6 ]
	# what two of them promised
	[ -s "$LOAM_TOP/build/embroid/binary.jsonl" ]
}

@test "make demo as typed: the README's numbers are the demo's, and a second run is all up to date" {
	run -0 clean "make demo DEMO_FLAGS=--force"
	readme=$(tr '\n' ' ' < "$LOAM_TOP/README.md" | tr -s ' ')
	# Embroid's accuracy before and after, to 3 decimals.
	acc=$(grep -o 'gold: accuracy [0-9.]* -> [0-9.]*' <<< "$output")
	[ -n "$acc" ]
	set -- $acc
	want=$(printf '(%.3f → %.3f)' "$3" "$5")
	grep -qF -- "$want" <<< "$readme" || { echo "README lacks $want"; false; }
	# Hedgehog's held-out KL against 1+ELU and the best baseline.
	kl() { awk -v m="$1" '$2 == m { printf "%.2f", $3 }' <<< "$output"; }
	best=$(awk '$1 == "hedgehog-eval:" && $2 != "hedgehog" && $2 != "fmap" { print $3, $2 }' <<< "$output" | sort -n | head -n1)
	set -- $best
	case $2 in performer) name=Performer ;; cosformer) name=cosFormer ;; relu) name=ReLU ;; *) name=$2 ;; esac
	want="is $(kl hedgehog) against 1+ELU's $(kl elu1) and the best baseline's $(printf '%.2f' "$1") ($name)"
	grep -qF -- "$want" <<< "$readme" || { echo "README lacks: $want"; false; }
	run -0 clean "make demo"
	assert_output --partial "11 chains: 0 ran, 11 up to date"
	grep -qF "11 chains: 0 ran, 11 up to date" <<< "$readme"
}

@test "make evidence as typed: the README's table is the one it prints" {

	run -0 --separate-stderr clean "make evidence"
	table=$(grep '^|' <<< "$output")
	[ "$(wc -l <<< "$table")" -ge 10 ]
	readme=$(sed -n "/^| method | the paper's claim |/,/^\$/p" "$LOAM_TOP/README.md" | grep '^|')
	diff <(echo "$readme") <(echo "$table")
}
