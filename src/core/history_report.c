/* The history renderers (see history_report.h).  Why apart from the
 * status: a history is one process's buckets, a status every process's
 * latest values; they share only their cells (report_cells.h).  All
 * three forms walk the same buckets through history_bucket(), so the
 * JSON, the CSV and the table cannot disagree; the cost is one pass over
 * the 48 buckets of each metric per request.  The CSV is for spreadsheets
 * and scripts: raw bytes and counts, no unit suffixes, CRLF as RFC 4180
 * says. */
#include "core/history_report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/history.h"
#include "core/report_cells.h"
#include "core/units.h"

/* The mean sample time of bucket k, boot-time ms. */
static uint64_t bucket_time(const struct timeline *tl, int64_t k, const struct bucket *bk)
{
	return tl->origin_ms + (uint64_t)k * tl->width_ms + (uint64_t)(bk->toff / (float)bk->n);
}

void report_history_json(struct buf *b, const struct judged *j, const struct watched *w)
{
	const struct timeline *tl = &w->tl;
	char ts[40];

	buf_puts(b, "{\"watch\": ");
	buf_json_string(b, j->cfg->watches[w->watch].name);
	buf_printf(b, ", \"pid\": %d, \"comm\": ", (int)w->pid);
	buf_json_string(b, w->comm);
	report_title_json(b, w);
	format_rfc3339(report_wall_usec(j, w->start_ms), ts, sizeof(ts));
	buf_printf(b, ", \"started\": \"%s\", \"window_seconds\": ", ts);
	buf_json_number(b, (double)j->cfg->watches[w->watch].window_ms / 1000.0);
	buf_puts(b, ", \"bucket_seconds\": ");
	buf_json_number(b, (double)tl->width_ms / 1000.0);
	for (int i = 0; i < METRIC_COUNT; i++) {
		const struct metric_state *s = watched_metric(w, i);
		const struct timeline *mt = watched_timeline(w, i);   /* uss, pss: their own */
		bool first = true;

		if (!s)
			continue;   /* uss, pss: only where the watch judges one */
		buf_printf(b, ",\n \"%s\": [", metric_name((enum metric)i));
		/* a metric the daemon may not read has no history to show */
		for (int64_t k = mt->head - HIST_BUCKETS + 1; mt->head >= 0 && k <= mt->head && !report_unreadable(w, i);
		     k++) {
			struct bucket bk;

			if (!history_bucket(mt, &s->hist, k, &bk) || !bk.n)
				continue;
			format_rfc3339(report_wall_usec(j, bucket_time(mt, k, &bk)), ts, sizeof(ts));
			buf_printf(b, "%s\n  {\"t\": \"%s\", \"samples\": %u, \"mean\": ", first ? "" : ",", ts, bk.n);
			buf_json_number(b, round(bk.sum / bk.n * 10) / 10);
			buf_puts(b, ", \"min\": ");
			buf_json_number(b, bk.min);
			buf_puts(b, ", \"max\": ");
			buf_json_number(b, bk.max);
			buf_puts(b, "}");
			first = false;
		}
		buf_puts(b, "]");
	}
	buf_puts(b, "}\n");
}

/* Bucket k of metric i of w, when it holds samples of it: true with *o. */
static bool mean_of(const struct watched *w, int i, int64_t k, struct bucket *o)
{
	const struct metric_state *s = watched_metric(w, i);

	return s && !report_unreadable(w, i) && history_bucket(watched_timeline(w, i), &s->hist, k, o) && o->n;
}

void report_history_table(struct buf *b, const struct judged *j, const struct watched *w)
{
	const struct timeline *tl = &w->tl;
	char ts[40], d[24];
	unsigned rows = 0;

	char name[33], comm[16];

	report_clip(name, j->cfg->watches[w->watch].name, 32);
	report_clip(comm, w->comm, 15);
	format_duration(d, sizeof(d), (double)tl->width_ms / 1000.0);
	buf_printf(b, "%s: pid %d (%s): %d buckets of %s, newest last\n",
		   name, (int)w->pid, comm, HIST_BUCKETS, d);
	if (report_title_shown(w)) {
		buf_puts(b, "title \"");
		buf_line_text(b, w->title);
		buf_puts(b, "\"\n");
	}
	buf_puts(b, "\n");
	buf_printf(b, "%-24s %7s %8s %8s %8s %8s %8s%s\n", "TIME (UTC)", "SAMPLES", "RSS",
		   "RSS MIN", "RSS MAX", "FDS", "THREADS", w->sparse ? "      USS      PSS" : "");
	for (int64_t k = tl->head - HIST_BUCKETS + 1; tl->head >= 0 && k <= tl->head; k++) {
		struct bucket bk;
		char cols[2 + METRIC_COUNT][24];

		if (!history_bucket(tl, &w->m[METRIC_RSS].hist, k, &bk) || !bk.n)
			continue;
		format_rfc3339(report_wall_usec(j, bucket_time(tl, k, &bk)), ts, sizeof(ts));
		report_amount(cols[0], sizeof(cols[0]), METRIC_RSS, bk.sum / bk.n);
		report_amount(cols[1], sizeof(cols[1]), METRIC_RSS, bk.min);
		report_amount(cols[2], sizeof(cols[2]), METRIC_RSS, bk.max);
		for (int i = METRIC_FDS; i < METRIC_COUNT; i++) {
			struct bucket o;

			if (mean_of(w, i, k, &o))
				report_amount(cols[2 + i], sizeof(cols[0]), i, o.sum / o.n);
			else
				snprintf(cols[2 + i], sizeof(cols[0]), "-");
		}
		buf_printf(b, "%-24s %7u %8s %8s %8s %8s %8s", ts, bk.n, cols[0], cols[1], cols[2],
			   cols[3], cols[4]);
		if (w->sparse)
			buf_printf(b, " %8s %8s", cols[2 + METRIC_USS], cols[2 + METRIC_PSS]);
		buf_puts(b, "\n");
		rows++;
	}
	if (!rows)
		buf_puts(b, "(no samples yet)\n");
}

/* A mean as a CSV field: whole, or to a tenth. */
static void csv_mean(struct buf *b, double v)
{
	double r = round(v * 10) / 10;

	buf_printf(b, r == floor(r) ? ",%.0f" : ",%.1f", r);
}

/* ",rss fds": the metrics whose episodes of kind bit (DETECT_*) bucket k saw. */
static void csv_marks(struct buf *b, const struct watched *w, int64_t k, unsigned bit)
{
	bool first = true;

	buf_puts(b, ",");
	for (int i = 0; i < METRIC_COUNT; i++)
		if (watched_metric(w, i) && !report_unreadable(w, i) &&
		    (detect_marks(watched_metric(w, i), watched_timeline(w, i), k) & bit)) {
			buf_printf(b, "%s%s", first ? "" : " ", metric_name((enum metric)i));
			first = false;
		}
}

void report_history_csv(struct buf *b, const struct judged *j, const struct watched *w)
{
	const struct timeline *tl = &w->tl;
	char ts[40];

	/* uss and pss last, where the process has them: the columns before
	 * stay where a script expects them */
	buf_printf(b, "time,samples,rss_mean,rss_min,rss_max,fds,threads,leak,limit%s\r\n",
		   w->sparse ? ",uss,pss" : "");
	for (int64_t k = tl->head - HIST_BUCKETS + 1; tl->head >= 0 && k <= tl->head; k++) {
		struct bucket bk;

		/* the timeline's count: rss's series is as good as any */
		if (!history_bucket(tl, &w->m[METRIC_RSS].hist, k, &bk) || !bk.n)
			continue;
		format_rfc3339(report_wall_usec(j, bucket_time(tl, k, &bk)), ts, sizeof(ts));
		buf_printf(b, "%s,%u", ts, bk.n);
		if (report_unreadable(w, METRIC_RSS))
			buf_puts(b, ",,,");
		else
			buf_printf(b, ",%.0f,%.0f,%.0f", round(bk.sum / bk.n), bk.min, bk.max);
		for (int i = METRIC_FDS; i < METRIC_INLINE; i++) {
			struct bucket o;

			if (mean_of(w, i, k, &o))
				csv_mean(b, o.sum / o.n);
			else
				buf_puts(b, ",");
		}
		csv_marks(b, w, k, DETECT_LEAK);
		csv_marks(b, w, k, DETECT_LIMIT);
		for (int i = METRIC_INLINE; w->sparse && i < METRIC_COUNT; i++) {
			struct bucket o;

			if (mean_of(w, i, k, &o))
				csv_mean(b, o.sum / o.n);
			else
				buf_puts(b, ",");
		}
		buf_puts(b, "\r\n");
	}
}
