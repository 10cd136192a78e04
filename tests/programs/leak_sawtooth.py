#!/usr/bin/python3
"""Leak under a large GC-like sawtooth.

A batch job builds a working set of --batch-mib MiB over --period seconds, in
anonymous mappings, and releases it all at once at the end of each period
(munmap: the pages really go back to the kernel), like a collector freeing a
generation.  Meanwhile a small permanent leak adds --rate KiB/s that is never
released.  The sawtooth is much larger than what the leak adds per period.

    leak_sawtooth.py [--batch-mib MIB] [--period S] [--rate KIB_PER_S]
                     [--seconds N] [--log FILE] [--tag WORD]

--log amount: bytes of the permanent leak (the sawtooth is not counted).
"""
import mmap
import sys

import lwcommon

LEAKED = []
TICK = 0.05


def main():
    p = lwcommon.parser("A permanent leak under a large allocate-and-release sawtooth.")
    p.add_argument("--batch-mib", type=float, default=32.0, help="sawtooth height, MiB (default 32)")
    p.add_argument("--period", type=float, default=4.0, help="sawtooth period, s (default 4)")
    p.add_argument("--rate", type=float, default=1024.0, help="permanent leak, KiB/s (default 1024)")
    a = p.parse_args()
    if a.batch_mib <= 0 or a.period <= TICK or a.rate < 0:
        p.error("bad --batch-mib, --period or --rate")
    lwcommon.on_signals()
    log = lwcommon.Progress(a.log)
    batch_bytes = int(a.batch_mib * lwcommon.MIB)
    batch, in_batch = [], 0
    cycle = 0
    leaked = 0
    for now in lwcommon.run_clock(a.seconds, TICK):
        c, phase = divmod(now, a.period)
        if int(c) != cycle:                     # the "collection": release it all
            for m in batch:
                m.close()
            batch, in_batch, cycle = [], 0, int(c)
        want = int(batch_bytes * phase / a.period)
        if want - in_batch >= mmap.PAGESIZE:
            n = (want - in_batch) // mmap.PAGESIZE * mmap.PAGESIZE
            m = mmap.mmap(-1, n)
            m.write(b"\x5a" * n)
            batch.append(m)
            in_batch += n
        target = int(a.rate * 1024 * now)
        if target > leaked:
            LEAKED.append(lwcommon.fill(target - leaked))
            leaked = target
            log(leaked, batch=in_batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
