#!/usr/bin/python3
"""bench/scale.py — leakwatchd at scale (issue 5): discovery cost and memory.

    /usr/bin/python3 bench/scale.py discovery [build/leakwatchd] [options]
    /usr/bin/python3 bench/scale.py memory    [build/leakwatchd] [options]
    /usr/bin/python3 bench/scale.py all       [build/leakwatchd] [options]
    /usr/bin/python3 bench/scale.py profile   [build/leakwatchd] [options]

Run from anywhere; paths are taken relative to the repository root.

discovery
    4990 idle decoys (bench/holder.c built as lw-scale-decoy, 0-3 extra fds
    each, nothing in their argv that a watch matches) and 10 targets (the
    same program built as lw-scale-target, with a marker in argv).  For each
    config variant (`cmdline`: a regex on the marker; `exe`: a glob on the
    target binary's path) and each kind of host (--modes), leakwatchd runs
    at interval 1s with `metrics: listen` (scraped only at the start and the
    end of the window, for its counts of discovery passes and full scans).
    From --warmup s (10) after its first scan, its CPU (schedstat) is read
    every second, half-way between ticks:
      * quiet: nothing else happens; --long-seconds (120) of ticks, so the
        window holds two of the minute's full scans (with the re-check of
        every unmatched pid);
      * forks: bench/pidburst.c forks --fork-rate (20) short-lived processes
        a second, half-way between ticks; --long-seconds too;
      * burst: pidburst creates and joins more threads a second than a
        quarter of /proc's pids, so that every discovery is a full scan of
        /proc with every pid in it already classified; --seconds (30).
    Then, with no daemon running, bench/floor.c samples the 10 targets for
    --seconds s, without and with --scan (one getdents64 pass over /proc per
    round).  Per run:

        excess  = daemon CPU per tick - floor CPU per round  (10 targets)
                  (burst: the median tick; quiet, forks: the mean tick)
        readdir = floor+scan CPU per round - floor CPU per round
        ratio   = excess / readdir          goal: <= 1.0
        scan alone = burst median tick - quiet median tick: a full scan
                  without the daemon's other per-tick work; / readdir

    Medians over --runs (2).

memory
    For N in --counts (10,1000,5000): N holders with --fds (10) extra fds,
    leakwatchd watching all of them with window 30m, interval 1s, for
    --seconds (60).  VmRSS/RssAnon every 10 s, then VmRSS, RssAnon, RssFile,
    VmHWM.  Per watched process: (RssAnon(N) - RssAnon(10)) / (N - 10) and
    the same with VmRSS.  Goals: <= 4 KiB per process, VmRSS < 8 MiB at 1000.

profile
    The decoys and targets of `discovery`, and the daemon (no metrics) under
    valgrind --tool=callgrind with instrumentation off until --warmup s after
    its first scan; then --seconds s of steady ticks are collected and the
    top functions by inclusive and self instruction count are printed per
    tick (ticks = calls of monitor_tick).

Everything compiled or written goes under $BENCH_BUILD/scale/ (BENCH_BUILD
defaults to build/bench); the CSVs go to bench/results/.  Every process this
script starts is killed (by pid) when it exits, also on ^C/SIGTERM, and each
has a parent-death signal in case the script is killed hard.
"""

import argparse
import csv
import ctypes
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.dont_write_bytecode = True     # importing lwtest must leave no tests/__pycache__
import lwtest  # noqa: E402
from lwtest import cpu_ns, free_port, proc_status_kib  # noqa: E402
BENCH_BUILD = os.environ.get("BENCH_BUILD", "build/bench")
CC = os.environ.get("CC", "cc")
CFLAGS = ("-O2 -g -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes "
          "-Wmissing-prototypes -Wformat=2 -Wformat-security -Wno-format-nonliteral "
          "-D_GNU_SOURCE").split()
HZ = os.sysconf("SC_CLK_TCK")
PR_SET_PDEATHSIG = 1
LIBC = ctypes.CDLL(None, use_errno=True)

# Markers carry the script's pid, so that two runs at once (or the other
# benchmarks' lw-bench-holder processes) never match each other's watches.
TAG = str(os.getpid())
TARGET_MARKER = "lw-scale-target-" + TAG
DECOY_MARKER = "lw-scale-decoy-" + TAG
MEM_MARKER = "lw-scale-mem-" + TAG

RULES = """    window: 30m
    rss:     { max: 1G,    growth: 100M/h, predict: 6h }
    fds:     { max: 10000, growth: 1000/h, predict: 6h }
    threads: { max: 1000,  growth: 100/h,  predict: 6h }
"""


class BenchError(Exception):
    pass


def say(*a):
    print(*a, flush=True)


# ---- processes: every child is registered and killed on the way out -------

HOLDERS = []        # pids from posix_spawn, reaped in cleanup
CHILDREN = []       # Popen objects (daemon, floor, valgrind)


def _on_signal(sig, frame):
    raise SystemExit(128 + sig)


def install_signals():
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)


def child_setup(nofile=None):
    """preexec_fn: die with this script; with nofile=(soft, hard), set
    RLIMIT_NOFILE's soft limit to soft and raise its hard limit to hard
    where it is lower."""
    def fn():
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() == 1:
            os._exit(1)
        if nofile:
            _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            if hard != resource.RLIM_INFINITY and hard < nofile[1]:
                hard = nofile[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(nofile[0], hard), hard))
    return fn


def kill_holders(pids=None):
    """SIGTERM the given holders (default: all), then reap them (SIGKILL after 10 s)."""
    pids = list(HOLDERS) if pids is None else list(pids)
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    pending = set(pids)
    while pending:
        for p in list(pending):
            try:
                r, _ = os.waitpid(p, os.WNOHANG)
            except ChildProcessError:
                r = p
            if r == p:
                pending.discard(p)
        if not pending:
            break
        if time.monotonic() > deadline:
            for p in pending:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 5
        time.sleep(0.02)
    for p in pids:
        if p in HOLDERS:
            HOLDERS.remove(p)


def stop_child(p, timeout=10):
    """SIGTERM a Popen child, wait; SIGKILL after timeout.  Returns its status."""
    if p.poll() is None:
        try:
            p.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            say("ODD: pid %d did not exit within %d s of SIGTERM; killed" % (p.pid, timeout))
            p.kill()
            p.wait()
    if p in CHILDREN:
        CHILDREN.remove(p)
    return p.returncode


def cleanup():
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)
    for p in list(CHILDREN):
        stop_child(p, 5)
    kill_holders()


# ---- building ------------------------------------------------------------

class Paths:
    def __init__(self):
        self.work = os.path.join(ROOT, BENCH_BUILD, "scale")
        self.holder = os.path.join(self.work, "lw-scale-holder")
        self.decoy = os.path.join(self.work, "lw-scale-decoy")
        self.target = os.path.join(self.work, "lw-scale-target")
        self.floor = os.path.join(self.work, "floor")
        self.pidburst = os.path.join(self.work, "pidburst")
        self.results = os.path.join(ROOT, "bench", "results")


def build(paths):
    os.makedirs(paths.work, exist_ok=True)
    for src, out, libs in (("bench/holder.c", paths.holder, []), ("bench/floor.c", paths.floor, []),
                           ("bench/pidburst.c", paths.pidburst, ["-pthread"])):
        r = subprocess.run([CC] + CFLAGS + ["-o", out, os.path.join(ROOT, src)] + libs,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise BenchError("cannot build %s:\n%s" % (src, r.stdout))
    # Copies under other names: their comm and exe differ from the holder's.
    for dst in (paths.decoy, paths.target):
        shutil.copy2(paths.holder, dst)


# ---- holders ---------------------------------------------------------------

def spawn_holders(path, nfds_of, n, max_seconds, marker, errpath):
    """Start n holders of `path`; nfds_of(i) extra fds for the i-th.  Returns pids."""
    pids = []
    errfd = os.open(errpath, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        fa = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
              (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
              (os.POSIX_SPAWN_DUP2, errfd, 2)]
        for i in range(n):
            pid = os.posix_spawn(path, [path, str(nfds_of(i)), str(max_seconds), marker],
                                 os.environ, file_actions=fa, setsigdef=(signal.SIGPIPE,))
            pids.append(pid)
            HOLDERS.append(pid)
    finally:
        os.close(errfd)
    return pids


def wait_ready(pids, nfds_of, marker, errpath, timeout=60):
    """Until every holder runs its program (marker in cmdline) with its fds open."""
    want = {p: nfds_of(i) + 3 for i, p in enumerate(pids)}
    mark = marker.encode()
    deadline = time.monotonic() + timeout
    while want:
        for p in list(want):
            try:
                if os.stat("/proc/%d/fd" % p).st_size != want[p]:
                    continue
                with open("/proc/%d/cmdline" % p, "rb") as f:
                    if mark not in f.read():
                        continue
            except OSError:
                r, _ = os.waitpid(p, os.WNOHANG)
                if r == p:
                    raise BenchError("holder %d died: %s" % (p, open(errpath).read()[-500:]))
                continue
            del want[p]
        if not want:
            break
        if time.monotonic() > deadline:
            p = next(iter(want))
            raise BenchError("%d holder(s) not ready after %d s (e.g. pid %d)" % (len(want), timeout, p))
        time.sleep(0.05)


# ---- /proc readings ----------------------------------------------------------

def cpu_ticks(pid, split=False):
    """utime + stime of /proc/PID/stat, in clock ticks (or the pair)."""
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    u, s = int(rest[11]), int(rest[12])
    return (u, s) if split else u + s


def nofile_limits(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                parts = line.split()
                return parts[3], parts[4]
    return "?", "?"


def proc_count():
    return sum(1 for n in os.listdir("/proc") if n.isdigit())


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ---- the daemon ----------------------------------------------------------------

def start_daemon(exe, rundir, config_text, nofile=None, wrapper=()):
    """leakwatchd (lwtest.Daemon) on a fresh rundir with config_text as its
    leakwatch.yaml, its events in daemon.json, its stderr in daemon.err;
    not under systemd (no NOTIFY_SOCKET), dying with this script."""
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(os.path.join(rundir, "state"))
    config = os.path.join(rundir, "leakwatch.yaml")
    with open(config, "w") as f:
        f.write(config_text)
    env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
    d = lwtest.Daemon("daemon", exe, config, rundir, env=env, wrapper=wrapper, preexec_fn=child_setup(nofile),
                      session=False, out="daemon.json", err="daemon.err").start()
    CHILDREN.append(d.proc)
    return d


def alive_or_fail(d):
    if d.proc.poll() is not None:
        err = open(d.err, errors="replace").read()[-2000:]
        CHILDREN.remove(d.proc)
        raise BenchError("leakwatchd exited early (status %s); stderr:\n%s" % (d.proc.returncode, err))


def stop_daemon(d, timeout=10):
    rc = stop_child(d.proc, timeout)
    if rc != 0:
        say("ODD: leakwatchd exited with status %s after SIGTERM (expected 0)" % rc)
    return rc


def event_counts(d):
    """(counts by event, set of pids with a found event, non-JSON lines)."""
    import json
    counts, found, bad = {}, set(), 0
    with open(d.out, errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                bad += 1
                continue
            kind = ev.get("event", "?")
            counts[kind] = counts.get(kind, 0) + 1
            if kind == "found":
                found.add(ev.get("pid"))
    return counts, found, bad


def stderr_lines(d):
    try:
        return open(d.err, errors="replace").read().splitlines()
    except OSError:
        return []


def check_found(d, pids, label):
    counts, found, bad = event_counts(d)
    missing = set(pids) - found
    other = found - set(pids)
    say("  %s: daemon events: %s" % (label, ", ".join("%s=%d" % kv for kv in sorted(counts.items())) or "none"))
    for line in stderr_lines(d)[:5]:
        say("  %s: daemon stderr | %s" % (label, line))
    if bad:
        say("ODD: %d stdout line(s) are not JSON" % bad)
    if other:
        say("ODD: found events for %d pid(s) that are not targets, e.g. %s" % (len(other), sorted(other)[:5]))
    for k in ("leak", "limit", "error", "action"):
        if counts.get(k):
            say("ODD: %d %s event(s) on steady holders" % (counts[k], k))
    if missing:
        raise BenchError("%s: leakwatchd never reported found for %d of %d target(s), e.g. %s"
                         % (label, len(missing), len(pids), sorted(missing)[:5]))


def run_floor(paths, scan, seconds, pids, lead=1.5):
    """floor [--scan] at 1 s for lead + seconds (+1) s.  Its CPU is read from
    outside (schedstat, as for the daemon) half-way between rounds, at lead s
    and lead + seconds s, so exactly `seconds` rounds fall in between and
    its start-up does not count.  Returns (µs per round, its RESULT dict)."""
    total = int(lead + seconds + 1.5)
    cmd = [paths.floor] + (["--scan"] if scan else []) + ["1000", str(total)] + [str(p) for p in pids]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, preexec_fn=child_setup())
    CHILDREN.append(p)
    try:
        marks = []
        for at in (lead, lead + seconds):
            while time.monotonic() - t0 < at:
                time.sleep(0.01)
            if p.poll() is not None:
                break
            marks.append(cpu_ns(p.pid))
        out, err = p.communicate()
    finally:
        if p in CHILDREN:
            CHILDREN.remove(p)
    m = re.search(r"^RESULT (.*)$", out, re.M)
    name = "floor" + (" --scan" if scan else "")
    if p.returncode != 0 or not m or len(marks) != 2:
        raise BenchError("%s failed (status %s): %s %s" % (name, p.returncode, out, err))
    res = dict(kv.split("=", 1) for kv in m.group(1).split())
    if int(res["late_rounds"]):
        say("  note: %s had %s late round(s)" % (name, res["late_rounds"]))
    return (marks[1] - marks[0]) / 1e3 / seconds, res


# ---- discovery ------------------------------------------------------------------

def discovery_config(rundir, variant, paths, port=None):
    if variant == "cmdline":
        match = 'cmdline: "%s$"' % TARGET_MARKER
    elif variant == "exe":
        match = 'exe: "%s"' % paths.target
    else:
        raise BenchError("unknown variant %s" % variant)
    metrics = "metrics:\n  listen: 127.0.0.1:%d\n" % port if port else ""
    return ("# generated by bench/scale.py (discovery, variant %s)\n"
            "interval: 1s\nstate_dir: %s/state\n%s"
            "watches:\n  - name: scale-targets\n    match:\n      %s\n%s"
            % (variant, rundir, metrics, match, RULES))


def wait_found(d, n, timeout=120):
    """Until the daemon's JSON has n found events (its first scan is over).
    Returns the time seen (s since exec)."""
    deadline = time.monotonic() + timeout
    while True:
        alive_or_fail(d)
        try:
            with open(d.out, "rb") as f:
                if f.read().count(b'"event":"found"') >= n:
                    return d.elapsed()
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise BenchError("leakwatchd did not report %d found events within %d s" % (n, timeout))
        time.sleep(0.01)


def sleep_until(d, t):
    while d.elapsed() < t:
        alive_or_fail(d)
        time.sleep(min(0.05, max(0.001, t - d.elapsed())))


def scrape(port):
    """The unlabelled samples of the daemon's /metrics."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and line[0] != "#" and "{" not in line:
            k, _, v = line.partition(" ")
            out[k] = float(v)
    return out


# How the host around the daemon behaves during a discovery run:
#   quiet  nothing but the holders: discovery is a read of /proc/loadavg per
#          tick, and a full scan (with the re-check of every unmatched pid)
#          once a minute;
#   forks  --fork-rate short-lived processes a second (cron jobs, health
#          checks): a few new pids probed per tick;
#   burst  more new pids a second (threads, created and joined) than a probe
#          of each is worth: a full scan of /proc at every tick, every pid in
#          it already classified.
MODES = ("quiet", "forks", "burst")


def mode_run(args, paths, variant, mode, run, targets):
    seconds = args.seconds if mode == "burst" else args.long_seconds
    rundir = os.path.join(paths.work, "disc-%s-%s-%d" % (variant, mode, run))
    port = free_port()
    d = start_daemon(args.daemon, rundir, discovery_config(rundir, variant, paths, port))
    burster = None
    count = 0
    try:
        t1 = wait_found(d, len(targets))
        first_ns = cpu_ns(d.pid)
        if mode != "quiet":
            # half-way between the daemon's ticks, then every second
            count = args.fork_rate if mode == "forks" else proc_count() // 4 + 200
            sleep_until(d, t1 + 0.5)
            burster = subprocess.Popen([paths.pidburst, "fork" if mode == "forks" else "thread", str(count),
                                        str(args.warmup + seconds + 5)],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       preexec_fn=child_setup())
            CHILDREN.append(burster)
        sleep_until(d, t1 + args.warmup + 0.25)
        m0 = scrape(port)
        sleep_until(d, t1 + args.warmup + 0.45)
        series = [cpu_ns(d.pid)]
        for k in range(args.warmup + 1, args.warmup + seconds + 1):
            sleep_until(d, t1 + k + 0.45)
            series.append(cpu_ns(d.pid))
        sleep_until(d, t1 + args.warmup + seconds + 0.6)
        m1 = scrape(port)
        if burster and burster.poll() is not None:
            raise BenchError("pidburst exited early (status %s)" % burster.returncode)
    finally:
        if burster:
            stop_child(burster)
        stop_daemon(d)
    check_found(d, targets, "%s/%s run %d" % (variant, mode, run))
    per_tick = [(b - a) / 1e3 for a, b in zip(series, series[1:])]
    ticks = m1["leakwatch_ticks_total"] - m0["leakwatch_ticks_total"]
    return dict(variant=variant, mode=mode, run=run, seconds=seconds, new_pids_per_s=count,
                daemon_mean_us=statistics.mean(per_tick), daemon_median_us=statistics.median(per_tick),
                daemon_max_us=max(per_tick), first_cpu_ms=first_ns / 1e6, ticks=ticks,
                passes=m1["leakwatch_scans_total"] - m0["leakwatch_scans_total"],
                full_scans=m1["leakwatch_full_scans_total"] - m0["leakwatch_full_scans_total"],
                last_pass_ms=m1["leakwatch_scan_duration_seconds"] * 1e3)


def median_nan(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def fmt(v, spec=".1f"):
    if isinstance(v, float) and v != v:
        return "-"
    return format(v, spec)


def start_decoys_and_targets(args, paths, max_s):
    errpath = os.path.join(paths.work, "holders.err")
    open(errpath, "w").close()
    t = time.monotonic()
    decoy_fds = lambda i: i % 4
    target_fds = lambda i: 3
    decoys = spawn_holders(paths.decoy, decoy_fds, args.decoys, max_s, DECOY_MARKER, errpath)
    targets = spawn_holders(paths.target, target_fds, args.targets, max_s, TARGET_MARKER, errpath)
    wait_ready(decoys, decoy_fds, DECOY_MARKER, errpath)
    wait_ready(targets, target_fds, TARGET_MARKER, errpath)
    say("holders: %d decoys (%s, 0-3 extra fds) and %d targets (%s, 3 extra fds) ready in %.1f s; /proc lists %d pids"
        % (args.decoys, os.path.basename(paths.decoy), args.targets, os.path.basename(paths.target),
           time.monotonic() - t, proc_count()))
    return decoys, targets


CSV_COLS = ["variant", "mode", "run", "seconds", "new_pids_per_s", "proc_entries", "ticks", "passes", "full_scans",
            "daemon_mean_us", "daemon_median_us", "daemon_max_us", "floor_us", "floor_scan_us", "readdir_us",
            "excess_us", "ratio", "scan_alone_us", "scan_ratio", "last_pass_ms", "first_cpu_ms", "load"]
MED_KEYS = ("proc_entries", "ticks", "passes", "full_scans", "daemon_mean_us", "daemon_median_us", "daemon_max_us",
            "floor_us", "floor_scan_us", "readdir_us", "excess_us", "ratio", "scan_alone_us", "scan_ratio",
            "first_cpu_ms")


def discovery(args, paths):
    variants = args.variants.split(",")
    modes = args.modes.split(",")
    for m in modes:
        if m not in MODES:
            raise BenchError("unknown mode %s (%s)" % (m, ",".join(MODES)))
    per_run = sum(args.warmup + (args.seconds if m == "burst" else args.long_seconds) + 15 for m in modes) \
        * len(variants) + 2 * (args.seconds + 4)
    max_s = 900 + args.runs * per_run
    say("leakwatch discovery benchmark: %d decoys + %d targets, interval 1s, warm-up %d s, windows %d s "
        "(quiet, forks) and %d s (burst), %d run(s), variants %s, modes %s"
        % (args.decoys, args.targets, args.warmup, args.long_seconds, args.seconds, args.runs,
           ",".join(variants), ",".join(modes)))
    say("daemon: %s; kernel %s; %d CPUs; load average at start: %s"
        % (args.daemon, os.uname().release, os.cpu_count(), loadavg()))
    decoys, targets = start_decoys_and_targets(args, paths, max_s)
    rows = []
    for run in range(1, args.runs + 1):
        for variant in variants:
            for mode in modes:
                w = args.seconds if mode == "burst" else args.long_seconds
                say("run %d/%d, %s, %s host: leakwatchd for %d s ..." % (run, args.runs, variant, mode,
                                                                          args.warmup + w))
                rows.append(mode_run(args, paths, variant, mode, run, targets))
        say("run %d/%d: floor and floor --scan on the %d targets, %d s each ..."
            % (run, args.runs, len(targets), args.seconds))
        floor_us, _ = run_floor(paths, False, args.seconds, targets)
        scan_us, sres = run_floor(paths, True, args.seconds, targets)
        readdir = scan_us - floor_us
        for r in rows:
            if r["run"] == run:
                # burst: the typical full scan (median tick); quiet and forks:
                # everything, the minute's full scan included (mean tick)
                cost = r["daemon_median_us"] if r["mode"] == "burst" else r["daemon_mean_us"]
                r.update(proc_entries=int(sres["proc_entries"]), floor_us=floor_us, floor_scan_us=scan_us,
                         readdir_us=readdir, excess_us=cost - floor_us, ratio=(cost - floor_us) / readdir,
                         scan_alone_us=float("nan"), scan_ratio=float("nan"), load=loadavg())
        # The full scan alone: a burst tick minus a quiet tick that only
        # probed (medians), i.e. without the daemon's other per-tick work.
        for r in rows:
            q = [x for x in rows if x["run"] == run and x["variant"] == r["variant"] and x["mode"] == "quiet"]
            if r["run"] == run and r["mode"] == "burst" and q:
                r["scan_alone_us"] = r["daemon_median_us"] - q[0]["daemon_median_us"]
                r["scan_ratio"] = r["scan_alone_us"] / readdir

    say("")
    say("per run: the daemon's CPU per tick (µs), over the window after %d s of warm-up" % args.warmup)
    say("%-8s %-6s %3s %6s %5s %6s %5s %9s %9s %9s %7s %10s %8s %8s %6s" % (
        "variant", "host", "run", "/proc", "new/s", "passes", "full", "mean", "median", "max", "floor",
        "floor+scan", "readdir", "excess", "ratio"))
    for r in rows:
        say("%-8s %-6s %3d %6d %5d %6d %5d %9.1f %9.1f %9.1f %7.1f %10.1f %8.1f %8.1f %6.3f" % (
            r["variant"], r["mode"], r["run"], r["proc_entries"], r["new_pids_per_s"], r["passes"],
            r["full_scans"], r["daemon_mean_us"], r["daemon_median_us"], r["daemon_max_us"], r["floor_us"],
            r["floor_scan_us"], r["readdir_us"], r["excess_us"], r["ratio"]))
    say("  passes/full: discovery passes and full scans of /proc in the window (from the daemon's /metrics);")
    say("  readdir = floor+scan - floor (one getdents64 pass over /proc); excess = daemon - floor, taking the")
    say("  median tick for burst (a full scan each) and the mean tick otherwise (the minute's full scan and its")
    say("  re-check of every unmatched pid amortized); ratio = excess / readdir.  The excess holds the daemon's")
    say("  other per-tick work too (timer, detection of the 10 targets): scan alone = burst - quiet (medians).")
    summary = []
    say("")
    say("medians over %d run(s):" % args.runs)
    say("%-8s %-6s %9s %9s %7s %8s %8s %7s %10s %7s" % ("variant", "host", "mean", "median", "floor", "readdir",
                                                        "excess", "ratio", "scan alone", "/readdir"))
    for v in variants:
        for mode in modes:
            rs = [r for r in rows if r["variant"] == v and r["mode"] == mode]
            med = {k: median_nan([r[k] for r in rs]) for k in MED_KEYS}
            med.update(variant=v, mode=mode, run="median", seconds=rs[0]["seconds"],
                       new_pids_per_s=rs[0]["new_pids_per_s"], load=loadavg())
            summary.append(med)
            say("%-8s %-6s %9.1f %9.1f %7.1f %8.1f %8.1f %7.3f %10s %7s" % (
                v, mode, med["daemon_mean_us"], med["daemon_median_us"], med["floor_us"], med["readdir_us"],
                med["excess_us"], med["ratio"], fmt(med["scan_alone_us"]), fmt(med["scan_ratio"], ".3f")))
    say("")
    for med in summary:
        what = {"burst": "a full scan of /proc, every pid in it already classified",
                "forks": "discovery per tick with %d new short-lived processes a second, amortized"
                         % med["new_pids_per_s"],
                "quiet": "discovery per tick on a quiet host, the minute's full scan and re-check amortized"}
        say("goal (%s, %s): %s <= one readdir of /proc: %.3f of one -> %s"
            % (med["variant"], med["mode"], what[med["mode"]], med["ratio"],
               "met" if med["ratio"] <= 1.0 else "NOT met"))
        if med["scan_ratio"] == med["scan_ratio"]:
            say("  the full scan alone (burst tick - quiet tick, %.0f µs): %.3f of one readdir -> %s"
                % (med["scan_alone_us"], med["scan_ratio"], "met" if med["scan_ratio"] <= 1.0 else "NOT met"))
    say("load average at end: %s" % loadavg())

    os.makedirs(paths.results, exist_ok=True)
    out = os.path.join(paths.results, "discovery.csv")
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, CSV_COLS, extrasaction="ignore")
        w.writeheader()
        for r in rows + summary:
            w.writerow({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()})
    say("wrote %s" % os.path.relpath(out, ROOT))
    kill_holders(decoys + targets)


# ---- memory ---------------------------------------------------------------------

def memory_config(rundir):
    return ("# generated by bench/scale.py (memory)\n"
            "interval: 1s\nstate_dir: %s/state\n"
            "watches:\n  - name: scale-memory\n    match:\n      cmdline: \"%s$\"\n%s"
            % (rundir, MEM_MARKER, RULES))


def memory_run(args, paths, n):
    errpath = os.path.join(paths.work, "holders-memory.err")
    open(errpath, "w").close()
    nfds = lambda i: args.fds
    t = time.monotonic()
    pids = spawn_holders(paths.holder, nfds, n, args.seconds + 600, MEM_MARKER, errpath)
    try:
        wait_ready(pids, nfds, MEM_MARKER, errpath)
        say("N=%d: %d holders with %d extra fds ready in %.1f s; /proc lists %d pids" % (
            n, n, args.fds, time.monotonic() - t, proc_count()))
        rundir = os.path.join(paths.work, "mem-%d" % n)
        # 3 fds per watched process.  Started like under systemd's default
        # (soft 1024), with a hard limit that allows them all: leakwatchd
        # raises its soft limit to the hard one itself.
        need = 3 * n + 4096
        d = start_daemon(args.daemon, rundir, memory_config(rundir), nofile=(1024, need))
        series = []
        try:
            step = 0
            while True:
                while d.elapsed() < step:
                    alive_or_fail(d)
                    time.sleep(0.05)
                alive_or_fail(d)
                st = proc_status_kib(d.pid)
                series.append((d.elapsed(), st["VmRSS"], st["RssAnon"], st["VmHWM"]))
                say("  %6.1f s  VmRSS %6d KiB  RssAnon %6d KiB  VmHWM %6d KiB" % series[-1])
                if step == 10:
                    limits = nofile_limits(d.pid)
                if step >= args.seconds:
                    break
                step = min(step + 10, args.seconds)
            fds_open = os.stat("/proc/%d/fd" % d.pid).st_size
        finally:
            stop_daemon(d)
        check_found(d, pids, "N=%d" % n)
    finally:
        kill_holders(pids)
    after = [s for s in series if s[0] >= 10]
    lo, hi = min(s[1] for s in after), max(s[1] for s in after)
    tol = max(hi / 100, 256)
    # The history is first saved window/48 = 37.5 s in; the last sample before that:
    pre = [s for s in series if 10 <= s[0] < 37] or series
    return dict(n=n, fds=args.fds, seconds=args.seconds, VmRSS=st["VmRSS"], RssAnon=st["RssAnon"],
                VmRSS_presave=pre[-1][1], RssAnon_presave=pre[-1][2], VmHWM_presave=pre[-1][3],
                RssFile=st["RssFile"], RssShmem=st.get("RssShmem", 0), VmHWM=st["VmHWM"],
                VmData=st.get("VmData", 0), daemon_fds=fds_open, nofile_soft=limits[0], nofile_hard=limits[1],
                rss_min_after10=lo, rss_max_after10=hi, flat="flat" if hi - lo <= tol else "grew",
                series=" ".join("%d:%d/%d/%d" % (round(s[0]), s[1], s[2], s[3]) for s in series))


def memory(args, paths):
    counts = [int(c) for c in args.counts.split(",")]
    if counts[0] != min(counts):
        raise BenchError("the first of --counts must be the smallest (the base of the per-process figure)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    say("leakwatch memory benchmark: N in %s holders x %d extra fds, interval 1s, window 30m, %d s each"
        % (",".join(map(str, counts)), args.fds, args.seconds))
    say("daemon: %s; kernel %s; load average at start: %s" % (args.daemon, os.uname().release, loadavg()))
    say("RLIMIT_NOFILE of this script: soft %s, hard %s; the daemon is started with soft 1024 and its hard "
        "limit raised to 3N+4096 where lower; it raises its soft limit itself (NOFILE column: its limits at 10 s)"
        % (soft, hard))
    say("A 30m window's 48 buckets per metric are allocated when a process is found, so the RSS is final "
        "once the first scan has found everyone; the samples every 10 s check that it stays flat.  The history "
        "is saved every window/48 = 37.5 s (first at 37.5 s): streamed to its file 64 KiB at a time (VmHWM).")
    rows = []
    for n in counts:
        rows.append(memory_run(args, paths, n))
    base = rows[0]
    for r in rows:
        dn = r["n"] - base["n"]
        r["per_proc_anon_B"] = (r["RssAnon"] - base["RssAnon"]) * 1024 / dn if dn else float("nan")
        r["per_proc_rss_B"] = (r["VmRSS"] - base["VmRSS"]) * 1024 / dn if dn else float("nan")
        r["per_proc_anon_presave_B"] = (r["RssAnon_presave"] - base["RssAnon_presave"]) * 1024 / dn if dn else float("nan")
    say("")
    say("%7s %9s %10s %10s %10s %12s %14s %14s %9s %7s %9s" % (
        "watched", "VmRSS KiB", "RssAnon KiB", "RssFile KiB", "VmHWM KiB", "daemon fds", "B/proc (anon)",
        "B/proc (VmRSS)", "NOFILE", "flat?", "RSS range"))
    for r in rows:
        say("%7d %9d %11d %11d %10d %12d %14s %14s %9s %7s %4d-%d" % (
            r["n"], r["VmRSS"], r["RssAnon"], r["RssFile"], r["VmHWM"], r["daemon_fds"],
            fmt(r["per_proc_anon_B"], ".0f"), fmt(r["per_proc_rss_B"], ".0f"),
            "%s/%s" % (r["nofile_soft"], r["nofile_hard"]), r["flat"], r["rss_min_after10"], r["rss_max_after10"]))
    say("before the first history save (last sample before 37.5 s): VmRSS/RssAnon/VmHWM KiB, B/proc (anon):")
    for r in rows:
        say("%7d %9d %11d %10d %14s" % (r["n"], r["VmRSS_presave"], r["RssAnon_presave"], r["VmHWM_presave"],
                                         fmt(r["per_proc_anon_presave_B"], ".0f")))
    say("")
    worst = max((r for r in rows if r["n"] != base["n"]), key=lambda r: max(r["per_proc_anon_B"], r["per_proc_rss_B"]),
                default=None)
    if worst:
        b = max(worst["per_proc_anon_B"], worst["per_proc_rss_B"])
        say("goal: at most 4 KiB (4096 B) of daemon memory per watched process: worst %.0f B (N=%d) -> %s (ratio %.2f)"
            % (b, worst["n"], "met" if b <= 4096 else "NOT met", b / 4096))
    at1000 = [r for r in rows if r["n"] == 1000]
    if at1000:
        r = at1000[0]
        say("goal: total RSS under 8 MiB at 1000 watched processes: VmRSS %d KiB (%.2f MiB), VmHWM %d KiB -> %s (ratio %.2f)"
            % (r["VmRSS"], r["VmRSS"] / 1024, r["VmHWM"], "met" if r["VmRSS"] < 8192 else "NOT met", r["VmRSS"] / 8192))
    say("load average at end: %s" % loadavg())
    os.makedirs(paths.results, exist_ok=True)
    out = os.path.join(paths.results, "memory.csv")
    cols = ["n", "fds", "seconds", "VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM", "VmData", "daemon_fds",
            "nofile_soft", "nofile_hard", "per_proc_anon_B", "per_proc_rss_B", "VmRSS_presave", "RssAnon_presave",
            "VmHWM_presave", "per_proc_anon_presave_B", "flat", "rss_min_after10", "rss_max_after10", "series"]
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: (round(v, 1) if isinstance(v, float) else v) for k, v in r.items()})
    say("wrote %s" % os.path.relpath(out, ROOT))


# ---- profile ----------------------------------------------------------------------

def callgrind_calls(path, fn):
    """How many times fn was called, from a callgrind output file."""
    names, n, pending = {}, 0, False
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith(("fn=", "cfn=", "cfi=", "cob=", "fl=", "fi=", "fe=", "ob=")):
                key, _, val = line.rstrip("\n").partition("=")
                m = re.match(r"\((\d+)\)(?: (.*))?$", val)
                name = val
                if m:
                    if m.group(2) is not None:
                        names[(key.lstrip("c"), m.group(1))] = m.group(2)
                    name = names.get((key.lstrip("c"), m.group(1)), "?")
                pending = key == "cfn" and name == fn
            elif line.startswith("calls=") and pending:
                n += int(line[6:].split()[0])
                pending = False
    return n


def profile(args, paths):
    """The daemon (no metrics) under callgrind: instrumentation off until its
    first scan is over and --warmup s have passed, then on for --seconds s."""
    for tool in ("valgrind", "callgrind_control", "callgrind_annotate"):
        if not shutil.which(tool):
            raise BenchError("%s is not installed (Debian: valgrind)" % tool)
    decoys, targets = start_decoys_and_targets(args, paths, 900 + args.warmup + args.seconds)
    variant = args.variants.split(",")[0]
    rundir = os.path.join(paths.work, "profile-%s" % variant)
    out = os.path.join(paths.work, "callgrind.out.%s" % variant)
    if os.path.exists(out):
        os.unlink(out)
    say("callgrind: /proc lists %d pids; variant %s, no metrics; instrumentation on from %d s after the "
        "first scan, for %d s" % (proc_count(), variant, args.warmup, args.seconds))
    d = start_daemon(args.daemon, rundir, discovery_config(rundir, variant, paths),
                     wrapper=("valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=" + out))
    try:
        t1 = wait_found(d, len(targets), 300)
        sleep_until(d, t1 + args.warmup + 0.4)
        subprocess.run(["callgrind_control", "-i", "on", str(d.pid)], check=True, stdout=subprocess.DEVNULL)
        sleep_until(d, t1 + args.warmup + args.seconds + 0.4)
        subprocess.run(["callgrind_control", "-i", "off", str(d.pid)], check=True, stdout=subprocess.DEVNULL)
    finally:
        stop_daemon(d, 120)
    check_found(d, targets, "callgrind")
    kill_holders(decoys + targets)
    ticks = callgrind_calls(out, "monitor_tick")
    if not ticks:
        raise BenchError("no monitor_tick calls in %s" % out)
    entries = proc_count() + args.decoys + args.targets
    say("%d ticks (calls of monitor_tick) collected; /proc listed about %d pids during them" % (ticks, entries))
    report = os.path.join(paths.work, "callgrind.%s.txt" % variant)
    for incl in ("yes", "no"):
        ann = subprocess.run(["callgrind_annotate", "--inclusive=" + incl, "--threshold=99.5", out],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
        if incl == "yes":
            with open(report, "w") as f:
                f.write(ann)
        rows = []
        for line in ann.splitlines():
            m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S+?):(\S+)(?: \[(.*)\])?$", line)
            if m and (m.group(4) or m.group(2) == "???"):
                rows.append((int(m.group(1).replace(",", "")), m.group(3), os.path.basename(m.group(4) or "")))
            m = re.match(r"\s*([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", line)
            if m:
                total = int(m.group(1).replace(",", ""))
        say("")
        say("%s instructions per tick (Ir / %d ticks); total %.0f per tick:" % (
            "inclusive" if incl == "yes" else "self", ticks, total / ticks))
        say("%12s %6s  %s" % ("Ir/tick", "%", "function"))
        for ir, fn, obj in rows[:28 if incl == "yes" else 18]:
            say("%12.0f %5.1f%%  %s (%s)" % (ir / ticks, 100.0 * ir / total, fn, obj))
    say("")
    say("full inclusive annotation (with per-line costs of src/): %s" % os.path.relpath(report, ROOT))


# ---- main ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("discovery", "memory", "all", "profile"))
    ap.add_argument("daemon", nargs="?", default="build/leakwatchd")
    ap.add_argument("--seconds", type=int,
                    help="steady seconds (discovery: burst hosts and the floor 30, memory 60, profile 10)")
    ap.add_argument("--long-seconds", type=int, default=120,
                    help="discovery: the window on quiet and forking hosts (two minute scans in 120)")
    ap.add_argument("--modes", default=",".join(MODES), help="discovery: hosts, of %s" % ",".join(MODES))
    ap.add_argument("--fork-rate", type=int, default=20, help="discovery: short-lived processes a second (forks)")
    ap.add_argument("--warmup", type=int, default=10, help="discovery/profile: seconds before the steady window")
    ap.add_argument("--runs", type=int, default=2, help="discovery: runs (medians)")
    ap.add_argument("--decoys", type=int, default=4990)
    ap.add_argument("--targets", type=int, default=10)
    ap.add_argument("--variants", default="cmdline", help="discovery: cmdline,exe")
    ap.add_argument("--counts", default="10,1000,5000", help="memory: numbers of watched processes")
    ap.add_argument("--fds", type=int, default=10, help="memory: extra fds per holder")
    args = ap.parse_args()
    os.chdir(ROOT)
    args.daemon = os.path.abspath(args.daemon)
    if not os.access(args.daemon, os.X_OK):
        raise BenchError("%s not found or not executable (run make first)" % args.daemon)
    install_signals()
    paths = Paths()
    build(paths)
    t0 = time.monotonic()
    try:
        for what in (("discovery", "memory") if args.what == "all" else (args.what,)):
            a = argparse.Namespace(**vars(args))
            if a.seconds is None:
                a.seconds = {"discovery": 30, "memory": 60, "profile": 10}[what]
            {"discovery": discovery, "memory": memory, "profile": profile}[what](a, paths)
    finally:
        cleanup()
    say("total time: %.0f s" % (time.monotonic() - t0))


if __name__ == "__main__":
    try:
        main()
    except BenchError as e:
        print("bench: FAILED: %s" % e, file=sys.stderr)
        sys.exit(1)
