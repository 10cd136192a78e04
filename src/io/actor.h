/* Actions, the side-effect half: signal (pidfd, identity re-checked, with
 * kill_after escalation), restart-unit (RestartUnit over the system bus),
 * exec (no shell, a timeout, its output logged).  Each action taken,
 * withheld or simulated becomes an `action` event. */
#ifndef LEAKWATCH_ACT_H
#define LEAKWATCH_ACT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "core/config.h"
#include "core/event.h"
#include "os/proc.h"

struct act_request {
	const struct watch *watch;
	enum event_type why;     /* EVENT_LEAK or EVENT_LIMIT */
	int metric;
	double value;
	pid_t pid;
	unsigned long long start_ticks;
	int procfd;              /* the monitor's kept /proc/PID directory, or -1 */
	const char *comm;
	bool retry;              /* asked again after a suppression: silent if still gated */
	const char *incident;    /* diagnostics captured for it (named in the event), or NULL */
};

typedef void (*act_emit_fn)(void *ctx, struct event *e);

struct actor;

int actor_new(struct actor **out, sd_event *e, const struct proc_root *root, pid_t self,
	      act_emit_fn emit, void *ctx);
/* Accepts NULL.  Kills exec commands still running (each reported as a
 * failed action); pending kill_after escalations are dropped. */
void actor_free(struct actor *a);
void actor_set_dry_run(struct actor *a, bool on);
/* exec commands run with this RLIMIT_NOFILE (the daemon raises its own). */
struct rlimit;
void actor_set_child_nofile(struct actor *a, const struct rlimit *rl);

/* Take the watch's action for this leak or limit event (none for alert).
 * The process must still be pid with start_ticks, and, when procfd is
 * given, the very process behind it (a start time has clock-tick
 * resolution; the kept directory names one process whatever the time):
 * else the action fails, and nothing is signalled, restarted or run.
 * Returns 0, or -EAGAIN when cooldown or max_actions withheld it: the
 * caller asks again (with retry set) while the episode lasts, and the
 * action is taken once the gate opens.  A retry still gated reports
 * nothing: the first suppression was reported. */
int actor_run(struct actor *a, const struct act_request *r);

/* The watches' action records (cooldown, max_actions): saved with the
 * history, restored at start. */
struct action_policy;
struct action_policy **actor_policies(struct actor *a);

/* Actions still running (exec children, kill_after timers). */
unsigned actor_pending(const struct actor *a);

#endif
