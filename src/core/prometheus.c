/* The Prometheus text (see prometheus.h), rendered on demand from the
 * judged set (core/judge.h) and the event counters.  Why on demand rather
 * than kept up to date per sample: a scrape comes every 15 s or so, the
 * samples every interval, so rendering at the scrape is the cheaper side,
 * and the hot path does not touch the metrics at all.  The cost: a
 * scrape walks every watched process and counter once. */
#include "core/prometheus.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

void metrics_count_event(struct metrics_counters *c, const struct event *e)
{
	const char *watch = or_empty(e->watch);
	const char *action = e->type == EVENT_ACTION ? or_empty(e->action) : "";
	const char *result = e->type == EVENT_ACTION ? or_empty(e->result) : "";
	struct counter *k;

	for (k = c->list; k; k = k->next)
		if (k->type == e->type && strcmp(k->watch, watch) == 0 &&
		    strcmp(k->action, action) == 0 && strcmp(k->result, result) == 0) {
			k->n++;
			return;
		}
	k = calloc(1, sizeof(*k));
	if (!k)
		return;
	k->watch = strdup(watch);
	k->action = strdup(action);
	k->result = strdup(result);
	if (!k->watch || !k->action || !k->result) {
		free(k->watch);
		free(k->action);
		free(k->result);
		free(k);
		return;
	}
	k->type = e->type;
	k->n = 1;
	k->next = c->list;
	c->list = k;
}

void metrics_counters_free(struct metrics_counters *c)
{
	while (c->list) {
		struct counter *k = c->list;

		c->list = k->next;
		free(k->watch);
		free(k->action);
		free(k->result);
		free(k);
	}
}

static const char *label_escape(unsigned char c)
{
	switch (c) {
	case '\\': return "\\\\";
	case '"':  return "\\\"";
	case '\n': return "\\n";
	default:   return NULL;
	}
}

/* A label value: valid UTF-8, backslash, double quote and newline escaped. */
static void label(struct buf *b, const char *name, const char *v, bool first)
{
	buf_printf(b, "%s%s=\"", first ? "" : ",", name);
	buf_utf8(b, v, label_escape);
	buf_puts(b, "\"");
}

static void value(struct buf *b, double v)
{
	if (isnan(v))
		buf_puts(b, " NaN\n");
	else if (isinf(v))
		buf_puts(b, v > 0 ? " +Inf\n" : " -Inf\n");
	else if (fabs(v) < 9e15 && v == floor(v))
		buf_printf(b, " %.0f\n", v + 0.0);
	else
		buf_printf(b, " %.9g\n", v);
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void process_labels(struct buf *b, const struct judged *j, const struct watched *w)
{
	char pid[16];

	label(b, "watch", j->cfg->watches[w->watch].name, true);
	snprintf(pid, sizeof(pid), "%d", (int)w->pid);
	label(b, "pid", pid, false);
	label(b, "comm", w->comm, false);
}

static const enum event_type watch_events[] = { EVENT_FOUND, EVENT_GONE, EVENT_LEAK, EVENT_LIMIT, EVENT_ACTION };
static const char *const results[] = { "ok", "failed", "dry-run", "suppressed" };

static uint64_t count_events(const struct metrics_counters *c, const char *watch, enum event_type t)
{
	uint64_t n = 0;

	for (const struct counter *k = c->list; k; k = k->next)
		if (k->type == t && strcmp(k->watch, watch) == 0)
			n += k->n;   /* actions are counted per action and result: summed */
	return n;
}

static void events_line(struct buf *b, const struct metrics_counters *c, const char *watch, enum event_type t)
{
	buf_puts(b, "leakwatch_events_total{");
	label(b, "watch", watch, true);
	label(b, "event", event_name(t), false);
	buf_puts(b, "}");
	value(b, (double)count_events(c, watch, t));
}

/* Was counter k's (watch, event) series printed already: seeded from the
 * config, or by an earlier counter? */
static bool printed_event(const struct judged *j, const struct metrics_counters *c, const struct counter *k)
{
	if (config_find_watch(j->cfg, k->watch))
		for (size_t t = 0; t < sizeof(watch_events) / sizeof(watch_events[0]); t++)
			if (watch_events[t] == k->type)
				return true;
	for (const struct counter *o = c->list; o != k; o = o->next)
		if (o->type == k->type && strcmp(o->watch, k->watch) == 0)
			return true;
	return false;
}

static void actions_line(struct buf *b, const struct metrics_counters *c, const char *watch,
			 const char *action, const char *result)
{
	uint64_t n = 0;

	for (const struct counter *k = c->list; k; k = k->next)
		if (k->type == EVENT_ACTION && strcmp(k->watch, watch) == 0 &&
		    strcmp(k->action, action) == 0 && strcmp(k->result, result) == 0)
			n = k->n;
	buf_puts(b, "leakwatch_actions_total{");
	label(b, "watch", watch, true);
	label(b, "action", action, false);
	label(b, "result", result, false);
	buf_puts(b, "}");
	value(b, (double)n);
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

enum per { PER_VALUE, PER_TREND, PER_ETA, PER_LEAK, PER_LIMIT, PER_UNREADABLE };

static void per_metric(struct buf *b, const struct judged *j, const char *name, enum per what)
{
	for (const struct watched *w = j->watched; w; w = w->next)
		for (int i = 0; i < METRIC_COUNT; i++) {
			const struct metric_state *s = &w->m[i];
			double v;

			/* a metric not read has no series but this one */
			if ((what == PER_UNREADABLE) != ((w->unreadable & (1u << i)) != 0))
				continue;
			switch (what) {
			case PER_UNREADABLE:
				v = 1;
				break;
			case PER_TREND:
				if (!s->trend.ready)
					continue;   /* a fit over part of the window means nothing yet */
				v = s->trend.slope * 3600.0;
				break;
			case PER_ETA:
				if (s->eta < 0)
					continue;
				v = s->eta;
				break;
			case PER_LEAK:
				v = s->leaking;
				break;
			default:
				v = s->in_limit;
				break;
			}
			buf_printf(b, "%s{", name);
			process_labels(b, j, w);
			label(b, "metric", metric_name((enum metric)i), false);
			buf_puts(b, "}");
			value(b, v);
		}
}

static void per_process(struct buf *b, const struct judged *j, const char *name, int metric)
{
	for (const struct watched *w = j->watched; w; w = w->next) {
		if (w->unreadable & (1u << metric))
			continue;   /* not read: no sample */
		buf_printf(b, "%s{", name);
		process_labels(b, j, w);
		buf_puts(b, "}");
		value(b, w->m[metric].value);
	}
}

/* The per-process families, in the order they are rendered: the latest
 * sample of each metric (what: the metric), then one series per metric of
 * each verdict or figure (what: PER_*). */
static const struct process_family {
	const char *name, *help;
	bool per_metric;
	int what;
} process_families[] = {
	{ "leakwatch_process_rss_bytes", "Resident memory of a watched process, latest sample.", false, METRIC_RSS },
	{ "leakwatch_process_fds", "Open file descriptors of a watched process, latest sample.", false, METRIC_FDS },
	{ "leakwatch_process_threads", "Threads of a watched process, latest sample.", false, METRIC_THREADS },
	{ "leakwatch_process_trend_per_hour",
	  "Current growth of a metric per hour (bytes for rss, a count for fds and threads).", true, PER_TREND },
	{ "leakwatch_process_eta_seconds",
	  "Seconds until the metric reaches its max at the current trend (only where it is heading there).",
	  true, PER_ETA },
	{ "leakwatch_process_leak", "1 while the metric's trend is reported as a leak.", true, PER_LEAK },
	{ "leakwatch_process_over_limit", "1 while the metric is reported over its max.", true, PER_LIMIT },
	{ "leakwatch_process_unreadable",
	  "1 for a metric of a watched process that leakwatchd may not read (its other metrics are watched).",
	  true, PER_UNREADABLE },
};

/* Per watch, the processes watched; per process, its metrics and verdicts. */
static void render_processes(struct buf *b, const struct judged *j)
{
	family(b, "leakwatch_watched_processes", "gauge", "Processes watched now, per watch.");
	for (size_t i = 0; i < j->cfg->n_watches; i++) {
		unsigned n = 0;

		for (const struct watched *w = j->watched; w; w = w->next)
			n += w->watch == i;
		buf_puts(b, "leakwatch_watched_processes{");
		label(b, "watch", j->cfg->watches[i].name, true);
		buf_puts(b, "}");
		value(b, n);
	}

	for (size_t i = 0; i < sizeof(process_families) / sizeof(process_families[0]); i++) {
		const struct process_family *f = &process_families[i];

		family(b, f->name, "gauge", f->help);
		if (f->per_metric)
			per_metric(b, j, f->name, f->what);
		else
			per_process(b, j, f->name, f->what);
	}
}

/* The events and actions counted, per watch. */
static void render_counts(struct buf *b, const struct judged *j, const struct metrics_counters *c)
{
	family(b, "leakwatch_events_total", "counter", "Events reported, per watch and event.");
	/* Each watch's series exist from the start, at 0, so that increase()
	 * sees the first event; then whatever else was counted. */
	for (size_t i = 0; i < j->cfg->n_watches; i++)
		for (size_t t = 0; t < sizeof(watch_events) / sizeof(watch_events[0]); t++)
			events_line(b, c, j->cfg->watches[i].name, watch_events[t]);
	for (const struct counter *k = c->list; k; k = k->next)
		if (!printed_event(j, c, k))
			events_line(b, c, k->watch, k->type);

	family(b, "leakwatch_actions_total", "counter",
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

/* The daemon's own work: samples, scans, ticks. */
static void render_daemon(struct buf *b, const struct judged *j, const struct metrics_counters *c)
{
	family(b, "leakwatch_samples_total", "counter", "Process-samples taken.");
	buf_puts(b, "leakwatch_samples_total");
	value(b, (double)j->samples);
	family(b, "leakwatch_scans_total", "counter", "Discovery passes over /proc (full scans and probes of new pids).");
	buf_puts(b, "leakwatch_scans_total");
	value(b, (double)j->scans);
	family(b, "leakwatch_full_scans_total", "counter", "Discovery passes that read /proc's whole directory.");
	buf_puts(b, "leakwatch_full_scans_total");
	value(b, (double)j->full_scans);
	family(b, "leakwatch_scan_duration_seconds", "gauge", "Duration of the last discovery pass over /proc.");
	buf_puts(b, "leakwatch_scan_duration_seconds");
	value(b, (double)j->scan_usec / 1e6);
	family(b, "leakwatch_ticks_total", "counter", "Ticks (a discovery scan when due, and a sample of each watched process).");
	buf_puts(b, "leakwatch_ticks_total");
	value(b, (double)c->ticks);
	family(b, "leakwatch_tick_seconds_total", "counter", "Time spent in ticks.");
	buf_puts(b, "leakwatch_tick_seconds_total");
	value(b, c->tick_seconds_total);
	family(b, "leakwatch_tick_duration_seconds", "gauge", "Duration of the last tick.");
	buf_puts(b, "leakwatch_tick_duration_seconds");
	value(b, c->tick_seconds);
	family(b, "leakwatch_tick_duration_max_seconds", "gauge", "Duration of the longest tick since the daemon started.");
	buf_puts(b, "leakwatch_tick_duration_max_seconds");
	value(b, c->tick_seconds_max);
}

void metrics_render(struct buf *b, const struct judged *j, const struct metrics_counters *c)
{
	family(b, "leakwatch_build_info", "gauge", "leakwatchd's version, as a label; always 1.");
	buf_puts(b, "leakwatch_build_info{version=\"" LEAKWATCH_VERSION "\"} 1\n");
	render_processes(b, j);
	render_counts(b, j, c);
	render_daemon(b, j, c);
}
