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
	double fds;        /* 0 when fds_err */
	double threads;
	int fds_err;       /* 0, or -EACCES/-EPERM: the fd count cannot be read
			    * (another user's fd directory, read unprivileged on a
			    * kernel before 6.2); the rest of the sample is good */
};

/* Is this -errno a refusal to read (EACCES, EPERM), as opposed to the
 * process being gone or an error of the moment? */
bool proc_denied(int err);

/* Open the kept descriptors; fails with -ESRCH when the pid is gone or is
 * no longer the process that started at start_ticks. */
int proc_open(const struct proc_root *r, pid_t pid, unsigned long long start_ticks,
	      struct proc_handle *h);
int proc_sample(const struct proc_root *r, struct proc_handle *h, struct proc_sample *s);
void proc_close(struct proc_handle *h);   /* accepts a closed handle */

/* Count the entries of a directory (the fallback fd count). */
int proc_count_dir(int dirfd, const char *name, long *count);

/* How a procfs mount hides processes (its hidepid= and gid= options). */
enum proc_hidepid {
	HIDEPID_OFF = 0,        /* every process is visible and readable */
	HIDEPID_NOACCESS = 1,   /* listed, but other users' /proc/PID cannot be read */
	HIDEPID_INVISIBLE = 2,  /* other users' processes are not even listed */
	HIDEPID_PTRACEABLE = 4, /* only the processes the reader may ptrace are listed */
};

struct proc_mount {
	enum proc_hidepid hidepid;
	bool has_gid;
	gid_t gid;              /* members of this group see every process */
};

/* The options of the mount with device MAJOR:MINOR in the text of
 * /proc/self/mountinfo: 0, or -ENOENT when no line has that device.
 * hidepid= comes as a number on kernels before 5.8, as a name since. */
int proc_parse_mountinfo(const char *text, unsigned major, unsigned minor, struct proc_mount *pm);

/* The hidepid= and gid= of the procfs mounted at the root: 0, or -errno
 * (-ENOTSUP when the root is not procfs, a fixture tree). */
int proc_root_mount(const struct proc_root *r, struct proc_mount *pm);

/* The effective capability set from the text of /proc/PID/status. */
int proc_parse_cap_eff(const char *status, uint64_t *caps);

#define PROC_CAP_SYS_PTRACE 19

/* Does the mount keep other users' processes from a reader with these
 * effective capabilities, member (in_gid) or not of the mount's gid=? */
bool proc_mount_hides(const struct proc_mount *pm, uint64_t cap_eff, bool in_gid);

/* The option's name as the kernel shows it since 5.8: "invisible"... */
const char *proc_hidepid_name(enum proc_hidepid h);

#endif
