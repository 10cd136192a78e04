/* Which watch a process belongs to.  Pure logic: the caller gathers what
 * the configured criteria need (match_needs) into a struct proc_info, and
 * hands a lookup for the parent's info when a `parent:` criterion exists. */
#ifndef LEAKWATCH_MATCH_H
#define LEAKWATCH_MATCH_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/config.h"

/* A cmdline: regex sees this much of the joined argv, at most (its $
 * matches at the end of these bytes): the owner of the process chooses
 * the text, and matching costs time in its length. */
#define CMDLINE_REGEX_BYTES 4096

/* What a criterion needs read from /proc beyond stat. */
#define NEED_CMDLINE 0x1u
#define NEED_EXE     0x2u
#define NEED_UID     0x4u
#define NEED_UNIT    0x8u
#define NEED_PARENT  0x10u

struct proc_info {
	pid_t pid, ppid;
	unsigned long long start_ticks;
	char comm[16];
	char *cmdline;   /* argv joined by spaces; NULL when unread or unreadable */
	char *exe;       /* target of the exe link; NULL likewise */
	int exe_err;     /* why exe is NULL: -errno of the readlink, 0 when not read */
	bool has_uid;    /* the three uids below were read (status) */
	uid_t uid;       /* real, as `user:` matches */
	uid_t euid, suid; /* effective and saved, for a pidfile a user could write */
	char *unit;      /* its system unit (core/cgroup_unit.h); NULL when none */
	char *user_unit; /* its unit within a user manager; NULL when none */
};

unsigned match_needs(const struct config *c);

/* Returns the info of a process's parent, or NULL when unknown. */
typedef const struct proc_info *(*parent_lookup_fn)(void *ctx, pid_t ppid);

/* What a pidfile names, as read at this scan: its pid (0 when it could
 * not be read or was refused), and whose process that may be.  A pidfile
 * that only root could have written or put there may name any process;
 * one that a user could (os/safe_path.h says who), only a process of that
 * user: otherwise its writer would have the daemon signal, restart or run
 * a command on any process, root's too (systemd's PIDFile= refuses the
 * same). */
struct pidfile_pid {
	pid_t pid;
	bool any_user;
	uid_t uid;       /* unless any_user: the one user it may name a process of */
};

/* Fills *out for the pidfile at path; for nested parent matches the
 * lookup is used recursively. */
typedef void (*pidfile_lookup_fn)(void *ctx, const char *path, struct pidfile_pid *out);

/* Whether p (the process whose pid pf holds) may be the one pf names:
 * any_user, or p's real, effective and saved uids are all pf's uid (a
 * process whose effective or saved uid is another's, root's after a
 * setuid exec, is not that user's to have acted on).  false when p's
 * uids were not read. */
bool pidfile_may_name(const struct pidfile_pid *pf, const struct proc_info *p);

/* Does a process satisfy a match?  MATCH_UNKNOWN when it cannot be told:
 * every criterion that could be checked holds, but an exe: or python:
 * criterion (its own or a parent's) needs an exe link that the daemon may
 * not read (exe_err EACCES or EPERM: another user's process, read
 * unprivileged).  A link that is not there (ENOENT: a kernel thread, an
 * exited process) is a plain answer: no exe. */
enum match_result { MATCH_NO, MATCH_YES, MATCH_UNKNOWN };

/* Where an answer was MATCH_UNKNOWN: the process whose exe link could not
 * be read (the one matched, or a parent of it).  And whatever the answer,
 * a pidfile that named a process it may not name (pidfile_may_name), for
 * the caller to say so: its path and that process (this one or a
 * parent); NULL when none did. */
struct match_unknown {
	const struct proc_info *proc;
	const char *refused_pidfile;
	const struct proc_info *refused_proc;
};

/* The criteria of a match, in the order match_process() tries them: the
 * cheap compares first, the cmdline regex, the pidfile, the parent last. */
enum match_crit {
	CRIT_COMM, CRIT_EXE, CRIT_PYTHON, CRIT_USER, CRIT_UNIT, CRIT_USER_UNIT,
	CRIT_CMDLINE, CRIT_PIDFILE, CRIT_PARENT, CRIT_COUNT
};

/* Whether m gives criterion c. */
bool match_has(const struct match *m, enum match_crit c);

/* One criterion c that m gives, tested alone against p: MATCH_YES or
 * MATCH_NO, MATCH_UNKNOWN for an exe: or python: whose link may not be
 * read, and for a parent: its match_process() answer (why as there).
 * match_process() is these in order; core/match_explain.h tells why. */
enum match_result match_criterion(const struct match *m, enum match_crit c, const struct proc_info *p,
				  parent_lookup_fn parent, pidfile_lookup_fn pidfile, void *ctx,
				  struct match_unknown *why);

enum match_result match_process(const struct match *m, const struct proc_info *p,
				parent_lookup_fn parent, pidfile_lookup_fn pidfile, void *ctx,
				struct match_unknown *why);

/* The index of the first watch that matches, or -1.  The watches are tried
 * in order and a process belongs to the first that matches; when a watch
 * cannot be decided before one matches, the search stops there (the
 * process may be that watch's, so a later watch must not take it): -1, and
 * *undecided is that watch's index (else -1), why names the process whose
 * exe could not be read.  undecided and why may be NULL. */
int match_watch(const struct config *c, const struct proc_info *p,
		parent_lookup_fn parent, pidfile_lookup_fn pidfile, void *ctx,
		int *undecided, struct match_unknown *why);

void proc_info_clear(struct proc_info *p);   /* frees the strings */

#endif
