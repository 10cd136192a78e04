#!/usr/bin/python3
"""Leak: threads, through a ThreadPoolExecutor created per request.

Each request makes its own concurrent.futures.ThreadPoolExecutor, runs its
work on it, and files the executor in a per-client registry "for reuse" that
is never consulted again and never shut down.  An executor that is still
referenced keeps its idle worker thread forever: one thread leaked per request.

    leak_executors.py [--per-sec N] [--seconds N] [--log FILE] [--tag WORD]

--log amount: threads leaked so far (threading.active_count() - 1).
"""
import concurrent.futures
import hashlib
import sys
import threading

import lwcommon

REGISTRY = {}


def work(n):
    return hashlib.sha256(b"%d" % n).hexdigest()


def main():
    p = lwcommon.parser("Leak threads through executors that are never shut down.")
    p.add_argument("--per-sec", type=float, default=1.0, help="requests per second (default 1)")
    a = p.parse_args()
    if a.per_sec <= 0:
        p.error("--per-sec must be > 0")
    lwcommon.on_signals()
    log = lwcommon.Progress(a.log)
    log(0)
    n = 0
    for _ in lwcommon.run_clock(a.seconds, 1.0 / a.per_sec):
        ex = concurrent.futures.ThreadPoolExecutor(max_workers=2)
        ex.submit(work, n).result()
        REGISTRY["client-%d" % n] = ex       # never ex.shutdown()
        n += 1
        log(threading.active_count() - 1, requests=n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
