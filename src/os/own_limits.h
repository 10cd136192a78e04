/* Reading a watched process's own limits, which a percentage max is of
 * (core/judge.h judge_limits): its soft RLIMIT_NOFILE (fds), and the
 * lowest pids.max (threads) and memory.max (rss) of its cgroup and the
 * cgroups above it, in the hierarchy that has the controller (cgroup v2,
 * or the v1 one of pids or memory where a hybrid layout mounts it).  The
 * texts are parsed by core/limits_parse.h. */
#ifndef LEAKWATCH_OWN_LIMITS_H
#define LEAKWATCH_OWN_LIMITS_H

#include "core/config.h"
#include "os/proc.h"

/* The hierarchies' mount points, opened once (O_PATH directories). */
struct cgroup_roots {
	int unified;       /* cgroup2; -1 when not mounted */
	int pids;          /* the v1 hierarchy of the pids controller; -1 none */
	int memory;        /* the v1 hierarchy of the memory controller; -1 none */
};

/* Roots that hold nothing (cgroup_roots_close accepts them). */
void cgroup_roots_none(struct cgroup_roots *c);

/* Open the mount points /proc/self/mountinfo under the proc root r names
 * (a fixture tree's self/mountinfo names the fixture's).  0, or -errno of
 * the read of mountinfo (every root -1 then); a mount point that does not
 * open is left -1. */
int cgroup_roots_open(struct cgroup_roots *c, const struct proc_root *r);
void cgroup_roots_close(struct cgroup_roots *c);

/* A process's own limits, per metric (only those asked for are read). */
struct own_limits {
	double v[METRIC_COUNT];   /* the limit; -1: none (unlimited, or no cgroup on
				   * the path sets one), or err */
	int err[METRIC_COUNT];    /* 0 when read; -ENOTSUP: no hierarchy has the
				   * controller; -ESRCH: the process is gone;
				   * -E2BIG: its cgroup is deeper than
				   * CGROUP_WALK_MAX and none above sets one; or
				   * -errno of a read */
};

/* Read the limits of the metrics in want (1u << METRIC_*) of h's process,
 * through its kept /proc descriptors (a live thread's once its leader has
 * exited), so that a reused pid's are never taken.  Its cgroup's files
 * are walked down from the hierarchy's root, each directory opened from
 * the one above it without following a symlink, each file by the safe
 * open (os/files.h) and read to at most 64 bytes: the owner of a
 * delegated subtree names and makes what is below its unit.  A level that
 * cannot be read ends the walk with the lowest limit above it (the
 * owner can hide a limit it set itself, not the unit's).  Never fails:
 * out says, per metric. */
void own_limits_read(const struct cgroup_roots *c, const struct proc_handle *h, unsigned want,
		     struct own_limits *out);

#endif
