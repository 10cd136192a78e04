/* The groups' side of a tick: each watch's `group:` record (core/
 * group_judge.h), fed with the sum over the processes sampled this tick,
 * its verdicts reported as events about the group, its action asked of
 * the actor (restart-unit or alert), on the unit the watch names or the
 * one its live processes are in.  Called by the monitor (daemon/monitor.c)
 * around its sampling; it keeps the records in the judged set, where the
 * renderers read them. */
#ifndef LEAKWATCH_GROUPS_H
#define LEAKWATCH_GROUPS_H

#include <stdint.h>

#include "core/judge.h"
#include "os/proc.h"

struct act_request;

/* What the groups need of the monitor: /proc (the processes' units), its
 * event sink and its action callback (NULL: alert only). */
struct group_io {
	const struct proc_root *root;
	void (*emit)(void *ctx, struct event *e);
	void *emit_ctx;
	int (*act)(void *ctx, const struct act_request *r);
	void *act_ctx;
	uint64_t ts_usec;          /* the events' time stamp */
};

/* The sample of w (v, unreadable as judge_sample() takes them) goes into
 * its watch's group's sum, when the watch has a group. */
void groups_add(struct judged *j, const struct watched *w, const double v[GROUP_METRICS], unsigned unreadable);

/* After the tick's samples and the processes' actions: feed each group
 * its sum, report its leak and limit episodes, ask for its actions, and
 * start the next tick's sums.  The records are made for j's config at the
 * first tick (whose sums are lost), or at the next one without memory for
 * them. */
void groups_tick(struct judged *j, const struct group_io *io);

/* A new config is in j (old: the one before): each watch keeping its
 * name and window keeps its group's history; without memory, every group
 * starts afresh at the next tick. */
void groups_reconfigure(struct judged *j, const struct config *old);

void groups_free(struct judged *j);   /* accepts a judged set without groups */

#endif
