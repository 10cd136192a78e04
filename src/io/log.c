/* Log lines (see log.h for what is a log line, an event or plain stderr).
 *
 * When the events go to the journal, so do the log lines, through
 * sd_journal_printv(): each carries its PRIORITY, and `journalctl -p
 * warning` finds it beside the events.  Written to stderr instead, a line
 * would reach the journal through the unit's stream at the stream's default
 * level, its own level only as text.  CODE_FILE and CODE_LINE are left out:
 * they would name this file, not the caller.  With the console or json
 * target, and before the target is known, a line goes to stderr as
 * "IDENT: LEVEL: TEXT" (cut at 2 KiB, its control characters escaped, so
 * that a command's output or a comm cannot forge a line of its own), which
 * with --log-target=json keeps stdout to the events' JSON lines; with
 * stamp it starts with the time, as the events' console lines do
 * (io/event_sink.c says when: not when stderr is the journal's stream).
 * A line above the maximum priority is dropped before formatting.
 *
 * The settings are the caller's struct logger (daemon/main.c keeps one,
 * set after resolving the log target), not file statics: no global state
 * but signal flags.  Cost per line: one datagram to journald, or a few
 * write(2)s on unbuffered stderr. */
#include "io/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/units.h"
#include "os/clock.h"
#define SD_JOURNAL_SUPPRESS_LOCATION   /* CODE_* would name log.c, not the caller */
#include <systemd/sd-journal.h>

void log_msg(const struct logger *l, int priority, const char *fmt, ...)
{
	int max = l->max_priority ? l->max_priority : LOG_INFO;
	va_list ap;

	if (priority > max)
		return;
	va_start(ap, fmt);
	if (l->journal) {
		sd_journal_printv(priority, fmt, ap);
	} else {
		static const char *const names[] = {
			"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
		};
		char text[2048];
		struct buf b = { 0 };

		vsnprintf(text, sizeof(text), fmt, ap);
		if (l->stamp) {
			char ts[40];

			format_rfc3339(clock_usec(CLOCK_REALTIME), ts, sizeof(ts));
			buf_printf(&b, "%s ", ts);
		}
		buf_printf(&b, "%s: %s: ", l->ident ? l->ident : "leakwatchd", names[priority & 7]);
		buf_line_text(&b, text);      /* one line, whatever the text holds */
		buf_puts(&b, "\n");
		if (buf_ok(&b))
			fputs(b.data, stderr);
		buf_free(&b);
	}
	va_end(ap);
}
