/* Discovery: which processes the watches match.  The pid table (what is
 * known of every pid in /proc), the full scans and the probes of new pids,
 * pidfiles, and the processes a watch cannot decide on.  Internal to the
 * monitor: monitor.h is the interface; this header joins its two halves. */
#ifndef LEAKWATCH_DISCOVER_H
#define LEAKWATCH_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/event.h"
#include "daemon/monitor.h"

/* Discovery runs at most once a second: with short intervals, watched
 * processes are still sampled at every tick, and their exits are seen there
 * (ESRCH on the kept fds).  The slack keeps a tick that comes a hair early
 * from skipping its discovery. */
#define SCAN_MIN_MS   1000
#define SCAN_SLACK_MS 50

/* discover.c */
int discover_init(struct monitor *m);          /* after the root is open; 0 or -errno */
void discover_free(struct monitor *m);         /* accepts a zeroed monitor */
void discover_run(struct monitor *m);          /* one discovery, at m->now_ms */
struct pid_entry *discover_lookup(struct monitor *m, pid_t pid);
/* A new configuration: its pidfiles and undecidable watches said again. */
void discover_reconfigure(struct monitor *m);
/* The watched process pid exited: forget its entry (a process reusing the
 * pid is read afresh), then, once it is unwatched, discover_reuse() looks
 * the pid up at once. */
void discover_exited(struct monitor *m, pid_t pid);
void discover_reuse(struct monitor *m, pid_t pid, unsigned long long start_ticks);
/* The process pid could not be sampled: never watched again. */
void discover_never(struct monitor *m, pid_t pid);

/* monitor.c, for discover.c */
void monitor_event_init(struct monitor *m, struct event *e, enum event_type t, const struct watched *w);
void monitor_emit(struct monitor *m, struct event *e);
void monitor_watch(struct monitor *m, struct pid_entry *e, size_t idx);
void monitor_unwatch(struct monitor *m, struct watched *w, bool report);
void monitor_user_name(uid_t uid, char *out, size_t len);
void monitor_owner(struct monitor *m, pid_t pid, char *out, size_t len);

#endif
