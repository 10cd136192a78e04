#!/usr/bin/python3
"""Percentage maxes against real processes' own limits: the real daemon,
one rule for several processes, each held to its own.

    /usr/bin/python3 tests/limits_test.py --daemon build/leakwatchd [--ctl build/leakwatchctl]
                                          [--keep DIR] [-v]

(`make limits` runs it; about 15 s.)  Processes of tests/programs/grow_to.py
grow one metric steadily:

- fds, `fds: { max: 90% }`: one started with a soft RLIMIT_NOFILE of 200
  (preexec setrlimit) opens fds up to what it may (200): a `limit` event
  with limit 180 comes once it has more than 180, saying "(90% of its
  RLIMIT_NOFILE)"; another, with a soft limit of 1000, grows to 195 under
  the same rule: no event (its limit is 900);
- threads, `threads: { max: 50% }` (when a pids controller can be had):
  one in a cgroup of ours whose slice sets pids.max 24 (its own cgroup
  sets none: the lowest on the path counts) starts threads until the
  kernel refuses: limit 12, "(50% of its cgroup's pids.max)"; another in
  another slice, with no pids.max on its path: one warning that it has no
  threads max, no limit event;
- rss, `rss: { max: 50% }` (when a memory controller can be had): one in a
  cgroup whose slice sets 256 MiB (v2 memory.max, v1 memory.limit_in_bytes)
  grows to 160 MiB: limit 128 MiB, "(50% of its cgroup's memory.max)".

Each event checked for its limit, a value over it, a program that had
crossed it by then, and no event or warning that is not expected; with
--ctl, `leakwatchctl status --json` shows each process's limit (900 and
null for the quiet ones).  The cgroups are made where systemd would
(TAG.slice/NAME.service at a cgroup2 root; for v1, below the runner's own
cgroup of that hierarchy, which keeps the runner's accounting) and removed
on every exit path.  Needs root for the cgroup cases (skipped otherwise,
and said); the fds case runs as anyone.
"""
import json
import os
import resource
import subprocess
import sys
import time

sys.dont_write_bytecode = True     # importing lwtest must leave no tests/__pycache__
from lwtest import (PROGRAMS, PYTHON, Daemon, Prog, make_cgroup, parse_ts, read_jsonl, remove_cgroups,  # noqa: E402
                    server_test_main, wait_for)

INTERVAL = "250ms"
MIB = 1024 * 1024
PROCS = {}               # name -> Popen, stopped by server_test_main
NOTES = []


def log(msg):
    print(msg, flush=True)


# --- cgroups ------------------------------------------------------------------

def mounts():
    """{"unified": path, "pids": path, "memory": path} of the hierarchies
    mounted at their root, as leakwatchd finds them."""
    out = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, fs = left.split(), right.split()
            if len(fields) < 5 or len(fs) < 3 or fields[3] != "/":
                continue
            point = fields[4].replace("\\040", " ")
            if fs[0] == "cgroup2":
                out.setdefault("unified", point)
            elif fs[0] == "cgroup":
                for c in ("pids", "memory"):
                    if c in fs[2].split(","):
                        out.setdefault(c, point)
    return out


def own_cgroup(controller):
    """The runner's path in the v1 hierarchy of controller ("/" if none)."""
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if controller in ctrls.split(","):
                return path
    return "/"


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def make_limited(controller, tag, units, slice_limit):
    """TAG.slice/UNIT for each unit in the hierarchy that has controller,
    the slice's limit file set to slice_limit (the units' left alone): {unit:
    its cgroup.procs}, or None with the reason when none can be made."""
    m = mounts()
    v1 = m.get(controller)
    file = {"pids": "pids.max", "memory": "memory.limit_in_bytes" if v1 else "memory.max"}[controller]
    if v1:
        base = os.path.join(v1, own_cgroup(controller).lstrip("/"))
    elif "unified" in m:
        base = m["unified"]
        with open(os.path.join(base, "cgroup.subtree_control")) as f:
            if controller not in f.read().split():
                return None, f"the cgroup2 root does not enable {controller}"
    else:
        return None, f"no hierarchy has the {controller} controller"
    top = os.path.join(base, f"{tag}.slice")
    try:
        make_cgroup(base, f"{tag}.slice")
        if not v1:
            write(os.path.join(top, "cgroup.subtree_control"), f"+{controller}")
        write(os.path.join(top, file), str(slice_limit))
        procs = {u: os.path.join(make_cgroup(base, f"{tag}.slice/{u}.service"), "cgroup.procs") for u in units}
    except OSError as e:
        return None, f"cannot make {top}: {e}"
    return procs, None


# --- the processes ------------------------------------------------------------

class Grower(Prog):
    """grow_to.py for one metric, its soft RLIMIT_NOFILE set and its
    cgroups joined before it execs (in the child, preexec)."""

    def __init__(self, name, tag, work, what, upto, per_sec, nofile=None, cgroup_procs=()):
        self.log_path = os.path.join(work, name + ".log")
        argv = [PYTHON, os.path.join(PROGRAMS, "grow_to.py"), "--what", what, "--upto", str(upto),
                "--per-sec", str(per_sec), "--seconds", "60", "--log", self.log_path,
                "--tag", f"{tag}-{what}-{name}"]
        super().__init__(name, argv, work)
        self.what = what
        self.nofile = nofile
        self.cgroup_procs = list(cgroup_procs)

    def preexec(self):
        if self.nofile:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
        for p in self.cgroup_procs:
            write(p, str(os.getpid()))

    def start(self):
        with open(self.err, "w") as err:
            self.started = time.time()
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=err, start_new_session=True, preexec_fn=self.preexec)
        PROCS[self.name] = self.proc
        return self

    def crossed(self, limit):
        """When its own count first went over limit (its log), or None."""
        for r in read_jsonl(self.log_path):
            if r.get("amount", 0) > limit:
                return r["t"]
        return None

    def peak(self):
        return max((r.get("amount", 0) for r in read_jsonl(self.log_path)), default=0)


def config(tag):
    return f"""interval: {INTERVAL}
watches:
  - name: fds
    match: {{ cmdline: "grow_to\\\\.py .*--tag {tag}-fds-" }}
    fds: {{ max: 90% }}
  - name: threads
    match: {{ cmdline: "grow_to\\\\.py .*--tag {tag}-threads-" }}
    threads: {{ max: 50% }}
  - name: rss
    match: {{ cmdline: "grow_to\\\\.py .*--tag {tag}-rss-" }}
    rss: {{ max: 50% }}
"""


# --- the run ------------------------------------------------------------------

def check_limit(rep, events, g, limit, basis, ev_t):
    """The one limit event of g: its limit, a value over it, after g crossed it."""
    mine = [e for e in events if e.get("event") == "limit" and e.get("pid") == g.pid]
    name = f"{g.name}: one limit event at limit {limit:.0f} ({basis})"
    if len(mine) != 1:
        return rep.check(False, name, f"{len(mine)} limit events; peak {g.peak()}")
    e = mine[0]
    crossed = g.crossed(limit)
    problems = []
    if e.get("metric") != g.what or e.get("limit") != limit:
        problems.append(f"metric {e.get('metric')} limit {e.get('limit')}")
    if not (isinstance(e.get("value"), (int, float)) and e["value"] > limit):
        problems.append(f"value {e.get('value')} not over it")
    if f"(50% of {basis})" not in e.get("message", "") and f"(90% of {basis})" not in e.get("message", ""):
        problems.append(f"message {e.get('message')!r}")
    if crossed is None or ev_t.get(id(e), 0) < crossed - 0.01:
        problems.append(f"before the program crossed it (crossed at {crossed})")
    return rep.check(not problems, name, "; ".join(problems) or
                     f"value {e['value']:.0f}, {ev_t.get(id(e), 0) - crossed:.2f}s after it crossed; {e['message']}")


def run(a, work, rep):
    tag = f"lwlim{os.getpid()}x{os.urandom(3).hex()}"
    cfg = os.path.join(work, "limits.yaml")
    write(cfg, config(tag))
    growers = [Grower("low", tag, work, "fds", 400, 25, nofile=200),
               Grower("high", tag, work, "fds", 195, 25, nofile=1000)]
    root = os.geteuid() == 0
    pids = mem = None
    if root:
        pids, why_pids = make_limited("pids", tag, ("limited",), 24)
        free, why_free = make_limited("pids", f"{tag}f", ("free",), "max")
        if pids and free:
            pids.update(free)
        else:
            pids, why_pids = None, why_pids or why_free
        mem, why_mem = make_limited("memory", f"{tag}m", ("limited",), 256 * MIB)
    else:
        why_pids = why_mem = "not root"
    if pids:
        growers += [Grower("limited", tag, work, "threads", 40, 20, cgroup_procs=[pids["limited"]]),
                    Grower("free", tag, work, "threads", 8, 20, cgroup_procs=[pids["free"]])]
    else:
        NOTES.append(f"threads not checked: {why_pids}")
    if mem:
        growers.append(Grower("mem", tag, work, "rss", 160, 20, cgroup_procs=[mem["limited"]]))
    else:
        NOTES.append(f"rss not checked: {why_mem}")
    for n in NOTES:
        log("note: " + n)
    d = Daemon("daemon", a.daemon, cfg, work, ctl=a.ctl).start()
    PROCS["daemon"] = d.proc
    if not rep.check(d.wait_started(5, socket=bool(a.ctl)), "daemon started"):
        return
    for g in growers:
        g.start()
    by = {g.name: g for g in growers}

    def settled():
        evs = d.events()
        limits = {e.get("pid") for e in evs if e.get("event") == "limit"}
        want = {by[n].pid for n in ("low", "limited", "mem") if n in by}
        return want <= limits and all(g.peak() > 0 for g in growers) and time.time() - growers[0].started > 8
    wait_for(settled, 20, 0.25)
    events = d.events()
    ev_t = {}
    for e in events:
        try:
            ev_t[id(e)] = parse_ts(e["ts"])
        except (KeyError, ValueError, TypeError):
            pass
    status = d.ctl_json("status") if a.ctl else None
    if a.verbose:
        for e in events:
            log("  event " + json.dumps(e))

    found = {e.get("pid") for e in events if e.get("event") == "found"}
    rep.check(all(g.pid in found for g in growers), "every process found",
              ", ".join(f"{g.name} {g.pid}" for g in growers if g.pid not in found))
    check_limit(rep, events, by["low"], 180, "its RLIMIT_NOFILE", ev_t)
    if "limited" in by:
        check_limit(rep, events, by["limited"], 12, "its cgroup's pids.max", ev_t)
    if "mem" in by:
        check_limit(rep, events, by["mem"], 128 * MIB, "its cgroup's memory.max", ev_t)
    quiet = [g for g in growers if g.name in ("high", "free")]
    extra = [e for e in events if e.get("event") == "limit" and e.get("pid") in {g.pid for g in quiet}]
    rep.check(not extra, "no limit event for the processes under their own limits",
              "; ".join(e.get("message", "") for e in extra) or
              f"high peaked at {by['high'].peak()} fds of 1000" +
              (f", free at {by['free'].peak()} threads" if "free" in by else ""))
    warns = [e for e in events if e.get("event") == "error"]
    want_warn = []
    if "free" in by:
        want_warn = [e for e in warns if e.get("pid") == by["free"].pid and e.get("metric") == "threads" and
                     "threads max 50%: neither its cgroup nor one above it sets a pids.max; no threads max for it"
                     in e.get("message", "")]
        rep.check(len(want_warn) == 1, "one warning for the process whose cgroup sets no pids.max",
                  f"{len(want_warn)} of them")
    others = [e for e in warns if e not in want_warn]
    rep.check(not others, "no other error or warning", "; ".join(e.get("message", "") for e in others[:3]))
    if a.ctl:
        want = {by["low"].pid: ("fds", 180), by["high"].pid: ("fds", 900)}
        if "limited" in by:
            want[by["limited"].pid] = ("threads", 12)
            want[by["free"].pid] = ("threads", None)
        if "mem" in by:
            want[by["mem"].pid] = ("rss", 128 * MIB)
        got = {o.get("pid"): o.get(m, {}).get("limit", "missing") for o in (status or []) for p, (m, _) in
               want.items() if o.get("pid") == p}
        bad = {p: (got.get(p, "absent"), v) for p, (m, v) in want.items() if got.get(p, "absent") != v}
        rep.check(status is not None and not bad, "status --json: each process's own limit",
                  f"got, want: {bad}" if bad else f"{len(want)} processes")
    alive = d.proc.poll() is None
    rc = d.stop()
    PROCS.pop("daemon", None)
    rep.check(alive and rc == 0, "daemon ran throughout, exit 0 on SIGTERM", f"exit {rc}")


def add_args(ap):
    ap.add_argument("--ctl", help="path to leakwatchctl (status --json checked)")


def cleanup():
    """The cgroups (server_test_main has stopped the processes)."""
    remove_cgroups(lambda msg: log(f"limits: {msg}"))


if __name__ == "__main__":
    sys.exit(server_test_main("limits", __doc__, run, PROCS, 60, add_args=add_args, cleanup=cleanup))
