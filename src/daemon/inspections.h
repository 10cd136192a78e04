/* The daemon's side of inspections (daemon/inspect.h does them): when one
 * starts (a leak event of a watch with `inspect: python`, or
 * `leakwatchctl inspect PID`), the incident directory it reports into
 * (captured first when the process has none), the state kept on the
 * watched process for `leakwatchctl status`, and the control request. */
#ifndef LEAKWATCH_INSPECTIONS_H
#define LEAKWATCH_INSPECTIONS_H

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "core/buf.h"
#include "daemon/inspect.h"

struct monitor;
struct persist;
struct proc_handle;
struct watched;

struct inspections {
	struct inspector in;
	struct monitor *mon;       /* borrowed: whose processes are inspected */
	struct persist *persist;   /* borrowed: where incidents are captured */
	inspect_event_fn emit;
	void *ctx;
	bool ready;                /* inspector_init succeeded */
};

/* Borrow mon and persist; events go to emit(ctx, e).  0 or -errno (the
 * script's path too long): the daemon runs on, inspections refused. */
int inspections_init(struct inspections *s, sd_event *e, struct monitor *mon, struct persist *persist,
		     inspect_event_fn emit, void *ctx);
void inspections_free(struct inspections *s);

/* The monitor's inspect_fn (ctx: the struct inspections). */
void inspections_on_leak(void *ctx, const struct watched *w, const struct proc_handle *h, int metric);

/* Whether the action on pid waits for an inspection. */
bool inspections_busy(const struct inspections *s, pid_t pid);

/* A control request "inspect PID [SECONDS]" (the reply: "OK" and what
 * started, or "ERR why") or "inspection PID" (how the last one went):
 * true when it was one of them, the reply written. */
bool inspections_answer(struct inspections *s, const char *request, struct buf *reply);

#endif
