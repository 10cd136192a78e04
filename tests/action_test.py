#!/usr/bin/python3
"""leakwatch action test: the real daemon acting on real leaking processes.

    /usr/bin/python3 tests/action_test.py --daemon build/leakwatchd [--keep DIR] [-v]

One daemon (leakwatchd --log-target=json) runs every action case side by
side for RUN_S seconds, with interval 250ms, warm-up 1s and window 8s, so a
steady leak is reported about 10 s after its process starts; two more short
daemons run the dry-run cases at the same time.  The cases:

1. prefork: a respawning pre-forking master (programs/act_prefork.py, 3
   workers, slot 1 leaks 1 MiB/s); the watch takes the workers through
   `parent: {cmdline: MARKER}` with on_leak: signal, TERM, kill_after 5s,
   cooldown 1s.  Only the leaking slot's workers are signalled (result ok),
   each dies of that SIGTERM and the master forks a new pid in its slot,
   which is `found` afresh and reported only after a whole window of its own
   history; the healthy workers are never acted on nor replaced; the slot
   is recycled at least twice.
2. exec: exec_timeout 2s on `sh -c "...; sleep 60"` -> failed, "timed out",
   about 2 s after the leak, and the sleep (its argv carries a marker) does
   not survive; `sh -c "exit 3"` -> failed, "exit status 3"; a recording
   command -> ok, with {pid}/{watch}/{metric} substituted in its argv and
   LEAKWATCH_PID/WATCH/METRIC/EVENT/VALUE in its environment.
3. cooldown and max_actions: five fast leakers started on a schedule under
   one watch (cooldown 3s, max_actions 2/1m): exactly 2 ok, then suppressed
   (the arithmetic is at BURST_STARTS).
   Also kill_after: a leaker that ignores SIGTERM gets SIGTERM, then SIGKILL
   kill_after (2s) later.
4. dry-run: `--dry-run` and `dry_run: true` daemons report `dry-run` and the
   leaker (on_leak: signal, signal KILL) stays alive.

Every program runs in its own session and is killed with its whole process
group at the end, also on an exception, ^C or SIGTERM; anything left that
carries this run's marker is killed by pid.  One PASS/FAIL line per check,
then `action: N passed, M failed`; exit status 1 on any failure.  About 50 s.
"""

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time

sys.dont_write_bytecode = True     # importing lwtest must leave no tests/__pycache__
from lwtest import (PROGRAMS, PYTHON, Check, Daemon, Prog, cmdlines, finish, interrupt_on_term, of, parse_ts,
                    read_jsonl, start_failed, stop_groups, yq)

INTERVAL_MS = 250
WARMUP_S = 1
WINDOW_S = 8
GROWTH = "100M/h"          # 1 MiB/s is 3.5G/h: far above; flat workers far below
RUN_S = 42                 # how long everything runs
MIB = 1024 * 1024

PREFORK_WORKERS = 3
PREFORK_LEAK_SLOT = 1
PREFORK_RATE_KIB = 1024
PREFORK_KILL_AFTER_S = 5
MIN_RECYCLES = 2

EXEC_TIMEOUT_S = 2
KILL_AFTER_S = 2

# Case 3.  A steady leak is reported about 9.2 s after its process is first
# seen: the fit is ready once the history spans 47 of the window's 48 buckets
# (8 s * 47/48 = 7.8 s) and a leak verdict must then hold for 3 fits over at
# least window/6 = 1.3 s; the process is first seen at the next discovery
# scan (at most once a second), so leak ~ start + 9.2..10.5 s.  Hence:
#
#   leaker  start   leak     gate (cooldown 3s, max_actions 2/1m)
#   A       0.0 s   ~10 s    ok (the first action)
#   B       0.5 s   ~10.5 s  suppressed: cooldown (0..1.5 s after A's action;
#                            if B is reported first, B is ok and A is the
#                            cooldown one: the two are told apart by time)
#   C       6.0 s   ~16 s    ok: ~6 s after the last action (> 3 s), and only
#                            1 action in the last minute (< 2)
#   D      12.0 s   ~22 s    suppressed: max_actions (~6 s after C, past the
#                            cooldown; 2 actions in the last minute)
#   E      18.0 s   ~28 s    suppressed: max_actions (same)
#
# A withheld action is asked again while the leak lasts, and taken once the
# gate opens: the one suppressed by cooldown at ~10.5 s is signalled when
# the cooldown ends, ~3 s after the first action (~13 s; 1 action in the last
# minute < 2).  C's leak at ~16 s then meets the cooldown (if it comes within
# 3 s of that retry) or max_actions (2 in the last minute), D and E meet
# max_actions, and their retries stay gated for the rest of the minute, past
# the end of the run.  So exactly 6 action events, in time order: ok,
# suppressed (cooldown), ok (the retry, same pid as the suppressed one, at
# least 3 s after the first ok), suppressed (either reason), suppressed
# (max_actions), suppressed (max_actions); the two ok leakers are dead, the
# other three still alive.
BURST_STARTS = [0.0, 0.5, 6.0, 12.0, 18.0]
BURST_RATE_KIB = 2048
BURST_COOLDOWN_S = 3
BURST_MAX = "2/1m"
BURST_EXPECT = [("ok", None), ("suppressed", "cooldown"), ("ok", None), ("suppressed", None),
                ("suppressed", "max_actions"), ("suppressed", "max_actions")]


def alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
        return st[st.rindex(")") + 2] not in "ZX"
    except (OSError, ValueError, IndexError):
        return False


def kill_progs(progs):
    stop_groups([p.proc for p in progs if p.proc is not None])


def sweep(token):
    """Kill (by pid) what is left that carries this run's token; return their cmdlines."""
    left = {pid: c for pid, c in cmdlines().items() if token in c and pid != os.getpid()}
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return left


def t_of(e):
    return parse_ts(e.get("ts"), lowercase_z=False) if e else None


# ----------------------------------------------------------------------------
# configuration

def watch_lines(name, match, extra):
    out = [f"  - name: {name}", "    match:"]
    for k, v in match.items():
        if isinstance(v, dict):
            out.append(f"      {k}:")
            out += [f"        {kk}: {yq(vv)}" for kk, vv in v.items()]
        else:
            out.append(f"      {k}: {yq(v)}")
    out += [f"    warmup: {WARMUP_S}s", f"    window: {WINDOW_S}s", f"    rss: {{growth: {GROWTH}}}"]
    for k, v in extra.items():
        if isinstance(v, list):
            v = "[" + ", ".join(yq(x) for x in v) + "]"
        out.append(f"    {k}: {v}")
    return out


def write_config(path, work, watches, dry_run=False):
    out = ["# written by tests/action_test.py", f"interval: {INTERVAL_MS}ms",
           f"state_dir: {yq(os.path.join(work, 'state'))}"]
    if dry_run:
        out.append("dry_run: true")
    out.append("watches:")
    for w in watches:
        out += watch_lines(*w)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


# ----------------------------------------------------------------------------
# checks

def check_prefork(events, log_path, master_pid, stop_t):
    W = "prefork-workers"
    recs = read_jsonl(log_path)
    spawns = [r for r in recs if r.get("ev") == "spawn"]
    exits = {r["pid"]: r for r in recs if r.get("ev") == "exit"}
    stop_rec = [r["t"] for r in recs if r.get("ev") == "stop"]
    stop_t = stop_rec[0] if stop_rec else stop_t
    slot_of = {r["pid"]: r["slot"] for r in spawns}
    spawn_t = {r["pid"]: r["t"] for r in spawns}
    leaky = [r["pid"] for r in spawns if r["slot"] == PREFORK_LEAK_SLOT]
    healthy = [r["pid"] for r in spawns if r["slot"] != PREFORK_LEAK_SLOT]
    acts = of(events, "action", W)
    found = {e["pid"]: e for e in reversed(of(events, "found")) if "pid" in e}
    leaks = {}
    for e in of(events, "leak", W):
        leaks.setdefault(e.get("pid"), e)

    c1 = Check("prefork: leaking slot only")
    if not spawns:
        c1.fail(f"no spawn records in {log_path}")
    for a in acts:
        pid = a.get("pid")
        if pid not in leaky:
            c1.fail(f"action on pid {pid} (slot {slot_of.get(pid, 'not a worker')}): {a.get('message')}")
            continue
        if a.get("action") != "signal" or a.get("result") != "ok" or "SIGTERM" not in a.get("message", ""):
            c1.fail(f"pid {pid}: action {a.get('action')} result {a.get('result')}: {a.get('message')}")
        lk = leaks.get(pid)
        if lk is None:
            c1.fail(f"pid {pid}: action without a leak event")
        elif not 0 <= t_of(a) - t_of(lk) <= 1:
            c1.fail(f"pid {pid}: action {t_of(a) - t_of(lk):+.2f}s after its leak event")
    per_pid = {}
    for a in acts:
        per_pid[a.get("pid")] = per_pid.get(a.get("pid"), 0) + 1
    for pid, n in sorted(per_pid.items()):
        if n != 1:
            c1.fail(f"pid {pid} has {n} action events (the worker dies of SIGTERM: kill_after "
                    f"must find nothing left to kill)")
    if any(a.get("pid") == master_pid for a in of(events, "action")):
        c1.fail("the master was acted on")
    if c1.ok:
        c1.note(f"{len(acts)} signal actions, all on slot {PREFORK_LEAK_SLOT}")

    c2 = Check("prefork: slot recycled")
    recycled = 0
    for pid in leaky:
        a = [x for x in acts if x.get("pid") == pid and x.get("result") == "ok"]
        ex = exits.get(pid)
        if not a:
            if ex and ex["t"] < stop_t:
                c2.fail(f"leaking worker {pid} exited ({ex['status']}) without an action")
            continue
        if not ex:
            c2.fail(f"worker {pid} was signalled but never exited")
            continue
        if ex["status"] != "signal TERM":
            c2.fail(f"worker {pid} ended with {ex['status']}, not SIGTERM")
        if ex["t"] < t_of(a[0]) - 0.05:
            c2.fail(f"worker {pid} exited {t_of(a[0]) - ex['t']:.2f}s before the action")
        nxt = [q for q in leaky if spawn_t[q] >= ex["t"]]
        if not nxt:
            c2.fail(f"no new worker in slot {PREFORK_LEAK_SLOT} after pid {pid} exited")
            continue
        if nxt[0] == pid:
            c2.fail(f"the replacement of {pid} has the same pid")
        recycled += 1
    if recycled < MIN_RECYCLES:
        c2.fail(f"slot {PREFORK_LEAK_SLOT} recycled {recycled} times in {RUN_S}s, "
                f"expected at least {MIN_RECYCLES}")
    c2.note(f"slot {PREFORK_LEAK_SLOT} pids {leaky}, recycled {recycled}x")

    c3 = Check("prefork: healthy untouched")
    for slot in range(PREFORK_WORKERS):
        if slot == PREFORK_LEAK_SLOT:
            continue
        pids = [r["pid"] for r in spawns if r["slot"] == slot]
        if len(pids) != 1:
            c3.fail(f"slot {slot} spawned {len(pids)} times: {pids}")
    for pid in healthy:
        ex = exits.get(pid)
        if ex and ex["t"] < stop_t:
            c3.fail(f"healthy worker {pid} (slot {slot_of[pid]}) exited: {ex['status']}")
        if found.get(pid, {}).get("watch") != W:
            c3.fail(f"healthy worker {pid} found under {found.get(pid, {}).get('watch')!r}, not {W!r}")
        bad = [e for e in events if e.get("pid") == pid and e.get("event") in ("leak", "limit", "action")]
        for e in bad:
            c3.fail(f"healthy worker {pid}: {e.get('event')} event: {e.get('message')}")
    c3.note(f"healthy pids {healthy}")

    c4 = Check("prefork: watched afresh")
    delays = []
    for pid in leaky:
        f = found.get(pid)
        if f is None:
            if spawn_t[pid] < stop_t - 2:
                c4.fail(f"worker {pid} (spawned {stop_t - spawn_t[pid]:.1f}s before the stop) never found")
            continue
        if f.get("watch") != W:
            c4.fail(f"worker {pid} found under {f.get('watch')!r}")
        if t_of(f) < spawn_t[pid] - 0.1:
            c4.fail(f"worker {pid} found {spawn_t[pid] - t_of(f):.2f}s before it was spawned")
        lk = leaks.get(pid)
        if lk is None:
            if stop_t - t_of(f) > WINDOW_S + 6:
                c4.fail(f"worker {pid} watched {stop_t - t_of(f):.1f}s, never reported")
            continue
        d = t_of(lk) - t_of(f)
        delays.append(d)
        if d < WINDOW_S:
            c4.fail(f"worker {pid}: leak {d:.2f}s after found, before a whole window ({WINDOW_S}s) "
                    f"of its own history")
    if delays:
        c4.note(f"leak after found: {', '.join(f'{d:.1f}s' for d in delays)}")
    return [c1, c2, c3, c4]


def check_exec(events, pids, record_path, sleep_seen, sleep_token, leftovers, daemon_err):
    checks = []

    def single(watch, c):
        lk = of(events, "leak", watch, pids[watch])
        acts = of(events, "action", watch)
        if not lk:
            c.fail(f"no leak event for pid {pids[watch]}")
        if len(acts) != 1:
            c.fail(f"{len(acts)} action events, expected 1: {[a.get('message') for a in acts]}")
        if not acts:
            return None, None
        a = acts[0]
        if a.get("pid") != pids[watch] or a.get("action") != "exec":
            c.fail(f"action {a.get('action')} on pid {a.get('pid')}, not exec on {pids[watch]}")
        return (lk[0] if lk else None), a

    c = Check("exec: timeout")
    lk, a = single("exec-timeout", c)
    if a:
        if a.get("result") != "failed" or "timed out" not in a.get("message", ""):
            c.fail(f"result {a.get('result')}: {a.get('message')}")
        if lk:
            d = t_of(a) - t_of(lk)
            if abs(d - EXEC_TIMEOUT_S) > 1:
                c.fail(f"reported {d:.2f}s after the leak, not {EXEC_TIMEOUT_S}s (+-1s)")
            c.note(f"failed {d:.2f}s after the leak: {a.get('message')}")
    checks.append(c)

    c = Check("exec: timeout kills group")
    if not sleep_seen:
        c.fail(f"the exec command's sleep (token {sleep_token}) was never seen running")
    elif a:
        last = max(sleep_seen)
        if last > t_of(a) + 0.5:
            c.fail(f"the sleep was still running {last - t_of(a):.2f}s after the timeout was reported")
        c.note(f"sleep seen {min(sleep_seen) - (t_of(lk) if lk else 0):.1f}s..{last - (t_of(lk) if lk else 0):.1f}s "
               f"after the leak, gone after")
    left = {p: cl for p, cl in leftovers.items() if sleep_token in cl}
    if left:
        c.fail(f"left running at the end: {left}")
    checks.append(c)

    c = Check("exec: exit status")
    lk, a = single("exec-fail", c)
    if a:
        if a.get("result") != "failed" or "exit status 3" not in a.get("message", ""):
            c.fail(f"result {a.get('result')}: {a.get('message')}")
        else:
            c.note(a.get("message"))
    checks.append(c)

    c = Check("exec: ok, argv and env")
    lk, a = single("exec-ok", c)
    if a and a.get("result") != "ok":
        c.fail(f"result {a.get('result')}: {a.get('message')}")
    try:
        with open(record_path) as f:
            lines = f.read().splitlines()
    except OSError as e:
        lines = None
        c.fail(f"no record from the command: {e}")
    if lines is not None:
        pid = pids["exec-ok"]
        args = [ln[4:] for ln in lines if ln.startswith("arg=")]
        want = [str(pid), "exec-ok", "rss", f"p={pid},w=exec-ok,m=rss"]
        if args != want:
            c.fail(f"argv {args}, expected {want}")
        env = {}
        for ln in lines:
            if ln.startswith("LEAKWATCH_"):
                k, _, v = ln.partition("=")
                env.setdefault(k, []).append(v)
        want_env = {"LEAKWATCH_PID": str(pid), "LEAKWATCH_WATCH": "exec-ok",
                    "LEAKWATCH_METRIC": "rss", "LEAKWATCH_EVENT": "leak"}
        for k, v in want_env.items():
            if env.get(k) != [v]:
                c.fail(f"{k}={env.get(k)}, expected [{v!r}]")
        val = env.get("LEAKWATCH_VALUE")
        if not val or len(val) != 1 or not val[0].isdigit():
            c.fail(f"LEAKWATCH_VALUE={val}")
        elif lk and int(val[0]) != lk.get("value"):
            c.fail(f"LEAKWATCH_VALUE={val[0]}, the leak event's value is {lk.get('value')}")
        if c.ok:
            c.note(f"argv {args}; LEAKWATCH_VALUE={val[0]} ({int(val[0]) / MIB:.1f}MiB)")
    checks.append(c)

    # the exec's output goes to the daemon's log (stderr): a note, not a check
    try:
        with open(daemon_err) as f:
            err = f.read()
        if f"started {pids['exec-timeout']} exec-timeout" not in err:
            checks[0].note("(its output 'started PID WATCH' is not in the daemon's stderr)")
    except OSError:
        pass
    return checks


def check_burst(events, progs):
    W = "burst"
    c = Check("cooldown + max_actions")
    by_pid = {p.pid: p.name for p in progs}
    acts = sorted(of(events, "action", W), key=t_of)
    leaks = {e.get("pid"): e for e in reversed(of(events, "leak", W))}
    for p in progs:
        if p.pid not in leaks:
            c.fail(f"{p.name} (pid {p.pid}) never reported")
    got = [(a.get("result"), a.get("message", "")) for a in acts]
    desc = ", ".join(f"{by_pid.get(a.get('pid'), a.get('pid'))}@{t_of(a) - progs[0].started:.1f}s:"
                     f"{a.get('result')}" for a in acts)
    if len(acts) != len(BURST_EXPECT):
        c.fail(f"{len(acts)} action events, expected {len(BURST_EXPECT)}: {desc}")
    for i, (want, why) in enumerate(BURST_EXPECT[:len(acts)]):
        res, msg = got[i]
        if res != want or (why and why not in msg):
            c.fail(f"action #{i + 1} ({by_pid.get(acts[i].get('pid'))}): {res}: {msg!r}, "
                   f"expected {want}{' (' + why + ')' if why else ''}")
    oks = [a for a in acts if a.get("result") == "ok"]
    if len(oks) != 2:
        c.fail(f"{len(oks)} ok actions, expected exactly 2")
    # the retry: the second ok is the first suppressed pid, after the cooldown
    if len(acts) >= 3 and acts[2].get("result") == "ok":
        if acts[2].get("pid") != acts[1].get("pid"):
            c.fail(f"the second ok action is on pid {acts[2].get('pid')}, not the retried "
                   f"pid {acts[1].get('pid')} that the cooldown held back")
        gap = t_of(acts[2]) - t_of(acts[0])
        if gap < BURST_COOLDOWN_S - 0.05:
            c.fail(f"the retried action came {gap:.2f}s after the first, inside the {BURST_COOLDOWN_S}s cooldown")
    # a leaker with an ok action was signalled (dead); the others were not
    for a in acts:
        if not any(q.pid == a.get("pid") for q in progs):
            c.fail(f"action on pid {a.get('pid')}, not one of the leakers")
    for p in progs:
        acted = any(a.get("pid") == p.pid and a.get("result") == "ok" for a in acts)
        rc = p.proc.poll()
        if acted and rc is None:
            c.fail(f"{p.name} (pid {p.pid}) signalled (ok) but still running")
        if not acted and rc is not None:
            c.fail(f"{p.name} (pid {p.pid}) never signalled but exited with {rc}")
    c.note(desc)
    return c


def check_kill_after(events, prog):
    W = "kill-after"
    c = Check("signal: kill_after")
    acts = sorted(of(events, "action", W), key=t_of)
    if len(acts) != 2:
        c.fail(f"{len(acts)} action events, expected 2 (SIGTERM, then SIGKILL): "
               f"{[a.get('message') for a in acts]}")
    if len(acts) >= 1 and (acts[0].get("result") != "ok" or "SIGTERM" not in acts[0].get("message", "")):
        c.fail(f"first action: {acts[0].get('result')}: {acts[0].get('message')}")
    if len(acts) >= 2:
        if acts[1].get("result") != "ok" or "SIGKILL" not in acts[1].get("message", ""):
            c.fail(f"second action: {acts[1].get('result')}: {acts[1].get('message')}")
        d = t_of(acts[1]) - t_of(acts[0])
        if abs(d - KILL_AFTER_S) > 1:
            c.fail(f"SIGKILL {d:.2f}s after SIGTERM, not {KILL_AFTER_S}s (+-1s)")
        c.note(f"SIGKILL {d:.2f}s after SIGTERM")
    rc = prog.proc.poll()
    if rc != -signal.SIGKILL:
        c.fail(f"the leaker ended with {rc}, not SIGKILL (-9)")
    return c


def check_dry_run(name, daemon, prog, alive_after):
    c = Check(name)
    evs = daemon.events()
    acts = of(evs, "action")
    lk = of(evs, "leak", pid=prog.pid)
    if not lk:
        c.fail(f"no leak event for pid {prog.pid}")
    if len(acts) != 1:
        c.fail(f"{len(acts)} action events, expected 1: {[a.get('message') for a in acts]}")
    for a in acts:
        if a.get("result") != "dry-run" or a.get("pid") != prog.pid or a.get("action") != "signal":
            c.fail(f"action {a.get('action')} on {a.get('pid')}: {a.get('result')}: {a.get('message')}")
    if prog.proc.poll() is not None:
        c.fail(f"the leaker was stopped: exit {prog.proc.returncode}")
    elif acts:
        if alive_after is None:
            c.fail("the leaker's liveness was not checked after the action")
        else:
            c.note(f"leaker alive {alive_after - t_of(acts[0]):.1f}s after the dry-run action")
    return c


def check_daemons(daemons):
    c = Check("daemons")
    for d in daemons:
        if d.rc != 0:
            c.fail(f"{d.name}: exit {d.rc!r} after SIGTERM, not 0")
        try:
            with open(d.out) as f:
                lines = [ln for ln in f if ln.strip()]
        except OSError:
            lines = []
        for ln in lines:
            try:
                e = json.loads(ln)
                if not isinstance(e, dict) or parse_ts(e.get("ts"), lowercase_z=False) is None or not e.get("event"):
                    raise ValueError
            except ValueError:
                c.fail(f"{d.name}: not an event: {ln.strip()[:120]}")
                break
        for e in of(d.events(), "error"):
            c.fail(f"{d.name}: error event: {e.get('message')}")
        for e in of(d.events(), "action"):
            if e.get("result") not in ("ok", "failed", "dry-run", "suppressed"):
                c.fail(f"{d.name}: action result {e.get('result')!r}")
    c.note(", ".join(f"{d.name} exit {d.rc}" for d in daemons))
    return c


# ----------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--daemon", required=True, help="path to leakwatchd")
    ap.add_argument("--keep", help="keep the configs, events and logs in this directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every event")
    a = ap.parse_args()

    daemon_path = os.path.abspath(a.daemon)
    if not os.access(daemon_path, os.X_OK):
        print(f"action: {a.daemon} is not an executable", file=sys.stderr)
        return 2
    work = os.path.abspath(a.keep) if a.keep else tempfile.mkdtemp(prefix="leakwatch-action-")
    os.makedirs(work, exist_ok=True)
    os.makedirs(os.path.join(work, "state"), exist_ok=True)

    # digits only: it also goes into sleep's argv as a fraction of a second
    rid = f"{os.getpid()}{int(time.time() * 1000) % 10 ** 7:07d}"
    mark = {n: f"lwact-{n}-{rid}" for n in ("prefork", "exectimeout", "execfail", "execok",
                                            "burst", "killafter", "dryflag", "dryconf")}
    sleep_token = f"0.000{rid}"
    prefork_log = os.path.join(work, "prefork.log")
    record = os.path.join(work, "exec-record.txt")
    for p in (prefork_log, record):
        if os.path.exists(p):
            os.unlink(p)

    sig = {"on_leak": "signal", "signal": "TERM"}
    main_watches = [
        ("prefork-workers", {"parent": {"cmdline": mark["prefork"]}},
         dict(sig, kill_after=f"{PREFORK_KILL_AFTER_S}s", cooldown="1s",
              max_actions="100/1h")),   # not the default 3/h: the slot is recycled ~3 times
        ("exec-timeout", {"cmdline": mark["exectimeout"]},
         {"on_leak": "exec", "exec_timeout": f"{EXEC_TIMEOUT_S}s",
          "exec": ["/bin/sh", "-c", f"echo started {{pid}} $LEAKWATCH_WATCH; sleep 60 {sleep_token}"]}),
        ("exec-fail", {"cmdline": mark["execfail"]},
         {"on_leak": "exec", "exec": ["/bin/sh", "-c", "exit 3"]}),
        ("exec-ok", {"cmdline": mark["execok"]},
         {"on_leak": "exec", "exec": [
             "/bin/sh", "-c",
             'f=$0; { for a in "$@"; do printf "arg=%s\\n" "$a"; done; env | grep "^LEAKWATCH_"; } '
             '> "$f.tmp" && mv "$f.tmp" "$f"',
             record, "{pid}", "{watch}", "{metric}", "p={pid},w={watch},m={metric}"]}),
        ("burst", {"cmdline": mark["burst"]},
         dict(sig, cooldown=f"{BURST_COOLDOWN_S}s", max_actions=BURST_MAX)),
        ("kill-after", {"cmdline": mark["killafter"]},
         dict(sig, kill_after=f"{KILL_AFTER_S}s")),
    ]
    dry = {"on_leak": "signal", "signal": "KILL"}
    cfg_main = os.path.join(work, "action.yaml")
    cfg_dryflag = os.path.join(work, "dry-flag.yaml")
    cfg_dryconf = os.path.join(work, "dry-conf.yaml")
    write_config(cfg_main, work, main_watches)
    write_config(cfg_dryflag, work, [("dry-flag", {"cmdline": mark["dryflag"]}, dry)])
    write_config(cfg_dryconf, work, [("dry-conf", {"cmdline": mark["dryconf"]}, dry)], dry_run=True)

    # stale LEAKWATCH_* in the daemon's own environment must not reach exec
    denv = dict(os.environ, LEAKWATCH_PID="1", LEAKWATCH_WATCH="stale")
    daemons = [Daemon("main", daemon_path, cfg_main, work, env=denv),
               Daemon("dry-flag", daemon_path, cfg_dryflag, work, extra=["--dry-run"]),
               Daemon("dry-conf", daemon_path, cfg_dryconf, work)]

    def leaker(name, marker, rate=1024, extra=()):
        return Prog(name, [PYTHON, "-B", os.path.join(PROGRAMS, "act_leaker.py"), "--rate", str(rate),
                           "--tag", marker, "--seconds", str(RUN_S + 60)] + list(extra), work)

    prefork = Prog("prefork", [PYTHON, "-B", os.path.join(PROGRAMS, "act_prefork.py"),
                               "--workers", str(PREFORK_WORKERS), "--leak-slot", str(PREFORK_LEAK_SLOT),
                               "--rate", str(PREFORK_RATE_KIB), "--log", prefork_log,
                               "--tag", mark["prefork"], "--seconds", str(RUN_S + 60)], work)
    execs = {"exec-timeout": leaker("exec-timeout", mark["exectimeout"]),
             "exec-fail": leaker("exec-fail", mark["execfail"]),
             "exec-ok": leaker("exec-ok", mark["execok"])}
    stubborn = leaker("kill-after", mark["killafter"], extra=["--ignore-term"])
    dryflag = leaker("dry-flag", mark["dryflag"])
    dryconf = leaker("dry-conf", mark["dryconf"])
    burst = [leaker(f"burst-{'ABCDE'[i]}", mark["burst"], rate=BURST_RATE_KIB)
             for i in range(len(BURST_STARTS))]
    progs = [prefork, *execs.values(), stubborn, dryflag, dryconf, *burst]

    interrupt_on_term()

    sleep_seen = []
    dry_alive = {}
    leftovers = {}
    stop_t = None
    try:
        for d in daemons:
            d.start()
        for d in daemons:
            if not d.wait_started():
                return start_failed("action", f"daemon {d.name}", d.proc.poll(), d.err)
        for p in progs:
            if p not in burst:
                p.start()
        t0 = time.time()
        print(f"action: {len(progs)} programs, {RUN_S}s (interval {INTERVAL_MS}ms, warmup {WARMUP_S}s, "
              f"window {WINDOW_S}s); work dir {work}", flush=True)
        while time.time() < t0 + RUN_S:
            now = time.time()
            for p, at in zip(burst, BURST_STARTS):
                if p.proc is None and now >= t0 + at:
                    p.start()
            for p in progs:
                if p.proc is not None:
                    p.proc.poll()          # reap what the daemon killed
            if any(sleep_token in c for c in cmdlines().values()):
                sleep_seen.append(time.time())
            for name, d, p in (("dry-flag", daemons[1], dryflag), ("dry-conf", daemons[2], dryconf)):
                if of(d.events(), "action") and p.proc.poll() is None and alive(p.pid):
                    dry_alive[name] = time.time()
            dead = [d.name for d in daemons if d.proc.poll() is not None]
            if dead:
                print(f"action: daemon(s) exited early: {', '.join(dead)}", flush=True)
                break
            time.sleep(0.25)
        stop_t = time.time()
        for d in daemons:
            d.stop()
        for p in progs:
            if p.proc is not None:
                p.proc.poll()
        # before the kill: who is still alive decides the checks
        snapshot = {p.name: p.proc.returncode if p.proc else "not started" for p in progs}
    except KeyboardInterrupt:
        print("action: interrupted", file=sys.stderr)
        return 130
    finally:
        for d in daemons:
            d.kill()
        kill_progs(progs)
        leftovers = sweep(rid)
        if stop_t is None and not a.keep:
            shutil.rmtree(work, ignore_errors=True)

    events = daemons[0].events()
    if a.verbose:
        for d in daemons:
            for e in d.events():
                print(f"  [{d.name}] {json.dumps(e)}")

    # the liveness the checks need is the one before the final kill
    for p in progs:
        if p.proc is not None:
            p.proc = _Snap(p.proc, snapshot[p.name])

    results = []
    results += check_prefork(events, prefork_log, prefork.pid, stop_t)
    results += check_exec(events, {k: p.pid for k, p in execs.items()}, record, sleep_seen,
                          sleep_token, leftovers, daemons[0].err)
    results.append(check_burst(events, burst))
    results.append(check_kill_after(events, stubborn))
    results.append(check_dry_run("dry-run: --dry-run", daemons[1], dryflag, dry_alive.get("dry-flag")))
    results.append(check_dry_run("dry-run: dry_run: true", daemons[2], dryconf, dry_alive.get("dry-conf")))
    results.append(check_daemons(daemons))
    others = {p: c for p, c in leftovers.items() if sleep_token not in c}
    if others:
        results[-1].fail(f"left running after the cleanup (killed now): {others}")

    return finish("action", results, 26, work, a.keep, "configs, events, daemon stderr and logs",
                  events, ("leak", "action", "error"))


class _Snap:
    """A Popen stand-in whose poll() answers what it answered at the stop."""

    def __init__(self, proc, rc):
        self.pid = proc.pid
        self.returncode = rc

    def poll(self):
        return self.returncode


if __name__ == "__main__":
    sys.exit(main())
