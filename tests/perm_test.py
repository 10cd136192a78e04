#!/usr/bin/python3
"""leakwatch permissions test: leakwatchd run unprivileged (as nobody)
among processes of root, of another user (daemon) and of its own user.

    /usr/bin/python3 tests/perm_test.py --daemon build/leakwatchd --ctl build/leakwatchctl
                                        --shim build/tests/pre62_fd.so [--keep DIR] [-v]

(`make perm`; it needs root, and says so and passes as skipped without.)
Seven Python programs run side by side: a leaker (1 MiB/s) as root, a
leaker and two idle ones as daemon, a leaker and two idle ones as nobody.
Three daemons watch them at once, each as nobody with --log-target=json,
its own runtime and state directories, and a config with, first, a watch
whose match has an exe: criterion (for one idle program of each of daemon
and nobody), then one watch per leaker, then a catch-all on the run's tag:

- kernel: /proc as it is.  On Linux >= 6.2 the fd count of every process is
  readable (a stat of /proc/PID/fd), so no fds warning; before, as pre62.
- pre62: the same, with tests/pre62_fd.c preloaded, which makes the stat
  say 0 as before Linux 6.2 (Debian 12's kernel is 6.1): the fds are then
  counted by listing the directory, which is closed to nobody for the
  other users' processes.  Its leak watches signal the leaker.
- hidepid: in a private mount namespace whose /proc is mounted
  hidepid=invisible (2).

Checks, one PASS/FAIL line each:
- pre62-warnings: one fds warning (an `error` event, metric fds) for each
  of the three other users' processes, naming pid, comm, both users, the
  reason and the remedy, and none for nobody's own; one warning for the
  exe: watch, on the other user's process it could not decide; one for a
  pidfile only root may read (its watch, listed first, takes nothing);
  nothing else, however many ticks passed (the run counts them).
- pre62-sampling: `leakwatchctl status --json` shows those three with fds
  null and verdict "unreadable", rss and threads sampled (threads as the
  idle program reports them; the root leaker's rss still growing between
  two looks), `history` has their rss and no fds; nobody's own idle
  program has its true fd count.
- pre62-leaks: the leakers of root and of daemon are found leaking on rss,
  never on fds.
- pre62-actions: the signal to each of them fails once with EPERM, saying
  CAP_KILL, and is not retried; nobody's own leaker is signalled (ok) and
  exits.
- exe-undecided: in kernel and pre62, daemon's process of the exe: watch is
  never watched (not by the catch-all either), nobody's is, under it.
- kernel: the current kernel's path: no fds warning where the kernel counts
  fds by stat (else as pre62), the exe warning once, the root leaker's leak.
- hidepid: one warning at start that /proc hides other users' processes;
  only nobody's processes found, nothing else reported (but the pidfile's
  warning); the own idle program fully watched.
- daemons: each ran as uid 65534, was still running at the end, and exited
  0 on SIGTERM within 10 s.

Users: root, and the existing `daemon` and `nobody` (no user is created).
Programs, daemon, client and shim are copied into the work directory, so
nobody and daemon reach them whatever the checkout's permissions.  Then
`perm: N passed, M failed`; exit status 1 on any failure.  About 30 s.
"""

import argparse
import grp
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True     # importing lwtest must leave no tests/__pycache__
from lwtest import (PROGRAMS, PYTHON, Check, Daemon, as_user, finish, interrupt_on_term, parse_ts, stop_groups,
                    wait_for, yq)

INTERVAL_MS = 250
WARMUP_S = 1
WINDOW_S = 8
RUN_ID = f"{os.getpid()}x{int(time.time()) % 100000}"
LEAKS_WITHIN_S = 40   # after the daemons start, for the awaited leak events
SETTLE_S = 3          # then this much more, for repeats to show
STOP_WAIT_S = 10
MIB = 1024 * 1024

SELF_USER, SELF_GROUP = "nobody", "nogroup"
OTHER_USER, OTHER_GROUP = "daemon", "daemon"

# name: (user, program, arguments)
TARGETS = {
    "root-leak": ("root", "leak_memory.py", ["--rate", "1024"]),
    "other-leak": (OTHER_USER, "leak_memory.py", ["--rate", "1024"]),
    "other-idle": (OTHER_USER, "idle_holder.py", ["--fds", "6", "--threads", "2"]),
    "other-exe": (OTHER_USER, "idle_holder.py", ["--fds", "1", "--threads", "0"]),
    "own-leak": (SELF_USER, "leak_memory.py", ["--rate", "1024"]),
    "own-idle": (SELF_USER, "idle_holder.py", ["--fds", "6", "--threads", "2"]),
    "own-exe": (SELF_USER, "idle_holder.py", ["--fds", "1", "--threads", "0"]),
}
OTHERS = ("root-leak", "other-leak", "other-idle")    # watched, fds closed to nobody before 6.2
OWN = ("own-leak", "own-idle", "own-exe")


def tag(name):
    return f"lwperm-{RUN_ID}-{name}"


def cmdline_re(names):
    """An extended regex for the programs' command lines: the interpreter
    first (never setpriv's, which has the tag too until it execs)."""
    alt = "|".join(re.escape(tag(n)) for n in names)
    return f"^{re.escape(PYTHON)} .* --tag ({alt})( |$)"


def write_config(path, act, pidfile):
    lines = ["# written by tests/perm_test.py", f"interval: {INTERVAL_MS}ms", "watches:"]

    def watch(name, match, extra=()):
        lines.extend([f"  - name: {name}", "    match:"] + [f"      {k}: {v}" for k, v in match.items()] +
                     [f"    warmup: {WARMUP_S}s", f"    window: {WINDOW_S}s",
                      "    rss: { growth: 100M/h }", "    fds: { growth: 1000/h }",
                      "    threads: { growth: 1000/h }"] + [f"    {x}" for x in extra])

    watch("pidfile", {"pidfile": yq(pidfile)})    # root's, mode 0600: matches nothing for nobody
    watch("exe", {"exe": yq("*/python3*"), "cmdline": yq(cmdline_re(["other-exe", "own-exe"]))})
    for name in ("root-leak", "other-leak", "own-leak"):
        watch(name, {"cmdline": yq(cmdline_re([name]))},
              ["on_leak: signal", "signal: TERM", "kill_after: 0"] if act else [])
    watch("all", {"cmdline": yq(f"^{re.escape(PYTHON)} .* --tag {re.escape(tag(''))}")})
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o644)


class Target:
    def __init__(self, name, work, progs):
        self.name = name
        self.user, script, args = TARGETS[name]
        group = {"root": "root", SELF_USER: SELF_GROUP, OTHER_USER: OTHER_GROUP}[self.user]
        # in a directory every user may write to (sticky, like /tmp)
        self.ready = os.path.join(work, "ready", name + ".json") if script == "idle_holder.py" else None
        argv = [PYTHON, "-B", os.path.join(progs, script)] + args + ["--tag", tag(name), "--seconds", "120"]
        if self.ready:
            argv += ["--ready", self.ready]
        self.argv = as_user(self.user, group, argv)
        self.err = os.path.join(work, name + ".stderr")
        self.proc = None

    def start(self, work):
        with open(self.err, "w") as err:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=err, cwd=work, env=dict(os.environ, HOME="/"),
                                         start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def ready_info(self):
        try:
            with open(self.ready) as f:
                return json.load(f)
        except (OSError, ValueError, TypeError):
            return None


def by_pid(status):
    return {p.get("pid"): p for p in status or [] if isinstance(p, dict)}


def leaks(events, pid, metric="rss"):
    return [e for e in events if e.get("event") == "leak" and e.get("pid") == pid and e.get("metric") == metric]


# ----------------------------------------------------------------------------
# checks

def fds_warnings(events):
    return [e for e in events if e.get("event") == "error" and e.get("metric") == "fds"]


def pidfile_warnings(events):
    return [e for e in events if e.get("event") == "error" and "cannot read the pidfile" in e.get("message", "")]


def check_pidfile_warning(c, d, pidfile):
    w = pidfile_warnings(d.events())
    want = f"cannot read the pidfile {pidfile}: Permission denied (leakwatchd runs as {SELF_USER})"
    if len(w) != 1 or want not in w[0].get("message", ""):
        c.fail(f"{d.name}: pidfile warnings {[e.get('message') for e in w][:2]}, not one saying {want!r}")
    if any(e.get("event") == "found" and e.get("watch") == "pidfile" for e in d.events()):
        c.fail(f"{d.name}: something found under the unreadable pidfile's watch")


def exe_warnings(events):
    return [e for e in events if e.get("event") == "error" and e.get("watch") == "exe"]


def check_fds_warnings(c, d, targets, expect_pids):
    """Exactly one fds warning for each of expect_pids, none for anyone else."""
    ev = d.events()
    warns = fds_warnings(ev)
    per_pid = {}
    for e in warns:
        per_pid.setdefault(e.get("pid"), []).append(e)
    for name in OTHERS + OWN:
        pid = targets[name].pid
        got = per_pid.get(pid, [])
        if pid in expect_pids and len(got) != 1:
            c.fail(f"{d.name}: {len(got)} fds warnings for {name} (pid {pid}), not 1")
        if pid not in expect_pids and got:
            c.fail(f"{d.name}: fds warning for {name} (pid {pid}): {got[0].get('message')!r}")
    for pid, got in per_pid.items():
        if pid not in {t.pid for t in targets.values()}:
            c.fail(f"{d.name}: fds warning for pid {pid}, not one of ours")
    for e in warns:
        t = next((t for t in targets.values() if t.pid == e.get("pid")), None)
        if t is None:
            continue
        msg = e.get("message", "")
        want = [f"pid {t.pid} (python3)", "cannot count its open fds", "Permission denied",
                f"the process runs as {t.user}", f"leakwatchd as {SELF_USER}", "watching its rss and threads only",
                "CAP_DAC_READ_SEARCH"]
        missing = [w for w in want if w not in msg]
        if missing:
            c.fail(f"{d.name}: warning for {t.name} lacks {missing}: {msg!r}")
        if e.get("watch") not in (t.name, "all"):
            c.fail(f"{d.name}: warning for {t.name} under watch {e.get('watch')!r}")
    return warns


def check_exe_warning(c, d, targets):
    w = exe_warnings(d.events())
    if len(w) != 1:
        c.fail(f"{d.name}: {len(w)} warnings for the exe: watch, not 1")
        return w
    e = w[0]
    msg = e.get("message", "")
    want = ["not watched", "cannot tell whether this watch matches it", "its executable cannot be read",
            "Permission denied", f"the process runs as {OTHER_USER}", f"leakwatchd as {SELF_USER}",
            "CAP_SYS_PTRACE"]
    missing = [x for x in want if x not in msg]
    if e.get("pid") != targets["other-exe"].pid:
        c.fail(f"{d.name}: exe warning names pid {e.get('pid')}, not other-exe {targets['other-exe'].pid}")
    if missing:
        c.fail(f"{d.name}: exe warning lacks {missing}: {msg!r}")
    return w


def check_pre62_warnings(d, targets, t_end, pidfile):
    c = Check("pre62-warnings")
    ev = d.events()
    warns = check_fds_warnings(c, d, targets, {targets[n].pid for n in OTHERS})
    check_exe_warning(c, d, targets)
    check_pidfile_warning(c, d, pidfile)
    errors = [e for e in ev if e.get("event") == "error"]
    if len(errors) != len(OTHERS) + 2:
        c.fail(f"{len(errors)} error events, not {len(OTHERS) + 2}: " +
               "; ".join(repr(e.get("message", ""))[:90] for e in errors[:6]))
    # how many ticks came after the warnings: repeats would have shown
    if warns:
        first = min(parse_ts(e.get("ts")) or t_end for e in warns)
        ticks = int((t_end - first) * 1000 / INTERVAL_MS)
        if ticks < 40:
            c.fail(f"only {ticks} ticks after the warnings")
        c.note(f"{len(warns)} fds warnings + 1 exe + 1 pidfile warning over {ticks} ticks")
    if warns and c.ok:
        c.note(repr(warns[0].get("message"))[:160] + "...")
    return c


def check_pre62_sampling(d, targets, ready):
    c = Check("pre62-sampling")
    if len(d.status) < 2 or any(s is None for s in d.status):
        c.fail(f"status --json: {len(d.status)} answers, {sum(s is None for s in d.status)} unusable")
        return c
    first, last = by_pid(d.status[0]), by_pid(d.status[-1])
    for name in OTHERS:
        t = targets[name]
        p = last.get(t.pid)
        if not p:
            c.fail(f"{name} (pid {t.pid}) not in the status")
            continue
        fds, rss, thr = p.get("fds", {}), p.get("rss", {}), p.get("threads", {})
        if fds != {"value": None, "limit": None, "slope_per_hour": None, "eta_seconds": None, "verdict": "unreadable"}:
            c.fail(f"{name}: fds {fds}, not unreadable with nulls")
        if not isinstance(rss.get("value"), int) or rss["value"] < 4 * MIB or rss.get("verdict") == "unreadable":
            c.fail(f"{name}: rss {rss}")
        if not isinstance(thr.get("value"), int) or thr["value"] < 1 or thr.get("verdict") == "unreadable":
            c.fail(f"{name}: threads {thr}")
        if name == "other-idle" and ready.get(name) and thr.get("value") != ready[name]["threads"]:
            c.fail(f"{name}: threads {thr.get('value')}, the program says {ready[name]['threads']}")
    a, b = first.get(targets["root-leak"].pid), last.get(targets["root-leak"].pid)
    if a and b:
        grew = b["rss"]["value"] - a["rss"]["value"]
        c.note(f"root-leak rss +{grew / MIB:.1f}MiB between the looks")
        if grew < 2 * MIB:
            c.fail(f"root-leak rss grew {grew} bytes between two looks: not sampled any more?")
    own = last.get(targets["own-idle"].pid)
    r = ready.get("own-idle")
    if not own or not r:
        c.fail("own-idle not in the status, or it never got ready")
    elif own["fds"].get("value") != r["fds"] or own["fds"].get("verdict") == "unreadable":
        c.fail(f"own-idle: fds {own['fds']}, the program has {r['fds']}")
    hist = d.history
    if not isinstance(hist, dict):
        c.fail("history --json of root-leak: no answer")
    elif not hist.get("rss") or hist.get("fds") != [] or not hist.get("threads"):
        c.fail(f"history of root-leak: {len(hist.get('rss') or [])} rss buckets, fds {str(hist.get('fds'))[:60]}")
    table = d.table
    if "unreadable" not in table or "partly unreadable" not in table:
        c.fail(f"status table does not say unreadable: {table[:300]!r}")
    return c


def check_pre62_leaks(d, targets):
    c = Check("pre62-leaks")
    ev = d.events()
    for name in ("root-leak", "other-leak"):
        pid = targets[name].pid
        got = leaks(ev, pid)
        if len(got) != 1:
            c.fail(f"{len(got)} rss leak events for {name} (pid {pid}), not 1")
        else:
            c.note(f"{name}: {got[0].get('message', '')[-40:]!r}")
    for name in OTHERS:
        pid = targets[name].pid
        bad = [e for e in ev if e.get("pid") == pid and e.get("metric") == "fds" and e.get("event") in ("leak", "limit")]
        if bad:
            c.fail(f"{name}: {bad[0].get('event')} on fds it cannot read")
    return c


def check_pre62_actions(d, targets):
    c = Check("pre62-actions")
    ev = d.events()
    for name in ("root-leak", "other-leak"):
        pid = targets[name].pid
        acts = [e for e in ev if e.get("event") == "action" and e.get("pid") == pid]
        if len(acts) != 1:
            c.fail(f"{name}: {len(acts)} action events, not 1")
            continue
        e = acts[0]
        msg = e.get("message", "")
        if e.get("result") != "failed" or "Operation not permitted" not in msg or "CAP_KILL" not in msg:
            c.fail(f"{name}: action {e.get('result')!r}: {msg!r}")
    pid = targets["own-leak"].pid
    acts = [e for e in ev if e.get("event") == "action" and e.get("pid") == pid]
    if len(acts) != 1 or acts[0].get("result") != "ok":
        c.fail(f"own-leak: actions {[(e.get('result'), e.get('message')) for e in acts]}")
    if not any(e.get("event") == "gone" and e.get("pid") == pid for e in ev):
        c.fail("own-leak signalled but never gone")
    if c.ok:
        c.note("signals to root's and daemon's leakers failed once (EPERM); nobody's own recycled")
    return c


def check_exe_undecided(daemons, targets):
    c = Check("exe-undecided")
    for d in daemons:
        ev = d.events()
        found = {e.get("pid"): e.get("watch") for e in ev if e.get("event") == "found"}
        if targets["other-exe"].pid in found:
            c.fail(f"{d.name}: other-exe found under {found[targets['other-exe'].pid]!r}")
        if found.get(targets["own-exe"].pid) != "exe":
            c.fail(f"{d.name}: own-exe found under {found.get(targets['own-exe'].pid)!r}, not 'exe'")
    return c


def check_kernel(d, targets, fd_size, pidfile):
    c = Check("kernel")
    ev = d.events()
    expect = set() if fd_size else {targets[n].pid for n in OTHERS}
    check_fds_warnings(c, d, targets, expect)
    check_exe_warning(c, d, targets)
    check_pidfile_warning(c, d, pidfile)
    errors = [e for e in ev if e.get("event") == "error"]
    if len(errors) != len(expect) + 2:
        c.fail(f"{len(errors)} error events, not {len(expect) + 2}")
    if len(leaks(ev, targets["root-leak"].pid)) != 1:
        c.fail("root-leak: no single rss leak event")
    last = by_pid(d.status[-1] if d.status else None)
    p = last.get(targets["other-idle"].pid)
    if fd_size and (not p or not isinstance(p["fds"].get("value"), int)):
        c.fail(f"other-idle: fds {p and p.get('fds')}, not counted although the kernel counts by stat")
    c.note("Linux >= 6.2: fds counted by stat for every user" if fd_size else
           "Linux < 6.2: fds of other users unreadable")
    return c


def check_hidepid(d, targets, ready, pidfile):
    c = Check("hidepid")
    ev = d.events()
    check_pidfile_warning(c, d, pidfile)
    errors = [e for e in ev if e.get("event") == "error" and e not in pidfile_warnings(ev)]
    hp = [e for e in errors if "hidepid=invisible" in e.get("message", "")]
    if len(hp) != 1 or len(errors) != 1:
        c.fail(f"{len(hp)} hidepid warnings, {len(errors)} errors in all: "
               + "; ".join(repr(e.get("message", ""))[:100] for e in errors[:4]))
    else:
        msg = hp[0]["message"]
        for w in (f"leakwatchd runs as {SELF_USER}", "sees only its own user's processes", "CAP_SYS_PTRACE"):
            if w not in msg:
                c.fail(f"the hidepid warning lacks {w!r}: {msg!r}")
        if ev and ev[0].get("event") != "start" or len(ev) < 2 or ev[1] is not hp[0]:
            c.fail("the hidepid warning does not come right after start")
        if c.ok:
            c.note(repr(msg)[:120] + "...")
    found = {e.get("pid") for e in ev if e.get("event") == "found"}
    own = {targets[n].pid for n in OWN}
    if found - own:
        c.fail(f"found pids of other users: {sorted(found - own)}")
    if {targets["own-idle"].pid, targets["own-exe"].pid} - found:
        c.fail(f"own processes not found: {sorted(own - found)}")
    last = by_pid(d.status[-1] if d.status else None)
    p = last.get(targets["own-idle"].pid)
    r = ready.get("own-idle")
    if not p or not r or p["fds"].get("value") != r["fds"] or p["threads"].get("value") != r["threads"]:
        c.fail(f"own-idle in the status: {p}, the program says {r}")
    if set(last) - own:
        c.fail(f"the status has other users' pids: {sorted(set(last) - own)}")
    return c


def check_daemons(daemons, took):
    c = Check("daemons")
    for d in daemons:
        if d.uid != pwd.getpwnam(SELF_USER).pw_uid:
            c.fail(f"{d.name}: ran as uid {d.uid}")
        if not d.alive_at_end:
            c.fail(f"{d.name}: not running at the end (exit {d.proc.returncode})")
        if d.rc != 0:
            c.fail(f"{d.name}: exit status {d.rc!r} after SIGTERM, not 0")
        try:
            with open(d.err) as f:
                err = f.read()
        except OSError:
            err = ""
        # log lines on stderr start with their time (leakwatchd(8) EVENTS)
        odd = [ln for ln in err.splitlines()
               if ln and not re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z leakwatchd: info: ", ln)]
        if odd:
            c.fail(f"{d.name}: stderr {odd[:2]}")
    if c.ok:
        c.note(f"{len(daemons)} daemons as {SELF_USER}, exit 0; the run took {took:.0f}s")
    return c


# ----------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--daemon", required=True, help="path to leakwatchd")
    ap.add_argument("--ctl", required=True, help="path to leakwatchctl")
    ap.add_argument("--shim", required=True, help="path to pre62_fd.so (tests/pre62_fd.c)")
    ap.add_argument("--keep", help="keep configs, events and logs in this directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every event")
    a = ap.parse_args()

    if os.geteuid() != 0:
        print("perm: SKIPPED: needs root (runs programs as root, daemon and nobody, and mounts a private /proc)")
        print("perm: 0 passed, 0 failed, 1 skipped")
        return 0
    for path in (a.daemon, a.ctl, a.shim):
        if not os.access(path, os.R_OK):
            print(f"perm: {path} is missing", file=sys.stderr)
            return 2
    try:
        for u in (SELF_USER, OTHER_USER):
            pwd.getpwnam(u)
        for g in (SELF_GROUP, OTHER_GROUP):
            grp.getgrnam(g)
    except KeyError as e:
        print(f"FAIL  users: {e} does not exist (the test uses the existing nobody/nogroup and daemon)")
        print("perm: 0 passed, 1 failed")
        return 1
    for tool in ("setpriv", "unshare", "mount"):
        if not shutil.which(tool):
            print(f"FAIL  tools: {tool} not found (util-linux)")
            print("perm: 0 passed, 1 failed")
            return 1

    work = a.keep or tempfile.mkdtemp(prefix="leakwatch-perm-")
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o755)
    # copies that nobody and daemon can reach whatever the checkout allows
    progs, bindir = os.path.join(work, "programs"), os.path.join(work, "bin")
    for d in (progs, bindir):
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
    os.makedirs(os.path.join(work, "ready"), exist_ok=True)
    os.chmod(os.path.join(work, "ready"), 0o1777)
    for f in ("leak_memory.py", "idle_holder.py", "lwcommon.py"):
        shutil.copy(os.path.join(PROGRAMS, f), progs)
        os.chmod(os.path.join(progs, f), 0o644)
    binaries = {}
    for key, path in (("daemon", a.daemon), ("ctl", a.ctl), ("shim", a.shim)):
        binaries[key] = os.path.join(bindir, os.path.basename(path))
        shutil.copy(path, binaries[key])
        os.chmod(binaries[key], 0o755)
    ctl = binaries["ctl"]

    # does this kernel count fds by a stat of /proc/PID/fd (>= 6.2)?
    fd_size = os.stat("/proc/self/fd").st_size > 0

    cfg_alert, cfg_act = os.path.join(work, "alert.yaml"), os.path.join(work, "act.yaml")
    pidfile = os.path.join(work, "root.pid")
    write_config(cfg_alert, False, pidfile)
    write_config(cfg_act, True, pidfile)
    targets = {n: Target(n, work, progs) for n in TARGETS}
    env = dict(os.environ, HOME="/")
    hidepid_ns = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                  'mount -t proc -o hidepid=2 proc /proc && exec "$@"', "sh"]

    def daemon(name, cfg, env=env, wrapper=()):
        d = Daemon(name, binaries["daemon"], cfg, work, env=env, ctl=ctl, stop_wait_s=STOP_WAIT_S,
                   user=(SELF_USER, SELF_GROUP), wrapper=wrapper, cwd=work)
        # what the run saw of it, for the checks
        d.uid, d.alive_at_end, d.history, d.table = None, None, None, ""
        d.status = []     # status --json answers, in order
        return d
    daemons = [daemon("kernel", cfg_alert),
               daemon("pre62", cfg_act, env=dict(env, LD_PRELOAD=binaries["shim"])),
               daemon("hidepid", cfg_alert, wrapper=hidepid_ns)]
    kernel, pre62, hidepid = daemons
    ready = {}
    t_end = None

    interrupt_on_term()
    t0 = time.time()
    try:
        for t in targets.values():
            t.start(work)
        wait_for(lambda: all(t.ready_info() for t in targets.values() if t.ready), 10, 0.1)
        ready = {n: t.ready_info() for n, t in targets.items() if t.ready}
        # a pidfile only root may read, naming one of nobody's own processes
        with open(os.open(pidfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(f"{targets['own-idle'].pid}\n")
        dead = [n for n, t in targets.items() if t.proc.poll() is not None]
        if dead:
            print(f"FAIL  programs did not start: {dead} (stderr in {work})")
            print("perm: 0 passed, 1 failed")
            return 1
        for d in daemons:
            d.start()
        if not wait_for(lambda: all(d.started() or d.proc.poll() is not None for d in daemons), 10, 0.1) or \
                any(d.proc.poll() is not None for d in daemons):
            for d in daemons:
                if d.proc.poll() is not None or not d.started():
                    with open(d.err) as f:
                        print(f"FAIL  daemon {d.name} did not start (exit {d.proc.poll()}); stderr:\n{f.read()}")
            print("perm: 0 passed, 1 failed")
            return 1
        t_start = time.time()
        for d in daemons:
            d.uid = d.real_uid()
        print(f"perm: 7 programs as root, {OTHER_USER} and {SELF_USER}; 3 daemons as {SELF_USER} "
              f"(kernel, pre62, hidepid); work dir {work}", flush=True)

        time.sleep(4)
        for d in daemons:
            d.status.append(d.ctl_json("status"))

        def leaks_seen():
            pe, ke = pre62.events(), kernel.events()
            return (leaks(pe, targets["root-leak"].pid) and leaks(pe, targets["other-leak"].pid) and
                    leaks(pe, targets["own-leak"].pid) and leaks(ke, targets["root-leak"].pid))
        wait_for(lambda: leaks_seen() or any(d.proc.poll() is not None for d in daemons),
                 max(1, LEAKS_WITHIN_S - (time.time() - t_start)), 0.25)
        time.sleep(SETTLE_S)
        for d in daemons:
            d.status.append(d.ctl_json("status"))
            d.alive_at_end = d.proc.poll() is None
        pre62.history = pre62.ctl_json("history", str(targets["root-leak"].pid))
        pre62.table = pre62.ctl_run("status").stdout
        t_end = time.time()
        for d in daemons:
            d.stop()
    except KeyboardInterrupt:
        print("perm: interrupted", file=sys.stderr)
        return 130
    finally:
        stop_groups([t.proc for t in targets.values() if t.proc is not None])
        for d in daemons:
            d.kill()

    if a.verbose:
        for d in daemons:
            for e in d.events():
                print(f"  {d.name}: {json.dumps(e)}")

    results = [
        check_pre62_warnings(pre62, targets, t_end, pidfile),
        check_pre62_sampling(pre62, targets, ready),
        check_pre62_leaks(pre62, targets),
        check_pre62_actions(pre62, targets),
        check_exe_undecided([kernel, pre62], targets),
        check_kernel(kernel, targets, fd_size, pidfile),
        check_hidepid(hidepid, targets, ready, pidfile),
        check_daemons(daemons, time.time() - t0),
    ]
    events = [dict(e, daemon=d.name) for d in daemons for e in d.events()]
    return finish("perm", results, 15, work, a.keep, "configs, events, stderr", events,
                  ("error", "leak", "action", "found"))


if __name__ == "__main__":
    sys.exit(main())
