#!/usr/bin/python3
"""Leak: threads that never end.  Every 10th request hands its reply to a
helper thread that waits for an acknowledgement which never comes: the
threads pile up, blocked forever in wait_for_ack().

    inspect_threads.py [--seconds S] [--rate R] [--iterations N]
"""
import sys
import threading

import inspect_common

PENDING = []


def wait_for_ack(reply, ack):
    ack.wait()          # never set: the thread stays here
    return len(reply)


def main():
    a = inspect_common.parser(__doc__).parse_args()
    noise = inspect_common.Noise()

    def step(i):
        value = noise(i)
        if i % 10 == 0:
            ack = threading.Event()
            t = threading.Thread(target=wait_for_ack, args=("reply-%d" % i, ack), daemon=True)
            t.start()
            PENDING.append(ack)
        return value ^ len(PENDING)
    return inspect_common.run(a, step)


if __name__ == "__main__":
    sys.exit(main())
