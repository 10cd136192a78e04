#!/usr/bin/python3
"""No leak: a big process that stays the same size.

Loads --mib MiB at start-up (a model, a dataset...), then serves toy lookups
into it with a little scratch churn.  Big, but flat.

    ok_steady_big.py [--mib MIB] [--seconds N] [--log FILE] [--tag WORD]

--log amount: bytes held.
"""
import random
import sys

import lwcommon

TICK = 0.1


def main():
    p = lwcommon.parser("Hold a large, constant amount of memory.")
    p.add_argument("--mib", type=float, default=300.0, help="MiB held (default 300)")
    a = p.parse_args()
    if a.mib <= 0:
        p.error("--mib must be > 0")
    lwcommon.on_signals()
    log = lwcommon.Progress(a.log)
    block = 4 * lwcommon.MIB
    data = [lwcommon.fill(block) for _ in range(max(1, int(a.mib * lwcommon.MIB) // block))]
    log(len(data) * block)
    rng = random.Random(5)
    total = 0
    for _ in lwcommon.run_clock(a.seconds, TICK):
        scratch = lwcommon.fill(rng.randint(16, 256) * 1024)
        total += data[rng.randrange(len(data))][rng.randrange(block)] + len(scratch)
        del scratch
    return 0


if __name__ == "__main__":
    sys.exit(main())
