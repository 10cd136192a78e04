/* Log lines (see log.h for what is a log line, an event or plain stderr).
 *
 * When the events go to the journal, so do the log lines, through
 * sd_journal_printv(): each carries its PRIORITY, and `journalctl -p
 * warning` finds it beside the events.  Written to stderr instead, a line
 * would reach the journal through the unit's stream at the stream's default
 * level, its own level only as text.  CODE_FILE and CODE_LINE are left out:
 * they would name this file, not the caller.  With the console or json
 * target, and before log_setup(), a line goes to stderr as "IDENT: LEVEL:
 * TEXT", which with --log-target=json keeps stdout to the events' JSON
 * lines.  A line above the maximum priority is dropped before formatting.
 *
 * The three settings are file statics rather than a context: daemon/main.c
 * sets them with log_setup() after resolving the log target, and they do
 * not change after.  Cost per line: one datagram to journald, or a few
 * write(2)s on unbuffered stderr. */
#include "io/log.h"

#include <stdarg.h>
#include <stdio.h>
#define SD_JOURNAL_SUPPRESS_LOCATION   /* CODE_* would name log.c, not the caller */
#include <systemd/sd-journal.h>

static const char *log_ident = "leakwatchd";
static bool log_journal;
static int log_max = LOG_INFO;

void log_setup(const char *ident, bool to_journal, int max_priority)
{
	log_ident = ident;
	log_journal = to_journal;
	log_max = max_priority;
}

void log_msg(int priority, const char *fmt, ...)
{
	va_list ap;

	if (priority > log_max)
		return;
	va_start(ap, fmt);
	if (log_journal) {
		sd_journal_printv(priority, fmt, ap);
	} else {
		static const char *const names[] = {
			"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
		};
		fprintf(stderr, "%s: %s: ", log_ident, names[priority & 7]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
