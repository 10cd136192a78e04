"""Shared plumbing for leakwatch's scenario programs (not a program itself).

Every program in this directory takes:
  --tag WORD     ignored; a unique marker on the command line, for a watch's
                 `cmdline:` regex
  --seconds N    run this long, then exit 0 (a safety net: the test runner
                 normally stops the program long before)
  --log FILE     append a progress record per change, one JSON object a line:
                 {"t": UNIX_TIME, "amount": N, "rss": BYTES, ...}; `amount` is
                 what the program means to leak (bytes, fds or threads, see
                 each program), so a test can compute the true rate from the
                 program's own point of view
and exits 0 at once on SIGTERM or SIGINT.
"""

import argparse
import json
import os
import signal
import sys
import time

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024

_on_exit = []


def parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--tag", default="", help="ignored; a marker for cmdline matching")
    p.add_argument("--seconds", type=float, default=600.0,
                   help="run this long, then exit 0 (default 600)")
    p.add_argument("--log", default=None,
                   help="append JSON progress records to this file")
    return p


def own_rss():
    """Resident set size of this process in bytes (/proc/self/statm)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


def _stop(signum, frame):
    for fn in _on_exit:
        try:
            fn()
        except Exception:
            pass
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit: no teardown of what the program holds (and no waiting for
    # the threads a leaking program never joins).
    os._exit(0)


def on_signals(cleanup=None):
    """Exit 0 on SIGTERM/SIGINT, after running `cleanup` (if given)."""
    if cleanup is not None:
        _on_exit.append(cleanup)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)


class Progress:
    """Writes {"t", "amount", "rss", ...} records to --log (or nowhere)."""

    def __init__(self, path):
        self.f = open(path, "a", buffering=1) if path else None
        if self.f:
            _on_exit.append(self.f.flush)

    def __call__(self, amount, **extra):
        if not self.f:
            return
        rec = {"t": round(time.time(), 4), "amount": amount, "rss": own_rss()}
        rec.update(extra)
        self.f.write(json.dumps(rec) + "\n")


def run_clock(seconds, tick):
    """Yield the seconds elapsed since the start, every `tick` seconds, until
    `seconds` have passed.  Sleeps to absolute deadlines, so the ticks do
    not drift when a step takes a while or the process is descheduled."""
    start = time.monotonic()
    k = 0
    while True:
        now = time.monotonic() - start
        if now >= seconds:
            return
        yield now
        k += 1
        nxt = k * tick
        if nxt < now:  # fell behind: skip the missed ticks
            k = int(now / tick) + 1
            nxt = k * tick
        time.sleep(max(0.0, nxt - (time.monotonic() - start)))


def fill(n):
    """n resident bytes (b"x" * n writes every page)."""
    return b"x" * int(n)


def stop_workers(pids, sig=signal.SIGTERM):
    """A master's last act: send sig to each worker still there, then reap
    every one (an exited or reaped one is no error)."""
    pids = list(pids)
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    for pid in pids:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
