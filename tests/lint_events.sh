#!/bin/sh
# The warnings of core/server_lint.h as the daemon tells them: at start and
# after a SIGHUP, one error event per warning about its watch, and the
# start and reload messages count them.  The configuration is the golden
# one (tests/conf/warn-servers.yaml, whose .expected has one warning a
# line); its watches match no process.  Run from the repository root:
#   sh tests/lint_events.sh build/leakwatchd
set -u

daemon=${1:?usage: sh tests/lint_events.sh PATH/TO/leakwatchd}
conf=tests/conf/warn-servers.yaml
LC_ALL=C
export LC_ALL

tmp=$(mktemp -d "${TMPDIR:-/tmp}/leakwatch-lint.XXXXXX") || exit 1
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "lint events: FAIL: $1"
	echo "events:"
	cat "$tmp/events"
	echo "stderr:"
	cat "$tmp/err"
	exit 1
}

# N lines of the events matching PATTERN within 10 s, or fail saying WHAT.
wait_for() {
	i=0
	while [ "$(grep -c -- "$2" "$tmp/events")" -lt "$1" ]; do
		i=$((i + 1))
		[ "$i" -gt 100 ] && fail "$3"
		kill -0 "$pid" 2>/dev/null || fail "leakwatchd exited"
		sleep 0.1
	done
}

n=$(wc -l <"${conf%.yaml}.expected")
[ "$n" -gt 1 ] || fail "$conf has $n warnings"
mkdir "$tmp/run" "$tmp/state"
: >"$tmp/events"   # there before wait_for's first grep, however late the shell starts the daemon
RUNTIME_DIRECTORY=$tmp/run STATE_DIRECTORY=$tmp/state \
	"$daemon" -c "$conf" --log-target=json >"$tmp/events" 2>"$tmp/err" </dev/null &
pid=$!

wait_for 1 "\"message\":\"leakwatchd started with 6 watches from $conf, $n warnings\"" \
	"no start event counting $n warnings"
wait_for "$n" '"event":"error",' "not $n error events after the start"
sleep 0.5
kill -HUP "$pid"
wait_for 1 "\"message\":\"configuration reloaded from $conf: 6 watches, $n warnings\"" \
	"no reload event counting $n warnings"
wait_for $((2 * n)) '"event":"error",' "not $n error events after the reload"
sleep 0.5

# Each warning of -t is an event about its watch, twice, and nothing else is.
[ "$(grep -c '"event":"error",' "$tmp/events")" -eq $((2 * n)) ] || fail "more than $((2 * n)) error events"
sed 's/^[^ ]* warning: //' "${conf%.yaml}.expected" | while IFS= read -r text; do
	text=$(printf '%s' "$text" | sed 's/\\/\\\\/g; s/"/\\"/g')
	[ "$(grep -F -c -- ": $text\"}" "$tmp/events")" -eq 2 ] || fail "not twice as an event: $text"
done || exit 1
for watch in uwsgi-term uwsgi-comm gunicorn-any celery-term celery-main; do
	grep -q "\"event\":\"error\",\"watch\":\"$watch\",\"message\":\"$watch: " "$tmp/events" ||
		fail "no warning about watch $watch"
done
grep -q '"watch":"app"' "$tmp/events" && fail "a warning about watch app"
[ -s "$tmp/err" ] && fail "unexpected output on stderr"
# every line fits the shipped event schema (share/leakwatch/schema)
/usr/bin/python3 tests/schema_test.py --events "$tmp/events" >"$tmp/schema" 2>&1 ||
	fail "an event breaks the schema: $(grep -v '^schema:' "$tmp/schema" | head -3)"
echo "lint events: $n warnings at start and at reload, as events"
