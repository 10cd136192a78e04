/* Diagnostics for the operator: human lines on stderr (or the journal when
 * the daemon runs under it).  Events (leak, limit, ...) go through event.h;
 * this is for everything else: start-up errors, warnings, debug lines. */
#ifndef LEAKWATCH_LOG_H
#define LEAKWATCH_LOG_H

#include <stdbool.h>
#include <syslog.h>

void log_setup(const char *ident, bool to_journal, int max_priority);
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
