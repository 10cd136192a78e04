#!/usr/bin/python3
"""Leak: reference cycles of a class of its own (root cause 2, "circular
references").  The service turned the cyclic collector off for latency
(gc.disable(), as some do), and every request links a pair of Node objects
to each other: refcounting alone never frees them.  Node uses __slots__ (no
per-instance dict), so Node itself is the most grown type.  The noise work
here makes no cycles (they would leak too).

    inspect_cycles.py [--seconds S] [--rate R] [--iterations N]
"""
import gc
import sys

import inspect_common


class Node:
    __slots__ = ("peer", "payload", "ident")

    def __init__(self, ident):
        self.ident = ident
        self.payload = b"n" * 256
        self.peer = None


def handle(noise, i):
    value = noise(i)
    a, b = Node(2 * i), Node(2 * i + 1)
    a.peer, b.peer = b, a        # a cycle: never freed with the collector off
    return value ^ a.ident


def main():
    a = inspect_common.parser(__doc__).parse_args()
    gc.disable()
    noise = inspect_common.Noise(cyclic=False)
    return inspect_common.run(a, lambda i: handle(noise, i))


if __name__ == "__main__":
    sys.exit(main())
