#!/usr/bin/python3
"""Grow one metric steadily up to a ceiling, then hold: open fds (of
/dev/null), threads (that sleep), or resident memory (touched 4 MiB
blocks), --per-sec of them a second (MiB for rss) until the process has
--upto in all (its fds, its threads, MiB of RSS), or until the system
refuses one more (EMFILE past RLIMIT_NOFILE, a thread past the cgroup's
pids.max, which end the growth: the process holds what it has).

    grow_to.py --what fds|threads|rss --upto N [--per-sec N] [--seconds N] [--log FILE] [--tag WORD]

--log amount: the process's own count of that metric (its open fds, its
threads, its RSS in bytes), after each step.
"""
import os
import sys
import threading
import time

import lwcommon

HELD = []


def own_fds():
    """Open fds: st_size of /proc/self/fd (Linux 6.2+, needs no fd of its
    own, so it counts at RLIMIT_NOFILE too), else a listing."""
    n = os.stat("/proc/self/fd").st_size
    return n if n > 0 else len(os.listdir("/proc/self/fd")) - 1     # the listing's own fd


def own_threads():
    with open("/proc/self/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[17])


def count(what):
    if what == "fds":
        return own_fds()
    if what == "threads":
        return own_threads()
    return lwcommon.own_rss()


def grow(what):
    """One more of it; False when the system refuses."""
    try:
        if what == "fds":
            HELD.append(os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC))
        elif what == "threads":
            t = threading.Thread(target=time.sleep, args=(3600,), daemon=True)
            t.start()
            HELD.append(t)
        else:
            block = bytearray(4 * lwcommon.MIB)
            for i in range(0, len(block), lwcommon.PAGE):
                block[i] = 1
            HELD.append(block)
    except (OSError, RuntimeError, MemoryError):
        return False
    return True


def main():
    p = lwcommon.parser("Grow fds, threads or RSS to a ceiling, then hold.")
    p.add_argument("--what", choices=("fds", "threads", "rss"), required=True)
    p.add_argument("--upto", type=int, required=True, help="the ceiling (MiB for rss)")
    p.add_argument("--per-sec", type=float, default=20.0, help="steps a second (default 20)")
    a = p.parse_args()
    if a.per_sec <= 0 or a.upto <= 0:
        p.error("--per-sec and --upto must be > 0")
    lwcommon.on_signals()
    log = lwcommon.Progress(a.log)
    ceiling = a.upto * lwcommon.MIB if a.what == "rss" else a.upto
    growing = True
    log(count(a.what))
    for _ in lwcommon.run_clock(a.seconds, 1.0 / a.per_sec):
        if growing and count(a.what) < ceiling:
            growing = grow(a.what)
            log(count(a.what), refused=not growing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
