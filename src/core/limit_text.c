/* The words of a percentage max (see limit_text.h).
 *
 * Why words apart: the same limit is said in a limit or leak event's
 * line, and its absence in a warning, once a process; both must name what
 * the percentage is of in the terms leakwatch.yaml(5) uses (RLIMIT_NOFILE,
 * pids.max, memory.max, MemTotal), whatever the hierarchy the value came
 * from (v1's memory.limit_in_bytes is said memory.max: it is the same
 * limit).  The cgroup's path is never said: below a delegated unit its
 * owner names it, and a message is no place for its text.  No number of
 * the process's own limit either: the event's limit field holds what is
 * in force, and the limit it is a percentage of is not kept (the judge
 * keeps only what it compares, core/judge.h). */
#include "core/limit_text.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/limits_parse.h"

static const char *const of_what[METRIC_COUNT] = {
	[METRIC_RSS] = "its cgroup's memory.max",
	[METRIC_FDS] = "its RLIMIT_NOFILE",
	[METRIC_THREADS] = "its cgroup's pids.max",
	[METRIC_USS] = "its cgroup's memory.max",
	[METRIC_PSS] = "its cgroup's memory.max",
};

void limit_text_basis(char *out, size_t len, int metric, const struct metric_rule *r, bool of_own)
{
	if (!r->has_max || r->max_percent <= 0 || metric < 0 || metric >= METRIC_COUNT) {
		if (len)
			out[0] = '\0';
		return;
	}
	snprintf(out, len, "%g%% of %s", r->max_percent, of_own ? of_what[metric] : "MemTotal");
}

void limit_text_missing(char *out, size_t len, int metric, const struct metric_rule *r, int err)
{
	const char *file = metric == METRIC_THREADS ? "pids.max" : "memory.max";
	char why[160], then[48];

	if (metric < 0 || metric >= METRIC_COUNT) {
		if (len)
			out[0] = '\0';
		return;
	}
	if (metric_is_memory(metric))
		snprintf(then, sizeof(then), "%g%% of MemTotal for it", r->max_percent);
	else
		snprintf(then, sizeof(then), "no %s max for it", metric_name((enum metric)metric));
	if (metric == METRIC_FDS && err == 0)
		snprintf(why, sizeof(why), "its RLIMIT_NOFILE is unlimited");
	else if (err == 0)
		snprintf(why, sizeof(why), "neither its cgroup nor one above it sets a %s", file);
	else if (err == -ENOTSUP)
		snprintf(why, sizeof(why), "no cgroup hierarchy here has the %s controller, or it is in none",
			 metric == METRIC_THREADS ? "pids" : "memory");
	else if (err == -E2BIG)
		snprintf(why, sizeof(why), "its cgroup is nested more than %d deep, and none of the %d above "
			 "it sets a %s", CGROUP_WALK_MAX, CGROUP_WALK_MAX, file);
	else
		snprintf(why, sizeof(why), "cannot read %s: %s", of_what[metric], strerror(-err));
	snprintf(out, len, "%s max %g%%: %s; %s", metric_name((enum metric)metric), r->max_percent, why, then);
}
