/* Events: JSON lines with the keys of leakwatchd(8) EVENTS, escaping, human messages, ids. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/event.h"
#include "core/event_format.h"
#include "core/proc_title.h"
#include "io/event_sink.h"
#include "io/log.h"

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
		       "\"message\":\"api: pid 4242 (gunicorn): rss leak: 175M, growing 50M/h, reaches max 1G in 17h\"}");
	CHECK_STR(event_message_id(EVENT_LEAK), "bb71edb945044073b919493c881bd48e");
	CHECK(event_priority(&e) == 4);
	buf_reset(&b);
	event_format_console(&e, false, &b);
	CHECK_STR(b.data, "leakwatchd: leak: api: pid 4242 (gunicorn): rss leak: 175M, growing 50M/h, "
		  "reaches max 1G in 17h\n");
	/* stamped: the event's time first, not the clock's */
	buf_reset(&b);
	event_format_console(&e, true, &b);
	CHECK_STR(b.data, "2026-11-24T05:00:00.123Z leakwatchd: leak: api: pid 4242 (gunicorn): rss leak: 175M, "
		  "growing 50M/h, reaches max 1G in 17h\n");
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
	event_format_console(&e, true, &b);
	CHECK_STR(b.data, "2026-11-24T05:00:00.123Z leakwatchd: found: w: pid 7 (a\\n<0>x\\t\\x1b\\x7f): watching\n");

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
	CHECK_STR(e.message, "step: pid 9 (python3): rss over limit: 100M > max 80M");
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
	CHECK_STR(e.message, "t: pid 9 (python3): threads leak: 48, growing 7200/h");
	/* counts are whole, as in the table: a fraction rounds, a slow one is per day */
	static const struct { int metric; double value, slope, limit; const char *want; } counts[] = {
		{ METRIC_FDS, 159.4, 7168.4, 0, "fds leak: 159, growing 7168/h" },
		{ METRIC_FDS, 1000.6, 0.2, 2000, "fds leak: 1001, growing 5/d, reaches max 2000 in 1h" },
		{ METRIC_THREADS, 12, -2.5, 0, "threads leak: 12, growing -3/h" },
		{ METRIC_RSS, 512, 1536, 0, "rss leak: 512B, growing 1.5K/h" },
		{ METRIC_RSS, 1023.96 * 1024, -52.4 * 1048576, 0, "rss leak: 1M, growing -52.4M/h" },
	};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		char want[160];

		event_init(&e, EVENT_LEAK, TS);
		event_about(&e, &(struct subject){ "t", 9, "python3", NULL });
		e.metric = counts[i].metric;
		e.has_value = e.has_slope = true;
		e.value = counts[i].value;
		e.slope_per_hour = counts[i].slope;
		if (counts[i].limit) {
			e.has_limit = true;
			e.limit = counts[i].limit;
			e.eta_seconds = 3600;
		}
		event_describe(&e);
		snprintf(want, sizeof(want), "t: pid 9 (python3): %s", counts[i].want);
		CHECK_STR(e.message, want);
	}
	event_init(&e, EVENT_LIMIT, TS);
	event_about(&e, &(struct subject){ "t", 9, "python3", NULL });
	e.metric = METRIC_FDS;
	e.has_value = e.has_limit = true;
	e.value = 4096;
	e.limit = 4000;
	event_describe(&e);
	CHECK_STR(e.message, "t: pid 9 (python3): fds over limit: 4096 > max 4000");

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

/* What stderr holds after fn(arg): stderr is a temporary file meanwhile. */
static void stderr_of(void (*fn)(const void *), const void *arg, char *out, size_t len)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	out[0] = '\0';
	if (!tmp || saved < 0)
		return;
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	fn(arg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, len - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
}

static void emit_console(const void *arg)
{
	const struct event *e = arg;

	event_emit(TARGET_CONSOLE, !stderr_is_journal(), e);
}

static void log_line(const void *arg)
{
	log_info((const struct logger *)arg, "metrics served on %s", "127.0.0.1:9101");
}

/* A console line starts with its time, unless stderr is the journal's
 * stream (JOURNAL_STREAM names its device and inode): the journal stamps
 * its lines itself.  Log lines on stderr likewise. */
static void test_stamps(void)
{
	struct event e;
	struct stat st;
	char js[64], got[512];
	struct logger l = { "leakwatchd", false, LOG_INFO, true };

	event_init(&e, EVENT_FOUND, TS);
	event_about(&e, &(struct subject){ "w", 7, "python3", NULL });
	event_describe(&e);

	unsetenv("JOURNAL_STREAM");
	CHECK(!stderr_is_journal());
	stderr_of(emit_console, &e, got, sizeof(got));
	CHECK_STR(got, "2026-11-24T05:00:00.123Z leakwatchd: found: w: pid 7 (python3): watching\n");

	/* stderr is the journal's stream */
	{
		FILE *tmp = tmpfile();
		int saved = dup(STDERR_FILENO);

		CHECK(tmp && saved >= 0 && fstat(fileno(tmp), &st) == 0);
		snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
		setenv("JOURNAL_STREAM", js, 1);
		fflush(stderr);
		dup2(fileno(tmp), STDERR_FILENO);
		CHECK(stderr_is_journal());
		CHECK(log_target_resolve(TARGET_AUTO) == TARGET_JOURNAL);
		CHECK(log_target_resolve(TARGET_CONSOLE) == TARGET_CONSOLE);
		event_emit(TARGET_CONSOLE, !stderr_is_journal(), &e);
		fflush(stderr);
		dup2(saved, STDERR_FILENO);
		close(saved);
		rewind(tmp);
		got[fread(got, 1, sizeof(got) - 1, tmp)] = '\0';
		fclose(tmp);
		CHECK_STR(got, "leakwatchd: found: w: pid 7 (python3): watching\n");
	}
	/* another file on stderr: JOURNAL_STREAM is not it */
	CHECK(!stderr_is_journal());
	setenv("JOURNAL_STREAM", "garbage", 1);
	CHECK(!stderr_is_journal());
	unsetenv("JOURNAL_STREAM");

	/* log lines: the clock's time, in the same form */
	stderr_of(log_line, &l, got, sizeof(got));
	CHECK_MSG(strlen(got) == 25 + strlen("leakwatchd: info: metrics served on 127.0.0.1:9101\n") &&
		  got[4] == '-' && got[10] == 'T' && got[19] == '.' && got[23] == 'Z' && got[24] == ' ' &&
		  strcmp(got + 25, "leakwatchd: info: metrics served on 127.0.0.1:9101\n") == 0, "got %s", got);
	l.stamp = false;
	stderr_of(log_line, &l, got, sizeof(got));
	CHECK_STR(got, "leakwatchd: info: metrics served on 127.0.0.1:9101\n");
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
	CHECK_STR(e.message, "api-uwsgi: pid 7067 (uwsgi) \"api uWSGI worker 2\": rss leak: 80M, growing 2G/h");
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
	RUN(test_stamps);
	RUN(test_title);
	return check_done("test_event");
}
