/* One formatter per sink: an event as the console line, as a JSON line
 * and as the journal's fields.  They are the only renderers of an event,
 * so the three sinks cannot drift apart (the same message, the same
 * rounding of numbers, the same field set), and they are pure: the tests
 * read exactly what each sink is handed, and io/event_sink.c only ships
 * it.
 *
 * Hostile text: comm, watch names and messages end up in all three.  The
 * JSON writer (core/buf.h) makes any byte string valid UTF-8 JSON (U+FFFD
 * for what is not UTF-8); the journal takes fields as they are (binary
 * safe, one iovec each, so a newline cannot start a field of its own);
 * the console line has its control characters escaped (buf_line_text), so
 * a newline in a comm cannot start a forged line of its own.
 * Costs: one allocation per rendered event (struct buf); events are rare. */
#include "core/event_format.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "core/units.h"

void event_format_console(const struct event *e, bool stamp, struct buf *out)
{
	if (stamp) {
		char ts[40];

		format_rfc3339(e->ts_usec, ts, sizeof(ts));
		buf_printf(out, "%s ", ts);
	}
	buf_printf(out, "leakwatchd: %s: ", event_name(e->type));
	buf_line_text(out, e->message);
	buf_puts(out, "\n");
}

static void json_string(struct buf *b, const char *key, const char *s)
{
	buf_printf(b, ",\"%s\":", key);
	buf_json_string(b, s);
}

/* Numbers rounded to whole units, as leakwatchd(8) EVENTS has them. */
static void json_number(struct buf *b, const char *key, double v)
{
	buf_printf(b, ",\"%s\":", key);
	buf_json_number(b, round(v));
}

void event_format_json(const struct event *e, struct buf *out)
{
	char ts[40];

	format_rfc3339(e->ts_usec, ts, sizeof(ts));
	buf_printf(out, "{\"ts\":\"%s\",\"event\":\"%s\"", ts, event_name(e->type));
	if (e->watch)
		json_string(out, "watch", e->watch);
	if (e->pid)
		buf_printf(out, ",\"pid\":%d", (int)e->pid);
	if (e->comm)
		json_string(out, "comm", e->comm);
	if (e->title)
		json_string(out, "title", e->title);
	if (e->group)
		buf_printf(out, ",\"group\":true,\"processes\":%u", e->processes);
	if (e->metric >= 0)
		json_string(out, "metric", metric_name((enum metric)e->metric));
	if (e->has_value)
		json_number(out, "value", e->value);
	if (e->has_slope)
		json_number(out, "slope_per_hour", e->slope_per_hour);
	if (e->has_limit)
		json_number(out, "limit", e->limit);
	if (e->eta_seconds >= 0)
		json_number(out, "eta_seconds", e->eta_seconds);
	if (e->action)
		json_string(out, "action", e->action);
	if (e->result)
		json_string(out, "result", e->result);
	if (e->unit)
		json_string(out, "unit", e->unit);
	if (e->watches >= 0)
		buf_printf(out, ",\"watches\":%ld", e->watches);
	if (e->incident)
		json_string(out, "incident", e->incident);
	if (e->top_type)
		json_string(out, "top_type", e->top_type);
	if (e->top_site)
		json_string(out, "top_site", e->top_site);
	json_string(out, "message", e->message);
	buf_puts(out, "}");
}

static void field(struct journal_fields *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void field(struct journal_fields *f, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (f->n >= JOURNAL_MAX_FIELDS)
		return;
	va_start(ap, fmt);
	len = vsnprintf(f->text[f->n], sizeof(f->text[0]), fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(f->text[0]))
		len = sizeof(f->text[0]) - 1;
	f->iov[f->n].iov_base = f->text[f->n];
	f->iov[f->n].iov_len = (size_t)len;
	f->n++;
}

void event_format_journal(const struct event *e, struct journal_fields *f)
{
	f->n = 0;
	field(f, "MESSAGE=%s", e->message);
	field(f, "PRIORITY=%d", event_priority(e));
	field(f, "MESSAGE_ID=%s", event_message_id(e->type));
	field(f, "SYSLOG_IDENTIFIER=leakwatchd");
	field(f, "LEAKWATCH_EVENT=%s", event_name(e->type));
	if (e->pid)
		field(f, "OBJECT_PID=%d", (int)e->pid);
	if (e->watch)
		field(f, "LEAKWATCH_WATCH=%s", e->watch);
	if (e->pid && e->comm)
		field(f, "LEAKWATCH_COMM=%s", e->comm);
	if (e->title)
		field(f, "LEAKWATCH_TITLE=%s", e->title);
	if (e->group) {
		field(f, "LEAKWATCH_GROUP=1");
		field(f, "LEAKWATCH_PROCESSES=%u", e->processes);
	}
	if (e->metric >= 0)
		field(f, "LEAKWATCH_METRIC=%s", metric_name((enum metric)e->metric));
	if (e->has_value)
		field(f, "LEAKWATCH_VALUE=%.0f", round(e->value));
	if (e->has_slope)
		field(f, "LEAKWATCH_SLOPE_PER_HOUR=%.0f", round(e->slope_per_hour));
	if (e->has_limit)
		field(f, "LEAKWATCH_LIMIT=%.0f", round(e->limit));
	if (e->eta_seconds >= 0)
		field(f, "LEAKWATCH_ETA_SEC=%.0f", round(e->eta_seconds));
	if (e->action)
		field(f, "LEAKWATCH_ACTION=%s", e->action);
	if (e->result)
		field(f, "LEAKWATCH_RESULT=%s", e->result);
	if (e->unit)
		field(f, "LEAKWATCH_UNIT=%s", e->unit);
	if (e->watches >= 0)
		field(f, "LEAKWATCH_WATCHES=%ld", e->watches);
	if (e->incident)
		field(f, "LEAKWATCH_INCIDENT=%s", e->incident);
	if (e->top_type)
		field(f, "LEAKWATCH_TOP_TYPE=%s", e->top_type);
	if (e->top_site)
		field(f, "LEAKWATCH_TOP_SITE=%s", e->top_site);
}
