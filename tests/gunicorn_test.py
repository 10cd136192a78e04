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

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True     # importing lwtest must leave no tests/__pycache__
from lwtest import PROGRAMS, Deadline, Report, proc_rss, interrupt_on_term, kill_group

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
MIB = 1024 * 1024


PROCS = {}               # name -> Popen of what is still to be stopped


def log(msg):
    print(f"gunicorn: {msg}", flush=True)


# --- /proc -------------------------------------------------------------------

def proc_stat(pid):
    """(state, ppid, starttime) of pid, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rfind(b")") + 2:].split()
    return rest[0].decode(), int(rest[1]), int(rest[19])


def proc_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


def live_children(ppid):
    """{pid: starttime} of the living (not zombie) children of ppid."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = proc_stat(int(name))
        if st and st[1] == ppid and st[0] not in ("Z", "X"):
            out[int(name)] = st[2]
    return out


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


# --- the daemon's events -----------------------------------------------------

class EventReader(threading.Thread):
    def __init__(self, stream, path, verbose):
        super().__init__(daemon=True)
        self.stream = stream
        self.path = path
        self.verbose = verbose
        self.lock = threading.Lock()
        self.events = []           # (receive time, dict)
        self.bad = []              # lines that are not JSON objects

    def run(self):
        with open(self.path, "w") as out:
            for raw in self.stream:
                line = raw.decode(errors="replace").rstrip("\n")
                out.write(line + "\n")
                out.flush()
                t = time.time()
                try:
                    ev = json.loads(line)
                    if not isinstance(ev, dict):
                        raise ValueError
                except ValueError:
                    with self.lock:
                        self.bad.append(line)
                    continue
                with self.lock:
                    self.events.append((t, ev))
                if self.verbose or ev.get("event") in ("leak", "action", "error"):
                    log("  event " + line)

    def get(self, kind=None):
        with self.lock:
            return [(t, e) for t, e in self.events if kind is None or e.get("event") == kind]


# --- load ----------------------------------------------------------------------

class Load:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        # no proxy, whatever the environment says: only localhost traffic
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.lock = threading.Lock()
        self.served = 0
        self.served_leak = 0
        self.failed = []           # (t, path, why)
        self.leak_pids = {}        # worker pid -> /leak requests it served
        self.leak_done = []        # (time sent, time answered, worker pid) of each /leak served
        self.stop = threading.Event()

    def get(self, path):
        """(ok, body or reason)"""
        try:
            with self.opener.open(self.base + path, timeout=REQ_TIMEOUT_S) as resp:
                body = resp.read()
                if resp.status != 200:
                    return False, f"HTTP {resp.status}"
                return True, body
        except urllib.error.HTTPError as e:
            return False, f"HTTP {e.code}"
        except Exception as e:       # connection refused/reset, timeout, short read...
            return False, f"{type(e).__name__}: {e}"

    def client(self, idx, t0, duration):
        per = RATE / CLIENTS
        n = int(duration * per)      # bounded
        rnd = random.Random()
        for i in range(n):
            if self.stop.is_set():
                return
            # jittered, so the load is not phase-locked to the daemon's
            # sampling (250 ms is a multiple of the request period)
            due = t0 + (i + idx / CLIENTS + rnd.uniform(-0.45, 0.45)) / per
            delay = due - time.time()
            if delay > 0 and self.stop.wait(delay):
                return
            path = "/leak" if (i * CLIENTS + idx) % LEAK_EVERY == 0 else "/"
            sent = time.time()
            ok, res = self.get(f"/leak?ms={LEAK_MS}" if path == "/leak" else path)
            if ok and path == "/leak":
                m = re.match(rb"leaked pid=(\d+) ", res)
                if not m:
                    ok, res = False, f"unexpected /leak body {res[:60]!r}"
            elif ok and b"hello from pid" not in res:
                ok, res = False, f"unexpected / body {res[:60]!r}"
            with self.lock:
                if ok:
                    self.served += 1
                    if path == "/leak":
                        self.served_leak += 1
                        pid = int(m.group(1))
                        self.leak_pids[pid] = self.leak_pids.get(pid, 0) + 1
                        self.leak_done.append((sent, time.time(), pid))
                else:
                    self.failed.append((time.time(), path, res))

    def run(self, duration):
        t0 = time.time()
        threads = [threading.Thread(target=self.client, args=(i, t0, duration), daemon=True)
                   for i in range(CLIENTS)]
        for th in threads:
            th.start()
        return threads


# --- helpers -------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def yaml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(path, state_dir, pattern):
    lines = [
        "# written by tests/gunicorn_test.py",
        f"interval: {INTERVAL_MS}ms",
        f"state_dir: {yaml_str(state_dir)}",
        "watches:",
        "  - name: gunicorn-workers",
        "    match:",
        "      parent:",
        f"        cmdline: {yaml_str(pattern)}",
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


def stop_group(proc, wait_s):
    """SIGTERM the process group of proc, wait, then SIGKILL the group.
    Returns proc's exit status (None if it could not be reaped)."""
    if proc is None:
        return None
    if proc.poll() is None:
        kill_group(proc, signal.SIGTERM)
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            pass
    kill_group(proc, signal.SIGKILL)     # whatever is left in the group
    try:
        return proc.wait(2)
    except subprocess.TimeoutExpired:
        return None


def tail(path, n=25):
    try:
        with open(path, errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return []
    return lines[-n:]


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
    state = os.path.join(work, "state")
    runtime = os.path.join(work, "run")
    os.makedirs(state, exist_ok=True)
    os.makedirs(runtime, exist_ok=True)
    write_config(cfg, state, pattern)
    env = dict(os.environ, RUNTIME_DIRECTORY=runtime, STATE_DIRECTORY=state, LEAKWATCH_INSPECT_SCRIPT=SCRIPT)

    procs = PROCS
    watcher = None
    load = None
    try:
        # --- the daemon
        derr = open(os.path.join(work, "daemon.stderr"), "w")
        daemon = subprocess.Popen([daemon_path, "-c", cfg, "--log-target=json"], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=derr, env=env, start_new_session=True)
        derr.close()
        procs["daemon"] = daemon
        reader = EventReader(daemon.stdout, os.path.join(work, "events.jsonl"), a.verbose)
        reader.start()
        end = time.time() + 5
        while time.time() < end and daemon.poll() is None and not reader.get("start"):
            time.sleep(0.05)
        if not reader.get("start"):
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
        t_stop = time.time()
        daemon_alive_at_end = daemon.poll() is None
        if daemon_alive_at_end:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon_rc = daemon.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                daemon_rc = None
        else:
            daemon_rc = daemon.returncode
        daemon_stop_s = time.time() - t_stop
        if daemon_rc is not None:
            procs.pop("daemon", None)
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

    # per pid, the first ok signal action is the SIGTERM; another one for the
    # same pid can only be kill_after's SIGKILL
    signals, escalations, seen = [], [], set()
    for t, e in actions:
        if e.get("result") == "ok" and e.get("action") == "signal":
            (escalations if e.get("pid") in seen else signals).append((t, e))
            seen.add(e.get("pid"))
    by_result = {}
    for _, e in actions:
        by_result[e.get("result")] = by_result.get(e.get("result"), 0) + 1
    rep.check(any(e.get("pid") in workers for _, e in signals), "action ok (signal) on a worker",
              f"{len(signals)} ok; all action events by result: {by_result}")

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
    strays = []
    for e in found:
        if e.get("pid") == master or e.get("pid") not in workers:
            strays.append(f"found {e.get('pid')}")
    for t, e in actions:
        pid = e.get("pid")
        if pid == master or pid not in workers:
            strays.append(f"action {e.get('result')} on {pid}")
        elif ever[pid] > t:
            strays.append(f"action on {pid} before it was seen as a worker")
    rep.check(not strays and bool(found), "only workers found and acted on",
              f"{len(found)} found, {len(actions)} action events, master {master}, "
              f"{len(workers)} worker pids seen" + (": " + ", ".join(strays[:8]) if strays else ""))

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

    rep.check(daemon_alive_at_end and daemon_rc == 0 and not reader.bad, "daemon ran throughout, exit 0 on SIGTERM",
              f"exit {daemon_rc} after {daemon_stop_s:.1f}s"
              + ("" if daemon_alive_at_end else ", but it had exited before the end")
              + (f", {len(reader.bad)} non-JSON stdout lines" if reader.bad else ""))

    # --- numbers
    log(f"requests served {load.served}, failed {len(failed)}, workers recycled {recycled} "
        f"({in_flight} of them with a request in flight at the signal)")
    log("workers (seen from +s to +s under load, rss first -> peak, growth to the peak, /leak requests served):")
    for pid in sorted(rss, key=lambda p: ever[p]):
        pts = [(ts, r) for ts, r in rss[pid] if t_load <= ts <= t_end]
        if len(pts) < 2:
            continue
        # to the peak: a worker that exits on SIGTERM frees its leak on the way out
        peak = max(pts, key=lambda p: p[1])
        span = peak[0] - pts[0][0]
        rate = f"{(peak[1] - pts[0][1]) / span / MIB:.2f} MiB/s" if span >= 3 else "-"
        log(f"  pid {pid}: +{pts[0][0] - t0:.1f} to +{pts[-1][0] - t0:.1f}, "
            f"{pts[0][1] / MIB:.1f} -> peak {peak[1] / MIB:.1f} MiB, {rate}, "
            f"{load.leak_pids.get(pid, 0)} /leak")
    if rep.failed:
        log("gunicorn log (tail):")
        for line in tail(os.path.join(work, "gunicorn.log")):
            sys.stdout.write("    " + line)
        log("daemon stderr (tail):")
        for line in tail(os.path.join(work, "daemon.stderr")):
            sys.stdout.write("    " + line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--daemon", required=True, help="path to leakwatchd")
    ap.add_argument("--keep", help="keep the config, events and logs in this directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every event")
    a = ap.parse_args()
    if not os.access(a.daemon, os.X_OK):
        print(f"gunicorn: {a.daemon} is not an executable", file=sys.stderr)
        return 2
    if not os.access(GUNICORN, os.X_OK):
        print(f"gunicorn: {GUNICORN} is missing (Debian package gunicorn)", file=sys.stderr)
        return 2

    def overtime(signum, frame):
        raise Deadline

    interrupt_on_term()
    signal.signal(signal.SIGALRM, overtime)
    signal.alarm(DEADLINE_S)

    work = a.keep or tempfile.mkdtemp(prefix="leakwatch-gunicorn-")
    os.makedirs(work, exist_ok=True)
    rep = Report()
    t0 = time.time()
    try:
        run(a, work, rep)
    except Deadline:
        rep.check(False, "finished in time", f"still running after {DEADLINE_S}s, stopped")
    except KeyboardInterrupt:
        rep.check(False, "finished", "interrupted")
    except Exception as e:
        rep.check(False, "finished", f"{type(e).__name__}: {e}")
        import traceback
        traceback.print_exc()
    finally:
        signal.alarm(0)
        # nothing may interrupt the last cleanup
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        for name in list(PROCS):
            stop_group(PROCS.pop(name), 3)
    if rep.passed + rep.failed == 0:
        rep.check(False, "ran", "no check was made")
    log(f"took {time.time() - t0:.1f}s" + (f"; kept {work}" if rep.failed or a.keep else ""))
    if not a.keep and not rep.failed:
        shutil.rmtree(work, ignore_errors=True)
    print(f"gunicorn: {rep.passed} passed, {rep.failed} failed")
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
