#!/usr/bin/python3
"""Leak: a module-level cache that is only ever added to (root cause 1,
"unintentional global variable retention").  Every request's session is
stored under its id and never evicted; the session dict and its payload are
allocated on the line that stores them (marked `leak-site`).

    inspect_cache.py [--seconds S] [--rate R] [--iterations N]
"""
import sys

import inspect_common

SESSIONS = {}           # the leak: grows by one session per request


def handle(noise, i):
    value = noise(i)
    SESSIONS["s%08d" % i] = {"id": i, "user": "u%d" % (i % 97), "blob": b"%08d" % i * 512}  # leak-site
    return value ^ len(SESSIONS)


def main():
    a = inspect_common.parser(__doc__).parse_args()
    noise = inspect_common.Noise()
    return inspect_common.run(a, lambda i: handle(noise, i))


if __name__ == "__main__":
    sys.exit(main())
