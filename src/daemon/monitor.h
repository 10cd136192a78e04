/* The monitor: one tick of work (discover, sample, judge, report) over the
 * watched processes.  Discovery (discovery.h) says which processes the
 * watches match and which are gone; the judge (core/judge.h) says what a
 * sample means; the monitor does the rest, the side effects: it opens and
 * samples /proc (os/proc.h), emits the events through its callback, and
 * calls the capture, inspect and action callbacks; it reads the
 * processes' own limits (os/own_limits.h) for the judge.  No timers or signals here
 * (daemon/main.c), so tests can drive ticks by hand on a fixture /proc
 * tree.  What the renderers read of it is its struct judged (j). */
#ifndef LEAKWATCH_MONITOR_H
#define LEAKWATCH_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/config.h"
#include "core/event.h"
#include "core/judge.h"
#include "daemon/discovery.h"
#include "os/own_limits.h"
#include "os/proc.h"

/* A watched process: the judge's record, and the /proc descriptors kept
 * on it.  The record comes first: j.watched links the records, and
 * tracked_of() finds the descriptors. */
struct tracked {
	struct watched w;
	struct proc_handle h;
};

static inline struct tracked *tracked_of(const struct watched *w)
{
	return (struct tracked *)(void *)w;
}

typedef void (*event_fn)(void *ctx, struct event *e);

/* Called after a leak or limit event, to take the watch's action. */
struct act_request;
typedef int (*action_fn)(void *ctx, const struct act_request *r);

/* Called before a leak or limit event of a watch with `capture: true` is
 * reported: save the diagnostics of w (h: the /proc descriptors kept on
 * it, its /proc/PID directory and, once its main thread has exited, a live
 * thread's), put their directory in dir.  0 or -errno. */
typedef int (*capture_fn)(void *ctx, const struct watched *w, const struct proc_handle *h, enum event_type why,
			  int metric, char *dir, size_t len);

/* Called after a leak event of a watch with `inspect:`, before its
 * action: start looking inside w (the action waits while it runs). */
typedef void (*inspect_fn)(void *ctx, const struct watched *w, const struct proc_handle *h, int metric);

struct saved_state;

struct monitor {
	struct judged j;           /* the config, the watched processes, the tick, the counters */
	struct proc_root root;
	struct cgroup_roots cgroups; /* where the processes' own limits are read */
	struct discovery disc;
	uint64_t tick_mono_usec;   /* CLOCK_MONOTONIC at the start of the tick */
	event_fn emit;
	void *emit_ctx;
	action_fn act;             /* NULL: alert only */
	void *act_ctx;
	capture_fn capture;        /* NULL: no captures */
	void *capture_ctx;
	inspect_fn inspect;        /* NULL: no inspections */
	void *inspect_ctx;
	struct saved_proc *restore;/* saved histories, claimed at the first scan */
	char self_user[64];        /* the daemon's user, for the messages */
	size_t n_restored;         /* processes whose history was restored */
	struct watched **pending;  /* this tick's actions to ask, most urgent first (scratch) */
	size_t pending_cap;
};

/* proc_path: the /proc root ("/proc", or a fixture tree).  self: our pid
 * (never watched).  The config stays owned by the caller.  0 or -errno. */
int monitor_init(struct monitor *m, const char *proc_path, const struct config *cfg,
		 pid_t self, event_fn emit, void *emit_ctx);
void monitor_free(struct monitor *m);   /* accepts a zeroed monitor */

/* One tick: now_ms on CLOCK_BOOTTIME (the clock of /proc start times),
 * wall_usec for event time stamps.  Returns 0. */
int monitor_tick(struct monitor *m, uint64_t now_ms, uint64_t wall_usec);

/* Swap in a new config.  Processes whose watch keeps its name keep their
 * history (reset only when the window changed); the others are matched
 * again at the next tick. */
void monitor_set_config(struct monitor *m, const struct config *cfg);

/* Drop the watched process pid (leakwatchctl forget): its record, with
 * its history, verdicts and withheld action, is freed after a gone event
 * saying so (result "forgotten"), and discovery matches the pid afresh at
 * its next pass (discovery_rematch).  0, or -ESRCH when pid is not
 * watched. */
int monitor_forget(struct monitor *m, pid_t pid);

/* Saved histories (core/state_codec.h), taken over: a process found at the
 * next scan with the same pid, start time, watch name and window continues
 * its history; the rest is dropped after that scan.  A watch's group with
 * the same name and window continues its saved totals at once.  Returns
 * how many groups did (the saved groups are left in s, to be cleared). */
size_t monitor_restore(struct monitor *m, struct saved_state *s);

#endif
