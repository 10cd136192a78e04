#!/usr/bin/python3
"""A master that keeps --workers forked workers, each living --life seconds
(like gunicorn's max_requests or celery's max-tasks-per-child), replaced by
the master as each exits.

Every worker leaks --rate KiB/s while it lives (results it keeps).  With
--keep-results (the "leaky" pool), a finished worker sends the master its
results over a pipe, which the master keeps, as a master that collects its
jobs' results does: its heap grows by what every worker leaked, and each
new worker, forked from it, starts with that heap (its rss counts the pages
it shares with the master), so the pool's sum grows although no worker
lives long.  Without it (the "bounded" pool), the results die with their
worker: every successor starts at the same base, and the sum is a sawtooth
that does not grow.  The first generation lives life*(k+1)/workers seconds
(k: its slot), so the workers are spread evenly from the start.

The workers are forked (no exec): they share the master's command line, a
watch tells them apart by their parent (`match: {parent: {cmdline: ...}}`).
--status FILE (JSON: {"master": PID, "workers": {SLOT: PID}, "spawned": N})
is written whenever the set of workers changes.  SIGTERM to the master stops
the workers, waits for them and exits 0.

    recycled_pool.py [--workers N] [--life S] [--rate KIB_PER_S] [--keep-results]
                     [--status FILE] [--seconds N] [--log FILE] [--tag WORD]

--log (the master) amount: bytes of results the master keeps.
"""
import json
import os
import signal
import sys
import time

import lwcommon

TICK = 0.1


def worker(life, rate_kib, out_fd):
    """The body of one worker; never returns.  Leaks rate_kib KiB/s for
    life seconds, then sends its results' size on out_fd (-1: none) and
    exits."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    lwcommon.on_signals()
    leaked, kept = 0, []
    for now in lwcommon.run_clock(life, TICK):
        target = int(rate_kib * 1024 * now)
        if target > leaked:
            kept.append(lwcommon.fill(target - leaked))
            leaked = target
    if out_fd >= 0:
        os.write(out_fd, (str(leaked) + "\n").encode())
    os._exit(0)


def main():
    p = lwcommon.parser("A master whose workers are recycled, each leaking while it lives.")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--life", type=float, default=20.0, help="a worker's life, seconds (default 20)")
    p.add_argument("--rate", type=float, default=256.0, help="each worker's leak, KiB/s (default 256)")
    p.add_argument("--keep-results", action="store_true",
                   help="the master keeps what each finished worker leaked (the sum grows)")
    p.add_argument("--status", default=None, help="write the worker table (JSON) here")
    a = p.parse_args()
    if a.workers <= 0 or a.rate < 0 or a.life <= 0:
        p.error("bad --workers, --life or --rate")
    log = lwcommon.Progress(a.log)
    workers = {}            # slot -> pid
    results = []            # what the master keeps of its finished workers
    kept = 0
    spawned = 0
    stopping = False
    rfd, wfd = os.pipe()
    os.set_blocking(rfd, False)
    pending = b""

    def write_status():
        if not a.status:
            return
        tmp = a.status + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"master": os.getpid(), "spawned": spawned,
                       "workers": {str(s): pid for s, pid in workers.items()}}, f)
        os.replace(tmp, a.status)

    def spawn(slot, life):
        nonlocal spawned
        pid = os.fork()
        if pid == 0:
            try:
                os.close(rfd)
                worker(life, a.rate, wfd if a.keep_results else -1)
            finally:
                os._exit(0)
        workers[slot] = pid
        spawned += 1

    def collect():
        """The results the finished workers sent, kept (resident)."""
        nonlocal pending, kept
        try:
            pending += os.read(rfd, 4096)
        except BlockingIOError:
            return
        *lines, pending = pending.split(b"\n")
        for line in lines:
            n = int(line or b"0")
            results.append(lwcommon.fill(n))
            kept += n
            log(kept)

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for slot in range(a.workers):
        spawn(slot, a.life * (slot + 1) / a.workers)
    write_status()

    deadline = time.monotonic() + a.seconds
    while not stopping and time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            pid = 0
        if pid:
            time.sleep(0.02)   # its last write is in the pipe by now
            collect()
            for slot in [s for s, w in workers.items() if w == pid]:
                if not stopping:
                    spawn(slot, a.life)
            write_status()
        else:
            collect()
            time.sleep(0.05)

    lwcommon.stop_workers(workers.values())
    return 0


if __name__ == "__main__":
    sys.exit(main())
