/* How the daemon's helpers (persist, export, visibility) say something to
 * the operator.  io/log.h's rule keeps logging at the top of the program,
 * and events must be counted in leakwatch_events_total on their way out,
 * which only main.c can do; a helper that called log_*() or built events
 * itself would break both.  So a helper says what kind of thing it tells
 * (an error event, a warning, a log line) and the text, through the sink
 * main.c gave it, and main.c turns it into an event or a log line.  The
 * cost is one formatting into a buffer on the way. */
#ifndef LEAKWATCH_NOTICE_H
#define LEAKWATCH_NOTICE_H

#include "core/event.h"

enum notice_kind {
	NOTICE_ERROR,       /* an error event: data is lost, or the operator is needed */
	NOTICE_WARNING,     /* an error event with warning set: nothing is lost yet */
	NOTICE_LOG_INFO,    /* a log line at info: a recovery, where metrics are served */
	NOTICE_LOG_WARN,    /* a log line at warning */
};

/* about: what an event is about, NULL for the daemon itself (log lines
 * have none).  text: the event's detail (event_say()) or the log line. */
typedef void (*notice_fn)(void *ctx, enum notice_kind kind, const struct subject *about, const char *text);

struct notice_sink {
	notice_fn fn;
	void *ctx;
};

/* Format the text printf-style and hand it to the sink. */
void notice(const struct notice_sink *s, enum notice_kind kind, const struct subject *about, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
