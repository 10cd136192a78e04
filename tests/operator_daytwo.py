"""The day-two checks of tests/operator_test.py, against its phase-1 daemon
once the baseline leaked and the capture watch acted (leakwatchctl(1)
status --watch, --verdict, --watches, reload, forget):

- watch-lines: the status table's line per watch (processes, leaking, over
  a limit, last action) and `status --watches --json` agree with each
  other, with `status --json` and with the event stream (the capture
  watch's last action is its last action event; the others have none).
- status-filters: --watch idle lists exactly the idle pids, --verdict leak
  the baseline leaker and no idle one, both together nothing (the table
  says so); an unknown watch is exit 1 with the watches named.
- ctl-shared-socket: the socket opened to every user (chmod 0666): user
  nobody reads the status, but forget and reload are refused (exit 1,
  permission denied), and nothing is forgotten.
- forget: an idle process is forgotten (a gone event, result forgotten),
  found again within 2.5 s (the next discovery), with a history of a few
  samples where it had tens; an unwatched pid is exit 1.
- reload: a fourth watch with a server warning (a uWSGI recipe with signal
  TERM): exit 0, "4 watches, 1 warning" and the warning's line; a broken
  file: exit 1, one line with its errors, the 4 watches kept; the file as
  it was: "3 watches, no warnings"; a reload event for each.
"""

import json
import os
import re
import shutil
import subprocess
import time

from lwtest import Check, of, parse_ts, status_table, wait_for

INTERVAL_S = 0.2
REFOUND_S = 2.5      # discovery runs once a second: found again at the next one
SPARE = ["  - name: spare",
         "    match:",
         "      cmdline: \"^api uWSGI worker [0-9]+$\"",
         "      parent: { cmdline: \"^api uWSGI master$\" }",
         "    rss: { max: 1G }",
         "    on_limit: signal",
         "    signal: TERM",
         "    kill_after: 65s"]
LINE = re.compile(r"^(\S+): (\d+) process(?:es)?, (\d+) leaking, (\d+) over a limit, "
                  r"(?:last action (\S+) (\S+) (\S+) ago \(pid (\d+)\)|no action yet)$")


def run(argv, env=None, timeout=20):
    return subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, encoding="utf-8",
                          errors="replace", timeout=timeout)


def ctl_json(ctl, daemon, *args):
    r = run([ctl, *args, "--json"], daemon.ctl_env())
    try:
        return json.loads(r.stdout) if r.returncode == 0 else None
    except ValueError:
        return None


def check_watch_lines(ctl, daemon, names):
    c = Check("watch-lines")
    env = daemon.ctl_env()
    problems = []
    for attempt in (1, 2):      # a verdict may change between the three queries: look again
        problems = []
        procs = ctl_json(ctl, daemon, "status") or []
        summary = ctl_json(ctl, daemon, "status", "--watches")
        table = run([ctl, "status"], dict(env, COLUMNS="80"))
        evs = daemon.events()
        if not isinstance(summary, list):
            c.fail("status --watches --json is not a JSON array")
            return c
        if [w.get("watch") for w in summary] != names:
            problems.append(f"watches {[w.get('watch') for w in summary]}, not {names}")
        lines = status_table(table.stdout)["watch_lines"]
        if len(lines) != len(names):
            problems.append(f"{len(lines)} watch lines in the table: {lines[:4]}")
        if any(len(ln) > 80 for ln in table.stdout.split("\n")):
            problems.append("a table line is wider than 80 columns")
        for w, ln in zip(summary, lines):
            name = w.get("watch")
            mine = [p for p in procs if p.get("watch") == name]
            want = (len(mine), sum(any(p[m]["verdict"] == "leak" for m in ("rss", "fds", "threads")) for p in mine),
                    sum(any(p[m]["verdict"] == "limit" for m in ("rss", "fds", "threads")) for p in mine))
            got = (w.get("processes"), w.get("leaking"), w.get("over_limit"))
            if got != want:
                problems.append(f"{name}: processes, leaking, over a limit {got}, status --json says {want}")
            m = LINE.match(ln)
            if not m or m.group(1) != name or tuple(int(x) for x in m.group(2, 3, 4)) != got:
                problems.append(f"{name}: table line {ln!r}, the JSON says {got}")
                continue
            acts = of(evs, "action", name)
            la = w.get("last_action")
            if not acts:
                if la is not None or m.group(5):
                    problems.append(f"{name}: last action {la!r} ({ln!r}), and it never acted")
                continue
            e = acts[-1]
            if not isinstance(la, dict) or (la.get("action"), la.get("result"), la.get("pid")) != \
                    (e.get("action"), e.get("result"), e.get("pid")):
                problems.append(f"{name}: last action {la!r}, its last event {e.get('action')} {e.get('result')} "
                                f"pid {e.get('pid')}")
                continue
            if la.get("ts") != e.get("ts") or not isinstance(la.get("seconds_ago"), int) or \
                    la["seconds_ago"] > time.time() - daemon_ts(e) + 1:
                problems.append(f"{name}: last action ts {la.get('ts')} ({la.get('seconds_ago')} s ago), "
                                f"the event's {e.get('ts')}")
            if m.group(5, 6, 8) != (la["action"], la["result"], str(la["pid"])):
                problems.append(f"{name}: table line {ln!r}, the JSON says {la}")
        if not problems:
            acted = [ln for ln in lines if "last action" in ln]
            c.note(f"{len(lines)} watches, e.g. {acted[0] if acted else lines[0]!r}"
                   + (" (second look)" if attempt == 2 else ""))
            break
        time.sleep(1)
    for p in problems:
        c.fail(p)
    return c


def daemon_ts(e):
    return parse_ts(e.get("ts")) or 0


def pids(arr):
    return {p.get("pid") for p in arr or []}


def check_status_filters(ctl, daemon, idle_pids, leaker_pid, names):
    c = Check("status-filters")
    env = daemon.ctl_env()
    idle = ctl_json(ctl, daemon, "status", "--watch", "idle")
    if pids(idle) != set(idle_pids):
        c.fail(f"--watch idle: pids {sorted(pids(idle))}, not {sorted(idle_pids)}")
    leak = ctl_json(ctl, daemon, "status", "--verdict", "leak")
    if leak is None or leaker_pid not in pids(leak) or pids(leak) & set(idle_pids):
        c.fail(f"--verdict leak: pids {sorted(pids(leak))}, want {leaker_pid} and no idle one")
    for p in leak or []:
        if not any(p[m]["verdict"] == "leak" for m in ("rss", "fds", "threads")):
            c.fail(f"--verdict leak: pid {p.get('pid')} has no metric at leak")
    both = ctl_json(ctl, daemon, "status", "--watch", "idle", "--verdict", "leak")
    if both != []:
        c.fail(f"--watch idle --verdict leak: {both!r:.100}, not []")
    res = run([ctl, "status", "--watch", "idle", "--verdict", "leak"], env)
    if res.returncode != 0 or "\n(no process of watch idle with a metric at leak)\n" not in res.stdout:
        c.fail(f"--watch idle --verdict leak (table): exit {res.returncode}, {res.stdout[-120:]!r}")
    res = run([ctl, "status", "--watch", "idle"], env)
    t = status_table(res.stdout)
    rows = {p["pid"] for p in t["procs"] if p["watch"] == "idle"}
    wl = t["watch_lines"]
    if res.returncode != 0 or rows != set(idle_pids) or len(wl) != 1 or not wl[0].startswith("idle: "):
        c.fail(f"--watch idle (table): exit {res.returncode}, rows {sorted(rows)}, watch lines {wl}")
    res = run([ctl, "status", "--watch", "nope"], env)
    want = f"leakwatchctl: no watch is named 'nope': the watches are {', '.join(names[:-1])} and {names[-1]}\n"
    if res.returncode != 1 or res.stderr != want or res.stdout:
        c.fail(f"--watch nope: exit {res.returncode}, stderr {res.stderr!r}")
    if c.ok:
        c.note(f"--watch idle: {len(idle)}, --verdict leak: {sorted(pids(leak))}; unknown watch: exit 1")
    return c


def check_shared_socket(ctl, daemon, work, pid):
    c = Check("ctl-shared-socket")
    if os.geteuid() != 0:
        c.fail("needs root: the client must be another user than the daemon")
        return c
    mine = os.path.join(work, "leakwatchctl")
    if not os.path.exists(mine):
        shutil.copy(ctl, mine)
        os.chmod(mine, 0o755)
    for d in (work, daemon.env["RUNTIME_DIRECTORY"]):
        os.chmod(d, 0o755)
    os.chmod(daemon.socket, 0o666)
    try:
        env = dict(daemon.ctl_env(), HOME="/")
        nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", mine]
        res = run(nobody + ["status", "--json"], env)
        try:
            ok = isinstance(json.loads(res.stdout), list)
        except ValueError:
            ok = False
        if res.returncode != 0 or not ok:
            c.fail(f"status as nobody: exit {res.returncode}, {res.stderr.strip()[:120]!r}")
        for cmd in (["forget", str(pid)], ["reload"]):
            res = run(nobody + cmd, env)
            want = f"leakwatchctl: permission denied: only root or leakwatchd's own user may {cmd[0]}\n"
            if res.returncode != 1 or res.stderr != want or res.stdout:
                c.fail(f"{cmd[0]} as nobody: exit {res.returncode}, stderr {res.stderr!r}")
    finally:
        os.chmod(daemon.socket, 0o600)
    if [e for e in of(daemon.events(), "gone", None, pid) if e.get("result") == "forgotten"]:
        c.fail(f"pid {pid} was forgotten at nobody's request")
    if c.ok:
        c.note("nobody reads the status; forget and reload: permission denied")
    return c


def history_samples(ctl, daemon, pid):
    h = ctl_json(ctl, daemon, "history", str(pid))
    try:
        return sum(b["samples"] for b in h["rss"])
    except (TypeError, KeyError):
        return None


def check_forget(ctl, daemon, pid):
    c = Check("forget")
    env = daemon.ctl_env()
    before = history_samples(ctl, daemon, pid)
    if not before or before < 20:
        c.fail(f"pid {pid} had {before} samples before: too few to tell a fresh history")
    t0 = time.time()
    res = run([ctl, "forget", str(pid)], env)
    want = (f"idle: pid {pid} forgotten: its history, verdicts and withheld actions are dropped; "
            f"matched afresh at the next discovery\n")
    if res.returncode != 0 or res.stdout != want or res.stderr:
        c.fail(f"forget {pid}: exit {res.returncode}, stdout {res.stdout!r}, stderr {res.stderr!r}")

    def refound():
        evs = [e for e in daemon.events() if e.get("pid") == pid and e.get("event") in ("found", "gone")]
        return evs if len(evs) >= 3 and evs[-1].get("event") == "found" else None
    evs = wait_for(refound, REFOUND_S, 0.05)
    took = time.time() - t0
    evs = evs or [e for e in daemon.events() if e.get("pid") == pid and e.get("event") in ("found", "gone")]
    kinds = [(e.get("event"), e.get("result")) for e in evs]
    if kinds[-2:] != [("gone", "forgotten"), ("found", None)]:
        c.fail(f"events about pid {pid}: {kinds}, want ... gone (forgotten), found within {REFOUND_S}s")
    else:
        gone = evs[-2]
        if "forgotten (leakwatchctl forget)" not in gone.get("message", ""):
            c.fail(f"gone message {gone.get('message')!r}")
        if "history kept" in evs[-1].get("message", ""):
            c.fail(f"found message {evs[-1].get('message')!r} says history was kept")
    after = history_samples(ctl, daemon, pid)
    most = (time.time() - t0) / INTERVAL_S + 2
    if after is None or after > most:
        c.fail(f"history after: {after} samples, more than {most:.0f} in the {time.time() - t0:.1f}s since")
    me = os.getpid()
    res = run([ctl, "forget", str(me)], env)
    if res.returncode != 1 or res.stderr != f"leakwatchctl: pid {me} is not watched: nothing to forget\n":
        c.fail(f"forget an unwatched pid: exit {res.returncode}, stderr {res.stderr!r}")
    if c.ok:
        c.note(f"found again {took:.2f}s after; {before} samples before, {after} after")
    return c


def reload(ctl, daemon):
    t = time.time()
    res = run([ctl, "reload"], daemon.ctl_env())
    return res, time.time() - t


def check_reload(ctl, daemon, cfg_path, names):
    c = Check("reload")
    with open(cfg_path) as f:
        original = f.read()
    n_before = len(of(daemon.events(), "reload"))
    took = []
    try:
        with open(cfg_path, "w") as f:
            f.write(original + "\n".join(SPARE) + "\n")
        res, t = reload(ctl, daemon)
        took.append(t)
        lines = res.stdout.split("\n")
        if res.returncode != 0 or lines[0] != f"configuration reloaded from {cfg_path}: 4 watches, 1 warning" or \
                not lines[1].startswith("warning: spare: signal TERM ends a uWSGI worker") or res.stderr:
            c.fail(f"a fourth watch: exit {res.returncode}, stdout {res.stdout[:200]!r}, stderr {res.stderr!r}")
        w = ctl_json(ctl, daemon, "status", "--watches")
        if [x.get("watch") for x in w or []] != names + ["spare"]:
            c.fail(f"after it, watches {[x.get('watch') for x in w or []]}")
        with open(cfg_path, "w") as f:
            f.write(original + "  - name: broken\n    bogus: 3\n")
        res, t = reload(ctl, daemon)
        took.append(t)
        want = ("leakwatchctl: configuration reload failed, the old configuration stays in force: "
                f"{cfg_path}:")
        if res.returncode != 1 or not res.stderr.startswith(want) or res.stderr.count("\n") != 1 or \
                ": error: " not in res.stderr or res.stdout:
            c.fail(f"a broken file: exit {res.returncode}, stderr {res.stderr[:200]!r}")
        w = ctl_json(ctl, daemon, "status", "--watches")
        if [x.get("watch") for x in w or []] != names + ["spare"]:
            c.fail(f"after the failed reload, watches {[x.get('watch') for x in w or []]}: not the 4 in force")
    finally:
        with open(cfg_path, "w") as f:
            f.write(original)
    res, t = reload(ctl, daemon)
    took.append(t)
    if res.returncode != 0 or res.stdout != f"configuration reloaded from {cfg_path}: 3 watches, no warnings\n":
        c.fail(f"the file as it was: exit {res.returncode}, stdout {res.stdout!r}, stderr {res.stderr!r}")
    evs = of(daemon.events(), "reload")[n_before:]
    if [(e.get("result"), e.get("watches")) for e in evs] != [("ok", 4), ("failed", None), ("ok", 3)]:
        c.fail(f"reload events {[(e.get('result'), e.get('watches')) for e in evs]}")
    if daemon.proc.poll() is not None:
        c.fail(f"the daemon exited: {daemon.proc.returncode}")
    if c.ok:
        c.note(f"4 watches + 1 warning, a broken file refused, 3 again; answered in "
               f"{', '.join(f'{t * 1000:.0f}' for t in took)} ms")
    return c
