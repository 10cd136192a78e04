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
# no systemd runs on the host) are removed on exit, whatever happens.

set -u

say() { printf 'systemd: %s\n' "$*"; }
skip() { say "SKIPPED: $*"; exit 0; }

DAEMON=${1:-build/leakwatchd}
HERE=$(cd "$(dirname "$0")" && pwd)           # tests/
REPO=$(dirname "$HERE")
FILES=$HERE/systemd
PY=/usr/bin/python3

BOOT_WAIT=60         # s for leakwatchd.service to become active
RESTART_WAIT=60      # s for leaky.service's MainPID to change
STOP_WAIT=30         # s for the container to shut down before SIGKILL

[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, systemd-nspawn)"

case $DAEMON in /*) ;; *) DAEMON=$PWD/$DAEMON ;; esac
BUILD=$(dirname "$DAEMON")
ROOT=${LEAKWATCH_SYSTEMD_ROOTFS:-$BUILD/systemd-rootfs}
case $ROOT in /*) ;; *) ROOT=$PWD/$ROOT ;; esac

# ------------------------------------------------------------------- tools
apt_install() {     # apt_install PACKAGE: quietly, bounded; 0 when installed
    command -v apt-get >/dev/null 2>&1 || return 1
    say "installing $1 (not present)"
    DEBIAN_FRONTEND=noninteractive timeout -k 10 300 apt-get install -y -qq \
        --no-install-recommends "$1" >/dev/null 2>&1 && return 0
    DEBIAN_FRONTEND=noninteractive timeout -k 10 120 apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive timeout -k 10 300 apt-get install -y -qq \
        --no-install-recommends "$1" >/dev/null 2>&1
}
for tool in timeout nsenter; do
    command -v $tool >/dev/null 2>&1 || { say "FAIL: $tool not found"; say "0 passed, 1 failed"; exit 1; }
done
command -v systemd-nspawn >/dev/null 2>&1 || apt_install systemd-container ||
    skip "systemd-nspawn missing and not installable (Debian package systemd-container)"
command -v systemd-nspawn >/dev/null 2>&1 || skip "systemd-nspawn missing and not installable"
[ -x "$PY" ] || { say "FAIL: $PY not found"; say "0 passed, 1 failed"; exit 1; }

# ------------------------------------------------------------- bookkeeping
PASS=0 FAILED=0
pass() { PASS=$((PASS + 1)); say "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); say "FAIL: $*"; }
finish() {
    say "$PASS passed, $FAILED failed"
    [ "$FAILED" -eq 0 ] && exit 0
    exit 1
}

SCRATCH=$(mktemp -d /tmp/leakwatch-systemd.XXXXXX)
NSPAWN_PID='' CPID='' CG_DIRS='' MACHINE=''
NSPAWN_RUN_EXISTED=no
[ -d /run/systemd/nspawn ] && NSPAWN_RUN_EXISTED=yes

# The cgroups systemd-nspawn --keep-unit makes: payload/ and supervisor/
# under the caller's cgroup, in the systemd-managed hierarchies.
cgroup_dirs() {
    while IFS=: read -r id ctl path; do
        case $id:$ctl in
        0:)            if [ -f /sys/fs/cgroup/unified/cgroup.procs ]; then base=/sys/fs/cgroup/unified
                       else base=/sys/fs/cgroup; fi ;;
        *:name=systemd) base=/sys/fs/cgroup/systemd ;;
        *) continue ;;
        esac
        [ "$path" = / ] && path=
        printf '%s\n' "$base$path/payload" "$base$path/supervisor"
    done </proc/$$/cgroup
}

remove_cgroups() {
    for d in $CG_DIRS; do
        [ -d "$d" ] || continue
        n=0
        # rmdir only removes empty cgroups: retry while the last processes die
        until find "$d" -depth -type d -exec rmdir {} + 2>/dev/null && [ ! -d "$d" ]; do
            n=$((n + 1))
            [ $n -ge 50 ] && { say "warning: cannot remove cgroup $d"; break; }
            sleep 0.2
        done
    done
}

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

stop_container() {
    if alive "$NSPAWN_PID"; then
        # SIGTERM makes systemd-nspawn ask the container's systemd to shut down
        kill -TERM "$NSPAWN_PID" 2>/dev/null
        n=0
        while alive "$NSPAWN_PID" && [ $n -lt $((STOP_WAIT * 5)) ]; do
            sleep 0.2; n=$((n + 1))
        done
        if alive "$NSPAWN_PID"; then
            say "warning: container did not stop in ${STOP_WAIT}s, killing it"
            alive "$CPID" && kill -KILL "$CPID" 2>/dev/null   # the pid namespace goes with it
            kill -KILL "$NSPAWN_PID" 2>/dev/null
        fi
        wait "$NSPAWN_PID" 2>/dev/null
    fi
    NSPAWN_PID=''
    remove_cgroups
    # what systemd-nspawn leaves in the host's /run when that is no tmpfs
    [ -n "$MACHINE" ] && rm -rf "/run/systemd/nspawn/propagate/$MACHINE"
    if [ "$NSPAWN_RUN_EXISTED" = no ]; then
        rmdir /run/systemd/nspawn/propagate /run/systemd/nspawn/locks /run/systemd/nspawn 2>/dev/null
    fi
}

cleanup() {
    trap - EXIT INT TERM HUP
    stop_container
    if [ "${LEAKWATCH_KEEP_SCRATCH:-0}" = 1 ]; then
        say "scratch kept in $SCRATCH"
    else
        rm -rf "$SCRATCH"
    fi
}
trap cleanup EXIT
trap 'say "interrupted"; exit 1' INT TERM HUP

# --------------------------------------------------------------- the rootfs
SUITE=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null | tr -d '"')
SUITE=${SUITE:-bookworm}
# The host's binaries run inside, so the tree is the host's release, with
# what they link against (ldd build/leakwatchd: libproc2, libyaml, libsystemd,
# libmicrohttpd).
INCLUDE=systemd,systemd-sysv,dbus,python3,libyaml-0-2,libproc2-0,libsystemd0,libmicrohttpd12,procps
STAMP=$ROOT/.leakwatch-rootfs

mirror() {
    if [ -n "${LEAKWATCH_DEBIAN_MIRROR:-}" ]; then echo "$LEAKWATCH_DEBIAN_MIRROR"; return; fi
    m=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null |
        grep -v security | head -n 1)
    [ -n "$m" ] || m=$(sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]*\)\{0,1\}\(http[^[:space:]]*\).*/\2/p' \
        /etc/apt/sources.list 2>/dev/null | grep -v security | head -n 1)
    echo "${m:-http://deb.debian.org/debian}"
}

if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$SUITE $INCLUDE" ]; then
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap ||
        skip "debootstrap missing and not installable"
    MIRROR=$(mirror)
    # debootstrap fetches with wget (a dependency of it)
    if ! timeout -k 5 30 wget -q -T 15 -t 2 -O /dev/null "$MIRROR/dists/$SUITE/Release"; then
        skip "debootstrap cannot reach the mirror $MIRROR"
    fi
    # Never wipe a directory that is not (a try at) one of our trees.
    if [ "$ROOT" = / ] || { [ -d "$ROOT" ] && [ ! -f "$STAMP" ] && [ ! -d "$ROOT/debootstrap" ] &&
                            [ -n "$(ls -A "$ROOT")" ]; }; then
        fail "$ROOT exists and is not a root file system this test made: not touching it"
        finish
    fi
    say "building the root file system in $ROOT ($SUITE from $MIRROR, about a minute)"
    rm -rf "$ROOT"
    mkdir -p "$(dirname "$ROOT")"
    t0=$(date +%s)
    if timeout -k 10 480 debootstrap --variant=minbase --include="$INCLUDE" \
            "$SUITE" "$ROOT" "$MIRROR" >"$SCRATCH/debootstrap.log" 2>&1; then
        echo "$SUITE $INCLUDE" >"$STAMP"
        pass "debootstrap $SUITE into $ROOT ($(( $(date +%s) - t0 ))s)"
    else
        fail "debootstrap $SUITE into $ROOT (log tail below)"
        tail -n 20 "$SCRATCH/debootstrap.log" | sed 's/^/    /'
        rm -rf "$ROOT"
        finish
    fi
else
    say "reusing the root file system in $ROOT"
fi

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
install -D -m 755 "$FILES/leaky.py" "$ROOT/usr/local/libexec/leakwatch-test/leaky.py"
install -D -m 644 "$FILES/leaky.service" "$ROOT/etc/systemd/system/leaky.service"
# A volatile journal (in the container's /run): nothing kept between runs.
mkdir -p "$ROOT/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nRateLimitBurst=0\n' \
    >"$ROOT/etc/systemd/journald.conf.d/leakwatch-test.conf"
# No login prompt on a console nobody reads.
ln -sf /dev/null "$ROOT/etc/systemd/system/console-getty.service"
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
MACHINE=lwtest$$
CG_DIRS=$(cgroup_dirs)
if [ -d /run/systemd/system ] && [ -S /run/dbus/system_bus_socket ]; then
    KEEP=''                  # a systemd host: nspawn asks it for a scope unit of its own
else
    KEEP=--keep-unit         # no systemd (or no bus) on the host: stay in our own cgroup
fi
# setsid: a terminal's ^C reaches us (the trap stops the container), not nspawn
setsid systemd-nspawn -q -D "$ROOT" --boot --register=no $KEEP --private-network \
    --console=pipe -M "$MACHINE" </dev/null >"$SCRATCH/console.log" 2>&1 &
NSPAWN_PID=$!

# The container's PID 1: the child of systemd-nspawn that runs systemd.
n=0
while [ -z "$CPID" ] && [ $n -lt 150 ] && alive "$NSPAWN_PID"; do
    for p in $(ps -o pid= --ppid "$NSPAWN_PID" 2>/dev/null); do
        [ "$(cat /proc/"$p"/comm 2>/dev/null)" = systemd ] && CPID=$p
    done
    [ -n "$CPID" ] || { sleep 0.2; n=$((n + 1)); }
done
if [ -z "$CPID" ]; then
    fail "container boots (no systemd under systemd-nspawn; console log tail below)"
    tail -n 30 "$SCRATCH/console.log" | sed 's/^/    /'
    finish
fi

cx() { timeout -k 5 30 nsenter -t "$CPID" -a "$@"; }     # run in the container
prop() { cx systemctl show -p "$2" --value "$1" 2>/dev/null; }

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

# journal_has UNIT CHECK-NAME KEY=VALUE...: an entry of `journalctl -u UNIT`
# (this boot) with all those fields; retried for a few seconds.
journal_has() {
    unit=$1 what=$2; shift 2
    n=0
    while :; do
        cx journalctl -b -u "$unit" -o json --no-pager >"$SCRATCH/journal.json" 2>/dev/null
        if "$PY" - "$SCRATCH/journal.json" "$@" <<'EOF'
import json, sys
want = dict(a.split("=", 1) for a in sys.argv[2:])
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if all(e.get(k) == v for k, v in want.items()):
        print(e.get("MESSAGE", ""))
        sys.exit(0)
sys.exit(1)
EOF
        then return 0; fi
        n=$((n + 1))
        [ $n -ge 10 ] && return 1
        sleep 0.5
    done
}

check_journal() {     # check_journal UNIT DESCRIPTION KEY=VALUE...
    unit=$1 desc=$2; shift 2
    if msg=$(journal_has "$unit" "$desc" "$@"); then
        pass "journalctl -u $unit: $desc: $msg"
    else
        fail "journalctl -u $unit: no entry with $*"
        say "---- leakwatch entries in journalctl -b -u $unit -o json:"
        grep LEAKWATCH_EVENT "$SCRATCH/journal.json" | "$PY" -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    print("    " + " ".join("%s=%s" % (k, v) for k, v in sorted(e.items())
          if k.startswith(("LEAKWATCH_", "OBJECT_", "_SYSTEMD_UNIT", "MESSAGE="))))' 2>/dev/null
    fi
}

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
