/* An event rendered for each sink (see event_format.c). */
#ifndef LEAKWATCH_EVENT_FORMAT_H
#define LEAKWATCH_EVENT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/buf.h"
#include "core/event.h"

/* "leakwatchd: TYPE: MESSAGE\n": the console, and the stderr fallback;
 * with stamp, after the event's time, RFC 3339 UTC with milliseconds and
 * a space ("2026-11-24T05:00:00.123Z leakwatchd: leak: ..."). */
void event_format_console(const struct event *e, bool stamp, struct buf *out);

/* One JSON object, no newline, with the keys of leakwatchd(8) EVENTS. */
void event_format_json(const struct event *e, struct buf *out);

/* The journal's fields (MESSAGE=, PRIORITY=, MESSAGE_ID=, LEAKWATCH_*),
 * ready for sd_journal_sendv; each field is cut at 639 bytes. */
#define JOURNAL_MAX_FIELDS 24
struct journal_fields {
	struct iovec iov[JOURNAL_MAX_FIELDS];
	char text[JOURNAL_MAX_FIELDS][640];
	int n;
};
void event_format_journal(const struct event *e, struct journal_fields *f);

#endif
