#!/usr/bin/env bats
# deps.bats - every external command that the tests, the scripts and the
# Makefile call comes from a package that some make target installs
# (config.mk's lists, `make deps-list`) or from what a new user starts
# with: Debian bookworm minbase (Priority: required, and apt) plus git, gcc
# and make.  A command found only because this machine happens to have it
# (col from bsdextrautils was one) fails here rather than on a user's.

load helper

# What a fresh bookworm minbase root has besides Priority: required, as the
# README's set-up promises: git, gcc, make (and gcc's own binutils and cpp),
# apt and ca-certificates from debootstrap.
GIVEN="apt git gcc gcc-12 make ca-certificates binutils cpp cpp-12"

# The words in command position of shell code: the first word of a line
# and of each part after | && || ; $( ` ( and bash -c ", past bats's run,
# keywords, prefixes (timeout N, env, VAR=value) and options.  Comments
# and @test names are prose.  Perl and awk words that continue a one-liner
# on its next lines (open, print, close, ...) are not commands: mailcap,
# where something installs it, has an open(1) and a print(1).
command_words() {
	perl -ne '
		BEGIN { %skip = map { $_ => 1 } qw(run if then do else elif
		    while until in esac fi done function return local export
		    set unset exec time nohup command sudo xargs env timeout
		    not ! { } [ [[ ]] ] test echo printf cd read shift wait
		    trap eval source load skip declare readonly break continue
		    exit true false
		    open print close binmode split) }
		next if /^\s*(#|\@test\b)/;
		s/\s#\s.*$//;
		for my $seg (split /\|\||&&|\||;|\$\(|`|\b(?:ba)?sh -c ["\x27]|[()]/) {
			my @w = split " ", $seg;
			next if @w && $w[0] =~ /^(for|case|select)$/;
			while (@w) {
				(my $t = $w[0]) =~ s/^["\x27]//;
				# read and for name variables, never commands
				last if $t eq "read";
				if ($skip{$t} || $t =~ /^-/ || $t =~ /^\w+=/ ||
				    $t =~ /^\d+[a-z]*$/) { shift @w; next }
				print "$t\n" if $t =~ /^[a-z][a-z0-9+_.-]*$/;
				last;
			}
		}' "$@" | sort -u
}

# owner PATH: the package that installed PATH (through /etc/alternatives
# and the /bin -> /usr/bin merge), empty when none did.
owner() {
	local p real
	real=$(readlink -f "$1")
	for p in "$1" "$real" "${1#/usr}" "${real#/usr}" "/usr${1#/usr}" "/usr${real#/usr}"; do
		dpkg-query -S "$p" 2>/dev/null | grep -v '^diversion' |
		    sed -n '1s/:.*//p' | tr -d ' ' | tr ',' '\n' | head -n1 | grep . && return
	done
}

@test "every external command called is installed by make deps (or a target's own list) or is in minbase" {
	command -v dpkg-query >/dev/null || skip "not a Debian system"
	cd "$LOAM_TOP"
	allowed=$(make -s deps-list; printf '%s\n' $GIVEN)
	# (this file's own test of the extractor names commands it never runs)
	scripts=($(ls tests/*.bats | grep -v '/deps\.bats$') tests/helper.bash
	    tests/run-all tests/demo tests/bench/run .ci/run Makefile)
	[ -e tests/evidence ] && scripts+=(tests/evidence)
	bad= n=0
	for w in $(command_words "${scripts[@]}"); do
		[ "$(type -t "$w")" = builtin ] && continue
		path=
		for d in /usr/bin /bin /usr/sbin /sbin; do
			if [ -x "$d/$w" ] && [ ! -d "$d/$w" ]; then path=$d/$w; break; fi
		done
		[ -n "$path" ] || continue
		n=$((n + 1))
		pkg=$(owner "$path")
		[ -n "$pkg" ] || { bad="$bad $w(no package)"; continue; }
		pkg=${pkg%%:*}
		grep -qx -- "$pkg" <<<"$allowed" && continue
		prio=$(dpkg-query -W -f='${Priority} ${Essential}' "$pkg" 2>/dev/null)
		case $prio in required*|*yes) continue ;; esac
		bad="$bad $w($pkg)"
	done
	echo "# $n commands checked"
	[ "$n" -gt 20 ]
	[ -z "$bad" ] || { echo "not installed by make deps nor in minbase:$bad"; false; }
}

@test "the extractor finds a command a test would call" {
	cd "$BATS_TEST_TMPDIR"
	printf 'run -0 bash -c "mandoc -T ascii x | col -b"\n\tfoo | xxd -p && timeout 5 jq .\n# col in a comment\nwhile read -r opt; do :; done\n' > t.sh
	run -0 command_words t.sh
	assert_line col
	assert_line xxd
	assert_line jq
	assert_line mandoc
	refute_line run
	refute_line timeout
	refute_line opt
}
