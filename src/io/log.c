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
