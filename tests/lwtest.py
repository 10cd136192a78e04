"""Shared plumbing for leakwatch's Python test runners (scenario_test.py,
action_test.py, gunicorn_test.py); not a test itself.  The runners run as
`python3 tests/X.py`, so this directory is on sys.path and `import lwtest`
finds it."""

import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import time

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
    dir unless keep; then `RUNNER: N passed, M failed`.  The exit status."""
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
