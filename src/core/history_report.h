/* The history of one watched process, as leakwatchctl shows it: every
 * bucket the daemon holds, oldest first, as JSON (leakwatchctl(1),
 * "history --json"), as CSV ("history --csv") or as an 80-column table,
 * its title under the first line.  Pure formatting: no I/O. */
#ifndef LEAKWATCH_HISTORY_REPORT_H
#define LEAKWATCH_HISTORY_REPORT_H

#include "core/buf.h"
#include "core/judge.h"

void report_history_json(struct buf *b, const struct judged *j, const struct watched *w);
void report_history_table(struct buf *b, const struct judged *j, const struct watched *w);

/* The same buckets as CSV (RFC 4180: CRLF line ends, a header row): time
 * (RFC 3339 UTC), samples, rss_mean, rss_min, rss_max (bytes), fds,
 * threads (means), and the metrics whose leak and limit episodes the
 * bucket saw ("rss", "rss fds", empty for none); an unreadable metric's
 * fields are empty.  No field needs quoting. */
void report_history_csv(struct buf *b, const struct judged *j, const struct watched *w);

#endif
