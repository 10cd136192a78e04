/* The cells and fields that the status and the history reports share
 * (core/status_report.c, core/history_report.c): compact amounts, rates
 * and times to a limit for 80-column tables, a clipped printable name, a
 * process's title as JSON and whether a table shows it, and the wall clock
 * of a boot-time instant.  Pure formatting. */
#ifndef LEAKWATCH_REPORT_CELLS_H
#define LEAKWATCH_REPORT_CELLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/judge.h"

#define REPORT_WIDTH    80   /* a table's width when the client gives none */
#define REPORT_NAME_MAX 64   /* the longest watch name (core/config.h) */

/* Is metric i of w one the daemon may not read (its history holds -1s)? */
bool report_unreadable(const struct watched *w, int i);

/* The wall clock time (µs) of a boot-time instant, by the current tick's pair. */
uint64_t report_wall_usec(const struct judged *j, uint64_t boot_ms);

/* ", \"title\": T" onto b: w's title as last read, null when it has none. */
void report_title_json(struct buf *b, const struct watched *w);

/* Whether a table shows w's title: it has one that says more than comm. */
bool report_title_shown(const struct watched *w);

/* A metric's value in at most 7 columns, as the events write it ("175M",
 * "47.5M", "1.2G", "4096": core/units.h); a rate per hour likewise, signed
 * ("+1.8G", "-3", "0"; a slow count per day, "+5/d"); seconds to a limit
 * ("33m", "now", "-" for none, ">999d"). */
void report_amount(char *out, size_t len, int metric, double v);
void report_rate(char *out, size_t len, int metric, double per_hour);
void report_eta(char *out, size_t len, double s);

/* s made printable ('?' for control and non-ASCII bytes), at most width
 * columns, a longer one ending in '~'; out holds width + 1 bytes. */
void report_clip(char *out, const char *s, size_t width);

#endif
