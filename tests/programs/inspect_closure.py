#!/usr/bin/python3
"""Leak: closures holding a large object (root cause 3, "improper use of
closures").  Every request registers a completion callback made by
make_handler(); the callback closes over the request's 16 KiB buffer and the
registry is never pruned, so the buffers live on.  The buffer is allocated
on the line marked `leak-site`; the closures show in the census as
"function __main__.make_handler.<locals>.handler".

    inspect_closure.py [--seconds S] [--rate R] [--iterations N]
"""
import sys

import inspect_common

CALLBACKS = []          # the registry that is never pruned


def make_handler(i):
    buf = bytearray(16 * 1024)  # leak-site
    buf[0] = i & 0xFF

    def handler():
        return len(buf) + buf[0]
    return handler


def handle(noise, i):
    value = noise(i)
    h = make_handler(i)
    CALLBACKS.append(h)
    return value ^ h()


def main():
    a = inspect_common.parser(__doc__).parse_args()
    noise = inspect_common.Noise()
    return inspect_common.run(a, lambda i: handle(noise, i))


if __name__ == "__main__":
    sys.exit(main())
