#!/bin/sh
# `make install-test`: what a fresh clone does with the Makefile.
#  1. `make demo` in an empty build tree builds everything the demo runs
#     (make -n names leakwatchctl as well as leakwatchd), and the demo script
#     fails (status 1, at once) when a program it runs is missing.
#  2. `make` once, then `make install PREFIX=/usr DESTDIR=D1` and
#     `make install PREFIX=/opt/lw DESTDIR=D2`, then a plain
#     `make install DESTDIR=D3`: each installed unit's ExecStart names the
#     leakwatchd of its own PREFIX, and each installed leakwatchd looks for
#     the inspect script under its own PREFIX/share (the path compiled into
#     os/paths.c, read with strings(1)); LICENSE is installed as the
#     copyright file; the man pages and the example configuration name the
#     files of that PREFIX.
#  With DEMO=1 (`make check` runs the demo in check-slow instead), before 2: `make demo` in
#  that empty build tree, which must exit 0 (about 25 seconds).
# The build tree is its own (build/install-test), made afresh each time.
# Run from the repository root:  sh tests/install_test.sh
set -u
LC_ALL=C
export LC_ALL

make=${MAKE:-make}
build=build/install-test
scratch=$(mktemp -d "${TMPDIR:-/tmp}/leakwatch-install.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT TERM
pass=0
fail=0

ok() {
	echo "install-test: ok: $1"
	pass=$((pass + 1))
}
bad() {
	echo "install-test: FAIL: $1"
	fail=$((fail + 1))
}
# m ARGS...: make in this tree, quiet, its output kept for a failure
m() {
	if ! $make -j2 --no-print-directory BUILD=$build "$@" >"$scratch/make.log" 2>&1; then
		bad "make $*:"
		tail -n 20 "$scratch/make.log" | sed 's/^/    /'
		return 1
	fi
}

rm -rf "$build"

# 1. the demo's dependencies, in a tree with nothing built
$make --no-print-directory -n BUILD=$build demo >"$scratch/demo-n" 2>&1
for prog in leakwatchd leakwatchctl; do
	if grep -q -- "-o $build/$prog " "$scratch/demo-n"; then
		ok "make -n demo in an empty tree builds $prog"
	else
		bad "make -n demo in an empty tree does not build $prog"
	fi
done
if grep -q "tests/demo.sh $build/leakwatchd $build/leakwatchctl" "$scratch/demo-n"; then
	ok "make demo hands the demo both programs"
else
	bad "make -n demo does not run tests/demo.sh with both programs"
fi
: >"$scratch/leakwatchd"
chmod 755 "$scratch/leakwatchd"
sh tests/demo.sh "$scratch/leakwatchd" "$scratch/leakwatchctl" >"$scratch/demo.out" 2>&1
st=$?
if [ "$st" -eq 1 ] && grep -q "leakwatchctl is not built" "$scratch/demo.out"; then
	ok "the demo without leakwatchctl fails at once: $(head -n 1 "$scratch/demo.out")"
else
	bad "the demo without leakwatchctl: status $st, output: $(head -c 300 "$scratch/demo.out")"
fi

# the demo itself, as a fresh clone runs it
if [ "${DEMO:-0}" = 1 ]; then
	$make --no-print-directory BUILD=$build demo >"$scratch/demo.log" 2>&1
	st=$?
	if [ "$st" -eq 0 ] && grep -q ': leak: demo-leaker: ' "$scratch/demo.log" &&
	   grep -q '^WATCH ' "$scratch/demo.log"; then
		ok "make demo in an empty tree: status 0, the leak event and the status table"
	else
		bad "make demo in an empty tree: status $st; its output:"
		tail -n 20 "$scratch/demo.log" | sed 's/^/    /'
	fi
fi

# 2. one plain make, then installs with other paths
check_install() {   # DESTDIR PREFIX
	d=$1 prefix=$2
	unit=$d$prefix/lib/systemd/system/leakwatchd.service
	if [ ! -f "$unit" ]; then
		bad "PREFIX=$prefix: no unit at $unit"
		return
	fi
	want="ExecStart=$prefix/sbin/leakwatchd -c /etc/leakwatch/leakwatch.yaml"
	got=$(grep '^ExecStart=' "$unit")
	case $got in
	"$want"*) ok "PREFIX=$prefix: $got" ;;
	*) bad "PREFIX=$prefix: unit says '$got', want '$want ...'" ;;
	esac
	got=$(grep '^ExecStartPre=' "$unit")
	case $got in
	"ExecStartPre=$prefix/sbin/leakwatchd "*) ;;
	*) bad "PREFIX=$prefix: unit says '$got'" ;;
	esac
	paths=$(strings "$d$prefix/sbin/leakwatchd" | grep '/leakwatch/inspect\.py$')
	if [ "$paths" = "$prefix/share/leakwatch/inspect.py" ]; then
		ok "PREFIX=$prefix: leakwatchd looks for $paths"
	else
		bad "PREFIX=$prefix: leakwatchd holds '$paths', want $prefix/share/leakwatch/inspect.py"
	fi
	if [ -f "$d$prefix/share/leakwatch/inspect.py" ] && [ -f "$d$prefix/share/leakwatch/leakwatch-alerts.yml" ] &&
	   cmp -s LICENSE "$d$prefix/share/doc/leakwatch/copyright"; then
		ok "PREFIX=$prefix: inspect.py, the alert rules and the copyright file installed"
	else
		bad "PREFIX=$prefix: inspect.py, leakwatch-alerts.yml or share/doc/leakwatch/copyright missing"
	fi
	# the man pages and the example configuration name this PREFIX's files
	man8=$d$prefix/share/man/man8/leakwatchd.8 conf=$d/etc/leakwatch/leakwatch.yaml
	stale=$(grep -l '/usr/local/s\(hare\|bin\)' "$d$prefix"/share/man/man?/leakwatch* "$conf" 2>/dev/null)
	[ "$prefix" = /usr/local ] && stale=
	if grep -q "^\.I $prefix/share/leakwatch/inspect.py$" "$man8" &&
	   grep -q "$prefix/share/leakwatch/leakwatch-alerts.yml" "$conf" && [ -z "$stale" ]; then
		ok "PREFIX=$prefix: leakwatchd(8) and leakwatch.yaml name $prefix/share/leakwatch/"
	else
		bad "PREFIX=$prefix: the man pages or the configuration name other paths${stale:+ (/usr/local in $stale)}"
	fi
}
if m all; then
	m install PREFIX=/usr DESTDIR="$scratch/d1" && check_install "$scratch/d1" /usr
	m install PREFIX=/opt/lw DESTDIR="$scratch/d2" && check_install "$scratch/d2" /opt/lw
	m install DESTDIR="$scratch/d3" && check_install "$scratch/d3" /usr/local
	m uninstall DESTDIR="$scratch/d3"
	left=$(find "$scratch/d3" -type f | sed "s|^$scratch/d3||" | grep -v '^/etc/leakwatch/leakwatch.yaml$')
	if [ -z "$left" ]; then
		ok "make uninstall removes every installed file but the configuration"
	else
		bad "make uninstall leaves $(echo "$left" | tr '\n' ' ')"
	fi
fi

rm -rf "$build"
echo "install-test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
