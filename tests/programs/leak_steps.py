#!/usr/bin/python3
"""A leak in steps: a chunk of --chunk-mib MiB is kept every --every seconds.

Think of a job that appends each processed batch to a history it never trims:
RSS is a staircase rather than a ramp.

    leak_steps.py [--chunk-mib MIB] [--every S] [--seconds N] [--log FILE] [--tag WORD]

--log amount: bytes kept so far (a record after every step, with own RSS).
"""
import sys

import lwcommon

HISTORY = []


def main():
    p = lwcommon.parser("Leak memory in discrete steps.")
    p.add_argument("--chunk-mib", type=float, default=2.0, help="MiB per step (default 2)")
    p.add_argument("--every", type=float, default=1.5, help="seconds between steps (default 1.5)")
    a = p.parse_args()
    if a.chunk_mib <= 0 or a.every <= 0:
        p.error("--chunk-mib and --every must be > 0")
    lwcommon.on_signals()
    log = lwcommon.Progress(a.log)
    log(0)
    kept = 0
    for _ in lwcommon.run_clock(a.seconds, a.every):
        chunk = int(a.chunk_mib * lwcommon.MIB)
        HISTORY.append(lwcommon.fill(chunk))
        kept += chunk
        log(kept)
    return 0


if __name__ == "__main__":
    sys.exit(main())
