#!/bin/sh
# bench/run.sh — CPU benchmark: leakwatchd against the syscall floor, libproc2
# and psutil, sampling the same processes at the same interval for the same time.
#
#   sh bench/run.sh [build/leakwatchd]        (from the repository root; `make bench`)
#
# Environment: BENCH_PROCS (120), BENCH_SECONDS (30), BENCH_INTERVAL_MS (100),
# BENCH_FDS (100, fds each holder opens), BENCH_SCAN_FLOOR (1: also run the
# informational floor+scan row; 0: skip it), CC, PKG_CONFIG.
# See bench/README.md for what the figures mean.

DAEMON=${1:-build/leakwatchd}
N=${BENCH_PROCS:-120}
SECS=${BENCH_SECONDS:-30}
IV=${BENCH_INTERVAL_MS:-100}
NFDS=${BENCH_FDS:-100}
SCAN_FLOOR=${BENCH_SCAN_FLOOR:-1}

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

[ -x "$DAEMON" ] || die "$DAEMON not found or not executable (run make first)"
[ -x "$PY" ] || die "$PY not found (psutil poller needs Debian's python3 with python3-psutil)"
"$PY" -c 'import psutil' 2>/dev/null || die "$PY has no psutil (apt-get install python3-psutil)"

bench_traps
bench_build all
rm -f "$WORK"/*.out "$WORK"/*.json "$WORK"/*.err

CLK_TCK=$(getconf CLK_TCK)
ROUNDS=$((SECS * 1000 / IV))
say "leakwatch CPU benchmark: $N processes x >= $NFDS fds, interval ${IV} ms, ${SECS} s per tool"
say "kernel: $(uname -r) ($(nproc) CPUs); CLK_TCK=$CLK_TCK; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

start_holders "$N" "$NFDS" 3600
say "holders: $HOLDER_COUNT started, each with $HOLDER_FDS open fds"
_p=${HOLDER_PIDS##* }
if kernel_has_fd_st_size && [ "$(stat -c %s "/proc/$_p/fd")" = "$HOLDER_FDS" ]; then
    say "fd counting via st_size of /proc/PID/fd: in use (kernel >= 6.2; st_size=$(stat -c %s "/proc/$_p/fd") matches the directory)"
elif kernel_has_fd_st_size; then
    say "fd counting via st_size of /proc/PID/fd: kernel >= 6.2 but st_size=$(stat -c %s "/proc/$_p/fd") != $HOLDER_FDS entries"
else
    say "fd counting via st_size of /proc/PID/fd: NOT available (kernel < 6.2): fds must be counted by reading /proc/PID/fd"
fi

# ---- a. leakwatchd -------------------------------------------------------
say ""
say "[1] leakwatchd ${SECS} s ..."
write_config "$WORK/leakwatch.yaml" "$IV"
T0=$(uptime_s)
start_daemon "$DAEMON" "$WORK/leakwatch.yaml" "$WORK/daemon.json" "$WORK/daemon.err"
nap 1
daemon_alive_or_die "$WORK/daemon.err"
nap $((SECS - 1))
daemon_alive_or_die "$WORK/daemon.err"
# CPU from outside, just before stopping it: utime + stime (fields 14, 15).
D_UTIME=$(proc_stat_field "$DAEMON_PID" 14)
D_STIME=$(proc_stat_field "$DAEMON_PID" 15)
T1=$(uptime_s)
D_NS=0
for _t in /proc/"$DAEMON_PID"/task/*/schedstat; do
    D_NS=$((D_NS + $(cut -d' ' -f1 "$_t")))
done
D_THREADS=$(proc_stat_field "$DAEMON_PID" 20)
D_HWM=$(awk '/^VmHWM/ { print $2 }' "/proc/$DAEMON_PID/status")
D_FDS=$(count_fds "$DAEMON_PID")
stop_daemon
D_CPU=$(awk -v u="$D_UTIME" -v s="$D_STIME" -v hz="$CLK_TCK" 'BEGIN { printf "%.6f", (u + s) / hz }')
D_WALL=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.2f", b - a }')
say "leakwatchd: utime=$D_UTIME stime=$D_STIME ticks, ran ${D_WALL} s, $D_THREADS thread(s), $D_FDS open fds, VmHWM ${D_HWM} KiB, exit status $DAEMON_RC"
check_found "$WORK/daemon.json" "$WORK/daemon.err" || die "leakwatchd did not watch all $N holders (see $WORK/daemon.json)"

# ---- b/c/d. the pollers --------------------------------------------------
run_poller() {  # NAME OUTFILE CMD...
    _name=$1 _out=$2
    shift 2
    say ""
    say "[$STEP] $_name ${SECS} s ..."
    # shellcheck disable=SC2086
    $PDEATH "$@" "$IV" "$SECS" $HOLDER_PIDS >"$_out" 2>"$_out.err" &
    CHILD_PID=$!
    wait "$CHILD_PID"
    _rc=$?
    CHILD_PID=
    cat "$_out"
    [ -s "$_out.err" ] && sed 's/^/  stderr| /' "$_out.err" | head -10
    [ "$_rc" -eq 0 ] || die "$_name failed (status $_rc)"
    grep -q '^RESULT ' "$_out" || die "$_name printed no RESULT line"
    STEP=$((STEP + 1))
}
STEP=2
run_poller floor "$WORK/floor.out" "$FLOOR"
if [ "$SCAN_FLOOR" != 0 ]; then
    run_poller floor+scan "$WORK/floorscan.out" "$FLOOR" --scan
fi
run_poller libproc2 "$WORK/libproc2.out" "$LIBPROC2_POLL"
run_poller psutil "$WORK/psutil.out" "$PY" bench/psutil_poll.py

# ---- table ---------------------------------------------------------------
kv() { sed -n "s/^RESULT .* $2=\([^ ]*\).*/\1/p" "$1"; }
F_CPU=$(kv "$WORK/floor.out" cpu_s)
F_SAMPLES=$(kv "$WORK/floor.out" samples)
F_US=$(awk -v c="$F_CPU" -v s="$F_SAMPLES" 'BEGIN { printf "%.4f", c * 1e6 / s }')

row() {  # TOOL CPU SAMPLES NOTE
    awk -v t="$1" -v c="$2" -v s="$3" -v f="$F_US" -v note="$4" 'BEGIN {
        us = c * 1e6 / s
        printf "%-12s %10.3f %16d %12.2f %9.2fx  %s\n", t, c, s, us, us / f, note }'
}
D_SAMPLES=$((N * ROUNDS))
say ""
say "=== CPU per process-sample (N=$N, interval ${IV} ms, ${SECS} s each) ==="
printf '%-12s %10s %16s %12s %10s  %s\n' tool "CPU s" process-samples "us/sample" "vs floor" note
row leakwatchd "$D_CPU" "$D_SAMPLES" "rss+fds+threads, discovery, detection; CPU from /proc/PID/stat"
row floor "$F_CPU" "$F_SAMPLES" "pread stat + statm, fstatat fd (getrusage)"
if [ "$SCAN_FLOOR" != 0 ]; then
    row floor+scan "$(kv "$WORK/floorscan.out" cpu_s)" "$(kv "$WORK/floorscan.out" samples)" \
        "floor + getdents of /proc each round (informational)"
fi
row libproc2 "$(kv "$WORK/libproc2.out" cpu_s)" "$(kv "$WORK/libproc2.out" samples)" \
    "rss+threads only: libproc2 has no fd count"
row psutil "$(kv "$WORK/psutil.out" cpu_s)" "$(kv "$WORK/psutil.out" samples)" \
    "memory_info+num_fds+num_threads"
say ""
say "leakwatchd process-samples = N x ${SECS} s / ${IV} ms = $N x $ROUNDS (assumed, not counted)"
awk -v ns="$D_NS" -v s="$D_SAMPLES" -v f="$F_US" 'BEGIN {
    printf "leakwatchd CPU by schedstat (ns resolution): %.3f s = %.2f us/sample = %.2fx floor\n",
        ns / 1e9, ns / 1e3 / s, ns / 1e3 / s / f }'
say "load average at end: $(cut -d' ' -f1-3 /proc/loadavg) (other load on the machine adds noise, and process churn adds discovery work for leakwatchd)"
say "kernel $(uname -r); fd count by st_size: $(kernel_has_fd_st_size && echo yes || echo no)"
say "goal: leakwatchd within 1.5x of the floor"
awk -v c="$D_CPU" -v ns="$D_NS" -v s="$D_SAMPLES" -v f="$F_US" 'BEGIN {
    r = c * 1e6 / s / f
    if (r <= 1.5) printf "goal holds: leakwatchd is %.2fx the floor (utime+stime ticks)\n", r
    else          printf "goal NOT met: leakwatchd is %.2fx the floor (utime+stime ticks; limit 1.5x)\n", r
    r2 = ns / 1e3 / s / f
    if ((r <= 1.5) != (r2 <= 1.5))
        printf "note: by schedstat (ns) it is %.2fx, so the verdict %s on tick rounding\n", r2,
            "depends" }'
exit 0
