/* The Prometheus text format's writers (exposition format 0.0.4): a
 * family's HELP and TYPE lines, a sample's name, labels and value.
 * Shared by the process and watch series (core/prometheus.c) and the
 * groups' (core/prometheus_group.c), so that every series is escaped and
 * every number written (NaN, +Inf, integers exactly) one way. */
#ifndef LEAKWATCH_PROMETHEUS_TEXT_H
#define LEAKWATCH_PROMETHEUS_TEXT_H

#include <stdbool.h>

#include "core/buf.h"

/* A sample being written: its name, then its labels as they come. */
struct line {
	struct buf *b;
	bool open;                 /* the '{' is written */
};

/* Start a sample of family name on b. */
struct line prom_line_start(struct buf *b, const char *name);

/* A label: its value valid UTF-8, backslash, double quote and newline
 * escaped.  An empty or NULL value is no label: Prometheus reads the two
 * alike, and a series about no watch carries no watch label. */
void prom_label(struct line *s, const char *name, const char *v);

/* End the sample with its value: an integer exactly below 9e15, NaN,
 * +Inf and -Inf as the format spells them, else 9 digits. */
void prom_value(struct line *s, double v);

/* A family's HELP and TYPE lines. */
void prom_family(struct buf *b, const char *name, const char *type, const char *help);

/* A series of one watch: name{watch=...}, and metric=... unless m < 0. */
struct line prom_watch_series(struct buf *b, const char *name, const char *watch, int m);

#endif
