/* The sinks of events (see event_sink.h): sd_journal_sendv with the
 * fields core/event_format.c renders, a console line on stderr, or a JSON
 * line on stdout.  Nothing here decides what an event says.
 *
 * Time stamps on the console: a line on a terminal or in a file needs the
 * time of its event (a JSON line has its "ts", a journal entry its own
 * time), but stderr may be the journal's stream even with
 * --log-target=console (a unit that sets it), and the journal puts its
 * own time before each line: a second one would only crowd the line.  So
 * the stamp is left out exactly when $JOURNAL_STREAM names stderr's device
 * and inode, as systemd sets it (systemd.exec(5)); a stderr redirected
 * by hand in such a unit is stamped again. */
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

bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
	       dev == st.st_dev && ino == st.st_ino;
}

enum log_target log_target_resolve(enum log_target t)
{
	if (t != TARGET_AUTO)
		return t;
	if (stderr_is_journal())
		return TARGET_JOURNAL;
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

int event_emit(enum log_target t, bool stamp, const struct event *e)
{
	struct buf b = { 0 };
	int r;

	switch (t) {
	case TARGET_JOURNAL:
		r = send_journal(e);
		if (r < 0) {
			event_format_console(e, stamp, &b);
			ship(stderr, &b);
		}
		break;
	case TARGET_JSON:
		event_format_json(e, &b);
		buf_puts(&b, "\n");
		r = ship(stdout, &b);
		break;
	default:
		event_format_console(e, stamp, &b);
		r = ship(stderr, &b);
		break;
	}
	buf_free(&b);
	return r;
}
