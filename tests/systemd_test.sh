#!/bin/sh
# End-to-end test of leakwatchd under a real systemd (PID 1 of a container).
#
#   sh tests/systemd_test.sh build/leakwatchd        (from the repository root)
#
# Needs root.  It builds a minimal Debian root file system with debootstrap
# (once: cached in BUILD/systemd-rootfs, BUILD being the directory of the
# daemon; LEAKWATCH_SYSTEMD_ROOTFS overrides), installs leakwatch into it with
# `make install DESTDIR=ROOTFS PREFIX=/usr/local`, adds a leaking Python
# service (tests/systemd/leaky.{py,service}, ~1 MiB/s), writes
# tests/systemd/leakwatch.yaml as /etc/leakwatch/leakwatch.yaml (on_leak:
# restart-unit), boots the tree with systemd-nspawn --boot and checks, from
# inside (nsenter into the container's PID 1):
#   - leakwatchd.service becomes active (Type=notify: READY=1 arrived) and
#     has a StatusText (STATUS=);
#   - leaky.service's MainPID changes within 60 s: leakwatchd restarted it
#     with RestartUnit over the system bus;
#   - `journalctl -u leaky.service` shows leakwatchd's leak and action
#     (result ok) entries for the old MainPID (OBJECT_PID), and before the
#     action an inspect entry (result ok, inspect: python) whose top site
#     is leaky.py's appending line;
#   - after a broken config, `systemctl reload leakwatchd` leaves the daemon
#     active with the same MainPID, and it logs a reload event, result failed;
#   - `systemd-analyze security leakwatchd.service` inside: the exposure
#     line is printed, and the score must be at most 3.0;
#   - WatchdogSec= is served: WatchdogTimestamp moves (WATCHDOG=1 arrived)
#     and the daemon was never restarted.
#
# Output: "systemd: PASS: ..." / "systemd: FAIL: ..." per check, then exactly
# "systemd: N passed, M failed"; exit 1 when any failed.  It prints
# "systemd: SKIPPED: REASON" and exits 0 only where containers cannot run:
# not root, systemd-nspawn (or debootstrap) missing and not installable, or
# the Debian mirror unreachable when the root file system must be built.
#
# Environment: LEAKWATCH_SYSTEMD_ROOTFS (cache directory),
# LEAKWATCH_DEBIAN_MIRROR (default: the host's apt source, else
# http://deb.debian.org/debian), LEAKWATCH_KEEP_SCRATCH=1 (keep the scratch
# directory with the container's console log).
#
# The container and everything it leaves behind (the payload/ and
# supervisor/ cgroups systemd-nspawn creates under the caller's cgroup when
# no systemd runs on the host) are removed on exit, whatever happens
# (tests/container.sh, shared with tests/deb_test.sh).

set -u

DAEMON=${1:-build/leakwatchd}
HERE=$(cd "$(dirname "$0")" && pwd)           # tests/
REPO=$(dirname "$HERE")
FILES=$HERE/systemd
TAG=systemd
. "$HERE/container.sh"

BOOT_WAIT=60         # s for leakwatchd.service to become active
RESTART_WAIT=60      # s for leaky.service's MainPID to change

container_init

case $DAEMON in /*) ;; *) DAEMON=$PWD/$DAEMON ;; esac
BUILD=$(dirname "$DAEMON")
ROOT=${LEAKWATCH_SYSTEMD_ROOTFS:-$BUILD/systemd-rootfs}
case $ROOT in /*) ;; *) ROOT=$PWD/$ROOT ;; esac

# --------------------------------------------------------------- the rootfs
ensure_rootfs "$ROOT"

# ------------------------------------------------------- install into it
# Fresh state on every run: no history or journal from an earlier one.
rm -rf "$ROOT/var/lib/leakwatch" "$ROOT/var/lib/private/leakwatch" "$ROOT/var/log/journal"/* \
    "$ROOT"/etc/systemd/system/leakwatchd.service.d "$ROOT"/etc/systemd/system/leaky.service.d \
    "$ROOT"/etc/systemd/system/leakwatchd.service
if timeout -k 10 300 make -s -C "$REPO" install DESTDIR="$ROOT" PREFIX=/usr/local \
        BUILD="$BUILD" >"$SCRATCH/install.log" 2>&1; then
    pass "make install DESTDIR=$ROOT PREFIX=/usr/local"
else
    fail "make install DESTDIR=$ROOT PREFIX=/usr/local"
    sed 's/^/    /' "$SCRATCH/install.log" | tail -n 20
    finish
fi
install -D -m 644 "$FILES/leakwatch.yaml" "$ROOT/etc/leakwatch/leakwatch.yaml"
install_leaky "$ROOT"
# Enabled the way an admin would: systemctl enable (offline, on the tree).
for u in leaky.service leakwatchd.service; do
    rm -f "$ROOT/etc/systemd/system/multi-user.target.wants/$u"
done
if timeout -k 5 60 systemctl --root="$ROOT" enable leaky.service leakwatchd.service \
        >"$SCRATCH/enable.log" 2>&1 &&
   [ -L "$ROOT/etc/systemd/system/multi-user.target.wants/leaky.service" ] &&
   [ -L "$ROOT/etc/systemd/system/multi-user.target.wants/leakwatchd.service" ]; then
    pass "systemctl --root enable leaky.service leakwatchd.service"
else
    fail "systemctl --root enable leaky.service leakwatchd.service"
    sed 's/^/    /' "$SCRATCH/enable.log"
    finish
fi

# ------------------------------------------------------------------- boot
if ! boot_container "$ROOT" --private-network; then
    fail "container boots (no systemd under systemd-nspawn; console log tail above)"
    finish
fi

diagnose() {
    say "---- diagnostics: $*"
    cx systemctl --no-pager -n 0 status leakwatchd.service leaky.service 2>&1 | sed 's/^/    /'
    cx journalctl -b --no-pager -n 40 -u leakwatchd.service -u leaky.service 2>&1 | sed 's/^/    /'
}

# --------------------------------------------------- leakwatchd is ready
state='' n=0
t0=$(date +%s)
while [ $(( $(date +%s) - t0 )) -lt $BOOT_WAIT ]; do
    state=$(cx systemctl is-active leakwatchd.service 2>/dev/null)
    case $state in active|failed) break ;; esac
    alive "$NSPAWN_PID" || break
    sleep 0.5
done
if [ "$state" = active ]; then
    pass "leakwatchd.service is active (Type=notify: READY=1 arrived) after $(( $(date +%s) - t0 ))s"
else
    fail "leakwatchd.service is '${state:-unknown}', not active, after $(( $(date +%s) - t0 ))s"
    alive "$NSPAWN_PID" || tail -n 30 "$SCRATCH/console.log" | sed 's/^/    /'
    diagnose "leakwatchd not active"
    finish
fi
status=$(prop leakwatchd.service StatusText)
if [ -n "$status" ]; then
    pass "leakwatchd StatusText: $status"
else
    fail "leakwatchd StatusText is empty (no STATUS= arrived)"
fi

# ------------------------------------------- leaky.service gets restarted
OLD=0 n=0
while [ "$OLD" = 0 ] && [ $n -lt 40 ]; do
    OLD=$(prop leaky.service MainPID); OLD=${OLD:-0}
    [ "$OLD" = 0 ] && { sleep 0.25; n=$((n + 1)); }
done
if [ "$OLD" = 0 ]; then
    fail "leaky.service has no MainPID ($(cx systemctl is-active leaky.service 2>&1))"
    diagnose "leaky not running"
    finish
fi
say "leaky.service MainPID $OLD"
# leakwatchctl reaches the unit's daemon at the default /run/leakwatch
# (RuntimeDirectory=), as root, with no environment of its own.
n=0 out=
while [ $n -lt 20 ]; do
    out=$(cx env -u RUNTIME_DIRECTORY /usr/local/bin/leakwatchctl status --json 2>&1) &&
        echo "$out" | grep -q "\"pid\": $OLD," && break
    sleep 0.5; n=$((n + 1))
done
if echo "$out" | grep -q "\"pid\": $OLD,"; then
    pass "leakwatchctl status --json in the container lists leaky.service's pid $OLD"
else
    fail "leakwatchctl status --json in the container: no pid $OLD in: $(echo "$out" | head -c 300)"
fi
NEW=$OLD
t0=$(date +%s)
while [ $(( $(date +%s) - t0 )) -lt $RESTART_WAIT ]; do
    NEW=$(prop leaky.service MainPID); NEW=${NEW:-0}
    [ "$NEW" != 0 ] && [ "$NEW" != "$OLD" ] && break
    sleep 0.5
done
if [ "$NEW" != 0 ] && [ "$NEW" != "$OLD" ]; then
    pass "leaky.service restarted by leakwatchd: MainPID $OLD -> $NEW after $(( $(date +%s) - t0 ))s"
else
    fail "leaky.service MainPID still $OLD (or none: $NEW) after ${RESTART_WAIT}s"
    diagnose "no restart"
fi
n=0
while [ $n -lt 20 ] && ! cx test -s /var/lib/leakwatch/history.state; do sleep 0.5; n=$((n + 1)); done
if cx test -s /var/lib/leakwatch/history.state; then
    pass "history saved in StateDirectory: /var/lib/leakwatch/history.state"
else
    fail "no /var/lib/leakwatch/history.state in the container (StateDirectory=)"
fi

check_journal leaky.service "leak event for pid $OLD" \
    LEAKWATCH_EVENT=leak LEAKWATCH_METRIC=rss OBJECT_PID="$OLD"
check_journal leaky.service "restart-unit action, result ok, for pid $OLD" \
    LEAKWATCH_EVENT=action LEAKWATCH_ACTION=restart-unit LEAKWATCH_RESULT=ok OBJECT_PID="$OLD"
# inspect: python under the hardened unit (ptrace through the syscall
# filter, CAP_SYS_PTRACE, the script under /usr/local/share): what leaks is
# the line of leaky.py that appends, and the restart came after it
check_journal leaky.service "inspect event, result ok, top site in leaky.py, for pid $OLD" \
    LEAKWATCH_EVENT=inspect LEAKWATCH_RESULT=ok OBJECT_PID="$OLD" \
    LEAKWATCH_TOP_SITE=/usr/local/libexec/leakwatch-test/leaky.py:$(grep -n 'LEAKED.append' "$FILES/leaky.py" | cut -d: -f1)
cx journalctl -b -u leaky.service -o json --no-pager 2>/dev/null | "$PY" -c '
import json, sys
order = [e["LEAKWATCH_EVENT"] for e in map(json.loads, sys.stdin)
         if e.get("OBJECT_PID") == sys.argv[1] and e.get("LEAKWATCH_EVENT") in ("inspect", "action")]
sys.exit(0 if order[:2] == ["inspect", "action"] else 1)' "$OLD" &&
    pass "the inspection of pid $OLD came before its restart" ||
    fail "the restart of pid $OLD did not wait for its inspection"

# ---------------------------------------- a broken config on reload
DPID=$(prop leakwatchd.service MainPID)
install -m 644 "$FILES/broken.yaml" "$ROOT/etc/leakwatch/leakwatch.yaml"
if out=$(cx systemctl reload leakwatchd.service 2>&1); then
    pass "systemctl reload leakwatchd (broken config) exited 0"
else
    rc=$?
    fail "systemctl reload leakwatchd (broken config) exited $rc: $out"
fi
state='' n=0
while [ $n -lt 20 ]; do             # up to 10 s out of 'reloading'
    state=$(cx systemctl is-active leakwatchd.service 2>/dev/null)
    [ "$state" = active ] && break
    sleep 0.5; n=$((n + 1))
done
sleep 1                             # and still there a moment later
state=$(cx systemctl is-active leakwatchd.service 2>/dev/null)
DPID2=$(prop leakwatchd.service MainPID)
if [ "$state" = active ] && [ -n "$DPID" ] && [ "$DPID" != 0 ] && [ "$DPID2" = "$DPID" ]; then
    pass "leakwatchd still active after the failed reload, same MainPID $DPID"
else
    fail "leakwatchd after the failed reload: state '$state', MainPID $DPID -> $DPID2"
    diagnose "after reload"
fi
check_journal leakwatchd.service "reload event, result failed" \
    LEAKWATCH_EVENT=reload LEAKWATCH_RESULT=failed
install -m 644 "$FILES/leakwatch.yaml" "$ROOT/etc/leakwatch/leakwatch.yaml"

# ----------------------------------------- systemd-analyze security, live
cx systemd-analyze security --no-pager leakwatchd.service >"$SCRATCH/security.txt" 2>&1
line=$(grep 'Overall exposure level' "$SCRATCH/security.txt")
score=$(printf '%s\n' "$line" | sed -n 's/.*leakwatchd.service: \([0-9.]*\).*/\1/p')
say "inside the container: ${line:-no exposure line}"
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }'; then
    pass "systemd-analyze security leakwatchd.service: exposure $score (at most 3.0)"
else
    fail "systemd-analyze security leakwatchd.service: exposure '${score}' over 3.0 or unknown"
    tail -n 20 "$SCRATCH/security.txt" | sed 's/^/    /'
fi

# ------------------------------------------------- WatchdogSec=, served
# sd-event sends WATCHDOG=1 every 1/4 to 1/2 of WatchdogSec= (7.5-15 s);
# systemd moves WatchdogTimestamp on each.  (It also sets it when the
# service starts, so one reading proves nothing: wait for it to move.)
wd0=$(prop leakwatchd.service WatchdogTimestampMonotonic); wd0=${wd0:-0}
wd=$wd0 t0=$(date +%s)
while [ $(( $(date +%s) - t0 )) -lt 20 ]; do
    wd=$(prop leakwatchd.service WatchdogTimestampMonotonic); wd=${wd:-0}
    [ "$wd" != 0 ] && [ "$wd" != "$wd0" ] && break
    sleep 0.5
done
restarts=$(prop leakwatchd.service NRestarts)
if [ "$wd" != 0 ] && [ "$wd" != "$wd0" ] && [ "$restarts" = 0 ]; then
    pass "leakwatchd pings the watchdog (WatchdogTimestamp moved after $(( $(date +%s) - t0 ))s), NRestarts=0"
else
    fail "leakwatchd watchdog: WatchdogTimestampMonotonic $wd0 -> $wd in 20s, NRestarts=${restarts:-?}"
fi

stop_container
finish
