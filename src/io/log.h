/* How leakwatchd tells things: the one rule for what is an event, what is
 * a log line and what goes to stderr.
 *
 *  EVENT (core/event.h, rendered by core/event_format.c, sent by
 *  io/event_sink.c): anything an operator may alert on, count or act on,
 *  one of the eight types of leakwatchd(8) EVENTS: start, found, gone, leak, limit, action,
 *  reload, error.  It has fields (watch, pid, metric, value, ...) and a
 *  MESSAGE_ID in the catalog, is counted in leakwatch_events_total, and
 *  goes to the log target (journal, console or JSON lines).  Whatever
 *  loses data or needs the operator is an error event; one that loses
 *  nothing yet (a metric that cannot be read, a socket not opened) is an
 *  error event with warning set.  Built from one subject (event_about),
 *  its human line never formatted by hand.
 *
 *  LOG LINE (log_*() below): a note with no event type, that nobody
 *  alerts on: a recovery ("the history is saved again"), where metrics are
 *  served, the count of samples at stop, an exec command's output.  To the
 *  journal when the log target is the journal, else to stderr as
 *  "leakwatchd: LEVEL: TEXT", after the time (RFC 3339, UTC, ms) unless
 *  stderr is the journal's stream (io/event_sink.h stderr_is_journal()).
 *
 *  STDERR directly: only what comes before the daemon runs, or instead of
 *  it: usage errors, the configuration's diagnostics
 *  ("FILE:LINE:COLUMN: error: MESSAGE", and with -t the warnings
 *  "FILE:LINE:COLUMN: warning: MESSAGE", os/config_file.c; the running
 *  daemon tells those warnings as error events), and an event
 *  the journal refused (its console line, so that nothing is lost).
 *  leakwatchctl writes answers to stdout and its errors to stderr.
 *
 * Only the top of each program logs or prints: daemon/main.c (which also
 * counts every event for the metrics on its way out), ctl/leakwatchctl.c,
 * and os/config_file.c's config_load_report() and config_check() for what both
 * programs print.  Every module below returns 0 or -errno and tells what
 * it has to tell through the callback its owner gave it: the monitor,
 * discovery and the actor hand over events (and the actor its commands'
 * output lines), the daemon's helpers a notice (daemon/notice.h). */
#ifndef LEAKWATCH_LOG_H
#define LEAKWATCH_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Where log lines go.  A zeroed one writes to stderr as "leakwatchd:
 * LEVEL: TEXT", up to LOG_INFO. */
struct logger {
	const char *ident;         /* NULL: "leakwatchd" */
	bool journal;              /* to the journal (sd_journal_printv) */
	int max_priority;          /* lines above it are dropped; 0: LOG_INFO */
	bool stamp;                /* on stderr: the time first, "2026-11-24T05:00:00.123Z " */
};

void log_msg(const struct logger *l, int priority, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_err(l, ...)   log_msg(l, LOG_ERR, __VA_ARGS__)
#define log_warn(l, ...)  log_msg(l, LOG_WARNING, __VA_ARGS__)
#define log_info(l, ...)  log_msg(l, LOG_INFO, __VA_ARGS__)
#define log_debug(l, ...) log_msg(l, LOG_DEBUG, __VA_ARGS__)

#endif
