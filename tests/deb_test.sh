#!/bin/sh
# The Debian package, built and used the way a Debian operator would.
#
#   sh tests/deb_test.sh [BUILD]          (from the repository root; BUILD: build)
#
# On the host (as any user):
#   - `make deb` builds leakwatch_VERSION_ARCH.deb from a temporary copy of
#     the tree (DEB_BUILD_OPTIONS=nocheck: `make check` runs the unit tests
#     itself) and leaves the tree as it was (git status unchanged);
#   - debian/changelog's version is the Makefile's VERSION, and the package's
#     Depends: (from dh_shlibdeps) names libproc2-0, libyaml-0-2 and
#     libsystemd0, its Recommends: libmicrohttpd12;
#   - lintian --pedantic -I on the .changes: no error, no warning (the
#     overridden tags are listed with their reasons); the output is printed.
# Then, as root, in a container booted with a real systemd (the root file
# system of tests/systemd_test.sh, copied: tests/container.sh), with
# leaky.service (tests/systemd/leaky.py, ~1 MiB/s) enabled:
#   - `apt install ./leakwatch_VERSION_ARCH.deb`: its dependencies come from
#     Debian's archive (libyaml-0-2 and libmicrohttpd12 are purged from the
#     copy first, with the .debs debootstrap left in apt's cache, and apt
#     fetches them, with apt-get install --download-only on the tree before
#     it boots: the booted container has no network);
#   - leakwatchd.service is enabled and active, `leakwatchctl status`
#     answers, the journal catalog was updated by systemd's dpkg trigger
#     (journalctl --list-catalog knows leakwatch's message ids);
#   - with tests/systemd/package.yaml as the configuration (on_leak: alert),
#     `journalctl -u leaky.service` has the leak event for its pid;
#   - the same .deb repacked with a bumped version, while the configuration
#     on disk is broken: apt exits 0, prints leakwatchd -t's errors, and the
#     old daemon goes on (same MainPID);
#   - with the configuration fixed, the same .deb with a second bump: the
#     daemon is restarted (a new MainPID) and the leaking process's found
#     event says its history was kept, with no second leak event for it;
#     the operator's configuration is kept (a conffile, not replaced);
#   - `apt remove leakwatch`: the service is stopped, no leakwatchd runs,
#     the configuration and the saved history stay;
#   - `apt purge leakwatch`: nothing under /etc/leakwatch, /var/lib/leakwatch
#     or /run/leakwatch, and the unit's enablement link is gone.
#
# Output: "deb: PASS: ..." / "deb: FAIL: ..." per check, then exactly
# "deb: N passed, M failed"; exit 1 when any failed.  "deb: SKIPPED:
# REASON" (exit 0) only where the tools to build cannot be installed or
# containers cannot run (not root, no systemd-nspawn, the Debian mirror
# unreachable); the host checks above run before a container skip.
# Environment: as tests/container.sh (LEAKWATCH_SYSTEMD_ROOTFS,
# LEAKWATCH_DEBIAN_MIRROR, LEAKWATCH_KEEP_SCRATCH=1).

set -u

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)           # tests/
REPO=$(dirname "$HERE")
FILES=$HERE/systemd
TAG=deb
. "$HERE/container.sh"

BOOT_WAIT=60         # s for the container's systemd to be up
LEAK_WAIT=60         # s for leaky.service's leak event
APT="env DEBIAN_FRONTEND=noninteractive apt-get -y -o Dpkg::Use-Pty=0"

case $BUILD in /*) ;; *) BUILD=$REPO/$BUILD ;; esac
ROOT=${LEAKWATCH_SYSTEMD_ROOTFS:-$BUILD/systemd-rootfs}
case $ROOT in /*) ;; *) ROOT=$PWD/$ROOT ;; esac

# ----------------------------------------------------------- on the host
for tool in dpkg-buildpackage dh lintian; do
    command -v $tool >/dev/null 2>&1 && continue
    [ "$(id -u)" -eq 0 ] || skip "$tool missing (apt install dpkg-dev debhelper lintian)"
    apt_install "$(case $tool in dpkg-buildpackage) echo dpkg-dev ;; dh) echo debhelper ;; *) echo $tool ;; esac)" ||
        skip "$tool missing and not installable"
done
HOSTTMP=$(mktemp -d "${TMPDIR:-/tmp}/leakwatch-deb-host.XXXXXX")
trap 'rm -rf "$HOSTTMP"' EXIT
trap 'exit 1' INT TERM HUP

status_before=$(git -C "$REPO" status --porcelain 2>/dev/null)
t0=$(date +%s)
if DEB_BUILD_OPTIONS=nocheck make -s -C "$REPO" deb DEBDIR="$HOSTTMP/deb" >"$HOSTTMP/build.log" 2>&1; then
    DEB=$(tail -n 1 "$HOSTTMP/build.log")
    pass "make deb: $(basename "$DEB") in $(( $(date +%s) - t0 ))s"
else
    fail "make deb (log tail below)"
    tail -n 30 "$HOSTTMP/build.log" | sed 's/^/    /'
    finish
fi
if [ "$(git -C "$REPO" status --porcelain 2>/dev/null)" = "$status_before" ] && [ ! -e "$REPO/debian/leakwatch" ]; then
    pass "the tree is as it was (git status unchanged, no debian/leakwatch/)"
else
    fail "make deb changed the tree: $(git -C "$REPO" status --porcelain | head -n 5 | tr '\n' ' ')"
fi

VERSION=$(dpkg-deb -f "$DEB" Version)
MKVERSION=$(sed -n 's/^VERSION *?= *//p' "$REPO/Makefile")
if [ "$VERSION" = "$MKVERSION" ]; then
    pass "debian/changelog's version $VERSION is the Makefile's VERSION"
else
    fail "debian/changelog's version $VERSION is not the Makefile's VERSION $MKVERSION"
fi
depends=$(dpkg-deb -f "$DEB" Depends) recommends=$(dpkg-deb -f "$DEB" Recommends)
missing=
for lib in libproc2-0 libyaml-0-2 libsystemd0; do
    case ", $depends," in *", $lib "*|*", $lib,"*) ;; *) missing="$missing $lib" ;; esac
done
if [ -z "$missing" ] && [ "$recommends" = libmicrohttpd12 ]; then
    pass "Depends: $depends; Recommends: $recommends"
else
    fail "Depends: $depends (missing:${missing:- none}); Recommends: $recommends (want libmicrohttpd12)"
fi

# lintian complains about running as root, not about the package
lintian --pedantic -I -E --show-overrides "${DEB%.deb}.changes" >"$HOSTTMP/lintian.txt" 2>&1
grep -v '^running with root privileges' "$HOSTTMP/lintian.txt" | sed 's/^/    lintian: /'
if grep -q '^[EW]: ' "$HOSTTMP/lintian.txt"; then
    fail "lintian: $(grep -c '^[EW]: ' "$HOSTTMP/lintian.txt") errors or warnings (above)"
elif ! grep -q '^O: leakwatch' "$HOSTTMP/lintian.txt" && [ -s "$REPO/debian/leakwatch.lintian-overrides" ]; then
    fail "lintian printed no overridden tag: did it check the package? (output above)"
else
    pass "lintian --pedantic: no error, no warning ($(grep -c '^[IPX]: ' "$HOSTTMP/lintian.txt") info/pedantic, $(grep -c '^O: ' "$HOSTTMP/lintian.txt") overridden)"
fi

# ---------------------------------------------------------- the container
container_init        # a skip here still removes HOSTTMP; past it, SCRATCH holds it
mv "$HOSTTMP" "$SCRATCH/host"
DEB=$SCRATCH/host/deb/$(basename "$DEB")
ensure_rootfs "$ROOT"
mirror_reachable || skip "the Debian mirror $(rootfs_mirror) is unreachable: the package's dependencies come from it"

# A copy of the cached tree, without what tests/systemd_test.sh installed in
# it (make install under /usr/local, its test files, enablement links).
TREE=$SCRATCH/root
cp -a "$ROOT" "$TREE"
make -s -C "$REPO" uninstall DESTDIR="$TREE" PREFIX=/usr/local BUILD="$BUILD" >/dev/null 2>&1
rm -rf "$TREE/etc/leakwatch" "$TREE/var/lib/leakwatch" "$TREE/var/lib/private/leakwatch" \
    "$TREE/usr/local/libexec/leakwatch-test" "$TREE/usr/local/share/leakwatch" \
    "$TREE/usr/local/share/doc/leakwatch" "$TREE"/etc/systemd/system/leak* \
    "$TREE"/etc/systemd/system/*.wants/leak* "$TREE/var/log/journal"/*
# debootstrap leaves the packages it fetched in apt's cache: without them
# apt has to fetch the package's dependencies from the archive
find "$TREE/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -delete
left=$(find "$TREE/usr/local" "$TREE/etc" "$TREE/lib/systemd" "$TREE/usr/lib/systemd" \
    -name '*leakwatch*' ! -name leakwatch-test.conf 2>/dev/null)
[ -z "$left" ] || { fail "the copied tree still holds: $left"; finish; }

PKG=$TREE/srv/leakwatch-deb          # /srv/leakwatch-deb inside
mkdir -p "$PKG"
cp "$DEB" "$PKG/"
# the same .deb with a bumped version: unpacked, Version: changed, rebuilt
bump() {        # bump VERSION: prints the new .deb's path inside the container
    rm -rf "$SCRATCH/re"
    dpkg-deb -R "$DEB" "$SCRATCH/re" &&
        sed -i "s/^Version: .*/Version: $1/" "$SCRATCH/re/DEBIAN/control" &&
        dpkg-deb -b "$SCRATCH/re" "$PKG/leakwatch_$1_$(dpkg-deb -f "$DEB" Architecture).deb" >/dev/null &&
        echo "/srv/leakwatch-deb/leakwatch_$1_$(dpkg-deb -f "$DEB" Architecture).deb"
}
V2=$VERSION+lwtest1 V3=$VERSION+lwtest2
DEB2=$(bump "$V2") && DEB3=$(bump "$V3") || { fail "repacking $(basename "$DEB") with a bumped version"; finish; }
DEB1=/srv/leakwatch-deb/$(basename "$DEB")

install_leaky "$TREE"
timeout -k 5 60 systemctl --root="$TREE" enable leaky.service >/dev/null 2>&1 ||
    { fail "systemctl --root enable leaky.service"; finish; }

# The dependencies, from the archive: the libraries the package needs that
# the tree has are purged, and apt downloads what the .deb needs into the
# tree's cache (the tree not booted, on the host's network).
fetch() {
    timeout -k 10 300 systemd-nspawn -q -D "$TREE" --register=no $(nspawn_keep) -M "lw${TAG}f$$" \
        --bind-ro="$PKG:/srv/leakwatch-deb" --pipe -- sh -c "$1" >>"$SCRATCH/fetch.log" 2>&1 </dev/null
}
CG_DIRS=$(cgroup_dirs)
if fetch "dpkg --purge libmicrohttpd12 libyaml-0-2" &&
   { fetch "$APT install --download-only $DEB1" ||
     fetch "$APT update -qq && $APT install --download-only $DEB1"; }; then
    got=$(sed -n 's/^Get:[0-9]* http[^ ]* [^ ]* [^ ]* \([^ ]*\) .*/\1/p' "$SCRATCH/fetch.log" | sort -u | tr '\n' ' ')
    pass "apt-get install --download-only $(basename "$DEB1") on the tree: fetched ${got:-nothing?}"
    case " $got" in *" libyaml-0-2 "*) ;; *) fail "apt did not fetch libyaml-0-2 from the archive" ;; esac
else
    fail "fetching the dependencies from the archive (log tail below)"
    tail -n 20 "$SCRATCH/fetch.log" | sed 's/^/    /'
    finish
fi
remove_cgroups
rm -rf "/run/systemd/nspawn/propagate/lw${TAG}f$$"

# ------------------------------------------------------------------- boot
if ! boot_container "$TREE" --private-network; then
    fail "container boots (no systemd under systemd-nspawn; console log tail above)"
    finish
fi
t0=$(date +%s) state=
while [ $(( $(date +%s) - t0 )) -lt $BOOT_WAIT ]; do
    state=$(cx systemctl is-system-running 2>/dev/null)
    case $state in running|degraded) break ;; esac
    sleep 0.5
done
case $state in
running|degraded) say "the container's systemd is up ($state) after $(( $(date +%s) - t0 ))s" ;;
*) fail "the container's systemd is '$state' after ${BOOT_WAIT}s"; finish ;;
esac

apt_in() {      # apt_in LOG ARGS...: apt-get in the container, output in SCRATCH/LOG
    log=$SCRATCH/$1; shift
    timeout -k 10 300 nsenter -t "$CPID" -a $APT "$@" >"$log" 2>&1
}
# apt_check LOG ARGS...: apt_in, a check of its exit status; its output's
# tail on failure.  0 when it passed.
apt_check() {
    log=$1; shift
    if apt_in "$log" "$@"; then
        pass "apt $*"
        return 0
    fi
    fail "apt $* (output below)"
    sed 's/^/    /' "$SCRATCH/$log" | tail -n 20
    return 1
}
diagnose() {
    say "---- diagnostics: $*"
    cx systemctl --no-pager -n 0 status leakwatchd.service 2>&1 | sed 's/^/    /'
    cx journalctl -b --no-pager -n 30 -u leakwatchd.service 2>&1 | sed 's/^/    /'
}

# ---------------------------------------------------------------- install
apt_check install.log install "$DEB1" || finish
say "set up: $(sed -n 's/^Setting up \([^ ]*\) .*/\1/p' "$SCRATCH/install.log" | tr '\n' ' ')"
for lib in libyaml-0-2 libmicrohttpd12; do
    if cx dpkg-query -W -f '${Status}\n' "$lib" 2>/dev/null | grep -q 'install ok installed'; then
        pass "$lib installed with it (a Depends/Recommends, from the archive)"
    else
        fail "$lib not installed with the package"
    fi
done
n=0 state=
while [ $n -lt 40 ]; do
    state=$(cx systemctl is-active leakwatchd.service 2>/dev/null)
    [ "$state" = active ] && break
    sleep 0.25; n=$((n + 1))
done
enabled=$(cx systemctl is-enabled leakwatchd.service 2>/dev/null)
if [ "$state" = active ] && [ "$enabled" = enabled ]; then
    pass "leakwatchd.service is enabled and active after the install"
else
    fail "leakwatchd.service is '$enabled' and '$state' after the install"
    diagnose "after install"
fi
if out=$(cx /usr/bin/leakwatchctl status 2>&1); then
    pass "leakwatchctl status answers: $(printf '%s\n' "$out" | head -n 1)"
else
    fail "leakwatchctl status: $out"
fi
ids=$(sed -n 's/^-- \([0-9a-f]\{32\}\)$/\1/p' "$REPO/systemd/leakwatch.catalog")
cx journalctl --list-catalog --no-pager >"$SCRATCH/catalog.txt" 2>&1
missing=0
for id in $ids; do grep -q "^$id " "$SCRATCH/catalog.txt" || missing=$((missing + 1)); done
if [ -n "$ids" ] && [ $missing -eq 0 ]; then
    pass "journalctl --list-catalog knows all $(echo $ids | wc -w) leakwatch message ids (systemd's trigger ran)"
else
    fail "journalctl --list-catalog lacks $missing of the $(echo $ids | wc -w) leakwatch message ids"
fi

# ------------------------------------------------------------ a leak, seen
OLD=$(prop leaky.service MainPID)
install -m 644 "$FILES/package.yaml" "$TREE/etc/leakwatch/leakwatch.yaml"
cx systemctl reload leakwatchd.service >/dev/null 2>&1 || fail "systemctl reload leakwatchd"
t0=$(date +%s)
while [ $(( $(date +%s) - t0 )) -lt $LEAK_WAIT ]; do
    journal_has leaky.service LEAKWATCH_EVENT=leak OBJECT_PID="$OLD" >/dev/null && break
done
check_journal leaky.service "leak event for pid $OLD" LEAKWATCH_EVENT=leak LEAKWATCH_METRIC=rss OBJECT_PID="$OLD"
DPID=$(prop leakwatchd.service MainPID)

# ------------------------------------ upgrade, with a configuration it rejects
install -m 644 "$FILES/broken.yaml" "$TREE/etc/leakwatch/leakwatch.yaml"
if apt_in upgrade1.log install "$DEB2" && grep -q 'rejects /etc/leakwatch/leakwatch.yaml' "$SCRATCH/upgrade1.log" &&
   grep -q 'error: ' "$SCRATCH/upgrade1.log"; then
    pass "apt install $(basename "$DEB2") with a broken configuration: exit 0, leakwatchd -t's errors and 'not restarted' printed"
else
    fail "apt install $(basename "$DEB2") with a broken configuration (output below)"
    sed 's/^/    /' "$SCRATCH/upgrade1.log" | tail -n 20
fi
v=$(cx dpkg-query -W -f '${Version}' leakwatch 2>/dev/null)
if [ "$v" = "$V2" ] && [ "$(prop leakwatchd.service MainPID)" = "$DPID" ] &&
   [ "$(cx systemctl is-active leakwatchd.service 2>/dev/null)" = active ]; then
    pass "leakwatch $v installed; the old daemon goes on (MainPID $DPID, active)"
else
    fail "after the upgrade to $V2: version '$v', MainPID $DPID -> $(prop leakwatchd.service MainPID), $(cx systemctl is-active leakwatchd.service)"
fi

# ----------------------------------------------- upgrade: restart, history kept
install -m 644 "$FILES/package.yaml" "$TREE/etc/leakwatch/leakwatch.yaml"
apt_check upgrade2.log install "$DEB3"     # the same .deb, bumped again
n=0 DPID2=$DPID
while [ $n -lt 40 ]; do
    DPID2=$(prop leakwatchd.service MainPID)
    [ -n "$DPID2" ] && [ "$DPID2" != 0 ] && [ "$DPID2" != "$DPID" ] &&
        [ "$(cx systemctl is-active leakwatchd.service 2>/dev/null)" = active ] && break
    sleep 0.25; n=$((n + 1))
done
if [ "$DPID2" != "$DPID" ] && [ "$(cx systemctl is-active leakwatchd.service 2>/dev/null)" = active ]; then
    pass "leakwatchd restarted onto $V3: MainPID $DPID -> $DPID2, active"
else
    fail "leakwatchd after the upgrade to $V3: MainPID $DPID -> $DPID2, $(cx systemctl is-active leakwatchd.service)"
    diagnose "after upgrade"
fi
check_journal leaky.service "found event for pid $OLD with its history kept" \
    LEAKWATCH_EVENT=found OBJECT_PID="$OLD" "MESSAGE~=of history kept from before leakwatchd restarted"
sleep 2     # a few samples of the restarted daemon: a second leak event would come now
cx journalctl -b -u leaky.service -o json --no-pager 2>/dev/null >"$SCRATCH/journal.json"
leaks=$("$PY" -c '
import json, sys
print(sum(1 for l in open(sys.argv[1]) for e in [json.loads(l)]
          if e.get("LEAKWATCH_EVENT") == "leak" and e.get("OBJECT_PID") == sys.argv[2]))' "$SCRATCH/journal.json" "$OLD")
if [ "$leaks" = 1 ]; then
    pass "one leak event for pid $OLD across the restart (already reported: not again)"
else
    fail "$leaks leak events for pid $OLD across the restart (want 1)"
fi
if cmp -s "$FILES/package.yaml" "$TREE/etc/leakwatch/leakwatch.yaml"; then
    pass "the operator's /etc/leakwatch/leakwatch.yaml kept through both upgrades (a conffile)"
else
    fail "/etc/leakwatch/leakwatch.yaml was replaced by an upgrade"
fi

# ----------------------------------------------------------------- remove
apt_check remove.log remove leakwatch
state=$(cx systemctl is-active leakwatchd.service 2>/dev/null)
running=$(cx pgrep -x leakwatchd 2>/dev/null)
if [ "$state" != active ] && [ -z "$running" ] && [ -e "$TREE/etc/leakwatch/leakwatch.yaml" ] &&
   [ -s "$TREE/var/lib/leakwatch/history.state" ]; then
    pass "after remove: leakwatchd.service '$state', no leakwatchd running; the configuration and the saved history stay"
else
    fail "after remove: leakwatchd.service '$state', leakwatchd pids '$running', config $(ls "$TREE/etc/leakwatch" 2>&1), state $(ls "$TREE/var/lib/leakwatch" 2>&1)"
fi

# ------------------------------------------------------------------ purge
apt_check purge.log purge leakwatch
left=
for d in /etc/leakwatch /var/lib/leakwatch /run/leakwatch /var/lib/private/leakwatch \
         /etc/systemd/system/multi-user.target.wants/leakwatchd.service; do
    cx test -e "$d" -o -L "$d" && left="$left $d"
done
if [ -z "$left" ] && ! cx dpkg-query -W -f '${Status}' leakwatch 2>/dev/null | grep -q installed; then
    pass "after purge: no /etc/leakwatch, /var/lib/leakwatch, /run/leakwatch, no enablement link, not installed"
else
    fail "after purge, left:${left:- nothing}; dpkg: $(cx dpkg-query -W -f '${Status}' leakwatch 2>&1)"
fi

stop_container
finish
