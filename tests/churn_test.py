#!/usr/bin/python3
"""leakwatch churn test: a fork storm of short-lived processes, thousands a
second, while 50 real targets are watched.

    /usr/bin/python3 tests/churn_test.py --daemon build/leakwatchd [--seconds 60]
                                         [--rate 3000] [--sanitized] [--keep DIR] [-v]

(`make churn` runs it for CHURN_SECONDS, 60 by default, then for 20 s on a
leakwatchd built with ASan+LSan+UBSan; `make check` runs only the latter.)

The targets are programs/churn_target.c, built as lwc-target (comm
"lwc-target", a marker unique to the run on the command line): 4 leak
256 KiB/s of RSS, 2 leak 4 fds/s, 38 are steady (6 of them with a 512 KiB
sawtooth), all started before the daemon; 6 more (1 RSS leaker, 1 fd
leaker, 4 steady) start during the storm, so discovery must find them
among the storm's pids.  The storm is programs/churn_storm.c (lwc-storm):
--rate forks a second for --seconds, 10 % of the children renamed to
"lwc-target" or "lwc-kid" so that they match the watches (one of them
through `parent:`) like a target, 10 % living 20 ms to 2 s, the rest
exiting at once.  At pid_max 32768 (the kernel's default) the pids wrap
every ~11 s.

The daemon: interval 250ms, warm-up 2s, window 20s (10s when --seconds is
under 45), metrics on 127.0.0.1, --log-target=json, its own state and
runtime dirs (the history is saved every interval).  It is sampled from
outside every 2 s (1 s for short runs): VmRSS, VmHWM, fds, CPU, and from
/metrics the watched count, the last scan's duration and the mean tick.

Checks (one PASS/FAIL line each):
- storm: it ran at 1000 forks/s at least (else the test proves nothing);
- targets: each of the 50 found under its watch, by its pid;
- leaks: a leak event of the right metric for every leaking target;
- no-false-alarm: no leak or limit event for a steady target or a storm
  child, no error event;
- kids: storm children were found under both watches, each found pid was
  gone again, found and gone alternate per pid (a reused pid is a new
  process, never a continued one);
- daemon: alive all along, every stdout line an event, exit 0 within 10 s
  of SIGTERM, and with --sanitized no sanitizer report on stderr
  (LeakSanitizer runs at that exit);
- rss-flat, fds-flat, cpu-per-tick-flat, scan-time-flat, tick-time-flat:
  over the storm after its first sixth (at least 5 s: the pid table and
  the heap grow to the storm's size), the last third against the first
  (lwtest.judge_flat): VmRSS +max(256 KiB, 2 %) at most, the floor of the
  daemon's own fds (fds - 3 per watched process) not higher, the median
  CPU per tick at most 1.25x + 0.25 ms, the least wall time of a scan and
  of a tick at most 1.5x + 1 ms.  With --sanitized only fds-flat is
  judged, the others are printed: ASan's quarantine holds freed memory by
  design, and its timings are ASan's;
- fds-idle: the daemon's own fds, idle after the storm, not more than
  idle before it (the least of at least 3 samples each).

Why 256 KiB or 2 %: glibc keeps freed chunks for reuse and trims its heap
only past a 128 KiB threshold, so a flat daemon moves by a few pages to a
step of that size (measured: +56 KiB over the minute's storm).  The daemon
reads the pids alive at its scans, about 300 new ones a second here (the
others are gone by then): the pid entry of each one lost (done on
purpose) shows +872 KiB over a minute's run and fails; one watched
process's 3 fds lost when it goes, fds-flat and fds-idle both fail.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True     # importing lwtest must leave no tests/__pycache__
from lwtest import (SAMPLE_HEADER, Check, Meter, build_churn_programs, daemon_env, finish, free_port, interrupt_on_term,
                    judge_flat, parse_ts, read_events, sample_row, start_failed, stop_daemon, stop_groups)

INTERVAL_MS = 250
WARMUP_S = 2
RSS_KIB_S = 256          # RSS leakers, KiB/s
FDS_S = 4                # fd leakers, fds/s
SAWTOOTH_KIB = 512
MATCH_PERMILLE = 100
LINGER_PERMILLE = 100
MIN_RATE = 1000          # forks/s the storm must reach
STOP_WAIT_S = 10

RULES = {"rss": "{ growth: 100M/h }", "fds": "{ growth: 600/h }", "threads": "{ growth: 600/h }"}

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "SUMMARY: AddressSanitizer", "SUMMARY: UndefinedBehaviorSanitizer")


class Target:
    def __init__(self, name, mode, rate, late):
        self.name = name
        self.mode = mode          # steady, rss, fds
        self.rate = rate
        self.late = late
        self.proc = None
        self.started = None

    @property
    def leaks(self):
        return self.mode if self.mode in ("rss", "fds") else None


def make_targets():
    ts = []
    for i in range(4):
        ts.append(Target(f"rss{i}", "rss", RSS_KIB_S, False))
    for i in range(2):
        ts.append(Target(f"fds{i}", "fds", FDS_S, False))
    for i in range(32):
        ts.append(Target(f"steady{i}", "steady", 0, False))
    for i in range(6):
        ts.append(Target(f"saw{i}", "steady", SAWTOOTH_KIB, False))
    ts.append(Target("late-rss", "rss", RSS_KIB_S, True))
    ts.append(Target("late-fds", "fds", FDS_S, True))
    for i in range(4):
        ts.append(Target(f"late-steady{i}", "steady", 0, True))
    return ts


def write_config(path, marker, window_s, port):
    def body():
        return [f"    warmup: {WARMUP_S}s", f"    window: {window_s}s"] + [f"    {k}: {v}" for k, v in RULES.items()]

    out = ["# written by tests/churn_test.py", f"interval: {INTERVAL_MS}ms",
           "metrics:", f"  listen: 127.0.0.1:{port}", "watches:",
           "  - name: churn", "    match:", '      comm: "lwc-target"', f'      cmdline: "{marker}"'] + body()
    out += ["  - name: churn-kids", "    match:", '      comm: "lwc-kid"', "      parent:",
            '        comm: "lwc-storm"', f'        cmdline: "{marker}"'] + body()
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def start_target(t, exe, marker, max_s, work):
    with open(os.path.join(work, "targets.stderr"), "a") as err:
        t.started = time.time()
        t.proc = subprocess.Popen([exe, t.mode, str(t.rate), str(max_s), marker, t.name],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                  start_new_session=True)


def wait_found(events_path, pids, daemon, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline and daemon.poll() is None:
        found = {e.get("pid") for e in read_events(events_path) if e.get("event") == "found"}
        if pids <= found:
            return True
        time.sleep(0.2)
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--daemon", required=True, help="path to leakwatchd")
    ap.add_argument("--seconds", type=float, default=60, help="length of the storm (default 60)")
    ap.add_argument("--rate", type=float, default=3000, help="forks a second (default 3000)")
    ap.add_argument("--sanitized", action="store_true",
                    help="the daemon is built with ASan/LSan: no RSS verdict, check stderr for reports")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"), help="C compiler for the helpers")
    ap.add_argument("--keep", help="keep the work files in this directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every sample as it is taken")
    a = ap.parse_args()

    daemon_path = os.path.abspath(a.daemon)
    if not os.access(daemon_path, os.X_OK):
        print(f"churn: {a.daemon} is not an executable", file=sys.stderr)
        return 2
    if a.seconds < 10:
        print("churn: --seconds must be at least 10", file=sys.stderr)
        return 2
    work = a.keep or tempfile.mkdtemp(prefix="leakwatch-churn-")
    os.makedirs(work, exist_ok=True)
    exes = build_churn_programs(work, a.cc)
    window_s = 20 if a.seconds >= 45 else 10
    sample_s = 2.0 if a.seconds >= 45 else 1.0
    late_at = min(10.0, a.seconds / 5)
    storm_warm = max(5.0, a.seconds / 6)
    max_s = int(a.seconds + 3 * window_s + 120)      # the targets' safety net

    marker = f"lwchurn-{os.getpid()}x{int(time.time()) % 100000}"
    port = free_port()
    cfg = os.path.join(work, "churn.yaml")
    write_config(cfg, marker, window_s, port)
    events_path = os.path.join(work, "events.jsonl")
    err_path = os.path.join(work, "daemon.stderr")
    targets = make_targets()
    early = [t for t in targets if not t.late]
    late = [t for t in targets if t.late]

    interrupt_on_term()
    env = daemon_env(work, "daemon")
    if a.sanitized:
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=1:abort_on_error=0"
        env["UBSAN_OPTIONS"] = env.get("UBSAN_OPTIONS", "") + ":print_stacktrace=1"

    daemon = storm = None
    daemon_rc = None
    storm_out = ""
    samples = []
    died_at = None
    interrupted_run = False
    t_storm = None
    try:
        for t in early:
            start_target(t, exes["lwc-target"], marker, max_s, work)
        with open(events_path, "w") as out, open(err_path, "w") as err:
            daemon = subprocess.Popen([daemon_path, "-c", cfg, "--log-target=json"], stdout=out, stderr=err,
                                      stdin=subprocess.DEVNULL, env=env)
        t0 = time.time()
        if not wait_found(events_path, {t.proc.pid for t in early}, daemon, 30):
            if daemon.poll() is not None:
                return start_failed("churn", "daemon", daemon.poll(), err_path)
            print("churn: the daemon did not find the targets in 30 s")
            return 1
        meter = Meter(daemon.pid, port, t0)
        print(f"churn: {len(early)} targets found; storm of {a.rate:.0f} forks/s for {a.seconds:.0f}s, "
              f"{len(late)} more targets {late_at:.0f}s into it; interval {INTERVAL_MS}ms, window {window_s}s; "
              f"pid_max {meter.pid_max}; work dir {work}", flush=True)

        def take(phase):
            s = meter.sample(phase)
            samples.append(s)
            if a.verbose:
                print(sample_row(s), flush=True)
            return s

        if a.verbose:
            print(SAMPLE_HEADER)
        for _ in range(3):
            take("before")
            time.sleep(sample_s)

        with open(os.path.join(work, "storm.out"), "w") as sout, open(os.path.join(work, "storm.stderr"), "w") as serr:
            t_storm = time.time()
            storm = subprocess.Popen([exes["lwc-storm"], str(a.rate), str(a.seconds), str(MATCH_PERMILLE),
                                      str(LINGER_PERMILLE), marker], stdin=subprocess.DEVNULL, stdout=sout,
                                     stderr=serr, start_new_session=True)
        next_t = time.time() + sample_s
        late_started = False
        while storm.poll() is None:
            if daemon.poll() is not None:
                died_at = time.time()
                break
            if not late_started and time.time() >= t_storm + late_at:
                for t in late:
                    start_target(t, exes["lwc-target"], marker, max_s, work)
                late_started = True
            if time.time() >= next_t:
                take("storm")
                next_t += sample_s
            time.sleep(0.1)
        if not late_started:
            for t in late:
                start_target(t, exes["lwc-target"], marker, max_s, work)

        # after the storm: its lingering children die within 2 s; then wait
        # for the leaks not reported yet, sampling the idle daemon
        leakers = {t.proc.pid: t.mode for t in targets if t.leaks}
        deadline = max(time.time(), max(t.started for t in targets) + 1.5 * window_s + 15)
        time.sleep(2.5)
        while died_at is None:
            if daemon.poll() is not None:
                died_at = time.time()
                break
            take("after")
            got = {(e.get("pid"), e.get("metric")) for e in read_events(events_path) if e.get("event") == "leak"}
            if sum(s["phase"] == "after" for s in samples) >= 3 and \
                    (all((pid, m) in got for pid, m in leakers.items()) or time.time() > deadline):
                break
            time.sleep(sample_s)

        stop_groups([t.proc for t in targets if t.proc])
        if died_at is None:
            deadline = time.time() + 4
            while time.time() < deadline:
                evs = read_events(events_path)
                pids = {t.proc.pid for t in targets}
                if pids <= {e.get("pid") for e in evs if e.get("event") == "gone"}:
                    break
                time.sleep(0.25)
        daemon_rc = stop_daemon(daemon, STOP_WAIT_S)
    except KeyboardInterrupt:
        interrupted_run = True
        print("churn: interrupted", file=sys.stderr)
        return 130
    finally:
        stop_groups([t.proc for t in targets if t.proc] + ([storm] if storm else []))
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        if interrupted_run and not a.keep:
            shutil.rmtree(work, ignore_errors=True)

    try:
        with open(os.path.join(work, "storm.out")) as f:
            storm_out = f.read().strip()
    except OSError:
        pass
    with open(events_path) as f:
        lines = [ln.rstrip("\n") for ln in f if ln.strip()]
    events = read_events(events_path)
    with open(err_path, errors="replace") as f:
        daemon_err = f.read()

    checks = []
    by_pid = {t.proc.pid: t for t in targets}

    # -- the storm itself
    c = Check("storm")
    stats = dict(kv.split("=", 1) for kv in storm_out.split() if "=" in kv)
    try:
        rate = float(stats["rate"])
        c.note(storm_out)
        if rate < MIN_RATE:
            c.fail(f"only {rate:.0f} forks/s, under {MIN_RATE}: the machine is too loaded for this test")
    except (KeyError, ValueError):
        c.fail(f"no statistics from the storm: {storm_out!r}")
    checks.append(c)

    # -- the targets
    found_watch = {}
    for e in events:
        if e.get("event") == "found":
            found_watch.setdefault(e.get("pid"), e.get("watch"))
    c = Check("targets")
    missing = [t.name for t in targets if found_watch.get(t.proc.pid) != "churn"]
    if missing:
        c.fail(f"not found under watch churn: {', '.join(missing)}")
    lt = [parse_ts(e.get("ts")) - t.started for e in events for t in late
          if e.get("event") == "found" and e.get("pid") == t.proc.pid]
    c.note(f"{len(targets) - len(missing)}/{len(targets)} found"
           + (f"; the late ones {min(lt):.1f}-{max(lt):.1f}s after their start" if lt else ""))
    checks.append(c)

    c = Check("leaks")
    delays = []
    for t in targets:
        if not t.leaks:
            continue
        hits = [e for e in events if e.get("event") == "leak" and e.get("pid") == t.proc.pid
                and e.get("metric") == t.leaks]
        if not hits:
            c.fail(f"missed the {t.leaks} leak of {t.name} (pid {t.proc.pid})")
        else:
            delays.append(f"{t.name} {parse_ts(hits[0]['ts']) - t.started:.1f}s")
    c.note("after start: " + ", ".join(delays))
    checks.append(c)

    c = Check("no-false-alarm")
    for e in events:
        kind = e.get("event")
        if kind == "error":
            c.fail(f"error event: {e.get('message')}")
        elif kind in ("leak", "limit"):
            t = by_pid.get(e.get("pid"))
            if t is None:
                c.fail(f"{kind} {e.get('metric')} on pid {e.get('pid')} ({e.get('watch')}), a storm child")
            elif t.leaks != e.get("metric") or kind != "leak":
                c.fail(f"{kind} {e.get('metric')} on {t.name} (pid {t.proc.pid})")
    checks.append(c)

    c = Check("kids")
    kid_found = {"churn": 0, "churn-kids": 0}
    state = {}
    bad_seq = 0
    for e in events:
        kind, pid = e.get("event"), e.get("pid")
        if kind not in ("found", "gone") or pid is None:
            continue
        if kind == "found":
            if pid not in by_pid and e.get("watch") in kid_found:
                kid_found[e.get("watch")] += 1
            if state.get(pid) == "found":
                bad_seq += 1
                if bad_seq <= 3:
                    c.fail(f"pid {pid} found again without a gone in between")
        elif state.get(pid) != "found":
            bad_seq += 1
            if bad_seq <= 3:
                c.fail(f"pid {pid} gone without being found")
        state[pid] = kind
    still = [pid for pid, k in state.items() if k == "found"]
    if still:
        c.fail(f"{len(still)} found pids never gone, e.g. {still[:5]}")
    for w, n in kid_found.items():
        if n == 0:
            c.fail(f"no storm child found under watch {w}")
    c.note(f"children found under churn {kid_found['churn']}, under churn-kids {kid_found['churn-kids']}")
    checks.append(c)

    c = Check("daemon")
    if died_at is not None:
        c.fail(f"died {died_at - t0:.1f}s into the run, status {daemon.returncode}")
    if daemon_rc != 0:
        c.fail(f"exit status {daemon_rc!r} after SIGTERM, not 0")
    nonjson = 0
    for ln in lines:
        try:
            if not isinstance(json.loads(ln), dict):
                nonjson += 1
        except ValueError:
            nonjson += 1
    if nonjson:
        c.fail(f"{nonjson} stdout lines are not event objects")
    marks = [m for m in SANITIZER_MARKS if m in daemon_err]
    if marks:
        c.fail(f"sanitizer report on stderr ({', '.join(marks)}); see {err_path}")
    c.note(f"{len(lines)} events, exit {daemon_rc}" + (", sanitizers quiet" if a.sanitized and not marks else ""))
    checks.append(c)

    # -- the daemon's own figures
    storm_samples = [s for s in samples if s["phase"] == "storm" and s["wall"] >= t_storm + storm_warm]
    if len(storm_samples) < 6:
        c = Check("flat")
        c.fail(f"only {len(storm_samples)} samples in the storm after its warm-up")
        checks.append(c)
    else:
        for name, ok, text in judge_flat(storm_samples, 256, 0.02, check_rss=not a.sanitized):
            c = Check(name)
            if a.sanitized and name != "fds-flat":
                c.note(("" if ok else "(would fail) ") + text + "; not judged under the sanitizers")
            else:
                (c.note if ok else c.fail)(text)
            checks.append(c)
        if a.sanitized:
            c = Check("rss-flat")
            c.note("not judged: ASan keeps freed memory in quarantine; LeakSanitizer checks at exit")
            checks.append(c)
    c = Check("fds-idle")
    before = [s["own_fds"] for s in samples if s["phase"] == "before" and s["own_fds"] is not None]
    after = [s["own_fds"] for s in samples if s["phase"] == "after" and s["own_fds"] is not None]
    if not before or not after:
        c.fail("no consistent idle sample before or after the storm")
    elif min(after) > min(before):
        c.fail(f"own fds {min(before)} before the storm, {min(after)} after")
    else:
        c.note(f"own fds {min(before)} before the storm, {min(after)} after")
    checks.append(c)

    print(SAMPLE_HEADER)
    for s in samples:
        print(sample_row(s))
    print("(own fds: fds - 3 per watched process, '-' when a tick ran during the sample; scan: the last "
          "discovery pass; tick: mean since the previous row; storm rows after "
          f"{storm_warm:.0f}s of storm are judged)")
    return finish("churn", checks, 17, work, a.keep, "config, events, daemon stderr, helpers",
                  events, ("leak", "limit", "error"))


if __name__ == "__main__":
    sys.exit(main())
