/* Reading processes from a /proc tree whose root is a parameter, so tests
 * can point it at fixture directories.
 *
 * Two costs matter.  Discovery reads a process's identity (comm, cmdline,
 * exe, uid, unit, parent) once, when its pid first shows up.  Sampling a
 * watched process keeps a dirfd on /proc/PID and fds on its stat and statm
 * files open: each sample is one pread of stat (state, start time,
 * threads), one of statm (resident pages: the RSS field of stat is the
 * kernel's unsummed per-CPU estimate, pages off from VmRSS) and one fstatat
 * of "fd", whose st_size is the number of open fds on Linux >= 6.2 (O(1));
 * elsewhere the fd directory's entries are counted.  A read on a kept fd
 * fails with ESRCH once the process is gone, so a reused pid never passes
 * for the old process. */
#ifndef LEAKWATCH_PROC_H
#define LEAKWATCH_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PF_KTHREAD_FLAG 0x00200000u

/* The fields of /proc/PID/stat that leakwatch uses. */
struct proc_stat {
	char comm[16];
	char state;
	pid_t ppid;
	unsigned flags;
	unsigned long long start_ticks;  /* since boot, in clock ticks */
	long threads;
	long rss_pages;
};

/* The resident pages (second field) from the text of /proc/PID/statm. */
int proc_parse_statm(const char *buf, size_t len, long *resident_pages);

/* Parse the text of /proc/PID/stat (comm may contain spaces and ')'). */
int proc_parse_stat(const char *buf, size_t len, struct proc_stat *st);

/* Is this the stat text of a thread that is not its group's leader?  Field
 * 38, exit_signal, is -1 for those alone (a /proc/TID lookup works for any
 * thread, though readdir lists only leaders). */
bool proc_stat_is_thread(const char *buf, size_t len);

/* The last-pid field of /proc/loadavg ("0.00 0.01 0.05 1/123 4567"): the
 * pid most recently allocated in the reader's pid namespace. */
int proc_parse_last_pid(const char *buf, size_t len, long *pid);

/* A /proc directory entry's name as a pid: all digits, no leading zero,
 * within pid_t; else 0. */
pid_t proc_name_pid(const char *name);

/* The systemd unit from the text of /proc/PID/cgroup: the deepest path
 * component ending in .service or .scope.  -ENOENT when there is none. */
int proc_parse_unit(const char *cgroup, char *unit, size_t len);

/* Join NUL-separated argv into one space-separated string, in place;
 * returns the new length (trailing separators dropped). */
size_t proc_join_cmdline(char *buf, size_t len);

/* The real uid from the text of /proc/PID/status. */
int proc_parse_ruid(const char *status, uid_t *uid);

/* Is this executable path a Python interpreter (python, python3.11,
 * pypy3...)?  A " (deleted)" suffix is ignored. */
bool proc_exe_is_python(const char *exe);

struct proc_root {
	int fd;            /* O_DIRECTORY on the root, e.g. "/proc" */
	bool fd_size;      /* st_size of PID/fd is the fd count (procfs, Linux >= 6.2) */
	long page_size;
};

int proc_root_open(struct proc_root *r, const char *path);
void proc_root_close(struct proc_root *r);

/* Read a small file under the root ("1234/cmdline") into buf, NUL-terminated;
 * returns the length read or -errno. */
ssize_t proc_read_file(const struct proc_root *r, const char *rel, char *buf, size_t size);

/* Read /proc/PID/stat once.  thread, when not NULL, is set to
 * proc_stat_is_thread() of the text. */
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
	double fds;
	double threads;
};

/* Open the kept descriptors; fails with -ESRCH when the pid is gone or is
 * no longer the process that started at start_ticks. */
int proc_open(const struct proc_root *r, pid_t pid, unsigned long long start_ticks,
	      struct proc_handle *h);
int proc_sample(const struct proc_root *r, struct proc_handle *h, struct proc_sample *s);
void proc_close(struct proc_handle *h);   /* accepts a closed handle */

/* Count the entries of a directory (the fallback fd count). */
int proc_count_dir(int dirfd, const char *name, long *count);

#endif
