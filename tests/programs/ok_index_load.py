#!/usr/bin/python3
"""No leak: a big index loaded once, after a delay, then only used.

The program idles (answering toy queries) for --delay seconds, then builds an
in-memory index of --index-mib MiB over --build-seconds, and from then on
only reads it.  RSS makes one big step and stays there.

    ok_index_load.py [--delay S] [--index-mib MIB] [--build-seconds S]
                     [--seconds N] [--log FILE] [--tag WORD]

--log amount: bytes in the index.
"""
import random
import sys

import lwcommon

TICK = 0.1


def main():
    p = lwcommon.parser("A one-off load of a big index after a delay.")
    p.add_argument("--delay", type=float, default=12.0, help="seconds before the load (default 12)")
    p.add_argument("--index-mib", type=float, default=80.0, help="index size, MiB (default 80)")
    p.add_argument("--build-seconds", type=float, default=1.5,
                   help="how long building it takes (default 1.5)")
    a = p.parse_args()
    if a.delay < 0 or a.index_mib <= 0 or a.build_seconds < 0:
        p.error("bad --delay, --index-mib or --build-seconds")
    lwcommon.on_signals()
    log = lwcommon.Progress(a.log)
    rng = random.Random(3)
    shard = 256 * 1024
    nshards = max(1, int(a.index_mib * lwcommon.MIB) // shard)
    index = []
    hits = 0
    for now in lwcommon.run_clock(a.seconds, TICK):
        if now >= a.delay and len(index) < nshards:
            frac = 1.0 if a.build_seconds == 0 else min(1.0, (now - a.delay) / a.build_seconds)
            while len(index) < int(nshards * frac):
                index.append(bytes([len(index) % 251]) * shard)
            log(len(index) * shard, loaded=len(index) == nshards)
        if index:                                  # serve a query
            hits += index[rng.randrange(len(index))][rng.randrange(shard)]
    return 0


if __name__ == "__main__":
    sys.exit(main())
