/* Events: what the daemon tells the operator (SPEC "Events").  Building and
 * formatting are pure (event.c); sending them to the journal is in
 * journal.c.  Actions (next issue) report through the same struct. */
#ifndef LEAKWATCH_EVENT_H
#define LEAKWATCH_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum event_type {
	EVENT_START, EVENT_FOUND, EVENT_GONE, EVENT_LEAK, EVENT_LIMIT,
	EVENT_ACTION, EVENT_RELOAD, EVENT_ERROR, EVENT_TYPE_COUNT,
};

struct event {
	enum event_type type;
	uint64_t ts_usec;        /* wall clock, CLOCK_REALTIME */
	const char *watch;       /* NULL when not about a watch */
	pid_t pid;               /* 0 when not about a process */
	const char *comm;
	int metric;              /* enum metric, or -1 */
	bool has_value;
	double value;            /* bytes for rss, else a count */
	bool has_slope;
	double slope_per_hour;
	bool has_limit;
	double limit;
	double eta_seconds;      /* < 0: none */
	const char *action;
	const char *result;
	const char *unit;
	long watches;            /* for start: the number of watches; < 0: none */
	const char *incident;    /* the incident directory captured for it, or NULL */
	bool warning;            /* an error event that loses nothing: priority warning */
	char message[512];       /* the human line, filled by event_describe() */
};

const char *event_name(enum event_type t);       /* "start", "leak", ... */
const char *event_message_id(enum event_type t); /* 32 hex digits */
int event_priority(const struct event *e);       /* syslog priority */

/* A zeroed event of a type, with no optional field set. */
void event_init(struct event *e, enum event_type t, uint64_t ts_usec);

/* Write the human line into e->message (from the fields, unless the
 * caller already put a message there). */
void event_describe(struct event *e);

/* One JSON object (no newline) per SPEC's keys.  Returns the length, or
 * -ENOSPC when buf is too small. */
int event_format_json(const struct event *e, char *buf, size_t len);

/* RFC 3339 UTC time with milliseconds: "2026-11-24T05:00:00.123Z". */
void format_rfc3339(uint64_t usec, char *buf, size_t len);

enum log_target { TARGET_AUTO, TARGET_JOURNAL, TARGET_CONSOLE, TARGET_JSON };

int log_target_parse(const char *s, enum log_target *t);
enum log_target log_target_resolve(enum log_target t);   /* auto -> journal or console */

/* Send one event to the target (journal.c). */
int event_emit(enum log_target t, const struct event *e);

#endif
