#!/usr/bin/python3
"""No leak: a cache that warms up with an exponentially decaying fill rate.

Misses fill a cache quickly at first and ever more rarely as it warms: the
cache holds --total-mib * (1 - exp(-t / --tau)) MiB at time t.  It grows fast,
then slower and slower, and levels off; it never stops growing entirely
within the run, but its growth decays by e every --tau seconds.

    ok_warmup_exp.py [--total-mib MIB] [--tau S] [--entry-kib KIB]
                     [--seconds N] [--log FILE] [--tag WORD]

--log amount: bytes in the cache.
"""
import math
import sys

import lwcommon

CACHE = {}
TICK = 0.1


def main():
    p = lwcommon.parser("Exponential warm-up of a cache, then a plateau.")
    p.add_argument("--total-mib", type=float, default=24.0, help="size the cache tends to, MiB (default 24)")
    p.add_argument("--tau", type=float, default=5.0, help="time constant, s (default 5)")
    p.add_argument("--entry-kib", type=float, default=16.0, help="size of one entry, KiB (default 16)")
    a = p.parse_args()
    if a.total_mib <= 0 or a.tau <= 0 or a.entry_kib <= 0:
        p.error("--total-mib, --tau and --entry-kib must be > 0")
    lwcommon.on_signals()
    log = lwcommon.Progress(a.log)
    entry = int(a.entry_kib * 1024)
    total = a.total_mib * lwcommon.MIB
    held = 0
    for now in lwcommon.run_clock(a.seconds, TICK):
        want = total * (1 - math.exp(-now / a.tau))
        grew = False
        while held + entry <= want:
            CACHE[len(CACHE)] = lwcommon.fill(entry)
            held += entry
            grew = True
        if grew:
            log(held)
    return 0


if __name__ == "__main__":
    sys.exit(main())
