/* Status and history for leakwatchctl (see status_report.h), rendered from
 * the judged set (core/judge.h), so that the core renders without the
 * daemon.  Why both JSON and a table here: the table is derived from the
 * same values as the JSON, so the two cannot disagree; the cost is a sort
 * of the watched processes per request (by watch, then pid), which is
 * paid only when somebody asks.  The request's filters
 * (core/status_filter.h) pick the processes of both, and the lines per
 * watch over the table (core/watch_summary.h) are counted from the same
 * set. */
#include "core/status_report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/history_report.h"
#include "core/report_cells.h"
#include "core/status_filter.h"
#include "core/units.h"
#include "core/watch_summary.h"

static const struct status_filter everything = { -1, -1, false };

static unsigned partly_unreadable(const struct judged *j)
{
	unsigned n = 0;

	for (const struct watched *w = j->watched; w; w = w->next)
		n += w->unreadable != 0;
	return n;
}

static void summary(const struct judged *j, char *out, size_t len, bool with_unreadable)
{
	unsigned leaking = 0, over = 0, partly = with_unreadable ? partly_unreadable(j) : 0;
	char more[48] = "";

	for (const struct watched *w = j->watched; w; w = w->next) {
		bool leak = false, limit = false;

		for (int i = 0; i < METRIC_COUNT; i++) {
			const struct metric_state *s = watched_metric(w, i);

			leak |= s && s->leaking;
			limit |= s && s->in_limit;
		}
		leaking += leak;
		over += limit;
	}
	if (partly)
		snprintf(more, sizeof(more), ", %u partly unreadable", partly);
	snprintf(out, len, "watching %zu process%s with %zu watch%s: %u leaking, %u over a limit%s",
		 j->n_watched, j->n_watched == 1 ? "" : "es", j->cfg->n_watches,
		 j->cfg->n_watches == 1 ? "" : "es", leaking, over, more);
}

void report_summary(const struct judged *j, char *out, size_t len)
{
	summary(j, out, len, true);
}

static int by_watch_pid(const void *a, const void *b)
{
	const struct watched *x = *(const struct watched *const *)a;
	const struct watched *y = *(const struct watched *const *)b;

	if (x->watch != y->watch)
		return x->watch < y->watch ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* The watched processes that f keeps in a stable order: by watch, then
 * pid.  NULL when there are none (or no memory: the caller shows nothing
 * either way). */
static const struct watched **sorted(const struct judged *j, const struct status_filter *f, size_t *n)
{
	const struct watched **v;
	size_t i = 0;

	*n = 0;
	if (!j->n_watched || !(v = calloc(j->n_watched, sizeof(*v))))
		return NULL;
	for (const struct watched *w = j->watched; w && i < j->n_watched; w = w->next)
		if (status_filter_keeps(j, f, w))
			v[i++] = w;
	qsort(v, i, sizeof(*v), by_watch_pid);
	*n = i;
	return v;
}

/* The trend per hour, once the history covers the window: before that, a
 * fit over the first seconds would say nothing (a start-up looks huge). */
static double slope_per_hour(const struct metric_state *s)
{
	return s->trend.ready ? s->trend.slope * 3600.0 : 0.0;
}

/* ---- JSON ----------------------------------------------------------------- */

static void json_metric(struct buf *b, const struct judged *j, const struct watched *w, int i)
{
	const struct metric_state *s = watched_metric(w, i);

	buf_printf(b, "\"%s\": {\"value\": ", metric_name((enum metric)i));
	if (report_unreadable(w, i)) {
		buf_puts(b, "null, \"limit\": null, \"slope_per_hour\": null, \"eta_seconds\": null, "
			 "\"verdict\": \"unreadable\"}");
		return;
	}
	buf_json_number(b, round(s->value));
	buf_puts(b, ", \"limit\": ");   /* the max in force for it, or null */
	if (s->limit >= 0)
		buf_json_number(b, round(s->limit));
	else
		buf_puts(b, "null");
	buf_puts(b, ", \"slope_per_hour\": ");
	buf_json_number(b, round(slope_per_hour(s)));
	buf_puts(b, ", \"eta_seconds\": ");
	if (s->eta >= 0)
		buf_json_number(b, round(s->eta));
	else
		buf_puts(b, "null");
	buf_printf(b, ", \"verdict\": \"%s\"}", verdict_name(detect_verdict(s, judged_warming(j, w))));
}

/* The last inspection of w: ,"inspect": {"state", "summary", "incident"}. */
static void json_inspect(struct buf *b, const struct watched *w)
{
	buf_puts(b, ",\n  \"inspect\": {\"state\": ");
	buf_json_string(b, w->inspect_state);
	buf_puts(b, ", \"summary\": ");
	buf_json_string(b, w->inspect_note ? w->inspect_note : "");
	buf_puts(b, ", \"incident\": ");
	if (w->incident)
		buf_json_string(b, w->incident);
	else
		buf_puts(b, "null");
	buf_puts(b, "}");
}

void report_status_json(struct buf *b, const struct judged *j)
{
	report_status_json_of(b, j, &everything);
}

void report_status_json_of(struct buf *b, const struct judged *j, const struct status_filter *f)
{
	size_t n;
	const struct watched **v = sorted(j, f, &n);
	char ts[40];

	buf_puts(b, "[");
	for (size_t k = 0; k < n; k++) {
		const struct watched *w = v[k];

		format_rfc3339(report_wall_usec(j, w->start_ms), ts, sizeof(ts));
		buf_puts(b, k ? ",\n {" : "{");
		buf_puts(b, "\"watch\": ");
		buf_json_string(b, j->cfg->watches[w->watch].name);
		buf_printf(b, ", \"pid\": %d, \"comm\": ", (int)w->pid);
		buf_json_string(b, w->comm);
		report_title_json(b, w);
		buf_printf(b, ", \"started\": \"%s\"", ts);
		for (int i = 0; i < METRIC_COUNT; i++) {
			if (!watched_metric(w, i))
				continue;   /* uss, pss: only where its watch judges one */
			buf_puts(b, ",\n  ");
			json_metric(b, j, w, i);
		}
		if (w->inspect_state[0])
			json_inspect(b, w);
		buf_puts(b, "}");
	}
	buf_puts(b, "]\n");
	free(v);
}

/* ---- the table ------------------------------------------------------------- */

void report_sparkline(const struct timeline *tl, const struct series *s, char *out, size_t len)
{
	static const char *const blocks[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	const int per = HIST_BUCKETS / SPARK_CELLS;
	double mean[SPARK_CELLS], lo = INFINITY, hi = -INFINITY;
	bool have[SPARK_CELLS];
	size_t pos = 0;

	if (len < 3 * SPARK_CELLS + 1) {
		if (len)
			out[0] = '\0';
		return;
	}
	for (int c = 0; c < SPARK_CELLS; c++) {
		double sum = 0;
		uint32_t n = 0;

		for (int j = 0; j < per; j++) {
			struct bucket bk;

			if (history_bucket(tl, s, tl->head - HIST_BUCKETS + 1 + c * per + j, &bk) && bk.n) {
				sum += bk.sum;
				n += bk.n;
			}
		}
		have[c] = n > 0;
		mean[c] = n ? sum / n : 0;
		if (n) {
			lo = fmin(lo, mean[c]);
			hi = fmax(hi, mean[c]);
		}
	}
	for (int c = 0; c < SPARK_CELLS; c++) {
		int k = 0;

		if (!have[c]) {
			out[pos++] = ' ';
			continue;
		}
		/* Flat within 1%: a level line, not magnified noise. */
		if (hi - lo <= 0.01 * fabs(hi))
			k = 3;
		else
			k = (int)lrint((mean[c] - lo) / (hi - lo) * 7);
		memcpy(out + pos, blocks[k], 3);
		pos += 3;
	}
	out[pos] = '\0';
}

/* The WATCH column: as wide as the longest name of a watched process, from
 * 10 columns (a longer name clipped, "a-very-lo~") to width - 70, what
 * width leaves beside the other 68 columns and 2 to spare, as 80 columns
 * have always had. */
static int name_width(const struct judged *j, const struct watched *const *v, size_t n, unsigned width)
{
	size_t longest = 0, room = width > REPORT_WIDTH ? width - REPORT_WIDTH + 10 : 10;

	for (size_t k = 0; k < n; k++) {
		size_t len = strlen(j->cfg->watches[v[k]->watch].name);

		if (len > longest)
			longest = len;
	}
	if (longest > room)
		longest = room;
	if (longest > REPORT_NAME_MAX)
		longest = REPORT_NAME_MAX;
	return longest < 10 ? 10 : (int)longest;
}

void report_status_table(struct buf *b, const struct judged *j, unsigned width)
{
	report_status_table_of(b, j, width, &everything);
}

/* What the table says when f keeps no process. */
static void no_rows(struct buf *b, const struct judged *j, const struct status_filter *f)
{
	if (f->watch < 0 && f->verdict < 0) {
		buf_puts(b, "(no process matches a watch)\n");
		return;
	}
	buf_puts(b, "(no process");
	if (f->watch >= 0)
		buf_printf(b, " of watch %s", j->cfg->watches[f->watch].name);
	if (f->verdict >= 0)
		buf_printf(b, " with a metric at %s", status_verdict_name(f->verdict));
	buf_puts(b, ")\n");
}

void report_status_table_of(struct buf *b, const struct judged *j, unsigned width, const struct status_filter *f)
{
	size_t n;
	const struct watched **v = sorted(j, f, &n);
	char line[160];
	int nw = name_width(j, v, n, width);
	unsigned partly = partly_unreadable(j);

	summary(j, line, sizeof(line), false);
	buf_printf(b, "leakwatchd: %s\n", line);
	if (partly)
		buf_printf(b, "leakwatchd: %u process%s partly unreadable (see the warnings)\n", partly,
			   partly == 1 ? "" : "es");
	buf_puts(b, "\n");
	if (j->cfg->n_watches) {   /* a line per watch (core/watch_summary.h) */
		report_watch_lines(b, j, f->watch, width);
		buf_puts(b, "\n");
	}
	/* nw+1+7+1+10+1+7+1+7+1+9+1+5+1+7+1+8 = nw + 68 columns, 78 in 80 */
	buf_printf(b, "%-*s %7s %-10s %-7s %7s %9s %5s %-7s %s\n", nw, "WATCH", "PID", "COMM",
		   "METRIC", "VALUE", "TREND/H", "ETA", "VERDICT", "WINDOW");
	for (size_t k = 0; k < n; k++) {
		const struct watched *w = v[k];
		bool warming = judged_warming(j, w);
		char name[REPORT_NAME_MAX + 1], comm[11], pid[12];

		report_clip(name, j->cfg->watches[w->watch].name, (size_t)nw);
		report_clip(comm, w->comm, 10);
		snprintf(pid, sizeof(pid), "%d", (int)w->pid);
		for (int i = 0; i < METRIC_COUNT; i++) {
			const struct metric_state *s = watched_metric(w, i);
			char val[24], slope[24], when[16], spark[3 * SPARK_CELLS + 1];

			if (!s)
				continue;   /* uss, pss: rows only where its watch judges one */
			if (report_unreadable(w, i)) {
				buf_printf(b, "%-*s %7s %-10s %-7s %7s %9s %5s %s\n", nw,
					   i ? "" : name, i ? "" : pid, i ? "" : comm,
					   metric_name((enum metric)i), "-", "-", "-", "unreadable");
				continue;
			}
			report_amount(val, sizeof(val), i, s->value);
			if (s->trend.ready)
				report_rate(slope, sizeof(slope), i, slope_per_hour(s));
			else
				snprintf(slope, sizeof(slope), "-");
			report_eta(when, sizeof(when), s->eta);
			report_sparkline(watched_timeline(w, i), &s->hist, spark, sizeof(spark));
			buf_printf(b, "%-*s %7s %-10s %-7s %7s %9s %5s %-7s %s\n", nw,
				   i ? "" : name, i ? "" : pid, i ? "" : comm,
				   metric_name((enum metric)i), val, slope, when,
				   verdict_name(detect_verdict(s, warming)), spark);
		}
		if (report_title_shown(w)) {   /* under the pid: nw + 1 + 65 columns at most */
			buf_printf(b, "%-*s \"", nw, "");
			buf_line_text(b, w->title);
			buf_puts(b, "\"\n");
		}
		if (w->inspect_state[0]) {
			buf_printf(b, "%-*s %7s inspect: %s", nw, "", "", w->inspect_state);
			if (w->inspect_note && w->inspect_note[0]) {
				buf_puts(b, ": ");
				buf_line_text(b, w->inspect_note);
			}
			buf_puts(b, "\n");
		}
	}
	if (n == 0)
		no_rows(b, j, f);
	free(v);
}

/* ---- requests --------------------------------------------------------------- */

/* "table WIDTH" at the end of tok[0..*n): the width (and *n less the
 * number), or REPORT_WIDTH when there is none; -1 for a width that is not
 * a number from 1 to 9999. */
static long table_width(char **tok, size_t *n)
{
	char *end;
	long w;

	if (*n < 3 || strcmp(tok[*n - 2], "table") != 0 || !strchr("0123456789", tok[*n - 1][0]))
		return REPORT_WIDTH;
	w = strtol(tok[*n - 1], &end, 10);
	if (*end || w < 1 || w > 9999)
		return -1;
	(*n)--;
	return w;
}

/* "status [FILTER...]" (words[0..n), the format taken off already): the
 * processes the filters keep or, with "watches", the watches' summary.
 * 0, or what status_filter_parse() says (-EINVAL: an unknown request,
 * nothing written). */
static int status_answer(const struct judged *j, char *const *words, size_t n, bool json, unsigned width,
			 struct buf *reply)
{
	struct status_filter f;
	int r = status_filter_parse(j, words, n, &f, reply);

	if (r < 0)
		return r;
	if (f.watches && f.verdict >= 0) {
		buf_puts(reply, "ERR a verdict picks processes: the watches' summary counts them all\n");
		return -EDOM;
	}
	buf_puts(reply, "OK\n");
	if (f.watches && json)
		report_watches_json(reply, j, f.watch);
	else if (f.watches)
		report_watch_lines(reply, j, f.watch, width);
	else if (json)
		report_status_json_of(reply, j, &f);
	else
		report_status_table_of(reply, j, width, &f);
	return 0;
}

#define REQUEST_WORDS 8   /* "status watch NAME verdict V watches table WIDTH" */

void report_answer(const struct judged *j, const char *request, struct buf *reply)
{
	char copy[256], *tok[REQUEST_WORDS], *save = NULL, *end;
	size_t n = 0;
	bool json = false;
	long pid, width;

	if (strlen(request) >= sizeof(copy))
		goto bad;
	snprintf(copy, sizeof(copy), "%s", request);
	for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == REQUEST_WORDS)
			goto bad;
		tok[n++] = t;
	}
	if (n == 0 || (width = table_width(tok, &n)) < 0)
		goto bad;
	/* the optional last word: the format (a table's width after it) */
	if (n >= 2 && (strcmp(tok[n - 1], "json") == 0 || strcmp(tok[n - 1], "table") == 0))
		json = strcmp(tok[--n], "json") == 0;
	if (strcmp(tok[0], "status") == 0) {
		if (status_answer(j, tok + 1, n - 1, json, (unsigned)width, reply) == -EINVAL)
			goto bad;
		return;
	}
	if (strcmp(tok[0], "history") == 0 && n == 2) {
		const struct watched *w;

		pid = strtol(tok[1], &end, 10);
		if (*end || pid <= 0 || pid > INT32_MAX) {
			buf_printf(reply, "ERR not a pid: %.40s\n", tok[1]);
			return;
		}
		w = judged_find(j, (pid_t)pid);
		if (!w) {
			buf_printf(reply, "ERR pid %ld is not watched\n", pid);
			return;
		}
		buf_puts(reply, "OK\n");
		if (json)
			report_history_json(reply, j, w);
		else
			report_history_table(reply, j, w);
		return;
	}
bad:
	buf_printf(reply, "ERR unknown request: %.60s\n", request);
}
