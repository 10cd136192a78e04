/* The control requests that change what the daemon does (leakwatchctl
 * reload, forget PID, inspect PID): who may ask them, and "forget PID".
 * (The reload itself is daemon/main.c's, as SIGHUP's is; the inspection
 * daemon/inspections.h's.) */
#ifndef LEAKWATCH_REQUESTS_H
#define LEAKWATCH_REQUESTS_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/buf.h"

struct monitor;
struct inspections;

/* Whether peer (the client's uid, (uid_t)-1 unknown) may ask request of
 * a daemon running as self: anything that only reads, from whoever could
 * connect; reload, forget and inspect from root or self alone.  When not,
 * the "ERR permission denied ..." line is written into reply. */
bool requests_allowed(const char *request, uid_t peer, uid_t self, struct buf *reply);

/* Whether request is the word w alone (blanks around it allowed): 1; w
 * with more after it: -1; another request: 0. */
int requests_alone(const char *request, const char *w);

/* "forget PID": the process dropped (monitor_forget), the reply "OK" and
 * what was done, or "ERR why" (not a pid; not watched; an inspection of
 * it running).  True when request was one, the reply written. */
bool requests_forget(struct monitor *m, const struct inspections *s, const char *request, struct buf *reply);

#endif
