/* Events: JSON lines with SPEC's keys, escaping, human messages, ids. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "core/config.h"
#include "core/event.h"

/* 2026-11-24T05:00:00.123Z */
#define TS 1795496400123000ull

static void test_json_leak(void)
{
	struct event e;
	char buf[1024];
	int n;

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
	n = event_format_json(&e, buf, sizeof(buf));
	CHECK(n > 0 && (size_t)n == strlen(buf));
	CHECK_STR(buf, "{\"ts\":\"2026-11-24T05:00:00.123Z\",\"event\":\"leak\",\"watch\":\"api\",\"pid\":4242,"
		       "\"comm\":\"gunicorn\",\"metric\":\"rss\",\"value\":183500800,\"slope_per_hour\":52428800,"
		       "\"limit\":1073741824,\"eta_seconds\":61200,"
		       "\"message\":\"api: pid 4242 (gunicorn): rss leak: 175MiB, growing 50MiB/h, reaches max 1GiB in 17h\"}");
	CHECK_STR(event_message_id(EVENT_LEAK), "bb71edb945044073b919493c881bd48e");
	CHECK(event_priority(&e) == 4);
}

static void test_json_escape_and_optional(void)
{
	struct event e;
	char buf[512], small[40];

	event_init(&e, EVENT_FOUND, TS);
	e.watch = "w";
	e.pid = 7;
	e.comm = "a\"b\\c\td";
	event_describe(&e);
	CHECK(event_format_json(&e, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "\"comm\":\"a\\\"b\\\\c\\u0009d\"") != NULL);
	CHECK(strstr(buf, "metric") == NULL && strstr(buf, "eta_seconds") == NULL && strstr(buf, "slope") == NULL);
	CHECK(event_format_json(&e, small, sizeof(small)) == -ENOSPC);

	event_init(&e, EVENT_START, TS);
	e.watches = 3;
	event_describe(&e);
	CHECK(event_format_json(&e, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "{\"ts\":\"2026-11-24T05:00:00.123Z\",\"event\":\"start\",\"watches\":3,"
		       "\"message\":\"leakwatchd started with 3 watches\"}");
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

	/* a message set by the caller is kept */
	event_init(&e, EVENT_RELOAD, TS);
	strcpy(e.message, "custom");
	event_describe(&e);
	CHECK_STR(e.message, "custom");

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

int main(void)
{
	RUN(test_json_leak);
	RUN(test_json_escape_and_optional);
	RUN(test_messages);
	RUN(test_targets);
	return check_done("test_event");
}
