/* The Prometheus text (see prometheus.h), rendered on demand from the
 * judged set (core/judge.h) and the event counters.  Why on demand rather
 * than kept up to date per sample: a scrape comes every 15 s or so, the
 * samples every interval, so rendering at the scrape is the cheaper side,
 * and the hot path does not touch the metrics at all.  The cost: a
 * scrape walks every watched process and counter once, and the per-watch
 * sums take one array of the watches for the scrape's duration.
 *
 * The names follow Prometheus's rules: one unit a family, in its base
 * unit (bytes, seconds, per second), named in the suffix.  A family with a
 * metric label (eta, leak, over_limit, unreadable) holds seconds or a 0/1
 * verdict whatever the metric; the trends and the limits, whose unit is
 * the metric's, are a family per metric.  A trend per hour with a metric
 * label mixed bytes and counts in one family: sum() or a unit in a graph
 * over it meant nothing.
 *
 * Why per-watch series beside the per-process ones: a process's series
 * carry its pid, so each recycled worker is a new series and a graph of a
 * watch over a day is hundreds of short lines; the watch's counts and sums
 * stay one series through any recycling.  An empty label value is no
 * label (Prometheus reads the two alike), so the daemon's own events carry
 * no watch="". */
#include "core/prometheus.h"
#include "core/prometheus_group.h"
#include "core/prometheus_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static struct line process_series(struct buf *b, const char *name, const struct judged *j,
				    const struct watched *w)
{
	struct line s = prom_line_start(b, name);
	char pid[16];

	prom_label(&s, "watch", j->cfg->watches[w->watch].name);
	snprintf(pid, sizeof(pid), "%d", (int)w->pid);
	prom_label(&s, "pid", pid);
	prom_label(&s, "comm", w->comm);
	return s;
}

/* ---- per watch: what survives the recycling of its processes ---------------- */

struct watch_sums {
	unsigned processes;
	unsigned leaking[METRIC_COUNT], over[METRIC_COUNT];   /* processes, per metric */
	double sum[METRIC_COUNT];   /* over the processes the metric was read of */
};

#define WATCH_LEAKING METRIC_COUNT         /* a watch_family's what beside the metrics */
#define WATCH_OVER (METRIC_COUNT + 1)

static const struct watch_family {
	const char *name, *help;
	int what;                  /* a metric: its sum; else WATCH_* */
} watch_families[] = {
	{ "leakwatch_watch_rss_bytes",
	  "Resident memory summed over a watch's processes (shared pages count once per process).", METRIC_RSS },
	{ "leakwatch_watch_fds", "Open file descriptors summed over a watch's processes.", METRIC_FDS },
	{ "leakwatch_watch_threads", "Threads summed over a watch's processes.", METRIC_THREADS },
	{ "leakwatch_watch_uss_bytes", "Private memory (smaps_rollup) summed over a watch's processes; "
	  "only for a watch that judges uss or pss.", METRIC_USS },
	{ "leakwatch_watch_pss_bytes", "Proportional memory (smaps_rollup) summed over a watch's processes: "
	  "the shared pages counted once in all; only for a watch that judges uss or pss.", METRIC_PSS },
	{ "leakwatch_watch_leaking_processes", "Processes of a watch whose metric is reported as a leak.",
	  WATCH_LEAKING },
	{ "leakwatch_watch_over_limit_processes", "Processes of a watch whose metric is reported over its max.",
	  WATCH_OVER },
};

/* The sums of every watch, in one pass over the watched processes; NULL
 * when out of memory (free() it). */
static struct watch_sums *watch_sums(const struct judged *j)
{
	struct watch_sums *sums = calloc(j->cfg->n_watches ? j->cfg->n_watches : 1, sizeof(*sums));

	if (!sums)
		return NULL;
	for (const struct watched *w = j->watched; w; w = w->next) {
		struct watch_sums *s;

		if (w->watch >= j->cfg->n_watches)
			continue;
		s = &sums[w->watch];
		s->processes++;
		for (int i = 0; i < METRIC_COUNT; i++) {
			const struct metric_state *m = watched_metric(w, i);

			if (!m || (w->unreadable & (1u << i)))
				continue;
			s->sum[i] += m->value;
			s->leaking[i] += m->leaking;
			s->over[i] += m->in_limit;
		}
	}
	return sums;
}

static void render_watches(struct buf *b, const struct judged *j)
{
	struct watch_sums *sums = watch_sums(j);
	struct line s;

	if (!sums) {
		b->failed = true;
		return;
	}
	prom_family(b, "leakwatch_watched_processes", "gauge", "Processes watched now, per watch.");
	for (size_t i = 0; i < j->cfg->n_watches; i++) {
		s = prom_watch_series(b, "leakwatch_watched_processes", j->cfg->watches[i].name, -1);
		prom_value(&s, sums[i].processes);
	}
	for (size_t f = 0; f < sizeof(watch_families) / sizeof(watch_families[0]); f++) {
		const struct watch_family *wf = &watch_families[f];

		prom_family(b, wf->name, "gauge", wf->help);
		for (size_t i = 0; i < j->cfg->n_watches; i++) {
			const char *name = j->cfg->watches[i].name;
			int metrics = judge_wants_sparse(&j->cfg->watches[i]) ? METRIC_COUNT : METRIC_INLINE;

			if (wf->what < METRIC_COUNT) {
				if (wf->what >= metrics)
					continue;   /* uss, pss: only the watches that judge one */
				s = prom_watch_series(b, wf->name, name, -1);
				prom_value(&s, sums[i].sum[wf->what]);
				continue;
			}
			for (int m = 0; m < metrics; m++) {
				s = prom_watch_series(b, wf->name, name, m);
				prom_value(&s, wf->what == WATCH_LEAKING ? sums[i].leaking[m] : sums[i].over[m]);
			}
		}
	}
	free(sums);
}

/* ---- per process: one series per process, or per process and metric ------- */

enum per { PER_VALUE, PER_TREND, PER_LIMIT, PER_ETA, PER_LEAK, PER_OVER, PER_UNREADABLE };

/* The per-process families, in the order they are rendered.  One unit a
 * family: a family about one metric has no metric label; those with one
 * are seconds or a 0/1 verdict whatever the metric. */
static const struct process_family {
	const char *name, *help;
	int metric;                /* the metric shown; -1: each, labelled metric */
	enum per what;
} process_families[] = {
	{ "leakwatch_process_rss_bytes", "Resident memory of a watched process, latest sample.", METRIC_RSS, PER_VALUE },
	{ "leakwatch_process_fds", "Open file descriptors of a watched process, latest sample.", METRIC_FDS, PER_VALUE },
	{ "leakwatch_process_threads", "Threads of a watched process, latest sample.", METRIC_THREADS, PER_VALUE },
	{ "leakwatch_process_uss_bytes", "Private memory of a watched process (smaps_rollup: Private_Clean + "
	  "Private_Dirty + Private_Hugetlb), latest read.", METRIC_USS, PER_VALUE },
	{ "leakwatch_process_pss_bytes", "Proportional memory of a watched process (smaps_rollup's Pss), latest read.",
	  METRIC_PSS, PER_VALUE },
	{ "leakwatch_process_rss_trend_bytes_per_second",
	  "Current growth of a watched process's resident memory, bytes per second (negative: shrinking).",
	  METRIC_RSS, PER_TREND },
	{ "leakwatch_process_fds_trend_per_second",
	  "Current growth of a watched process's open file descriptors, per second (negative: shrinking).",
	  METRIC_FDS, PER_TREND },
	{ "leakwatch_process_threads_trend_per_second",
	  "Current growth of a watched process's threads, per second (negative: shrinking).",
	  METRIC_THREADS, PER_TREND },
	{ "leakwatch_process_uss_trend_bytes_per_second",
	  "Current growth of a watched process's private memory, bytes per second (negative: shrinking).",
	  METRIC_USS, PER_TREND },
	{ "leakwatch_process_pss_trend_bytes_per_second",
	  "Current growth of a watched process's proportional memory, bytes per second (negative: shrinking).",
	  METRIC_PSS, PER_TREND },
	{ "leakwatch_process_rss_limit_bytes", "The rss max in force for a watched process, in bytes (its watch's, or N% of its own limit).",
	  METRIC_RSS, PER_LIMIT },
	{ "leakwatch_process_fds_limit", "The fds max in force for a watched process (its watch's, or N% of its own limit).",
	  METRIC_FDS, PER_LIMIT },
	{ "leakwatch_process_threads_limit", "The threads max in force for a watched process (its watch's, or N% of its own limit).",
	  METRIC_THREADS, PER_LIMIT },
	{ "leakwatch_process_uss_limit_bytes", "The uss max in force for a watched process, in bytes (its watch's, or N% of its own limit).",
	  METRIC_USS, PER_LIMIT },
	{ "leakwatch_process_pss_limit_bytes", "The pss max in force for a watched process, in bytes (its watch's, or N% of its own limit).",
	  METRIC_PSS, PER_LIMIT },
	{ "leakwatch_process_eta_seconds",
	  "Seconds until the metric reaches its max at the current trend (only where it is heading there).",
	  -1, PER_ETA },
	{ "leakwatch_process_leak", "1 while the metric's trend is reported as a leak.", -1, PER_LEAK },
	{ "leakwatch_process_over_limit", "1 while the metric is reported over its max.", -1, PER_OVER },
	{ "leakwatch_process_unreadable",
	  "1 for a metric of a watched process that leakwatchd may not read (its other metrics are watched).",
	  -1, PER_UNREADABLE },
};

/* What a family showing `what` says of metric m of w, in *v; false when
 * it has no series for it. */
static bool process_value(const struct judged *j, const struct watched *w, int m, enum per what, double *v)
{
	const struct metric_state *s = watched_metric(w, m);
	const struct metric_rule *r = &j->cfg->watches[w->watch].rule[m];

	if (!s)
		return false;   /* uss, pss of a watch that judges neither */
	/* a metric not read has no series but the unreadable one */
	if ((what == PER_UNREADABLE) != ((w->unreadable & (1u << m)) != 0))
		return false;
	switch (what) {
	case PER_VALUE:
		*v = s->value;
		return true;
	case PER_TREND:
		*v = s->trend.slope;
		return s->trend.ready;   /* a fit over part of the window means nothing yet */
	case PER_LIMIT:   /* the max in force for it: the rule's, or N% of its own limit */
		*v = s->limit;
		return r->has_max && s->limit >= 0;
	case PER_ETA:
		*v = s->eta;
		return s->eta >= 0;
	case PER_LEAK:
		*v = s->leaking;
		return true;
	case PER_OVER:
		*v = s->in_limit;
		return true;
	default:
		*v = 1;
		return true;
	}
}

static void render_processes(struct buf *b, const struct judged *j)
{
	for (size_t i = 0; i < sizeof(process_families) / sizeof(process_families[0]); i++) {
		const struct process_family *f = &process_families[i];

		prom_family(b, f->name, "gauge", f->help);
		for (const struct watched *w = j->watched; w; w = w->next)
			for (int m = 0; m < METRIC_COUNT; m++) {
				struct line s;
				double v;

				if ((f->metric >= 0 && m != f->metric) || !process_value(j, w, m, f->what, &v))
					continue;
				s = process_series(b, f->name, j, w);
				if (f->metric < 0)
					prom_label(&s, "metric", metric_name((enum metric)m));
				prom_value(&s, v);
			}
	}
}

/* ---- the events and actions counted ------------------------------------------ */

/* The events whose series exist from the start, at 0, so that increase()
 * sees the first one: those of every watch, and the daemon's own. */
static const enum event_type watch_events[] = { EVENT_FOUND, EVENT_GONE, EVENT_LEAK, EVENT_LIMIT, EVENT_ACTION };
static const enum event_type daemon_events[] = { EVENT_START, EVENT_RELOAD, EVENT_ERROR };
static const char *const results[] = { "ok", "failed", "dry-run", "suppressed" };

static bool listed(const enum event_type *list, size_t n, enum event_type t)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == t)
			return true;
	return false;
}

static void events_line(struct buf *b, const struct metrics_counters *c, const char *watch, enum event_type t)
{
	struct line s = prom_line_start(b, "leakwatch_events_total");
	uint64_t n = 0;

	for (const struct counter *k = c->list; k; k = k->next)
		if (k->type == t && strcmp(k->watch, watch) == 0)
			n += k->n;   /* actions are counted per action and result: summed */
	prom_label(&s, "watch", watch);
	prom_label(&s, "event", event_name(t));
	prom_value(&s, (double)n);
}

/* Was counter k's (watch, event) series printed already: seeded, or by
 * an earlier counter? */
static bool printed_event(const struct judged *j, const struct metrics_counters *c, const struct counter *k)
{
	if (!*k->watch && listed(daemon_events, sizeof(daemon_events) / sizeof(daemon_events[0]), k->type))
		return true;
	if (config_find_watch(j->cfg, k->watch) &&
	    listed(watch_events, sizeof(watch_events) / sizeof(watch_events[0]), k->type))
		return true;
	for (const struct counter *o = c->list; o != k; o = o->next)
		if (o->type == k->type && strcmp(o->watch, k->watch) == 0)
			return true;
	return false;
}

static void actions_line(struct buf *b, const struct metrics_counters *c, const char *watch,
			 const char *action, const char *result)
{
	struct line s = prom_line_start(b, "leakwatch_actions_total");
	uint64_t n = 0;

	for (const struct counter *k = c->list; k; k = k->next)
		if (k->type == EVENT_ACTION && strcmp(k->watch, watch) == 0 &&
		    strcmp(k->action, action) == 0 && strcmp(k->result, result) == 0)
			n = k->n;
	prom_label(&s, "watch", watch);
	prom_label(&s, "action", action);
	prom_label(&s, "result", result);
	prom_value(&s, (double)n);
}

/* Was this action counter's series seeded from the config's actions? */
static bool printed_action(const struct judged *j, const struct counter *k)
{
	const struct watch *w = config_find_watch(j->cfg, k->watch);

	if (!w)
		return false;
	for (size_t r = 0; r < sizeof(results) / sizeof(results[0]); r++)
		if (strcmp(k->result, results[r]) == 0)
			return (w->on_leak != ACTION_ALERT && strcmp(k->action, action_name(w->on_leak)) == 0) ||
			       (w->on_limit != ACTION_ALERT && strcmp(k->action, action_name(w->on_limit)) == 0);
	return false;
}

/* The events and actions counted, per watch. */
static void render_counts(struct buf *b, const struct judged *j, const struct metrics_counters *c)
{
	prom_family(b, "leakwatch_events_total", "counter",
	       "Events reported, per watch (none for events about no watch) and event.");
	for (size_t t = 0; t < sizeof(daemon_events) / sizeof(daemon_events[0]); t++)
		events_line(b, c, "", daemon_events[t]);
	for (size_t i = 0; i < j->cfg->n_watches; i++)
		for (size_t t = 0; t < sizeof(watch_events) / sizeof(watch_events[0]); t++)
			events_line(b, c, j->cfg->watches[i].name, watch_events[t]);
	for (const struct counter *k = c->list; k; k = k->next)
		if (!printed_event(j, c, k))
			events_line(b, c, k->watch, k->type);

	prom_family(b, "leakwatch_actions_total", "counter",
	       "Actions taken or withheld, per watch, action and result (ok, failed, dry-run, suppressed).");
	for (size_t i = 0; i < j->cfg->n_watches; i++) {
		const struct watch *w = &j->cfg->watches[i];

		for (int a = 0; a < 2; a++) {
			enum action act = a ? w->on_limit : w->on_leak;

			if (act == ACTION_ALERT || (a && w->on_limit == w->on_leak))
				continue;
			for (size_t r = 0; r < sizeof(results) / sizeof(results[0]); r++)
				actions_line(b, c, w->name, action_name(act), results[r]);
		}
	}
	for (const struct counter *k = c->list; k; k = k->next)
		if (k->type == EVENT_ACTION && !printed_action(j, k))
			actions_line(b, c, k->watch, k->action, k->result);
}

/* The daemon's own work: samples, scans, ticks; no labels. */
static void render_daemon(struct buf *b, const struct judged *j, const struct metrics_counters *c)
{
	const struct {
		const char *name, *type, *help;
		double v;
	} figures[] = {
		{ "leakwatch_samples_total", "counter", "Process-samples taken.", (double)j->samples },
		{ "leakwatch_scans_total", "counter", "Discovery passes over /proc (full scans and probes of new pids).",
		  (double)j->scans },
		{ "leakwatch_full_scans_total", "counter", "Discovery passes that read /proc's whole directory.",
		  (double)j->full_scans },
		{ "leakwatch_scan_duration_seconds", "gauge", "Duration of the last discovery pass over /proc.",
		  (double)j->scan_usec / 1e6 },
		{ "leakwatch_ticks_total", "counter",
		  "Ticks (a discovery scan when due, and a sample of each watched process).", (double)c->ticks },
		{ "leakwatch_tick_seconds_total", "counter", "Time spent in ticks.", c->tick_seconds_total },
		{ "leakwatch_smaps_reads_total", "counter", "Reads of smaps_rollup (uss, pss), at most a budget's worth a tick.",
		  (double)j->smaps_reads },
		{ "leakwatch_smaps_seconds_total", "counter", "Time spent reading smaps_rollup (the page-table walks).",
		  (double)j->smaps_usec / 1e6 },
		{ "leakwatch_tick_duration_seconds", "gauge", "Duration of the last tick.", c->tick_seconds },
		{ "leakwatch_tick_duration_max_seconds", "gauge", "Duration of the longest tick since the daemon started.",
		  c->tick_seconds_max },
	};

	for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
		struct line l;

		prom_family(b, figures[i].name, figures[i].type, figures[i].help);
		l = prom_line_start(b, figures[i].name);
		prom_value(&l, figures[i].v);
	}
}

void metrics_render(struct buf *b, const struct judged *j, const struct metrics_counters *c)
{
	prom_family(b, "leakwatch_build_info", "gauge", "leakwatchd's version, as a label; always 1.");
	buf_puts(b, "leakwatch_build_info{version=\"" LEAKWATCH_VERSION "\"} 1\n");
	render_watches(b, j);
	render_processes(b, j);
	metrics_render_groups(b, j);
	render_counts(b, j, c);
	render_daemon(b, j, c);
}
