#!/usr/bin/python3
"""Hostile watched processes: the real daemon, as root, against real
processes of an unprivileged user (uid/gid 65534, through setpriv) who
controls their argv, comm, fds, threads, cgroup subtree and pidfiles.

    /usr/bin/python3 tests/hostile_proc_test.py --daemon build/leakwatchd
        [--ctl build/leakwatchctl] [--only GLOB] [--keep DIR] [--list]

(`make hostile-proc`.)  It needs root and setpriv; without them it says so
and passes as skipped.  The cases live in tests/hostile/*.py, one module per
class of attack, each a list CASES of (name, function); a function gets a
Case (below) and fails it with case.fail(...).  One PASS/FAIL line per case,
then `hostile_proc: N passed, M failed`; exit status 1 on any failure.

Every case starts its own daemons and programs and the runner stops them
all, whatever the case did; a case's files are under WORK/CASE/ (kept with
--keep, or when it failed)."""

import argparse
import fnmatch
import glob
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

import lwtest

HERE = os.path.dirname(os.path.abspath(__file__))
NOBODY = 65534


class Case:
    """What a case function works with: its directory (world-readable, so
    nobody reaches the programs copied there), daemons and programs it
    starts (stopped by the runner), and its verdict."""

    def __init__(self, name, args, work):
        self.name = name
        self.args = args
        self.work = work
        self.check = lwtest.Check(name)
        self.daemons = []
        self.procs = []
        os.makedirs(work, mode=0o755, exist_ok=True)
        os.chmod(work, 0o755)

    def fail(self, msg):
        self.check.fail(msg)

    def note(self, msg):
        self.check.note(msg)

    def path(self, *parts):
        return os.path.join(self.work, *parts)

    def write(self, name, text, mode=0o644):
        """A file under the case's directory (root-owned): its path."""
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def program(self, name):
        """tests/programs/NAME (and lwcommon.py) copied where nobody may run it: the copy's path."""
        for n in (name, "lwcommon.py"):
            dst = self.path(n)
            if not os.path.exists(dst):
                shutil.copy(os.path.join(lwtest.PROGRAMS, n), dst)
                os.chmod(dst, 0o755)
        return self.path(name)

    def daemon(self, cfg_text, name="d", extra=(), wait=True):
        """leakwatchd as root on this YAML (written to NAME.yaml), started
        and, with wait, waited for its `start` event: the lwtest.Daemon.
        A daemon that does not start fails the case (AssertionError)."""
        cfg = self.write(name + ".yaml", cfg_text)
        d = lwtest.Daemon(name, self.args.daemon, cfg, self.work, extra=extra, ctl=self.args.ctl)
        self.daemons.append(d)
        d.start()
        if wait and not d.wait_started(10, socket=True):
            with open(d.err) as f:
                raise AssertionError(f"daemon {name} did not start: {f.read().strip()[-400:]}")
        return d

    def as_nobody(self, argv, **popen):
        """argv as uid/gid 65534 (no supplementary groups), in a session of
        its own, stdin and stdout /dev/null, stderr to WORK/CASE/nobody-N.err:
        the Popen (stopped, with its whole group, at the end)."""
        return self.spawn(lwtest.as_user(str(NOBODY), str(NOBODY), list(argv)), **popen)

    def as_root(self, argv, **popen):
        """argv as root, likewise: the Popen."""
        return self.spawn(list(argv), **popen)

    def spawn(self, argv, **popen):
        err = open(self.path(f"proc-{len(self.procs)}.err"), "w")
        kw = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        kw.update(popen)
        p = subprocess.Popen(argv, **kw)
        err.close()
        self.procs.append(p)
        return p

    def wait_event(self, d, pred, timeout):
        """The first event of d (its last run) for which pred(event) holds,
        within timeout seconds, else None."""
        return lwtest.wait_for(lambda: next((e for e in d.events() if pred(e)), None), timeout)

    def alive(self, d):
        """Whether daemon d still runs and its control socket answers within 2 s."""
        if d.proc.poll() is not None:
            return False
        try:
            r = subprocess.run([self.args.ctl, "status", "--json"], env=d.ctl_env(), capture_output=True,
                               timeout=2, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return False
        return r.returncode == 0

    def cleanup(self):
        lwtest.stop_groups(self.procs)
        for d in self.daemons:
            rc = d.stop()
            if rc != 0 and rc is not None:
                self.fail(f"daemon {d.name}: {rc}" if isinstance(rc, str) else f"daemon {d.name} exited {rc}")
            d.kill()


def load_cases():
    out = []
    sys.path.insert(0, os.path.join(HERE, "hostile"))
    for path in sorted(glob.glob(os.path.join(HERE, "hostile", "*.py"))):
        mod_name = "hostile_" + os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(mod_name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        out.extend(getattr(mod, "CASES", []))
    return out


def skip_reason():
    if os.geteuid() != 0:
        return "not root"
    if not shutil.which("setpriv"):
        return "no setpriv"
    try:
        r = subprocess.run(lwtest.as_user(str(NOBODY), str(NOBODY), ["id", "-u"]), capture_output=True,
                           text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"setpriv to uid {NOBODY} failed: {e}"
    if r.returncode != 0 or r.stdout.strip() != str(NOBODY):
        return f"setpriv to uid {NOBODY} failed: {r.stderr.strip()}"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--ctl", default=None, help="leakwatchctl (default: beside the daemon)")
    ap.add_argument("--only", default="*", help="run the cases whose name matches this glob")
    ap.add_argument("--keep", default=None, help="keep the work in this directory")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    args = ap.parse_args()
    args.daemon = os.path.abspath(args.daemon)
    args.ctl = os.path.abspath(args.ctl or os.path.join(os.path.dirname(args.daemon), "leakwatchctl"))
    cases = [(n, f) for n, f in load_cases() if fnmatch.fnmatch(n, args.only)]
    if args.list:
        for n, f in cases:
            print(n + "  " + (f.__doc__ or "").strip().splitlines()[0] if f.__doc__ else n)
        return 0
    why = skip_reason()
    if why:
        print(f"SKIP  hostile_proc: {why}: the hostile-process tests need root and setpriv to uid {NOBODY}")
        print("hostile_proc: 0 passed, 0 failed (skipped)")
        return 0
    lwtest.interrupt_on_term()
    work = args.keep or tempfile.mkdtemp(prefix="lw-hostile-")
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o755)
    checks, failed_dirs = [], []
    width = max([len(n) for n, _ in cases] + [10])
    try:
        for name, fn in cases:
            c = Case(name, args, os.path.join(work, name))
            t0 = time.monotonic()
            try:
                fn(c)
            except AssertionError as e:
                c.fail(str(e))
            except Exception:
                c.fail("raised: " + traceback.format_exc().strip().replace("\n", " | "))
            finally:
                c.cleanup()
            c.note(f"{time.monotonic() - t0:.1f}s")
            checks.append(c.check)
            print(c.check.line(width), flush=True)
            if not c.check.ok:
                failed_dirs.append(c.work)
    except KeyboardInterrupt:
        print("interrupted")
    if checks:
        checks.append(lwtest.schema_check())    # every event and status read fitted the shipped schemas
        print(checks[-1].line(width), flush=True)
    n_ok = sum(1 for c in checks if c.ok)
    if failed_dirs:
        print("work kept for the failed cases: " + " ".join(failed_dirs))
    elif not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(f"hostile_proc: {n_ok} passed, {len(checks) - n_ok} failed")
    return 0 if n_ok == len(checks) and checks else 1


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
