/* Prometheus exposition (text format 0.0.4): per watch, the processes
 * watched, the sums of their rss, fds and threads, and how many of them
 * leak or are over a limit, per metric (series that outlive a recycled
 * worker); per watched process, its rss, fds and threads, each one's
 * trend per second and configured max, its time to the limit and its leak
 * and limit verdicts; per watch with `group:` (core/prometheus_group.h),
 * its sums, their trends and maxes, its leak and limit verdicts, named as
 * the process's families are (leakwatch_group_rss_bytes,
 * leakwatch_group_rss_trend_bytes_per_second, leakwatch_group_leak with a
 * metric label); per watch, counts of events and actions; the
 * daemon's own tick and scan durations.  One unit a family (leakwatch.yaml(5),
 * PROMETHEUS METRICS, lists them).  Pure: the counters are fed from the
 * events, the text is rendered on demand; the textfile and the HTTP
 * endpoint (httpd.c) only ship it. */
#ifndef LEAKWATCH_METRICS_H
#define LEAKWATCH_METRICS_H

#include <stdint.h>

#include "core/buf.h"
#include "core/event.h"
#include "core/judge.h"

struct counter {
	struct counter *next;
	char *watch;               /* "" when the event is about no watch */
	enum event_type type;
	char *action, *result;     /* "" for other events */
	uint64_t n;
};

struct metrics_counters {
	struct counter *list;
	uint64_t ticks;
	double tick_seconds;       /* the last tick: discovery (when due) and sampling */
	double tick_seconds_total;
	double tick_seconds_max;   /* the longest tick since the daemon started */
};

/* Count one event (every event passes here, actions by action and result). */
void metrics_count_event(struct metrics_counters *c, const struct event *e);
void metrics_counters_free(struct metrics_counters *c);   /* accepts a zeroed one */

/* Append the whole exposition of j and c to b (an allocation that fails
 * leaves b failed: buf_ok()). */
void metrics_render(struct buf *b, const struct judged *j, const struct metrics_counters *c);

#endif
