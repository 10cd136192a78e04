#!/bin/sh
# Golden tests of `leakwatchd -t`: every tests/conf/NAME.yaml is a bad config
# that must fail with exit status 1, nothing on stdout, and exactly the lines
# of tests/conf/NAME.expected on stderr; a tests/conf/warn-NAME.yaml is a
# good one with warnings (core/server_lint.h): exit status 0, "configuration
# OK" on stdout, exactly its .expected on stderr; the shipped
# conf/leakwatch.yaml must pass with nothing on stderr (no warning either).
# Run from the repository root:  sh tests/golden.sh build/leakwatchd
set -u

daemon=${1:?usage: sh tests/golden.sh PATH/TO/leakwatchd}
LC_ALL=C
export LC_ALL

tmp=$(mktemp -d "${TMPDIR:-/tmp}/leakwatch-golden.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

pass=0
fail=0

say() {
	echo "golden: FAIL $1: $2"
}

for conf in tests/conf/*.yaml; do
	[ -e "$conf" ] || continue
	expected=${conf%.yaml}.expected
	if [ ! -f "$expected" ]; then
		say "$conf" "no $expected"
		fail=$((fail + 1))
		continue
	fi
	"$daemon" -t -c "$conf" >"$tmp/out" 2>"$tmp/err" </dev/null
	status=$?
	ok=1
	want=1
	case $conf in
	tests/conf/warn-*) want=0 ;;
	esac
	if [ "$status" -ne "$want" ]; then
		say "$conf" "exit status $status, want $want"
		ok=0
	fi
	if [ "$want" -eq 0 ] && [ "$(cat "$tmp/out")" != "configuration OK" ]; then
		say "$conf" "stdout is not 'configuration OK':"
		cat "$tmp/out"
		ok=0
	elif [ "$want" -eq 1 ] && [ -s "$tmp/out" ]; then
		say "$conf" "unexpected output on stdout:"
		cat "$tmp/out"
		ok=0
	fi
	if ! cmp -s "$expected" "$tmp/err"; then
		say "$conf" "stderr differs from $expected (- expected, + got):"
		diff -u "$expected" "$tmp/err" | sed 1,2d
		ok=0
	fi
	if [ "$ok" -eq 1 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
done

# The shipped example parses, given with -c and as -t's operand.
conf=conf/leakwatch.yaml
printf 'configuration OK\n' >"$tmp/want"
for form in "-t -c $conf" "-t $conf"; do
	# shellcheck disable=SC2086 # the form is split on purpose
	"$daemon" $form >"$tmp/out" 2>"$tmp/err" </dev/null
	status=$?
	if [ "$status" -eq 0 ] && cmp -s "$tmp/want" "$tmp/out" && [ ! -s "$tmp/err" ]; then
		pass=$((pass + 1))
	else
		say "$conf" "leakwatchd $form: exit status $status (want 0), stdout and stderr:"
		cat "$tmp/out" "$tmp/err"
		fail=$((fail + 1))
	fi
done

echo "golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
