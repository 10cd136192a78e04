/* What the actor's backends share, and how the dispatcher calls them:
 * internal to io/actor.c, io/action_signal.c, io/action_exec.c and
 * io/action_unit.c.
 *
 * An action may end long after its request is gone (a kill_after timer, an
 * exec child, a RestartUnit reply), so each backend keeps an act_record:
 * copies of what its action event names.  act_report() builds that event
 * from it (one subject, event_about(); the text, event_say()-style), so
 * every backend's events read alike.  The identity checks are here too:
 * every backend must know that the pid is still the process judged.
 *
 * Each backend owns what it schedules (sources, slots, fds, records) in a
 * list of its own and frees it all in its _free(); the dispatcher frees
 * the backends in actor_free().  This header includes nothing of io/actor.h
 * (struct act_request is only named), so that the backends may use the
 * dispatcher's header and the dispatcher this one without a module cycle. */
#ifndef LEAKWATCH_ACTOR_BACKEND_H
#define LEAKWATCH_ACTOR_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "core/event.h"
#include "os/proc.h"

/* The pidfd system calls, by number where the C library's headers are
 * older than the kernel. */
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

struct act_request;   /* io/actor.h */
struct rlimit;

/* What the dispatcher lends every backend, for the actor's lifetime. */
struct act_base {
	sd_event *event;
	const struct proc_root *root;
	void (*emit)(void *ctx, struct event *e);                 /* act_emit_fn */
	void (*note)(void *ctx, int priority, const char *text);  /* act_note_fn, or NULL */
	void *ctx;
};

/* What an action event needs after the request is gone. */
struct act_record {
	const struct act_base *base;
	char *watch, *comm, *title, *unit, *incident;   /* owned; unit NULL but for restart-unit; title "" none */
	const char *action;                     /* static: action_name() */
	int metric;
	pid_t pid;
	unsigned long long start_ticks;
	bool group;                             /* about the watch's group, pid 0 */
	unsigned processes;                     /* its processes summed */
};

/* Copy what the event needs from the request.  0 or -ENOMEM (then
 * act_record_clear() still frees what was copied). */
int act_record_init(struct act_record *s, const struct act_base *b, const struct act_request *r,
		    const char *action);
void act_record_clear(struct act_record *s);   /* frees the strings; may be called twice */

/* Emit the action event "SUBJECT: action ACTION: RESULT: TEXT". */
void act_report(const struct act_record *s, const char *result, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Is pid still the process that started at start_ticks (and no zombie)?
 * A process whose leader alone has exited (proc_leader_exited: a zombie
 * leader, the group counting more threads) is no zombie: a signal to the
 * pid, a pidfd of it or its kept /proc/PID directory still reaches the
 * thread group, and the start time is the leader's, kept while the group
 * lives.  0, -ESRCH, or the -errno of reading its stat. */
int act_same_process(const struct act_base *b, pid_t pid, unsigned long long start_ticks);
/* Is the monitor's kept /proc/PID directory's process alive?  0 yes,
 * -ESRCH gone, another -errno when it cannot tell (no fd, not a /proc/PID
 * directory, a kernel without pidfd_send_signal). */
int act_held_alive(const struct act_request *r);
/* Is the process judged still there: its start time, and its kept
 * directory when that can tell?  0 or -ESRCH (or -errno of reading it). */
int act_still_there(const struct act_base *b, const struct act_request *r);

/* ---- signal: io/action_signal.c ------------------------------------------ */
struct act_signal;
int act_signal_new(struct act_signal **out, const struct act_base *b);   /* 0 or -ENOMEM */
void act_signal_free(struct act_signal *s);          /* accepts NULL; drops the timers */
/* Each _run() below takes the action for r, and the record the dispatcher
 * made for it: its strings move to the backend (*rec is left cleared),
 * which reports the action's outcome from it. */
void act_signal_run(struct act_signal *s, const struct act_request *r, struct act_record *rec);
unsigned act_signal_pending(const struct act_signal *s);   /* kill_after timers */

/* ---- exec: io/action_exec.c ---------------------------------------------- */
struct act_exec;
int act_exec_new(struct act_exec **out, const struct act_base *b);       /* 0 or -ENOMEM */
/* Accepts NULL.  Kills the commands still running, each reported failed. */
void act_exec_free(struct act_exec *x);
void act_exec_set_nofile(struct act_exec *x, const struct rlimit *rl);
void act_exec_run(struct act_exec *x, const struct act_request *r, struct act_record *rec);
unsigned act_exec_pending(const struct act_exec *x);       /* commands running */

/* ---- restart-unit: io/action_unit.c -------------------------------------- */
struct act_unit;
int act_unit_new(struct act_unit **out, const struct act_base *b);       /* 0 or -ENOMEM */
/* Accepts NULL.  Drops the pending calls' callbacks (no event), flushes and
 * closes the bus. */
void act_unit_free(struct act_unit *u);
/* The unit to restart: the rule's, or the system unit the process is in
 * (core/cgroup_unit.h), into *unit (malloc'ed).  0; -ESRCH (gone), -ENOENT
 * (in no unit, or in none that can be told) or -EPERM (in a user's service
 * manager: refused) with why filled (the text after "pid PID "); -ENOMEM. */
int act_unit_target(const struct act_base *b, const struct act_request *r, char **unit,
		    char *why, size_t why_len);
/* RestartUnit rec->unit (from act_unit_target()). */
void act_unit_run(struct act_unit *u, const struct act_request *r, struct act_record *rec);
unsigned act_unit_pending(const struct act_unit *u);       /* calls not answered */

#endif
