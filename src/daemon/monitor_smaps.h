/* The monitor's reads of smaps_rollup (uss, pss), once the tick's cheap
 * samples are taken: the due processes, least recently read first, until
 * the tick's budget is spent (core/smaps_sched.h).  Apart from
 * daemon/monitor.c, which calls it with what it needs (struct smaps_ctx),
 * so that neither needs the other's header. */
#ifndef LEAKWATCH_MONITOR_SMAPS_H
#define LEAKWATCH_MONITOR_SMAPS_H

#include <stdint.h>

#include "core/event.h"
#include "core/judge.h"
#include "os/proc.h"

struct smaps_ctx {
	struct judged *j;              /* the watched processes, the config, the tick */
	const struct proc_root *root;  /* for the user of a pid, in the warning */
	const char *self_user;         /* the daemon's */
	uint64_t tick_mono_usec;       /* CLOCK_MONOTONIC at the tick's start: the stamps */
	const struct proc_handle *(*handle)(const struct watched *w);   /* its kept fds */
	void (*report)(void *ctx, struct watched *w, enum event_type t, int metric);
	void (*emit)(void *ctx, struct event *e);   /* a warning, to describe and send */
	void *ctx;
};

/* Read, judge and report the uss and pss of the processes due this tick
 * (c->j->now_ms); says once for a process that its smaps_rollup is closed
 * to the daemon.  Counts the reads and their time in c->j. */
void monitor_smaps(const struct smaps_ctx *c);

#endif
