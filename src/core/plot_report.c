/* The plot requests (see plot_report.h).  Why a module of their own
 * rather than more branches in report_answer(): the plots have words of
 * their own (a format, a width, a metric) and the status's answer stays
 * as it is; the daemon asks this one first (daemon/main.c), as it asks
 * the inspections'.  Why the daemon renders and not leakwatchctl: the
 * trend, the marks and the floors are the daemon's, and a capture writes
 * the same SVG without a client.  The cost: struct plot (about 10 KiB)
 * allocated per request. */
#include "core/plot_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/history_report.h"
#include "core/plot_svg.h"
#include "core/plot_text.h"

void report_plot_svg(struct buf *b, const struct judged *j, const struct watched *w, unsigned metrics)
{
	struct plot *p = malloc(sizeof(*p));

	if (!p) {
		b->failed = true;
		return;
	}
	plot_build(p, j, w, metrics);
	plot_svg(b, p);
	free(p);
}

void report_plot_text(struct buf *b, const struct judged *j, const struct watched *w, unsigned metrics,
		      unsigned width)
{
	struct plot *p = malloc(sizeof(*p));

	if (!p) {
		b->failed = true;
		return;
	}
	plot_build(p, j, w, metrics);
	plot_text(b, p, width);
	free(p);
}

/* The watched process of the word s, or NULL after the reply says why. */
static const struct watched *watched_of(const struct judged *j, const char *s, struct buf *reply)
{
	const struct watched *w;
	char *end;
	long pid = strtol(s, &end, 10);

	if (*end || end == s || pid <= 0 || pid > INT32_MAX) {
		buf_printf(reply, "ERR not a pid: %.40s\n", s);
		return NULL;
	}
	w = judged_find(j, (pid_t)pid);
	if (!w)
		buf_printf(reply, "ERR pid %ld is not watched\n", pid);
	return w;
}

/* The mask of the metric word s (NULL: all), or 0 after the reply says why. */
static unsigned metric_of(const char *s, struct buf *reply)
{
	if (!s)
		return (1u << METRIC_COUNT) - 1;
	for (int i = 0; i < METRIC_COUNT; i++)
		if (strcmp(s, metric_name((enum metric)i)) == 0)
			return 1u << i;
	buf_printf(reply, "ERR unknown metric: %.20s (rss, fds, threads, uss or pss)\n", s);
	return 0;
}

bool report_plot_answer(const struct judged *j, const char *request, struct buf *reply)
{
	char copy[256], *tok[6], *save = NULL, *end;
	const struct watched *w;
	size_t n = 0;
	unsigned metrics;
	long width = 0;

	if (strlen(request) >= sizeof(copy))
		return false;
	snprintf(copy, sizeof(copy), "%s", request);
	for (char *t = strtok_r(copy, " \t", &save); t && n < 6; t = strtok_r(NULL, " \t", &save))
		tok[n++] = t;
	if (n == 3 && strcmp(tok[0], "history") == 0 && strcmp(tok[2], "csv") == 0) {
		if ((w = watched_of(j, tok[1], reply))) {
			buf_puts(reply, "OK\n");
			report_history_csv(reply, j, w);
		}
		return true;
	}
	if (n == 0 || strcmp(tok[0], "plot") != 0)
		return false;
	if (n >= 4 && n <= 5 && strcmp(tok[2], "text") == 0) {
		width = strtol(tok[3], &end, 10);
		if (*end || end == tok[3] || width < 1 || width > 9999)
			goto bad;
	} else if (!(n >= 3 && n <= 4 && strcmp(tok[2], "svg") == 0)) {
		goto bad;
	}
	if (!(w = watched_of(j, tok[1], reply)) ||
	    !(metrics = metric_of(n == (width ? 5u : 4u) ? tok[n - 1] : NULL, reply)))
		return true;
	if (!(metrics & watched_metrics(w))) {
		buf_printf(reply, "ERR pid %d has no %s: its watch judges neither uss nor pss\n", (int)w->pid,
			   tok[n - 1]);
		return true;
	}
	buf_puts(reply, "OK\n");
	if (width)
		report_plot_text(reply, j, w, metrics, (unsigned)width);
	else
		report_plot_svg(reply, j, w, metrics);
	return true;
bad:
	buf_printf(reply, "ERR unknown request: %.60s\n", request);
	return true;
}
