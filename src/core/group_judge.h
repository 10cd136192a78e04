/* The group judge: a watch's `group:` rules (config.h struct group_rule)
 * judged on the sum over the watch's processes, one record per watch that
 * has them (never per process), and the set of them for a configuration.
 * Pure logic: the monitor (daemon/groups.c) adds each process's sample to
 * its watch's sum, feeds the sums once a tick, reports what the record
 * says and asks for the action; the renderers (watch_summary.c,
 * prometheus_group.c) read the records. */
#ifndef LEAKWATCH_GROUP_JUDGE_H
#define LEAKWATCH_GROUP_JUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/action_retry.h"
#include "core/config.h"
#include "core/detect.h"
#include "core/event.h"
#include "core/history.h"

/* One tick's sum over the processes of a watch. */
struct group_sum {
	double v[GROUP_METRICS];
	unsigned unreadable;       /* metrics (1u << METRIC_*) unreadable for one of them */
	unsigned n;                /* processes added */
};

struct group_record {
	char watch[65];            /* its watch's name, kept over a reload */
	uint64_t window_ms;        /* the window its history is of */
	/* A timeline per metric: a metric not fed at a tick (unreadable for
	 * one of the processes) misses from its own history only. */
	struct timeline tl[GROUP_METRICS];
	struct metric_state m[GROUP_METRICS];
	struct group_sum acc;      /* this tick's, being added up */
	uint64_t first_ms;         /* time of its first sample (the warm-up's start) */
	bool started;              /* fed at least once */
	unsigned processes;        /* summed at the last tick (0: none then) */
	unsigned fed;              /* metrics fed at the last tick */
	struct action_retry retry; /* its action pending or withheld (core/action_retry.h) */
};

/* A fresh record for watch wc (which has a group), with no history: 0,
 * or -ENAMETOOLONG for a name longer than a watch's may be. */
int group_record_init(struct group_record *g, const struct watch *wc);

/* Start this tick's sum. */
void group_begin(struct group_record *g);

/* Add one process's sample (v as judge_sample() takes it; unreadable: the
 * metrics, 1u << METRIC_*, that could not be read for it). */
void group_add(struct group_record *g, const double v[GROUP_METRICS], unsigned unreadable);

/* Whether g is in wc's warm-up at now_ms, counted from its first sample. */
bool group_warming(const struct group_record *g, const struct watch *wc, uint64_t now_ms);

/* Feed this tick's sum, taken at now_ms: each metric with a rule in
 * wc->group and readable for every process added; nothing when none was.
 * ev[i]: the DETECT_* bits to report for metric i (0 for one not fed).
 * A leak or limit reported is kept pending for its action (as
 * judge_pending: a limit's before a leak's).  Returns the metrics fed;
 * g->processes and g->fed say what this tick summed and fed. */
unsigned group_feed(struct group_record *g, const struct watch *wc, uint64_t now_ms, unsigned ev[GROUP_METRICS]);

/* The pending or withheld action's (g->retry.why for g->retry.metric):
 * true when it is to be asked now; false, and forgotten, once its episode
 * is over. */
bool group_retry(struct group_record *g);

/* The action asked was taken (withheld false) or withheld (cooldown,
 * max_actions: asked again while its episode lasts). */
void group_acted(struct group_record *g, bool withheld);

/* The verdict of metric i ("warming" also for a metric without a rule). */
enum verdict group_verdict(const struct group_record *g, const struct watch *wc, int i, uint64_t now_ms);

/* The action of a group verdict of type t (EVENT_LEAK or EVENT_LIMIT). */
enum action group_action(const struct watch *wc, enum event_type t);

/* Continue a saved history (core/state_codec.h): the timelines and metric
 * states of g's metrics and the time of its first sample, as saved; the
 * limits stay wc's, what this tick summed is dropped, and no action is
 * pending (a verdict already reported stays reported: no second event,
 * no second action). */
void group_restore(struct group_record *g, const struct watch *wc, const struct timeline tl[GROUP_METRICS],
		   const struct metric_state m[GROUP_METRICS], uint64_t first_ms);

/* The records of a configuration: v[i] for watch i, NULL for a watch
 * without a group.  group_set_build() makes the set for cfg into *out,
 * taking over from old (of old_cfg; NULL, NULL: none) the record of every
 * watch that keeps its name and window (its limits are the new rules');
 * the records not taken are freed, and old with them.  0, or -ENOMEM
 * (then *out is NULL and old untouched; -ENAMETOOLONG likewise for a
 * watch name longer than a valid one). */
int group_set_build(struct group_record ***out, const struct config *cfg, struct group_record **old,
		    const struct config *old_cfg);
void group_set_free(struct group_record **v, size_t n);   /* accepts NULL */

#endif
