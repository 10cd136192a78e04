#!/bin/sh
# `make demo`: start leakwatchd on a bundled leaking Python program and show
# its warning.  Takes about 30 seconds; stops by itself.  Exits 0 only when
# every step worked (the check, the daemon, the leak event, leakwatchctl
# status), else 1 with the reason on stderr.
#   sh tests/demo.sh [build/leakwatchd [build/leakwatchctl]]
set -u
daemon=${1:-build/leakwatchd}
ctl=${2:-$(dirname "$daemon")/leakwatchctl}
here=$(dirname "$0")
python=/usr/bin/python3

die() {
	echo "== demo failed: $*" >&2
	exit 1
}
for prog in "$daemon" "$ctl"; do
	[ -x "$prog" ] || die "$prog is not built (make demo builds it)"
done
[ -x "$python" ] || die "$python is missing"
dir=$(mktemp -d /tmp/leakwatch-demo.XXXXXX) || die "mktemp"
daemon_pid=
leak_pid=

cleanup() {
	[ -n "$leak_pid" ] && kill "$leak_pid" 2>/dev/null
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
# the demo's own control socket and state, not /run/leakwatch and /var/lib/leakwatch
export RUNTIME_DIRECTORY="$dir" STATE_DIRECTORY="$dir"
trap 'exit 130' INT TERM

cat > "$dir/demo.yaml" <<YAML
# A demo rule: the leaking program's RSS grows ~1 MiB/s.
interval: 500ms
watches:
  - name: demo-leaker
    match:
      cmdline: "leak_memory.py .*--tag leakwatch-demo"
    warmup: 2s
    window: 16s           # production: 30m or more
    rss:
      growth: 100M/h      # a sustained growth this fast is a leak
      max: 1G
      predict: 6h         # also a leak if the trend reaches max this soon
YAML

echo "== leakwatchd -t: checking the demo configuration"
"$daemon" -t -c "$dir/demo.yaml" || die "leakwatchd -t refused the demo configuration"
echo "== starting leakwatchd (console output) and a Python program leaking 1 MiB/s"
"$daemon" -c "$dir/demo.yaml" --log-target=console 2>"$dir/events.log" &
daemon_pid=$!
$python "$here/programs/leak_memory.py" --rate 1024 --seconds 120 --tag leakwatch-demo >/dev/null &
leak_pid=$!

shown=0
i=0
while [ $i -lt 120 ]; do
	sleep 0.5
	i=$((i + 1))
	total=$(wc -l < "$dir/events.log")
	if [ "$total" -gt "$shown" ]; then
		tail -n +$((shown + 1)) "$dir/events.log"
		shown=$total
	fi
	if grep -q ': leak: ' "$dir/events.log"; then
		echo "== leak reported after $((i / 2)) seconds.  What leakwatchctl status shows now:"
		"$ctl" status || die "leakwatchctl status failed"
		echo "   Under systemd the same event goes to the journal: journalctl -t leakwatchd"
		echo "   or journalctl MESSAGE_ID=bb71edb945044073b919493c881bd48e -o verbose"
		exit 0
	fi
	kill -0 "$daemon_pid" 2>/dev/null || die "leakwatchd exited"
	kill -0 "$leak_pid" 2>/dev/null || die "the leaking program exited"
done
die "no leak reported within 60 seconds: that is a bug"
