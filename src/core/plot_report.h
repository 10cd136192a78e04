/* The plots and the CSV history as the daemon answers for them on its
 * control socket (leakwatchctl(1) plot, history --csv), and the plot that
 * a capture writes (daemon/persist.c).  Requests:
 *   plot PID svg [METRIC]         the SVG (core/plot_svg.h)
 *   plot PID text WIDTH [METRIC]  the terminal chart (core/plot_text.h)
 *   history PID csv               core/history_report.h's CSV
 * METRIC: rss, fds, threads, uss or pss (default: all the process keeps).  The reply starts with
 * a line "OK" or "ERR MESSAGE", as report_answer()'s.  Pure: no I/O. */
#ifndef LEAKWATCH_PLOT_REPORT_H
#define LEAKWATCH_PLOT_REPORT_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/judge.h"

/* The SVG of w's metrics in the mask (1u << METRIC_*; 0: all) onto b. */
void report_plot_svg(struct buf *b, const struct judged *j, const struct watched *w, unsigned metrics);

/* The terminal chart of the same, width columns. */
void report_plot_text(struct buf *b, const struct judged *j, const struct watched *w, unsigned metrics,
		      unsigned width);

/* Answer request onto reply when it is one of the above: true; false, and
 * reply untouched, for any other (report_answer's). */
bool report_plot_answer(const struct judged *j, const char *request, struct buf *reply);

#endif
