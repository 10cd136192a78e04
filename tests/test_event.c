/* Events: JSON lines with the keys of leakwatchd(8) EVENTS, escaping, human messages, ids. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/event.h"
#include "core/event_format.h"
#include "core/proc_title.h"
#include "io/event_sink.h"

/* 2026-11-24T05:00:00.123Z */
#define TS 1795496400123000ull

static void test_json_leak(void)
{
	struct event e;
	struct buf b = { 0 };

	event_init(&e, EVENT_LEAK, TS);
	e.watch = "api";
	e.pid = 4242;
	e.comm = "gunicorn";
	e.metric = METRIC_RSS;
	e.has_value = true;
	e.value = 183500800;
	e.has_slope = true;
	e.slope_per_hour = 52428800.4;
	e.has_limit = true;
	e.limit = 1073741824;
	e.eta_seconds = 61200.2;
	event_describe(&e);
	event_format_json(&e, &b);
	CHECK(buf_ok(&b) && b.len == strlen(b.data));
	CHECK_STR(b.data, "{\"ts\":\"2026-11-24T05:00:00.123Z\",\"event\":\"leak\",\"watch\":\"api\",\"pid\":4242,"
		       "\"comm\":\"gunicorn\",\"metric\":\"rss\",\"value\":183500800,\"slope_per_hour\":52428800,"
		       "\"limit\":1073741824,\"eta_seconds\":61200,"
		       "\"message\":\"api: pid 4242 (gunicorn): rss leak: 175MiB, growing 50MiB/h, reaches max 1GiB in 17h\"}");
	CHECK_STR(event_message_id(EVENT_LEAK), "bb71edb945044073b919493c881bd48e");
	CHECK(event_priority(&e) == 4);
	buf_reset(&b);
	event_format_console(&e, &b);
	CHECK_STR(b.data, "leakwatchd: leak: api: pid 4242 (gunicorn): rss leak: 175MiB, growing 50MiB/h, "
		  "reaches max 1GiB in 17h\n");
	buf_free(&b);
}

static void test_json_escape_and_optional(void)
{
	struct event e;
	struct buf b = { 0 };

	event_init(&e, EVENT_FOUND, TS);
	e.watch = "w";
	e.pid = 7;
	e.comm = "a\"b\\c\td";
	event_describe(&e);
	event_format_json(&e, &b);
	CHECK(strstr(b.data, "\"comm\":\"a\\\"b\\\\c\\u0009d\"") != NULL);
	CHECK(strstr(b.data, "metric") == NULL && strstr(b.data, "eta_seconds") == NULL &&
	      strstr(b.data, "slope") == NULL);

	/* bytes that are not UTF-8 come out as U+FFFD, whole characters as they are */
	event_init(&e, EVENT_FOUND, TS);
	e.watch = "w";
	e.pid = 7;
	e.comm = "py\xff\xc3\xa9\xe2\x82";
	event_describe(&e);
	buf_reset(&b);
	event_format_json(&e, &b);
	CHECK(strstr(b.data, "\"comm\":\"py\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\"") != NULL);

	/* a newline (or any control character) in comm cannot start a console line */
	event_init(&e, EVENT_FOUND, TS);
	e.watch = "w";
	e.pid = 7;
	e.comm = "a\n<0>x\t\x1b\x7f";
	event_describe(&e);
	buf_reset(&b);
	event_format_console(&e, &b);
	CHECK_STR(b.data, "leakwatchd: found: w: pid 7 (a\\n<0>x\\t\\x1b\\x7f): watching\n");

	event_init(&e, EVENT_START, TS);
	e.watches = 3;
	event_describe(&e);
	buf_reset(&b);
	event_format_json(&e, &b);
	CHECK_STR(b.data, "{\"ts\":\"2026-11-24T05:00:00.123Z\",\"event\":\"start\",\"watches\":3,"
		       "\"message\":\"leakwatchd started with 3 watches\"}");
	buf_free(&b);
}

static void test_messages(void)
{
	struct event e;

	event_init(&e, EVENT_LIMIT, TS);
	e.watch = "step";
	e.pid = 9;
	e.comm = "python3";
	e.metric = METRIC_RSS;
	e.has_value = e.has_limit = true;
	e.value = 100 * 1048576.0;
	e.limit = 80 * 1048576.0;
	event_describe(&e);
	CHECK_STR(e.message, "step: pid 9 (python3): rss over limit: 100MiB > max 80MiB");
	CHECK(event_priority(&e) == 3);

	event_init(&e, EVENT_LEAK, TS);
	e.watch = "t";
	e.pid = 9;
	e.comm = "python3";
	e.metric = METRIC_THREADS;
	e.has_value = e.has_slope = true;
	e.value = 48;
	e.slope_per_hour = 7200;
	event_describe(&e);
	CHECK_STR(e.message, "t: pid 9 (python3): threads leak: 48, growing 7200.0/h");

	/* what the sender says follows the subject; an action's follows its result */
	event_init(&e, EVENT_RELOAD, TS);
	event_say(&e, "custom %d", 7);
	event_describe(&e);
	CHECK_STR(e.message, "custom 7");
	event_init(&e, EVENT_ERROR, TS);
	event_about(&e, &(struct subject){ "api", 12, "gunicorn", NULL });
	event_say(&e, "cannot sample: %s", "Input/output error");
	event_describe(&e);
	CHECK_STR(e.message, "api: pid 12 (gunicorn): cannot sample: Input/output error");
	CHECK(e.pid == 12 && strcmp(e.watch, "api") == 0 && strcmp(e.comm, "gunicorn") == 0);
	event_init(&e, EVENT_ERROR, TS);
	event_describe(&e);
	CHECK_STR(e.message, "leakwatchd: error");
	event_init(&e, EVENT_ACTION, TS);
	event_about(&e, &(struct subject){ "api", 12, "gunicorn", NULL });
	e.action = "signal";
	e.result = "ok";
	event_describe(&e);
	CHECK_STR(e.message, "api: pid 12 (gunicorn): action signal: ok");
	event_say(&e, "sent SIG%s", "TERM");
	event_describe(&e);
	CHECK_STR(e.message, "api: pid 12 (gunicorn): action signal: ok: sent SIGTERM");
	/* a watch without a process */
	event_init(&e, EVENT_ERROR, TS);
	event_about(&e, &(struct subject){ "api", 0, NULL, NULL });
	event_say(&e, "x");
	event_describe(&e);
	CHECK_STR(e.message, "api: x");
	/* the longest subject fits whole; a line too long is cut, still terminated */
	{
		static const char name[] = "n234567890123456789012345678901234567890123456789012345678901234";
		char who[96];

		subject_format(&(struct subject){ name, 4194304, "c23456789012345", NULL }, who, sizeof(who));
		CHECK_STR(who, "n234567890123456789012345678901234567890123456789012345678901234: "
			  "pid 4194304 (c23456789012345)");
		event_init(&e, EVENT_ACTION, TS);
		event_about(&e, &(struct subject){ name, 4194304, "c23456789012345", NULL });
		e.action = "restart-unit";
		e.result = "suppressed";
		memset(e.detail, 'x', sizeof(e.detail) - 1);
		e.detail[sizeof(e.detail) - 1] = '\0';
		event_describe(&e);
		CHECK(strlen(e.message) < sizeof(e.message) - 1);   /* no title: the longest line fits */
		CHECK(strncmp(e.message, who, strlen(who)) == 0);
	}

	for (int t = 0; t < EVENT_TYPE_COUNT; t++) {
		CHECK(strlen(event_message_id((enum event_type)t)) == 32);
		for (int u = 0; u < t; u++)
			CHECK(strcmp(event_message_id((enum event_type)t), event_message_id((enum event_type)u)) != 0);
	}
}

static void test_targets(void)
{
	enum log_target t;

	CHECK(log_target_parse("json", &t) == 0 && t == TARGET_JSON);
	CHECK(log_target_parse("journal", &t) == 0 && t == TARGET_JOURNAL);
	CHECK(log_target_parse("console", &t) == 0 && t == TARGET_CONSOLE);
	CHECK(log_target_parse("auto", &t) == 0 && t == TARGET_AUTO);
	CHECK(log_target_parse("syslog", &t) == -EINVAL);
}

/* The title beside comm: in the human line (quoted), the JSON key and the
 * journal field; left out when there is none or it is comm again. */
static void test_title(void)
{
	struct event e;
	struct buf b = { 0 };
	struct journal_fields f;
	bool has_title = false, has_comm = false;
	char who[192];

	event_init(&e, EVENT_LEAK, TS);
	event_about(&e, &(struct subject){ "api-uwsgi", 7067, "uwsgi", "api uWSGI worker 2" });
	e.metric = METRIC_RSS;
	e.has_value = true;
	e.value = 83886080;
	e.has_slope = true;
	e.slope_per_hour = 2147483648.0;
	event_describe(&e);
	CHECK_STR(e.message, "api-uwsgi: pid 7067 (uwsgi) \"api uWSGI worker 2\": rss leak: 80MiB, growing 2GiB/h");
	event_format_json(&e, &b);
	CHECK(strstr(b.data, ",\"comm\":\"uwsgi\",\"title\":\"api uWSGI worker 2\",\"metric\"") != NULL);
	event_format_journal(&e, &f);
	for (int i = 0; i < f.n; i++) {
		has_title |= f.iov[i].iov_len == strlen("LEAKWATCH_TITLE=api uWSGI worker 2") &&
			     memcmp(f.iov[i].iov_base, "LEAKWATCH_TITLE=api uWSGI worker 2", f.iov[i].iov_len) == 0;
		has_comm |= f.iov[i].iov_len == strlen("LEAKWATCH_COMM=uwsgi") &&
			    memcmp(f.iov[i].iov_base, "LEAKWATCH_COMM=uwsgi", f.iov[i].iov_len) == 0;
	}
	CHECK(has_title && has_comm);

	/* an action event carries it the same way */
	event_init(&e, EVENT_ACTION, TS);
	event_about(&e, &(struct subject){ "pool", 12, "[celeryd: worke", "[celeryd: w1@h:ForkPoolWorker-3]" });
	e.action = "signal";
	e.result = "ok";
	event_say(&e, "sent SIGURG");
	event_describe(&e);
	CHECK_STR(e.message, "pool: pid 12 ([celeryd: worke) \"[celeryd: w1@h:ForkPoolWorker-3]\": action signal: ok: "
		  "sent SIGURG");

	/* none, empty, or comm again: no title anywhere */
	const char *none[] = { NULL, "", "python3" };
	for (size_t i = 0; i < 3; i++) {
		event_init(&e, EVENT_FOUND, TS);
		event_about(&e, &(struct subject){ "w", 9, "python3", none[i] });
		event_describe(&e);
		CHECK_STR(e.message, "w: pid 9 (python3): watching");
		CHECK(e.title == NULL);
		buf_reset(&b);
		event_format_json(&e, &b);
		CHECK(strstr(b.data, "title") == NULL);
	}
	/* not about a process: never a title */
	subject_format(&(struct subject){ "w", 0, NULL, "x" }, who, sizeof(who));
	CHECK_STR(who, "w");
	/* the longest subject with the longest title fits whole */
	{
		static const char name[] = "n234567890123456789012345678901234567890123456789012345678901234";
		char title[PROC_TITLE_SIZE];

		memset(title, 'x', sizeof(title) - 1);
		title[sizeof(title) - 1] = '\0';
		subject_format(&(struct subject){ name, 4194304, "c23456789012345", title }, who, sizeof(who));
		CHECK(strlen(who) == 64 + 2 + 12 + 17 + 2 + 63 + 1);
		/* with the longest detail the line is cut, still terminated */
		event_init(&e, EVENT_ACTION, TS);
		event_about(&e, &(struct subject){ name, 4194304, "c23456789012345", title });
		e.action = "restart-unit";
		e.result = "suppressed";
		memset(e.detail, 'x', sizeof(e.detail) - 1);
		e.detail[sizeof(e.detail) - 1] = '\0';
		event_describe(&e);
		CHECK(strlen(e.message) == sizeof(e.message) - 1);
		CHECK(strncmp(e.message, who, strlen(who)) == 0);
		CHECK(who[strlen(who) - 1] == '"');
	}
	buf_free(&b);
}

int main(void)
{
	RUN(test_json_leak);
	RUN(test_json_escape_and_optional);
	RUN(test_messages);
	RUN(test_targets);
	RUN(test_title);
	return check_done("test_event");
}
