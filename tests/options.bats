#!/usr/bin/env bats
# Options: each command's option table (lib/base/cli.h) drives its parsing,
# --help and usage line, so these cannot drift; here the usage lines are
# checked against the man page's SYNOPSIS, word for word, and every option
# --help lists against the man page's text.

load helper

PROGS="pipeline-run skillit-mix embroid-fix hedgehog-train tart-fit reward-count superhf-filter meteor-sim cookbook-gen congest-route reward-query"

# words FILE: the text as one line of words.
words() { tr -s ' \n\t' '   ' < "$1" | sed 's/^ //; s/ $//'; }

@test "each program's usage lines are its man page's SYNOPSIS, word for word" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	cd "$BATS_TEST_TMPDIR"
	for p in $PROGS; do
		"$p" --help | sed -n '/^usage: /,/^[^ ]/p' | sed '$d' | sed 's/^usage: //' > usage
		# A single-line usage is followed directly by the about line.
		[ -s usage ] || "$p" --help | sed -n '1s/^usage: //p' > usage
		man_text "$LOAM_TOP/man/$p.1" | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' |
		    sed '1d;$d' > synopsis
		if [ "$(words usage)" != "$(words synopsis)" ]; then
			echo "$p: usage:    $(words usage)"
			echo "$p: SYNOPSIS: $(words synopsis)"
			return 1
		fi
	done
}

@test "every option --help lists is in the man page" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	cd "$BATS_TEST_TMPDIR"
	for p in $PROGS; do
		man_text "$LOAM_TOP/man/$p.1" > man.txt
		for sub in "" $("$p" --help | sed -n 's/^       [^ ]* \([a-z][a-z-]*\) .*/\1/p; s/^usage: [^ ]* \([a-z][a-z-]*\) .*/\1/p'); do
			"$p" $sub --help | grep -o '^  -\{1,2\}[a-zA-Z][a-z-]*\(, --[a-z-]*\)\?' |
			    grep -o -- '--[a-z-]*' | sort -u > opts
			while read -r opt; do
				case $opt in --help|--version) continue ;; esac
				grep -q -- "$opt" man.txt || { echo "$p $sub: $opt not in the man page"; return 1; }
			done < opts
		done
	done
}

@test "the option table's usage wraps before column 80 and --help aligns" {
	for p in $PROGS; do
		run -0 "$p" --help
		for line in "${lines[@]}"; do
			case $line in
			usage:*|"       "*) [ ${#line} -lt 80 ] || { echo "$p: long usage line: $line"; return 1; } ;;
			esac
		done
	done
}

@test "an option a command's table does not have is a usage error" {
	for p in $PROGS; do
		run -2 --separate-stderr "$p" --no-such-option
		[ "${stderr_lines[0]}" = "$p: unknown option '--no-such-option'" ]
	done
}
