#!/usr/bin/python3
"""leakwatch soak: 500 targets at a 200 ms interval for half an hour;
leakwatchd's RSS, fds and scan time must stay flat.

    /usr/bin/python3 tests/soak.py --daemon build/leakwatchd [--ctl build/leakwatchctl]
                                   [--minutes 30] [--keep DIR]

(`make soak` runs it for SOAK_MINUTES, 30 by default.  Not part of `make
check`.)

What runs, all of it for the whole soak:

- 500 targets, programs/churn_target.c built as lwc-target (a few hundred
  KiB each): 482 steady, 12 of them with a 256 KiB sawtooth; 4 leak RSS
  (64 KiB/s) under a watch that recycles them (on_leak: signal TERM,
  kill_after 5s, capture: true, cooldown 20s, so that actions on leakers
  found together are held back and taken in turn; max_actions 60/h, above
  what half an hour needs); 2 leak fds (1/s) under a watch whose on_leak
  is exec: /bin/kill -TERM {pid} (cooldown 20s, max_actions 60/h).  A
  recycled leaker is started again at once (the soak plays its master),
  with a new pid;
- 2 more steady targets whose pids go into pidfiles, watched through
  `pidfile:` (read at every discovery);
- a light fork load: programs/churn_storm.c at 20 forks/s, 10 % matching
  the steady watch for a while, so discovery probes new pids every second
  (and the pids wrap about every half hour at pid_max 32768);
- the daemon: interval 200ms, window W = minutes*60/12 clamped to 30..120 s,
  warm-up 10s, metrics on 127.0.0.1 and in a textfile (rewritten every
  second), history saved every window/48, --log-target=json.  It gets a
  SIGHUP (same config) every 5 minutes (a sixth of a shorter soak),
  /metrics is scraped every 10 s,
  and with --ctl `leakwatchctl status --json` runs every minute.

Every 10 s the daemon is sampled from outside (lwtest.Meter: VmRSS, VmHWM,
fds, CPU; from /metrics the watched count, the last discovery pass's
duration and the ticks).  Every minute one row is printed: elapsed, VmRSS,
VmHWM, fds, own fds (fds - 3 per watched process, the least of the
minute's consistent samples), watched, the median scan and the mean tick
of the minute (wall time), the CPU per tick and CPU % of the minute, and
the leak events and the actions (ok/suppressed) of the minute.

Verdict, over the samples after the warm-up (max(3 W, minutes/6), when
every history is full and the recycling has gone round), first third
against last third (lwtest.judge_flat): VmRSS max +max(256 KiB, 2 %),
own fds floor not higher, median CPU per tick at most 1.25x + 0.25 ms, the
least scan and tick wall times at most 1.5x + 1 ms.  Also:
every leaker that lived long enough (warm-up + 1.5 W + 20 s) was reported
leaking, some actions succeeded, no false alarm on a steady target, no
error event, the reloads all ok, leakwatchctl answered with every target,
and the daemon exits 0 on SIGTERM.  Exit status 1 when any of it fails.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True     # importing lwtest must leave no tests/__pycache__
from lwtest import (Check, Meter, build_churn_programs, daemon_env, free_port, interrupt_on_term, judge_flat, median,
                    parse_ts, read_events, schema_check, start_failed, stop_daemon, stop_groups, checked_json)

INTERVAL_MS = 200
WARMUP_S = 10
N_TARGETS = 500
N_SAW = 12
N_RSS = 4
N_FDS = 2
N_PIDFILE = 2
RSS_KIB_S = 64
FDS_S = 1
SAWTOOTH_KIB = 256
SAMPLE_S = 10
ROW_S = 60
RELOAD_S = 300
FORK_RATE = 20


def write_config(path, marker, window_s, port, textfile, pidfiles):
    rules = ["    rss: { growth: 100M/h }", "    fds: { growth: 600/h }", "    threads: { growth: 600/h }"]
    common = [f"    warmup: {WARMUP_S}s", f"    window: {window_s}s"] + rules
    out = ["# written by tests/soak.py", f"interval: {INTERVAL_MS}ms", "metrics:",
           f"  listen: 127.0.0.1:{port}", f"  textfile: {textfile}", "watches:"]
    out += ["  - name: soak-recycle", "    match:", f'      cmdline: "{marker} rss"'] + common + [
        "    on_leak: signal", "    signal: TERM", "    kill_after: 5s", "    capture: true",
        "    cooldown: 20s", "    max_actions: 60/h"]
    out += ["  - name: soak-exec", "    match:", f'      cmdline: "{marker} fds"'] + common + [
        "    on_leak: exec", '    exec: ["/bin/kill", "-TERM", "{pid}"]', "    exec_timeout: 10s",
        "    cooldown: 20s", "    max_actions: 60/h"]
    for i, pf in enumerate(pidfiles):
        out += [f"  - name: soak-pidfile{i}", "    match:", f"      pidfile: {pf}"] + common
    out += ["  - name: soak", "    match:", '      comm: "lwc-target"', f'      cmdline: "{marker}"'] + common
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


class Slot:
    """One target; a recycled leaker is started again in the same slot."""

    def __init__(self, name, mode, rate):
        self.name = name
        self.mode = mode
        self.rate = rate
        self.proc = None
        self.lives = []          # (pid, started, ended or None)

    def start(self, exe, marker, max_s, err):
        self.proc = subprocess.Popen([exe, self.mode, str(self.rate), str(max_s), marker, self.mode, self.name],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                     start_new_session=True)
        self.lives.append([self.proc.pid, time.time(), None])


def fmt_row(r):
    return (f"{r['min']:5.0f} {r['rss']:9d} {r['hwm']:9d} {r['fds']:5d} {r['own']:>7} {r['watched']:7d} "
            f"{r['scan']:8.2f} {r['tick']:8.2f} {r['cpu_tick']:8.2f} {r['cpu']:6.2f} {r['leaks']:5d} "
            f"{r['actions']:>12}")


ROW_HEADER = (f"{'min':>5} {'VmRSS KiB':>9} {'VmHWM KiB':>9} {'fds':>5} {'own fds':>7} {'watched':>7} "
              f"{'scan ms':>8} {'tick ms':>8} {'CPU/tick':>8} {'CPU %':>6} {'leaks':>5} {'actions ok/s':>12}")


def print_row(samples, row_start, events_path, t0, rows):
    """Print the row of the samples since row_start; the new row start."""
    mine = [x for x in samples if x["wall"] >= row_start["wall"]]
    last = mine[-1]
    evs = [e for e in read_events(events_path)
           if row_start["wall"] <= (parse_ts(e.get("ts")) or 0) < last["wall"]]
    acts = [e for e in evs if e.get("event") == "action"]
    dticks = last["ticks"] - row_start["ticks"]
    owns = [x["own_fds"] for x in mine if x["own_fds"] is not None]
    dt = last["wall"] - row_start["wall"]
    row = {
        "min": (last["wall"] - t0) / 60, "rss": last["rss"], "hwm": last["hwm"], "fds": last["fds"],
        "own": min(owns) if owns else "-", "watched": last["watched"],
        "scan": median(x["scan_ms"] for x in mine),
        "tick": (last["tick_s"] - row_start["tick_s"]) / dticks * 1000 if dticks else 0.0,
        "cpu": (last["cpu"] - row_start["cpu"]) / dt * 100 if dt > 0 else 0.0,
        "cpu_tick": (last["cpu"] - row_start["cpu"]) / dticks * 1000 if dticks else 0.0,
        "leaks": sum(e.get("event") == "leak" for e in evs),
        "actions": f"{sum(e.get('result') == 'ok' for e in acts)}/"
                   f"{sum(e.get('result') == 'suppressed' for e in acts)}",
    }
    rows.append(row)
    print(fmt_row(row), flush=True)
    return last


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--daemon", required=True, help="path to leakwatchd")
    ap.add_argument("--ctl", help="path to leakwatchctl (status --json every minute)")
    ap.add_argument("--minutes", type=float, default=30, help="length of the soak (default 30)")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"), help="C compiler for the helpers")
    ap.add_argument("--keep", help="keep the work files in this directory")
    a = ap.parse_args()

    daemon_path = os.path.abspath(a.daemon)
    if not os.access(daemon_path, os.X_OK):
        print(f"soak: {a.daemon} is not an executable", file=sys.stderr)
        return 2
    if a.minutes < 2:
        print("soak: --minutes must be at least 2", file=sys.stderr)
        return 2
    total_s = a.minutes * 60
    window_s = int(min(120, max(30, total_s / 12)))
    judge_from = max(3 * window_s, total_s / 6)
    detect_s = WARMUP_S + 1.5 * window_s + 20
    work = a.keep or tempfile.mkdtemp(prefix="leakwatch-soak-")
    os.makedirs(work, exist_ok=True)
    exes = build_churn_programs(work, a.cc)
    marker = f"lwsoak-{os.getpid()}x{int(time.time()) % 100000}"
    port = free_port()
    cfg = os.path.join(work, "soak.yaml")
    textfile = os.path.join(work, "leakwatch.prom")
    pidfiles = [os.path.join(work, f"target{i}.pid") for i in range(N_PIDFILE)]
    write_config(cfg, marker, window_s, port, textfile, pidfiles)
    events_path = os.path.join(work, "events.jsonl")
    err_path = os.path.join(work, "daemon.stderr")
    max_s = int(total_s + 600)

    slots = [Slot(f"rss{i}", "rss", RSS_KIB_S) for i in range(N_RSS)]
    slots += [Slot(f"fds{i}", "fds", FDS_S) for i in range(N_FDS)]
    slots += [Slot(f"saw{i}", "steady", SAWTOOTH_KIB) for i in range(N_SAW)]
    slots += [Slot(f"steady{i}", "steady", 0) for i in range(N_TARGETS - len(slots))]
    pid_slots = [Slot(f"pidfile{i}", "pidf", 0) for i in range(N_PIDFILE)]
    leakers = [s for s in slots if s.mode in ("rss", "fds")]

    interrupt_on_term()
    env = daemon_env(work, "daemon")
    daemon = storm = None
    daemon_rc = None
    died_at = None
    samples, rows, ctl_results, reloads = [], [], [], 0
    interrupted_run = False
    terr = open(os.path.join(work, "targets.stderr"), "w")
    try:
        for s in slots:
            s.start(exes["lwc-target"], marker, max_s, terr)
        for s, pf in zip(pid_slots, pidfiles):
            # "pidf" is no mode of lwc-target: run it as steady, marked apart
            s.mode = "steady"
            s.proc = subprocess.Popen([exes["lwc-target"], "steady", "0", str(max_s), "pidfile-target"],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terr,
                                      start_new_session=True)
            s.lives.append([s.proc.pid, time.time(), None])
            with open(pf, "w") as f:
                f.write(f"{s.proc.pid}\n")
        with open(events_path, "w") as out, open(err_path, "w") as err:
            daemon = subprocess.Popen([daemon_path, "-c", cfg, "--log-target=json"], stdout=out, stderr=err,
                                      stdin=subprocess.DEVNULL, env=env)
        t0 = time.time()
        want = {s.proc.pid for s in slots + pid_slots}
        while time.time() < t0 + 60 and daemon.poll() is None:
            found = {e.get("pid") for e in read_events(events_path) if e.get("event") == "found"}
            if want <= found:
                break
            time.sleep(0.5)
        if daemon.poll() is not None:
            return start_failed("soak", "daemon", daemon.poll(), err_path)
        found = {e.get("pid") for e in read_events(events_path) if e.get("event") == "found"}
        if not want <= found:
            print(f"soak: the daemon found {len(want & found)} of {len(want)} targets in 60 s")
            return 1
        with open(os.path.join(work, "storm.out"), "w") as sout:
            storm = subprocess.Popen([exes["lwc-storm"], str(FORK_RATE), str(int(total_s + 60)), "100", "100",
                                      marker], stdin=subprocess.DEVNULL, stdout=sout, stderr=terr,
                                     start_new_session=True)
        meter = Meter(daemon.pid, port, t0)
        print(f"soak: {len(want)} targets found in {time.time() - t0:.1f}s; {a.minutes:g} min at interval "
              f"{INTERVAL_MS}ms, window {window_s}s, {FORK_RATE} forks/s beside; judged from "
              f"{judge_from / 60:.1f} min; work dir {work}", flush=True)
        print(ROW_HEADER, flush=True)

        end = t0 + total_s
        next_sample = time.time()
        next_row = t0 + ROW_S
        reload_s = min(RELOAD_S, total_s / 6)
        next_reload = t0 + reload_s
        row_start = None
        while time.time() < end:
            now = time.time()
            if daemon.poll() is not None:
                died_at = now
                break
            for s in leakers:
                if s.proc.poll() is not None:
                    s.lives[-1][2] = now
                    s.start(exes["lwc-target"], marker, max_s, terr)
            if now >= next_reload:
                daemon.send_signal(signal.SIGHUP)
                reloads += 1
                next_reload += reload_s
            if now >= next_sample:
                smp = meter.sample("soak")
                samples.append(smp)
                if row_start is None:
                    row_start = smp
                next_sample += SAMPLE_S
            if now >= next_row and row_start is not None and samples[-1] is not row_start:
                row_start = print_row(samples, row_start, events_path, t0, rows)
                next_row += ROW_S
                if a.ctl:
                    r = subprocess.run([a.ctl, "status", "--json"], capture_output=True, text=True, env=env,
                                       timeout=30)
                    try:
                        ctl_results.append((r.returncode, len(checked_json("status", r.stdout))))
                    except ValueError:
                        ctl_results.append((r.returncode, None))
            time.sleep(0.5)

        if died_at is None and row_start is not None:
            samples.append(meter.sample("soak"))
            print_row(samples, row_start, events_path, t0, rows)
        stop_groups([s.proc for s in slots + pid_slots if s.proc] + ([storm] if storm else []))
        time.sleep(2)
        daemon_rc = stop_daemon(daemon, 15)
    except KeyboardInterrupt:
        interrupted_run = True
        print("soak: interrupted", file=sys.stderr)
        return 130
    finally:
        stop_groups([s.proc for s in slots + pid_slots if s.proc] + ([storm] if storm else []))
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        terr.close()
        if interrupted_run and not a.keep:
            shutil.rmtree(work, ignore_errors=True)

    events = read_events(events_path)
    checks = []
    t_end = time.time()

    c = Check("daemon")
    if died_at is not None:
        c.fail(f"died {(died_at - t0) / 60:.1f} min into the soak, status {daemon.returncode}")
    if daemon_rc != 0:
        c.fail(f"exit status {daemon_rc!r} after SIGTERM, not 0")
    errors = [e for e in events if e.get("event") == "error"]
    for e in errors[:3]:
        c.fail(f"error event: {e.get('message')}")
    rel = [e for e in events if e.get("event") == "reload"]
    if len(rel) != reloads or any(e.get("result") != "ok" for e in rel):
        c.fail(f"{reloads} SIGHUPs, reload events: {[e.get('result') for e in rel]}")
    if a.ctl:
        bad = [r for r in ctl_results if r[0] != 0 or r[1] is None or r[1] < N_TARGETS]
        if bad or not ctl_results:
            c.fail(f"leakwatchctl status --json: {bad[:3] or 'never ran'}")
    c.note(f"{len(events)} events, {reloads} reloads, exit {daemon_rc}"
           + (f", leakwatchctl answered {len(ctl_results)} times" if a.ctl else ""))
    checks.append(c)

    c = Check("leaks")
    pid_kind = {}
    for s in slots + pid_slots:
        for pid, _, _ in s.lives:
            pid_kind[pid] = s.mode
    lives = reported = 0
    for s in leakers:
        for pid, started, ended in s.lives:
            lived = (ended or t_end) - started
            if any(e.get("event") == "leak" and e.get("pid") == pid and e.get("metric") == s.mode
                   for e in events):
                reported += 1
            elif lived >= detect_s:
                c.fail(f"{s.name}: pid {pid} lived {lived:.0f}s, no {s.mode} leak event")
            else:
                continue
            lives += 1
    acts = [e for e in events if e.get("event") == "action"]
    ok = sum(e.get("result") == "ok" for e in acts)
    supp = sum(e.get("result") == "suppressed" for e in acts)
    failed = [e for e in acts if e.get("result") == "failed"]
    if lives and not ok:
        c.fail("no action succeeded")
    for e in failed[:3]:
        c.fail(f"action failed: {e.get('message')}")
    late = sum(e.get("result") == "ok" and (parse_ts(e.get("ts")) or 0) >= t0 + total_s * 2 / 3 for e in acts)
    c.note(f"{reported} of {lives} leaker lives reported (the others lived under {detect_s:.0f}s); "
           f"actions ok {ok} ({late} in the last third), suppressed {supp}")
    checks.append(c)

    c = Check("no-false-alarm")
    for e in events:
        if e.get("event") in ("leak", "limit"):
            kind = pid_kind.get(e.get("pid"))
            if kind != e.get("metric"):
                c.fail(f"{e.get('event')} {e.get('metric')} on pid {e.get('pid')} ({kind or 'storm child'})")
    checks.append(c)

    judged = [s for s in samples if s["wall"] >= t0 + judge_from]
    print()
    print(f"soak: {len(samples)} samples; {len(judged)} judged (from {judge_from / 60:.1f} min), "
          "first third against last third")
    if len(judged) < 6:
        c = Check("flat")
        c.fail(f"only {len(judged)} samples after the warm-up")
        checks.append(c)
    else:
        for name, good, text in judge_flat(judged, 256, 0.02):
            c = Check(name)
            (c.note if good else c.fail)(text)
            checks.append(c)
        hwm = [s["hwm"] for s in judged]
        print(f"  VmHWM {hwm[0]} -> {hwm[-1]} KiB over the judged part; VmRSS range "
              f"{min(s['rss'] for s in judged)}..{max(s['rss'] for s in judged)} KiB; fds range "
              f"{min(s['fds'] for s in judged)}..{max(s['fds'] for s in judged)}")
    checks.append(schema_check())
    for ch in checks:
        print(ch.line(17))
    passed = sum(ch.ok for ch in checks)
    failed_n = len(checks) - passed
    if len(judged) < 6:
        verdict = "NOT JUDGED (too short)"
    else:
        verdict = "FLAT" if all(ch.ok for ch in checks if ch.name.endswith("-flat")) else "NOT FLAT"
    print(f"soak verdict: {verdict}; {passed} passed, {failed_n} failed")
    if failed_n:
        print(f"(work files kept in {work})")
    elif not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed_n else 0


if __name__ == "__main__":
    sys.exit(main())
