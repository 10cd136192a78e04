#!/usr/bin/python3
"""Group totals against real recycled workers: a leak spread over workers
that no single one lives long enough to show is caught on their sum.

    /usr/bin/python3 tests/group_test.py --daemon build/leakwatchd [--ctl build/leakwatchctl]
                                         [--keep DIR] [-v]

(`make group` runs it; about 80 s.)  Three pools of tests/programs/
recycled_pool.py run at once under one daemon, each a master keeping 4
forked workers that live 20 s each (the window is 60 s) and leak 256 KiB/s
while they live:

- `leaky` (--keep-results): each finished worker hands its results to the
  master, which keeps them, and every new worker is forked from that grown
  master: the sum over the workers grows although none lives a window;
- `bounded`: the results die with their worker, each successor starts at
  the same base: the sum is a sawtooth that does not grow;
- `alerted`: as leaky, its group's on_leak alert (the default).

Each watch matches its pool's workers (by their parent's cmdline marker),
has a per-process rss growth rule that a worker's own rate would break if
it lived a window, and `group: { rss: { growth: 2G/h }, on_leak:
restart-unit }` with `unit: pool-test.service`, under `dry_run: true`.
Checked: no per-process leak event; exactly one group leak event for
`leaky` (group true, processes 4, one less at a respawn; rss growing), and
exactly one action event for it (restart-unit, dry-run, the unit named,
group true); one group leak event for `alerted`, and no action event; no
group event for `bounded`; every event valid against the
schema.  Once the verdicts are in, the daemon is restarted (SIGTERM, then
started again on its saved history, as a package upgrade does): it says
that the 3 groups continue their saved totals; with --ctl, `leakwatchctl
status --watches --json` shows the groups' verdicts at once (leak for
leaky and alerted, ok for bounded), and the counts above are over both
runs (no second leak event, no second action after the restart).
"""
import json
import os
import sys
import time

sys.dont_write_bytecode = True     # importing lwtest must leave no tests/__pycache__
from lwtest import PROGRAMS, PYTHON, Daemon, Prog, checked_json, of, server_test_main, wait_for  # noqa: E402

INTERVAL = "500ms"
WINDOW_S = 60
LIFE_S = 20
WORKERS = 4
UNIT = "pool-test.service"
POOLS = ("leaky", "bounded", "alerted")
PROCS = {}               # name -> Popen, stopped by server_test_main


def log(msg):
    print(msg, flush=True)


def config(tag):
    watches = ""
    for name in POOLS:
        watches += f"""  - name: {name}
    match:
      parent: {{ cmdline: "recycled_pool\\\\.py .*--tag {tag}-{name}" }}
    window: {WINDOW_S}s
    rss: {{ growth: 200M/h }}
    unit: {UNIT}
    group:
      rss: {{ growth: 2G/h }}
"""
        if name != "alerted":
            watches += "      on_leak: restart-unit\n"
    return f"interval: {INTERVAL}\ndry_run: true\nwatches:\n{watches}"


def pool(tag, name, work):
    argv = [PYTHON, os.path.join(PROGRAMS, "recycled_pool.py"), "--workers", str(WORKERS), "--life", str(LIFE_S),
            "--rate", "256", "--status", os.path.join(work, name + ".status"), "--seconds", "300",
            "--log", os.path.join(work, name + ".log")]
    if name != "bounded":
        argv.append("--keep-results")
    return Prog(name, argv + ["--tag", f"{tag}-{name}"], work)


def check_group_leak(rep, events, name="leaky"):
    leaks = [e for e in of(events, "leak", name) if e.get("group")]
    if not rep.check(len(leaks) == 1, f"one group leak event for {name}", f"{len(leaks)} of them"):
        return
    e = leaks[0]
    problems = []
    if e.get("metric") != "rss" or "pid" in e or "comm" in e:
        problems.append(f"metric {e.get('metric')}, pid {e.get('pid')}")
    if e.get("processes") not in (WORKERS - 1, WORKERS):
        problems.append(f"processes {e.get('processes')}")
    if not isinstance(e.get("slope_per_hour"), int) or e["slope_per_hour"] < 2 * 1024 ** 3:
        problems.append(f"slope {e.get('slope_per_hour')}")
    if not e.get("message", "").startswith(f"{name}: group of {e.get('processes')} processes: rss leak: "):
        problems.append(f"message {e.get('message')!r}")
    rep.check(not problems, f"{name}'s group leak: rss, processes 4 (3 at a respawn), growing, no pid",
              "; ".join(problems) or e.get("message", ""))


def check_action(rep, events):
    acts = of(events, "action", "leaky")
    if not rep.check(len(acts) == 1, "one action event for leaky", "; ".join(a.get("message", "") for a in acts)):
        return
    a = acts[0]
    ok = (a.get("group") is True and a.get("action") == "restart-unit" and a.get("result") == "dry-run"
          and a.get("unit") == UNIT and "pid" not in a)
    rep.check(ok, "its action: restart-unit, dry-run, the unit named, about the group", a.get("message", ""))


def check_status(rep, d):
    r = d.ctl_run("status", "--watches", "--json")
    try:
        watches = checked_json("watches", r.stdout) if r.returncode == 0 else None
    except ValueError as e:
        return rep.check(False, "status --watches --json: valid", str(e))
    got, trend = {}, {}
    for w in watches or []:
        rss = (w.get("group") or {}).get("rss") or {}
        got[w.get("watch")] = rss.get("verdict")
        trend[w.get("watch")] = rss.get("trend_per_hour")
    rep.check(got == {"leaky": "leak", "bounded": "ok", "alerted": "leak"},
              "status --watches: the groups' rss verdicts",
              ", ".join(f"{n} {got.get(n)} (trend {trend.get(n)}/h)" for n in POOLS))


def run(a, work, rep):
    t0 = time.time()
    tag = f"lwgrp{os.getpid()}x{os.urandom(3).hex()}"
    cfg = os.path.join(work, "group.yaml")
    with open(cfg, "w") as f:
        f.write(config(tag))
    d = Daemon("daemon", a.daemon, cfg, work, ctl=a.ctl).start()
    PROCS["daemon"] = d.proc
    if not rep.check(d.wait_started(5, socket=bool(a.ctl)), "daemon started"):
        return
    pools = {n: pool(tag, n, work).start() for n in POOLS}
    for n, p in pools.items():
        PROCS[n] = p.proc

    def leaked():
        evs = d.events()
        return (any(e.get("group") for e in of(evs, "action", "leaky")) and
                any(e.get("group") for e in of(evs, "leak", "alerted")))
    # the first group verdict needs a window of the group's history, and
    # the trend a little more: about 75 s
    wait_for(leaked, WINDOW_S + 50, 0.5)
    # a restart (as a package upgrade makes one): the groups go on with
    # the totals saved, their verdicts already reported
    rc = d.stop()
    rep.check(rc == 0, "daemon stopped on SIGTERM mid-incident, exit 0", f"exit {rc}")
    d.start()
    PROCS["daemon"] = d.proc
    if not rep.check(d.wait_started(5, socket=bool(a.ctl)), "daemon restarted on the saved history"):
        return
    with open(d.err, errors="replace") as f:
        said = [ln.strip() for ln in f if "group totals" in ln]
    rep.check(any("the group totals of 3 watches continue their saved history" in ln for ln in said),
              "the restarted daemon continues the 3 groups' saved totals", "; ".join(said) or "nothing said")
    if a.ctl:
        check_status(rep, d)       # at once: the verdicts came with the history
    # a while more: no second event, no verdict for bounded
    time.sleep(LIFE_S / 2)
    events = d.all_events()
    if a.verbose:
        for e in events:
            log("  event " + json.dumps(e))
    found = of(events, "found")
    rep.check(len({e.get("pid") for e in found}) >= len(POOLS) * (WORKERS + 4), "the workers found as they were forked",
              f"{len(found)} found events")
    per_process = [e for e in of(events, "leak") if not e.get("group")]
    rep.check(not per_process, "no per-process leak event (no worker lives a window)",
              "; ".join(e.get("message", "") for e in per_process[:3]))
    check_group_leak(rep, events)
    check_action(rep, events)
    check_group_leak(rep, events, "alerted")
    acts = of(events, "action", "alerted")
    rep.check(not acts, "no action event for alerted (on_leak: alert)", "; ".join(a.get("message", "") for a in acts))
    bounded = [e for e in events if e.get("watch") == "bounded" and e.get("event") in ("leak", "limit", "action")]
    rep.check(not bounded, "nothing for bounded (its sum does not grow)",
              "; ".join(e.get("message", "") for e in bounded[:3]))
    errors = of(events, "error")
    rep.check(not errors, "no error or warning", "; ".join(e.get("message", "") for e in errors[:3]))
    alive = d.proc.poll() is None
    rc = d.stop()
    PROCS.pop("daemon", None)
    rep.check(alive and rc == 0, "daemon ran throughout, exit 0 on SIGTERM", f"exit {rc}")
    log(f"group: wall {time.time() - t0:.0f}s")


def add_args(ap):
    ap.add_argument("--ctl", help="path to leakwatchctl (status --watches --json checked)")


if __name__ == "__main__":
    sys.exit(server_test_main("group", __doc__, run, PROCS, 170, add_args=add_args))
