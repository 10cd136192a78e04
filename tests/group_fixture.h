/* What the group tests share (tests/test_group.c, tests/test_group_state.c):
 * a group rule of rss growth (and max) with fds watched too, and a watch
 * that holds it. */
#ifndef LEAKWATCH_GROUP_FIXTURE_H
#define LEAKWATCH_GROUP_FIXTURE_H

#include <string.h>

#include "core/config.h"

static inline struct group_rule rule_of(double growth_per_s, double max)
{
	struct group_rule g;

	memset(&g, 0, sizeof(g));
	for (int i = 0; i < GROUP_METRICS; i++)
		g.rule[i].for_samples = 1;
	g.metrics = 1u << METRIC_RSS | 1u << METRIC_FDS;
	g.rule[METRIC_RSS].growth = growth_per_s;
	g.rule[METRIC_RSS].has_max = max > 0;
	g.rule[METRIC_RSS].max = max;
	g.rule[METRIC_FDS].growth = 1;
	g.on_leak = ACTION_RESTART_UNIT;
	return g;
}

static inline struct watch watch_of(const char *name, uint64_t warmup_ms, uint64_t window_ms, struct group_rule *g)
{
	struct watch wc;

	memset(&wc, 0, sizeof(wc));
	wc.name = (char *)name;
	wc.warmup_ms = warmup_ms;
	wc.window_ms = window_ms;
	wc.group = g;
	return wc;
}

#endif
