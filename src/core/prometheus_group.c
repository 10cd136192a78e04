/* The groups' series (see prometheus_group.h), apart from prometheus.c,
 * which would pass 500 lines with them.
 *
 * The naming is prometheus.c's: one unit a family, in its base unit,
 * named in the suffix; the sums, trends and maxes a family per metric
 * (leakwatch_group_rss_bytes, leakwatch_group_fds_trend_per_second,
 * leakwatch_group_threads_limit), the 0/1 verdicts one family with a
 * metric label (leakwatch_group_leak, leakwatch_group_over_limit).  A
 * group's series carry the watch label alone: they are one series through
 * any recycling of its processes, which is what a group is for.  Only the
 * metrics of the group's rules have series; a sum before its first
 * sample, a trend before its window is covered, and a max not set have
 * none; without a group, no family is shown.  The text is written by
 * core/prometheus_text.c, as every other series is. */
#include "core/prometheus_group.h"

#include "core/prometheus_text.h"

enum gper { G_VALUE, G_TREND, G_LIMIT, G_LEAK, G_OVER };

static const struct group_family {
	const char *name, *help;
	int metric;                /* the metric shown; -1: each, labelled metric */
	enum gper what;
} families[] = {
	{ "leakwatch_group_rss_bytes", "Resident memory summed over a group's processes at its latest sample.",
	  METRIC_RSS, G_VALUE },
	{ "leakwatch_group_fds", "Open file descriptors summed over a group's processes at its latest sample.",
	  METRIC_FDS, G_VALUE },
	{ "leakwatch_group_threads", "Threads summed over a group's processes at its latest sample.",
	  METRIC_THREADS, G_VALUE },
	{ "leakwatch_group_rss_trend_bytes_per_second",
	  "Current growth of a group's summed resident memory, bytes per second (negative: shrinking).",
	  METRIC_RSS, G_TREND },
	{ "leakwatch_group_fds_trend_per_second",
	  "Current growth of a group's summed open file descriptors, per second (negative: shrinking).",
	  METRIC_FDS, G_TREND },
	{ "leakwatch_group_threads_trend_per_second",
	  "Current growth of a group's summed threads, per second (negative: shrinking).",
	  METRIC_THREADS, G_TREND },
	{ "leakwatch_group_rss_limit_bytes", "The rss max of a group's sum, in bytes.", METRIC_RSS, G_LIMIT },
	{ "leakwatch_group_fds_limit", "The fds max of a group's sum.", METRIC_FDS, G_LIMIT },
	{ "leakwatch_group_threads_limit", "The threads max of a group's sum.", METRIC_THREADS, G_LIMIT },
	{ "leakwatch_group_leak", "1 while the trend of a group's sum is reported as a leak.", -1, G_LEAK },
	{ "leakwatch_group_over_limit", "1 while a group's sum is reported over its max.", -1, G_OVER },
};

/* What family f says of metric m of group g, in *v; false: no series. */
static bool group_value(const struct group_record *g, int m, enum gper what, double *v)
{
	const struct metric_state *s = &g->m[m];

	switch (what) {
	case G_VALUE:
		*v = s->value;
		return g->started && (g->fed & (1u << m)) && s->value >= 0;
	case G_TREND:
		*v = s->trend.slope;
		return s->trend.ready;
	case G_LIMIT:
		*v = s->limit;
		return s->limit >= 0;
	case G_LEAK:
		*v = s->leaking;
		return true;
	default:
		*v = s->in_limit;
		return true;
	}
}

void metrics_render_groups(struct buf *b, const struct judged *j)
{
	bool any = false;

	for (size_t i = 0; j->groups && i < j->cfg->n_watches; i++)
		any |= j->groups[i] != NULL;
	if (!any)
		return;   /* no group, no group families */
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		const struct group_family *gf = &families[f];

		prom_family(b, gf->name, "gauge", gf->help);
		for (size_t i = 0; j->groups && i < j->cfg->n_watches; i++) {
			const struct watch *wc = &j->cfg->watches[i];
			const struct group_record *g = j->groups[i];

			if (!g || !wc->group)
				continue;
			for (int m = 0; m < GROUP_METRICS; m++) {
				struct line l;
				double v;

				if ((gf->metric >= 0 && m != gf->metric) || !(wc->group->metrics & (1u << m)) ||
				    !group_value(g, m, gf->what, &v))
					continue;
				l = prom_watch_series(b, gf->name, wc->name, gf->metric < 0 ? m : -1);
				prom_value(&l, v);
			}
		}
	}
}
