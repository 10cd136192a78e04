/* Parsers of /proc text: stat, statm, loadavg, cmdline, status, mountinfo
 * (cgroup: core/cgroup_unit.h), and the judgements made on what they yield (Python?  denied?
 * hidden by hidepid=?).  They take bytes and return fields; none reads a
 * file, so they are fuzzed (tests/fuzz/) and unit-tested on any machine,
 * and core/match.c uses them without linking the readers (os/proc.h). */
#ifndef LEAKWATCH_PROC_PARSE_H
#define LEAKWATCH_PROC_PARSE_H

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

/* The resident pages (second field) from the text of /proc/PID/statm.
 * 0, or -EINVAL when the text is not three or more numbers. */
int proc_parse_statm(const char *buf, size_t len, long *resident_pages);

/* What /proc/PID/smaps_rollup says of a process's memory, in bytes. */
struct proc_smaps {
	double uss;        /* private: Private_Clean + Private_Dirty + Private_Hugetlb */
	double pss;        /* proportional: Pss */
};

/* The text of /proc/PID/smaps_rollup (len bytes, not NUL-terminated):
 * its "Pss:", "Private_Clean:", "Private_Dirty:" and, when there,
 * "Private_Hugetlb:" lines, each "KEY: N kB" at the start of a line.
 * 0, or -EINVAL when one of the first three is missing, repeated, or not a
 * count of kB (a truncated text: its last line unterminated is not read). */
int proc_parse_smaps_rollup(const char *buf, size_t len, struct proc_smaps *out);

/* Parse the text of /proc/PID/stat (comm may contain spaces and ')').
 * 0, or -EINVAL when a field up to the 24th (rss) is missing or bad. */
int proc_parse_stat(const char *buf, size_t len, struct proc_stat *st);

/* Has the task whose stat this is exited: a zombie (Z) or dead (X, x)? */
bool proc_stat_dead(const struct proc_stat *st);

/* Has the leader of a thread group (st: its /proc/PID/stat) exited while
 * other threads of the group run on?  Then it is a zombie (or dead) whose
 * group still counts more than one thread: the kernel counts the exited
 * leader (field 20) until the whole group is gone, so a real zombie, every
 * thread exited, counts one.  Such a process is alive, but its leader's
 * memory and fd table are released: /proc/PID/statm reads zeros, the fd
 * directory is empty, cmdline empty, the exe link unreadable and its
 * cgroups in the v1 hierarchies the root; a live thread's
 * /proc/PID/task/TID has them all. */
bool proc_leader_exited(const struct proc_stat *st);

/* Is this the stat text of a thread that is not its group's leader?  Field
 * 38, exit_signal, is -1 for those alone (a /proc/TID lookup works for any
 * thread, though readdir lists only leaders). */
bool proc_stat_is_thread(const char *buf, size_t len);

/* The last-pid field of /proc/loadavg ("0.00 0.01 0.05 1/123 4567"): the
 * pid most recently allocated in the reader's pid namespace.  0 or -EINVAL. */
int proc_parse_last_pid(const char *buf, size_t len, long *pid);

/* A /proc directory entry's name as a pid: all digits, no leading zero,
 * within pid_t; else 0. */
pid_t proc_name_pid(const char *name);

/* Join NUL-separated argv into one space-separated string, in place;
 * returns the new length (trailing separators dropped).  buf holds len + 1
 * bytes. */
size_t proc_join_cmdline(char *buf, size_t len);

/* The real uid from the text of /proc/PID/status.  0 or -EINVAL. */
int proc_parse_ruid(const char *status, uid_t *uid);

/* The real, effective and saved uids (its Uid: line's first three): 0,
 * or -EINVAL when the line or one of them is missing. */
int proc_parse_uids(const char *status, uid_t *ruid, uid_t *euid, uid_t *suid);

/* Is this executable path a Python interpreter (python, python3.11,
 * pypy3...)?  Its base name is matched against "python", "python[0-9]*"
 * and "pypy*", so a " (deleted)" suffix passes after a version or pypy
 * ("python3.11 (deleted)"), not after a bare "python". */
bool proc_exe_is_python(const char *exe);

/* Is this -errno a refusal to read (EACCES, EPERM), as opposed to the
 * process being gone or an error of the moment? */
bool proc_denied(int err);

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

/* The number after "KEY:" on a line (not the first) of the text of
 * /proc/PID/status, in base (CapEff and SigPnd are hex, TracerPid
 * decimal).  0 or -EINVAL (no such line, no number). */
int proc_parse_status_number(const char *status, const char *key, int base, unsigned long long *v);

/* The effective capability set from the text of /proc/PID/status.
 * 0 or -EINVAL. */
int proc_parse_cap_eff(const char *status, uint64_t *caps);

#define PROC_CAP_SYS_PTRACE 19

/* Does the mount keep other users' processes from a reader with these
 * effective capabilities, member (in_gid) or not of the mount's gid=? */
bool proc_mount_hides(const struct proc_mount *pm, uint64_t cap_eff, bool in_gid);

/* The option's name as the kernel shows it since 5.8: "invisible"... */
const char *proc_hidepid_name(enum proc_hidepid h);

#endif
