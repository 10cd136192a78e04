#!/usr/bin/python3
"""leakwatch race test: the real daemon among processes that exit as soon as
they are found, and pids that go to a new process at once.

    /usr/bin/python3 tests/race_test.py --daemon build/leakwatchd [--ctl build/leakwatchctl]
                                        [--keep DIR] [-v]

It runs itself again as the init of a new pid namespace (`unshare --pid
--fork --mount-proc`), with the daemons, so that it can hand a chosen pid
to the next process through /proc/sys/kernel/ns_last_pid.  Without root or
without namespaces it says SKIP and exits 0.

1. storm (interval 100ms): for STORM_S seconds, a stream of short `sleep`s,
   "victims" that a watch matches and "bystanders" that it does not, living
   up to 1.2 s, and victims that exit right after exec (`true`) or within
   30 ms: some are found by a discovery and gone before their first sample
   (the check insists on at least one).  For the second half the pids are
   drawn from a small range again and again, so a victim's pid goes to a
   bystander or another victim within milliseconds.  Every victim is over
   its limit at its first sample (rss max 1K) and is signalled (TERM,
   kill_after 300ms; half the long ones ignore TERM, and get the SIGKILL if
   they live on).  Checks: no bystander dies of a signal (with enough
   reuse to mean something); per pid, the events go found, (limit|action)*,
   gone, and there is no leak or error event; every process found is gone
   at the end and `leakwatchctl status` is empty; the daemon has the same
   fds as before the storm.
2. reuse (interval 1s, so that each tick's discovery comes before its
   samples): A, found and watched, goes over its limit and is sent TERM
   (kill_after 3s); it exits, and B, a `sleep` with every signal blocked
   that the same watch matches, is forked at once with A's pid.  Checks:
   A's gone comes before B's found, and B is found within 2 ticks (not at
   the next full scan, a minute later); B's history is its own (its start
   time, its samples only), and it has no limit or action; when A's
   kill_after is past, B is alive and has no signal pending, and the only
   action is A's TERM.

Both daemons must stop with status 0 on SIGTERM.  One PASS/FAIL line per
check, then `race: N passed, M failed`; exit status 1 on any failure.  About
20 s.
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True     # importing lwtest must leave no tests/__pycache__
from lwtest import (PROGRAMS, PYTHON, Check, Daemon, finish, interrupt_on_term, parse_ts, start_failed, yq)

STORM_INTERVAL = "100ms"
STORM_S = 8.0                  # the second half with pids drawn from a small range
STORM_LIVE = 40                # sleeps alive at once, natural pids
STORM_LIVE_CYCLING = 16        # ... and with the small range
STORM_MAX_LIFE_S = 1.2
STORM_RANGE = 24               # the pids [base, base + STORM_RANGE) again and again
STORM_BASE = 20000
STORM_KILL_AFTER_MS = 300
STORM_FLASH = 3                # sleeps of at most STORM_FLASH_LIFE_S, at every turn
STORM_FLASH_LIFE_S = 0.03
SETTLE_S = 1.5                 # for the daemon to see the last exits

REUSE_INTERVAL_S = 1
REUSE_KILL_AFTER_S = 3
REUSE_MAX = "40M"              # A (16 MiB/s) is over it ~2 s after it starts; B (sleep) never
REUSE_RATE_KIB = 16384


def set_last_pid(pid):
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write(str(pid))


def t_of(e):
    return parse_ts(e.get("ts"), lowercase_z=False) if e else None


def proc_status(pid):
    """{field: value} of /proc/PID/status, or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return dict(ln.rstrip("\n").split(":\t", 1) for ln in f if ":\t" in ln)
    except OSError:
        return None


def pending(pid):
    """What has reached pid (all its signals blocked): '' if nothing."""
    st = proc_status(pid)
    if st is None:
        return "its /proc/PID/status is gone"
    mask = int(st.get("SigPnd", "0"), 16) | int(st.get("ShdPnd", "0"), 16)
    names = [signal.Signals(n).name if n in signal.valid_signals() else str(n)
             for n in range(1, 65) if mask & (1 << (n - 1))]
    if names:
        return "signals pending: " + " ".join(names)
    if not st.get("State", "").startswith("S"):
        return f"state {st.get('State')}"
    return ""


def capped(check, problems, n=10):
    """The first n problems as failures of check, then how many in all."""
    for p in problems[:n]:
        check.fail(p)
    if len(problems) > n:
        check.fail(f"... {len(problems)} in all")


def fds_of(pid):
    try:
        return sorted(os.readlink(f"/proc/{pid}/fd/{n}") for n in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def write_config(path, work, interval, watches):
    out = ["# written by tests/race_test.py", f"interval: {interval}",
           f"state_dir: {yq(os.path.join(work, 'state'))}", "watches:"]
    for name, regex, lines in watches:
        out += [f"  - name: {name}", "    match:", f"      cmdline: {yq(regex)}"]
        out += [f"    {ln}" for ln in lines]
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


# ----------------------------------------------------------------------------
# 1. storm

class Storm:
    """Short processes of two kinds, spawned and reaped by pid."""

    def __init__(self, rid):
        self.tok = {"victim": f"0.0001{rid}", "bystander": f"0.0002{rid}"}   # sleep adds them up
        self.live = {}
        self.recs = []

    def spawn(self, kind, life, ignore_term=False, at=None, true=False, flash=False):
        argv = ["true", self.tok[kind]] if true else ["sleep", f"{life:.3f}", self.tok[kind]]
        old = signal.signal(signal.SIGTERM, signal.SIG_IGN) if ignore_term else None
        try:
            if at is not None:
                set_last_pid(at - 1)
            t = time.time()
            pid = os.posix_spawn("/bin/true" if true else "/bin/sleep", argv, os.environ)
        finally:
            if old is not None:
                signal.signal(signal.SIGTERM, old)   # a handled signal is reset by exec: TERM by default
        rec = {"pid": pid, "kind": kind, "true": true, "flash": flash, "ignore_term": ignore_term, "start": t,
               "end": None, "status": None}
        self.live[pid] = rec
        self.recs.append(rec)

    def reap(self):
        for pid in list(self.live):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if done == pid:
                rec = self.live.pop(pid)
                rec["end"] = time.time()
                rec["status"] = os.waitstatus_to_exitcode(status)

    def run(self, seconds):
        t0 = time.time()
        i = 0
        while time.time() < t0 + seconds:
            self.reap()
            cycling = time.time() >= t0 + seconds / 2
            while len(self.live) < (STORM_LIVE_CYCLING if cycling else STORM_LIVE):
                kind = random.choice(("victim", "bystander"))
                self.spawn(kind, random.uniform(0, STORM_MAX_LIFE_S / (3 if cycling else 1)),
                           ignore_term=kind == "victim" and i % 2 == 0,
                           at=STORM_BASE + i % STORM_RANGE if cycling else None)
                i += 1
            # exit right after exec, or within a few ms: found, if at all,
            # by a discovery that their first sample comes too late for
            self.spawn("victim", 0, true=True, at=STORM_BASE + i % STORM_RANGE if cycling else None)
            i += 1
            for _ in range(STORM_FLASH):
                self.spawn("victim", random.uniform(0, STORM_FLASH_LIFE_S), flash=True,
                           at=STORM_BASE + i % STORM_RANGE if cycling else None)
                i += 1
            time.sleep(0.005)
        while self.live:
            self.reap()
            time.sleep(0.01)

    def stop(self):
        for pid in list(self.live):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.reap()


def check_storm(d, storm, fds_before, fds_after, status_after):
    W = "storm"
    evs = d.events()
    recs = storm.recs
    victims = [r for r in recs if r["kind"] == "victim" and not r["true"] and not r["flash"]]
    flashes = [r for r in recs if r["flash"]]
    bystanders = [r for r in recs if r["kind"] == "bystander"]
    by_pid = {}
    for r in recs:
        by_pid.setdefault(r["pid"], []).append(r)
    reused = sum(len(v) - 1 for v in by_pid.values())
    handovers = 0
    for rs in by_pid.values():
        rs = sorted(rs, key=lambda r: r["start"])
        handovers += sum(1 for a, b in zip(rs, rs[1:]) if a["kind"] == "victim" and b["kind"] == "bystander"
                         and b["start"] - a["end"] < 0.1)

    c1 = Check("storm: bystanders untouched")
    capped(c1, [f"bystander pid {r['pid']} ended with {r['status']} (lived {r['end'] - r['start']:.2f}s)"
                for r in bystanders if r["status"] != 0])
    if reused < 50 or handovers < 20:
        c1.fail(f"too little reuse to prove anything: a pid reused {reused} times, {handovers} times "
                f"a victim's by a bystander within 100ms")
    c1.note(f"{len(bystanders)} bystanders; a pid reused {reused} times, {handovers} times a victim's by a "
            f"bystander within 100ms")

    c2 = Check("storm: events in order")
    watched = {}               # pid -> watched now
    sampled = {}               # pid -> a limit since its found
    counts = {}
    unsampled = 0              # found, then gone before a first sample
    bad = []
    for e in evs:
        kind = e.get("event")
        counts[kind] = counts.get(kind, 0) + 1
        if kind in ("error", "leak"):
            bad.append(f"{kind} event: {e.get('message')}")
            continue
        if e.get("watch") != W or kind not in ("found", "gone", "limit", "action"):
            continue
        pid = e.get("pid")
        if kind == "found":
            if watched.get(pid):
                bad.append(f"pid {pid} found twice without a gone between")
            watched[pid] = True
            sampled[pid] = False
        elif kind == "gone":
            if not watched.get(pid):
                bad.append(f"pid {pid} gone without being found")
            unsampled += not sampled.get(pid)
            watched[pid] = False
        elif not watched.get(pid):
            bad.append(f"{kind} for pid {pid}, not watched then: {e.get('message')}")
        elif kind == "limit":
            sampled[pid] = True
            if not (e.get("value") or 0) > 1024:
                bad.append(f"limit with value {e.get('value')}: {e.get('message')}")
    capped(c2, bad)
    acts = [e for e in evs if e.get("event") == "action" and e.get("watch") == W]
    ok_term = sum(1 for a in acts if a.get("result") == "ok" and "sent SIGTERM" in a.get("message", ""))
    ok_kill = sum(1 for a in acts if a.get("result") == "ok" and "SIGKILL" in a.get("message", ""))
    if counts.get("found", 0) < 30 or ok_term < 20 or unsampled < 1:
        c2.fail(f"too few processes found ({counts.get('found', 0)}), signalled ({ok_term}) or gone "
                f"before a first sample ({unsampled}) to prove anything")
    c2.note(f"{len(victims)} victims, {len(flashes)} short ones, "
            f"{len(recs) - len(victims) - len(flashes) - len(bystanders)} trues; found "
            f"{counts.get('found', 0)} (gone before a first sample {unsampled}), limit {counts.get('limit', 0)}, "
            f"TERM {ok_term}, kill_after {ok_kill}, failed {sum(1 for a in acts if a.get('result') == 'failed')}")

    c3 = Check("storm: nothing left watched")
    left = sorted(p for p, w in watched.items() if w)
    if left:
        c3.fail(f"found, never gone: {left[:10]}")
    if status_after is None:
        c3.fail("leakwatchctl status --json failed")
    elif any(p.get("watch") == W for p in status_after):
        c3.fail(f"still watched: {[p.get('pid') for p in status_after if p.get('watch') == W][:10]}")

    c4 = Check("storm: no fd leak")
    if fds_before is None or fds_after is None:
        c4.fail("the daemon's fds could not be read")
    elif fds_after != fds_before:
        extra = [f for f in fds_after if f not in fds_before]
        c4.fail(f"{len(fds_before)} fds before the storm, {len(fds_after)} after; new: {extra[:8]}")
    else:
        c4.note(f"{len(fds_before)} fds before and after")
    return [c1, c2, c3, c4]


def run_storm(a, work, rid, verbose):
    cfg = os.path.join(work, "storm.yaml")
    storm = Storm(rid)
    write_config(cfg, work, STORM_INTERVAL, [
        ("storm", "0\\.0001" + rid, [
            "window: 8s", "rss: { max: 1K, growth: 100M/h }", "fds: { max: 10000 }",
            "on_leak: signal", "on_limit: signal", "signal: TERM",
            f"kill_after: {STORM_KILL_AFTER_MS}ms", "cooldown: 0s", "max_actions: 1000000/1h"]),
    ])
    d = Daemon("storm", a.daemon, cfg, work, ctl=a.ctl)
    d.start()
    try:
        if not d.wait_started():
            return None, d
        time.sleep(0.5)
        d.ctl_json("status")      # whatever the daemon opens lazily, open before the count
        fds_before = fds_of(d.proc.pid)
        print(f"race: storm for {STORM_S:.0f}s", flush=True)
        storm.run(STORM_S)
        time.sleep(SETTLE_S)
        fds_after = fds_of(d.proc.pid)
        status_after = d.ctl_json("status")
        d.stop()
    finally:
        storm.stop()
        d.kill()
    if verbose:
        for e in d.events():
            print("  [storm] " + json.dumps(e))
    checks = check_storm(d, storm, fds_before, fds_after, status_after)
    return checks, d


# ----------------------------------------------------------------------------
# 2. reuse

def run_reuse(a, work, rid, verbose):
    tok = f"0.0003{rid}"
    cfg = os.path.join(work, "reuse.yaml")
    write_config(cfg, work, f"{REUSE_INTERVAL_S}s", [
        ("reuse", "0\\.0003" + rid, [
            "window: 1m", f"rss: {{ max: {REUSE_MAX}, for: 1 }}", "on_limit: signal", "signal: TERM",
            f"kill_after: {REUSE_KILL_AFTER_S}s", "cooldown: 0s", "max_actions: 1000/1h"]),
    ])
    d = Daemon("reuse", a.daemon, cfg, work, ctl=a.ctl)
    c = Check("reuse: pid handed on")
    checks = [c]
    A = B = None
    try:
        d.start()
        if not d.wait_started():
            return None, d
        print("race: pid reuse", flush=True)
        a_start = time.time()
        A = subprocess.Popen([PYTHON, "-B", os.path.join(PROGRAMS, "act_leaker.py"), "--rate",
                              str(REUSE_RATE_KIB), "--tag", tok, "--seconds", "30"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        # a pid after A's: B's pid (A's) is then below the newest, and no
        # discovery can take it for one allocated before its last
        subprocess.run(["true"])
        deadline = time.time() + 15
        while A.poll() is None and time.time() < deadline:
            time.sleep(0.002)
        if A.returncode is None:
            c.fail("A was never signalled (no exit in 15 s)")
            return checks, d
        # A exited (of the TERM: it exits 0) and is reaped: its pid goes to B now
        set_last_pid(A.pid - 1)
        b_start = time.time()
        B = os.posix_spawn("/bin/sleep", ["sleep", "1000", tok], os.environ,
                           setsigmask=signal.valid_signals())
        if B != A.pid:
            c.fail(f"B got pid {B}, not A's {A.pid}")
            return checks, d
        c.note(f"A {A.pid} exited {A.returncode} after {b_start - a_start:.1f}s; B took its pid")
        acts = []
        while time.time() < b_start + REUSE_KILL_AFTER_S + 2:
            time.sleep(0.1)
            acts = [e for e in d.events() if e.get("event") == "action"]
            if acts and time.time() > t_of(acts[0]) + REUSE_KILL_AFTER_S + 1.5:
                break
        hist = d.ctl_json("history", str(B))
        status = d.ctl_json("status")
        touched = pending(B)
        d.stop()
    finally:
        if B:
            try:
                os.kill(B, signal.SIGKILL)
                os.waitpid(B, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        if A and A.poll() is None:
            A.kill()
            A.wait()
        d.kill()
    evs = [e for e in d.events() if e.get("pid") == B]
    if verbose:
        for e in d.events():
            print("  [reuse] " + json.dumps(e))
    seq = [e.get("event") for e in evs]
    found = [e for e in evs if e.get("event") == "found"]
    gone = [e for e in evs if e.get("event") == "gone"]

    c2 = Check("reuse: B found afresh")
    if seq[:5] != ["found", "limit", "action", "gone", "found"]:
        c2.fail(f"events for pid {B}: {seq}, expected found, limit, action, gone, found")
    if len(found) >= 2:
        delay = t_of(found[1]) - b_start
        if delay > 2 * REUSE_INTERVAL_S + 0.5:
            c2.fail(f"B found {delay:.1f}s after it started")
        if gone and t_of(gone[0]) > t_of(found[1]):
            c2.fail("B found before A's gone")
        c2.note(f"found {delay:.2f}s after its start")
    else:
        c2.fail(f"B never found (waited {time.time() - b_start:.1f}s)")

    c3 = Check("reuse: B's history its own")
    if hist is None:
        c3.fail(f"leakwatchctl history {B} failed")
    else:
        started = parse_ts(hist.get("started"), lowercase_z=False)
        times = [parse_ts(k.get("t"), lowercase_z=False) for k in hist.get("rss", [])]
        n = sum(k.get("samples", 0) for k in hist.get("rss", []))
        if started is None or abs(started - b_start) > 0.5:
            c3.fail(f"started {hist.get('started')}: {started - b_start if started else 0:+.2f}s from B's start "
                    f"({b_start - a_start:.1f}s after A's)")
        if not times or min(times) < b_start - 0.1:
            c3.fail(f"a sample from {min(times) - b_start if times else 0:+.2f}s before B started")
        if found and len(found) >= 2 and n > (time.time() - t_of(found[1])) / REUSE_INTERVAL_S + 2:
            c3.fail(f"{n} samples in B's history, more than B has lived")
        c3.note(f"started {started - b_start if started else 0:+.2f}s from B's start, "
                f"{n} samples, the first bucket {min(times) - b_start if times else 0:+.2f}s")
    if any(p.get("pid") == B and p.get("rss", {}).get("verdict") == "limit" for p in status or []):
        c3.fail("B's verdict is limit (A's?)")
    after = [e for e in evs[4:] if e.get("event") in ("limit", "leak", "action", "gone")]
    for e in after:
        c3.fail(f"{e.get('event')} after B was found: {e.get('message')}")

    c4 = Check("reuse: no signal reaches B")
    acts = [e for e in d.events() if e.get("event") == "action"]
    if len(acts) != 1 or acts[0].get("result") != "ok" or "sent SIGTERM" not in acts[0].get("message", ""):
        c4.fail(f"actions: {[x.get('message') for x in acts]}, expected A's SIGTERM alone")
    elif time.time() < t_of(acts[0]) + REUSE_KILL_AFTER_S:
        c4.fail("checked before A's kill_after was past")
    if touched:
        c4.fail(f"B (pid {B}): {touched}")
    else:
        c4.note(f"B alive, nothing pending, {REUSE_KILL_AFTER_S}s kill_after of A past")
    checks += [c2, c3, c4]
    return checks, d


# ----------------------------------------------------------------------------

def inner(a):
    work = os.path.abspath(a.keep) if a.keep else tempfile.mkdtemp(prefix="leakwatch-race-")
    os.makedirs(os.path.join(work, "state"), exist_ok=True)
    rid = f"{os.getppid() % 100000:05d}{int(time.time() * 1000) % 10 ** 6:06d}"
    interrupt_on_term()
    results, daemons = [], []
    try:
        for run in (run_storm, run_reuse):
            checks, d = run(a, work, rid, a.verbose)
            daemons.append(d)
            if checks is None:
                return start_failed("race", f"daemon {d.name}", d.proc.poll(), d.err)
            results += checks
    except KeyboardInterrupt:
        print("race: interrupted", file=sys.stderr)
        return 130
    c = Check("daemons")
    for d in daemons:
        if d.rc != 0:
            c.fail(f"{d.name}: exit {d.rc!r} after SIGTERM, not 0")
    c.note(", ".join(f"{d.name} exit {d.rc}" for d in daemons))
    results.append(c)
    # on a failure, the storm's errors and leaks, and all of the reuse
    events = [e for d in daemons for e in d.events()
              if d.name == "reuse" or e.get("event") in ("error", "leak")]
    return finish("race", results, 28, work, a.keep, "configs, events and daemon stderr", events,
                  ("error", "leak", "found", "limit", "action", "gone"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--daemon", required=True, help="path to leakwatchd")
    ap.add_argument("--ctl", help="path to leakwatchctl (default: beside the daemon)")
    ap.add_argument("--keep", help="keep the configs, events and logs in this directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every event")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    a.daemon = os.path.abspath(a.daemon)
    a.ctl = os.path.abspath(a.ctl or os.path.join(os.path.dirname(a.daemon), "leakwatchctl"))
    for p in (a.daemon, a.ctl):
        if not os.access(p, os.X_OK):
            print(f"race: {p} is not an executable", file=sys.stderr)
            return 2
    if a.inner:
        return inner(a)

    if os.geteuid() != 0:
        print("race: SKIP: needs root (a pid namespace, ns_last_pid)")
        return 0
    unshare = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"]
    if not shutil.which("unshare") or subprocess.run(unshare + ["true"], capture_output=True).returncode:
        print("race: SKIP: cannot make a pid namespace (unshare --pid --fork --mount-proc)")
        return 0
    argv = unshare + ["--", PYTHON, "-B", os.path.abspath(__file__), "--inner", "--daemon", a.daemon,
                      "--ctl", a.ctl] + (["--keep", a.keep] if a.keep else []) + (["-v"] if a.verbose else [])
    p = subprocess.Popen(argv)
    try:
        return p.wait()
    except KeyboardInterrupt:
        p.terminate()       # unshare --kill-child: the namespace's init dies, and all in it
        p.wait()
        return 130


if __name__ == "__main__":
    sys.exit(main())
