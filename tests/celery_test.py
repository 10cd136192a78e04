#!/usr/bin/python3
"""leakwatch celery test: leakwatchd recycles the leaking pool children of a
real Celery worker (Debian's python3-celery, prefork pool, a redis broker)
under load, and no task is lost or run twice.

    /usr/bin/python3 tests/celery_test.py --daemon build/leakwatchd [--keep DIR] [-v]

It starts its own redis-server (127.0.0.1, a free port, no persistence, its
own directory under the work dir; never the system's), leakwatchd
--log-target=json with one watch, the recipe of leakwatch.yaml(5) (interval
250ms, warm-up 2s, window 8s, rss growth 100M/h, on_leak: signal, signal
URG, kill_after 10s, cooldown 2s), then

    celery -A celery_app worker --pool prefork --concurrency 3
           -n MARKER@%h --without-mingle --without-gossip --loglevel INFO

in tests/programs, in its own session.  The app (tests/programs/celery_app.py,
LWCELERY_MODE=retire) sets worker_pool_restarts and installs the hook that
makes a pool child leave after the task in hand on SIGURG.  With
python3-setproctitle, Celery titles its processes
`[celeryd: MARKER@HOST:MainProcess] -active- (...)` and
`[celeryd: MARKER@HOST:ForkPoolWorker-N]`, and the watch selects exactly the
pool children by their title and their parent's:

    cmdline: "^\\[celeryd: MARKER@[^]]*:ForkPoolWorker-[0-9]+\\]$"
    parent: { cmdline: "^\\[celeryd: MARKER@[^]]*:MainProcess\\] " }

Without setproctitle every process keeps the worker's argv and the watch
takes the processes with that argv whose parent has it too (the main
process's parent does not); the test says which one it used.

TASKS (360) tasks are sent at a steady pace over LOAD_S (40) s, jittered so
they are not phase-locked to the daemon's sampling; each keeps LEAK_KIB (256)
KiB in the child that runs it and takes 60 to 300 ms, so a child is busy
about half the time and a recycle often lands in the middle of a task.  A
thread watches the main process's children in /proc all along.  Checks:

- the processes carry the titles the watch expects;
- at least one rss `leak` event and one `action` event with result ok
  (signal) for a pool child;
- every pid the daemon found or acted on was a pool child of this run's
  worker (seen in /proc with the pool child's title), never the main
  process;
- the main process stayed up (same pid and start time);
- every signalled child exited by itself (no kill_after SIGKILL) within
  EXIT_WAIT_S, and the pool was back to 3 children within RECOVER_S (7 s:
  the main process forks a replacement when it sees the exit, at the
  latest at its maintain_pool timer, every 5 s);
- every task sent completed (its result, by id, is SUCCESS);
- no task ran twice (the app counts in redis how often each id started
  and ran to its end: once each);
- the daemon ran throughout and exited 0 on SIGTERM.

It prints the tasks sent, completed and run, the recycles (and how many
caught a task in the middle, which then completed in the signalled child)
and each child's growth.  Redis, Celery and the daemon run in their own
process groups and are stopped (SIGTERM, then SIGKILL to the group) on
every exit path, also on an exception, ^C, SIGTERM or the overall time limit
(DEADLINE_S).  One PASS/FAIL line per check, then `celery: N passed, M
failed`; exit status 1 on any failure, 2 when python3-celery, python3-redis
or redis-server is missing.  About 55 s.
"""

import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import uuid

sys.dont_write_bytecode = True     # importing lwtest must leave no tests/__pycache__
from lwtest import (PROGRAMS, check_titles, check_daemon_ran, free_port, live_children, log_tails, proc_cmdline,  # noqa: E402
                    proc_rss, proc_stat, rss_growth, server_test_main, split_signals, start_event_daemon,
                    stop_event_daemon, stop_group, strays, tail, yq)

yaml_str = yq           # bench/celery_limits.py's name for it

CELERY = "/usr/bin/celery"
REDIS_SERVER = "/usr/bin/redis-server"
SYSTEM_PYTHON = "/usr/bin/python3"   # /usr/bin/celery runs `python3` from PATH: this one

INTERVAL_MS = 250
WARMUP_S = 2
WINDOW_S = 8
GROWTH = "100M/h"
SIGNAL = "URG"
KILL_AFTER_S = 10
COOLDOWN_S = 2
MAX_ACTIONS = "30/h"     # the default, 3/h, would stop after three recycles

CONCURRENCY = 3
TASKS = 360
LOAD_S = 40
LEAK_KIB = 256
TASK_MS = (60, 300)
BOOT_WAIT_S = 15         # for the worker to be up with all its children
DRAIN_S = 15             # for the last results after the last task is sent
EXIT_WAIT_S = 5          # a signalled child must exit this soon (well before kill_after)
RECOVER_S = 7            # ... and the pool be back to CONCURRENCY this soon after: Celery's
                         # main process may see an exit only at its next maintain_pool
                         # timer (every 5 s, celery/concurrency/asynpool.py)
STOP_WAIT_S = 10
DEADLINE_S = 80
POLL_S = 0.1

PROCS = {}               # name -> Popen of what is still to be stopped


def log(msg):
    print(f"celery: {msg}", flush=True)


# --- /proc -------------------------------------------------------------------

class Watcher(threading.Thread):
    """Samples the main process and its children every POLL_S seconds."""

    def __init__(self, main, main_start, child_re):
        super().__init__(daemon=True)
        self.main = main
        self.main_start = main_start
        self.child_re = child_re
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.samples = []          # (t, frozenset of living pool children)
        self.ever = {}             # pool child pid -> first time seen as one
        self.others = {}           # other children of main: pid -> title
        self.rss = {}              # pool child pid -> [(t, rss)]
        self.main_down = None

    def run(self):
        while not self.stop.is_set():
            t = time.time()
            st = proc_stat(self.main)
            kids = live_children(self.main)
            pool = set()
            with self.lock:
                if self.main_down is None:
                    if st is None:
                        self.main_down = (t, "gone")
                    elif st[0] in ("Z", "X"):
                        self.main_down = (t, "exited (zombie)")
                    elif st[2] != self.main_start:
                        self.main_down = (t, "pid reused by another process")
                for pid in kids:
                    title = proc_cmdline(pid) or ""
                    if self.child_re.search(title):
                        pool.add(pid)
                        self.ever.setdefault(pid, t)
                        r = proc_rss(pid)
                        if r is not None:
                            self.rss.setdefault(pid, []).append((t, r))
                    elif pid not in self.ever:
                        # a child just forked still has the main's title
                        self.others[pid] = title
                self.samples.append((t, frozenset(pool)))
            self.stop.wait(POLL_S)

    def snapshot(self):
        with self.lock:
            return (list(self.samples), dict(self.ever), {p: list(v) for p, v in self.rss.items()},
                    dict(self.others), self.main_down)


# --- helpers -------------------------------------------------------------------

def has_setproctitle():
    return subprocess.run([SYSTEM_PYTHON, "-c", "import setproctitle"], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def patterns(marker, titled):
    """(child cmdline regex, parent cmdline regex) of the watch: POSIX ERE
    that Python's re reads the same way."""
    if titled:
        return (f"^\\[celeryd: {marker}@[^]]*:ForkPoolWorker-[0-9]+\\]$",
                f"^\\[celeryd: {marker}@[^]]*:MainProcess\\] ")
    argv = f"celery -A celery_app .*-n {marker}@"
    return argv, argv


def write_config(path, state_dir, child, parent):
    lines = [
        "# written by tests/celery_test.py",
        f"interval: {INTERVAL_MS}ms",
        f"state_dir: {yq(state_dir)}",
        "watches:",
        "  - name: celery-pool",
        "    match:",
        f"      cmdline: {yq(child)}",
        "      parent:",
        f"        cmdline: {yq(parent)}",
        f"    warmup: {WARMUP_S}s",
        f"    window: {WINDOW_S}s",
        "    rss:",
        f"      growth: {GROWTH}",
        "    on_leak: signal",
        f"    signal: {SIGNAL}",
        f"    kill_after: {KILL_AFTER_S}s",
        f"    cooldown: {COOLDOWN_S}s",
        f"    max_actions: {MAX_ACTIONS}",
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def start_redis(work, procs):
    """Our own redis-server on 127.0.0.1:PORT, no persistence, in work/redis:
    (Popen, port, client), or (None, port, why) when it does not answer."""
    import redis
    rdir = os.path.join(work, "redis")
    os.makedirs(rdir, exist_ok=True)
    port = free_port()
    argv = [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), "--protected-mode", "yes",
            "--save", "", "--appendonly", "no", "--dir", rdir, "--daemonize", "no",
            "--logfile", os.path.join(rdir, "redis.log"), "--databases", "1"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    procs["redis"] = proc
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    end = time.time() + 5
    while time.time() < end and proc.poll() is None:
        try:
            if client.ping():
                return proc, port, client
        except redis.exceptions.ConnectionError:
            pass
        time.sleep(0.05)
    return None, port, f"exit {proc.poll()}; log: " + "".join(tail(os.path.join(rdir, "redis.log"))).strip()


def celery_env(broker, mode):
    env = dict(os.environ, LWCELERY_BROKER=broker, LWCELERY_MODE=mode,
               PYTHONDONTWRITEBYTECODE="1",         # no __pycache__ in tests/programs
               PATH="/usr/bin:/bin:" + os.environ.get("PATH", ""))
    env.pop("PYTHONPATH", None)
    return env


def start_worker(work, procs, broker, marker, mode="retire", extra=()):
    log_path = os.path.join(work, "celery.log")
    argv = [CELERY, "-A", "celery_app", "--workdir", PROGRAMS, "worker", "--pool", "prefork",
            "--concurrency", str(CONCURRENCY), "-n", f"{marker}@%h", "--without-mingle",
            "--without-gossip", "--loglevel", "INFO", *extra]
    with open(log_path, "w") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                env=celery_env(broker, mode), cwd=PROGRAMS, start_new_session=True)
    procs["celery"] = proc
    return proc, log_path


def results(client, ids):
    """{task id: status} from the result backend (None: no result yet)."""
    pipe = client.pipeline(transaction=False)
    for tid in ids:
        pipe.get(f"celery-task-meta-{tid}")
    out = {}
    for tid, raw in zip(ids, pipe.execute()):
        status = None
        if raw:
            try:
                status = json.loads(raw).get("status")
            except (ValueError, AttributeError):
                status = "?"
        out[tid] = status
    return out


def submit(sender, ids, rate, stop, rng):
    """Send the tasks at a steady, jittered pace; the time each was sent."""
    sent = {}
    t0 = time.time()
    for i, tid in enumerate(ids):
        if stop():
            break
        at = t0 + i / rate + rng.uniform(0, 0.5 / rate)
        delay = at - time.time()
        if delay > 0:
            time.sleep(delay)
        sender.send_task("celery_app.leak", args=[LEAK_KIB, rng.randint(*TASK_MS)], task_id=tid)
        sent[tid] = time.time()
    return sent


# --- the run -------------------------------------------------------------------

def run(a, work, rep):
    from celery import Celery

    daemon_path = os.path.abspath(a.daemon)
    marker = f"lwcel{os.getpid()}x{os.urandom(3).hex()}"
    titled = has_setproctitle()
    child_pat, parent_pat = patterns(marker, titled)
    log(("setproctitle: pool children matched by their title and the main process's"
         if titled else "no setproctitle (python3-setproctitle): pool children matched by argv and parent")
        + f": cmdline {child_pat!r}, parent cmdline {parent_pat!r}")

    cfg = os.path.join(work, "leakwatch.yaml")
    write_config(cfg, os.path.join(work, "state"), child_pat, parent_pat)

    procs = PROCS
    watcher = None
    stopping = threading.Event()
    try:
        # --- redis
        rproc, port, client = start_redis(work, procs)
        if rproc is None:
            rep.check(False, "redis-server started", client)
            return
        broker = f"redis://127.0.0.1:{port}/0"

        # --- the daemon
        daemon, reader = start_event_daemon(daemon_path, cfg, work, procs, a.verbose, log)
        if reader is None:
            rep.check(False, "daemon started", f"exit {daemon.poll()}; stderr: "
                      + "".join(tail(os.path.join(work, "daemon.stderr"))).strip())
            return

        # --- the worker
        main, clog = start_worker(work, procs, broker, marker)
        child_re = re.compile(child_pat)
        end = time.time() + BOOT_WAIT_S
        ready = False
        while time.time() < end and main.poll() is None:
            kids = live_children(main.pid)
            if len([p for p in kids if child_re.search(proc_cmdline(p) or "")]) == CONCURRENCY \
                    and any("ready." in line for line in tail(clog, 200)):
                ready = True
                break
            time.sleep(0.1)
        st = proc_stat(main.pid)
        if not ready or st is None:
            rep.check(False, "celery worker started", f"exit {main.poll()}; log: "
                      + "".join(tail(clog)).strip())
            return
        mcmd = proc_cmdline(main.pid) or ""
        kid_titles = sorted({proc_cmdline(p) or "" for p in live_children(main.pid)})
        log(f"main pid {main.pid}, broker {broker}, title {mcmd[:100]!r}, children {kid_titles}")
        watcher = Watcher(main.pid, st[2], child_re)
        watcher.start()

        # --- load
        sender = Celery("lwcelery-client", broker=broker, backend=broker)
        sender.conf.update(task_serializer="json", accept_content=["json"])
        ids = [str(uuid.uuid4()) for _ in range(TASKS)]
        log(f"load: {TASKS} tasks over {LOAD_S}s, {LEAK_KIB} KiB and {TASK_MS[0]}-{TASK_MS[1]} ms each; "
            f"work dir {work}")
        rng = random.Random()
        t_load = time.time()
        sent = submit(sender, ids, TASKS / LOAD_S, stopping.is_set, rng)
        t_sent = time.time()
        status = {}
        end = t_sent + DRAIN_S
        while time.time() < end:
            status = results(client, list(sent))
            if all(s in ("SUCCESS", "FAILURE") for s in status.values()):
                break
            time.sleep(0.3)
        t_end = time.time()
        # a recycle started near the end must be allowed to complete: the
        # child to exit and the pool to be whole again (the main process's
        # maintain_pool may take its 5 s), each within its bound
        acts = [(t, e) for t, e in reader.get("action") if e.get("result") == "ok"]
        if acts and acts[-1][0] > t_end - (EXIT_WAIT_S + RECOVER_S):
            last_pid, deadline = acts[-1][1].get("pid"), acts[-1][0] + EXIT_WAIT_S + RECOVER_S + 0.5

            def whole():
                samples = watcher.snapshot()[0]
                return bool(samples) and last_pid not in samples[-1][1] and len(samples[-1][1]) == CONCURRENCY
            wait_until(whole, deadline)
        main_alive_at_end = main.poll() is None
        watcher.stop.set()
        watcher.join(2)
        runs = {k.decode(): int(v) for k, v in client.hgetall("lwcelery:runs").items()}
        starts = {k.decode(): int(v) for k, v in client.hgetall("lwcelery:starts").items()}
        spans = {}               # task id -> (pid, start, end or None: cut short)
        for k, v in client.hgetall("lwcelery:start").items():
            p, t0 = v.decode().split()
            spans[k.decode()] = (int(p), float(t0), None)
        for k, v in client.hgetall("lwcelery:span").items():
            p, t0, t1 = v.decode().split()
            spans[k.decode()] = (int(p), float(t0), float(t1))
        status = results(client, list(sent))

        # --- stop the daemon, then the worker, then redis
        daemon_alive_at_end, daemon_rc, daemon_stop_s = stop_event_daemon(daemon, procs, STOP_WAIT_S)
        reader.join(2)
        stop_group(main, 15)
        procs.pop("celery", None)
        stop_group(rproc, 5)
        procs.pop("redis", None)

        evaluate(rep, work, main.pid, reader, watcher, mcmd, kid_titles, marker, titled, sent, status, runs,
                 starts, spans, t_load, t_end, main_alive_at_end, daemon_alive_at_end, daemon_rc, daemon_stop_s)
    finally:
        stopping.set()
        if watcher is not None:
            watcher.stop.set()
        for name in ("celery", "daemon", "redis"):
            if name in procs:
                stop_group(procs.pop(name), 3 if name != "celery" else 12)


def wait_until(pred, deadline, step=0.1):
    """Wait until pred() holds or the wall clock passes deadline."""
    while not pred() and time.time() < deadline:
        time.sleep(step)


def evaluate(rep, work, main, reader, watcher, mcmd, kid_titles, marker, titled, sent, status, runs, starts, spans,
             t_load, t_end, main_alive_at_end, daemon_alive_at_end, daemon_rc, daemon_stop_s):
    samples, ever, rss, others, main_down = watcher.snapshot()
    children = set(ever)
    leaks = reader.get("leak")
    actions = reader.get("action")
    found = [e for _, e in reader.get("found")]
    t0 = samples[0][0] if samples else t_load

    if titled:
        want_main = re.compile(f"^\\[celeryd: {re.escape(marker)}@[^]]*:MainProcess\\] -active- ")
        bad = [t for t in kid_titles if not re.fullmatch(f"\\[celeryd: {re.escape(marker)}@[^]]*"
                                                         f":ForkPoolWorker-[0-9]+\\]", t)]
        rep.check(want_main.search(mcmd) is not None and not bad, "proc titles",
                  f"main {mcmd[:80]!r}..., children {kid_titles}")
    else:
        rep.check(f"-n {marker}@" in mcmd, "worker argv carries the marker", f"{mcmd!r}")

    rss_leaks = [(t, e) for t, e in leaks if e.get("metric") == "rss" and e.get("pid") in children]
    rep.check(bool(rss_leaks), "leak event for a pool child",
              f"{len(rss_leaks)} rss leak event(s) for pids {sorted({e['pid'] for _, e in rss_leaks})}; "
              f"{len(leaks)} leak events in all")

    # per pid, the first ok signal action is the SIGURG; another one can
    # only be kill_after's SIGKILL
    signals, escalations, by_result = split_signals(actions)
    rep.check(any(e.get("pid") in children for _, e in signals), "action ok (signal) on a pool child",
              f"{len(signals)} ok; all action events by result: {by_result}")
    if titled:
        check_titles(rep, rss_leaks + [(t, e) for t, e in signals if e.get("pid") in children],
                            f"\\[celeryd: {re.escape(marker)}@[^]]*:ForkPoolWorker-[0-9]+\\]",
                            "events name the pool child (title)")

    bad = strays(found, actions, main, children, ever, "pool child",
                 lambda pid: f" ({others.get(pid, 'not a pool child')!r})")
    rep.check(not bad and bool(found), "only pool children found and acted on",
              f"{len(found)} found, {len(actions)} action events, main {main}, "
              f"{len(children)} pool child pids seen" + (": " + ", ".join(bad[:8]) if bad else ""))

    rep.check(main_down is None and main_alive_at_end, "main process stayed up",
              f"pid {main}" + (f": {main_down[1]} at +{main_down[0] - t0:.1f}s" if main_down else "")
              + ("" if main_alive_at_end else ", not alive at the end"))

    problems = []
    recycled = 0
    mid_task = 0             # recycles that caught a task in the middle
    mid_done = 0             # ... and that task completed
    for t, e in signals:
        pid = e.get("pid")
        gone_at = next((ts for ts, kids in samples if ts >= t and pid not in kids), None)
        if gone_at is None or gone_at > t + EXIT_WAIT_S:
            problems.append(f"pid {pid} still running {EXIT_WAIT_S}s after SIG{SIGNAL}")
            continue
        back = next((ts for ts, kids in samples if ts >= gone_at and len(kids) == CONCURRENCY), None)
        if back is None or back > gone_at + RECOVER_S:
            problems.append(f"pid {pid} exited at +{gone_at - t0:.1f}s and the pool was not back "
                            f"to {CONCURRENCY} within {RECOVER_S}s")
            continue
        recycled += 1
        # the tasks this child was running when the daemon reported the signal
        caught = [tid for tid, (p, a0, a1) in spans.items() if p == pid and a0 <= t and (a1 is None or t <= a1)]
        after = [tid for tid, (p, a0, a1) in spans.items() if p == pid and a0 > t]
        mid_task += bool(caught)
        mid_done += bool(caught) and all(status.get(x) == "SUCCESS" for x in caught)
        log(f"  recycle pid {pid}: signal +{t - t0:.1f}s, exit +{gone_at - t0:.2f}s, "
            f"{CONCURRENCY} children again +{back - t0:.2f}s; "
            f"{len(caught)} task(s) in hand at the signal, finished: "
            f"{all(status.get(x) == 'SUCCESS' for x in caught)}; {len(after)} started after it")
    for t, e in escalations:
        problems.append(f"kill_after SIGKILL on {e.get('pid')}: {e.get('message')}")
    final = samples[-1][1] if samples else frozenset()
    if len(final) != CONCURRENCY:
        problems.append(f"{len(final)} pool children at the end, not {CONCURRENCY}")
    rep.check(not problems and recycled > 0, "children recycled cleanly, back to 3 each time",
              f"{recycled} recycled, {mid_task} of them in the middle of a task"
              + (": " + "; ".join(problems[:6]) if problems else ""))

    ok = [tid for tid, s in status.items() if s == "SUCCESS"]
    failed = {tid: s for tid, s in status.items() if s != "SUCCESS"}
    rep.check(len(sent) == TASKS and len(ok) == len(sent), "every task completed",
              f"{len(sent)} sent, {len(ok)} SUCCESS"
              + (f"; not: {sorted(set(failed.values()), key=str)} e.g. {list(failed)[:3]}" if failed else ""))

    # started twice: cut short and run again from the start (a redelivery)
    twice = {tid: (starts.get(tid, 0), runs.get(tid, 0)) for tid in set(starts) | set(runs)
             if starts.get(tid, 0) != 1 or runs.get(tid, 0) > 1}
    rep.check(bool(starts) and not twice and len(runs) == len(ok), "no task ran twice",
              f"{sum(starts.values())} starts and {sum(runs.values())} runs to the end of {len(starts)} tasks"
              + (f"; (starts, runs) not (1, 1): {list(twice.items())[:5]}" if twice else ""))

    check_daemon_ran(rep, reader, daemon_alive_at_end, daemon_rc, daemon_stop_s)

    log(f"tasks sent {len(sent)}, completed {len(ok)}, started {sum(starts.values())}; children recycled "
        f"{recycled} ({mid_task} with a task in hand at the signal, {mid_done} of them completed it)")
    log("pool children (seen from +s to +s under load, rss first -> peak, growth to the peak, tasks run):")
    per_pid = {}
    for p, _, _ in spans.values():
        per_pid[p] = per_pid.get(p, 0) + 1
    for pid in sorted(rss, key=lambda p: ever[p]):
        g = rss_growth(rss[pid], t_load, t_end, t0)
        if g:
            log(f"  pid {pid}: {g}, {per_pid.get(pid, 0)} tasks")
    if rep.failed:
        log_tails(log, [("celery log", os.path.join(work, "celery.log")),
                        ("daemon stderr", os.path.join(work, "daemon.stderr"))])


def preflight(a):
    missing = [what for what, ok in (
        ("celery (/usr/bin/celery)", os.access(CELERY, os.X_OK)),
        ("redis-server", os.access(REDIS_SERVER, os.X_OK)),
        ("python3-celery", subprocess.run([SYSTEM_PYTHON, "-c", "import celery"], stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0),
    ) if not ok]
    try:
        import celery  # noqa: F401
        import redis   # noqa: F401
    except ImportError as e:
        missing.append(f"{e.name} for {sys.executable} (python3-celery, python3-redis; run with {SYSTEM_PYTHON})")
    if missing:
        return (f"missing: {', '.join(missing)} (Debian packages celery, python3-celery, python3-redis, "
                "redis-server; see .ci/deps)")
    return None


if __name__ == "__main__":
    sys.exit(server_test_main("celery", __doc__, run, PROCS, DEADLINE_S, preflight=preflight))
