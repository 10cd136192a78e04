/* The status's summary per watch (leakwatchctl(1) status, and status
 * --watches): for each watch of the configuration in force, how many
 * processes it watches, how many of them leak or are over a limit, and
 * the last action it took, as lines over the status table or as JSON
 * objects.  The last action of each watch is kept here, in the judged set
 * (struct judged's actions), from the action events as the daemon emits
 * them.  Pure: no I/O. */
#ifndef LEAKWATCH_WATCH_SUMMARY_H
#define LEAKWATCH_WATCH_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/event.h"
#include "core/judge.h"

/* A watch's newest action event: what it did, how it went, to whom, when.
 * Kept by the watch's name, so that it outlives a reload that keeps the
 * name (as the cooldowns do: core/action_policy.h). */
struct last_action {
	struct last_action *next;
	char watch[65];            /* a watch name: at most 64 bytes */
	char action[16];           /* "signal", "exec", "restart-unit" */
	char result[16];           /* "ok", "failed", "dry-run", "suppressed" */
	pid_t pid;                 /* 0 for a group's */
	bool group;                /* the action of a group verdict (core/group_judge.h) */
	uint64_t ts_usec;          /* the event's wall clock */
};

/* Keep e as its watch's last action.  0; -EINVAL when e is not an action
 * event about a watch (nothing kept), -ENOMEM. */
int last_action_note(struct last_action **list, const struct event *e);
/* The last action of the watch named so, or NULL. */
const struct last_action *last_action_find(const struct last_action *list, const char *watch);
void last_action_free_all(struct last_action *list);   /* accepts NULL */

/* A watch's processes, and of them those with a metric leaking or over
 * its limit (as the status's first line counts them). */
struct watch_tally {
	size_t processes, leaking, over_limit;
};

/* The tallies of every watch of j's configuration, into t (n_watches of
 * them), in one pass over the processes. */
void watch_tallies(const struct judged *j, struct watch_tally *t);

/* A line per watch ("api: 4 processes, 1 leaking, 0 over a limit, last
 * action signal ok 3m ago (pid 4242)", or ", no action yet"), only the
 * watch numbered only when it is not -1, in width columns (less than 80
 * counts as 80): a line that does not fit is broken before "last action"
 * and its name clipped; "(group)" for a group's action.  A watch with a
 * group has a second line, "  group of 4 processes: rss 180M +7.2G/h leak,
 * ..." (per metric of its rules: the sum, its trend when there is one,
 * the verdict).  Ages are counted to j's current tick. */
void report_watch_lines(struct buf *b, const struct judged *j, long only, unsigned width);

/* The same as a JSON array, an object per watch: watch, processes,
 * leaking, over_limit, last_action (null, or action, result, pid or group,
 * ts, seconds_ago), and for a watch with a group, group: processes and an
 * object per metric of its rules (value, trend_per_hour, verdict). */
void report_watches_json(struct buf *b, const struct judged *j, long only);

#endif
