#!/usr/bin/python3
"""Leak: a response cache keyed by something unique per request.

A toy request handler serves --rps requests a second.  Each request builds a
response of random size (exponentially distributed, mean chosen so that the
cache grows by --rate KiB/s on average), uses a scratch buffer of random size
(0..--scratch-kib, freed at once: noise in RSS), and caches the response under
the request id, which never repeats, so nothing is ever evicted.

    leak_dict_cache.py [--rate KIB_PER_S] [--rps N] [--scratch-kib N]
                       [--seed N] [--seconds N] [--log FILE] [--tag WORD]

--log amount: bytes held by the cache.
"""
import random
import sys

import lwcommon

CACHE = {}   # request id -> response; the leak


def handle(rid, mean, scratch_kib, rng):
    scratch = lwcommon.fill(rng.uniform(0, scratch_kib) * 1024)   # freed on return
    size = max(64, int(rng.expovariate(1.0 / mean)))
    body = bytes([rid % 251]) * size
    CACHE["req-%d" % rid] = body
    del scratch
    return size


def main():
    p = lwcommon.parser("Leak memory through a never-evicted response cache.")
    p.add_argument("--rate", type=float, default=768.0, help="mean growth, KiB/s (default 768)")
    p.add_argument("--rps", type=float, default=25.0, help="requests per second (default 25)")
    p.add_argument("--scratch-kib", type=float, default=4096.0,
                   help="largest per-request scratch buffer, KiB (default 4096)")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    if a.rate <= 0 or a.rps <= 0:
        p.error("--rate and --rps must be > 0")
    lwcommon.on_signals()
    log = lwcommon.Progress(a.log)
    rng = random.Random(a.seed)
    mean = a.rate * 1024 / a.rps
    held = 0
    rid = 0
    for _ in lwcommon.run_clock(a.seconds, 1.0 / a.rps):
        held += handle(rid, mean, a.scratch_kib, rng)
        rid += 1
        log(held, requests=rid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
