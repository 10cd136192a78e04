#!/usr/bin/python3
"""leakwatch gunicorn test: leakwatchd recycles the leaking workers of a real
gunicorn (Debian's /usr/bin/gunicorn, sync workers) under load, and no
request is lost.

    /usr/bin/python3 tests/gunicorn_test.py --daemon build/leakwatchd [--keep DIR] [-v]

It starts leakwatchd --log-target=json with one watch on the workers of this
run's gunicorn master (interval 250ms, warm-up 2s, window 8s, rss growth
100M/h, on_leak: signal, signal TERM, kill_after 15s, cooldown 2s,
inspect: python with inspect_seconds 3s), then

    gunicorn --workers 3 --worker-class sync --bind 127.0.0.1:PORT
             --graceful-timeout 10 --chdir tests/programs --name MARKER
             gunicorn_app:app

in its own session.  The watch finds the workers by their parent, the master:
with python3-setproctitle installed gunicorn retitles the master
`gunicorn: master [MARKER]` and the watch uses
`parent: {cmdline: "gunicorn: master \\[MARKER\\]"}`; without it the master
keeps its argv (`/usr/bin/python3 /usr/bin/gunicorn ... --name MARKER ...`)
and the watch uses `parent: {cmdline: "gunicorn.*MARKER"}`.  The test says
which one it used.

LOAD_S seconds of steady load follow from CLIENTS threads (urllib, to
127.0.0.1 only, through no proxy, timeout per request, a bounded number of
requests, jittered so they are not phase-locked to the daemon's sampling):
RATE (40) requests/s in all, one in LEAK_EVERY (2) on /leak, the rest on /.
Each /leak keeps 256 KiB in the worker that serves it (5 MiB/s in all,
about 1.7 MiB/s per worker, though the kernel shares the accepts out
unevenly) and takes LEAK_MS (80) ms, so a worker is busy about half the time
and a SIGTERM often lands in the middle of a request.  A thread watches the
master's children in /proc all along.
Sync workers finish the request in hand on SIGTERM and exit; the master
forks a replacement.  Checks:

- at least one rss `leak` event for a worker;
- at least one `action` event with result ok (signal) for a worker;
- each signalled worker was inspected first (its `inspect` event came
  before its action), every inspection ok with the line of gunicorn_app.py
  that appends as its top site: under load, with no request lost;
- every pid the daemon found or acted on was a worker (a child of this
  run's master), never the master;
- the master stayed up the whole time (same pid and start time);
- every signalled worker exited (on SIGTERM, without kill_after's SIGKILL)
  and the master was back to 3 workers soon after each recycle;
- zero failed requests (any non-200 answer or exception is a failure);
- the daemon ran throughout and exited 0 on SIGTERM.

It prints the requests served and failed, the workers recycled and the
observed per-worker growth.  Gunicorn and the daemon run in their own
process groups, are stopped (SIGTERM, then SIGKILL to the group) on every
exit path, also on an exception, ^C, SIGTERM or the overall time limit
(DEADLINE_S).  One PASS/FAIL line per check, then
`gunicorn: N passed, M failed`; exit status 1 on any failure.  About 46 s.
"""

import os
import re
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True     # importing lwtest must leave no tests/__pycache__
from lwtest import (PROGRAMS, check_titles, HttpLoad, check_daemon_ran, free_port, live_children, log_tails,  # noqa: E402
                    proc_cmdline, proc_rss, proc_stat, rss_growth, server_test_main, split_signals,
                    start_event_daemon, stop_event_daemon, stop_group, strays, tail, yq)

GUNICORN = "/usr/bin/gunicorn"

INTERVAL_MS = 250
WARMUP_S = 2
WINDOW_S = 8
GROWTH = "100M/h"
KILL_AFTER_S = 15
COOLDOWN_S = 2
INSPECT_S = 3            # inspect: python, the two looks this far apart
SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "share", "leakwatch",
                      "inspect.py")

WORKERS = 3
CLIENTS = 4              # client threads
RATE = 40.0              # requests/s in all
LEAK_EVERY = 2           # one request in LEAK_EVERY goes to /leak
LEAK_MS = 80             # ... and takes this long in the worker (/leak?ms=)
LOAD_S = 45              # seconds of load
REQ_TIMEOUT_S = 10       # per request
BOOT_WAIT_S = 10         # for gunicorn to answer with all its workers
RECOVER_S = 5            # a signalled worker's replacement must be up this soon after it exits
EXIT_WAIT_S = 10         # a signalled worker must exit this soon (well before kill_after)
STOP_WAIT_S = 10         # for the daemon to exit on SIGTERM
DEADLINE_S = 78          # the whole run, cleanup included
POLL_S = 0.1             # /proc watch period


PROCS = {}               # name -> Popen of what is still to be stopped


def log(msg):
    print(f"gunicorn: {msg}", flush=True)


# --- /proc -------------------------------------------------------------------

class Watcher(threading.Thread):
    """Samples the master and its children every POLL_S seconds."""

    def __init__(self, master, master_start):
        super().__init__(daemon=True)
        self.master = master
        self.master_start = master_start
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.samples = []          # (t, frozenset of living children)
        self.ever = {}             # child pid -> first time seen
        self.rss = {}              # child pid -> [(t, rss)]
        self.master_down = None    # (t, why) of the first sample without the master

    def run(self):
        while not self.stop.is_set():
            t = time.time()
            st = proc_stat(self.master)
            kids = live_children(self.master)
            with self.lock:
                if self.master_down is None:
                    if st is None:
                        self.master_down = (t, "gone")
                    elif st[0] in ("Z", "X"):
                        self.master_down = (t, "exited (zombie)")
                    elif st[2] != self.master_start:
                        self.master_down = (t, "pid reused by another process")
                self.samples.append((t, frozenset(kids)))
                for pid in kids:
                    self.ever.setdefault(pid, t)
                    r = proc_rss(pid)
                    if r is not None:
                        self.rss.setdefault(pid, []).append((t, r))
            self.stop.wait(POLL_S)

    def snapshot(self):
        with self.lock:
            return list(self.samples), dict(self.ever), {p: list(v) for p, v in self.rss.items()}, \
                self.master_down


# --- load ----------------------------------------------------------------------

class Load(HttpLoad):
    """The test's load (lwtest.HttpLoad) with its figures."""

    def __init__(self, port):
        super().__init__(port, RATE, CLIENTS, LEAK_EVERY, f"ms={LEAK_MS}", REQ_TIMEOUT_S)


# --- helpers -------------------------------------------------------------------

def has_setproctitle(python):
    return subprocess.run([python, "-c", "import setproctitle"], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def gunicorn_python():
    try:
        with open(GUNICORN) as f:
            first = f.readline()
        if first.startswith("#!"):
            return first[2:].strip().split()[0]
    except OSError:
        pass
    return "/usr/bin/python3"


def write_config(path, state_dir, pattern):
    lines = [
        "# written by tests/gunicorn_test.py",
        f"interval: {INTERVAL_MS}ms",
        f"state_dir: {yq(state_dir)}",
        "watches:",
        "  - name: gunicorn-workers",
        "    match:",
        "      parent:",
        f"        cmdline: {yq(pattern)}",
        f"    warmup: {WARMUP_S}s",
        f"    window: {WINDOW_S}s",
        "    rss:",
        f"      growth: {GROWTH}",
        "    on_leak: signal",
        "    signal: TERM",
        f"    kill_after: {KILL_AFTER_S}s",
        f"    cooldown: {COOLDOWN_S}s",
        "    inspect: python",
        f"    inspect_seconds: {INSPECT_S}s",
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# --- the run -------------------------------------------------------------------

def run(a, work, rep):
    daemon_path = os.path.abspath(a.daemon)
    marker = f"lwgun{os.getpid()}x{os.urandom(3).hex()}"
    py = gunicorn_python()
    titled = has_setproctitle(py)
    if titled:
        pattern = f"gunicorn: master \\[{marker}\\]"
        mode = "setproctitle: workers matched by parent proc title"
    else:
        pattern = f"gunicorn.*{marker}"
        mode = f"no setproctitle for {py} (python3-setproctitle): workers matched by the master's argv"
    log(f"{mode}: parent cmdline {pattern!r}")

    cfg = os.path.join(work, "leakwatch.yaml")
    write_config(cfg, os.path.join(work, "state"), pattern)

    procs = PROCS
    watcher = None
    load = None
    try:
        # --- the daemon
        daemon, reader = start_event_daemon(daemon_path, cfg, work, procs, a.verbose, log,
                                            env={"LEAKWATCH_INSPECT_SCRIPT": SCRIPT})
        if reader is None:
            rep.check(False, "daemon started", f"exit {daemon.poll()}; stderr: "
                      + "".join(tail(os.path.join(work, "daemon.stderr"))).strip())
            return

        # --- gunicorn
        port = free_port()
        gerr = open(os.path.join(work, "gunicorn.log"), "w")
        genv = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")   # no __pycache__ in tests/programs
        gargv = [GUNICORN, "--workers", str(WORKERS), "--worker-class", "sync",
                 "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "10",
                 "--chdir", PROGRAMS, "--name", marker, "--log-level", "info",
                 "gunicorn_app:app"]
        master = subprocess.Popen(gargv, stdin=subprocess.DEVNULL, stdout=gerr, stderr=gerr,
                                  env=genv, start_new_session=True)
        gerr.close()
        procs["gunicorn"] = master
        # ready: it answers and has all its workers
        load = Load(port)
        end = time.time() + BOOT_WAIT_S
        ready = False
        while time.time() < end and master.poll() is None:
            if len(live_children(master.pid)) == WORKERS and load.get("/")[0]:
                ready = True
                break
            time.sleep(0.1)
        st = proc_stat(master.pid)
        if not ready or st is None:
            rep.check(False, "gunicorn started", f"exit {master.poll()}; log: "
                      + "".join(tail(os.path.join(work, "gunicorn.log"))).strip())
            return
        mcmd = proc_cmdline(master.pid) or ""
        log(f"master pid {master.pid}, port {port}, cmdline {mcmd!r}")
        watcher = Watcher(master.pid, st[2])
        watcher.start()

        # --- load
        log(f"load: {LOAD_S}s, {CLIENTS} clients, {RATE:g} req/s, 1 in {LEAK_EVERY} on /leak "
            f"(256 KiB and {LEAK_MS} ms each); work dir {work}")
        t_load = time.time()
        threads = load.run(LOAD_S)
        daemon_died = None
        while any(th.is_alive() for th in threads):
            if daemon_died is None and daemon.poll() is not None:
                daemon_died = time.time()
                log(f"daemon exited early with status {daemon.returncode}")
            time.sleep(0.2)
            if time.time() > t_load + LOAD_S + REQ_TIMEOUT_S + 2:
                load.stop.set()
                log("load threads did not finish in time")
                break
        t_end = time.time()
        # a recycle started near the end must be allowed to complete
        acts = [(t, e) for t, e in reader.get("action") if e.get("result") == "ok"]
        if acts and acts[-1][0] > t_end - (RECOVER_S + 1):
            time.sleep(min(RECOVER_S + 1, max(0.0, acts[-1][0] + RECOVER_S + 1 - time.time())))
        master_alive_at_end = master.poll() is None
        watcher.stop.set()
        watcher.join(2)

        # --- stop the daemon, then gunicorn
        daemon_alive_at_end, daemon_rc, daemon_stop_s = stop_event_daemon(daemon, procs, STOP_WAIT_S)
        reader.join(2)
        stop_group(master, 12)
        procs.pop("gunicorn", None)

        evaluate(rep, work, master.pid, reader, watcher, load, mcmd, pattern, marker, titled, t_load, t_end,
                 master_alive_at_end, daemon_alive_at_end, daemon_rc, daemon_stop_s)
    finally:
        if load is not None:
            load.stop.set()
        if watcher is not None:
            watcher.stop.set()
        for name in ("gunicorn", "daemon"):
            if name in procs:
                stop_group(procs[name], 3 if name == "daemon" else 12)
                procs.pop(name, None)


def evaluate(rep, work, master, reader, watcher, load, mcmd, pattern, marker, titled, t_load, t_end,
             master_alive_at_end, daemon_alive_at_end, daemon_rc, daemon_stop_s):
    samples, ever, rss, master_down = watcher.snapshot()
    workers = set(ever)
    leaks = [(t, e) for t, e in reader.get("leak")]
    actions = [(t, e) for t, e in reader.get("action")]
    found = [e for _, e in reader.get("found")]

    # the pattern really describes this master (POSIX ERE and Python re agree on it)
    if titled:
        rep.check(mcmd == f"gunicorn: master [{marker}]", "master proc title",
                  f"{mcmd!r}")
    else:
        rep.check(re.search(pattern, mcmd) is not None, "master argv carries the marker", f"{mcmd!r}")

    rss_leaks = [(t, e) for t, e in leaks if e.get("metric") == "rss" and e.get("pid") in workers]
    rep.check(bool(rss_leaks), "leak event for a worker",
              f"{len(rss_leaks)} rss leak event(s) for pids "
              f"{sorted({e['pid'] for _, e in rss_leaks})}; {len(leaks)} leak events in all")

    # per pid, the first ok signal action is the SIGTERM; another one can
    # only be kill_after's SIGKILL
    signals, escalations, by_result = split_signals(actions)
    rep.check(any(e.get("pid") in workers for _, e in signals), "action ok (signal) on a worker",
              f"{len(signals)} ok; all action events by result: {by_result}")
    if titled:
        check_titles(rep, rss_leaks + [(t, e) for t, e in signals if e.get("pid") in workers],
                            f"gunicorn: worker \\[{re.escape(marker)}\\]", "events name the worker (title)")

    # inspect: python: each leaking worker was inspected (ok, the line of
    # gunicorn_app.py that appends as its top site) before it was signalled
    inspects = {e.get("pid"): (t, e) for t, e in reader.get("inspect")}
    app = os.path.join(PROGRAMS, "gunicorn_app.py")
    with open(app) as f:
        site = next(f"{app}:{n}" for n, line in enumerate(f, 1) if "_kept.append(" in line)
    late = [e.get("pid") for t, e in signals if e.get("pid") not in inspects or inspects[e["pid"]][0] > t]
    good = [e for _, e in inspects.values() if e.get("result") == "ok" and e.get("top_site") == site]
    rep.check(bool(signals) and not late and len(good) == len(inspects), "each worker inspected before its signal",
              f"{len(inspects)} inspected, {len(good)} with top site {os.path.basename(site)}"
              + (f"; signalled before its inspection ended: {late}" if late else "")
              + (f"; e.g. {next(iter(inspects.values()))[1].get('message', '')[:160]}" if inspects else ""))

    # every pid the daemon found or acted on was a worker, never the master
    bad = strays(found, actions, master, workers, ever, "worker")
    rep.check(not bad and bool(found), "only workers found and acted on",
              f"{len(found)} found, {len(actions)} action events, master {master}, "
              f"{len(workers)} worker pids seen" + (": " + ", ".join(bad[:8]) if bad else ""))

    rep.check(master_down is None and master_alive_at_end, "master stayed up",
              f"pid {master}" + (f": {master_down[1]} at +{master_down[0] - samples[0][0]:.1f}s"
                                 if master_down else "") + ("" if master_alive_at_end else ", not alive at the end"))

    # each signalled worker exited, and the master was back to WORKERS soon after
    problems = []
    recycled = 0
    in_flight = 0              # recycles that caught a request in the middle
    t0 = samples[0][0] if samples else 0
    for t, e in signals:
        pid = e.get("pid")
        gone_at = next((ts for ts, kids in samples if ts >= t and pid not in kids), None)
        if gone_at is None or gone_at > t + EXIT_WAIT_S:
            problems.append(f"pid {pid} still running {EXIT_WAIT_S}s after SIGTERM")
            continue
        back = next((ts for ts, kids in samples if ts >= gone_at and len(kids) == WORKERS), None)
        if back is None or back > gone_at + RECOVER_S:
            problems.append(f"pid {pid} exited at +{gone_at - t0:.1f}s and the master was not back "
                            f"to {WORKERS} workers within {RECOVER_S}s")
            continue
        recycled += 1
        # /leak requests this worker answered after the daemon had reported
        # the signal: they were in its hands when SIGTERM came, and finished
        late = [d for d in load.leak_done if d[2] == pid and d[1] > t]
        in_flight += bool(late)
        log(f"  recycle pid {pid}: signal +{t - t0:.1f}s, exit +{gone_at - t0:.2f}s, "
            f"{WORKERS} workers again +{back - t0:.2f}s, "
            f"{len(late)} request(s) in flight finished after the signal")
    for t, e in escalations:
        problems.append(f"kill_after SIGKILL on {e.get('pid')}: {e.get('message')}")
    final = samples[-1][1] if samples else frozenset()
    if len(final) != WORKERS:
        problems.append(f"{len(final)} workers at the end, not {WORKERS}")
    rep.check(not problems and recycled > 0, "workers recycled cleanly, back to 3 each time",
              f"{recycled} recycled" + (": " + "; ".join(problems[:6]) if problems else ""))

    failed = load.failed
    detail = f"{load.served} served ({load.served_leak} on /leak), {len(failed)} failed"
    if failed:
        detail += ": " + "; ".join(f"+{ft - t0:.1f}s {p} {why}" for ft, p, why in failed[:6])
    rep.check(not failed and load.served > 0, "no failed requests", detail)

    check_daemon_ran(rep, reader, daemon_alive_at_end, daemon_rc, daemon_stop_s)

    # --- numbers
    log(f"requests served {load.served}, failed {len(failed)}, workers recycled {recycled} "
        f"({in_flight} of them with a request in flight at the signal)")
    log("workers (seen from +s to +s under load, rss first -> peak, growth to the peak, /leak requests served):")
    for pid in sorted(rss, key=lambda p: ever[p]):
        g = rss_growth(rss[pid], t_load, t_end, t0)
        if g:
            log(f"  pid {pid}: {g}, {load.leak_pids.get(pid, 0)} /leak")
    if rep.failed:
        log_tails(log, [("gunicorn log", os.path.join(work, "gunicorn.log")),
                        ("daemon stderr", os.path.join(work, "daemon.stderr"))])


def preflight(a):
    if not os.access(GUNICORN, os.X_OK):
        return f"{GUNICORN} is missing (Debian package gunicorn)"
    return None


if __name__ == "__main__":
    sys.exit(server_test_main("gunicorn", __doc__, run, PROCS, DEADLINE_S, preflight=preflight))
