# helper.bash - shared set-up for loam's bats files: `load helper`.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

: "${LOAM_TOP:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
: "${LOAM_OUT:=.}"
case $LOAM_OUT in /*) ;; *) LOAM_OUT=$LOAM_TOP/$LOAM_OUT ;; esac
PATH=$LOAM_OUT/bin:$LOAM_OUT/build/tests/tools:$PATH
export LOAM_TOP LOAM_OUT PATH
EXTERNAL=$LOAM_TOP/testdata/external
TESTDATA=$LOAM_TOP/testdata

# man_text FILE: a manual page as plain text, mandoc's overstrikes (bold,
# underline) removed: what `col -bx` does, without bsdextrautils.
man_text() { mandoc -T ascii "$1" | sed 's/.\x08//g'; }
export -f man_text
