#!/usr/bin/python3
"""A pre-forking master that respawns its workers, for tests/action_test.py.

The master forks --workers workers with os.fork() (no exec: they share its
command line, which carries the --tag marker, so a watch picks the workers by
`match: {parent: {cmdline: MARKER}}`).  Whenever a worker exits, for whatever
reason, the master forks a new one in the same slot at once.  The worker in
slot --leak-slot leaks --rate KiB/s, counted from its own start (so every
respawned worker in that slot leaks afresh); the others hold a fixed buffer
and stay flat.

Workers keep the default SIGTERM disposition: a SIGTERM kills them, and the
master's log shows it.

--log FILE gets one JSON object a line, written by the master:
    {"t": UNIX_TIME, "ev": "spawn", "slot": N, "pid": PID}   (t: just before the fork)
    {"t": UNIX_TIME, "ev": "exit", "slot": N, "pid": PID, "status": "signal TERM" | "exit N"}
    {"t": UNIX_TIME, "ev": "stop"}         (the master was told to stop)

SIGTERM/SIGINT to the master: it stops respawning, SIGKILLs its workers,
reaps them and exits 0.

    act_prefork.py [--workers N] [--leak-slot N] [--rate KIB_PER_S]
                   [--log FILE] [--seconds N] [--tag WORD]
"""
import json
import os
import signal
import sys
import time

import lwcommon

TICK = 0.1


def worker(slot, a):
    """The body of one worker; never returns."""
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
        signal.signal(s, signal.SIG_DFL)
    base = lwcommon.fill(2 * lwcommon.MIB)       # the same for every worker
    kept, leaked = [], 0
    leaking = slot == a.leak_slot
    for now in lwcommon.run_clock(a.seconds, TICK):
        if leaking:
            target = int(a.rate * 1024 * now)
            if target > leaked:
                kept.append(lwcommon.fill(target - leaked))
                leaked = target
    del base
    os._exit(0)


def main():
    p = lwcommon.parser("A respawning pre-forking master whose worker in one slot leaks.")
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--leak-slot", type=int, default=1, help="slot of the leaking worker; -1: none")
    p.add_argument("--rate", type=float, default=1024.0, help="the leak, KiB/s (default 1024)")
    a = p.parse_args()
    if a.workers <= 0 or a.rate < 0:
        p.error("bad --workers or --rate")
    log = open(a.log, "a", buffering=1) if a.log else None
    workers = {}            # pid -> slot
    stopping = False

    def record(t=None, **rec):
        if log:
            rec = dict(t=round(time.time() if t is None else t, 4), **rec)
            log.write(json.dumps(rec) + "\n")

    def spawn(slot):
        # the time before the fork: the master may run late after it, and
        # the worker must never seem to be found before it existed
        t = time.time()
        pid = os.fork()
        if pid == 0:
            try:
                worker(slot, a)
            finally:
                os._exit(0)
        workers[pid] = slot
        record(t=t, ev="spawn", slot=slot, pid=pid)

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for slot in range(a.workers):
        spawn(slot)

    deadline = time.monotonic() + a.seconds
    while not stopping and time.monotonic() < deadline:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            pid, status = 0, 0
        if pid and pid in workers:
            slot = workers.pop(pid)
            if os.WIFSIGNALED(status):
                how = "signal " + signal.Signals(os.WTERMSIG(status)).name[3:]
            else:
                how = "exit %d" % os.waitstatus_to_exitcode(status)
            record(ev="exit", slot=slot, pid=pid, status=how)
            if not stopping:
                spawn(slot)
        elif not pid:
            time.sleep(0.05)

    record(ev="stop")
    lwcommon.stop_workers(workers, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
