/* Events: what the daemon tells the operator (leakwatchd(8) EVENTS).  The model
 * and its human line are here, pure; core/event_format.c renders an event
 * for each sink (a console line, a JSON line, journal fields), and
 * io/event_sink.c sends it.  io/log.h says what is an event and what is a
 * log line.
 *
 * Every event about a watch or a process is built from one subject (watch,
 * pid, comm, title: event_about()), and its human line always starts with
 * that subject the same way ("api: pid 4242 (gunicorn) \"gunicorn: worker
 * [api]\": ..."): the modules say only what is particular to the event
 * (event_say()), so no module formats the prefix by hand, and a consumer
 * can cut the line at the same place whatever sent it (a title holds no
 * '"': core/proc_title.h). */
#ifndef LEAKWATCH_EVENT_H
#define LEAKWATCH_EVENT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum event_type {
	EVENT_START, EVENT_FOUND, EVENT_GONE, EVENT_LEAK, EVENT_LIMIT,
	EVENT_ACTION, EVENT_RELOAD, EVENT_ERROR, EVENT_INSPECT, EVENT_TYPE_COUNT,
};

/* What an event is about.  All NULL/0: the daemon itself. */
struct subject {
	const char *watch;       /* NULL when not about a watch */
	pid_t pid;               /* 0 when not about a process */
	const char *comm;        /* the process's comm, when pid */
	const char *title;       /* its title (core/proc_title.h); NULL or "": none */
};

struct event {
	enum event_type type;
	uint64_t ts_usec;        /* wall clock, CLOCK_REALTIME */
	const char *watch;       /* the subject (event_about()) */
	pid_t pid;
	const char *comm;
	const char *title;       /* NULL when none, or the same as comm */
	bool group;              /* about the watch's group: "group": true, no pid */
	unsigned processes;      /* when group: the processes summed */
	int metric;              /* enum metric, or -1 */
	bool has_value;
	double value;            /* bytes for rss, else a count */
	bool has_slope;
	double slope_per_hour;
	bool has_limit;
	double limit;
	const char *limit_of;    /* what a percentage limit is of ("90% of its
				  * RLIMIT_NOFILE", core/limit_text.h), said after
				  * it; NULL or "": the limit says all */
	double eta_seconds;      /* < 0: none */
	const char *action;
	const char *result;
	const char *unit;
	long watches;            /* for start: the number of watches; < 0: none */
	const char *incident;    /* the incident directory captured for it, or NULL */
	const char *top_type;    /* inspect: the type that grew most, or NULL */
	const char *top_site;    /* inspect: the allocation site that grew most (FILE:LINE), or NULL */
	bool warning;            /* an error event that loses nothing: priority warning */
	char detail[448];        /* what the event says beyond its fields (event_say()); "" none */
	char message[600];       /* the human line, filled by event_describe() */
};

const char *event_name(enum event_type t);       /* "start", "leak", ... */
const char *event_message_id(enum event_type t); /* 32 hex digits */
int event_priority(const struct event *e);       /* syslog priority */

/* A zeroed event of a type, with no optional field set. */
void event_init(struct event *e, enum event_type t, uint64_t ts_usec);

/* Set the subject: the strings must outlive the event. */
void event_about(struct event *e, const struct subject *s);

/* The subject is watch's group, the sum over its processes (N of them):
 * "WATCH: group of N processes". */
void event_about_group(struct event *e, const char *watch, unsigned processes);

/* What the event says beyond its type and fields, printf-style.  The human
 * line is then "SUBJECT: TEXT", where SUBJECT is "WATCH: pid PID (COMM) \"TITLE\"",
 * "WATCH: group of N processes", "WATCH", or nothing (about the daemon); for an action event it is
 * "SUBJECT: action ACTION: RESULT: TEXT".  Without it, each type has its
 * own text from the fields ("watching", "rss leak: ..."). */
void event_say(struct event *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void event_vsay(struct event *e, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* "WATCH: pid PID (COMM) \"TITLE\"" (or "WATCH", or "") into buf: the
 * subject as every human line shows it.  The title is left out when there
 * is none or it says no more than comm. */
void subject_format(const struct subject *s, char *buf, size_t len);

/* Write the human line into e->message, from the subject, the detail and
 * the fields. */
void event_describe(struct event *e);

#endif
