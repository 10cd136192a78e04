/* What leakwatchctl shows: the daemon's view of its watched processes,
 * rendered from the judged set (core/judge.h) as JSON (leakwatchctl(1),
 * "status --json") or as a table that fits 80 columns, or the client's
 * terminal when it is wider.  Pure formatting: no I/O. */
#ifndef LEAKWATCH_REPORT_H
#define LEAKWATCH_REPORT_H

#include <stdint.h>

#include "core/buf.h"
#include "core/judge.h"
#include "core/report_cells.h"   /* REPORT_WIDTH, REPORT_NAME_MAX */

#define SPARK_CELLS     8

/* One line: "watching N processes with M watches: L leaking, K over a
 * limit", and ", U partly unreadable" when some metric of U of them cannot
 * be read. */
void report_summary(const struct judged *j, char *out, size_t len);

/* Every watched process as a JSON array, an object each (leakwatchctl(1)
 * status --json), by watch, then pid. */
void report_status_json(struct buf *b, const struct judged *j);
/* The table in width columns (less than 80 counts as 80): the summary
 * line, a line per watch (core/watch_summary.h), then the processes' rows,
 * the WATCH column as wide as the longest watched name, from 10 to what
 * width leaves (a longer name clipped, ending in '~'); every line fits. */
void report_status_table(struct buf *b, const struct judged *j, unsigned width);

/* The same, of the processes f keeps (core/status_filter.h); the table's
 * watch lines are f's watch's alone when it names one, every watch's
 * otherwise, counting all their processes whatever f's verdict. */
struct status_filter;
void report_status_json_of(struct buf *b, const struct judged *j, const struct status_filter *f);
void report_status_table_of(struct buf *b, const struct judged *j, unsigned width, const struct status_filter *f);

/* SPARK_CELLS block characters for a metric's window (its series s in
 * its process's timeline tl, UTF-8), into out (at least 3 * SPARK_CELLS + 1
 * bytes); cells without samples are spaces. */
void report_sparkline(const struct timeline *tl, const struct series *s, char *out, size_t len);

/* Answer one control request ("status [FILTER...] [json|table [WIDTH]]",
 * "history PID [json|table]"; WIDTH the client's terminal columns, 1 to
 * 9999, 80 when not given; the FILTERs "watch NAME", "verdict V" and
 * "watches", core/status_filter.h): the reply starts with a line "OK" or
 * "ERR MESSAGE". */
void report_answer(const struct judged *j, const char *request, struct buf *reply);

#endif
