/* Parsers of a process's own limits, which a percentage max (`fds: { max:
 * 90% }`) is of: its soft RLIMIT_NOFILE from /proc/PID/limits, its path in
 * a cgroup hierarchy from /proc/PID/cgroup, the value of a cgroup's limit
 * file (pids.max, memory.max, memory.limit_in_bytes) and where the cgroup
 * hierarchies are mounted (/proc/self/mountinfo).  Pure: os/own_limits.h
 * reads the files for them. */
#ifndef LEAKWATCH_LIMITS_PARSE_H
#define LEAKWATCH_LIMITS_PARSE_H

#include <limits.h>
#include <stddef.h>

/* The soft limit of "Max open files" in the text of /proc/PID/limits: 0
 * with *soft (-1 for "unlimited"); -EINVAL when the line is missing or
 * does not parse. */
int limits_parse_nofile(const char *text, double *soft);

/* The value in the text of a cgroup's limit file ("max\n" or a decimal
 * number and a newline, as pids.max, memory.max and v1's
 * memory.limit_in_bytes hold): 0 with *v (-1 for "max"); -EINVAL for
 * anything else. */
int cgroup_parse_limit(const char *text, double *v);

/* The path (*path, *len: into text, starting with '/') of the process in
 * one hierarchy, from the text of /proc/PID/cgroup: the unified one
 * ("0::PATH") when controller is NULL, else the v1 hierarchy whose line
 * lists that controller ("4:memory:PATH", "3:cpu,cpuacct:PATH").  0;
 * -ENOENT when no line is of that hierarchy; -EINVAL when two are (a
 * forged line: a cgroup name with a newline), or the path is not one to
 * walk: not absolute, or with an empty, "." or ".." component (a cgroup
 * outside the reader's cgroup namespace shows as "/.."). */
int cgroup_parse_path(const char *text, const char *controller, const char **path, size_t *len);

/* At most this deep a cgroup is walked (its owner may nest its own
 * cgroups at will below a delegated unit); below, nothing more is read
 * (os/own_limits.c). */
#define CGROUP_WALK_MAX 32

/* Where the hierarchies a limit is read from are mounted, each at its own
 * root ("" when none is). */
struct cgroup_mounts {
	char unified[PATH_MAX];   /* cgroup2 */
	char pids[PATH_MAX];      /* the v1 hierarchy of the pids controller */
	char memory[PATH_MAX];    /* the v1 hierarchy of the memory controller */
};

/* From the text of /proc/self/mountinfo: the first mount of each whose
 * root is the hierarchy's ("/"; a bind mount of a cgroup below it would
 * need the paths cut), its mount point unescaped (\040 is a space).
 * Returns 0 (*m all "" when none is mounted). */
int cgroup_parse_mounts(const char *text, struct cgroup_mounts *m);

#endif
