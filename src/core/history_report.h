/* The history of one watched process, as leakwatchctl shows it: every
 * bucket the daemon holds, oldest first, as JSON (leakwatchctl(1),
 * "history --json") or as an 80-column table, its title under the first
 * line.  Pure formatting: no I/O. */
#ifndef LEAKWATCH_HISTORY_REPORT_H
#define LEAKWATCH_HISTORY_REPORT_H

#include "core/buf.h"
#include "core/judge.h"

void report_history_json(struct buf *b, const struct judged *j, const struct watched *w);
void report_history_table(struct buf *b, const struct judged *j, const struct watched *w);

#endif
