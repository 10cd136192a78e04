/* The sinks of events (see event_sink.h): sd_journal_sendv with the
 * fields core/event_format.c renders, a console line on stderr, or a JSON
 * line on stdout.  Nothing here decides what an event says. */
#include "io/event_sink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
/* CODE_FILE/LINE would name this wrapper, not the event: leave them out. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/event_format.h"

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

static int send_journal(const struct event *e)
{
	struct journal_fields *f = malloc(sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	event_format_journal(e, f);
	r = sd_journal_sendv(f->iov, f->n);
	free(f);
	return r;
}

/* The rendered bytes to a stream, flushed.  0 or -EIO (-ENOMEM when the
 * rendering ran out of memory). */
static int ship(FILE *f, const struct buf *b)
{
	if (!buf_ok(b))
		return -ENOMEM;
	if (fwrite(b->data, 1, b->len, f) != b->len || fflush(f) != 0)
		return -EIO;
	return 0;
}

int event_emit(enum log_target t, const struct event *e)
{
	struct buf b = { 0 };
	int r;

	switch (t) {
	case TARGET_JOURNAL:
		r = send_journal(e);
		if (r < 0) {
			event_format_console(e, &b);
			ship(stderr, &b);
		}
		break;
	case TARGET_JSON:
		event_format_json(e, &b);
		buf_puts(&b, "\n");
		r = ship(stdout, &b);
		break;
	default:
		event_format_console(e, &b);
		r = ship(stderr, &b);
		break;
	}
	buf_free(&b);
	return r;
}
