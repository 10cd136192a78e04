#!/usr/bin/python3
"""Pre-fork copy on write: workers whose USS rises while their RSS stays flat.

    /usr/bin/python3 tests/cow_test.py --daemon build/leakwatchd --ctl build/leakwatchctl
                                       [--schema-dir DIR] [--keep DIR] [-v]

(`make cow` runs it; about 80 s.)  tests/programs/cow_prefork.py builds a
200 MiB heap of small tuples in a master and forks 2 workers that walk it
over 100 s, a slice every 0.5 s: each read writes a reference count, which
copies the page, so each worker's USS rises by about 1.9 MiB/s (7 GiB/h)
to the whole heap, while its RSS does not move (the inherited pages were
resident, and counted, from the fork on).  A second master with --freeze
is the control: its workers read the same pages without touching an
object, and their USS stays flat.

One daemon, interval 1 s, watches the workers of each (parent's cmdline:
the run's marker) with a window of 60 s and the same rate in both rules,
`rss: { growth: 1G/h }` and `uss: { growth: 1G/h }` (a seventh of the
unshare rate, far above anything RSS does), no max.  Checks: both
masters' workers found, never a master; a uss leak event for each
walking worker, its slope within 0.5x-2x of the rate measured here from
smaps_rollup; no rss leak event for any worker, whose rss verdict is ok
(judged, not warming) at the end; with --ctl, status --json shows each
walking worker's uss rising by more than half the heap while its rss
stays within 3%; the frozen workers have no leak event, their uss flat
and no leak verdict.  Every event, and every status read, fits the shipped schemas
(--schema-dir: another tree's, for a daemon built from another branch).
The figures read here from statm and smaps_rollup are printed.
"""
import json
import os
import sys
import time

sys.dont_write_bytecode = True     # importing lwtest must leave no tests/__pycache__
import lwtest  # noqa: E402
from lwtest import PROGRAMS, PYTHON, Daemon, Prog, proc_rss, server_test_main, wait_for  # noqa: E402

MIB = 1024 * 1024
HEAP_MIB = 200
WALK_S = 100
RATE = "1G/h"
RATE_BYTES_H = 1024 ** 3
RUN_S = 112              # the longest the workers are watched before the verdicts are read
SETTLE_S = 4             # after the last uss leak, for an rss event that would follow
SAMPLE_S = 5
PROCS = {}


def log(msg):
    print(msg, flush=True)


def smaps(pid):
    """(uss, pss) bytes of /proc/PID/smaps_rollup, or None when it is gone."""
    uss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(":")
                parts = rest.split()
                if key in ("Private_Clean", "Private_Dirty", "Private_Hugetlb"):
                    uss += int(parts[0]) * 1024
                elif key == "Pss":
                    pss = int(parts[0]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return uss, pss


def config(marker):
    rules = f"""    window: 60s
    rss: {{ growth: {RATE} }}
    uss: {{ growth: {RATE} }}
"""
    return f"""interval: 1s
watches:
  - name: cow
    match: {{ parent: {{ cmdline: "--marker {marker}-walk$" }} }}
{rules}  - name: cow-frozen
    match: {{ parent: {{ cmdline: "--marker {marker}-frozen$" }} }}
{rules}"""


class Master(Prog):
    def __init__(self, name, marker, work, freeze):
        self.status = os.path.join(work, name + ".json")
        argv = [PYTHON, os.path.join(PROGRAMS, "cow_prefork.py"), "--heap-mib", str(HEAP_MIB),
                "--walk-seconds", str(WALK_S), "--seconds", "300", "--status", self.status]
        argv += (["--freeze"] if freeze else []) + ["--marker", f"{marker}-{name}"]
        super().__init__(name, argv, work)

    def table(self):
        try:
            with open(self.status) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None


def fit(points):
    """The least-squares slope of [(t, y)], per second (0 with fewer than 2)."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mt = sum(t for t, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    return sum((t - mt) * (y - my) for t, y in points) / var if var else 0.0


def sample(d, a, pids, own, seen, t0):
    """One round of figures: this runner's own reading of each worker
    (statm, smaps_rollup) into own[pid], the daemon's status into seen[pid]."""
    now = time.time() - t0
    for pid in pids:
        rss, sm = proc_rss(pid), smaps(pid)
        if rss is not None and sm is not None:
            own.setdefault(pid, []).append((now, rss, sm[0], sm[1]))
    if a.ctl:
        for o in d.ctl_json("status") or []:
            if o.get("pid") in pids:
                seen.setdefault(o["pid"], []).append((now, o))


def read_rate(d, pids):
    """Print how often the daemon read each worker's smaps_rollup, beside
    statm: the samples in the buckets its history holds (history --json)."""
    for pid in pids:
        h = d.ctl_json("history", str(pid))
        if not h:
            continue
        n = {m: sum(b.get("samples", 0) for b in h.get(m) or []) for m in ("rss", "uss")}
        span = lwtest.parse_ts(h["rss"][-1]["t"]) - lwtest.parse_ts(h["rss"][0]["t"]) if h.get("rss") else 0
        per = f", a uss read every {span / (n['uss'] - 1):.1f} s" if n["uss"] > 1 and span else ""
        log(f"  pid {pid}: the daemon's history holds {n['rss']} rss samples and {n['uss']} uss samples "
            f"over {span:.0f} s{per}")


def run(a, work, rep):
    if a.schema_dir:
        lwtest.SCHEMAS.directory = a.schema_dir
    marker = f"lwcow{os.getpid()}x{os.urandom(3).hex()}"
    cfg = os.path.join(work, "cow.yaml")
    with open(cfg, "w") as f:
        f.write(config(marker))
    d = Daemon("daemon", a.daemon, cfg, work, ctl=a.ctl).start()
    PROCS["daemon"] = d.proc
    if not rep.check(d.wait_started(5, socket=bool(a.ctl)), "daemon started"):
        return
    walk, frozen = Master("walk", marker, work, False), Master("frozen", marker, work, True)
    for m in (walk, frozen):
        PROCS[m.name] = m.start().proc
    tables = wait_for(lambda: all(m.table() for m in (walk, frozen)) and [walk.table(), frozen.table()], 30, 0.1)
    if not rep.check(bool(tables), "both masters built their heap and forked",
                     "; ".join(f"{m.name}: exit {m.proc.poll()}" for m in (walk, frozen))):
        return
    t0 = min(m.started for m in (walk, frozen))
    wt, ft = tables
    log(f"heap {HEAP_MIB} MiB: {wt['entries']} entries built in {wt['build_s']} s; "
        f"walking workers {wt['workers']} (master {wt['master']}), frozen {ft['workers']} (master {ft['master']})")
    workers = wt["workers"] + ft["workers"]
    own, seen = {}, {}
    next_sample = 0.0
    last_leak = None
    while time.time() - t0 < RUN_S:
        if time.time() >= next_sample:
            sample(d, a, workers, own, seen, t0)
            next_sample = time.time() + SAMPLE_S
        leaks = {e.get("pid") for e in d.events() if e.get("event") == "leak" and e.get("metric") == "uss"}
        if last_leak is None and set(wt["workers"]) <= leaks:
            last_leak = time.time()
        if last_leak is not None and time.time() - last_leak >= SETTLE_S:
            break
        if d.proc.poll() is not None:
            break
        time.sleep(0.25)
    sample(d, a, workers, own, seen, t0)
    if a.ctl:
        read_rate(d, wt["workers"] + ft["workers"])
    events = d.events()
    alive = d.proc.poll() is None
    rc = d.stop()
    PROCS.pop("daemon", None)
    evaluate(rep, a, events, wt, ft, own, seen, t0)
    rep.check(alive and rc == 0, "daemon ran throughout, exit 0 on SIGTERM", f"exit {rc}")


def evaluate(rep, a, events, wt, ft, own, seen, t0):
    masters = {wt["master"], ft["master"]}
    workers = set(wt["workers"]) | set(ft["workers"])
    found = {e.get("pid") for e in events if e.get("event") == "found"}
    rep.check(workers <= found and not (found & masters), "the workers found, never a master",
              f"found {sorted(found)}, workers {sorted(workers)}, masters {sorted(masters)}")

    # the unshare rate as seen here: the least-squares slope of USS over the walk
    rates = {}
    for pid in sorted(workers):
        pts = own.get(pid, [])
        walking = [(t, u) for t, _, u, _ in pts if t < WALK_S - 2]
        rates[pid] = fit(walking) * 3600
        if pts:
            rss = [r for _, r, _, _ in pts]
            log(f"  pid {pid} ({'walk' if pid in wt['workers'] else 'frozen'}): statm rss "
                f"{min(rss) / MIB:.1f}..{max(rss) / MIB:.1f} MiB; smaps_rollup uss {pts[0][2] / MIB:.1f} -> "
                f"{pts[-1][2] / MIB:.1f} MiB, pss {pts[0][3] / MIB:.1f} -> {pts[-1][3] / MIB:.1f} MiB, "
                f"uss slope {rates[pid] / 1024 ** 3:.2f} GiB/h ({len(pts)} readings, +{pts[0][0]:.0f}..+{pts[-1][0]:.0f} s)")

    leaks = [e for e in events if e.get("event") == "leak"]
    for pid in wt["workers"]:
        mine = [e for e in leaks if e.get("pid") == pid and e.get("metric") == "uss"]
        e = mine[0] if mine else None
        slope = e.get("slope_per_hour", 0) if e else 0
        ok = e is not None and 0.5 * rates[pid] <= slope <= 2 * rates[pid] and slope >= RATE_BYTES_H
        when = lwtest.parse_ts(e.get("ts")) if e else None
        rep.check(ok, f"uss leak event for walking worker {pid}",
                  f"slope {slope / 1024 ** 3:.2f} GiB/h against {rates[pid] / 1024 ** 3:.2f} measured here, "
                  f"value {e.get('value', 0) / MIB:.1f} MiB at +{when - t0:.0f} s; {e.get('message', '')[:140]}"
                  if e else f"none; leak events: {[(x.get('pid'), x.get('metric')) for x in leaks]}")
    rss_leaks = [e for e in leaks if e.get("metric") == "rss"]
    rep.check(not rss_leaks, "no rss leak event at the same rate",
              "; ".join(f"{e.get('pid')}: {e.get('message', '')[:120]}" for e in rss_leaks)
              or f"{len(leaks)} leak events, all uss")
    frozen = [e for e in leaks if e.get("pid") in ft["workers"]]
    fr = [f"{pid} uss {own[pid][0][2] / MIB:.1f} -> {own[pid][-1][2] / MIB:.1f} MiB" for pid in ft["workers"]
          if own.get(pid)]
    rep.check(not frozen, "no leak event for the frozen workers (read without touching)",
              "; ".join(f"{e.get('pid')} {e.get('metric')}" for e in frozen) or ", ".join(fr))
    if a.ctl:
        check_status(rep, wt, ft, seen)


def check_status(rep, wt, ft, seen):
    """status --json over the run: uss rising, rss flat, the verdicts at the end."""
    problems, notes = [], []
    for pid in wt["workers"] + ft["workers"]:
        rows = [o for _, o in seen.get(pid, []) if isinstance(o.get("uss"), dict) and o["uss"].get("value")]
        if len(rows) < 3:
            problems.append(f"{pid}: {len(rows)} status rows with a uss value")
            continue
        uss = [o["uss"]["value"] for o in rows]
        rss = [o["rss"]["value"] for o in rows]
        spread = (max(rss) - min(rss)) / max(rss)
        last = rows[-1]
        rise = uss[-1] - uss[0]
        walking = pid in wt["workers"]
        if walking and rise < HEAP_MIB * MIB / 2:
            problems.append(f"{pid}: uss rose by {rise / MIB:.1f} MiB only")
        if not walking and (rise > 10 * MIB or last["uss"]["verdict"] not in ("ok", "warming")):
            problems.append(f"frozen {pid}: uss {rise / MIB:+.1f} MiB, verdict {last['uss']['verdict']}")
        if spread > 0.03:
            problems.append(f"{pid}: rss spread {spread:.1%}")
        # a walking worker's rss was judged (ok, not warming) by the time its uss leaked
        if last["rss"]["verdict"] not in (("ok",) if walking else ("ok", "warming")):
            problems.append(f"{pid}: rss verdict {last['rss']['verdict']} at the end")
        notes.append(f"{pid}: uss {uss[0] / MIB:.0f} -> {uss[-1] / MIB:.0f} MiB ({last['uss']['verdict']}), "
                     f"rss {min(rss) / MIB:.1f}..{max(rss) / MIB:.1f} MiB ({last['rss']['verdict']})")
    rep.check(not problems, "status: walking workers' uss up by more than half the heap, rss within 3%, "
              "frozen uss flat", "; ".join(problems + notes))


def add_args(ap):
    ap.add_argument("--ctl", help="path to leakwatchctl (status --json checked)")
    ap.add_argument("--schema-dir", help="validate against this tree's share/leakwatch/schema")


if __name__ == "__main__":
    sys.exit(server_test_main("cow", __doc__, run, PROCS, 150, add_args=add_args))
