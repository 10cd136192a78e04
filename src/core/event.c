/* The event model's pure half (see event.h): the type table, the
 * priorities and the human line.
 *
 * Names and MESSAGE_IDs are one table indexed by type.  The ids are the
 * keys of systemd/leakwatch.catalog and of whatever `journalctl
 * MESSAGE_ID=` filter an operator has written, so they must never change.
 * The priority follows from the type and, for action and reload, from
 * whether the result is "failed": a failed restart reaches `journalctl -p
 * err`, a successful one is a notice.
 *
 * event_describe() builds the line as event.h promises: the subject from
 * subject_format(), then the sender's detail (event_say()) or else the
 * type's own text from the fields, sizes and durations in units.h's
 * notation.  All of it is formatted into the event's fixed arrays (detail
 * 448 bytes, message 512): describing an event never allocates and cannot
 * fail, and a longer line is cut.  An error event with neither a subject
 * nor a detail is said to be leakwatchd's ("leakwatchd: error"). */
#include "core/event.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "core/config.h"
#include "core/units.h"

static const struct {
	const char *name;
	const char *id;
} types[EVENT_TYPE_COUNT] = {
	[EVENT_START]  = { "start",  "f9ae7d160aaa439086d08f7cb539bd47" },
	[EVENT_FOUND]  = { "found",  "a5d6d392bfbf4c909c5777d00848479e" },
	[EVENT_GONE]   = { "gone",   "b161f5565602425d8db76f10d7050e9d" },
	[EVENT_LEAK]   = { "leak",   "bb71edb945044073b919493c881bd48e" },
	[EVENT_LIMIT]  = { "limit",  "36b7adb49800478099eca7be97fdb16e" },
	[EVENT_ACTION] = { "action", "26db7260057b4e68991eb26d89f46c46" },
	[EVENT_RELOAD] = { "reload", "6746e292b4e04214b1ba0bd3326cc92c" },
	[EVENT_ERROR]  = { "error",  "6be51594b28b46f39d216c29b4501e37" },
	[EVENT_INSPECT] = { "inspect", "b2e5556ec90d4077aa459c02054370f0" },
};

const char *event_name(enum event_type t)
{
	return t < EVENT_TYPE_COUNT ? types[t].name : "?";
}

const char *event_message_id(enum event_type t)
{
	return t < EVENT_TYPE_COUNT ? types[t].id : NULL;
}

static bool failed(const struct event *e)
{
	return e->result && strcmp(e->result, "failed") == 0;
}

int event_priority(const struct event *e)
{
	switch (e->type) {
	case EVENT_LEAK:   return LOG_WARNING;
	case EVENT_LIMIT:  return LOG_ERR;
	case EVENT_ERROR:  return e->warning ? LOG_WARNING : LOG_ERR;
	case EVENT_ACTION: return failed(e) ? LOG_ERR : LOG_NOTICE;
	case EVENT_RELOAD: return failed(e) ? LOG_ERR : LOG_INFO;
	case EVENT_INSPECT: return failed(e) ? LOG_WARNING : LOG_NOTICE;
	default:           return LOG_INFO;
	}
}

void event_init(struct event *e, enum event_type t, uint64_t ts_usec)
{
	memset(e, 0, sizeof(*e));
	e->type = t;
	e->ts_usec = ts_usec;
	e->metric = -1;
	e->eta_seconds = -1;
	e->watches = -1;
}

/* A metric's amount, human, as the status table has it: sizes for rss
 * ("175M"), whole counts for the others ("48"). */
static void amount(char *buf, size_t len, int metric, double v)
{
	if (metric_is_memory(metric))
		format_size(buf, (unsigned)len, v);
	else
		format_count(buf, (unsigned)len, v);
}

/* Its rate: "50M/h", "7168/h", a slow count "5/d". */
static void rate(char *buf, size_t len, int metric, double per_hour)
{
	char a[32];

	if (metric_is_memory(metric)) {
		format_size(a, sizeof(a), per_hour);
		snprintf(buf, len, "%s/h", a);
	} else {
		format_count_rate(buf, (unsigned)len, per_hour, "/h");
	}
}

/* The title worth showing beside comm: NULL when there is none, or it is
 * comm itself (a process that never set one and runs without arguments). */
static const char *subject_title(const struct subject *s)
{
	if (!s->pid || !s->title || !s->title[0])
		return NULL;
	if (s->comm && strcmp(s->title, s->comm) == 0)
		return NULL;
	return s->title;
}

void event_about(struct event *e, const struct subject *s)
{
	e->watch = s->watch;
	e->pid = s->pid;
	e->comm = s->comm;
	e->title = subject_title(s);
}

void event_about_group(struct event *e, const char *watch, unsigned processes)
{
	e->watch = watch;
	e->pid = 0;
	e->comm = NULL;
	e->title = NULL;
	e->group = true;
	e->processes = processes;
}

void event_vsay(struct event *e, const char *fmt, va_list ap)
{
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
}

void event_say(struct event *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	event_vsay(e, fmt, ap);
	va_end(ap);
}

void subject_format(const struct subject *s, char *buf, size_t len)
{
	const char *title = subject_title(s);

	if (s->pid && title)
		snprintf(buf, len, "%s: pid %d (%s) \"%s\"", s->watch ? s->watch : "?", (int)s->pid,
			 s->comm ? s->comm : "?", title);
	else if (s->pid)
		snprintf(buf, len, "%s: pid %d (%s)", s->watch ? s->watch : "?", (int)s->pid,
			 s->comm ? s->comm : "?");
	else
		snprintf(buf, len, "%s", s->watch ? s->watch : "");
}

/* The type's own text, from the fields: what an event says when its
 * sender has nothing to add. */
static void default_text(const struct event *e, char *out, size_t len)
{
	char val[32] = "", lim[112] = "", slope[40] = "", eta[32] = "";
	const char *metric = e->metric >= 0 ? metric_name((enum metric)e->metric) : "";

	if (e->has_value)
		amount(val, sizeof(val), e->metric, e->value);
	if (e->has_limit)
		amount(lim, sizeof(lim), e->metric, e->limit);
	if (e->has_limit && e->limit_of && e->limit_of[0])
		snprintf(lim + strlen(lim), sizeof(lim) - strlen(lim), " (%s)", e->limit_of);
	if (e->has_slope)
		rate(slope, sizeof(slope), e->metric, e->slope_per_hour);
	if (e->eta_seconds >= 0)
		format_duration(eta, sizeof(eta), e->eta_seconds);

	switch (e->type) {
	case EVENT_START:
		snprintf(out, len, "leakwatchd started with %ld watch%s", e->watches, e->watches == 1 ? "" : "es");
		break;
	case EVENT_FOUND:
		snprintf(out, len, "watching");
		break;
	case EVENT_GONE:
		snprintf(out, len, "exited");
		break;
	case EVENT_LEAK:
		if (e->has_limit && e->eta_seconds >= 0)
			snprintf(out, len, "%s leak: %s, growing %s, reaches max %s in %s", metric, val, slope, lim, eta);
		else
			snprintf(out, len, "%s leak: %s, growing %s", metric, val, slope);
		break;
	case EVENT_LIMIT:
		snprintf(out, len, "%s over limit: %s > max %s", metric, val, lim);
		break;
	case EVENT_RELOAD:
		snprintf(out, len, "configuration reload: %s", e->result ? e->result : "?");
		break;
	case EVENT_INSPECT:
		snprintf(out, len, "inspection: %s", e->result ? e->result : "?");
		break;
	default:
		snprintf(out, len, "error");
		break;
	}
}

void event_describe(struct event *e)
{
	struct subject s = { e->watch, e->pid, e->comm, e->title };
	char who[192], text[sizeof(e->detail)];
	const char *sep;
	int n;

	if (e->group)
		snprintf(who, sizeof(who), "%s: group of %u process%s", e->watch ? e->watch : "?",
			 e->processes, e->processes == 1 ? "" : "es");
	else
		subject_format(&s, who, sizeof(who));
	if (!who[0] && e->type == EVENT_ERROR && !e->detail[0])
		snprintf(who, sizeof(who), "leakwatchd");
	sep = who[0] ? ": " : "";
	/* a line too long for message is cut there (n is the length it
	 * wanted) */
	if (e->type == EVENT_ACTION) {
		n = snprintf(e->message, sizeof(e->message), "%s%saction %s: %s%s%s", who, sep,
			     e->action ? e->action : "?", e->result ? e->result : "?",
			     e->detail[0] ? ": " : "", e->detail);
	} else {
		if (e->detail[0])
			memcpy(text, e->detail, sizeof(text));
		else
			default_text(e, text, sizeof(text));
		n = snprintf(e->message, sizeof(e->message), "%s%s%s", who, sep, text);
	}
	if (n < 0)
		e->message[0] = '\0';
}
