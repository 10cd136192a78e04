#!/usr/bin/python3
"""Leak: native memory a C library allocates and never frees (root cause 5,
"inefficient use of C extensions").  Every request asks libc (through
ctypes, as a C extension would) for a 32 KiB scratch buffer, fills it, and
never frees it: RSS grows while the Python heap (what tracemalloc sees)
stays flat.

    inspect_native.py [--seconds S] [--rate R] [--iterations N]
"""
import ctypes
import sys

import inspect_common

CHUNK = 32 * 1024


def main():
    a = inspect_common.parser(__doc__).parse_args()
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    noise = inspect_common.Noise()

    def step(i):
        value = noise(i)
        p = libc.malloc(CHUNK)          # never freed: the leak
        ctypes.memset(p, (i % 255) + 1, CHUNK)
        return value ^ ctypes.c_ubyte.from_address(p + CHUNK - 1).value
    return inspect_common.run(a, step)


if __name__ == "__main__":
    sys.exit(main())
