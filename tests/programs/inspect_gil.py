#!/usr/bin/python3
"""Not a leak: a process whose only thread sits in C holding the GIL (a
ctypes.PyDLL call does not release it), so no thread ever reaches the
interpreter's safe point: tests/inspect_test.py's attach timeout.

    inspect_gil.py [--seconds S] [--dir DIR]
"""
import ctypes
import sys

import inspect_common


def main():
    a = inspect_common.parser(__doc__).parse_args()
    ctypes.PyDLL(None).sleep(int(a.seconds))   # the GIL held all along
    return 0


if __name__ == "__main__":
    sys.exit(main())
