#!/usr/bin/python3
"""leakwatch uWSGI test: leakwatchd recycles the leaking workers of a real
uWSGI (Debian's /usr/bin/uwsgi 2.0 with its python3 and http plugins) under
load through uWSGI's own HTTP router, and no request is lost.

    /usr/bin/python3 tests/uwsgi_test.py --daemon build/leakwatchd [--keep DIR] [-v]

uWSGI's master, workers and HTTP router are one program with one argv until
it renames them: this run's uWSGI is started with

    uwsgi --plugin python3,http --master --processes 3
          --http 127.0.0.1:PORT --auto-procname --procname-prefix-spaced MARKER
          --wsgi-file tests/programs/uwsgi_app.py --worker-reload-mercy MERCY
          --die-on-term --need-app --disable-logging

in its own session, and its processes call themselves `MARKER uWSGI master`,
`MARKER uWSGI worker N` (N = 1..3, the worker's slot) and `MARKER uWSGI
http 1`.  leakwatchd --log-target=json watches them with the recipe's rule

    match:
      cmdline: "^MARKER uWSGI worker [0-9]+$"
      parent: { cmdline: "^MARKER uWSGI master$" }
    signal: HUP                 # a uWSGI worker ends its request, then exits
    kill_after: MERCY + 2 s     # uWSGI's own patience for a worker reload

(interval 250ms, warm-up 2s, window 8s, rss growth 100M/h, on_leak:
signal, cooldown 2s).  SIGTERM would be wrong: a uWSGI worker exits on it at
once, in the middle of its request ("DAMN ! worker N (pid: P) died"), and
the client gets no answer; SIGINT too.  SIGQUIT is worse: a worker the
master respawned handles it as the master would, and kills the router.  The
master does not know of a signal sent to a worker, so its
--worker-reload-mercy never applies to it (a SIGHUP'd worker finished a 5 s
request with a mercy of 2 s): kill_after stands in for it.  On this kernel
/proc/PID/cmdline holds the title and one NUL (uWSGI pads its argv area
with spaces after a NUL, and the kernel then stops at that NUL); leakwatch
drops trailing NULs anyway, so `$` holds either way.

LOAD_S seconds of steady load follow from CLIENTS threads (urllib, to
127.0.0.1 only, no proxy, a timeout per request, a bounded number of
requests, jittered so they are not phase-locked to the daemon's sampling),
RATE (40) requests/s in all through the router, one in LEAK_EVERY (2) on
/leak, which keeps 256 KiB in the worker that serves it and takes LEAK_MS
(80) ms, so that a worker is busy about half the time and a SIGHUP often
lands in the middle of a request.  A thread watches the master's children
in /proc all along, with their titles.  Checks:

- the titles are what the recipe says (the master's, the router's, each
  worker's; /proc/PID/cmdline may hold NULs after the title);
- at least one rss `leak` event for a worker, one ok signal `action`;
- every pid the daemon found or acted on was a worker (titled `MARKER uWSGI
  worker N`), never the master nor the router;
- the master and the router kept their pids throughout;
- every signalled worker exited soon (before kill_after: no SIGKILL), and
  its slot came back: a new `MARKER uWSGI worker N` for the same N; 3
  workers at the end; uWSGI's log says it gracefully killed them;
- at least MIN_REQUESTS requests, and zero failed (a non-200 answer, a
  wrong body, an exception);
- the daemon ran throughout and exited 0 on SIGTERM.

uWSGI and the daemon run in their own process groups and are stopped
(SIGTERM, then SIGKILL to the group) on every exit path: an exception, ^C,
SIGTERM, the overall time limit (DEADLINE_S).  One PASS/FAIL line per
check, a summary line, then `uwsgi: N passed, M failed`; exit status 1 on
any failure.  About 50 s.

bench/uwsgi_limits.py uses the same pieces to compare leakwatch's recycling
with uWSGI's own --reload-on-rss and --evil-reload-on-rss.
"""

import os
import re
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True     # importing lwtest must leave no tests/__pycache__
from lwtest import (PROGRAMS, check_titles, HttpLoad, check_daemon_ran, free_port, log_tails, proc_rss, proc_stat,  # noqa: E402
                    rss_growth, server_test_main, split_signals, start_event_daemon, stop_event_daemon, stop_group,
                    tail, yq)
from lwtest import cmdline_text as title, live_children as children, proc_cmdline_raw as cmdline_raw  # noqa: E402

UWSGI = "/usr/bin/uwsgi"
APP = os.path.join(PROGRAMS, "uwsgi_app.py")

INTERVAL_MS = 250
WARMUP_S = 2
WINDOW_S = 8
GROWTH = "100M/h"
MERCY_S = 10             # --worker-reload-mercy (uWSGI's default is 60)
KILL_AFTER_S = MERCY_S + 2
COOLDOWN_S = 2

WORKERS = 3
CLIENTS = 4              # client threads
RATE = 40.0              # requests/s in all
LEAK_EVERY = 2           # one request in LEAK_EVERY goes to /leak
LEAK_MS = 80             # ... and takes this long in the worker
LOAD_S = 40              # seconds of load
MIN_REQUESTS = 1000
REQ_TIMEOUT_S = 10       # per request
BOOT_WAIT_S = 15         # for uWSGI to answer with all its workers titled
RECOVER_S = 5            # a recycled worker's slot must be back this soon after it exits
EXIT_WAIT_S = 5          # a signalled worker must exit this soon (LEAK_MS is far less)
STOP_WAIT_S = 10         # for the daemon to exit on SIGTERM
DEADLINE_S = 85          # the whole run, cleanup included
POLL_S = 0.1             # /proc watch period
TICK = os.sysconf("SC_CLK_TCK")


PROCS = {}               # name -> Popen of what is still to be stopped


def log(msg):
    print(f"uwsgi: {msg}", flush=True)


# --- /proc -------------------------------------------------------------------

def boot_time():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("btime "):
                return int(line.split()[1])
    return 0


BTIME = boot_time()


def start_wall(ticks):
    """Wall time of a process start given in clock ticks since boot (to a tick)."""
    return BTIME + ticks / TICK


def worker_slot(t, marker):
    """N of `MARKER uWSGI worker N`, else None."""
    m = re.fullmatch(re.escape(marker) + r" uWSGI worker ([0-9]+)", t or "")
    return int(m.group(1)) if m else None


class Watcher(threading.Thread):
    """Samples the master and its children (pids, titles, RSS) every POLL_S."""

    def __init__(self, master, master_start, marker):
        super().__init__(daemon=True)
        self.master = master
        self.master_start = master_start
        self.marker = marker
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.samples = []          # (t, {pid: title} of the living children)
        self.first = {}            # child pid -> (first time seen, start ticks)
        self.last = {}             # child pid -> last time seen alive
        self.titles = {}           # child pid -> [titles in the order seen]
        self.raw = {}              # child pid -> its first cmdline bytes with the final title
        self.rss = {}              # child pid -> [(t, rss)]
        self.master_down = None    # (t, why): the first sample without the master
        self.master_titles = set()

    def poll_once(self):
        t = time.time()
        st = proc_stat(self.master)
        kids = children(self.master)
        mt = title(cmdline_raw(self.master))
        seen = {}
        for pid, start in kids.items():
            raw = cmdline_raw(pid)
            seen[pid] = title(raw)
            with self.lock:
                self.first.setdefault(pid, (t, start))
                self.last[pid] = t
                tl = self.titles.setdefault(pid, [])
                # an exiting process reads an empty cmdline: not a title
                if seen[pid] and (not tl or tl[-1] != seen[pid]):
                    tl.append(seen[pid])
                if raw and pid not in self.raw and not seen[pid].endswith(" uWSGI master"):
                    self.raw[pid] = raw
                r = proc_rss(pid)
                if r is not None:
                    self.rss.setdefault(pid, []).append((t, r))
        with self.lock:
            if mt:
                self.master_titles.add(mt)
            if self.master_down is None:
                if st is None:
                    self.master_down = (t, "gone")
                elif st[0] in ("Z", "X"):
                    self.master_down = (t, "exited (zombie)")
                elif st[2] != self.master_start:
                    self.master_down = (t, "pid reused by another process")
            self.samples.append((t, seen))

    def run(self):
        while not self.stop.is_set():
            self.poll_once()
            self.stop.wait(POLL_S)

    def kinds(self):
        """{pid: 'worker N' | 'router' | 'untitled' | 'other'} by the titles each child had."""
        out = {}
        with self.lock:
            for pid, tl in self.titles.items():
                slots = [worker_slot(x, self.marker) for x in tl]
                slots = [s for s in slots if s is not None]
                if slots:
                    out[pid] = f"worker {slots[-1]}"
                elif any(x.startswith(f"{self.marker} uWSGI http") for x in tl):
                    out[pid] = "router"
                elif not tl:
                    out[pid] = "untitled"      # only ever read while exiting
                else:
                    out[pid] = "other"
        return out


# --- load ----------------------------------------------------------------------

class Load(HttpLoad):
    """The test's load (HttpLoad) with its figures, unless told others (bench/uwsgi_limits.py)."""

    def __init__(self, port, rate=RATE, clients=CLIENTS, leak_every=LEAK_EVERY, leak_query=f"ms={LEAK_MS}"):
        super().__init__(port, rate, clients, leak_every, leak_query, REQ_TIMEOUT_S)


# --- helpers -------------------------------------------------------------------

def uwsgi_argv(port, marker, extra=()):
    return [UWSGI, "--plugin", "python3,http", "--master", "--processes", str(WORKERS),
            "--http", f"127.0.0.1:{port}", "--auto-procname", "--procname-prefix-spaced", marker,
            "--wsgi-file", APP, "--die-on-term", "--need-app", "--disable-logging"] + list(extra)


def worker_rule(marker):
    """The recipe's match rule: (worker cmdline, master cmdline) regexes."""
    return f"^{marker} uWSGI worker [0-9]+$", f"^{marker} uWSGI master$"


def write_config(path, state_dir, marker, rss_lines, signal_name="HUP", kill_after_s=KILL_AFTER_S,
                 warmup_s=WARMUP_S, window_s=WINDOW_S, cooldown_s=COOLDOWN_S, on_limit=None,
                 name="uwsgi-workers"):
    wpat, mpat = worker_rule(marker)
    lines = [
        "# written by tests/uwsgi_test.py",
        f"interval: {INTERVAL_MS}ms",
        f"state_dir: {yq(state_dir)}",
        "watches:",
        f"  - name: {name}",
        "    match:",
        f"      cmdline: {yq(wpat)}",
        "      parent:",
        f"        cmdline: {yq(mpat)}",
        f"    warmup: {warmup_s}s",
        f"    window: {window_s}s",
        "    rss:",
    ] + [f"      {x}" for x in rss_lines] + [
        "    on_leak: signal",
    ] + ([f"    on_limit: {on_limit}"] if on_limit else []) + [
        f"    signal: {signal_name}",
        f"    kill_after: {kill_after_s}s",
        f"    cooldown: {cooldown_s}s",
        "    max_actions: 1000/h",
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def start_daemon(daemon_path, cfg, work, verbose, show=("leak", "limit", "action", "error")):
    """leakwatchd -c CFG --log-target=json in its own session, own state and
    runtime dirs: (Popen, EventReader), or (Popen, None) if it did not say start."""
    return start_event_daemon(daemon_path, cfg, work, PROCS, verbose, log, show)


def start_uwsgi(argv, work, marker):
    """uWSGI in its own session: (Popen, Load-ready port check done?) -> Popen,
    or None when it did not come up with WORKERS titled workers and the router."""
    with open(os.path.join(work, "uwsgi.log"), "w") as ulog:
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")   # no __pycache__ in tests/programs
        master = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=ulog, stderr=ulog, env=env,
                                  start_new_session=True, cwd=work)
    PROCS["uwsgi"] = master
    return master


def wait_ready(master, marker, load):
    """Whether, within BOOT_WAIT_S, the master has its title, WORKERS titled
    workers and a router, and answers on /."""
    end = time.time() + BOOT_WAIT_S
    while time.time() < end and master.poll() is None:
        kids = {p: title(cmdline_raw(p)) for p in children(master.pid)}
        slots = sorted(s for s in (worker_slot(t, marker) for t in kids.values()) if s is not None)
        router = [p for p, t in kids.items() if t and t.startswith(f"{marker} uWSGI http")]
        if (title(cmdline_raw(master.pid)) == f"{marker} uWSGI master" and slots == list(range(1, WORKERS + 1))
                and router and load.get("/")[0]):
            return True
        time.sleep(0.1)
    return False


# --- the run -------------------------------------------------------------------

def run(a, work, rep):
    marker = f"lwuw{os.getpid()}x{os.urandom(3).hex()}"
    wpat, mpat = worker_rule(marker)
    log(f"workers matched by cmdline {wpat!r}, parent cmdline {mpat!r}; signal HUP, "
        f"kill_after {KILL_AFTER_S}s (--worker-reload-mercy {MERCY_S})")
    cfg = os.path.join(work, "leakwatch.yaml")
    write_config(cfg, os.path.join(work, "state"), marker, [f"growth: {GROWTH}"])

    watcher = load = None
    try:
        daemon, reader = start_daemon(os.path.abspath(a.daemon), cfg, work, a.verbose)
        if reader is None:
            rep.check(False, "daemon started", f"exit {daemon.poll()}; stderr: "
                      + "".join(tail(os.path.join(work, "daemon.stderr"))).strip())
            return

        port = free_port()
        argv = uwsgi_argv(port, marker, ["--worker-reload-mercy", str(MERCY_S)])
        master = start_uwsgi(argv, work, marker)
        load = Load(port)
        st = proc_stat(master.pid)
        if not wait_ready(master, marker, load) or st is None:
            rep.check(False, "uWSGI started", f"exit {master.poll()}; log: "
                      + "".join(tail(os.path.join(work, "uwsgi.log"))).strip())
            return
        mraw = cmdline_raw(master.pid) or b""
        log(f"master pid {master.pid}, router on 127.0.0.1:{port}; {' '.join(argv[1:])}")
        watcher = Watcher(master.pid, st[2], marker)
        watcher.poll_once()
        watcher.start()

        log(f"load: {LOAD_S}s, {CLIENTS} clients, {RATE:g} req/s, 1 in {LEAK_EVERY} on /leak "
            f"(256 KiB and {LEAK_MS} ms each); work dir {work}")
        t_load = time.time()
        threads = load.run(LOAD_S)
        while any(th.is_alive() for th in threads):
            if daemon.poll() is not None:
                log(f"daemon exited early with status {daemon.returncode}")
                break
            time.sleep(0.2)
            if time.time() > t_load + LOAD_S + REQ_TIMEOUT_S + 2:
                log("load threads did not finish in time")
                break
        load.stop.set()
        for th in threads:
            th.join(REQ_TIMEOUT_S)
        t_end = time.time()
        # a recycle started near the end must be allowed to complete
        acts = [t for t, e in reader.get("action") if e.get("result") == "ok"]
        if acts and acts[-1] > t_end - (RECOVER_S + 1):
            time.sleep(max(0.0, acts[-1] + RECOVER_S + 1 - time.time()))
        master_alive_at_end = master.poll() is None
        watcher.stop.set()
        watcher.join(2)

        daemon_alive_at_end, daemon_rc, daemon_stop_s = stop_event_daemon(daemon, PROCS, STOP_WAIT_S)
        reader.join(2)
        stop_group(master, 10)
        PROCS.pop("uwsgi", None)

        evaluate(rep, work, marker, master.pid, mraw, reader, watcher, load, t_load, t_end,
                 master_alive_at_end, daemon_alive_at_end, daemon_rc, daemon_stop_s)
    finally:
        if load is not None:
            load.stop.set()
        if watcher is not None:
            watcher.stop.set()
        for name in ("uwsgi", "daemon"):
            if name in PROCS:
                stop_group(PROCS.pop(name), 10 if name == "uwsgi" else 3)


def nul_note(raw):
    """How a title sits in /proc/PID/cmdline: its length and the NULs after it."""
    stripped = raw.rstrip(b"\0")
    inner = stripped.count(b"\0")
    return f"{len(stripped)} bytes + {len(raw) - len(stripped)} NUL" + (f", {inner} inside" if inner else "")


def evaluate(rep, work, marker, master, mraw, reader, watcher, load, t_load, t_end,
             master_alive_at_end, daemon_alive_at_end, daemon_rc, daemon_stop_s):
    samples = watcher.samples
    kinds = watcher.kinds()
    workers = {p for p, k in kinds.items() if k.startswith("worker ")}
    routers = sorted(p for p, k in kinds.items() if k == "router")
    t0 = samples[0][0] if samples else t_load

    # --- titles
    bad = []
    if title(mraw) != f"{marker} uWSGI master" or watcher.master_titles != {f"{marker} uWSGI master"}:
        bad.append(f"master {sorted(watcher.master_titles)!r}")
    for p in routers:
        if watcher.titles[p] != [f"{marker} uWSGI http 1"]:
            bad.append(f"router {p} {watcher.titles[p]!r}")
    others = {p: watcher.titles[p] for p, k in kinds.items() if k == "other"}
    if others:
        bad.append(f"other children {others!r}")
    wraw = next((watcher.raw[p] for p in sorted(workers) if p in watcher.raw), b"")
    rraw = watcher.raw.get(routers[0], b"") if routers else b""
    early = sorted({x for p in workers for x in watcher.titles[p] if worker_slot(x, marker) is None})
    rep.check(not bad and len(routers) >= 1 and bool(workers), "process titles",
              f"master {title(mraw)!r} ({nul_note(mraw)}), router {title(rraw)!r} ({nul_note(rraw)}), "
              f"worker e.g. {title(wraw)!r} ({nul_note(wraw)})"
              + (f"; a new worker is first seen as {early!r} (its master's title, before it renames itself)"
                 if early else "")
              + ("; " + "; ".join(bad) if bad else ""))

    leaks = [(t, e) for t, e in reader.get("leak") if e.get("metric") == "rss" and e.get("pid") in workers]
    rep.check(bool(leaks), "leak event for a worker",
              f"{len(leaks)} rss leak event(s) for pids {sorted({e['pid'] for _, e in leaks})}; "
              f"{len(reader.get('leak'))} leak events in all")

    # per pid, the first ok signal action is the HUP; another one can
    # only be kill_after's SIGKILL
    actions = reader.get("action")
    signals, escalations, by_result = split_signals(actions)
    rep.check(any(e.get("pid") in workers for _, e in signals), "action ok (signal HUP) on a worker",
              f"{len(signals)} ok; action events by result: {by_result}")
    check_titles(rep, leaks + [(t, e) for t, e in signals if e.get("pid") in workers],
                        re.escape(marker) + r" uWSGI worker [0-9]+", "events name the worker's slot (title)")

    # only workers, never the master or the router
    found = [e for _, e in reader.get("found")]
    strays = []
    for e in found:
        if e.get("pid") not in workers:
            strays.append(f"found {e.get('pid')} ({kinds.get(e.get('pid'), 'not a child of the master')})")
    for t, e in actions:
        pid = e.get("pid")
        if pid not in workers:
            strays.append(f"action {e.get('result')} on {pid} ({kinds.get(pid, 'not a child of the master')})")
    rep.check(not strays and bool(found), "only workers found and acted on",
              f"{len(found)} found, {len(actions)} action events; master {master}, router {routers}, "
              f"{len(workers)} worker pids seen" + (": " + ", ".join(strays[:8]) if strays else ""))

    # the master and the router kept their pids
    router_sets = {tuple(sorted(p for p, t in kids.items() if t and t.startswith(f"{marker} uWSGI http")))
                   for _, kids in samples}
    md = watcher.master_down
    rep.check(md is None and master_alive_at_end and len(routers) == 1 and router_sets == {tuple(routers)},
              "master and router kept their pids",
              f"master {master}" + (f": {md[1]} at +{md[0] - t0:.1f}s" if md else "")
              + ("" if master_alive_at_end else ", not alive at the end")
              + f"; router pids over the run {sorted(router_sets)}")

    # each signalled worker exited soon; its slot came back with a new pid
    problems, recycled, in_flight, lines = [], 0, 0, []
    for t, e in signals:
        pid = e.get("pid")
        slot = int(kinds[pid].split()[1]) if pid in workers else None
        gone_at = next((ts for ts, kids in samples if ts >= t and pid not in kids), None)
        if gone_at is None or gone_at > t + EXIT_WAIT_S:
            problems.append(f"pid {pid} still running {EXIT_WAIT_S}s after SIGHUP")
            continue
        back = next(((ts, p) for ts, kids in samples if ts >= gone_at for p, x in kids.items()
                     if p != pid and p in watcher.first and watcher.first[p][0] >= t - POLL_S * 2
                     and worker_slot(x, marker) == slot), None)
        if back is None or back[0] > gone_at + RECOVER_S:
            problems.append(f"worker {slot} (pid {pid}, titles {watcher.titles.get(pid)!r}) exited at "
                            f"+{gone_at - t0:.1f}s and no new `uWSGI worker {slot}` within {RECOVER_S}s")
            continue
        recycled += 1
        late = [d for d in load.leak_done if d[2] == pid and d[1] > t]
        in_flight += bool(late)
        lines.append(f"  worker {slot}: pid {pid} HUP +{t - t0:.1f}s, exit +{gone_at - t0:.2f}s, "
                     f"new pid {back[1]} as worker {slot} +{back[0] - t0:.2f}s; "
                     f"{len(late)} request(s) in flight finished after the signal")
    for t, e in escalations:
        problems.append(f"kill_after SIGKILL on {e.get('pid')}: {e.get('message')}")
    final = samples[-1][1] if samples else {}
    fslots = sorted(s for s in (worker_slot(x, marker) for x in final.values()) if s is not None)
    if fslots != list(range(1, WORKERS + 1)):
        problems.append(f"worker slots at the end {fslots}, not 1..{WORKERS}")
    ulog = "".join(tail(os.path.join(work, "uwsgi.log"), 100000))
    graceful = len(re.findall(r"Gracefully killing worker", ulog))
    damn = len(re.findall(r"DAMN ! worker", ulog))
    if graceful < recycled:
        problems.append(f"uWSGI logged {graceful} graceful kill(s) for {recycled} recycles")
    if damn:
        problems.append(f"uWSGI logged {damn} `DAMN ! worker ... died`")
    rep.check(not problems and recycled > 0, "workers recycled gracefully, each slot back",
              f"{recycled} recycled, uWSGI log: {graceful} `Gracefully killing worker`, {damn} `DAMN`"
              + (": " + "; ".join(problems[:6]) if problems else ""))
    for line in lines:
        log(line)

    failed = load.failed
    detail = f"{load.served} served ({load.served_leak} on /leak), {len(failed)} failed"
    if failed:
        detail += ": " + "; ".join(f"+{ft - t0:.1f}s {p} {why}" for ft, p, why in failed[:6])
    rep.check(not failed and load.served >= MIN_REQUESTS, f"no failed requests (at least {MIN_REQUESTS})",
              detail)

    check_daemon_ran(rep, reader, daemon_alive_at_end, daemon_rc, daemon_stop_s)

    # --- numbers
    log(f"requests served {load.served}, failed {len(failed)}, workers recycled {recycled} "
        f"({in_flight} with a request in flight at the signal)")
    log("workers (seen from +s to +s under load, rss first -> peak, growth to the peak, /leak requests):")
    for pid in sorted(watcher.rss, key=lambda p: watcher.first[p][0]):
        if pid not in workers:
            continue
        g = rss_growth(watcher.rss[pid], t_load, t_end, t0)
        if g:
            log(f"  {kinds[pid]} pid {pid}: {g}, {load.leak_pids.get(pid, 0)} /leak")
    if rep.failed:
        log_tails(log, [("uWSGI log", os.path.join(work, "uwsgi.log")),
                        ("daemon stderr", os.path.join(work, "daemon.stderr"))])


def preflight(a):
    if not os.access(UWSGI, os.X_OK):
        return f"{UWSGI} is missing (Debian packages uwsgi-core uwsgi-plugin-python3)"
    return None


if __name__ == "__main__":
    sys.exit(server_test_main("uwsgi", __doc__, run, PROCS, DEADLINE_S, preflight=preflight))
