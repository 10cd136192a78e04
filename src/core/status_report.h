/* What leakwatchctl shows: the daemon's view of its watched processes,
 * rendered from the judged set (core/judge.h) as JSON (leakwatchctl(1), "status --json") or as a table
 * that fits 80 columns.  Pure formatting: no I/O. */
#ifndef LEAKWATCH_REPORT_H
#define LEAKWATCH_REPORT_H

#include <stdint.h>

#include "core/buf.h"
#include "core/judge.h"

#define REPORT_WIDTH 80
#define SPARK_CELLS  8

/* One line: "watching N processes with M watches: L leaking, K over a
 * limit", and ", U partly unreadable" when some metric of U of them cannot
 * be read. */
void report_summary(const struct judged *j, char *out, size_t len);

void report_status_json(struct buf *b, const struct judged *j);
void report_status_table(struct buf *b, const struct judged *j);

/* SPARK_CELLS block characters for a metric's window (its series s in
 * its process's timeline tl, UTF-8), into out (at least 3 * SPARK_CELLS + 1
 * bytes); cells without samples are spaces. */
void report_sparkline(const struct timeline *tl, const struct series *s, char *out, size_t len);

/* Answer one control request ("status [json|table]", "history PID
 * [json|table]"): the reply starts with a line "OK" or "ERR MESSAGE". */
void report_answer(const struct judged *j, const char *request, struct buf *reply);

#endif
