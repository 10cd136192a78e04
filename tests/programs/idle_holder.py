#!/usr/bin/python3
"""Healthy and idle: a fixed number of extra descriptors and threads, held.

The program opens --fds extra descriptors on /dev/null, starts --threads
threads that block on an event nobody sets, touches --mib MiB once, then
writes --ready FILE (a JSON object: pid, fds, threads, as /proc shows them
once it is set up) and sleeps for --seconds: no allocation, no wake-up, so
its RSS, descriptors and threads stay where they are, and a test can hold
what the daemon reports against /proc at any moment.

    idle_holder.py [--fds N] [--threads N] [--mib N] [--ready FILE] [--seconds N] [--tag WORD]
"""
import json
import os
import sys
import threading
import time

import lwcommon


def main():
    p = lwcommon.parser("Hold descriptors, threads and memory, and sleep.")
    p.add_argument("--fds", type=int, default=4, help="extra descriptors on /dev/null (default 4)")
    p.add_argument("--threads", type=int, default=2, help="extra idle threads (default 2)")
    p.add_argument("--mib", type=float, default=4.0, help="memory touched once (default 4)")
    p.add_argument("--ready", help="write {pid, fds, threads} here once set up")
    a = p.parse_args()
    if a.fds < 0 or a.threads < 0 or a.mib < 0:
        p.error("--fds, --threads and --mib must be >= 0")
    lwcommon.on_signals()
    held_fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(a.fds)]
    never = threading.Event()
    threads = [threading.Thread(target=never.wait, daemon=True) for _ in range(a.threads)]
    for t in threads:
        t.start()
    held_mem = lwcommon.fill(a.mib * lwcommon.MIB)
    if a.ready:
        fds = len(os.listdir("/proc/self/fd")) - 1     # not the listing's own descriptor
        with open("/proc/self/status") as f:
            nthreads = int(next(ln.split()[1] for ln in f if ln.startswith("Threads:")))
        tmp = a.ready + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"pid": os.getpid(), "fds": fds, "threads": nthreads}, f)
        os.rename(tmp, a.ready)
    time.sleep(a.seconds)
    del held_fds, held_mem
    return 0


if __name__ == "__main__":
    sys.exit(main())
