#!/usr/bin/python3
"""No leak: bounded churn of random-sized buffers.

A working set of --slots buffers; at every operation one random slot gets a
new buffer of random size between --min-kib and --max-kib (the old one is
freed).  Memory swings up and down with the sizes drawn, and malloc's
heuristics add their own noise, but the working set is bounded by
--slots * --max-kib.

    ok_churn.py [--slots N] [--min-kib K] [--max-kib K] [--ops-per-sec N]
                [--seed N] [--seconds N] [--log FILE] [--tag WORD]

--log amount: bytes in the working set (a record every second).
"""
import random
import sys

import lwcommon


def main():
    p = lwcommon.parser("Allocate and free random-sized buffers, bounded.")
    p.add_argument("--slots", type=int, default=32)
    p.add_argument("--min-kib", type=float, default=4.0)
    p.add_argument("--max-kib", type=float, default=2048.0)
    p.add_argument("--ops-per-sec", type=float, default=100.0)
    p.add_argument("--seed", type=int, default=11)
    a = p.parse_args()
    if a.slots <= 0 or not 0 < a.min_kib <= a.max_kib or a.ops_per_sec <= 0:
        p.error("bad --slots, --min-kib/--max-kib or --ops-per-sec")
    lwcommon.on_signals()
    log = lwcommon.Progress(a.log)
    rng = random.Random(a.seed)
    slots = [b""] * a.slots
    held = 0
    last_log = -1
    for now in lwcommon.run_clock(a.seconds, 1.0 / a.ops_per_sec):
        i = rng.randrange(a.slots)
        held -= len(slots[i])
        slots[i] = b""                                   # free first
        slots[i] = lwcommon.fill(rng.uniform(a.min_kib, a.max_kib) * 1024)
        held += len(slots[i])
        if int(now) != last_log:
            last_log = int(now)
            log(held)
    return 0


if __name__ == "__main__":
    sys.exit(main())
