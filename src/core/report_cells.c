/* The shared cells of the reports (see report_cells.h).  Kept apart so
 * that the status (status_report.c) and the history (history_report.c)
 * print a value, a rate or a title the same way, and neither file carries
 * the other's renderers.  No allocation; each call formats one cell. */
#include "core/report_cells.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/units.h"

/* Is this metric of w one the daemon may not read? */
bool report_unreadable(const struct watched *w, int i)
{
	return (w->unreadable & (1u << i)) != 0;
}

uint64_t report_wall_usec(const struct judged *j, uint64_t boot_ms)
{
	int64_t delta_us = ((int64_t)j->now_ms - (int64_t)boot_ms) * 1000;

	return (uint64_t)((int64_t)j->wall_usec - delta_us);
}

/* ", \"title\": ..." : the title as last read, null when it has none. */
void report_title_json(struct buf *b, const struct watched *w)
{
	buf_puts(b, ", \"title\": ");
	if (w->title[0])
		buf_json_string(b, w->title);
	else
		buf_puts(b, "null");
}

/* Whether the table shows w's title: it has one that says more than comm. */
bool report_title_shown(const struct watched *w)
{
	return w->title[0] && strcmp(w->title, w->comm) != 0;
}

/* Amounts as the events say them (core/units.h), which fit 7 columns:
 * "175M", "47.5M", "1.2G", "4096". */
void report_amount(char *out, size_t len, int metric, double v)
{
	if (metric_is_memory(metric))
		format_size(out, (unsigned)len, v);
	else
		format_count(out, (unsigned)len, v);
}

/* The same signed, per hour ("+1.8G", "-3", "+7200"); a slow count per day
 * ("+5/d"); "0" for what rounds to nothing. */
void report_rate(char *out, size_t len, int metric, double per_hour)
{
	char a[32];

	if (metric_is_memory(metric))
		format_size(a, sizeof(a), per_hour);
	else
		format_count_rate(a, sizeof(a), per_hour, "");
	if (fabs(per_hour) < 0.05 || strcmp(a, "0") == 0 || strcmp(a, "0B") == 0)
		snprintf(out, len, "0");
	else
		snprintf(out, len, "%s%s", per_hour > 0 ? "+" : "", a);
}

void report_eta(char *out, size_t len, double s)
{
	if (s < 0)
		snprintf(out, len, "-");
	else if (s < 1)
		snprintf(out, len, "now");
	else if (s < 100)
		snprintf(out, len, "%.0fs", s);
	else if (s < 100 * 60)
		snprintf(out, len, "%.0fm", s / 60);
	else if (s < 48 * 3600)
		snprintf(out, len, "%.0fh", s / 3600);
	else if (s < 999 * 86400)
		snprintf(out, len, "%.0fd", s / 86400);
	else
		snprintf(out, len, ">999d");
}

/* Printable, at most `width` columns; a longer text ends in '~'. */
void report_clip(char *out, const char *s, size_t width)
{
	size_t i;

	for (i = 0; s[i] && i < width; i++)
		out[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ? '?' : s[i];
	if (s[i] && width > 0)
		out[width - 1] = '~';
	out[i] = '\0';
}
