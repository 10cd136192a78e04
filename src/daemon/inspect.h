/* Inspections: looking inside a leaking CPython process to say what
 * leaks, in its own terms (types, allocation sites, thread stacks, open
 * files).  One inspection runs the shipped script (share/leakwatch/
 * inspect.py) in the process twice, `seconds` apart, through the
 * attacher (os/inspect_attach.h), reads the two reports from the channel
 * (os/inspect_channel.h), checks them (core/inspect_report.h), writes
 * python.json and python.txt into the incident directory, and tells the
 * outcome in one `inspect` event.  Everything waits on the event loop:
 * the daemon never blocks on the process.
 *
 * While an inspection of a process runs, the watch's action on it waits
 * (inspect_running(): the monitor's action comes back -EAGAIN and is
 * asked again), so the worker is diagnosed before it is recycled; an
 * inspection ends, at the latest, seconds + INSPECT_SLACK_S after it
 * started. */
#ifndef LEAKWATCH_INSPECT_H
#define LEAKWATCH_INSPECT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "core/event.h"
#include "daemon/inspect_job.h"
#include "os/proc.h"

#define INSPECT_MAX_RUNNING 4
#define INSPECT_REPORT_WAIT_MS 10000   /* from the call made to the report read */
#define INSPECT_SLACK_S 60             /* two attaches and two report waits, at most */

/* An inspection of (pid, start_ticks) started ("running") or ended ("ok",
 * "failed"), with its one line (the summary, or why it failed). */
typedef void (*inspect_state_fn)(void *ctx, pid_t pid, unsigned long long start_ticks, const char *state,
				 const char *note, const char *incident);

struct inspection;

struct inspector {
	sd_event *e;
	const struct proc_root *root;  /* borrowed: the monitor's */
	char script[PATH_MAX];
	char runtime[PATH_MAX];
	inspect_event_fn emit;
	inspect_state_fn state;
	void *ctx;
	struct inspection *run[INSPECT_MAX_RUNNING];
};

/* script: the inspect script's path; runtime: the runtime directory for
 * the channels.  0 or -errno. */
int inspector_init(struct inspector *in, sd_event *e, const struct proc_root *root, const char *script,
		   const char *runtime, inspect_event_fn emit, inspect_state_fn state, void *ctx);
/* Drop every inspection (their attachers finish on their own). */
void inspector_free(struct inspector *in);

/* Start an inspection.  0 started; -EBUSY one of that process already
 * runs; -EAGAIN INSPECT_MAX_RUNNING run; any other -errno it could not
 * start, why in why (and an `inspect` event said so). */
int inspect_start(struct inspector *in, const struct inspect_request *rq, char *why, size_t len);

/* Whether an inspection of pid runs. */
bool inspect_running(const struct inspector *in, pid_t pid);

#endif
