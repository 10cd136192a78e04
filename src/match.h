/* Which watch a process belongs to.  Pure logic: the caller gathers what
 * the configured criteria need (match_needs) into a struct proc_info, and
 * hands a lookup for the parent's info when a `parent:` criterion exists. */
#ifndef LEAKWATCH_MATCH_H
#define LEAKWATCH_MATCH_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"

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
	bool has_uid;
	uid_t uid;
	char *unit;      /* NULL when none */
};

unsigned match_needs(const struct config *c);

/* Returns the info of a process's parent, or NULL when unknown. */
typedef const struct proc_info *(*parent_lookup_fn)(void *ctx, pid_t ppid);

/* pidfile_pid: the pid read from m->pidfile at this scan (0 when it could
 * not be read); for nested parent matches the lookup is used recursively. */
typedef pid_t (*pidfile_lookup_fn)(void *ctx, const char *path);

bool match_process(const struct match *m, const struct proc_info *p,
		   parent_lookup_fn parent, pidfile_lookup_fn pidfile, void *ctx);

/* The index of the first watch that matches, or -1. */
int match_watch(const struct config *c, const struct proc_info *p,
		parent_lookup_fn parent, pidfile_lookup_fn pidfile, void *ctx);

void proc_info_clear(struct proc_info *p);   /* frees the strings */

#endif
