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
 * process.
 *
 * A process whose main thread has exited while others run (its leader a
 * zombie: proc_leader_exited) is alive, but its leader's statm, fd
 * directory, cmdline, exe and cgroup no longer show it.  Those are read
 * from a live thread's /proc/PID/task/TID instead, the thread found by
 * listing the task directory (proc_live_thread) and kept while it lives.
 * Only such processes pay for it: the leader's stat, read first as for
 * any process, says so; a process whose leader lives is sampled with the
 * same three calls as before. */
#ifndef LEAKWATCH_PROC_H
#define LEAKWATCH_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/cgroup_unit.h"
#include "core/proc_parse.h"
#include "core/proc_title.h"

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

/* The units of a process, from the whole of DIR/cgroup under the root
 * (DIR "PID", or a live thread's "PID/task/TID" from proc_live_dir(); a cut
 * text could lose the unified line, which comes last, to a long path of
 * another hierarchy): 0; -ENOENT, -EINVAL as cgroup_unit_parse(); -ESRCH
 * when the pid is gone; -EFBIG, or -errno of the read. */
int proc_read_unit(const struct proc_root *r, const char *dir, struct cgroup_unit *u);

/* Read /proc/PID/stat once.  thread, when not NULL, is set to
 * proc_stat_is_thread() of the text.  0, -ESRCH when the pid is gone,
 * -EINVAL when the text does not parse, or -errno. */
int proc_read_stat(const struct proc_root *r, pid_t pid, struct proc_stat *st, bool *thread);

/* At most this many threads of a process whose leader has exited are
 * read, in the order the task directory lists them, for one that lives:
 * threads that exited but are still listed (zombies a tracer has not
 * reaped) cannot make a lookup cost more. */
#define PROC_TASKS_MAX 1024

/* A live thread of the process whose /proc/PID directory is piddir (its
 * leader exited: proc_leader_exited): the first listed in piddir's task
 * directory, the leader skipped, whose stat says it neither is a zombie
 * nor dead.  0 with *tid; -ESRCH when none lives (the process is gone);
 * -E2BIG when none of the first PROC_TASKS_MAX does and more are listed;
 * or -errno. */
int proc_live_thread(int piddir, pid_t pid, pid_t *tid);

/* Where, under the root, to read the files of process pid that its
 * leader loses on exit (cmdline, exe, statm, fd, cgroup): "PID", or, when
 * st (its stat, just read) says its leader exited, "PID/task/TID" of a
 * live thread.  0, or -errno of proc_live_thread() (rel is "PID" then). */
int proc_live_dir(const struct proc_root *r, pid_t pid, const struct proc_stat *st, char *rel, size_t size);

/* A watched process: kept descriptors and its identity. */
struct proc_handle {
	int dirfd;
	int statfd;
	int statmfd;       /* -1: no statm (fixture trees): RSS from stat */
	pid_t pid;
	unsigned long long start_ticks;
	/* Once its leader has exited: a live thread's /proc/PID/task/TID
	 * directory, stat and statm, kept while it lives; else -1. */
	int tdirfd, tstatfd, tstatmfd;
	pid_t tid;         /* that thread, or 0 */
};

/* A handle that holds nothing (proc_close accepts it). */
void proc_handle_none(struct proc_handle *h);

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
/* One sample through the kept descriptors (and, once the leader has
 * exited, a live thread's: its fd count and RSS, the group's thread count
 * from the leader's stat): 0; -ESRCH when the process is gone, a zombie
 * with no thread alive, or another process; -EAGAIN when the leader has
 * exited and the threads found died under the sample three times (no
 * sample this time); -E2BIG as from proc_live_thread(); -EIO when stat
 * does not parse; or -errno. */
int proc_sample(const struct proc_root *r, struct proc_handle *h, struct proc_sample *s);
void proc_close(struct proc_handle *h);   /* accepts a closed handle */

/* The process's unshared and proportional memory from its smaps_rollup,
 * opened through the kept directory (a live thread's once the leader has
 * exited: they share the memory).  It walks the page tables under the
 * mm's lock, about 17 us per resident MiB: the caller reads it at a rate
 * of its own (core/smaps_sched.h), not at every sample.  0; -EACCES or
 * -EPERM: not ours to read (it needs PTRACE_MODE_READ, like maps); -ESRCH:
 * gone, or a zombie with no memory; -EIO: the text does not parse; or
 * -errno. */
int proc_read_smaps(const struct proc_handle *h, struct proc_smaps *out);

/* /proc/loadavg kept open, for its last-pid field: its fd, or -1 when the
 * root is not a /proc of our own pid namespace (its "self" is not self:
 * the counter would be another namespace's) or it cannot be opened. */
int proc_open_loadavg(const struct proc_root *r, pid_t self);

/* The last pid allocated, from the kept loadavg fd (pread, no seek): 0;
 * -ENOENT when fd is -1, -EIO on an empty read, -EINVAL as
 * proc_parse_last_pid(), or -errno. */
int proc_read_last_pid(int fd, long *pid);

/* Read the title of h's process (core/proc_title.h) from the first page
 * of its cmdline, through the kept descriptors (a live thread's once the
 * leader has exited), so a reused pid's text is never taken: into out, its
 * length returned (0: the process has none now, out "").  -ESRCH when it
 * is gone, or -errno; out is left as it was then.  One read of at most a
 * page: the owner chooses the text and its length. */
ssize_t proc_read_title(const struct proc_handle *h, char out[PROC_TITLE_SIZE]);

/* Count the entries of a directory (the fallback fd count).  0 or -errno. */
int proc_count_dir(int dirfd, const char *name, long *count);

/* The hidepid= and gid= of the procfs mounted at the root: 0, or -errno
 * (-ENOTSUP when the root is not procfs, a fixture tree). */
int proc_root_mount(const struct proc_root *r, struct proc_mount *pm);

#endif
