#include "core/event.h"

#include <errno.h>
#include <math.h>
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

/* A metric's amount, human: sizes for rss, counts for the others. */
static void amount(char *buf, size_t len, int metric, double v)
{
	if (metric == METRIC_RSS)
		format_size(buf, (unsigned)len, v);
	else
		snprintf(buf, len, "%.0f", v);
}

static void rate(char *buf, size_t len, int metric, double per_hour)
{
	char a[32];

	if (metric == METRIC_RSS) {
		format_size(a, sizeof(a), fabs(per_hour));
		snprintf(buf, len, "%s%s/h", per_hour < 0 ? "-" : "", a);
	} else {
		snprintf(buf, len, "%.1f/h", per_hour);
	}
}

void event_describe(struct event *e)
{
	char who[96] = "", val[32] = "", lim[32] = "", slope[40] = "", eta[32] = "";
	const char *metric = e->metric >= 0 ? metric_name((enum metric)e->metric) : "";
	size_t len = sizeof(e->message);

	if (e->message[0])
		return;
	if (e->pid)
		snprintf(who, sizeof(who), "%s: pid %d (%s)", e->watch ? e->watch : "?", (int)e->pid,
			 e->comm ? e->comm : "?");
	else if (e->watch)
		snprintf(who, sizeof(who), "%s", e->watch);
	if (e->has_value)
		amount(val, sizeof(val), e->metric, e->value);
	if (e->has_limit)
		amount(lim, sizeof(lim), e->metric, e->limit);
	if (e->has_slope)
		rate(slope, sizeof(slope), e->metric, e->slope_per_hour);
	if (e->eta_seconds >= 0)
		format_duration(eta, sizeof(eta), e->eta_seconds);

	switch (e->type) {
	case EVENT_START:
		snprintf(e->message, len, "leakwatchd started with %ld watch%s", e->watches,
			 e->watches == 1 ? "" : "es");
		break;
	case EVENT_FOUND:
		snprintf(e->message, len, "%s: watching", who);
		break;
	case EVENT_GONE:
		snprintf(e->message, len, "%s: exited", who);
		break;
	case EVENT_LEAK:
		if (e->has_limit && e->eta_seconds >= 0)
			snprintf(e->message, len, "%s: %s leak: %s, growing %s, reaches max %s in %s",
				 who, metric, val, slope, lim, eta);
		else
			snprintf(e->message, len, "%s: %s leak: %s, growing %s", who, metric, val, slope);
		break;
	case EVENT_LIMIT:
		snprintf(e->message, len, "%s: %s over limit: %s > max %s", who, metric, val, lim);
		break;
	case EVENT_ACTION:
		snprintf(e->message, len, "%s: action %s: %s", who, e->action ? e->action : "?",
			 e->result ? e->result : "?");
		break;
	case EVENT_RELOAD:
		snprintf(e->message, len, "configuration reload: %s", e->result ? e->result : "?");
		break;
	default:
		snprintf(e->message, len, "%s: error", who[0] ? who : "leakwatchd");
		break;
	}
}

void format_rfc3339(uint64_t usec, char *buf, size_t len)
{
	time_t secs = (time_t)(usec / 1000000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(usec / 1000 % 1000));
}

struct out {
	char *buf;
	size_t len, pos;
	bool overflow;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->pos)
		o->overflow = true;
	else
		o->pos += (size_t)n;
}

static void put_string(struct out *o, const char *key, const char *s)
{
	put(o, ",\"%s\":\"", key);
	for (; *s && !o->overflow; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			put(o, "\\%c", c);
		else if (c < 0x20)
			put(o, "\\u%04x", c);
		else
			put(o, "%c", c);
	}
	put(o, "\"");
}

/* Numbers: integers where the value is whole, else 3 decimals. */
static void put_number(struct out *o, const char *key, double v)
{
	if (!isfinite(v))
		put(o, ",\"%s\":null", key);
	else if (fabs(v) < 9e15 && v == floor(v))
		put(o, ",\"%s\":%.0f", key, v);
	else
		put(o, ",\"%s\":%.3f", key, v);
}

int event_format_json(const struct event *e, char *buf, size_t len)
{
	struct out o = { buf, len, 0, false };
	char ts[40];

	format_rfc3339(e->ts_usec, ts, sizeof(ts));
	put(&o, "{\"ts\":\"%s\",\"event\":\"%s\"", ts, event_name(e->type));
	if (e->watch)
		put_string(&o, "watch", e->watch);
	if (e->pid)
		put(&o, ",\"pid\":%d", (int)e->pid);
	if (e->comm)
		put_string(&o, "comm", e->comm);
	if (e->metric >= 0)
		put_string(&o, "metric", metric_name((enum metric)e->metric));
	if (e->has_value)
		put_number(&o, "value", round(e->value));
	if (e->has_slope)
		put_number(&o, "slope_per_hour", round(e->slope_per_hour));
	if (e->has_limit)
		put_number(&o, "limit", round(e->limit));
	if (e->eta_seconds >= 0)
		put_number(&o, "eta_seconds", round(e->eta_seconds));
	if (e->action)
		put_string(&o, "action", e->action);
	if (e->result)
		put_string(&o, "result", e->result);
	if (e->unit)
		put_string(&o, "unit", e->unit);
	if (e->watches >= 0)
		put(&o, ",\"watches\":%ld", e->watches);
	if (e->incident)
		put_string(&o, "incident", e->incident);
	put_string(&o, "message", e->message);
	put(&o, "}");
	return o.overflow ? -ENOSPC : (int)o.pos;
}

int log_target_parse(const char *s, enum log_target *t)
{
	static const char *const names[] = { "auto", "journal", "console", "json" };

	for (unsigned i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*t = (enum log_target)i;
			return 0;
		}
	return -EINVAL;
}
