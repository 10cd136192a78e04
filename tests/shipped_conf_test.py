#!/usr/bin/python3
"""leakwatch shipped-conf test: conf/leakwatch.yaml, as shipped, finds
exactly the workers of Debian's gunicorn, uWSGI and Celery started as the
README and the file's comments say.

    /usr/bin/python3 tests/shipped_conf_test.py --daemon build/leakwatchd
        --ctl build/leakwatchctl [--keep DIR] [-v]

The servers, each in its own session, with the names the shipped rules
expect (`api`, `worker1`), so that their processes take the titles of the
recipes:

    gunicorn --name api --workers 3 --bind 127.0.0.1:PORT
             --chdir WORK/app gunicorn_app:app
        as www-data (setpriv), in the cgroup WORK-SLICE.slice/api.service:
        what systemd gives a service with User=www-data, for the rule's
        `user: www-data` and `unit: api.service`; `gunicorn: master [api]`
        and `gunicorn: worker [api]` (python3-setproctitle);
    uwsgi --plugin python3,http --master --processes 2
          --http 127.0.0.1:PORT --auto-procname --procname-prefix-spaced api
          --wsgi-file tests/programs/uwsgi_app.py --need-app --die-on-term
        `api uWSGI master`, `api uWSGI worker 1`, `2`, `api uWSGI http 1`;
    celery -A celery_app --workdir tests/programs worker -n worker1@%h
           --concurrency 2 --loglevel INFO
        with its own redis-server on 127.0.0.1 (celery_test.py's):
        `[celeryd: worker1@HOST:MainProcess] -active- (...)` and
        `[celeryd: worker1@HOST:ForkPoolWorker-N]`.

(--die-on-term and --need-app only make uWSGI stop on SIGTERM and fail
early; --loglevel INFO lets the test see Celery's `ready.`; neither changes
a title.)

Two leakwatchd --log-target=json --dry-run read the shipped file: A starts
before the servers and finds their workers as new processes, B starts once
they are up and finds them at its first full scan.  The file is used as it
is but for what cannot run in a test, each changed by one text
substitution that must match exactly once (a change of the shipped file
that breaks one fails the test; SUBSTITUTIONS says why each is needed):
state_dir: is dropped (the daemon's STATE_DIRECTORY under the work dir
stands in, as StateDirectory= does under systemd), the textfile goes to the
work dir, the listen port is a free one.  interval (5s), the rules, the
actions and dry_run: false stay; --dry-run on the command line makes sure
nothing is acted on.  When no cgroup hierarchy can be written (not root's,
not mounted), `unit: api.service` is dropped too and the test says so.

The test waits until each daemon has made SCANS discovery passes (its
/metrics' leakwatch_scans_total) after every server was up, then checks,
for each daemon:

- it made those passes (within SCAN_WAIT_S);
- the servers' titles are the recipes';
- each watch's pids, from its `found` events, are exactly that server's
  workers, computed from /proc independently of the rules (the live
  children of this run's master with the worker's title: not the master,
  not the router, not Celery's main process); `leakwatchctl status --json`
  and /metrics' leakwatch_watched_processes per watch say the same;
- nothing else was found: no master, router, redis, nor any other process;
- no action event (the servers do not leak here), no error event; the
  daemon ran throughout and exited 0 on SIGTERM;
- the workers did not change while the daemons looked.

The titles are fixed by the shipped file, so two runs of this test would
see each other's servers: a run takes the lock file LOCK first (waiting up
to LOCK_WAIT_S), refuses to start while processes with those titles that
are not its own run, and names any found pid outside its own process trees.
Every process it started is stopped (SIGTERM, then SIGKILL to its group)
and its cgroups removed on every exit path: an exception, ^C, SIGTERM, the
overall time limit (DEADLINE_S).  One PASS/FAIL line per check, then
`shipped_conf: N passed, M failed`; exit status 1 on any failure, 2 when a
server, setpriv or root is missing.  About 20 s.
"""

import fcntl
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

sys.dont_write_bytecode = True     # importing lwtest must leave no tests/__pycache__
import celery_test                 # noqa: E402  (start_redis, celery_env: the same redis and environment)
from lwtest import (HERE, PROGRAMS, as_user, cgroup_hierarchies, checked_json, cmdlines, free_port, live_children,  # noqa: E402
                    make_cgroup, proc_cmdline, proc_stat, remove_cgroups, server_test_main, start_event_daemon,
                    stop_event_daemon, stop_group, tail, yq)

NAME = "shipped_conf"
CONF = os.path.join(os.path.dirname(HERE), "conf", "leakwatch.yaml")
GUNICORN = "/usr/bin/gunicorn"
UWSGI = "/usr/bin/uwsgi"
CELERY = celery_test.CELERY
REDIS_SERVER = celery_test.REDIS_SERVER
SETPRIV = "/usr/bin/setpriv"

GUNICORN_WORKERS = 3
UWSGI_WORKERS = 2
CELERY_CONCURRENCY = 2
WWW = ("www-data", "www-data")   # the rule's `user: www-data`
UNIT = "api.service"             # the rule's `unit: api.service`

SCANS = 3                # discovery passes each daemon makes once every server is up
SCAN_WAIT_S = 30         # ... within this long (the shipped interval is 5s)
BOOT_WAIT_S = 20         # for all three servers to be up with their titled workers
FOREIGN_WAIT_S = 10      # for processes with the shipped titles of another run to go
LOCK = "/tmp/leakwatch-shipped-conf.lock"
LOCK_WAIT_S = 60         # for another run of this test to finish
STOP_WAIT_S = 10         # for a daemon to exit on SIGTERM
DEADLINE_S = 150         # the whole run, the lock wait and cleanup included

# Any process whose title one of the shipped rules could take (theirs or
# their parents'): none may run but this run's.
SHIPPED_TITLES = re.compile(r"^(gunicorn: (master|worker) \[api\]|api uWSGI |\[celeryd: worker1@)")

PROCS = {}               # name -> Popen of what is still to be stopped
LOCKED = []              # the lock file, once taken


def log(msg):
    print(f"{NAME}: {msg}", flush=True)


# --- the shipped file, as far as a test can run it ----------------------------

def substitutions(work, port, with_unit):
    """(what, old, new, why): each must match the shipped text exactly once."""
    subs = [
        ("state_dir", "\nstate_dir: /var/lib/leakwatch\n", "\n",
         "the daemon's STATE_DIRECTORY under the work dir stands in, as StateDirectory= does under systemd "
         "(the file says the line may be left out); /var/lib/leakwatch is the machine's"),
        ("metrics textfile", "textfile: /var/lib/prometheus/node-exporter/leakwatch.prom",
         f"textfile: {yq(os.path.join(work, 'leakwatch.prom'))}",
         "the machine's node-exporter directory is no test's to write"),
        ("metrics listen", "listen: 127.0.0.1:9567", f"listen: 127.0.0.1:{port}",
         "the machine's own leakwatchd, or the other daemon of this test, may hold 9567"),
    ]
    if not with_unit:
        subs.append(("unit criterion", f"\n      unit: {UNIT} ", f"\n      # unit: {UNIT} ",
                     "no cgroup hierarchy here to put gunicorn in a unit's cgroup"))
    return subs


def write_config(path, shipped, subs):
    """The shipped text with subs applied: None, or what did not match once."""
    text = shipped
    for what, old, new, _ in subs:
        n = text.count(old)
        if n != 1:
            return f"{what}: {old.strip()!r} is in the shipped file {n} times, not once"
        text = text.replace(old, new)
    with open(path, "w") as f:
        f.write(text)
    return None


# --- processes: ours, theirs ---------------------------------------------------

def ancestry(pid, limit=64):
    """pid and its ancestors, up to pid 1 (or a gone one)."""
    chain = []
    while pid and pid not in chain and len(chain) < limit:
        chain.append(pid)
        st = proc_stat(pid)
        if st is None:
            break
        pid = st[1]
    return chain


def roots():
    """{pid: name} of the processes this run started (each leads its session)."""
    return {p.pid: n for n, p in PROCS.items()}


def owner(pid):
    """The name of this run's process that pid descends from (or is), else None."""
    mine = roots()
    return next((mine[p] for p in ancestry(pid) if p in mine), None)


def foreign_titled():
    """{pid: title} of the processes with a shipped title that are not this run's."""
    return {p: t for p, t in cmdlines().items() if SHIPPED_TITLES.search(t) and owner(p) is None}


# --- cgroups: the test plays systemd for api.service ---------------------------

def make_unit_cgroups(tag):
    """The cgroup TAG.slice/api.service made in every hierarchy systemd
    uses (cgroup2, name=systemd): the cgroup.procs files to put gunicorn
    in, or [] when none can be made."""
    files = []
    for root in cgroup_hierarchies().values():
        try:
            files.append(os.path.join(make_cgroup(root, f"{tag}.slice/{UNIT}"), "cgroup.procs"))
        except OSError as e:
            log(f"cannot make the cgroup {tag}.slice/{UNIT} under {root}: {e}")
    return files


# Put itself in the cgroups named in $LW_CGROUP_PROCS, then exec the server
# (setpriv, then gunicorn): root moves it there before it drops to www-data
# and forks its workers, as systemd would.
INTO_CGROUPS = 'for f in $LW_CGROUP_PROCS; do echo $$ > "$f" || exit 111; done; unset LW_CGROUP_PROCS; exec "$@"'


# --- the servers ---------------------------------------------------------------

def start(name, argv, work, env=None, cwd=None):
    with open(os.path.join(work, name + ".log"), "w") as out:
        PROCS[name] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=cwd,
                                       env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **(env or {})),
                                       start_new_session=True)
    return PROCS[name]


def start_gunicorn(work, cgroup_files):
    # www-data must read the app: a copy in a world-readable directory,
    # wherever the checkout is
    app = os.path.join(work, "app")
    os.makedirs(app, exist_ok=True)
    os.chmod(work, 0o755)
    os.chmod(app, 0o755)
    shutil.copy(os.path.join(PROGRAMS, "gunicorn_app.py"), app)
    os.chmod(os.path.join(app, "gunicorn_app.py"), 0o644)
    argv = as_user(*WWW, [GUNICORN, "--name", "api", "--workers", str(GUNICORN_WORKERS),
                          "--bind", f"127.0.0.1:{free_port()}", "--chdir", app, "gunicorn_app:app"])
    env = None
    if cgroup_files:
        argv = ["/bin/sh", "-c", INTO_CGROUPS, "sh"] + argv
        env = {"LW_CGROUP_PROCS": " ".join(cgroup_files)}
    return start("gunicorn", argv, work, env=env, cwd=app)


def start_uwsgi(work):
    argv = [UWSGI, "--plugin", "python3,http", "--master", "--processes", str(UWSGI_WORKERS),
            "--http", f"127.0.0.1:{free_port()}", "--auto-procname", "--procname-prefix-spaced", "api",
            "--wsgi-file", os.path.join(PROGRAMS, "uwsgi_app.py"), "--need-app", "--die-on-term"]
    return start("uwsgi", argv, work, cwd=work)


def start_celery(work, broker):
    argv = [CELERY, "-A", "celery_app", "--workdir", PROGRAMS, "worker", "-n", "worker1@%h",
            "--concurrency", str(CELERY_CONCURRENCY), "--loglevel", "INFO"]
    with open(os.path.join(work, "celery.log"), "w") as out:
        PROCS["celery"] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=PROGRAMS,
                                           env=celery_test.celery_env(broker, "retire"), start_new_session=True)
    return PROCS["celery"]


def gunicorn_tree(pid):
    """{"main": title, "workers": {pid: title}, "others": {pid: title}} of a
    gunicorn master: its workers are its children titled `gunicorn: worker [api]`."""
    return tree(pid, lambda t: t == "gunicorn: worker [api]")


def uwsgi_tree(pid):
    return tree(pid, lambda t: re.fullmatch(r"api uWSGI worker [1-9][0-9]*", t) is not None)


def celery_tree(pid):
    host = socket.gethostname()
    return tree(pid, lambda t: re.fullmatch(re.escape(f"[celeryd: worker1@{host}:ForkPoolWorker-") + r"[1-9][0-9]*\]",
                                            t) is not None)


def tree(pid, is_worker):
    kids = {p: proc_cmdline(p) or "" for p in live_children(pid)}
    return {"main": proc_cmdline(pid) or "", "starts": dict(live_children(pid)),
            "workers": {p: t for p, t in kids.items() if is_worker(t)},
            "others": {p: t for p, t in kids.items() if not is_worker(t)}}


def trees():
    """{server: tree} of the three servers now."""
    out = {}
    for name, fn in (("gunicorn", gunicorn_tree), ("uwsgi", uwsgi_tree), ("celery", celery_tree)):
        p = PROCS.get(name)
        out[name] = fn(p.pid) if p and p.poll() is None else None
    return out


def ready(t, work):
    """Whether every server is up with all its titled workers (and uWSGI's
    router, Celery's `ready.`)."""
    g, u, c = t["gunicorn"], t["uwsgi"], t["celery"]
    return (g is not None and len(g["workers"]) == GUNICORN_WORKERS and g["main"] == "gunicorn: master [api]"
            and u is not None and len(u["workers"]) == UWSGI_WORKERS and u["main"] == "api uWSGI master"
            and "api uWSGI http 1" in u["others"].values()
            and c is not None and len(c["workers"]) == CELERY_CONCURRENCY
            and any("ready." in line for line in tail(os.path.join(work, "celery.log"), 200)))


# --- the daemons -----------------------------------------------------------------

def scrape_by_watch(port):
    """(leakwatch_scans_total, {watch: leakwatch_watched_processes}) from
    the daemon's /metrics, or (None, {}) when it does not answer."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None, {}
    scans, watched = None, {}
    for line in text.splitlines():
        if line.startswith("leakwatch_scans_total "):
            scans = float(line.split()[1])
        m = re.match(r'leakwatch_watched_processes\{watch="([^"]*)"\} (\S+)$', line)
        if m:
            watched[m.group(1)] = int(float(m.group(2)))
    return scans, watched


class Daemon:
    """One leakwatchd on the shipped file: its name, port, config, Popen, EventReader."""

    def __init__(self, name, work, subs_of, shipped):
        self.name = name
        self.port = free_port()
        self.cfg = os.path.join(work, f"{name}.yaml")
        self.dirs = (os.path.join(work, f"{name}-state"), os.path.join(work, f"{name}-run"))
        os.makedirs(os.path.join(work, name), exist_ok=True)      # its metrics textfile's
        self.subs = subs_of(os.path.join(work, name), self.port)
        self.bad_sub = write_config(self.cfg, shipped, self.subs)
        self.proc = self.reader = None
        self.scans0 = None

    def start(self, path, work, verbose):
        self.proc, self.reader = start_event_daemon(path, self.cfg, work, PROCS, verbose, log,
                                                    show=("action", "error"), extra=["--dry-run"], name=self.name,
                                                    state=self.dirs[0], runtime=self.dirs[1])
        return self.reader is not None

    def status(self, ctl):
        env = dict(os.environ, RUNTIME_DIRECTORY=self.dirs[1])
        r = subprocess.run([ctl, "status", "--json"], env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           encoding="utf-8", errors="replace", timeout=20)
        if r.returncode != 0:
            return None, r.stderr.strip()
        try:
            return checked_json("status", r.stdout), ""
        except ValueError as e:
            return None, f"not JSON: {e}"


# --- the run -----------------------------------------------------------------------

WATCHES = (("api-workers", "gunicorn"), ("api-uwsgi", "uwsgi"), ("celery-pool", "celery"))


def take_lock(rep):
    f = open(LOCK, "a")
    end = time.time() + LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return f
        except OSError:
            if time.time() > end:
                f.close()
                rep.check(False, "lock", f"{LOCK} still held by another run after {LOCK_WAIT_S}s")
                return None
            time.sleep(0.2)


def run(a, work, rep):
    lock = take_lock(rep)
    if lock is None:
        return
    LOCKED.append(lock)      # held until cleanup() has stopped everything
    run_locked(a, work, rep)


def cleanup():
    """The cgroups removed (the processes are stopped by then), the lock let go."""
    remove_cgroups(log)
    while LOCKED:
        LOCKED.pop().close()


def run_locked(a, work, rep):
    others = foreign_titled()
    end = time.time() + FOREIGN_WAIT_S
    while others and time.time() < end:
        time.sleep(0.5)
        others = foreign_titled()
    if others:
        rep.check(False, "no other processes with the shipped titles",
                  "; ".join(f"pid {p} {t[:80]!r}" for p, t in sorted(others.items())[:8]))
        return

    cgroup_files = make_unit_cgroups(f"lwshipped{os.getpid()}x{os.urandom(3).hex()}")
    with_unit = bool(cgroup_files)
    log(f"gunicorn in the cgroups {[os.path.dirname(f) for f in cgroup_files]}" if with_unit else
        f"no cgroup hierarchy to write: `unit: {UNIT}` dropped from the rule")
    with open(CONF) as f:
        shipped = f.read()
    daemons = [Daemon(n, work, lambda d, port: substitutions(d, port, with_unit), shipped) for n in ("A", "B")]
    for what, old, new, why in daemons[0].subs:
        log(f"substituted ({what}): {old.strip()!r} -> {new.strip()!r}: {why}")
    bad = [d.bad_sub for d in daemons if d.bad_sub]
    if bad:
        rep.check(False, "the shipped file takes the test's substitutions", bad[0])
        return
    path = os.path.abspath(a.daemon)

    A, B = daemons
    if not A.start(path, work, a.verbose):
        rep.check(False, "daemon A started", "".join(tail(os.path.join(work, "A.stderr"))).strip())
        return
    rproc, rport, client = celery_test.start_redis(work, PROCS)
    if rproc is None:
        rep.check(False, "redis-server started", client)
        return
    t_boot = time.time()
    start_gunicorn(work, cgroup_files)
    start_uwsgi(work)
    start_celery(work, f"redis://127.0.0.1:{rport}/0")
    end = time.time() + BOOT_WAIT_S
    t = trees()
    while not ready(t, work) and time.time() < end and all(PROCS[n].poll() is None for n in PROCS):
        time.sleep(0.1)
        t = trees()
    if not ready(t, work):
        rep.check(False, "servers started", f"trees {t}; " + "; ".join(
            f"{n}: exit {PROCS[n].poll()}, log {''.join(tail(os.path.join(work, n + '.log'), 5)).strip()!r}"
            for n in ("gunicorn", "uwsgi", "celery") if n in PROCS))
        return
    t_ready = time.time()
    log(f"servers up in {t_ready - t_boot:.1f}s: "
        + "; ".join(f"{n} {PROCS[n].pid} {t[n]['main'][:60]!r}, workers {sorted(t[n]['workers'])}"
                    for n in ("gunicorn", "uwsgi", "celery")))
    A.scans0 = scrape_by_watch(A.port)[0]
    if not B.start(path, work, a.verbose):
        rep.check(False, "daemon B started", "".join(tail(os.path.join(work, "B.stderr"))).strip())
        return
    B.scans0 = 1         # its first pass, the full scan at start, and SCANS more

    # --- let discovery run SCANS times in each daemon with every server up
    end = time.time() + SCAN_WAIT_S
    while True:
        counts = [scrape_by_watch(d.port)[0] for d in daemons]
        enough = all(c is not None and d.scans0 is not None and c >= d.scans0 + SCANS
                     for c, d in zip(counts, daemons))
        if enough or time.time() > end or any(d.proc.poll() is not None for d in daemons):
            break
        time.sleep(0.5)
    t_looked = time.time()
    rep.check(enough, f"each daemon made {SCANS} discovery passes with the servers up",
              ", ".join(f"{d.name}: {c if c is None else int(c)} passes (from {d.scans0 if d.scans0 is None else int(d.scans0)})"
                        for c, d in zip(counts, daemons)) + f" in {t_looked - t_ready:.1f}s")
    scans = {d.name: scrape_by_watch(d.port) for d in daemons}
    status = {d.name: d.status(a.ctl) for d in daemons}
    t_end = trees()
    # who is who, while everything still runs
    everyone = cmdlines()
    mains = {p.pid: n for n, p in PROCS.items()}
    owners = {pid: owner(pid) for d in daemons for _, e in d.reader.get("found") for pid in [e.get("pid")]}
    stopped = {d.name: stop_event_daemon(d.proc, PROCS, STOP_WAIT_S, name=d.name) for d in daemons}
    for d in daemons:
        d.reader.join(2)
    for n in ("celery", "uwsgi", "gunicorn", "redis"):
        if n in PROCS:
            stop_group(PROCS.pop(n), 12 if n == "celery" else 10)
    remove_cgroups(log)
    log(f"looked for {t_looked - t_ready:.1f}s; the last worker found "
        + ", ".join(f"by {d.name} {max((ts for ts, _ in d.reader.get('found')), default=t_boot) - t_boot:.1f}s"
                    for d in daemons) + " after the servers were started")
    evaluate(rep, work, daemons, t, t_end, scans, status, stopped, everyone, mains, owners, with_unit)


def evaluate(rep, work, daemons, t0, t1, scans, status, stopped, everyone, mains, owners, with_unit):
    host = socket.gethostname()
    # --- titles: what the recipes say the servers are called
    want = {"gunicorn": ("gunicorn: master [api]", None), "uwsgi": ("api uWSGI master", None),
            "celery": (None, f"[celeryd: worker1@{host}:MainProcess] -active- (")}
    bad = []
    for n, (exact, prefix) in want.items():
        m = t0[n]["main"]
        if (exact and m != exact) or (prefix and not m.startswith(prefix)):
            bad.append(f"{n} main {m[:80]!r}")
    if sorted(t0["uwsgi"]["others"].values()) != ["api uWSGI http 1"]:
        bad.append(f"uwsgi's other children {sorted(t0['uwsgi']['others'].values())}")
    for n in ("gunicorn", "celery"):
        if t0[n]["others"]:
            bad.append(f"{n}'s other children {sorted(t0[n]['others'].values())}")
    rep.check(not bad, "servers titled as the recipes say",
              "; ".join(f"{n}: {t0[n]['main'][:70]!r}, workers {sorted(set(t0[n]['workers'].values()))}"
                        + (f", others {sorted(set(t0[n]['others'].values()))}" if t0[n]["others"] else "")
                        for n in ("gunicorn", "uwsgi", "celery"))
              + ("; wrong: " + "; ".join(bad) if bad else ""))

    # --- the servers did not change while the daemons looked
    changed = [n for n in t0 if t1[n] is None or t1[n]["starts"] != t0[n]["starts"]]
    rep.check(not changed, "the workers stayed the same while the daemons looked",
              "; ".join(f"{n}: {sorted(t0[n]['starts'])} -> {sorted(t1[n]['starts']) if t1[n] else 'gone'}"
                        for n in changed))

    expected = {w: set(t0[s]["workers"]) for w, s in WATCHES}
    routers = {p for p, x in t0["uwsgi"]["others"].items() if x.startswith("api uWSGI http")}

    def what(pid):
        """What pid is, for a message: its title and whose it is."""
        if pid in mains:
            return f"{mains[pid]}'s main process"
        if pid in routers:
            return "uWSGI's router"
        own = owners.get(pid)
        return f"{everyone.get(pid, '?')[:60]!r}, " + (f"in this run's {own} tree" if own else
                                                        "not this run's (another program with that title?)")

    for d in daemons:
        found = {}
        for _, e in d.reader.get("found"):
            found.setdefault(e.get("watch"), set()).add(e.get("pid"))
        for w, s in WATCHES:
            got = found.get(w, set())
            missing, extra = expected[w] - got, got - expected[w]
            rep.check(not missing and not extra, f"daemon {d.name}: {w} found exactly {s}'s workers",
                      f"{len(got)} found {sorted(got)}, workers {sorted(expected[w])}"
                      + (f"; missed {sorted(missing)}" if missing else "")
                      + (f"; also found {', '.join(f'{p} ({what(p)})' for p in sorted(extra))}" if extra else ""))
        unknown = {w: ps for w, ps in found.items() if w not in dict(WATCHES)}
        allp = set().union(*found.values()) if found else set()
        strays = allp - set().union(*expected.values())
        rep.check(not strays and not unknown, f"daemon {d.name}: nothing else found",
                  f"{len(allp)} pids found in all; main processes {sorted(mains)}, router {sorted(routers)}"
                  + (f"; strays: {', '.join(f'{p} ({what(p)})' for p in sorted(strays))}" if strays else "")
                  + (f"; unknown watches {sorted(unknown)}" if unknown else ""))

        st, why = status[d.name]
        by_watch = {}
        for e in st or []:
            by_watch.setdefault(e.get("watch"), set()).add(e.get("pid"))
        scans_n, watched = scans[d.name]
        diff = [w for w, _ in WATCHES if by_watch.get(w, set()) != expected[w] or watched.get(w) != len(expected[w])]
        rep.check(st is not None and not diff and set(by_watch) <= set(dict(WATCHES)),
                  f"daemon {d.name}: status --json and /metrics agree",
                  (f"status failed: {why}" if st is None else
                   "; ".join(f"{w}: status {sorted(by_watch.get(w, set()))}, watched_processes {watched.get(w)}"
                             for w, _ in WATCHES))
                  + (f"; {scans_n:.0f} discovery passes in all" if scans_n is not None else "; no /metrics"))

        acts = d.reader.get("action")
        errors = d.reader.get("error")
        alive, rc, took = stopped[d.name]
        rep.check(not acts and not errors and alive and rc == 0 and not d.reader.bad,
                  f"daemon {d.name}: no action, no error, exit 0 on SIGTERM",
                  f"{len(acts)} action, {len(errors)} error events; exit {rc} after {took:.1f}s"
                  + ("" if alive else ", but it had exited before")
                  + (f"; e.g. {errors[0][1].get('message', '')[:160]!r}" if errors else "")
                  + (f"; e.g. {acts[0][1].get('message', '')[:160]!r}" if acts else "")
                  + (f"; {len(d.reader.bad)} non-JSON stdout lines" if d.reader.bad else ""))
    if not with_unit:
        log(f"note: `unit: {UNIT}` was not checked (no cgroup hierarchy)")
    if rep.failed:
        for n in ("gunicorn", "uwsgi", "celery", "A", "B"):
            p = os.path.join(work, n + (".stderr" if n in ("A", "B") else ".log"))
            log(f"{os.path.basename(p)} (tail):")
            for line in tail(p, 12):
                sys.stdout.write("    " + line)


def preflight(a):
    missing = [p for p in (GUNICORN, UWSGI, CELERY, REDIS_SERVER, SETPRIV, a.ctl) if not os.access(p, os.X_OK)]
    if missing:
        return (f"missing: {', '.join(missing)} (Debian packages gunicorn, python3-setproctitle, uwsgi-core, "
                "uwsgi-plugin-python3, celery, python3-celery, python3-redis, redis-server, util-linux; "
                "see .ci/deps; or build leakwatchctl)")
    if os.geteuid() != 0:
        return "needs root: gunicorn runs as www-data in a cgroup of its own, as systemd would start it"
    try:
        import redis  # noqa: F401  (celery_test.start_redis needs it)
    except ImportError:
        return f"python3-redis is missing for {sys.executable}"
    return None


if __name__ == "__main__":
    sys.exit(server_test_main(NAME, __doc__, run, PROCS, DEADLINE_S, preflight=preflight,
                              add_args=lambda ap: ap.add_argument("--ctl", required=True, help="path to leakwatchctl"),
                              cleanup=cleanup))
