/* The status's summary per watch (see watch_summary.h).
 *
 * What an operator asks first of a fleet of workers is per watch, not per
 * process: "is the api leaking, and what did leakwatch do about it?".
 * The processes' rows answer it only after counting them by hand, and the
 * last action is nowhere in them: it is in the journal, and the worker it
 * recycled is gone from the table.  So each watch gets one line: its
 * processes, how many leak, how many are over a limit, and its last
 * action.
 *
 * Where the last action comes from: the action events, each of which the
 * daemon notes here as it emits it (daemon/main.c), whoever sent it (the
 * dispatcher's gate, a backend when its command or its restart ends).
 * Not from the action policy (core/action_policy.h): it records the times
 * of actions taken, for the gate, and neither what they were nor how they
 * ended, nor the suppressed ones.  Only the fields the daemon sets are
 * kept (the watch's name, the action's and the result's, the pid), never
 * a process's comm or title, so a hostile process puts nothing of its own
 * here.
 *
 * Costs: one record (~120 bytes) per watch name that ever acted since the
 * daemon started, found by a walk of the list (actions are rare); per
 * status request, one pass over the processes for the tallies and one
 * lookup per watch shown. */
#include "core/watch_summary.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/report_cells.h"
#include "core/units.h"

/* ---- the last action ------------------------------------------------------ */

int last_action_note(struct last_action **list, const struct event *e)
{
	struct last_action *a;

	if (e->type != EVENT_ACTION || !e->watch || !e->watch[0] || strlen(e->watch) >= sizeof(a->watch))
		return -EINVAL;
	a = (struct last_action *)last_action_find(*list, e->watch);
	if (!a) {
		a = calloc(1, sizeof(*a));
		if (!a)
			return -ENOMEM;
		snprintf(a->watch, sizeof(a->watch), "%s", e->watch);
		a->next = *list;
		*list = a;
	}
	snprintf(a->action, sizeof(a->action), "%s", e->action ? e->action : "?");
	snprintf(a->result, sizeof(a->result), "%s", e->result ? e->result : "?");
	a->pid = e->pid;
	a->group = e->group;
	a->ts_usec = e->ts_usec;
	return 0;
}

const struct last_action *last_action_find(const struct last_action *list, const char *watch)
{
	for (; list; list = list->next)
		if (strcmp(list->watch, watch) == 0)
			return list;
	return NULL;
}

void last_action_free_all(struct last_action *list)
{
	while (list) {
		struct last_action *next = list->next;

		free(list);
		list = next;
	}
}

/* ---- the tallies -------------------------------------------------------------- */

void watch_tallies(const struct judged *j, struct watch_tally *t)
{
	memset(t, 0, j->cfg->n_watches * sizeof(*t));
	for (const struct watched *w = j->watched; w; w = w->next) {
		bool leak = false, limit = false;

		if (w->watch >= j->cfg->n_watches)
			continue;
		for (int i = 0; i < METRIC_COUNT; i++) {
			const struct metric_state *s = watched_metric(w, i);

			leak |= s && s->leaking;
			limit |= s && s->in_limit;
		}
		t[w->watch].processes++;
		t[w->watch].leaking += leak;
		t[w->watch].over_limit += limit;
	}
}

/* The tallies of j's watches (malloc'd), or NULL after marking b failed. */
static struct watch_tally *tallies(const struct judged *j, struct buf *b)
{
	struct watch_tally *t = calloc(j->cfg->n_watches ? j->cfg->n_watches : 1, sizeof(*t));

	if (!t)
		b->failed = true;
	else
		watch_tallies(j, t);
	return t;
}

/* Whole seconds from the action to j's tick; 0 for one stamped after it
 * (an action event comes during or after the tick it belongs to). */
static uint64_t seconds_ago(const struct judged *j, const struct last_action *a)
{
	return j->wall_usec > a->ts_usec ? (j->wall_usec - a->ts_usec) / 1000000 : 0;
}

/* ---- the lines ------------------------------------------------------------------- */

/* "last action signal ok 3m ago (pid 4242)" or "no action yet". */
static void action_text(const struct judged *j, const struct last_action *a, char *out, size_t len)
{
	char ago[32];

	if (!a) {
		snprintf(out, len, "no action yet");
		return;
	}
	format_duration(ago, sizeof(ago), (double)seconds_ago(j, a));
	if (strcmp(ago, "0ms") == 0)
		snprintf(ago, sizeof(ago), "0s");
	if (a->group)
		snprintf(out, len, "last action %s %s %s ago (group)", a->action, a->result, ago);
	else
		snprintf(out, len, "last action %s %s %s ago (pid %d)", a->action, a->result, ago, (int)a->pid);
}

/* The group of watch idx, when it has one and it is judged. */
static const struct group_record *group_of(const struct judged *j, size_t idx)
{
	return j->groups && j->cfg->watches[idx].group ? j->groups[idx] : NULL;
}

/* "  group of 4 processes: rss 180M +7.2G/h leak, fds 40 ok". */
static void group_line(struct buf *b, const struct judged *j, size_t idx)
{
	const struct watch *wc = &j->cfg->watches[idx];
	const struct group_record *g = group_of(j, idx);
	const char *sep = "";

	if (!g)
		return;
	buf_printf(b, "  group of %u process%s:", g->processes, g->processes == 1 ? "" : "es");
	for (int i = 0; i < GROUP_METRICS; i++) {
		const struct metric_state *s = &g->m[i];
		char val[32] = "-", slope[40] = "";

		if (!(wc->group->metrics & (1u << i)))
			continue;
		if (g->started && s->value >= 0)
			report_amount(val, sizeof(val), i, s->value);
		if (s->trend.ready)
			report_rate(slope, sizeof(slope), i, s->trend.slope * 3600);
		buf_printf(b, "%s %s %s%s%s %s", sep, metric_name((enum metric)i), val, slope[0] ? " " : "", slope,
			   verdict_name(group_verdict(g, wc, i, j->now_ms)));
		sep = ",";
	}
	buf_puts(b, "\n");
}

static void watch_line(struct buf *b, const struct judged *j, size_t idx, const struct watch_tally *t,
		       unsigned width)
{
	const char *name = j->cfg->watches[idx].name;
	char counts[96], act[96], clipped[REPORT_NAME_MAX + 1];
	size_t room, fixed;

	snprintf(counts, sizeof(counts), "%zu process%s, %zu leaking, %zu over a limit", t->processes,
		 t->processes == 1 ? "" : "es", t->leaking, t->over_limit);
	action_text(j, last_action_find(j->actions, name), act, sizeof(act));
	if (strlen(name) + 2 + strlen(counts) + 2 + strlen(act) <= width) {
		buf_printf(b, "%s: %s, %s\n", name, counts, act);
		return;
	}
	/* "NAME: COUNTS," then "  ACTION": the name clipped to what is left */
	fixed = 2 + strlen(counts) + 1;
	room = width > fixed + 1 ? width - fixed : 1;
	report_clip(clipped, name, room < REPORT_NAME_MAX ? room : REPORT_NAME_MAX);
	buf_printf(b, "%s: %s,\n  %s\n", clipped, counts, act);
}

void report_watch_lines(struct buf *b, const struct judged *j, long only, unsigned width)
{
	struct watch_tally *t = tallies(j, b);

	if (!t)
		return;
	if (width < REPORT_WIDTH)
		width = REPORT_WIDTH;
	for (size_t i = 0; i < j->cfg->n_watches; i++)
		if (only < 0 || (size_t)only == i) {
			watch_line(b, j, i, &t[i], width);
			group_line(b, j, i);
		}
	free(t);
}

/* ---- JSON ------------------------------------------------------------------------ */

static void json_action(struct buf *b, const struct judged *j, const struct last_action *a)
{
	char ts[40];

	if (!a) {
		buf_puts(b, "null");
		return;
	}
	format_rfc3339(a->ts_usec, ts, sizeof(ts));
	buf_puts(b, "{\"action\": ");
	buf_json_string(b, a->action);
	buf_puts(b, ", \"result\": ");
	buf_json_string(b, a->result);
	if (a->group)
		buf_puts(b, ", \"group\": true");
	else
		buf_printf(b, ", \"pid\": %d", (int)a->pid);
	buf_printf(b, ", \"ts\": \"%s\", \"seconds_ago\": %llu}", ts, (unsigned long long)seconds_ago(j, a));
}

/* ", \"group\": {\"processes\": 4, \"rss\": {\"value\": ..., \"trend_per_hour\": ...,
 * \"verdict\": \"leak\"}}" for a watch with a group; nothing without. */
static void json_group(struct buf *b, const struct judged *j, size_t idx)
{
	const struct watch *wc = &j->cfg->watches[idx];
	const struct group_record *g = group_of(j, idx);

	if (!g)
		return;
	buf_printf(b, ", \"group\": {\"processes\": %u", g->processes);
	for (int i = 0; i < GROUP_METRICS; i++) {
		const struct metric_state *s = &g->m[i];

		if (!(wc->group->metrics & (1u << i)))
			continue;
		buf_printf(b, ", \"%s\": {\"value\": ", metric_name((enum metric)i));
		if (g->started && s->value >= 0)
			buf_json_number(b, round(s->value));
		else
			buf_puts(b, "null");
		buf_puts(b, ", \"trend_per_hour\": ");
		if (s->trend.ready)
			buf_json_number(b, round(s->trend.slope * 3600));
		else
			buf_puts(b, "null");
		buf_printf(b, ", \"verdict\": \"%s\"}", verdict_name(group_verdict(g, wc, i, j->now_ms)));
	}
	buf_puts(b, "}");
}

void report_watches_json(struct buf *b, const struct judged *j, long only)
{
	struct watch_tally *t = tallies(j, b);
	bool first = true;

	if (!t)
		return;
	buf_puts(b, "[");
	for (size_t i = 0; i < j->cfg->n_watches; i++) {
		const char *name = j->cfg->watches[i].name;

		if (only >= 0 && (size_t)only != i)
			continue;
		buf_puts(b, first ? "{\"watch\": " : ",\n {\"watch\": ");
		first = false;
		buf_json_string(b, name);
		buf_printf(b, ", \"processes\": %zu, \"leaking\": %zu, \"over_limit\": %zu, \"last_action\": ",
			   t[i].processes, t[i].leaking, t[i].over_limit);
		json_action(b, j, last_action_find(j->actions, name));
		json_group(b, j, i);
		buf_puts(b, "}");
	}
	buf_puts(b, "]\n");
	free(t);
}
