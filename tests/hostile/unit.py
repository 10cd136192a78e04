"""Hostile cgroup paths: the unit a process is in is the one systemd would
say (items 4 and 5 of issue 14).

The owner of a unit with Delegate=yes (a user's service manager, a CI job)
owns the cgroups below it, names them, and moves its processes among them.
Here root plays systemd: it makes the units' cgroups, in both hierarchies
of the hybrid layout (cgroup2 and name=systemd, wherever they are
mounted), hands the delegated ones to nobody and puts nobody's processes
in; then nobody, on its own, makes cgroups below its unit and moves itself
into them.  Every cgroup a case made, and all below it, is removed at the
end (its processes moved back to the root first), whatever the outcome.

item4-auto-unit-delegated: a job in system.slice/lwtest-job.service moves
itself into a cgroup it named sshd.service; `unit: auto` must name
lwtest-job.service.  item4-user-manager-unit: processes of nobody's
user@65534.service are refused, never restarted as user@65534.service or
as their own unit; one of them, in cgroup v1, moves itself below another
unit nobody was delegated (v1 allows that) so deep that the unified line
falls past the 4 KiB the daemon used to read: the hierarchies then name
different units, and it is refused too.  item5-unit-user-manager: `unit:`
matches the system's lwtest-api.service and not a user's unit of that
name, which `user_unit:` matches."""

import os
import time

import lwtest

NOBODY = 65534
MANAGER = "user.slice/user-65534.slice/user@65534.service"
JOB = "system.slice/lwtest-job.service"

# As nobody: once the file argv[3] exists (root has put it in its unit),
# make each cgroup directory of argv[4:] and move itself into it; then
# sleep argv[2] s.
MOVER = r"""
import os, sys, time
tag, seconds, go, dirs = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4:]
deadline = time.time() + 10
while go and not os.path.exists(go):
    if time.time() > deadline:
        sys.exit("never told to go: " + go)
    time.sleep(0.02)
for d in dirs:
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))
time.sleep(seconds)
"""


hierarchies = lwtest.cgroup_hierarchies   # {"unified": mount point, "named": mount point}


class Cgroups:
    """The cgroups a case makes, in every hierarchy or in one."""

    def __init__(self, case):
        self.case = case
        self.roots = hierarchies()
        self.made = []      # directories made here, in order
        self.procs = []     # the Popens put in a cgroup

    def path(self, kind, rel):
        return os.path.join(self.roots[kind], rel)

    def make(self, rel, kinds=None, owner=None):
        """Each missing directory of rel, in each hierarchy; the last one,
        and what is in it, given to owner (delegation)."""
        for kind in kinds or self.roots:
            cur = self.roots[kind]
            for part in rel.split("/"):
                cur = os.path.join(cur, part)
                if not os.path.isdir(cur):
                    os.mkdir(cur)
                    self.made.append(cur)
            if owner is not None:
                os.chown(cur, owner, owner)
                for name in os.listdir(cur):
                    os.chown(os.path.join(cur, name), owner, owner)

    def put(self, proc, rel, kinds=None):
        """proc moved into rel, in each hierarchy (root writes its pid)."""
        self.procs.append(proc)
        for kind in kinds or self.roots:
            with open(os.path.join(self.path(kind, rel), "cgroup.procs"), "w") as f:
                f.write(str(proc.pid))

    def close(self):
        """The processes back to the roots, then every cgroup made here and
        all below it (nobody's too), innermost first."""
        for p in self.procs:
            if p.poll() is not None:
                continue
            for root in self.roots.values():
                try:
                    with open(os.path.join(root, "cgroup.procs"), "w") as f:
                        f.write(str(p.pid))
                except OSError:
                    pass
        for top in reversed(self.made):
            if not os.path.isdir(top):
                continue
            below = [d for d, _, _ in os.walk(top, topdown=False)]
            for d in below:
                if not lwtest.wait_for(lambda: rmdir(d), 3):
                    self.case.fail(f"cannot remove the cgroup {d[:120]}")


def rmdir(d):
    try:
        os.rmdir(d)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


def start_mover(case, tag, dirs=()):
    """A process of nobody (MOVER) tagged TAG: its Popen, once it runs, and
    the file that tells it to move itself into dirs (made once it is in its
    unit: case.write(go, ""))."""
    go = f"go-{tag}-{len(case.procs)}" if dirs else ""
    p = case.as_nobody([lwtest.PYTHON, "-c", MOVER, tag, "120", case.path(go) if go else ""] + list(dirs))
    p.go = go

    def running():
        try:
            with open(f"/proc/{p.pid}/cmdline", "rb") as f:
                return tag.encode() in f.read()
        except OSError:
            return False
    if not lwtest.wait_for(running, 5):
        raise AssertionError(f"pid {p.pid} did not start")
    return p


def in_cgroups(pid, *paths):
    """Whether /proc/PID/cgroup shows each of paths (within 5 s)."""
    def shows():
        try:
            with open(f"/proc/{pid}/cgroup") as f:
                text = f.read()
        except OSError:
            return False
        return all(p in text for p in paths)
    return lwtest.wait_for(shows, 5)


def restart_config(tag):
    """A watch that restarts at once, in dry-run (no bus needed)."""
    return ("interval: 200ms\n"
            "dry_run: true\n"
            "watches:\n"
            "  - name: hostile\n"
            f"    match: {{ cmdline: {lwtest.yq(tag)} }}\n"
            "    rss: { max: 1K }\n"
            "    on_limit: restart-unit\n"
            "    unit: auto\n"
            "    cooldown: 0s\n"
            "    max_actions: 1000/h\n")


def actions(case, d, pid, timeout=10):
    """The action events about pid, once there is one."""
    case.wait_event(d, lambda e: e.get("event") == "action" and e.get("pid") == pid, timeout)
    return lwtest.of(d.events(), "action", pid=pid)


def needs_hierarchies(case, cg, kinds):
    missing = [k for k in kinds if k not in cg.roots]
    if missing:
        case.note("skipped: no " + " and no ".join(missing) + " cgroup hierarchy mounted")
    return not missing


def auto_unit_delegated(case):
    """unit: auto names the delegated job's unit, not the sshd.service it made below it."""
    tag = "lwtest-unit-delegated-tag"
    cg = Cgroups(case)
    try:
        if not needs_hierarchies(case, cg, ["unified"]):
            return
        cg.make(JOB, owner=NOBODY)
        inner = [cg.path(k, JOB + "/sshd.service") for k in cg.roots]
        p = start_mover(case, tag, dirs=inner)
        cg.put(p, JOB)
        case.write(p.go, "")
        want = [f"0::/{JOB}/sshd.service\n"]
        if "named" in cg.roots:
            want.append(f"name=systemd:/{JOB}/sshd.service\n")
        if not in_cgroups(p.pid, *want):
            raise AssertionError(f"nobody's pid {p.pid} did not move itself into {JOB}/sshd.service")
        d = case.daemon(restart_config(tag))
        acts = actions(case, d, p.pid)
        if not acts:
            case.fail(f"no action event for pid {p.pid}")
        for e in acts:
            if e.get("unit") != "lwtest-job.service" or e.get("result") != "dry-run":
                case.fail(f"the action names unit {e.get('unit')!r} ({e.get('result')}: "
                          f"{e.get('message', '')[:120]}), not lwtest-job.service (dry-run)")
    finally:
        cg.close()


def user_manager_unit(case):
    """A process under user@65534.service is refused, and so is one whose
    hierarchies name different units."""
    tag = "lwtest-unit-manager-tag"
    cg = Cgroups(case)
    try:
        if not needs_hierarchies(case, cg, ["unified", "named"]):
            return
        api = MANAGER + "/app.slice/lwtest-api.service"
        cg.make(MANAGER, owner=NOBODY)
        cg.make(api, owner=NOBODY)
        cg.make(JOB, kinds=["named"], owner=NOBODY)
        plain = start_mover(case, tag)
        cg.put(plain, api)
        # the second moves itself, in v1 alone, below the job nobody was
        # also given: deep enough that its name=systemd line, which comes
        # before the unified one, fills the 4 KiB the daemon used to read
        # (a path of 4040 bytes: the kernel shows none of PATH_MAX or more)
        deep, i = JOB, 0
        while len(deep) + 256 + len("/sshd.service") <= 4040:
            deep += "/d%02d%s" % (i, "x" * 251)
            i += 1
        deep += "/" + "y" * (4040 - len(deep) - 2 - len("/sshd.service")) + "/sshd.service"
        split = start_mover(case, tag, dirs=[cg.path("named", deep)])
        cg.put(split, api)
        case.write(split.go, "")
        if not in_cgroups(plain.pid, f"::/{api}\n") or not in_cgroups(split.pid, f":/{deep}\n", f"0::/{api}\n"):
            raise AssertionError("the processes did not get into their cgroups")
        with open(f"/proc/{split.pid}/cgroup") as f:
            at = f.read().index("\n0::") + 1
        if at < 4095:
            case.note(f"the unified line starts at byte {at}, within 4 KiB: the old cut not reproduced")
        d = case.daemon(restart_config(tag))
        for p, why in ((plain, "is in user@65534.service, a user's service manager (its unit there: "
                        "lwtest-api.service): refused"),
                       (split, "is in no unit that can be told")):
            acts = actions(case, d, p.pid)
            if not acts:
                case.fail(f"no action event for pid {p.pid}")
            for e in acts:
                if e.get("result") != "failed" or e.get("unit") or why not in e.get("message", ""):
                    case.fail(f"pid {p.pid}: {e.get('result')} on unit {e.get('unit')!r}: "
                              f"{e.get('message', '')[:160]!r}, not refused ({why})")
    finally:
        cg.close()


def unit_user_manager(case):
    """unit: is the system's unit; a user's unit of that name is user_unit:."""
    tag = "lwtest-unit-match-tag"
    cg = Cgroups(case)
    try:
        if not needs_hierarchies(case, cg, ["unified"]):
            return
        system = "system.slice/lwtest-api.service"
        users = MANAGER + "/app.slice/lwtest-api.service"
        cg.make(system)
        cg.make(MANAGER, owner=NOBODY)
        cg.make(users, owner=NOBODY)
        a, b = start_mover(case, tag), start_mover(case, tag)
        cg.put(a, system)
        cg.put(b, users)
        if not in_cgroups(a.pid, f"::/{system}\n") or not in_cgroups(b.pid, f"::/{users}\n"):
            raise AssertionError("the processes did not get into their cgroups")
        def watch(name, criteria):
            return (f"  - name: {name}\n"
                    f"    match: {{ {criteria}, cmdline: {lwtest.yq(tag)} }}\n"
                    "    rss: { growth: 1G/h }\n")

        def found(d, w, p):
            return lwtest.of(d.events(), "found", watch=w, pid=p.pid)
        head = "interval: 200ms\nwatches:\n"
        system_watch = watch("system", "unit: lwtest-api.service")

        d = case.daemon(head + system_watch, name="unit")
        if not case.wait_event(d, lambda e: e.get("event") == "found" and e.get("pid") == a.pid, 10):
            case.fail(f"pid {a.pid} in {system} was not found by unit: lwtest-api.service")
        time.sleep(1)   # five scans
        if found(d, "system", b):
            case.fail(f"pid {b.pid} in {users} matched unit: lwtest-api.service")
        d.stop()

        d = case.daemon(head + system_watch +
                        watch("users", f"user_unit: lwtest-api.service, user: {NOBODY}"), name="both")
        for p, w in ((a, "system"), (b, "users")):
            if not case.wait_event(d, lambda e: e.get("event") == "found" and e.get("pid") == p.pid, 10):
                case.fail(f"pid {p.pid} was not found")
            elif not found(d, w, p):
                case.fail(f"pid {p.pid} was found by another watch than {w}")
    finally:
        cg.close()


CASES = [
    ("item4-auto-unit-delegated", auto_unit_delegated),
    ("item4-user-manager-unit", user_manager_unit),
    ("item5-unit-user-manager", unit_user_manager),
]
