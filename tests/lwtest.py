"""Shared plumbing for leakwatch's Python test runners (scenario_test.py,
action_test.py, race_test.py, perm_test.py, operator_test.py,
gunicorn_test.py, uwsgi_test.py, celery_test.py, shipped_conf_test.py,
churn_test.py, soak.py, notify_test.py) and for bench/scale.py; not a test
itself.  The runners run as `python3 tests/X.py`,
so this directory is on sys.path and `import lwtest` finds it; bench/scale.py
puts it there.  One Daemon class starts leakwatchd for all of them, so that
how a test daemon is started (its own runtime and state dirs, JSON events on
stdout, its own session) is said once."""

import argparse
import datetime
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = os.path.join(HERE, "programs")
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable


class Check:
    """One PASS/FAIL line: fail() makes it fail, note() only adds detail."""

    def __init__(self, name):
        self.name = name
        self.problems = []
        self.notes = []

    def fail(self, msg):
        self.problems.append(msg)

    def note(self, msg):
        self.notes.append(msg)

    @property
    def ok(self):
        return not self.problems

    def line(self, width):
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name:<{width}} " + "; ".join(self.problems + self.notes)


def start_failed(runner, what, rc, err_path):
    """Say that a daemon did not start, with its stderr, and the runner's
    result line; the exit status."""
    print(f"FAIL  {what} did not start (exit {rc}); stderr:")
    with open(err_path) as f:
        sys.stdout.write(f.read())
    print(f"{runner}: 0 passed, 1 failed")
    return 1


def finish(runner, checks, width, work, keep, kept, events, kinds):
    """Print the checks' lines; on a failure, where the work dir is (kept
    names what is in it) and the events of those kinds, else remove the work
    dir unless keep; then `RUNNER: N passed, M failed`.  The last check is
    schema_check(): what the runner read fitted the shipped schemas.  The
    exit status."""
    checks = list(checks) + [schema_check()]
    for c in checks:
        print(c.line(width))
    passed = sum(c.ok for c in checks)
    failed = len(checks) - passed
    if failed:
        print(f"({kept} kept in {work})")
        for e in events:
            if e.get("event") in kinds:
                print("  " + json.dumps(e))
    elif not keep:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{runner}: {passed} passed, {failed} failed")
    return 1 if failed else 0


def parse_ts(ts, lowercase_z=True):
    """Seconds since the epoch of an RFC 3339 ts, or None.  A lowercase `z`
    offset is taken only with lowercase_z."""
    try:
        ts = ts.replace("Z", "+00:00")
        if lowercase_z:
            ts = ts.replace("z", "+00:00")
        return datetime.datetime.fromisoformat(ts).timestamp()
    except (AttributeError, TypeError, ValueError):
        return None


def read_jsonl(path, objects_only=True):
    """The JSON values of a file's lines (only the objects with objects_only),
    skipping what does not parse; [] if it cannot be read."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if not objects_only or isinstance(e, dict):
                    out.append(e)
    except OSError:
        pass
    return out


SCHEMA_DIR = os.path.join(os.path.dirname(HERE), "share", "leakwatch", "schema")
SCHEMA_KINDS = ("event", "status", "history", "watches")


class Schemas:
    """The shipped JSON Schemas (share/leakwatch/schema/KIND.schema.json:
    an event line, `status --json`, `history --json`), loaded once, and a
    record of every text read that broke one: (kind, text, error).  A text
    is validated once however often it is read again (Daemon.events() is
    polled); at most KEEP failures are kept, the rest counted.  A
    missing python3-jsonschema, or a schema that does not load, is itself a
    failure (unavailable), so a run cannot pass without validating.
    Thread-safe: EventReader validates from its own thread."""

    KEEP = 20

    def __init__(self, directory=SCHEMA_DIR):
        self.directory = directory
        self.lock = threading.Lock()
        self.validators = None
        self.unavailable = None
        self.failures = []
        self.n_failures = 0
        self.n_checked = 0
        self.seen = set()

    def _load(self):
        """The validators by kind, or None (and self.unavailable says why)."""
        if self.validators is not None or self.unavailable is not None:
            return self.validators
        try:
            import jsonschema
        except ImportError:
            self.unavailable = ("cannot validate: python3 has no jsonschema module "
                                "(Debian: apt-get install python3-jsonschema)")
            return None
        out = {}
        for kind in SCHEMA_KINDS:
            path = os.path.join(self.directory, kind + ".schema.json")
            try:
                with open(path) as f:
                    schema = json.load(f)
                cls = jsonschema.validators.validator_for(schema)
                cls.check_schema(schema)
                out[kind] = cls(schema)
            except (OSError, ValueError, jsonschema.exceptions.SchemaError) as e:
                self.unavailable = f"cannot load {path}: {type(e).__name__}: {str(e)[:300]}"
                return None
        self.validators = out
        return out

    def error(self, kind, value):
        """Why value breaks the schema of kind ("at PATH: MESSAGE"), or None
        when it fits; self.unavailable when nothing can validate."""
        with self.lock:
            validators = self._load()
        if validators is None:
            return self.unavailable
        errors = list(validators[kind].iter_errors(value))
        if not errors:
            return None
        import jsonschema
        e = jsonschema.exceptions.best_match(errors)
        where = "".join(f"[{p!r}]" for p in e.absolute_path) or " (top)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        msg = e.message if len(e.message) <= 300 else e.message[:140] + " ... " + e.message[-150:]
        return f"at ${where}: {msg}{more}"

    def check(self, kind, value, text):
        """Whether value (parsed from text) fits the schema of kind; a
        failure is recorded with text."""
        key = hash((kind, text))
        with self.lock:
            if key in self.seen:
                return True
        why = self.error(kind, value)
        with self.lock:
            self.seen.add(key)
            self.n_checked += 1
            if why is not None:
                self.n_failures += 1
                if len(self.failures) < self.KEEP:
                    self.failures.append((kind, text, why))
        return why is None

    def loads(self, kind, text):
        """json.loads(text), checked against the schema of kind (a failure
        is recorded); ValueError when it is not JSON."""
        value = json.loads(text)
        self.check(kind, value, text)
        return value

    def line(self, text):
        """An event line (without its newline): the event (a dict), checked;
        None, recorded as a failure, when it is not a JSON object."""
        try:
            e = json.loads(text)
        except ValueError:
            e = None
        if not isinstance(e, dict):
            with self.lock:
                key = hash(("event", text))
                if key not in self.seen:
                    self.seen.add(key)
                    self.n_failures += 1
                    if len(self.failures) < self.KEEP:
                        self.failures.append(("event", text, "not a JSON object"))
            return None
        self.check("event", e, text)
        return e

    def problems(self):
        """What the runner's schema check says: [problem], [] when every
        text read fitted (or none was read, and the schemas loaded)."""
        with self.lock:
            self._load()
            out = [self.unavailable] if self.unavailable else []
            for kind, text, why in self.failures:
                out.append(f"{kind} {text[:400]!r}: {why}")
            if self.n_failures > len(self.failures):
                out.append(f"{self.n_failures - len(self.failures)} more")
            return out


SCHEMAS = Schemas()


def checked_json(kind, text):
    """json.loads(text) of leakwatchctl KIND --json (status, history) or an
    event line, checked against the shipped schema (SCHEMAS); ValueError
    when it is not JSON."""
    return SCHEMAS.loads(kind, text)


def read_events(path):
    """The events (dicts) of a daemon's JSON event file, every complete
    line checked against the event schema (SCHEMAS); a line still being
    written (no newline yet) is taken if it parses, checked once whole;
    [] if the file cannot be read."""
    out = []
    try:
        with open(path, errors="replace") as f:
            for raw in f:
                if not raw.endswith("\n"):
                    try:
                        e = json.loads(raw)
                    except ValueError:
                        continue
                    if isinstance(e, dict):
                        out.append(e)
                    continue
                if not raw.strip():
                    continue
                e = SCHEMAS.line(raw.rstrip("\n"))
                if e is not None:
                    out.append(e)
    except OSError:
        pass
    return out


def schema_check():
    """The Check "schema": every event line, status and history that the
    runner read fitted the shipped schemas (share/leakwatch/schema)."""
    c = Check("schema")
    for p in SCHEMAS.problems():
        c.fail(p)
    if c.ok:
        c.note(f"{SCHEMAS.n_checked} texts valid")
    return c


def yq(s):
    """s as a YAML scalar for a test's config: a JSON string is a valid
    double-quoted one."""
    return json.dumps(str(s))


def of(events, kind, watch=None, pid=None):
    """The events of that kind (and watch, and pid, when given)."""
    return [e for e in events if e.get("event") == kind and (watch is None or e.get("watch") == watch)
            and (pid is None or e.get("pid") == pid)]


def cmdlines():
    """{pid: cmdline joined by spaces} of every process now."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                raw = f.read()
        except OSError:
            continue
        if raw:
            out[int(d)] = raw.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")
    return out


def daemon_env(work, name, base=None):
    """The environment for one daemon of a test: its own RUNTIME_DIRECTORY
    (control socket) and STATE_DIRECTORY (saved history, incidents) under
    work, so no test touches /run/leakwatch or /var/lib/leakwatch, and
    daemons running side by side do not meet."""
    env = dict(base if base is not None else os.environ)
    for key, sub in (("RUNTIME_DIRECTORY", "run"), ("STATE_DIRECTORY", "state")):
        path = os.path.join(work, f"{name}-{sub}")
        os.makedirs(path, exist_ok=True)
        env[key] = path
    return env


class Prog:
    """A program started by a test, in its own session; `started` is the
    time it was started (just before the fork)."""

    def __init__(self, name, argv, work):
        self.name = name
        self.argv = argv
        self.err = os.path.join(work, name + ".stderr")
        self.proc = None
        self.started = None

    def start(self):
        with open(self.err, "w") as err:
            self.started = time.time()
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=err, start_new_session=True)
        return self

    @property
    def pid(self):
        return self.proc.pid if self.proc else None


def interrupt_on_term():
    """SIGTERM/SIGHUP to the runner raise KeyboardInterrupt: it cleans up like ^C."""
    def interrupted(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)


def kill_group(proc, sig):
    """Send sig to proc's process group (it leads its own session)."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_groups(procs, wait_s=3):
    """SIGTERM the process groups of procs (Popen), wait up to wait_s in all,
    then SIGKILL whatever is left in each group (forks too) and reap."""
    for p in procs:
        kill_group(p, signal.SIGTERM)
    deadline = time.time() + wait_s
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            pass
    for p in procs:
        kill_group(p, signal.SIGKILL)
        try:
            p.wait(2)
        except subprocess.TimeoutExpired:
            pass


def stop_daemon(proc, wait_s):
    """SIGTERM the daemon and wait up to wait_s: its exit status, or a string
    saying it had died already or would not stop."""
    if proc.poll() is not None:
        return f"died on its own with status {proc.returncode}"
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        return f"still running {wait_s}s after SIGTERM"


def as_user(user, group, argv):
    """argv run as user:group (setpriv, no supplementary groups); argv itself for root."""
    if user == "root":
        return argv
    return ["setpriv", f"--reuid={user}", f"--regid={group}", "--clear-groups"] + argv


def wait_for(pred, timeout, step=0.05):
    """pred()'s first true value within timeout seconds (pred is asked once
    more at the deadline), else None."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() >= deadline:
            return None
        time.sleep(step)


class Daemon:
    """leakwatchd -c CFG --log-target=json [EXTRA], the one way every runner
    (and bench/scale.py) starts it: its events in WORK/NAME.jsonl, its stderr
    in WORK/NAME.stderr (out=, err= name other files in work), its own
    runtime and state dirs (daemon_env), in a session of its own.

    env: the environment to start from (default os.environ); user: a
    (user, group) to run as, through setpriv, the two dirs chowned to it;
    wrapper: an argv put in front (unshare, valgrind); cwd, preexec_fn and
    session (start_new_session) go to Popen; ctl: leakwatchctl, for
    ctl_run() and ctl_json(), which see the daemon's RUNTIME_DIRECTORY on
    the runner's own environment.  start() again after a kill starts a new
    run on the same dirs, its events in NAME2.jsonl (then 3, ...); proc,
    out, err are the last run's."""

    def __init__(self, name, path, cfg, work, extra=(), env=None, ctl=None, stop_wait_s=10, user=None,
                 wrapper=(), cwd=None, preexec_fn=None, session=True, out=None, err=None):
        self.name = name
        self.work = work
        argv = [path, "-c", cfg, "--log-target=json"] + list(extra)
        if user:
            argv = as_user(user[0], user[1], argv)
        self.argv = list(wrapper) + argv
        self.ctl = ctl
        self.out_name = out or name + ".jsonl"
        self.err_name = err or name + ".stderr"
        self.env = daemon_env(work, name, env)
        if user:
            import grp
            import pwd
            uid, gid = pwd.getpwnam(user[0]).pw_uid, grp.getgrnam(user[1]).gr_gid
            for key in ("RUNTIME_DIRECTORY", "STATE_DIRECTORY"):
                os.chown(self.env[key], uid, gid)
        self.state_file = os.path.join(self.env["STATE_DIRECTORY"], "history.state")
        self.socket = os.path.join(self.env["RUNTIME_DIRECTORY"], "control.sock")
        self.popen_args = dict(cwd=cwd, preexec_fn=preexec_fn, start_new_session=session)
        self.stop_wait_s = stop_wait_s
        self.runs = []        # (Popen, events path, stderr path, start time)
        self.t0 = None        # time.monotonic() at the last start
        self.rc = None

    @property
    def proc(self):
        return self.runs[-1][0] if self.runs else None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def out(self):
        return self.runs[-1][1] if self.runs else os.path.join(self.work, self.out_name)

    @property
    def err(self):
        return self.runs[-1][2] if self.runs else os.path.join(self.work, self.err_name)

    def _run_path(self, fname, n):
        base, ext = os.path.splitext(fname)
        return os.path.join(self.work, fname if n == 1 else f"{base}{n}{ext}")

    def start(self):
        n = len(self.runs) + 1
        out, err = self._run_path(self.out_name, n), self._run_path(self.err_name, n)
        with open(out, "w") as fo, open(err, "w") as fe:
            t = time.time()
            self.t0 = time.monotonic()
            p = subprocess.Popen(self.argv, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL, env=self.env,
                                 **self.popen_args)
        self.runs.append((p, out, err, t))
        self.rc = None
        return self

    def elapsed(self):
        """Seconds since the last start()."""
        return time.monotonic() - self.t0

    def events(self, run=-1):
        """The events of a run (the last by default), each line checked
        against the event schema (read_events)."""
        return read_events(self.runs[run][1]) if self.runs else []

    def all_events(self):
        """The events of every run, each with _daemon: NAME, NAME2, ..."""
        out = []
        for i, r in enumerate(self.runs):
            for e in read_events(r[1]):
                e["_daemon"] = self.name + ("" if i == 0 else str(i + 1))
                out.append(e)
        return out

    def started(self):
        """Whether the last run has said `start`."""
        return any(e.get("event") == "start" for e in self.events())

    def wait_started(self, timeout=5, socket=False):
        """Whether the daemon said `start` (and, with socket, its control
        socket is there) within timeout s, still running."""
        return bool(wait_for(lambda: self.proc.poll() is None and (not socket or os.path.exists(self.socket))
                             and self.started(), timeout))

    def real_uid(self):
        """The real uid of the last run (after setpriv, unshare exec'd it), or None."""
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("Uid:"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return None

    def ctl_env(self):
        return dict(os.environ, RUNTIME_DIRECTORY=self.env["RUNTIME_DIRECTORY"])

    def ctl_run(self, *args):
        """leakwatchctl ARGS: a CompletedProcess, text stdout/stderr."""
        return subprocess.run([self.ctl, *args], env=self.ctl_env(), stdin=subprocess.DEVNULL,
                              capture_output=True, encoding="utf-8", errors="replace", timeout=20)

    def ctl_json(self, *args):
        """leakwatchctl ARGS --json, parsed (status and history checked
        against their schemas, SCHEMAS); None when it fails."""
        r = self.ctl_run(*args, "--json")
        if r.returncode != 0:
            return None
        try:
            if args and args[0] in SCHEMA_KINDS:
                return checked_json(args[0], r.stdout)
            return json.loads(r.stdout)
        except ValueError:
            return None

    def stop(self):
        """SIGTERM, wait stop_wait_s: rc, the exit status or why none (stop_daemon)."""
        if self.proc is not None and self.rc is None:
            self.rc = stop_daemon(self.proc, self.stop_wait_s)
        return self.rc

    def kill(self):
        """SIGKILL every run still going (its process group with session)."""
        for p, *_ in self.runs:
            if p.poll() is None:
                if self.popen_args["start_new_session"]:
                    kill_group(p, signal.SIGKILL)
                else:
                    p.kill()
                p.wait()


# ---- measuring a running daemon from outside (churn_test.py, soak.py, bench) ----


def build_churn_programs(work, cc):
    """Compile churn_test.py's and soak.py's two helpers (the target, the
    fork storm) into work/bin: {"lwc-target": path, "lwc-storm": path}."""
    bindir = os.path.join(work, "bin")
    os.makedirs(bindir, exist_ok=True)
    out = {}
    for src, exe in (("churn_target.c", "lwc-target"), ("churn_storm.c", "lwc-storm")):
        path = os.path.join(bindir, exe)
        subprocess.run([cc, "-O2", "-Wall", "-o", path, os.path.join(PROGRAMS, src)], check=True)
        out[exe] = path
    return out


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def scrape(port, timeout=5):
    """The daemon's /metrics as {family: sum of its samples over labels}."""
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        name_labels, _, value = line.rpartition(" ")
        name = name_labels.split("{", 1)[0]
        try:
            out[name] = out.get(name, 0.0) + float(value)
        except ValueError:
            pass
    return out


def proc_status_kib(pid):
    """The kB fields of /proc/PID/status (VmRSS, VmHWM, RssAnon, ...) as
    ints, and Threads."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            parts = rest.split()
            if key == "Threads" or (len(parts) == 2 and parts[1] == "kB"):
                out[key] = int(parts[0])
    return out


def fd_count(pid):
    """Open descriptors of pid (its fd directory, listed)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def cpu_ns(pid):
    """CPU time of pid's threads, in ns (schedstat: exact, not in clock ticks)."""
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def last_pid():
    """The last pid allocated in our pid namespace (/proc/loadavg)."""
    with open("/proc/loadavg") as f:
        return int(f.read().split()[-1])


def pid_max():
    with open("/proc/sys/kernel/pid_max") as f:
        return int(f.read())


class Meter:
    """Samples a running leakwatchd from outside: VmRSS, VmHWM, open fds and
    CPU from /proc, and from its /metrics the processes watched, the last
    scan's duration, and the ticks (their mean duration since the previous
    sample).  Each sample reads the fds between two scrapes; it is
    `consistent` when no tick ran in between, so that `fds - 3 * watched`
    (each watched process holds 3 fds) is the daemon's own fds, exactly."""

    def __init__(self, pid, port, t0=None):
        self.pid = pid
        self.port = port
        self.t0 = time.time() if t0 is None else t0
        self.prev = None
        self.pid_max = pid_max()

    def sample(self, phase=""):
        for _ in range(5):
            m1 = scrape(self.port)
            # the daemon closes the scrape's connection when its event
            # loop next runs: give it that moment, well inside a tick
            time.sleep(0.03)
            fds = fd_count(self.pid)
            st = proc_status_kib(self.pid)
            cpu = cpu_ns(self.pid) / 1e9
            lp = last_pid()
            m2 = scrape(self.port)
            consistent = (m1.get("leakwatch_ticks_total") == m2.get("leakwatch_ticks_total") and
                          m1.get("leakwatch_watched_processes") == m2.get("leakwatch_watched_processes"))
            if consistent:
                break
        now = time.time()
        watched = int(m1.get("leakwatch_watched_processes", 0))
        s = {
            "t": now - self.t0, "wall": now, "phase": phase, "rss": st.get("VmRSS", 0),
            "hwm": st.get("VmHWM", 0), "anon": st.get("RssAnon", 0), "threads": st.get("Threads", 0),
            "fds": fds, "watched": watched, "own_fds": fds - 3 * watched if consistent else None,
            "cpu": cpu, "scan_ms": m2.get("leakwatch_scan_duration_seconds", 0) * 1000,
            "ticks": m2.get("leakwatch_ticks_total", 0), "tick_s": m2.get("leakwatch_tick_seconds_total", 0),
            "scans": m2.get("leakwatch_scans_total", 0), "full": m2.get("leakwatch_full_scans_total", 0),
            "samples": m2.get("leakwatch_samples_total", 0), "last_pid": lp,
        }
        p = self.prev
        if p:
            dt = s["wall"] - p["wall"]
            dticks = s["ticks"] - p["ticks"]
            s["tick_ms"] = (s["tick_s"] - p["tick_s"]) / dticks * 1000 if dticks > 0 else None
            s["cpu_tick_ms"] = (s["cpu"] - p["cpu"]) / dticks * 1000 if dticks > 0 else None
            s["cpu_pct"] = (s["cpu"] - p["cpu"]) / dt * 100 if dt > 0 else None
            s["new_pids_s"] = ((s["last_pid"] - p["last_pid"]) % self.pid_max) / dt if dt > 0 else None
            s["scans_s"] = (s["scans"] - p["scans"]) / dt if dt > 0 else None
            s["full_s"] = (s["full"] - p["full"]) / dt if dt > 0 else None
        else:
            s["tick_ms"] = s["cpu_tick_ms"] = s["cpu_pct"] = s["new_pids_s"] = s["scans_s"] = s["full_s"] = None
        self.prev = s
        return s


def fmt_opt(v, spec):
    return "-" if v is None else format(v, spec)


SAMPLE_HEADER = (f"{'t s':>7} {'phase':<7} {'VmRSS KiB':>9} {'VmHWM KiB':>9} {'fds':>5} {'watched':>7} "
                 f"{'own fds':>7} {'scan ms':>8} {'tick ms':>8} {'CPU/tick':>8} {'CPU %':>6} {'new pids/s':>10} "
                 f"{'full/s':>6}")


def sample_row(s):
    """One line of the table under SAMPLE_HEADER; tick ms is the mean tick
    since the previous sample, scan ms the last discovery pass's."""
    return (f"{s['t']:7.1f} {s['phase']:<7} {s['rss']:9d} {s['hwm']:9d} {s['fds']:5d} {s['watched']:7d} "
            f"{fmt_opt(s['own_fds'], 'd'):>7} {s['scan_ms']:8.2f} {fmt_opt(s['tick_ms'], '.2f'):>8} "
            f"{fmt_opt(s['cpu_tick_ms'], '.2f'):>8} {fmt_opt(s['cpu_pct'], '.1f'):>6} {fmt_opt(s['new_pids_s'], '.0f'):>10} "
            f"{fmt_opt(s['full_s'], '.2f'):>6}")


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def thirds(samples):
    """The first and last thirds of samples (at least one sample each)."""
    k = max(1, len(samples) // 3)
    return samples[:k], samples[-k:]


def judge_flat(samples, rss_slack_kib, rss_slack_frac, check_rss=True):
    """Flatness of the daemon over samples (the steady part of a run),
    comparing its first third with its last.  A list of (name, ok, text):

    - rss-flat: the largest VmRSS of the last third at most the largest of
      the first plus max(rss_slack_kib, rss_slack_frac of it);
    - fds-flat: the least `own fds` (fds - 3 * watched, consistent samples
      only) of the last third at most that of the first: a leaked
      descriptor raises the floor, a passing one (a scrape's connection, a
      file being saved) does not;
    - cpu-per-tick-flat: the daemon's CPU per tick (schedstat), median of
      the last third at most 1.25 times the first's + 0.25 ms; CPU time,
      unlike wall time, hardly moves with the load of the machine;
    - scan-time-flat, tick-time-flat: the wall time of the last discovery
      pass and the mean tick; the least of the last third at most 1.5 times
      the least of the first + 1 ms.  The least, because a pass that
      another process preempts takes longer for nothing the daemon did,
      while a daemon whose work grows makes every pass slower.
    """
    out = []
    first, last = thirds(samples)
    if check_rss:
        a = max(s["rss"] for s in first)
        b = max(s["rss"] for s in last)
        allow = max(rss_slack_kib, a * rss_slack_frac)
        out.append(("rss-flat", b - a <= allow,
                    f"VmRSS max {a} KiB (first third) -> {b} KiB (last third): {b - a:+d} KiB, "
                    f"allowed +{allow:.0f} KiB"))
    fa = [s["own_fds"] for s in first if s["own_fds"] is not None]
    fb = [s["own_fds"] for s in last if s["own_fds"] is not None]
    if not fa or not fb:
        out.append(("fds-flat", False, "no consistent fd sample in a third"))
    else:
        out.append(("fds-flat", min(fb) <= min(fa),
                    f"own fds (fds - 3 x watched) min {min(fa)} -> {min(fb)}, range {min(fa + fb)}..{max(fa + fb)}"))
    a, b = median(s["cpu_tick_ms"] for s in first), median(s["cpu_tick_ms"] for s in last)
    if a is None or b is None:
        out.append(("cpu-per-tick-flat", False, "no CPU figures"))
    else:
        allow = a * 1.25 + 0.25
        out.append(("cpu-per-tick-flat", b <= allow,
                    f"median {a:.2f} ms -> {b:.2f} ms, allowed {allow:.2f} ms (1.25x + 0.25 ms)"))
    for key, name in (("scan_ms", "scan-time-flat"), ("tick_ms", "tick-time-flat")):
        xa = [s[key] for s in first if s[key] is not None]
        xb = [s[key] for s in last if s[key] is not None]
        if not xa or not xb:
            out.append((name, False, f"no {key} figures"))
            continue
        allow = min(xa) * 1.5 + 1.0
        out.append((name, min(xb) <= allow,
                    f"least {min(xa):.2f} ms -> {min(xb):.2f} ms, allowed {allow:.2f} ms (1.5x + 1 ms); "
                    f"median {median(xa):.2f} -> {median(xb):.2f} ms"))
    return out


# ---- for the real-server tests (gunicorn, uwsgi, celery) -------------------

PAGE = os.sysconf("SC_PAGE_SIZE")


class Deadline(Exception):
    """The whole run took longer than the test allows (SIGALRM)."""


class Report:
    """PASS/FAIL lines as they come, and their counts."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, name, detail=""):
        print(f"{'PASS' if ok else 'FAIL'}  {name}{': ' + detail if detail else ''}", flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok


def proc_rss(pid):
    """Resident bytes of pid (/proc/PID/statm, exact), or None when gone."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return None


def proc_stat(pid):
    """(state, ppid, starttime in clock ticks since boot) of pid, from
    /proc/PID/stat, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rfind(b")") + 2:].split()
    return rest[0].decode(), int(rest[1]), int(rest[19])


def proc_cmdline_raw(pid):
    """The bytes of /proc/PID/cmdline, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return None


def cmdline_text(raw):
    """A command line's bytes as leakwatchd's cmdline: criterion sees them:
    trailing NULs dropped, the others turned into spaces (None stays None)."""
    return None if raw is None else raw.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")


def proc_cmdline(pid):
    """The command line of pid as leakwatchd sees it (cmdline_text), or None
    when it is gone."""
    return cmdline_text(proc_cmdline_raw(pid))


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


def cgroup_hierarchies():
    """{"unified": mount point, "named": mount point} of the cgroup2 and
    the name=systemd hierarchies that are mounted."""
    out = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            mnt, fs = left.split()[4], right.split()
            if fs[0] == "cgroup2":
                out.setdefault("unified", mnt)
            elif fs[0] == "cgroup" and len(fs) > 2 and "name=systemd" in fs[2].split(","):
                out.setdefault("named", mnt)
    return out


# The cgroups a test made (make_cgroup), outermost first: remove_cgroups()
# takes them away, innermost first.  One list per test process.
CGROUPS = []


def make_cgroup(hierarchy, path):
    """The cgroup PATH (relative, e.g. "TAG.slice/api.service") made under
    hierarchy (a cgroup mount point, or a cgroup in one: cgroup_hierarchies()'s
    values serve, and so does a v1 controller's own cgroup), its missing
    parents first; each directory made is recorded in CGROUPS for
    remove_cgroups().  The cgroup itself must be new (a test's cgroups are
    its own: FileExistsError else); its parents may exist.  Its full path;
    OSError as mkdir raises it (what was made until then stays recorded)."""
    parts = [p for p in path.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        raise ValueError(f"not a cgroup path: {path!r}")
    d = hierarchy
    for i, part in enumerate(parts):
        d = os.path.join(d, part)
        try:
            os.mkdir(d)
        except FileExistsError:
            if i == len(parts) - 1:
                raise
            continue
        CGROUPS.append(d)
    return d


def remove_cgroups(say=print):
    """Every cgroup make_cgroup() made, innermost first, once the processes
    in it are gone (each is waited for up to 5 s, then said through say)."""
    for d in reversed(CGROUPS):
        end = time.time() + 5
        while True:
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError as e:
                if time.time() > end:
                    say(f"cannot remove the cgroup {d}: {e}")
                    break
                time.sleep(0.05)
    del CGROUPS[:]


def status_table(text):
    """The plain `leakwatchctl status` table read back (its format is
    operator_test's status-table check, not this):
    {"summary": the first line,
     "watch_lines": a line per watch, between the first blank line and the
        next (a line broken before "last action" joined again),
     "header": the column header line (WATCH PID ...), or None,
     "procs": [{"watch": as printed (maybe cut short), "pid", "comm",
        "title": the quoted line under its rows, unquoted, or None,
        "rows": its row lines, the first (with the pid) first,
        "metrics": {metric: [the cells after the metric's name]}}, ...],
     "other": the lines after the header that are neither rows nor titles}.
    The row cells are cut at the header's columns, so that a comm with a
    space in it does not shift the metric's."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = {"summary": lines[0] if lines else "", "watch_lines": [], "header": None, "procs": [], "other": []}
    try:
        a = lines.index("")
        b = lines.index("", a + 1)
    except ValueError:
        return out
    for ln in lines[a + 1:b]:
        if ln.startswith("  ") and out["watch_lines"]:
            out["watch_lines"][-1] += " " + ln.strip()
        else:
            out["watch_lines"].append(ln)
    rest = lines[b + 1:]
    if not rest or not rest[0].startswith("WATCH "):
        out["other"] = rest
        return out
    hdr = out["header"] = rest[0]
    pid_end, metric_at = hdr.find("PID") + 3, hdr.find("METRIC")
    for ln in rest[1:]:
        head = ln[:pid_end].split()
        if re.match(r' {11}"', ln) and out["procs"] and out["procs"][-1]["title"] is None:
            out["procs"][-1]["title"] = ln.strip()[1:-1]
            continue
        if len(head) == 2 and head[1].isdigit() and not ln.startswith(" "):
            out["procs"].append({"watch": head[0], "pid": int(head[1]), "comm": ln[pid_end:metric_at].strip(),
                                 "title": None, "rows": [], "metrics": {}})
        elif not (ln[:metric_at].strip() == "" and ln[metric_at:].strip() and out["procs"]):
            out["other"].append(ln)
            continue
        cells = ln[metric_at:].split()
        p = out["procs"][-1]
        p["rows"].append(ln)
        if cells:
            p["metrics"][cells[0]] = cells[1:]
    return out


def stop_group(proc, wait_s):
    """SIGTERM the process group of proc, wait up to wait_s, then SIGKILL
    the group (whatever is left in it: workers, a router, forks).  proc's
    exit status, None if it could not be reaped (or proc is None)."""
    if proc is None:
        return None
    if proc.poll() is None:
        kill_group(proc, signal.SIGTERM)
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            pass
    kill_group(proc, signal.SIGKILL)
    try:
        return proc.wait(2)
    except subprocess.TimeoutExpired:
        return None


def tail(path, n=25):
    """The last n lines of a text file, [] when it cannot be read."""
    try:
        with open(path, errors="replace") as f:
            return f.readlines()[-n:]
    except OSError:
        return []


class EventReader(threading.Thread):
    """Reads a daemon's JSON event stream (its stdout pipe) to the end:
    each line copied to path as it comes, each JSON object kept with its
    receive time, any other line in bad.  log(msg) is told each event of a
    kind in show (every event with verbose)."""

    def __init__(self, stream, path, verbose, log, show=("leak", "action", "error")):
        super().__init__(daemon=True)
        self.stream = stream
        self.path = path
        self.verbose = verbose
        self.log = log
        self.show = show
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
                ev = SCHEMAS.line(line)     # checked against the event schema
                if ev is None:
                    with self.lock:
                        self.bad.append(line)
                    continue
                with self.lock:
                    self.events.append((t, ev))
                if self.verbose or ev.get("event") in self.show:
                    self.log("  event " + line)

    def get(self, kind=None):
        """[(receive time, event)] of that kind (all with None), in order."""
        with self.lock:
            return [(t, e) for t, e in self.events if kind is None or e.get("event") == kind]


class HttpLoad:
    """A steady HTTP load on a test app's / and /leak (tests/programs/
    gunicorn_app.py, uwsgi_app.py) at 127.0.0.1:PORT, never through a
    proxy: rate requests/s in all from clients threads, one in leak_every
    on /leak?LEAK_QUERY, each with a timeout of req_timeout s, a bounded
    number of them, jittered.  It counts what was served and what failed
    (any non-200 answer, a wrong body, an exception), and which worker
    served each /leak (the body names its pid)."""

    def __init__(self, port, rate, clients, leak_every, leak_query, req_timeout):
        self.base = f"http://127.0.0.1:{port}"
        # no proxy, whatever the environment says: only loopback traffic
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.rate = rate
        self.clients = clients
        self.leak_every = leak_every
        self.leak_query = leak_query
        self.req_timeout = req_timeout
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
            with self.opener.open(self.base + path, timeout=self.req_timeout) as resp:
                body = resp.read()
                if resp.status != 200:
                    return False, f"HTTP {resp.status}"
                return True, body
        except urllib.error.HTTPError as e:
            return False, f"HTTP {e.code}"
        except Exception as e:       # connection refused/reset, timeout, short read...
            return False, f"{type(e).__name__}: {e}"

    def client(self, idx, t0, duration):
        per = self.rate / self.clients
        n = int(duration * per)      # bounded
        rnd = random.Random()
        for i in range(n):
            if self.stop.is_set():
                return
            # jittered: not phase-locked to the daemon's 250 ms ticks
            due = t0 + (i + idx / self.clients + rnd.uniform(-0.45, 0.45)) / per
            delay = due - time.time()
            if delay > 0 and self.stop.wait(delay):
                return
            leak = (i * self.clients + idx) % self.leak_every == 0
            path = "/leak" if leak else "/"
            sent = time.time()
            ok, res = self.get(f"/leak?{self.leak_query}" if leak else "/")
            m = None
            if ok and leak:
                m = re.match(rb"leaked pid=(\d+) ", res)
                if not m:
                    ok, res = False, f"unexpected /leak body {res[:60]!r}"
            elif ok and b"hello from pid" not in res:
                ok, res = False, f"unexpected / body {res[:60]!r}"
            with self.lock:
                if ok:
                    self.served += 1
                    if leak:
                        self.served_leak += 1
                        pid = int(m.group(1))
                        self.leak_pids[pid] = self.leak_pids.get(pid, 0) + 1
                        self.leak_done.append((sent, time.time(), pid))
                else:
                    self.failed.append((time.time(), path, res))

    def run(self, duration):
        """Start the clients for duration s: their threads."""
        t0 = time.time()
        threads = [threading.Thread(target=self.client, args=(i, t0, duration), daemon=True)
                   for i in range(self.clients)]
        for th in threads:
            th.start()
        return threads


def split_signals(actions):
    """(signals, escalations, by_result) of a run's [(t, action event)]:
    per pid, its first ok signal action is the signal the watch sends,
    another one for the same pid can only be kill_after's SIGKILL; and the
    count of action events by result."""
    signals, escalations, seen = [], [], set()
    for t, e in actions:
        if e.get("result") == "ok" and e.get("action") == "signal":
            (escalations if e.get("pid") in seen else signals).append((t, e))
            seen.add(e.get("pid"))
    by_result = {}
    for _, e in actions:
        by_result[e.get("result")] = by_result.get(e.get("result"), 0) + 1
    return signals, escalations, by_result


def check_titles(rep, events, pattern, name):
    """The check that each of events ((t, event) pairs: a server's leak and
    action events) names its process by the title the server gave it, a
    whole match of pattern, beside comm: the slot, not only "uwsgi"."""
    bad = [(e.get("event"), e.get("pid"), e.get("title")) for _, e in events
           if not re.fullmatch(pattern, e.get("title") or "")]
    detail = (f"{len(events)} events, e.g. {events[0][1].get('event')} of pid {events[0][1].get('pid')}: "
              f"{events[0][1].get('message', '')[:120]!r}" if events else "no events")
    rep.check(bool(events) and not bad, name, detail + (f"; without it: {bad[:4]}" if bad else ""))


def check_daemon_ran(rep, reader, alive_at_end, rc, stop_s):
    """The check that the daemon ran throughout (alive_at_end), wrote only
    JSON objects, and exited 0 on SIGTERM (rc, after stop_s s)."""
    return rep.check(alive_at_end and rc == 0 and not reader.bad, "daemon ran throughout, exit 0 on SIGTERM",
                     f"exit {rc} after {stop_s:.1f}s"
                     + ("" if alive_at_end else ", but it had exited before the end")
                     + (f", {len(reader.bad)} non-JSON stdout lines" if reader.bad else ""))


def strays(found, actions, main, members, first_seen, kind, describe=lambda pid: ""):
    """What the daemon should not have touched: each found event (dicts)
    and each (t, action event) about main or a pid not in members, each
    action about a member before first_seen[pid] (when it was first seen
    as a KIND); "found PID" is followed by describe(PID)."""
    out = []
    for e in found:
        if e.get("pid") == main or e.get("pid") not in members:
            out.append(f"found {e.get('pid')}{describe(e.get('pid'))}")
    for t, e in actions:
        pid = e.get("pid")
        if pid == main or pid not in members:
            out.append(f"action {e.get('result')} on {pid}")
        elif first_seen[pid] > t:
            out.append(f"action on {pid} before it was seen as a {kind}")
    return out


def rss_growth(points, t_from, t_to, t0):
    """`+A to +B, X -> peak Y MiB, R MiB/s` of one process's [(t, rss
    bytes)] taken from t_from to t_to (A, B from t0; R the growth to the
    peak, since a worker that exits frees its leak on the way out, `-`
    over less than 3 s), or None with fewer than two of them."""
    pts = [(ts, r) for ts, r in points if t_from <= ts <= t_to]
    if len(pts) < 2:
        return None
    mib = 1024 * 1024
    peak = max(pts, key=lambda p: p[1])
    span = peak[0] - pts[0][0]
    rate = f"{(peak[1] - pts[0][1]) / span / mib:.2f} MiB/s" if span >= 3 else "-"
    return (f"+{pts[0][0] - t0:.1f} to +{pts[-1][0] - t0:.1f}, "
            f"{pts[0][1] / mib:.1f} -> peak {peak[1] / mib:.1f} MiB, {rate}")


def log_tails(log, files, n=25):
    """log(TITLE + " (tail):") and the last n lines of each (TITLE, path), indented."""
    for what, path in files:
        log(f"{what} (tail):")
        for line in tail(path, n):
            sys.stdout.write("    " + line)


def start_event_daemon(daemon_path, cfg, work, procs, verbose, log, show=("leak", "action", "error"),
                       env=None, extra=(), name="daemon", state=None, runtime=None):
    """leakwatchd -c CFG --log-target=json [EXTRA] in its own session, its
    stdout read by an EventReader (events in WORK/events.jsonl, stderr in
    WORK/daemon.stderr; other names than "daemon" give WORK/NAME.jsonl and
    WORK/NAME.stderr), its own STATE_DIRECTORY and RUNTIME_DIRECTORY (state
    and runtime, default WORK/state and WORK/run), made here; env: more
    variables.  procs[name] is its Popen.  (Popen, EventReader) once it
    said `start` within 5 s, else (Popen, None)."""
    state = state or os.path.join(work, "state")
    runtime = runtime or os.path.join(work, "run")
    os.makedirs(state, exist_ok=True)
    os.makedirs(runtime, exist_ok=True)
    denv = dict(os.environ, RUNTIME_DIRECTORY=runtime, STATE_DIRECTORY=state, **(env or {}))
    events = "events.jsonl" if name == "daemon" else name + ".jsonl"
    with open(os.path.join(work, name + ".stderr"), "w") as derr:
        daemon = subprocess.Popen([daemon_path, "-c", cfg, "--log-target=json", *extra], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=derr, env=denv, start_new_session=True)
    procs[name] = daemon
    reader = EventReader(daemon.stdout, os.path.join(work, events), verbose, log, show)
    reader.start()
    end = time.time() + 5
    while time.time() < end and daemon.poll() is None and not reader.get("start"):
        time.sleep(0.05)
    return daemon, (reader if reader.get("start") else None)


def stop_event_daemon(daemon, procs, wait_s, name="daemon"):
    """SIGTERM the daemon if it still runs and wait up to wait_s; once it
    has exited it leaves procs.  (running until now, exit status or None,
    seconds the stop took)."""
    t_stop = time.time()
    alive = daemon.poll() is None
    if alive:
        daemon.send_signal(signal.SIGTERM)
        try:
            rc = daemon.wait(wait_s)
        except subprocess.TimeoutExpired:
            rc = None
    else:
        rc = daemon.returncode
    took = time.time() - t_stop
    if rc is not None:
        procs.pop(name, None)
    return alive, rc, took


def server_test_main(name, doc, run, procs, deadline_s, preflight=None, add_args=None, cleanup=None):
    """The guarded main() of a real-server test NAME: its arguments
    (--daemon, --keep DIR, -v, and add_args(parser)'s), then preflight(args):
    a reason it cannot run, said on stderr with exit status 2, or None.
    run(args, work, report) runs in a work dir (a fresh one, or --keep's)
    under an overall SIGALRM of deadline_s s; an exception, ^C, SIGTERM,
    SIGHUP or the deadline is a failed check.  Then, with those signals
    ignored, every Popen left in procs has its group stopped, and
    cleanup() runs (an exception of its own is a failed check); `NAME: took`, the work dir kept on a failure (or with
    --keep), removed otherwise, and `NAME: N passed, M failed`.  The exit
    status: 1 on any failure (or no check made), else 0."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--daemon", required=True, help="path to leakwatchd")
    ap.add_argument("--keep", help="keep the config, events and logs in this directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every event")
    if add_args:
        add_args(ap)
    a = ap.parse_args()
    if not os.access(a.daemon, os.X_OK):
        print(f"{name}: {a.daemon} is not an executable", file=sys.stderr)
        return 2
    why = preflight(a) if preflight else None
    if why:
        print(f"{name}: {why}", file=sys.stderr)
        return 2

    def overtime(signum, frame):
        raise Deadline

    interrupt_on_term()
    signal.signal(signal.SIGALRM, overtime)
    signal.alarm(deadline_s)

    work = a.keep or tempfile.mkdtemp(prefix=f"leakwatch-{name}-")
    os.makedirs(work, exist_ok=True)
    rep = Report()
    t0 = time.time()
    try:
        run(a, work, rep)
    except Deadline:
        rep.check(False, "finished in time", f"still running after {deadline_s}s, stopped")
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
        for n in list(procs):
            stop_group(procs.pop(n), 3)
        if cleanup:
            try:
                cleanup()
            except Exception as e:
                rep.check(False, "cleaned up", f"{type(e).__name__}: {e}")
    if rep.passed + rep.failed == 0:
        rep.check(False, "ran", "no check was made")
    sc = schema_check()
    rep.check(sc.ok, "events and status read fit the shipped schemas", "; ".join(sc.problems + sc.notes))
    print(f"{name}: took {time.time() - t0:.1f}s" + (f"; kept {work}" if rep.failed or a.keep else ""), flush=True)
    if not a.keep and not rep.failed:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{name}: {rep.passed} passed, {rep.failed} failed")
    return 1 if rep.failed else 0
