#!/bin/sh
# bench/memory.sh — memory benchmark: does leakwatchd's own RSS stay flat
# while it keeps a 30-minute window of history for 200 processes?
#
#   sh bench/memory.sh [build/leakwatchd]     (from the repository root)
#
# Environment: BENCH_MEMORY_SECONDS (300), BENCH_MEMORY_PROCS (200),
# BENCH_MEMORY_INTERVAL_MS (1000), BENCH_FDS (100), CC.
# Prints VmRSS every 10 s, then the RSS at 60 s and at the end, the
# difference, VmHWM, and "flat" or "grew".  See bench/README.md.

DAEMON=${1:-build/leakwatchd}
SECS=${BENCH_MEMORY_SECONDS:-300}
N=${BENCH_MEMORY_PROCS:-200}
IV=${BENCH_MEMORY_INTERVAL_MS:-1000}
NFDS=${BENCH_FDS:-100}
STEP=10
BASE_AT=60

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
WORK=$BENCH_BUILD/work-memory

[ -x "$DAEMON" ] || die "$DAEMON not found or not executable (run make first)"
[ -x "$PY" ] || die "$PY not found (used to check the daemon's JSON events)"

bench_traps
bench_build holder
rm -f "$WORK"/*.json "$WORK"/*.err

say "leakwatch memory benchmark: $N processes x >= $NFDS fds, interval ${IV} ms, window 30m, ${SECS} s"
say "kernel: $(uname -r); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
start_holders "$N" "$NFDS" $((SECS + 600))
say "holders: $HOLDER_COUNT started, each with $HOLDER_FDS open fds"

write_config "$WORK/leakwatch.yaml" "$IV"
T0=$(uptime_s)
start_daemon "$DAEMON" "$WORK/leakwatch.yaml" "$WORK/daemon.json" "$WORK/daemon.err"

status_kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$DAEMON_PID/status"; }
elapsed() { awk -v a="$T0" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }'; }

say ""
printf '%8s %12s %12s\n' "time s" "VmRSS KiB" "RssAnon KiB"
T=0
BASE='' BASE_T='' LAST='' LAST_T=''
while [ "$T" -le "$SECS" ]; do
    # sleep until T seconds after start (the daemon's own clock: from launch)
    while awk -v a="$T0" -v b="$(uptime_s)" -v t="$T" 'BEGIN { exit !(b - a < t) }'; do
        nap 0.1
    done
    daemon_alive_or_die "$WORK/daemon.err"
    E=$(elapsed)
    RSS=$(status_kib VmRSS)
    printf '%8s %12s %12s\n' "$E" "$RSS" "$(status_kib RssAnon)"
    if [ "$T" -le "$BASE_AT" ]; then BASE=$RSS BASE_T=$E; fi
    LAST=$RSS LAST_T=$E
    [ "$T" -eq "$SECS" ] && break
    T=$((T + STEP))
    [ "$T" -gt "$SECS" ] && T=$SECS
done
HWM=$(status_kib VmHWM)
stop_daemon

say ""
say "RSS at ${BASE_T} s: $BASE KiB"
say "RSS at end (${LAST_T} s): $LAST KiB"
say "difference: $((LAST - BASE)) KiB"
say "VmHWM: $HWM KiB"
[ "$SECS" -gt "$BASE_AT" ] || say "note: the run is not longer than ${BASE_AT} s, so the difference says nothing (use BENCH_MEMORY_SECONDS=300)"
awk -v b="$BASE" -v e="$LAST" -v bt="$BASE_T" 'BEGIN {
    tol = b / 100; if (tol < 256) tol = 256
    if (e - b <= tol) printf "flat (end within %d KiB of the value at %s s)\n", tol, bt
    else              printf "grew (by %d KiB, more than %d KiB)\n", e - b, tol }'
check_found "$WORK/daemon.json" "$WORK/daemon.err" || die "leakwatchd did not watch all $N holders (see $WORK/daemon.json)"
exit 0
