#!/bin/sh
# End-to-end test of `leakwatchd --log-target=journal` against a real,
# private systemd-journald.
#
#   sh tests/journal_test.sh build/leakwatchd        (from the repository root)
#
# Needs root and mount namespaces (unshare -m).  Without them the test FAILS,
# unless LEAKWATCH_SKIP_JOURNAL=1 is set, which skips it.  Set
# LEAKWATCH_KEEP_SCRATCH=1 to keep the scratch directory (journal files,
# daemon output) for a post-mortem.
#
# How it works.  The script re-runs itself (`--inner`) in a private mount
# namespace.  There it mounts a tmpfs on /run (hiding the host's /run, and so
# any journald the host runs, from everything started here), bind-mounts
# scratch directories on /run/systemd/journal, /run/log/journal and
# /var/log/journal, and a generated journald.conf (Storage=volatile,
# ReadKMsg=no, no forwarding, no rate limit) on /etc/systemd/journald.conf.
# Nothing is created or changed outside the scratch directory.
#
# journald is started with its native socket passed in by socket activation
# (LISTEN_FDS).  Started bare, with no sockets passed, journald also opens
# the kernel audit socket and switches kernel auditing on (AUDIT_SET) -- a
# change to the host we do not want from a test.
#
# Then a leaking Python program (tests/programs/leak_memory.py, 1 MiB/s) and
# leakwatchd run in the same namespace, so sd_journal_send() reaches our
# journald.  We poll `journalctl -D DIR LEAKWATCH_EVENT=leak` until the leak
# event shows up, stop everything, and check the entries' fields with
# /usr/bin/python3 (the `python3` on PATH may be a pyenv shim).
#
# Output: one line per check ("journal: PASS: ..." / "journal: FAIL: ..."),
# then "journal: N passed, M failed".  Exit status 0 when all passed, else 1.

set -u

LEAK_WAIT=40            # seconds to wait for the leak event
WATCH=journal-test      # the watch name in the generated config
MSGID_LEAK=bb71edb945044073b919493c881bd48e
PY=/usr/bin/python3

say() { printf 'journal: %s\n' "$*"; }

# ---------------------------------------------------------------- inner part
# sh journal_test.sh --inner SCRATCH DAEMON LEAKER JOURNALD
# Runs inside the private mount namespace.  Records every check as a line in
# $S/results; the outer part counts them.
if [ "${1:-}" = "--inner" ]; then
    S=$2 DAEMON=$3 LEAKER=$4 JOURNALD=$5
    J=$S/run-log-journal          # where journald writes (Storage=volatile)
    RESULTS=$S/results
    JPID='' DPID='' LPID='' DPID_DONE='' LPID_DONE=''
    MOUNTS=''

    pass() { say "PASS: $*"; echo "PASS $*" >>"$RESULTS"; }
    fail() { say "FAIL: $*"; echo "FAIL $*" >>"$RESULTS"; }
    alive() { [ -n "$1" ] && [ -e "/proc/$1" ] && ! is_zombie "$1"; }
    is_zombie() {
        st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
        [ -z "$st" ] || [ "$st" = Z ]
    }
    # stop_child PID SIGNAL TENTHS: signal a child of this shell, give it
    # TENTHS/10 s to exit, then SIGKILL; returns its exit status.
    stop_child() {
        kill "-$2" "$1" 2>/dev/null
        n=0
        while [ "$n" -lt "$3" ] && ! is_zombie "$1"; do
            sleep 0.1; n=$((n + 1))
        done
        is_zombie "$1" || kill -KILL "$1" 2>/dev/null
        wait "$1"
    }
    do_mount() {     # do_mount MOUNT-ARGS... TARGET (last argument)
        mount "$@" || return 1
        for t in "$@"; do :; done
        MOUNTS="$t $MOUNTS"
    }
    now_ms() { date +%s%3N; }
    dump_diagnostics() {
        echo "---- leakwatchd stderr (last 30 lines) ----"
        tail -n 30 "$S/daemon.err" 2>/dev/null
        echo "---- leakwatchd stdout (last 10 lines) ----"
        tail -n 10 "$S/daemon.out" 2>/dev/null
        echo "---- journal entries from leakwatchd (last 30) ----"
        p=${DPID_DONE:-$DPID}
        [ -n "$p" ] && journalctl -D "$J" -q --no-pager -o short-precise \
            -n 30 _PID="$p" 2>&1
        echo "---- systemd-journald log (last 15 lines) ----"
        tail -n 15 "$S/journald.log" 2>/dev/null
        echo "----"
    }
    inner_cleanup() {
        trap - EXIT INT TERM HUP
        [ -n "$DPID" ] && alive "$DPID" && stop_child "$DPID" TERM 20
        [ -n "$LPID" ] && alive "$LPID" && stop_child "$LPID" TERM 20
        [ -n "$JPID" ] && alive "$JPID" && stop_child "$JPID" TERM 30
        for m in $MOUNTS; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
        : >"$S/inner-cleaned"
    }
    trap inner_cleanup EXIT
    trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP

    # Everything started from here talks to our journald only, never to a
    # systemd supervising `make check`.
    unset NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID LISTEN_FDS LISTEN_PID \
          LISTEN_FDNAMES JOURNAL_STREAM INVOCATION_ID
    export SYSTEMD_PAGER=cat

    # --- the private /run, journal directories and journald config
    mkdir -p "$J" "$S/run-systemd-journal" "$S/var-log-journal" "$S/empty" \
             "$S/state" "$S/runtime" || { fail "cannot create scratch dirs"; exit 1; }
    cat >"$S/journald.conf" <<'EOF'
[Journal]
Storage=volatile
ReadKMsg=no
ForwardToSyslog=no
ForwardToKMsg=no
ForwardToConsole=no
ForwardToWall=no
RateLimitIntervalSec=0
RuntimeMaxUse=64M
EOF
    if ! { do_mount -t tmpfs -o mode=0755,size=16m leakwatch-test /run &&
           mkdir -p /run/systemd/journal /run/log/journal &&
           do_mount --bind "$S/run-systemd-journal" /run/systemd/journal &&
           do_mount --bind "$J" /run/log/journal; }; then
        fail "private /run with scratch journal directories (mount failed)"
        exit 1
    fi
    # Persistent storage would go here: keep it in the scratch dir too.
    if [ -d /var/log/journal ]; then
        do_mount --bind "$S/var-log-journal" /var/log/journal ||
            { fail "bind-mount scratch on /var/log/journal"; exit 1; }
    fi
    # Our journald.conf, and no host drop-ins (/run's are hidden already).
    # Without /etc/systemd/journald.conf journald runs on its defaults,
    # which with the mounts above still keep everything in the scratch dir.
    if [ -f /etc/systemd/journald.conf ]; then
        do_mount --bind "$S/journald.conf" /etc/systemd/journald.conf ||
            { fail "bind-mount journald.conf"; exit 1; }
    fi
    for d in /etc/systemd/journald.conf.d /usr/local/lib/systemd/journald.conf.d \
             /usr/lib/systemd/journald.conf.d /lib/systemd/journald.conf.d; do
        [ -d "$d" ] && { do_mount --bind "$S/empty" "$d" ||
            { fail "bind-mount empty dir on $d"; exit 1; }; }
    done
    # journald names its directory after the machine id; an empty
    # /etc/machine-id (as in some images) gets a throw-away one.
    if [ -f /etc/machine-id ] && [ ! -s /etc/machine-id ]; then
        if ! { $PY -c 'import uuid; print(uuid.uuid4().hex)' >"$S/machine-id" &&
               do_mount --bind "$S/machine-id" /etc/machine-id; }; then
            fail "bind-mount a machine id on the empty /etc/machine-id"; exit 1
        fi
    fi
    pass "private mount namespace: tmpfs on /run, journal dirs in $S"

    # --- journald, with its native socket passed in (see the top comment)
    SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL=info $PY -c '
import os, socket, sys
path = "/run/systemd/journal/socket"
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_PID"] = str(os.getpid())   # exec keeps the pid
os.execv(sys.argv[1], sys.argv[1:])
' "$JOURNALD" >"$S/journald.log" 2>&1 </dev/null &
    JPID=$!
    echo "$JPID" >>"$S/pids"

    # Ready when it is alive, exec'd, and a message sent to the native
    # socket (what sd_journal_send uses) can be read back from $J.
    probe="leakwatch journal_test probe $$"
    ok=
    n=0
    while [ "$n" -lt 100 ]; do           # 10 s
        alive "$JPID" || break
        if [ "$(cat "/proc/$JPID/comm" 2>/dev/null)" = systemd-journal ] &&
           [ -S /run/systemd/journal/socket ]; then
            [ -n "$ok" ] || $PY -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(("SYSLOG_IDENTIFIER=leakwatch-journal-test\nPRIORITY=6\nMESSAGE=%s\n"
          % sys.argv[1]).encode(), "/run/systemd/journal/socket")
' "$probe" 2>/dev/null && ok=sent
            if journalctl -D "$J" -q --no-pager -o cat \
                   SYSLOG_IDENTIFIER=leakwatch-journal-test 2>/dev/null |
               grep -qxF "$probe"; then
                ok=yes; break
            fi
        fi
        sleep 0.1; n=$((n + 1))
    done
    if [ "$ok" = yes ]; then
        pass "systemd-journald running in the namespace (pid $JPID), socket up, probe stored"
    else
        if alive "$JPID"; then why="running, but the probe never showed up in $J"
        else why="not running"; fi
        fail "systemd-journald in the namespace: $why (sd_journal_send would drop every event)"
        echo "---- systemd-journald log ----"; cat "$S/journald.log"; echo "----"
        exit 1
    fi

    # --- config
    TAG="lwjt-$$-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
    CONF=$S/leakwatch.yaml
    cat >"$CONF" <<EOF
interval: 250ms
state_dir: "$S/state"
watches:
  - name: $WATCH
    match:
      cmdline: 'leak_memory\.py .*--tag $TAG\$'
    warmup: 2s
    window: 12s
    rss:
      max: 2G
      growth: 100M/h
      predict: 1h
EOF
    export RUNTIME_DIRECTORY="$S/runtime" STATE_DIRECTORY="$S/state"
    if out=$("$DAEMON" -t -c "$CONF" 2>&1); then
        pass "generated config accepted (leakwatchd -t)"
    else
        fail "generated config rejected by leakwatchd -t: $out"
        sed 's/^/    /' "$CONF"
        exit 1
    fi

    # --- the leaking program, then the daemon
    $PY "$LEAKER" --rate 1024 --seconds 120 --tag "$TAG" \
        >"$S/leaker.log" 2>&1 </dev/null &
    LPID=$!
    echo "$LPID" >>"$S/pids"
    T0=$(now_ms)
    mkdir -p "$S/run" "$S/state"
    RUNTIME_DIRECTORY="$S/run" STATE_DIRECTORY="$S/state" "$DAEMON" -c "$CONF" --log-target=journal \
        >"$S/daemon.out" 2>"$S/daemon.err" </dev/null &
    DPID=$!
    echo "$DPID" >>"$S/pids"
    sleep 0.3
    if alive "$LPID" && tr '\0' ' ' <"/proc/$LPID/cmdline" | grep -q "leak_memory.py .*--tag $TAG"; then
        pass "leaking program running (pid $LPID)"
    else
        fail "leaking program did not start (pid $LPID)"; cat "$S/leaker.log"; exit 1
    fi

    # --- wait for the leak event, through a journalctl field match
    found=
    deadline=$(( $(now_ms) + LEAK_WAIT * 1000 ))
    while [ "$(now_ms)" -lt "$deadline" ]; do
        alive "$DPID" || break
        journalctl -D "$J" -q --no-pager -o json LEAKWATCH_EVENT=leak \
            >"$S/poll.json" 2>/dev/null
        if grep -q '^{' "$S/poll.json"; then found=yes; break; fi
        sleep 0.5
    done
    elapsed=$(( $(now_ms) - T0 ))
    elapsed=$(printf '%d.%d' $((elapsed / 1000)) $((elapsed % 1000 / 100)))
    if [ -n "$found" ]; then
        pass "journalctl -D DIR LEAKWATCH_EVENT=leak found the leak event after ${elapsed}s"
    elif alive "$DPID"; then
        fail "no leak event within ${LEAK_WAIT}s (journalctl -D DIR LEAKWATCH_EVENT=leak is empty)"
    else
        fail "leakwatchd died after ${elapsed}s, before any leak event"
    fi
    if alive "$DPID"; then
        pass "leakwatchd still running when polling stopped"
        # The leaking program goes first, so that the daemon reports it gone.
        stop_child "$LPID" TERM 50; lrc=$?; LPID_DONE=$LPID; LPID=''
        if [ "$lrc" -eq 0 ]; then pass "leak_memory.py exited 0 on SIGTERM"
        else fail "leak_memory.py exit status $lrc on SIGTERM (expected 0)"; fi
        gone=''
        T1=$(now_ms)
        deadline=$(( T1 + 5000 ))
        while [ "$(now_ms)" -lt "$deadline" ] && alive "$DPID"; do
            if journalctl -D "$J" -q --no-pager -o json LEAKWATCH_EVENT=gone \
                   OBJECT_PID="$LPID_DONE" 2>/dev/null | grep -q '^{'; then
                gone=yes; break
            fi
            sleep 0.25
        done
        if [ -n "$gone" ]; then
            pass "journalctl LEAKWATCH_EVENT=gone OBJECT_PID=$LPID_DONE found the gone event after $(( $(now_ms) - T1 ))ms"
        else
            fail "no gone event within 5s of the leaking program's exit"
        fi
        stop_child "$DPID" TERM 100; rc=$?; DPID_DONE=$DPID; DPID=''
        if [ "$rc" -eq 0 ]; then pass "leakwatchd exited 0 on SIGTERM"
        else fail "leakwatchd exit status $rc on SIGTERM (expected 0)"; fi
    else
        wait "$DPID"; rc=$?; DPID_DONE=$DPID; DPID=''
        fail "leakwatchd exited on its own with status $rc"
        stop_child "$LPID" TERM 50; LPID_DONE=$LPID; LPID=''
    fi

    # --- read the journal back and check the entries
    journalctl -D "$J" -q --no-pager -o json >"$S/all.json" 2>"$S/journalctl.err"
    journalctl -D "$J" -q --no-pager -o json LEAKWATCH_EVENT=leak >"$S/leak.json" 2>>"$S/journalctl.err"
    journalctl -D "$J" -q --no-pager -o json MESSAGE_ID=$MSGID_LEAK >"$S/leak-id.json" 2>>"$S/journalctl.err"
    journalctl -D "$J" -q --no-pager -o json OBJECT_PID="$LPID_DONE" >"$S/object-pid.json" 2>>"$S/journalctl.err"

    $PY - "$S" "$DPID_DONE" "$LPID_DONE" "$WATCH" <<'EOF' >>"$S/check.out" 2>&1
import json, os, sys

S, dpid, lpid, watch = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
results = open(os.path.join(S, "results"), "a")
MSGID = {
    "start":  "f9ae7d160aaa439086d08f7cb539bd47",
    "found":  "a5d6d392bfbf4c909c5777d00848479e",
    "gone":   "b161f5565602425d8db76f10d7050e9d",
    "leak":   "bb71edb945044073b919493c881bd48e",
    "limit":  "36b7adb49800478099eca7be97fdb16e",
    "action": "26db7260057b4e68991eb26d89f46c46",
    "reload": "6746e292b4e04214b1ba0bd3326cc92c",
    "error":  "6be51594b28b46f39d216c29b4501e37",
}
RSS_RATE = 1024 * 1024 * 3600      # what leak_memory.py --rate 1024 leaks, bytes/h
GIB = 1 << 30

def check(ok, what, detail=""):
    word = "PASS" if ok else "FAIL"
    line = what + ("" if ok or not detail else " (%s)" % detail)
    print("journal: %s: %s" % (word, line))
    results.write("%s %s\n" % (word, line))
    return ok

def value(v):
    # journalctl -o json: a string; a list of bytes for binary data; a list
    # of those when a field occurs more than once.
    if isinstance(v, list) and v and all(isinstance(b, int) for b in v):
        return bytes(v).decode("utf-8", "replace")
    if isinstance(v, list):
        return [value(x) for x in v]
    return v

def load(name):
    entries = []
    with open(os.path.join(S, name)) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                entries.append({k: value(v) for k, v in json.loads(line).items()})
    return entries

def num(s, kind):
    try:
        return kind(s)
    except (TypeError, ValueError):
        return None

every = load("all.json")
mine = [e for e in every if e.get("_PID") == dpid]     # sent by our daemon
events = [e for e in mine if "LEAKWATCH_EVENT" in e]
check(bool(events), "journal holds events from leakwatchd (pid %s)" % dpid,
      "%d entries in the journal, %d from the daemon, none with LEAKWATCH_EVENT"
      % (len(every), len(mine)))

# start
starts = [e for e in events if e.get("LEAKWATCH_EVENT") == "start"]
check(any(e.get("MESSAGE_ID") == MSGID["start"] for e in starts),
      "start event with MESSAGE_ID=%s" % MSGID["start"],
      "start events: %r" % [e.get("MESSAGE_ID") for e in starts])

# found
founds = [e for e in events if e.get("LEAKWATCH_EVENT") == "found"
          and e.get("OBJECT_PID") == lpid]
check(any(e.get("MESSAGE_ID") == MSGID["found"] and e.get("LEAKWATCH_WATCH") == watch
          for e in founds),
      "found event for pid %s: MESSAGE_ID=%s, LEAKWATCH_WATCH=%s"
      % (lpid, MSGID["found"], watch),
      "found events for the pid: %r" % [{k: e.get(k) for k in
          ("MESSAGE_ID", "LEAKWATCH_WATCH", "OBJECT_PID")} for e in founds])

# leak, as returned by the field matches
by_event = load("leak.json")
by_id = load("leak-id.json")
by_pid = load("object-pid.json")
cur = lambda es: sorted(e.get("__CURSOR", "") for e in es)
check(bool(by_id) and cur(by_id) == cur(by_event),
      "journalctl MESSAGE_ID=%s matches the same entries as LEAKWATCH_EVENT=leak"
      % MSGID["leak"], "%d vs %d entries" % (len(by_id), len(by_event)))
pid_events = sorted({e.get("LEAKWATCH_EVENT") for e in by_pid} - {None})
check({"found", "leak", "gone"} <= set(pid_events),
      "journalctl OBJECT_PID=%s finds its found, leak and gone events" % lpid,
      "events found: %r" % pid_events)

leaks = [e for e in by_event if e.get("_PID") == dpid and e.get("OBJECT_PID") == lpid
         and e.get("LEAKWATCH_METRIC") == "rss"]
if not check(bool(leaks), "leak event from the daemon with OBJECT_PID=%s and LEAKWATCH_METRIC=rss" % lpid,
             "leak entries: %r" % [{k: e.get(k) for k in ("_PID", "OBJECT_PID",
                                     "LEAKWATCH_METRIC", "MESSAGE")} for e in by_event]):
    sys.exit(0)
check(len(leaks) == 1, "exactly one leak event for (pid, rss)", "%d of them" % len(leaks))
e = leaks[0]
dup = sorted(k for k, v in e.items() if isinstance(v, list))
check(not dup, "leak entry has no repeated fields", "repeated: %s" % ", ".join(dup))
check(e.get("MESSAGE_ID") == MSGID["leak"], "leak MESSAGE_ID=%s" % MSGID["leak"],
      "got %r" % e.get("MESSAGE_ID"))
check(e.get("LEAKWATCH_WATCH") == watch, "leak LEAKWATCH_WATCH=%s" % watch,
      "got %r" % e.get("LEAKWATCH_WATCH"))
check(e.get("PRIORITY") == "4", "leak PRIORITY=4 (warning)", "got %r" % e.get("PRIORITY"))
msg = e.get("MESSAGE")
check(isinstance(msg, str) and msg.strip() != "", "leak MESSAGE non-empty: %r" % msg,
      "got %r" % msg)
v = e.get("LEAKWATCH_VALUE")
val = num(v, int) if isinstance(v, str) and v.isdigit() else None
check(val is not None and val > 0, "leak LEAKWATCH_VALUE a positive integer: %r" % v,
      "got %r" % v)
check(val is not None and 8 << 20 <= val < 2 * GIB,
      "leak LEAKWATCH_VALUE plausible as rss in bytes (8 MiB .. 2 GiB)", "got %r" % v)
s = e.get("LEAKWATCH_SLOPE_PER_HOUR")
slope = num(s, float)
check(slope is not None and slope > 0, "leak LEAKWATCH_SLOPE_PER_HOUR positive: %r" % s,
      "got %r" % s)
check(slope is not None and RSS_RATE / 4 <= slope <= RSS_RATE * 4,
      "leak LEAKWATCH_SLOPE_PER_HOUR within 4x of the real %d bytes/h" % RSS_RATE,
      "got %r" % s)
lim = e.get("LEAKWATCH_LIMIT")
check(lim == str(2 * GIB), "leak LEAKWATCH_LIMIT=%d (rss max 2G)" % (2 * GIB), "got %r" % lim)
eta = e.get("LEAKWATCH_ETA_SEC")
etan = num(eta, float)
ok = etan is not None and etan > 0
if ok and val and slope:
    want = (2 * GIB - val) / slope * 3600
    ok = abs(etan - want) <= 0.25 * want + 60
check(ok, "leak LEAKWATCH_ETA_SEC positive and consistent with value, slope and limit: %r" % eta,
      "got %r" % eta)

# consistency of everything the daemon sent
bad = sorted({"%s/%s" % (x.get("LEAKWATCH_EVENT"), x.get("MESSAGE_ID")) for x in events
              if MSGID.get(x.get("LEAKWATCH_EVENT")) != x.get("MESSAGE_ID")})
check(not bad, "every event's MESSAGE_ID is the one fixed for its LEAKWATCH_EVENT",
      "mismatches: %s" % ", ".join(bad))
errors = [x.get("MESSAGE") for x in events if x.get("LEAKWATCH_EVENT") == "error"]
check(not errors, "no error events", "errors: %r" % errors)
EOF
    cat "$S/check.out"
    if [ -s "$S/journalctl.err" ]; then
        say "note: journalctl said: $(head -n 3 "$S/journalctl.err" | tr '\n' ' ')"
    fi
    grep -q '^FAIL' "$RESULTS" && dump_diagnostics
    exit 0
fi

# ---------------------------------------------------------------- outer part
if [ "${LEAKWATCH_SKIP_JOURNAL:-}" = 1 ]; then
    say "SKIPPED: LEAKWATCH_SKIP_JOURNAL=1"
    exit 0
fi
fatal() {
    say "FAIL: $*"
    say "(set LEAKWATCH_SKIP_JOURNAL=1 to skip this test where it cannot run)"
    say "0 passed, 1 failed"
    exit 1
}
[ $# -eq 1 ] || { echo "usage: sh tests/journal_test.sh DAEMON" >&2; exit 2; }
case $1 in /*) DAEMON=$1 ;; *) DAEMON=$(pwd)/$1 ;; esac
case $0 in /*) SELF=$0 ;; *) SELF=$(pwd)/$0 ;; esac
LEAKER=$(dirname "$SELF")/programs/leak_memory.py

[ -x "$DAEMON" ] || fatal "no daemon executable at $DAEMON"
[ -f "$LEAKER" ] || fatal "missing $LEAKER"
[ -x "$PY" ] || fatal "$PY not found"
[ "$(id -u)" -eq 0 ] || fatal "must run as root (it needs a private mount namespace and its own journald)"
JOURNALD=
for j in /lib/systemd/systemd-journald /usr/lib/systemd/systemd-journald; do
    [ -x "$j" ] && { JOURNALD=$j; break; }
done
[ -n "$JOURNALD" ] || fatal "systemd-journald not found in /lib/systemd or /usr/lib/systemd"
command -v journalctl >/dev/null 2>&1 || fatal "journalctl not found"
command -v unshare >/dev/null 2>&1 || fatal "unshare (util-linux) not found"
[ -e /etc/machine-id ] || fatal "/etc/machine-id missing (journald needs it; run systemd-machine-id-setup)"
err=$(unshare -m --propagation private true 2>&1) ||
    fatal "cannot create a mount namespace with unshare -m: $err"

S=$(mktemp -d) || fatal "mktemp -d failed"
case $S in
    /run|/run/*)    # would be hidden under the private /run
        rmdir "$S"; S=$(mktemp -d -p /var/tmp) || fatal "mktemp -d -p /var/tmp failed" ;;
esac
: >"$S/results"
INNER=
cleanup() {
    trap - EXIT INT TERM HUP
    if [ -n "$INNER" ] && [ -e "/proc/$INNER" ]; then
        kill -TERM "$INNER" 2>/dev/null
        n=0
        while [ -e "/proc/$INNER" ] && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
        kill -KILL "$INNER" 2>/dev/null
        wait "$INNER" 2>/dev/null
    fi
    # Whatever the inner script left running if it was killed hard (the
    # namespace's mounts go away with its last process).
    if [ -f "$S/pids" ] && [ ! -e "$S/inner-cleaned" ]; then
        while read -r p; do
            case $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) in
                *systemd-journald*|*"$S"*|*"--tag lwjt-"*) kill -KILL "$p" 2>/dev/null ;;
            esac
        done <"$S/pids"
        sleep 0.2
    fi
    if [ "${LEAKWATCH_KEEP_SCRATCH:-}" = 1 ]; then
        say "scratch kept in $S"
    else
        rm -rf "$S"
    fi
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM
trap 'say "hung up"; exit 129' HUP

START=$(date +%s%3N)
unshare -m --propagation private sh "$SELF" --inner "$S" "$DAEMON" "$LEAKER" "$JOURNALD" </dev/null &
INNER=$!
wait "$INNER"; rc=$?
INNER=

passed=$(grep -c '^PASS' "$S/results")
failed=$(grep -c '^FAIL' "$S/results")
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    say "FAIL: the test itself exited with status $rc"
    failed=1
fi
T=$(( $(date +%s%3N) - START )); say "took $((T / 1000)).$((T % 1000 / 100))s"
say "$passed passed, $failed failed"
[ "$failed" -eq 0 ] || exit 1
exit 0
