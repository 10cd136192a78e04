#!/usr/bin/python3
"""A pre-forking server: a master and --workers forked workers, one leaking.

The master forks its workers with os.fork() (no exec: they share its command
line, which carries the --tag marker, so a watch tells them apart by their
parent: `match: {parent: {cmdline: MARKER}}`).  The worker in slot
--leak-slot leaks --rate KiB/s; the others only churn a little scratch memory.
A worker that dies is forked again in its slot.  The master writes
--status FILE (JSON: {"master": PID, "workers": {SLOT: PID}, "leak_slot": N})
whenever the set of workers changes.  SIGTERM to the master stops the
workers, waits for them and exits 0.

    prefork.py [--workers N] [--leak-slot N] [--rate KIB_PER_S] [--status FILE]
               [--seconds N] [--log FILE] [--tag WORD]

--log (the leaking worker only) amount: bytes leaked.
"""
import json
import os
import random
import signal
import sys
import time

import lwcommon

TICK = 0.1


def worker(slot, a):
    """The body of one worker; never returns."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    lwcommon.on_signals()
    leaking = slot == a.leak_slot
    log = lwcommon.Progress(a.log if leaking else None)
    rng = random.Random(slot)
    leaked, kept = 0, []
    for now in lwcommon.run_clock(a.seconds, TICK):
        scratch = lwcommon.fill(rng.randint(32, 256) * 1024)     # a request
        del scratch
        if leaking:
            target = int(a.rate * 1024 * now)
            if target > leaked:
                kept.append(lwcommon.fill(target - leaked))
                leaked = target
                log(leaked, slot=slot)
    os._exit(0)


def main():
    p = lwcommon.parser("A pre-forking master whose worker in one slot leaks.")
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--leak-slot", type=int, default=1, help="slot of the leaking worker; -1: none")
    p.add_argument("--rate", type=float, default=1024.0, help="the leak, KiB/s (default 1024)")
    p.add_argument("--status", default=None, help="write the worker table (JSON) here")
    a = p.parse_args()
    if a.workers <= 0 or a.rate < 0:
        p.error("bad --workers or --rate")
    workers = {}            # slot -> pid
    stopping = False

    def write_status():
        if not a.status:
            return
        tmp = a.status + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"master": os.getpid(), "leak_slot": a.leak_slot,
                       "workers": {str(s): pid for s, pid in workers.items()}}, f)
        os.replace(tmp, a.status)

    def spawn(slot):
        pid = os.fork()
        if pid == 0:
            try:
                worker(slot, a)
            finally:
                os._exit(0)
        workers[slot] = pid

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for slot in range(a.workers):
        spawn(slot)
    write_status()

    deadline = time.monotonic() + a.seconds
    while not stopping and time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            pid = 0
        if pid:
            dead = [s for s, w in workers.items() if w == pid]
            for slot in dead:
                if not stopping:
                    spawn(slot)
            write_status()
        else:
            time.sleep(0.2)

    lwcommon.stop_workers(workers.values())
    return 0


if __name__ == "__main__":
    sys.exit(main())
