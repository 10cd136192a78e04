#!/usr/bin/python3
"""A hostile target: every name the inspection reports is made of what a
report line must not hold, and every hook the inspection must not call
hangs (sleeps an hour) or raises.  It still leaks, so that all of it shows:

  - instances of a class whose qualname has TAB, LF, CR, ESC, DEL, C1, a
    lone surrogate and 4 KiB more, whose __module__ has control characters,
    whose metaclass's __getattribute__ (once armed) hangs; the instances' __repr__ raises, __sizeof__,
    __getattr__, __class__, __eq__ and __hash__ hang;
  - a class whose __module__ is an object whose __str__/__eq__ hang;
  - closures whose function __qualname__ has control characters;
  - dict subclass instances with a hanging __sizeof__;
  - a Thread subclass whose `name` property hangs, whose _name has control
    characters and is 1 MiB long, blocked forever in code compiled under a
    file name with control characters;
  - open files whose names hold a newline, a TAB, and bytes that are not
    UTF-8; a FileIO subclass whose `name` property hangs; a socket subclass
    whose fileno() hangs.

    inspect_hostile.py [--seconds S] [--rate R] [--iterations N] [--dir DIR]
"""
import io
import os
import socket
import sys
import threading
import time

import inspect_common

ARMED = [False]


def hang(*args, **kwargs):
    if ARMED[0]:
        time.sleep(3600)
    raise RuntimeError("hostile")


class Meta(type):
    def __getattribute__(cls, name):
        if ARMED[0]:
            time.sleep(3600)
        return type.__getattribute__(cls, name)


class Loopy:
    def __str__(self):
        return hang()
    __repr__ = __eq__ = __str__

    def __hash__(self):
        return hang()


QUALNAME = "Evil\tname\nwith\rcontrol\x1b[31m\x7f\x85\u2028\udcff" + "x" * 4096


def make_types():
    ns = {"__module__": "evil\tmod\nule", "__slots__": ("a", "b"),
          "__repr__": hang, "__sizeof__": hang, "__getattr__": hang,
          "__eq__": hang, "__hash__": hang, "__class__": property(hang)}
    evil = Meta("Evil", (), ns)
    type.__dict__["__qualname__"].__set__(evil, QUALNAME)
    odd = type("OddModule", (), {"__module__": Loopy(), "__sizeof__": hang, "__repr__": hang})
    sized = type("HangingSize", (dict,), {"__sizeof__": hang, "__repr__": hang})
    return evil, odd, sized


class EvilThread(threading.Thread):
    @property
    def name(self):
        return hang()

    @name.setter
    def name(self, value):
        pass


class EvilFile(io.FileIO):
    @property
    def name(self):
        return hang()

    @name.setter
    def name(self, value):
        pass


class EvilSocket(socket.socket):
    def fileno(self):
        return hang()


BLOCK_SRC = "def blocked(ev):\n    ev.wait()\n"


def main():
    a = inspect_common.parser(__doc__).parse_args()
    d = inspect_common.scratch(a)
    evil, odd, sized = make_types()
    ns = {}
    exec(compile(BLOCK_SRC, "evil\nfile\t\x1b.py", "exec"), ns)
    stop = threading.Event()
    th = EvilThread(target=ns["blocked"], args=(stop,), daemon=True)
    object.__setattr__(th, "_name", "\x1b]0;evil\x07\ttitle\n" + "T" * (1 << 20))
    th.start()
    kept, files = [], []
    names = [os.path.join(d, "evil\nname\t%d.txt") , os.path.join(d, "plain.txt")]
    raw = os.path.join(d, "").encode() + b"evil\xff\xfe\n.bin"
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    ARMED[0] = True

    def step(i):
        value = i * 7
        e = evil()
        e.a = i
        kept.append(e)
        kept.append(odd())
        kept.append(sized(k=i))

        def closure():
            return i
        type(closure).__dict__["__qualname__"].__set__(closure, "evil\tfunc\n\x00" * 40)
        kept.append(closure)
        if i % 10 == 0:
            files.append(open(names[0] % (i // 10 % 3), "w"))
            files.append(open(raw, "wb"))
            files.append(EvilFile(names[1], "w"))
        if i % 50 == 0:
            s = EvilSocket()
            files.append(s)
        return value
    try:
        return inspect_common.run(a, step)
    finally:
        ARMED[0] = False


if __name__ == "__main__":
    sys.exit(main())
