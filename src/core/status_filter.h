/* What a status request asks to see (leakwatchctl(1) status --watch NAME,
 * --verdict V, --watches): the words of the request between "status" and
 * its format, read against the configuration in force, and whether a
 * watched process passes them.  Pure: no I/O. */
#ifndef LEAKWATCH_STATUS_FILTER_H
#define LEAKWATCH_STATUS_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/judge.h"

/* A status verdict: enum verdict's four (core/detect.h), and this one for
 * a metric the daemon may not read. */
#define STATUS_UNREADABLE 4
#define STATUS_VERDICTS   5

struct status_filter {
	long watch;      /* the index of the one watch asked for; -1: every watch */
	int verdict;     /* a status verdict; -1: any */
	bool watches;    /* the per-watch summary, not the processes */
};

/* The status verdict named s ("warming", "ok", "leak", "limit",
 * "unreadable"), or -1; and the name of one ("?" for none). */
int status_verdict_parse(const char *s);
const char *status_verdict_name(int v);

/* The verdict the status shows for metric i of w: a status verdict. */
int status_metric_verdict(const struct judged *j, const struct watched *w, int i);

/* Read words[0..n) into *f: "watch NAME", "verdict V" and "watches", in
 * any order, each at most once.  Returns 0; -EINVAL for a word that is
 * none of these, one given twice, or one without its value (the request
 * is unknown: nothing written); -ENOENT when no watch of j's configuration
 * has that name, -EDOM for a word that is no verdict, each with its
 * "ERR ..." line written into reply. */
int status_filter_parse(const struct judged *j, char *const *words, size_t n, struct status_filter *f,
			struct buf *reply);

/* Does w pass f: of the watch asked for, and with at least one metric at
 * the verdict asked for? */
bool status_filter_keeps(const struct judged *j, const struct status_filter *f, const struct watched *w);

#endif
