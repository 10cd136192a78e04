#!/usr/bin/python3
"""A pre-fork master whose workers unshare its heap page by page (copy on write).

The master builds a heap of small Python objects (--heap-mib of them, as its
own RSS grows: a list of (int, str, float) tuples, about 200 bytes an entry)
and forks --workers workers with os.fork(), no exec.  Each worker walks the
inherited entries slowly, an equal slice every --step seconds so that the
walk takes --walk-seconds, then holds.  Reading an object from Python writes
its reference count, and that write copies the page it is on, so a worker's
private memory (USS: Private_Clean + Private_Dirty of smaps_rollup) rises to
about the whole heap over the walk while its RSS stays flat: the inherited
pages were resident and counted in its RSS from the fork on, and each copy
replaces one of them.  The workers disable their gc, so that no collection
(which writes every tracked object's header) unshares the heap at once.

--freeze is the control: the master calls gc.freeze() before forking, and
the workers read the same memory without touching any object (the heap's
anonymous mappings copied out with ctypes.string_at, the same bytes per
step): their USS stays flat.

    cow_prefork.py [--heap-mib N] [--workers N] [--walk-seconds S] [--step S]
                   [--freeze] [--status FILE] [--seconds N] [--log FILE]
                   [--marker WORD | --tag WORD]

--status FILE: written (JSON) once the workers are forked: {"master": PID,
"workers": [PID, ...], "entries": N, "heap_bytes": B, "build_s": S, "freeze":
BOOL}.  --log (each worker): a record per step, amount = entries (or bytes,
with --freeze) walked so far, with "uss" and "pss" in bytes.  Workers die
with the master (PR_SET_PDEATHSIG); SIGTERM to the master stops the
workers, waits for them and exits 0.
"""
import ctypes
import gc
import json
import os
import signal
import sys
import time

import lwcommon

PR_SET_PDEATHSIG = 1
ENTRY_CHUNK = 10000
READ_CHUNK = 64 * 1024    # the copies stay small, reused, not another heap


def smaps_rollup(pid="self"):
    """{"uss": bytes, "pss": bytes, "rss": bytes} of /proc/PID/smaps_rollup."""
    out = {"uss": 0, "pss": 0, "rss": 0}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, rest = line.partition(":")
            parts = rest.split()
            if len(parts) != 2:
                continue
            kib = int(parts[0]) * 1024
            if key in ("Private_Clean", "Private_Dirty"):
                out["uss"] += kib
            elif key == "Pss":
                out["pss"] = kib
            elif key == "Rss":
                out["rss"] = kib
    return out


def build_heap(mib):
    """A list of (int, str, float) tuples, grown until this process's RSS
    has risen by mib MiB: (the list, the seconds it took)."""
    t0 = time.monotonic()
    base = lwcommon.own_rss()
    target = base + mib * lwcommon.MIB
    heap = []
    i = 1000
    while lwcommon.own_rss() < target:
        heap.extend((k, "k%09d" % k, k * 0.5) for k in range(i, i + ENTRY_CHUNK))
        i += ENTRY_CHUNK
    return heap, time.monotonic() - t0


def heap_ranges():
    """(start, length) of this process's readable anonymous private
    mappings (the heap's arenas among them), from /proc/self/maps."""
    out = []
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 5 and fields[5] != "[heap]":
                continue        # a file, the stack, vdso: not the heap
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            if fields[1].startswith("r") and fields[1][3] == "p":
                out.append((lo, hi - lo))
    return out


def die_with_parent(master):
    """PR_SET_PDEATHSIG SIGKILL, and exit at once if the master is gone already."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != master:
        os._exit(0)


def walk_touch(heap, a, log):
    """Walk the entries, a slice a step, reading each element (which
    writes the refcounts of the tuple and of its three objects)."""
    n = len(heap)
    steps = max(1, int(a.walk_seconds / a.step))
    done = 0
    for k, _ in enumerate(lwcommon.run_clock(a.walk_seconds, a.step)):
        hi = min(n, (k + 1) * n // steps)
        for t in heap[done:hi]:
            x, y, z = t
        done = hi
        log(done, **smaps_rollup_or_empty(log))
        if done >= n:
            break


def walk_read(ranges, a, log):
    """The same pace over the heap's mappings, copied out with
    ctypes.string_at: every page read, no object touched."""
    total = sum(length for _, length in ranges)
    steps = max(1, int(a.walk_seconds / a.step))
    per = max(lwcommon.PAGE, total // steps)
    done = 0
    pos = [(lo, length) for lo, length in ranges]
    for _ in lwcommon.run_clock(a.walk_seconds, a.step):
        left = per
        while left > 0 and pos:
            lo, length = pos[0]
            n = min(left, length, READ_CHUNK)
            ctypes.string_at(lo, n)     # a copy of n bytes, freed at once
            left -= n
            done += n
            pos[0] = (lo + n, length - n)
            if pos[0][1] == 0:
                pos.pop(0)
        log(done, **smaps_rollup_or_empty(log))
        if not pos:
            break


def smaps_rollup_or_empty(log):
    return smaps_rollup() if log.f else {}


def worker(master, heap, ranges, a):
    """The body of one worker; never returns."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    die_with_parent(master)
    gc.disable()
    lwcommon.on_signals()
    log = lwcommon.Progress(a.log)
    if a.freeze:
        walk_read(ranges, a, log)
    else:
        walk_touch(heap, a, log)
    while True:
        time.sleep(3600)


def main():
    p = lwcommon.parser("A pre-fork master whose workers unshare its heap by reading it.")
    p.add_argument("--marker", dest="tag", help="the same as --tag")
    p.add_argument("--heap-mib", type=int, default=200)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--walk-seconds", type=float, default=80.0)
    p.add_argument("--step", type=float, default=0.5)
    p.add_argument("--freeze", action="store_true", help="gc.freeze(), and walk without touching objects")
    p.add_argument("--status", default=None, help="write the master's and workers' pids here (JSON)")
    a = p.parse_args()
    if a.heap_mib <= 0 or a.workers <= 0 or a.walk_seconds <= 0 or a.step <= 0:
        p.error("bad --heap-mib, --workers, --walk-seconds or --step")
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    heap, build_s = build_heap(a.heap_mib)
    ranges = heap_ranges() if a.freeze else None
    if a.freeze:
        gc.freeze()
    master = os.getpid()
    workers = []
    for _ in range(a.workers):
        pid = os.fork()
        if pid == 0:
            try:
                worker(master, heap, ranges, a)
            finally:
                os._exit(0)
        workers.append(pid)
    if a.status:
        tmp = a.status + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"master": master, "workers": workers, "entries": len(heap),
                       "heap_bytes": a.heap_mib * lwcommon.MIB, "build_s": round(build_s, 3),
                       "freeze": a.freeze}, f)
        os.replace(tmp, a.status)
    deadline = time.monotonic() + a.seconds
    while not stopping and time.monotonic() < deadline:
        time.sleep(0.2)
    lwcommon.stop_workers(workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
