/* The side of events: the journal (sd_journal_sendv with every field of
 * SPEC), a human line on stderr, or a JSON line on stdout. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
/* CODE_FILE/LINE would name this wrapper, not the event: leave them out. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "core/config.h"
#include "core/event.h"

/* Is stderr the journal's stream (JOURNAL_STREAM=DEV:INODE), or is there a
 * journal socket to send to? */
enum log_target log_target_resolve(enum log_target t)
{
	const char *js;
	struct stat st;

	if (t != TARGET_AUTO)
		return t;
	js = getenv("JOURNAL_STREAM");
	if (js && fstat(STDERR_FILENO, &st) == 0) {
		unsigned long long dev, ino;

		if (sscanf(js, "%llu:%llu", &dev, &ino) == 2 && dev == st.st_dev && ino == st.st_ino)
			return TARGET_JOURNAL;
	}
	if (access("/run/systemd/journal/socket", F_OK) == 0)
		return TARGET_JOURNAL;
	return TARGET_CONSOLE;
}

#define MAX_FIELDS 20

struct fields {
	struct iovec iov[MAX_FIELDS];
	char text[MAX_FIELDS][640];
	int n;
};

static void field(struct fields *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void field(struct fields *f, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (f->n >= MAX_FIELDS)
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

static int emit_journal(const struct event *e)
{
	struct fields *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	field(f, "MESSAGE=%s", e->message);
	field(f, "PRIORITY=%d", event_priority(e));
	field(f, "MESSAGE_ID=%s", event_message_id(e->type));
	field(f, "SYSLOG_IDENTIFIER=leakwatchd");
	field(f, "LEAKWATCH_EVENT=%s", event_name(e->type));
	if (e->pid)
		field(f, "OBJECT_PID=%d", (int)e->pid);
	if (e->watch)
		field(f, "LEAKWATCH_WATCH=%s", e->watch);
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
	r = sd_journal_sendv(f->iov, f->n);
	free(f);
	return r;
}

int event_emit(enum log_target t, const struct event *e)
{
	char buf[2048];
	int n;

	switch (t) {
	case TARGET_JOURNAL:
		return emit_journal(e);
	case TARGET_JSON:
		n = event_format_json(e, buf, sizeof(buf));
		if (n < 0)
			return n;
		buf[n++] = '\n';
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n || fflush(stdout) != 0)
			return -EIO;
		return 0;
	default:
		fprintf(stderr, "leakwatchd: %s: %s\n", event_name(e->type), e->message);
		return 0;
	}
}
