#!/usr/bin/python3
"""Leak: database connections never closed (root cause 4, "unreleased
database connections").  Every 4th request opens a stdlib sqlite3
connection to a database file in the scratch directory (--dir /
$INSPECT_DIR), runs its query and parks the connection in a "pool" nobody
ever takes from or closes.  The connection is made on the line marked
`leak-site`.

    inspect_sqlite.py [--seconds S] [--rate R] [--iterations N] [--dir DIR]
"""
import os
import resource
import sqlite3
import sys

import inspect_common

POOL = []               # the connections parked and never closed


def query(db, i):
    conn = sqlite3.connect(db)  # leak-site
    (n,) = conn.execute("SELECT count(*) FROM items WHERE id % 7 = ?", (i % 7,)).fetchone()
    POOL.append(conn)
    return n


def main():
    a = inspect_common.parser(__doc__).parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    db = os.path.join(inspect_common.scratch(a), "app.db")
    if os.path.exists(db):
        os.unlink(db)
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
        c.executemany("INSERT INTO items VALUES (?, ?)", [(k, "item-%d" % k) for k in range(500)])
    c.close()
    noise = inspect_common.Noise()

    def step(i):
        value = noise(i)
        if i % 4 == 0:
            value ^= query(db, i)
        return value
    return inspect_common.run(a, step)


if __name__ == "__main__":
    sys.exit(main())
