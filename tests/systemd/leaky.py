#!/usr/bin/python3
"""leaky.service for tests/systemd_test.sh: a service whose RSS grows by
about 1 MiB per second (128 KiB filled, hence resident, every 1/8 s) up to
--max-mib, then holds.  SIGTERM exits 0 at once."""

import os
import signal
import sys
import time

LEAKED = []  # the leak: never shrinks


def main():
    max_mib = int(sys.argv[1]) if len(sys.argv) > 1 else 512
    signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(0))
    print(f"leaky: pid {os.getpid()}, growing ~1 MiB/s up to {max_mib} MiB", flush=True)
    chunk = 128 * 1024
    while True:
        if len(LEAKED) * chunk < max_mib << 20:
            LEAKED.append(b"\x5a" * chunk)
        time.sleep(0.125)


if __name__ == "__main__":
    main()
