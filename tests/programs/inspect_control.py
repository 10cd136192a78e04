#!/usr/bin/python3
"""No leak: the control.  The same request noise as the others (temporary
dicts and lists, JSON, a bounded LRU of recent responses, and a GC sawtooth
of cyclic garbage the collector reclaims), and nothing kept.

    inspect_control.py [--seconds S] [--rate R] [--iterations N]
"""
import sys

import inspect_common


def main():
    a = inspect_common.parser(__doc__).parse_args()
    noise = inspect_common.Noise()
    return inspect_common.run(a, noise)


if __name__ == "__main__":
    sys.exit(main())
