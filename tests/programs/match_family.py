#!/usr/bin/python3
"""A process of a given role, and the children it starts: the processes
of tests/match_test.py, for `leakwatchctl match` to sort into matches and
near misses by their command lines, users and parents.

    match_family.py --role ROLE [--child ROLE[@USER]]... [--ready FILE]
                    [--junk TEXT] [--tag WORD] [--seconds N]

Each --child is started as `match_family.py --role ROLE --tag WORD
--seconds N` (as USER through setpriv when given: its parent stays this
process, setpriv exec's the program), in this process's group.  Once every
child runs this program (its cmdline says so), --ready FILE gets a JSON
object {"pid": PID, "children": [[ROLE, USER, PID], ...]}.  Then it sleeps
for --seconds and exits 0 (at once on SIGTERM).  --junk is ignored: a
hostile argument for the title.
"""
import json
import os
import pwd
import subprocess
import sys
import time

import lwcommon


def runs_this(pid):
    """Whether pid has exec'd this program (not setpriv still)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[0] == sys.executable.encode()
    except OSError:
        return False


def main():
    p = lwcommon.parser("Take a role, start children, sleep.")
    p.add_argument("--role", required=True)
    p.add_argument("--child", action="append", default=[], help="ROLE or ROLE@USER")
    p.add_argument("--ready", help="write the children's pids here once they run")
    p.add_argument("--junk", default="", help="ignored")
    a = p.parse_args()
    lwcommon.on_signals()
    children = []
    for spec in a.child:
        role, _, user = spec.partition("@")
        argv = [sys.executable, "-B", os.path.abspath(__file__), "--role", role, "--tag", a.tag,
                "--seconds", str(a.seconds)]
        if user:
            pw = pwd.getpwnam(user)
            argv = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups"] + argv
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
        children.append((role, user, proc))
    deadline = time.time() + 10
    while not all(runs_this(c.pid) for _, _, c in children) and time.time() < deadline:
        time.sleep(0.02)
    if a.ready:
        tmp = a.ready + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"pid": os.getpid(), "children": [[r, u, c.pid] for r, u, c in children]}, f)
        os.rename(tmp, a.ready)
    time.sleep(a.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
