#!/usr/bin/python3
"""Detection benchmark (issue 5): how long after a leak starts each tool
warns, for the same limit.

    /usr/bin/python3 bench/detect.py [--daemon build/leakwatchd] [--full]
        [--rates KIB_PER_S,...] [--headroom MIB,...] [--interval S]
        [--window DURATION] [--growth RATE] [--predict DURATION]
        [--warmup DURATION] [--uwsgi-period S] [--timeout S]
        [--csv FILE] [--work DIR]

Run from the repository root after `make` (`make bench-detect`).  For each
leak rate R (default 1024 and 50 KiB/s) it starts one
tests/programs/leak_memory.py --rate R --tag UNIQUE.  Its leak starts at
once; t=0 is the moment the program says it has started (its first stderr
line, printed just before its allocation loop).  Its RSS then (rss0, from
/proc/PID/statm) plus a headroom H gives the limit X, in whole KiB, the same
for every tool:

- leakwatchd (one daemon, --log-target=json, its own RUNTIME_DIRECTORY and
  STATE_DIRECTORY under the work dir), one watch per program:
  `rss: { max: X, growth: G, predict: P }`, `window: W`, `interval: I`.
  Its first warning is the first `leak` event for the pid, or the `limit`
  event if that comes first; the time is the event's `ts`.  Its `limit`
  event is recorded too.
- monit (`monit -I -c monitrc`, `set daemon I`, state, id, pid and log files
  in the work dir, no httpd, no mail server): `check process leakN with
  pidfile ...` / `if totalmem > X KB for 1 cycles then alert`.  That is
  monit's best rule for the limit X: more cycles only delay it, and a lower
  threshold is a different limit.  Its time is when its log line
  "'leakN' total mem amount of ... matches resource limit" appears in the
  log file (the file is polled every 50 ms; the line's own time stamp, to the
  second, is kept as a cross-check).
- reload-on-rss, uWSGI style, EMULATED: uWSGI compares a worker's RSS with
  reload-on-rss after each request it serves; with requests flowing
  continuously that is a check every --uwsgi-period seconds (1 s).  The
  driver reads /proc/PID/statm on that grid and records the first check that
  finds RSS > X.  No uWSGI runs.
- "RSS crossed X": the driver also reads statm every 0.1 s; the first
  reading over X is the time to the limit, the reference for the fractions.

A program is stopped (SIGTERM) as soon as every tool has fired for it
(leakwatchd's first warning and its limit event, monit, reload-on-rss), or
at --timeout.  Everything the driver started is killed at the end, on errors
and on ^C / SIGTERM too (and, through setpriv --pdeathsig, if the driver
itself is killed).

Modes (durations for both rates, which run side by side):

  quick (default)   W=2m, I=1s, G=50M/h, P=6h; H = R x 256 s, i.e. 256 MiB
                    for 1 MiB/s and 12.5 MiB for 50 KiB/s: both reach their
                    limit about 256 s after they start.  This is a time-scaled
                    model: the window is 15 times shorter than the default
                    30 minutes, and so are the times to the limit.  About
                    4.5 minutes, under 300 MiB of leaked memory.
  --full            W=30m, I=1s, G=50M/h, P=6h; H = 1 GiB for every rate
                    (the limit of leakwatch's demo).  1 MiB/s reaches it after
                    about 17 minutes, 50 KiB/s after about 5.8 hours: both
                    rates take about 5.8 h; `--full --rates 1024` about 18
                    minutes.

Every flag overrides its mode's value.  --headroom takes one MiB figure for
all rates or one per rate, in --rates order.

What to expect: leakwatchd's trend verdict needs a history that covers the
window, then a sixth of a window of persistence, about 1.15-1.2 W after the
process starts whatever the rate (for rates well above the threshold);
monit and reload-on-rss fire when RSS crosses X, H / R after the start.  So
leakwatchd warns earlier by about H/R - 1.2 W, and not at all earlier (its
first warning is then its own `limit` event) when H/R < 1.2 W.

monit reads a process's memory from /proc/PID/stat (it opens stat and
status; stat's RSS field is the kernel's unsummed estimate, 200-300 KiB
behind statm in a test on a 2-CPU machine), so it sees a crossing a little
late, on top of its cycle: a fraction of a second at 1 MiB/s, several
seconds at 50 KiB/s.  That lag is part of monit's result.

Output: a line per event as it comes, then a table per rate, the CPU time
leakwatchd and monit used (utime+stime from /proc/PID/stat just before they
are stopped), and one CSV row per rate APPENDED to bench/results/detect.csv
(--csv; directory created, header written when the file is new; a file with
other columns is moved aside to FILE.old), with the run's UTC start time and
mode.  Nothing is written after ^C or an error; after a timeout the rows are
written with the missing times empty.  The work dir (default
build/bench/work-detect; emptied at start, but only if a previous run of this
script made it) keeps the configurations, leakwatchd's JSON events and
stderr, monit's log, and the RSS traces (rss-N.csv, one row a second).  Exit
status 0 when every tool fired for every rate, 1 otherwise.
"""

import argparse
import csv
import datetime
import json
import math
import os
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LEAKER = os.path.join(ROOT, "tests", "programs", "leak_memory.py")
PYTHON = "/usr/bin/python3"
PAGE = os.sysconf("SC_PAGE_SIZE")
KIB = 1024
MIB = 1024 * 1024

FINE_PERIOD_S = 0.1      # statm poll for "RSS crossed X"
LOOP_S = 0.05            # main loop tick (log tailing, event queue)
QUICK_SECONDS_TO_LIMIT = 256.0

MONIT_LINE = re.compile(r"^\[([^\]]+)\]\s+\w+\s*:\s*'([^']+)' total mem amount of (.+?) matches resource limit")


class Interrupted(Exception):
    pass


def on_signal(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def parse_duration(s):
    """Seconds of a duration such as 2m, 30m, 1h30m, 90s, 6h."""
    units = {"ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
    pos, total = 0, 0.0
    for m in re.finditer(r"(\d+(?:\.\d+)?)(ms|min|s|m|h|d)", s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * units[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise argparse.ArgumentTypeError(f"not a duration: {s!r} (like 2m, 30m, 90s)")
    return total


def fmt_dur(s):
    """A duration for leakwatch.yaml: whole seconds or milliseconds."""
    ms = round(s * 1000)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def parse_ts(ts):
    try:
        return datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
    except (AttributeError, TypeError, ValueError):
        return None


def parse_monit_ts(ts):
    """monit's '2026-11-24T08:44:51+0000' (to the second), or None."""
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%b %d %H:%M:%S"):
        try:
            return datetime.datetime.strptime(ts.strip(), fmt).timestamp()
        except ValueError:
            pass
    return None


def read_rss(pid):
    """Resident bytes of pid from /proc/PID/statm, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return None


def cpu_seconds(pid):
    """utime + stime of pid in seconds (fields 14 and 15 of /proc/PID/stat), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def pdeath(argv):
    return ["setpriv", "--pdeathsig", "KILL", "--"] + argv


def mib(b):
    return b / MIB


def fmt_s(v, nd=1):
    return "-" if v is None else f"{v:.{nd}f}"


class Leaker:
    """One leaking program and what each tool saw of it."""

    def __init__(self, idx, rate_kib, headroom_mib, tag, work):
        self.idx = idx
        self.rate_kib = rate_kib
        self.headroom_mib = headroom_mib
        self.tag = tag
        self.name = f"leak{idx}"                 # monit check name
        self.watch = f"detect-{idx}"             # leakwatchd watch name
        self.pidfile = os.path.join(work, f"{self.name}.pid")
        self.trace_path = os.path.join(work, f"rss-{idx}.csv")
        self.proc = None
        self.t0 = None
        self.rss0 = None
        self.limit = None                        # bytes, a whole number of KiB
        self.cross = None                        # first 0.1 s reading > X
        self.reload = None                       # first uwsgi-period check > X
        self.reload_rss = None
        self.lw_first = None                     # the first leak-or-limit event
        self.lw_leak = None
        self.lw_limit = None
        self.monit = None                        # (arrival time, log ts, text)
        self.stopped = False
        self.exit_note = None
        self.trace = []
        self.next_trace = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def done(self):
        return (self.lw_first is not None and self.lw_limit is not None and self.monit is not None
                and self.reload is not None and self.cross is not None)


def start_leaker(lk, run_seconds):
    argv = [PYTHON, LEAKER, "--rate", f"{lk.rate_kib:g}", "--seconds", str(int(run_seconds)),
            "--tag", lk.tag]
    lk.proc = subprocess.Popen(pdeath(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=True)


def wait_started(lk, timeout=15.0):
    """t0 = when the program's first stderr line (printed right before its
    allocation loop) arrives; rss0 read right after."""
    deadline = time.time() + timeout
    fd = lk.proc.stderr.fileno()
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.time()
        if left <= 0 or lk.proc.poll() is not None:
            raise RuntimeError(f"{lk.name} (pid {lk.pid}) did not start: {buf!r}")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError(f"{lk.name} closed stderr: {buf!r}")
            buf += chunk
    lk.t0 = time.time()
    lk.rss0 = read_rss(lk.pid)
    if not buf.startswith(b"leak_memory: pid"):
        raise RuntimeError(f"{lk.name}: unexpected first line {buf!r}")


def write_leakwatch_conf(path, leakers, a):
    lines = [f"interval: {fmt_dur(a.interval)}", "watches:"]
    for lk in leakers:
        lines += [
            f"  - name: {lk.watch}",
            "    match:",
            f"      cmdline: '--tag {lk.tag}( |$)'",
            "      python: true",
        ]
        if a.warmup > 0:
            lines.append(f"    warmup: {fmt_dur(a.warmup)}")
        lines += [
            f"    window: {fmt_dur(a.window)}",
            f"    rss: {{ max: {lk.limit}, growth: {a.growth}, predict: {a.predict} }}",
        ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_monitrc(path, work, leakers, a):
    period = max(1, round(a.interval))
    lines = [
        f"set daemon {period}",
        f"set logfile {os.path.join(work, 'monit.log')}",
        f"set pidfile {os.path.join(work, 'monit.pid')}",
        f"set idfile {os.path.join(work, 'monit.id')}",
        f"set statefile {os.path.join(work, 'monit.state')}",
        "",
    ]
    for lk in leakers:
        lines += [
            f"check process {lk.name} with pidfile {lk.pidfile}",
            f"    if totalmem > {lk.limit // KIB} KB for 1 cycles then alert",
            "",
        ]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines))
    os.chmod(path, 0o600)     # monit refuses a control file readable by others
    return period


def reader(stream, out_path, q):
    """Daemon stdout: each line to out_path and, with its arrival time, to q."""
    with open(out_path, "w") as out:
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace")
            out.write(line)
            out.flush()
            q.put((time.time(), line))
    q.put((time.time(), None))


def stop_proc(proc, sig=signal.SIGTERM, wait_s=5.0):
    """Signal proc's process group (it leads its own session), wait, then
    SIGKILL the group; reap."""
    if proc is None:
        return None
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        return proc.wait(3)
    except subprocess.TimeoutExpired:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--daemon", default=os.path.join(ROOT, "build", "leakwatchd"))
    ap.add_argument("--monit", default=shutil.which("monit") or "/usr/bin/monit")
    ap.add_argument("--full", action="store_true", help="realistic values: 30m window, 1 GiB headroom")
    ap.add_argument("--rates", default="1024,50", help="leak rates in KiB/s, comma-separated (default 1024,50)")
    ap.add_argument("--headroom", help="MiB over the starting RSS: one value, or one per rate")
    ap.add_argument("--interval", type=float, help="seconds between samples, leakwatchd and monit (default 1)")
    ap.add_argument("--window", type=parse_duration, help="leakwatchd window (quick 2m, full 30m)")
    ap.add_argument("--growth", default="50M/h", help="leakwatchd rss growth (default 50M/h)")
    ap.add_argument("--predict", default="6h", help="leakwatchd rss predict (default 6h)")
    ap.add_argument("--warmup", type=parse_duration, default=0.0, help="leakwatchd warmup (default 0)")
    ap.add_argument("--uwsgi-period", type=float, default=1.0,
                    help="seconds between the emulated reload-on-rss checks (default 1)")
    ap.add_argument("--timeout", type=float, help="give up this many seconds after the start (default: "
                    "1.5 x the later of the time to the limit and 1.2 windows, + 60 s)")
    ap.add_argument("--csv", default=os.path.join(HERE, "results", "detect.csv"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench", "work-detect"))
    a = ap.parse_args()

    mode = "full" if a.full else "quick"
    try:
        rates = [float(x) for x in a.rates.split(",") if x.strip()]
    except ValueError:
        ap.error("--rates: comma-separated numbers (KiB/s)")
    if not rates or any(r <= 0 for r in rates):
        ap.error("--rates: positive numbers (KiB/s)")
    if a.headroom:
        try:
            hs = [float(x) for x in a.headroom.split(",")]
        except ValueError:
            ap.error("--headroom: comma-separated MiB figures")
        if len(hs) == 1:
            hs = hs * len(rates)
        if len(hs) != len(rates) or any(h <= 0 for h in hs):
            ap.error("--headroom: one positive value, or one per rate")
    elif a.full:
        hs = [1024.0] * len(rates)
    else:
        hs = [r * QUICK_SECONDS_TO_LIMIT / 1024 for r in rates]
    if a.interval is None:
        a.interval = 1.0
    if a.window is None:
        a.window = 1800.0 if a.full else 120.0
    if a.interval < 0.1 or a.window < 10 * a.interval:
        ap.error("--interval at least 0.1 s, --window at least 10 intervals")
    if a.interval != round(a.interval) or a.interval < 1:
        print(f"note: monit's cycle is whole seconds; it runs every {max(1, round(a.interval))} s", file=sys.stderr)
    expect_limit = max(h * 1024 / r for h, r in zip(hs, rates))
    if a.timeout is None:
        a.timeout = 1.5 * max(expect_limit, 1.2 * a.window) + 60
    for path, what in ((a.daemon, "--daemon"), (a.monit, "--monit"), (PYTHON, "python3"), (LEAKER, "leak_memory.py")):
        if not os.access(path, os.X_OK if path != LEAKER else os.R_OK):
            print(f"detect: {what} {path} not found or not executable", file=sys.stderr)
            return 1

    work = os.path.abspath(a.work)
    marker = os.path.join(work, ".detect-work")
    if os.path.isdir(work) and os.listdir(work) and not os.path.exists(marker):
        print(f"detect: {work} exists and is not a work dir of this script; not emptying it", file=sys.stderr)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    open(marker, "w").close()
    run_utc = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    uniq = f"lwdetect{os.getpid()}"
    leakers = [Leaker(i, r, h, f"{uniq}-r{i}", work) for i, (r, h) in enumerate(zip(rates, hs))]

    print(f"detect: {mode} mode: rates {', '.join(f'{r:g}' for r in rates)} KiB/s; "
          f"headroom {', '.join(f'{h:g}' for h in hs)} MiB; interval {a.interval:g}s, window {fmt_dur(a.window)}, "
          f"growth {a.growth}, predict {a.predict}, warmup {fmt_dur(a.warmup)}; "
          f"reload-on-rss (emulated) every {a.uwsgi_period:g}s; timeout {a.timeout:.0f}s")
    print(f"detect: expect the limits after about {', '.join(f'{h * 1024 / r:.0f}' for h, r in zip(hs, rates))} s, "
          f"leakwatchd's trend verdicts after about {1.15 * a.window:.0f}-{1.2 * a.window:.0f} s; work dir {work}")
    sys.stdout.flush()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    daemon = monit = None
    period = None
    lw_status = None
    t_daemon = t_monit = None
    cpu = {}
    events_q = queue.Queue()
    status = 1
    failure = None
    try:
        # 1. the leaking programs; t0 and rss0 of each; pidfiles
        for lk in leakers:
            start_leaker(lk, a.timeout + 120)
        for lk in leakers:
            wait_started(lk)
            if lk.rss0 is None:
                raise RuntimeError(f"{lk.name}: cannot read its RSS")
            lk.limit = (-(-lk.rss0 // KIB) + round(lk.headroom_mib * 1024)) * KIB
            with open(lk.pidfile, "w") as f:
                f.write(f"{lk.pid}\n")
            lk.next_trace = lk.t0

        # 2. configurations, checked
        lw_conf = os.path.join(work, "leakwatch.yaml")
        monitrc = os.path.join(work, "monitrc")
        write_leakwatch_conf(lw_conf, leakers, a)
        period = write_monitrc(monitrc, work, leakers, a)
        r = subprocess.run([a.daemon, "-t", "-c", lw_conf], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"leakwatchd -t: {r.stdout}{r.stderr}")
        r = subprocess.run([a.monit, "-t", "-c", monitrc], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"monit -t: {r.stdout}{r.stderr}")

        # 3. the two daemons
        env = dict(os.environ)
        for key, sub in (("RUNTIME_DIRECTORY", "lw-run"), ("STATE_DIRECTORY", "lw-state")):
            os.makedirs(os.path.join(work, sub), mode=0o700, exist_ok=True)
            env[key] = os.path.join(work, sub)
        lw_err = open(os.path.join(work, "leakwatchd.stderr"), "w")
        daemon = subprocess.Popen(pdeath([a.daemon, "-c", lw_conf, "--log-target=json"]), env=env,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=lw_err,
                                  start_new_session=True)
        t_daemon = time.time()
        threading.Thread(target=reader, args=(daemon.stdout, os.path.join(work, "leakwatchd.json"), events_q),
                         daemon=True).start()
        monit_out = open(os.path.join(work, "monit.stdout"), "w")
        monit = subprocess.Popen(pdeath([a.monit, "-I", "-c", monitrc]), stdin=subprocess.DEVNULL,
                                 stdout=monit_out, stderr=subprocess.STDOUT, start_new_session=True)
        t_monit = time.time()
        for lk in leakers:
            print(f"detect: {lk.name}: pid {lk.pid}, {lk.rate_kib:g} KiB/s, rss0 {mib(lk.rss0):.1f} MiB, "
                  f"limit X = {lk.limit // KIB} KiB ({mib(lk.limit):.1f} MiB); leakwatchd started at "
                  f"t={t_daemon - lk.t0:.2f}s, monit (every {period}s) at t={t_monit - lk.t0:.2f}s")
        sys.stdout.flush()

        # 4. watch until every tool fired for every program, or the timeout
        by_pid = {lk.pid: lk for lk in leakers}
        monit_log = os.path.join(work, "monit.log")
        monit_pos = 0
        monit_partial = ""
        next_fine = time.time()
        next_uwsgi = {lk.pid: lk.t0 + a.uwsgi_period for lk in leakers}
        t_start = min(lk.t0 for lk in leakers)
        daemon_eof = False

        def say(lk, now, what):
            print(f"  t={now - lk.t0:8.1f}s  {lk.name} ({lk.rate_kib:g} KiB/s): {what}", flush=True)

        while True:
            now = time.time()
            # RSS: the fine poll (crossing) and the emulated reload-on-rss grid
            if now >= next_fine:
                next_fine += FINE_PERIOD_S
                if next_fine < now:
                    next_fine = now + FINE_PERIOD_S
                for lk in leakers:
                    if lk.stopped:
                        continue
                    rss = read_rss(lk.pid)
                    if rss is None:
                        continue
                    if now >= lk.next_trace:
                        lk.trace.append((now - lk.t0, rss))
                        lk.next_trace += 1.0
                    if lk.cross is None and rss > lk.limit:
                        lk.cross = now
                        say(lk, now, f"RSS crossed X ({mib(rss):.1f} MiB > {mib(lk.limit):.1f} MiB)")
                    if now >= next_uwsgi[lk.pid]:
                        while next_uwsgi[lk.pid] <= now:
                            next_uwsgi[lk.pid] += a.uwsgi_period
                        if lk.reload is None and rss > lk.limit:
                            lk.reload, lk.reload_rss = now, rss
                            say(lk, now, "reload-on-rss (emulated) would recycle the worker")
            # leakwatchd's events
            while True:
                try:
                    arrived, line = events_q.get_nowait()
                except queue.Empty:
                    break
                if line is None:
                    daemon_eof = True
                    continue
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                lk = by_pid.get(e.get("pid"))
                if lk is None or e.get("metric") != "rss" or e.get("event") not in ("leak", "limit"):
                    continue
                t = parse_ts(e.get("ts")) or arrived
                rec = (t, e)
                if e["event"] == "leak" and lk.lw_leak is None:
                    lk.lw_leak = rec
                if e["event"] == "limit" and lk.lw_limit is None:
                    lk.lw_limit = rec
                if lk.lw_first is None:
                    lk.lw_first = rec
                say(lk, t, f"leakwatchd {e['event']}: {e.get('message', '')}")
            # monit's log
            try:
                with open(monit_log) as f:
                    f.seek(monit_pos)
                    data = f.read()
                    monit_pos = f.tell()
            except OSError:
                data = ""
            if data:
                arrived = time.time()
                data = monit_partial + data
                lines = data.split("\n")
                monit_partial = lines.pop()
                for line in lines:
                    m = MONIT_LINE.match(line)
                    if not m:
                        continue
                    lk = next((x for x in leakers if x.name == m.group(2)), None)
                    if lk is not None and lk.monit is None:
                        lk.monit = (arrived, parse_monit_ts(m.group(1)), m.group(3))
                        say(lk, arrived, f"monit: total mem amount of {m.group(3)} matches resource limit")
            # programs done with: stop them (their memory is not needed any more)
            for lk in leakers:
                if not lk.stopped and lk.done():
                    lk.stopped = True
                    stop_proc(lk.proc)
                elif not lk.stopped and lk.proc.poll() is not None:
                    lk.stopped = True
                    lk.exit_note = f"exited early with status {lk.proc.returncode}"
                    say(lk, now, lk.exit_note)
            if all(lk.stopped for lk in leakers):
                break
            if daemon.poll() is not None or daemon_eof:
                raise RuntimeError(f"leakwatchd exited with status {daemon.poll()} (see {work}/leakwatchd.stderr)")
            if monit.poll() is not None:
                raise RuntimeError(f"monit exited with status {monit.returncode} (see {work}/monit.log)")
            if now - t_start > a.timeout:
                failure = f"timeout after {a.timeout:.0f}s"
                print(f"detect: {failure}; stopping", flush=True)
                break
            time.sleep(LOOP_S)
    except (Interrupted, KeyboardInterrupt) as ex:
        failure = f"interrupted ({ex or 'SIGINT'})"
        print(f"\ndetect: {failure}; cleaning up", file=sys.stderr)
    except (RuntimeError, OSError) as ex:
        failure = str(ex)
        print(f"detect: FAILED: {failure}", file=sys.stderr)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for lk in leakers:
            if lk.proc is not None:
                stop_proc(lk.proc)
        t_end = time.time()
        for proc, t_st, key in ((daemon, t_daemon, "leakwatchd"), (monit, t_monit, "monit")):
            if proc is not None and proc.poll() is None:
                cpu[key] = (cpu_seconds(proc.pid), t_end - t_st)
        lw_status = stop_proc(daemon, wait_s=10) if daemon else None
        stop_proc(monit, wait_s=10)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    for lk in leakers:
        with open(lk.trace_path, "w") as f:
            f.write("t_s,rss_bytes\n")
            for t, rss in lk.trace:
                f.write(f"{t:.2f},{rss}\n")
    if daemon is not None and lw_status not in (0, None):
        print(f"detect: note: leakwatchd exited with status {lw_status} after SIGTERM")

    if any(lk.t0 is None or lk.limit is None for lk in leakers):
        return 1
    rows = report(leakers, a, mode, run_utc, period)
    for key in ("leakwatchd", "monit"):
        c, wall = cpu.get(key, (None, None))
        if c is not None:
            print(f"detect: {key} used {c:.2f} s of CPU (user+system) in its {wall:.0f} s, "
                  f"{100 * c / wall:.2f}% of a CPU")
        for row in rows:
            row[f"{key}_cpu_s"] = "" if c is None else f"{c:.2f}"
            row[f"{key}_wall_s"] = "" if wall is None else f"{wall:.0f}"
    if failure is not None and not failure.startswith("timeout"):
        print(f"detect: nothing written to the CSV ({failure})")
        return 1
    write_csv(a.csv, rows)
    shown = os.path.relpath(a.csv) if os.path.abspath(a.csv).startswith(ROOT + os.sep) else a.csv
    print(f"detect: {len(rows)} row(s) appended to {shown}; work dir {work}")
    complete = all(lk.done() for lk in leakers)
    if failure is None and complete:
        status = 0
    elif complete:
        status = 1
    else:
        missing = [f"{lk.name}: " + ", ".join(n for n, v in (("leakwatchd warning", lk.lw_first),
                                                             ("leakwatchd limit", lk.lw_limit),
                                                             ("monit", lk.monit), ("reload-on-rss", lk.reload))
                                              if v is None)
                   for lk in leakers if not lk.done()]
        print("detect: incomplete: " + "; ".join(missing))
    return status


def rel(lk, t):
    return None if t is None else t - lk.t0


def report(leakers, a, mode, run_utc, period):
    rows = []
    print()
    print(f"Detection: time from leak start (t=0) to each tool's first warning; same limit X per rate "
          f"({mode} mode: window {fmt_dur(a.window)}, interval {a.interval:g}s, growth {a.growth}, "
          f"predict {a.predict}; monit every {period}s; reload-on-rss emulated every {a.uwsgi_period:g}s)")
    print()
    hdr = (f"{'rate':>9} {'X':>10} {'H':>10} {'crossed X':>9} {'leakwatchd':>12} {'lw limit':>9} "
           f"{'monit':>8} {'reload(emu)':>11} {'earlier vs':>10} {'earlier vs':>10} {'slope/h':>9} {'eta':>8} "
           f"{'actual left':>11}")
    hdr2 = (f"{'KiB/s':>9} {'MiB':>10} {'MiB':>10} {'s':>9} {'first, s':>12} {'s':>9} "
            f"{'s':>8} {'s':>11} {'monit, s':>10} {'reload, s':>10} {'MiB/h':>9} {'s':>8} {'s':>11}")
    print(hdr)
    print(hdr2)
    for lk in leakers:
        t_cross = rel(lk, lk.cross)
        t_first = rel(lk, lk.lw_first[0]) if lk.lw_first else None
        first_kind = lk.lw_first[1]["event"] if lk.lw_first else None
        t_lwlimit = rel(lk, lk.lw_limit[0]) if lk.lw_limit else None
        t_monit = rel(lk, lk.monit[0]) if lk.monit else None
        t_monit_logts = rel(lk, lk.monit[1]) if lk.monit and lk.monit[1] else None
        t_reload = rel(lk, lk.reload)
        ev = lk.lw_first[1] if lk.lw_first else {}
        slope = ev.get("slope_per_hour")
        eta = ev.get("eta_seconds")
        value = ev.get("value")
        vs_monit = None if t_first is None or t_monit is None else t_monit - t_first
        vs_reload = None if t_first is None or t_reload is None else t_reload - t_first
        actual_left = None if t_first is None or t_cross is None else t_cross - t_first
        frac_monit = None if vs_monit is None or not t_cross else vs_monit / t_cross
        frac_reload = None if vs_reload is None or not t_cross else vs_reload / t_cross
        # the program's true rate, from the RSS trace (least squares, 1 s rows)
        true_rate_h = None
        if len(lk.trace) >= 10:
            xs = [t for t, _ in lk.trace]
            ys = [r for _, r in lk.trace]
            mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
            sxx = sum((x - mx) ** 2 for x in xs)
            if sxx > 0:
                true_rate_h = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx * 3600
        print(f"{lk.rate_kib:>9g} {mib(lk.limit):>10.1f} {lk.headroom_mib:>10.1f} {fmt_s(t_cross):>9} "
              f"{(fmt_s(t_first) + ' ' + (first_kind or '')[:5]) if t_first is not None else '-':>12} "
              f"{fmt_s(t_lwlimit):>9} {fmt_s(t_monit):>8} {fmt_s(t_reload):>11} {fmt_s(vs_monit):>10} "
              f"{fmt_s(vs_reload):>10} {fmt_s(None if slope is None else slope / MIB):>9} "
              f"{fmt_s(eta, 0):>8} {fmt_s(actual_left):>11}")
        rows.append({
            "run_utc": run_utc, "mode": mode, "rate_kib_s": f"{lk.rate_kib:g}",
            "interval_s": f"{a.interval:g}", "window_s": f"{a.window:g}", "growth": a.growth,
            "predict": a.predict, "warmup_s": f"{a.warmup:g}", "monit_cycle_s": period,
            "uwsgi_period_s": f"{a.uwsgi_period:g}", "headroom_mib": f"{lk.headroom_mib:g}",
            "rss0_bytes": lk.rss0, "limit_bytes": lk.limit,
            "t_rss_crossed_s": fmt_s(t_cross, 2), "t_leakwatchd_first_s": fmt_s(t_first, 2),
            "leakwatchd_first_event": first_kind or "",
            "t_leakwatchd_leak_s": fmt_s(rel(lk, lk.lw_leak[0]) if lk.lw_leak else None, 2),
            "t_leakwatchd_limit_s": fmt_s(t_lwlimit, 2), "t_monit_s": fmt_s(t_monit, 2),
            "t_monit_logts_s": fmt_s(t_monit_logts, 2), "t_reload_on_rss_emulated_s": fmt_s(t_reload, 2),
            "earlier_than_monit_s": fmt_s(vs_monit, 2), "earlier_than_reload_s": fmt_s(vs_reload, 2),
            "earlier_than_monit_frac": fmt_s(frac_monit, 3), "earlier_than_reload_frac": fmt_s(frac_reload, 3),
            "leakwatchd_value_bytes": "" if value is None else f"{value:.0f}",
            "slope_per_hour": "" if slope is None else f"{slope:.0f}",
            "true_rate_per_hour": "" if true_rate_h is None else f"{true_rate_h:.0f}",
            "eta_seconds": "" if eta is None else f"{eta:.0f}",
            "actual_seconds_left": fmt_s(actual_left, 2),
        })
        lk.summary = (t_cross, t_first, first_kind, vs_monit, vs_reload, frac_monit, frac_reload, slope, eta,
                      true_rate_h, value, actual_left, t_monit, t_monit_logts)
    print()
    for lk in leakers:
        (t_cross, t_first, first_kind, vs_monit, vs_reload, frac_monit, frac_reload, slope, eta,
         true_rate_h, value, actual_left, t_monit, t_monit_logts) = lk.summary
        head = f"{lk.rate_kib:g} KiB/s, X = {mib(lk.limit):.1f} MiB (rss0 {mib(lk.rss0):.1f} + {lk.headroom_mib:g} MiB)"
        if t_first is None:
            print(f"- {head}: leakwatchd gave no warning before the run ended")
            continue
        if value is None:
            left = ""
        elif value > lk.limit:
            left = f" at {mib(value):.1f} MiB, {mib(value - lk.limit):.1f} MiB over X"
        else:
            left = f" at {mib(value):.1f} MiB, {mib(lk.limit - value):.1f} MiB below X"
        print(f"- {head}: leakwatchd's first warning is its `{first_kind}` event at t={t_first:.1f}s{left}.")
        if first_kind == "limit":
            print(f"  No trend verdict came before the limit (it needs about 1.2 windows, "
                  f"{1.2 * a.window:.0f} s): the seconds below are sampling phase and read lag, not foresight.")
        if vs_monit is not None:
            print(f"  It warns {abs(vs_monit):.1f} s {'earlier' if vs_monit >= 0 else 'LATER'} than monit "
                  f"(t={t_monit:.1f}s; its log stamp says {fmt_s(t_monit_logts, 0)}s), "
                  f"{abs(frac_monit):.1%} of the {t_cross:.1f} s to the limit.")
        if vs_reload is not None:
            print(f"  It warns {abs(vs_reload):.1f} s {'earlier' if vs_reload >= 0 else 'LATER'} than "
                  f"reload-on-rss (emulated, t={rel(lk, lk.reload):.1f}s), {abs(frac_reload):.1%} of the "
                  f"time to the limit.")
        if slope is not None:
            tr = "" if true_rate_h is None else f" (the program's measured rate: {true_rate_h / MIB:.1f} MiB/h)"
            et = ""
            if eta is not None:
                et = f"; eta_seconds {eta:.0f}"
                if actual_left is not None:
                    et += f", and RSS actually crossed X {actual_left:.1f} s after the event"
            print(f"  The event says slope_per_hour {slope / MIB:.1f} MiB/h{tr}{et}.")
        else:
            print("  The event carries no slope (a limit event before the trend verdict).")
    print()
    return rows


def write_csv(path, rows):
    if not rows:
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fields = list(rows[0].keys())
    new = not os.path.exists(path) or os.path.getsize(path) == 0
    if not new:
        with open(path, newline="") as f:
            header = next(csv.reader(f), [])
        if header != fields:     # written by another version of this script: keep it aside
            aside = path + ".old"
            os.replace(path, aside)
            print(f"detect: {path} had other columns; moved to {aside}")
            new = True
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        if new:
            w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    sys.exit(main())
