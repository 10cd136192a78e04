# tests/container.sh: what the tests that boot a real systemd in a container
# share (sourced by tests/systemd_test.sh and tests/deb_test.sh).
#
# The caller sets TAG (its output lines are "TAG: PASS: ...", "TAG: FAIL:
# ...", "TAG: SKIPPED: ...", then "TAG: N passed, M failed") and calls
# container_init first: it skips (exit 0) only where containers cannot run
# (not root; systemd-nspawn missing and not installable), makes SCRATCH and
# sets the traps that stop the container and remove what it leaves.
#
# The root file system is one minimal Debian tree of the host's release,
# built with debootstrap once and cached (ensure_rootfs DIR: in
# BUILD/systemd-rootfs unless LEAKWATCH_SYSTEMD_ROOTFS says otherwise);
# LEAKWATCH_DEBIAN_MIRROR overrides the mirror (default: the host's apt
# source, else http://deb.debian.org/debian).  boot_container DIR [ARGS]
# boots a tree with systemd-nspawn --boot; cx runs a command inside (nsenter
# into the container's PID 1).  The container and the payload/ and
# supervisor/ cgroups systemd-nspawn --keep-unit creates under the caller's
# cgroup (when no systemd runs on the host) are removed on exit, whatever
# happens; LEAKWATCH_KEEP_SCRATCH=1 keeps SCRATCH (the console log).

PY=/usr/bin/python3
STOP_WAIT=30         # s for the container to shut down before SIGKILL
PASS=0 FAILED=0
NSPAWN_PID='' CPID='' CG_DIRS='' MACHINE='' SCRATCH=''
NSPAWN_RUN_EXISTED=no

say() { printf '%s: %s\n' "$TAG" "$*"; }
skip() { say "SKIPPED: $*"; exit 0; }
pass() { PASS=$((PASS + 1)); say "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); say "FAIL: $*"; }
finish() {
    say "$PASS passed, $FAILED failed"
    [ "$FAILED" -eq 0 ] && exit 0
    exit 1
}
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

apt_install() {     # apt_install PACKAGE: quietly, bounded; 0 when installed
    command -v apt-get >/dev/null 2>&1 || return 1
    say "installing $1 (not present)"
    DEBIAN_FRONTEND=noninteractive timeout -k 10 300 apt-get install -y -qq \
        --no-install-recommends "$1" >/dev/null 2>&1 && return 0
    DEBIAN_FRONTEND=noninteractive timeout -k 10 120 apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive timeout -k 10 300 apt-get install -y -qq \
        --no-install-recommends "$1" >/dev/null 2>&1
}

container_init() {
    [ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, systemd-nspawn)"
    for tool in timeout nsenter; do
        command -v $tool >/dev/null 2>&1 || { fail "$tool not found"; finish; }
    done
    command -v systemd-nspawn >/dev/null 2>&1 || apt_install systemd-container ||
        skip "systemd-nspawn missing and not installable (Debian package systemd-container)"
    command -v systemd-nspawn >/dev/null 2>&1 || skip "systemd-nspawn missing and not installable"
    [ -x "$PY" ] || { fail "$PY not found"; finish; }
    SCRATCH=$(mktemp -d "/tmp/leakwatch-$TAG.XXXXXX")
    [ -d /run/systemd/nspawn ] && NSPAWN_RUN_EXISTED=yes
    trap container_cleanup EXIT
    trap 'say "interrupted"; exit 1' INT TERM HUP
}

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
    NSPAWN_PID='' CPID=''
    remove_cgroups
    # what systemd-nspawn leaves in the host's /run when that is no tmpfs
    [ -n "$MACHINE" ] && rm -rf "/run/systemd/nspawn/propagate/$MACHINE"
    if [ "$NSPAWN_RUN_EXISTED" = no ]; then
        rmdir /run/systemd/nspawn/propagate /run/systemd/nspawn/locks /run/systemd/nspawn 2>/dev/null
    fi
}

container_cleanup() {
    trap - EXIT INT TERM HUP
    stop_container
    if [ "${LEAKWATCH_KEEP_SCRATCH:-0}" = 1 ]; then
        say "scratch kept in $SCRATCH"
    else
        rm -rf "$SCRATCH"
    fi
}

# --------------------------------------------------------------- the rootfs
SUITE=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null | tr -d '"')
SUITE=${SUITE:-bookworm}
# The host's binaries run inside (make install), so the tree is the host's
# release, with what they link against (ldd build/leakwatchd: libproc2,
# libyaml, libsystemd, libmicrohttpd).
INCLUDE=systemd,systemd-sysv,dbus,python3,libyaml-0-2,libproc2-0,libsystemd0,libmicrohttpd12,procps

rootfs_mirror() {
    if [ -n "${LEAKWATCH_DEBIAN_MIRROR:-}" ]; then echo "$LEAKWATCH_DEBIAN_MIRROR"; return; fi
    m=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null |
        grep -v security | head -n 1)
    [ -n "$m" ] || m=$(sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]*\)\{0,1\}\(http[^[:space:]]*\).*/\2/p' \
        /etc/apt/sources.list 2>/dev/null | grep -v security | head -n 1)
    echo "${m:-http://deb.debian.org/debian}"
}

# mirror_reachable: 0 when the mirror's Release file for SUITE downloads
mirror_reachable() {
    timeout -k 5 30 wget -q -T 15 -t 2 -O /dev/null "$(rootfs_mirror)/dists/$SUITE/Release"
}

# ensure_rootfs DIR: the cached tree in DIR, built when missing or made for
# another SUITE/INCLUDE; skips when the mirror is unreachable for the build.
ensure_rootfs() {
    root=$1 stamp=$1/.leakwatch-rootfs
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$SUITE $INCLUDE" ]; then
        say "reusing the root file system in $root"
        return 0
    fi
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap ||
        skip "debootstrap missing and not installable"
    # debootstrap fetches with wget (a dependency of it)
    mirror_reachable || skip "debootstrap cannot reach the mirror $(rootfs_mirror)"
    # Never wipe a directory that is not (a try at) one of our trees.
    if [ "$root" = / ] || { [ -d "$root" ] && [ ! -f "$stamp" ] && [ ! -d "$root/debootstrap" ] &&
                            [ -n "$(ls -A "$root")" ]; }; then
        fail "$root exists and is not a root file system this test made: not touching it"
        finish
    fi
    say "building the root file system in $root ($SUITE from $(rootfs_mirror), about a minute)"
    rm -rf "$root"
    mkdir -p "$(dirname "$root")"
    t0=$(date +%s)
    if timeout -k 10 480 debootstrap --variant=minbase --include="$INCLUDE" \
            "$SUITE" "$root" "$(rootfs_mirror)" >"$SCRATCH/debootstrap.log" 2>&1; then
        echo "$SUITE $INCLUDE" >"$stamp"
        pass "debootstrap $SUITE into $root ($(( $(date +%s) - t0 ))s)"
    else
        fail "debootstrap $SUITE into $root (log tail below)"
        tail -n 20 "$SCRATCH/debootstrap.log" | sed 's/^/    /'
        rm -rf "$root"
        finish
    fi
}

# install_leaky DIR: the leaking service (tests/systemd/leaky.{py,service},
# ~1 MiB/s) in the tree DIR, not enabled; a volatile journal (in the
# container's /run: nothing kept between runs, no rate limit); no login
# prompt on a console nobody reads.
install_leaky() {
    install -D -m 755 "$HERE/systemd/leaky.py" "$1/usr/local/libexec/leakwatch-test/leaky.py"
    install -D -m 644 "$HERE/systemd/leaky.service" "$1/etc/systemd/system/leaky.service"
    mkdir -p "$1/etc/systemd/journald.conf.d"
    printf '[Journal]\nStorage=volatile\nRateLimitBurst=0\n' \
        >"$1/etc/systemd/journald.conf.d/leakwatch-test.conf"
    ln -sf /dev/null "$1/etc/systemd/system/console-getty.service"
}

# ------------------------------------------------------------------- boot
# boot_container DIR [NSPAWN-ARGS]: boots DIR (systemd as the container's
# PID 1, console in SCRATCH/console.log); sets NSPAWN_PID and CPID.
# 0 when systemd runs in it, 1 (with the console's tail printed) when not.
# nspawn_keep: systemd-nspawn's option for where the container's cgroup goes
nspawn_keep() {
    if [ -d /run/systemd/system ] && [ -S /run/dbus/system_bus_socket ]; then
        echo ''              # a systemd host: nspawn asks it for a scope unit of its own
    else
        echo --keep-unit     # no systemd (or no bus) on the host: stay in our own cgroup
    fi
}

boot_container() {
    dir=$1; shift
    MACHINE=lw$TAG$$
    CG_DIRS=$(cgroup_dirs)
    # setsid: a terminal's ^C reaches us (the trap stops the container), not nspawn
    setsid systemd-nspawn -q -D "$dir" --boot --register=no $(nspawn_keep) "$@" \
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
    [ -n "$CPID" ] && return 0
    tail -n 30 "$SCRATCH/console.log" | sed 's/^/    /'
    return 1
}

cx() { timeout -k 5 30 nsenter -t "$CPID" -a "$@"; }     # run in the container
prop() { cx systemctl show -p "$2" --value "$1" 2>/dev/null; }

# journal_has UNIT KEY=VALUE...: prints the MESSAGE of an entry of
# `journalctl -u UNIT` (this boot) with all those fields (KEY~=TEXT: the
# field holds TEXT somewhere); 0 when one
# came within about five seconds.  The entries are left in
# SCRATCH/journal.json.
journal_has() {
    unit=$1; shift
    n=0
    while :; do
        cx journalctl -b -u "$unit" -o json --no-pager >"$SCRATCH/journal.json" 2>/dev/null
        if "$PY" - "$SCRATCH/journal.json" "$@" <<'PYEOF'
import json, sys
want = dict(a.split("=", 1) for a in sys.argv[2:])
def same(have, k, v):
    if not isinstance(have, str):
        return False
    return v in have if k.endswith("~") else have == v
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if all(same(e.get(k.rstrip("~")), k, v) for k, v in want.items()):
        print(e.get("MESSAGE", ""))
        sys.exit(0)
sys.exit(1)
PYEOF
        then return 0; fi
        n=$((n + 1))
        [ $n -ge 10 ] && return 1
        sleep 0.5
    done
}

# check_journal UNIT DESCRIPTION KEY=VALUE...: a check that journal_has
# finds the entry; on failure the leakwatch entries of that unit are shown.
check_journal() {
    unit=$1 desc=$2; shift 2
    if msg=$(journal_has "$unit" "$@"); then
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
