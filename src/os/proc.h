/* Reading processes from a /proc tree whose root is a parameter, so tests
 * can point it at fixture directories.  The parsers of what is read are
 * core/proc_parse.h and core/cgroup_unit.h (included here, so a reader's
 * caller has both).
 *
 * Two costs matter.  Discovery reads a process's identity (comm and parent
 * from stat, then cmdline, exe, uid, unit as the watches need) once, when
 * its pid first shows up, through proc_read_stat and proc_read_file.  Sampling a watched process keeps a dirfd on /proc/PID
 * and fds on its stat and statm files open (proc_open): each proc_sample
 * is one pread of stat (state, start time, threads), one of statm
 * (resident pages: the RSS field of stat is the kernel's unsummed per-CPU
 * estimate, pages off from VmRSS) and one fstatat of "fd", whose st_size
 * is the number of open fds on Linux >= 6.2 (O(1)); elsewhere the fd
 * directory's entries are counted.  A read on a kept fd fails with ESRCH
 * once the process is gone, so a reused pid never passes for the old
 * process. */
#ifndef LEAKWATCH_PROC_H
#define LEAKWATCH_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/cgroup_unit.h"
#include "core/proc_parse.h"

struct proc_root {
	int fd;            /* O_DIRECTORY on the root, e.g. "/proc" */
	bool fd_size;      /* st_size of PID/fd is the fd count (procfs, Linux >= 6.2) */
	long page_size;
};

/* Open the root directory at path.  0 or -errno. */
int proc_root_open(struct proc_root *r, const char *path);
void proc_root_close(struct proc_root *r);   /* accepts a closed root */

/* Read a small file under the root ("1234/cmdline") into buf, NUL-terminated
 * (os/files.h's file_read_into); returns the length read or -errno. */
ssize_t proc_read_file(const struct proc_root *r, const char *rel, char *buf, size_t size);

/* The units of a process, from the whole of /proc/PID/cgroup (a cut text
 * could lose the unified line, which comes last, to a long path of another
 * hierarchy): 0; -ENOENT, -EINVAL as cgroup_unit_parse(); -ESRCH when the
 * pid is gone; -EFBIG, or -errno of the read. */
int proc_read_unit(const struct proc_root *r, pid_t pid, struct cgroup_unit *u);

/* Read /proc/PID/stat once.  thread, when not NULL, is set to
 * proc_stat_is_thread() of the text.  0, -ESRCH when the pid is gone,
 * -EINVAL when the text does not parse, or -errno. */
int proc_read_stat(const struct proc_root *r, pid_t pid, struct proc_stat *st, bool *thread);

/* A watched process: kept descriptors and its identity. */
struct proc_handle {
	int dirfd;
	int statfd;
	int statmfd;       /* -1: no statm (fixture trees): RSS from stat */
	pid_t pid;
	unsigned long long start_ticks;
};

struct proc_sample {
	double rss;        /* bytes */
	double fds;        /* 0 when fds_err */
	double threads;
	int fds_err;       /* 0, or -EACCES/-EPERM: the fd count cannot be read
			    * (another user's fd directory, read unprivileged on a
			    * kernel before 6.2); the rest of the sample is good */
};

/* Open the kept descriptors; fails with -ESRCH when the pid is gone or is
 * no longer the process that started at start_ticks, else 0 or -errno. */
int proc_open(const struct proc_root *r, pid_t pid, unsigned long long start_ticks,
	      struct proc_handle *h);
/* One sample through the kept descriptors: 0; -ESRCH when the process is
 * gone, a zombie or another process; -EIO when stat does not parse; or
 * -errno. */
int proc_sample(const struct proc_root *r, struct proc_handle *h, struct proc_sample *s);
void proc_close(struct proc_handle *h);   /* accepts a closed handle */

/* Count the entries of a directory (the fallback fd count).  0 or -errno. */
int proc_count_dir(int dirfd, const char *name, long *count);

/* The hidepid= and gid= of the procfs mounted at the root: 0, or -errno
 * (-ENOTSUP when the root is not procfs, a fixture tree). */
int proc_root_mount(const struct proc_root *r, struct proc_mount *pm);

#endif
