/* What the events say of a percentage max (`fds: { max: 90% }`): what the
 * limit in force is a percentage of, and why a process has none.  Pure
 * words, so that the monitor (daemon/monitor.c) only fills them in and
 * the tests read them without a daemon. */
#ifndef LEAKWATCH_LIMIT_TEXT_H
#define LEAKWATCH_LIMIT_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

/* What the limit of metric under rule r is, as a limit event says it
 * after the max: "90% of its RLIMIT_NOFILE", "90% of its cgroup's
 * pids.max", "90% of its cgroup's memory.max", "90% of MemTotal" (of_own
 * false: rss without a lower cgroup limit).  "" when the rule's max is an
 * amount: it says all. */
void limit_text_basis(char *out, size_t len, int metric, const struct metric_rule *r, bool of_own);

/* Why a process has no limit for a percentage max, or (rss) has MemTotal's:
 * err and v as os/own_limits.h's struct own_limits has them for metric
 * ("fds max 90%: its RLIMIT_NOFILE is unlimited; no fds max for it"). */
void limit_text_missing(char *out, size_t len, int metric, const struct metric_rule *r, int err);

#endif
