/* The pid table: what discovery knows of every pid in /proc (its identity,
 * what the criteria read of it, whether it is watched), hashed by pid, and
 * how an entry is read from /proc/PID.
 *
 * Why a table of every pid, not of the watched ones: a pid that matched
 * nothing is not read again at every discovery (only while young, and at
 * the minute's re-check), and a `parent:` criterion needs the parent's
 * info.  Its cost: one entry (about 100 bytes, and the command line when
 * a criterion needs it) per process on the host.  Entries carry the
 * generation of the last full scan that listed them, so that the scan
 * finds the exits by what it did not list, without a second pass over
 * /proc. */
#ifndef LEAKWATCH_PID_TABLE_H
#define LEAKWATCH_PID_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/match.h"
#include "os/proc.h"

#define PID_TABLE_SIZE 4096
/* All of a cmdline the daemon reads: what a cmdline: regex sees (a longer
 * one is matched on its start), and no more, for each process's is kept
 * here while it lives, and its owner chooses the length. */
#define CMDLINE_MAX (CMDLINE_REGEX_BYTES + 1)

/* What a full scan reads for each listed pid comes first, in one cache
 * line with the pid itself (info.pid). */
struct pid_entry {
	struct pid_entry *next;    /* hash chain */
	void *owner;               /* the watcher's record, when watched (discovery_claim) */
	uint64_t start_ms;
	uint64_t checked_ms;       /* when the match was last evaluated */
	unsigned gen;              /* the last full scan that saw this pid */
	bool never;                /* kernel thread, PID 1, ourselves: never watched */
	bool recheck;              /* young at the last discovery: matched again at the next,
				    * whatever its age then (discovery.c, YOUNG_MS) */
	unsigned long ino;         /* inode of /proc/PID as last listed; 0 unknown */
	struct proc_info info;
};

struct pid_table {
	struct pid_entry *slot[PID_TABLE_SIZE];
	size_t n_entries;          /* entries in the table */
	size_t n_seen;             /* of them, seen by the current full scan */
	unsigned gen;              /* full scans so far */
};

/* How an entry is read: the root, ourselves, the clock tick, the NEED_* of
 * the config and CMDLINE_MAX bytes of scratch. */
struct pid_reader {
	const struct proc_root *root;
	pid_t self;
	long hz;
	unsigned needs;
	char *cmdline_buf;
};

struct pid_entry *pid_table_lookup(const struct pid_table *t, pid_t pid);

/* Read what the criteria need about pid into e, from stat on: 0 or
 * -errno; -ESRCH for a thread's pid when probe (readdir lists group
 * leaders alone, a probe by number does not). */
int pid_read(const struct pid_reader *r, pid_t pid, struct pid_entry *e, bool probe);

/* Read pid and add its entry, seen by the current scan: the entry, or NULL
 * (gone, a thread's, or no memory). */
struct pid_entry *pid_table_add(struct pid_table *t, const struct pid_reader *r, pid_t pid, bool probe);

/* Take e out of the table and free it. */
void pid_table_remove(struct pid_table *t, struct pid_entry *e);

/* e was seen by the current full scan. */
void pid_table_seen(struct pid_table *t, struct pid_entry *e);

/* Drop the entries the current full scan did not see (their processes
 * exited), each watched one passed to gone(ctx, e) first. */
void pid_table_sweep(struct pid_table *t, void (*gone)(void *ctx, const struct pid_entry *e), void *ctx);

void pid_table_free(struct pid_table *t);   /* accepts a zeroed one */

#endif
