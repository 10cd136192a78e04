#!/bin/sh
# The shipped unit file, with ExecStart pointing at the binary under test:
# systemd-analyze verify must pass, and the exposure score must stay at or
# under 3.0.
set -u
template=$1
daemon=$(readlink -f "$2")
tmp=$(mktemp -d /tmp/leakwatch-unit.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
sed -e "s|@SBINDIR@/leakwatchd|$daemon|g; s|@SYSCONFDIR@|/etc|g" "$template" > "$tmp/leakwatchd.service"
pass=0 fail=0
if systemd-analyze verify --man=no "$tmp/leakwatchd.service"; then
	echo "unitfile: systemd-analyze verify: ok"
	pass=$((pass + 1))
else
	echo "unitfile: systemd-analyze verify: FAILED"
	fail=$((fail + 1))
fi
score=$(systemd-analyze security --offline=true "$tmp/leakwatchd.service" 2>/dev/null |
	sed -n 's/.*Overall exposure level for leakwatchd.service: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }'; then
	echo "unitfile: exposure score $score (at most 3.0)"
	pass=$((pass + 1))
else
	echo "unitfile: exposure score '${score}' is over 3.0 or unknown"
	fail=$((fail + 1))
fi
echo "unitfile: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
