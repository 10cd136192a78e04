/* Actions, the side-effect half: the dispatcher (io/actor.c) and its three
 * backends, one file each: signal (io/action_signal.c: pidfd, identity
 * re-checked, kill_after escalation), exec (io/action_exec.c: no shell, a
 * timeout, its output handed to the note callback) and restart-unit
 * (io/action_unit.c: RestartUnit over the system bus).  Each action taken,
 * withheld or simulated becomes an `action` event, sent through the emit
 * callback; this module logs nothing itself (io/log.h). */
#ifndef LEAKWATCH_ACTOR_H
#define LEAKWATCH_ACTOR_H

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
	const char *title;       /* its title (core/proc_title.h), or NULL */
	bool retry;              /* asked again after a suppression: silent if still gated */
	const char *incident;    /* diagnostics captured for it (named in the event), or NULL */
	/* A group verdict (core/group_judge.h): pid 0, the action the group's
	 * (alert or restart-unit), the unit the watch's `unit:` or else the
	 * one group_unit() finds (all the group's live processes are in it),
	 * asked only when an action event is to say it (not for a retry still
	 * withheld): 0 with the unit in unit, or -errno with why there is none
	 * in why (the action fails, saying it). */
	bool group;
	unsigned processes;      /* the processes summed */
	int (*group_unit)(void *ctx, char *unit, size_t len, char *why, size_t why_len);
	void *group_ctx;
};

/* An action event, described (e->message filled). */
typedef void (*act_emit_fn)(void *ctx, struct event *e);
/* A line to log, no event: an exec command's output, one line each, as
 * "WATCH: exec (pid CHILD) for pid PID: LINE" at LOG_INFO. */
typedef void (*act_note_fn)(void *ctx, int priority, const char *text);

struct actor;

/* emit must be given; note may be NULL (the output lines are dropped).
 * Both get ctx.  0 or -ENOMEM. */
int actor_new(struct actor **out, sd_event *e, const struct proc_root *root, pid_t self,
	      act_emit_fn emit, act_note_fn note, void *ctx);
/* Accepts NULL.  Frees everything the backends still hold, and reports:
 *  - an exec command still running: killed (its whole process group), its
 *    last output noted, reported as failed ("killed: leakwatchd is
 *    stopping");
 *  - a kill_after escalation not yet due: dropped, no event (the signal
 *    itself was reported when sent);
 *  - a RestartUnit call not yet answered: no event.  The call is flushed to
 *    the bus before it is closed, so it is in systemd's hands, which
 *    restarts the unit whether or not anyone waits for the reply; a
 *    "failed" would be untrue and an "ok" unconfirmed.  (As before the
 *    backends were split: their events are unchanged.) */
void actor_free(struct actor *a);
void actor_set_dry_run(struct actor *a, bool on);
/* exec commands run with this RLIMIT_NOFILE (the daemon raises its own). */
struct rlimit;
void actor_set_child_nofile(struct actor *a, const struct rlimit *rl);

/* Take the watch's action for this leak or limit event (none for alert);
 * for a group's (r->group), the group's action, on the unit named.
 * The process must still be pid with start_ticks, and, when procfd is
 * given, the very process behind it (a start time has clock-tick
 * resolution; the kept directory names one process whatever the time):
 * else the action fails, and nothing is signalled, restarted or run.
 * Never on PID 1 or on self (refused, as a failed action).
 * Returns 0, or -EAGAIN when cooldown or max_actions withheld it: the
 * caller asks again (with retry set) while the episode lasts, and the
 * action is taken once the gate opens.  A retry still gated reports
 * nothing: the first suppression was reported. */
int actor_run(struct actor *a, const struct act_request *r);

/* The watches' action records (cooldown, max_actions): saved with the
 * history, restored at start. */
struct action_policy;
struct action_policy **actor_policies(struct actor *a);

/* Actions still running (exec children, kill_after timers, RestartUnit
 * calls not answered yet). */
unsigned actor_pending(const struct actor *a);

#endif
