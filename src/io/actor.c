/* The actor's dispatcher: whether to act, and which backend acts.
 *
 * Acting on a process is the one thing leakwatchd does that cannot be
 * undone, so every action passes one gate here before any backend sees it:
 * alert-only watches stop at once; cooldown and max_actions
 * (core/action_policy.c) withhold it (reported once, then silent on
 * retries until the gate opens); PID 1 and leakwatchd itself are refused;
 * dry-run reports what would be done.  Only then does a backend act:
 * io/action_signal.c, io/action_exec.c or io/action_unit.c.
 *
 * Why the backends are apart: each schedules things of its own kind that
 * outlive the request (kill_after timers; exec children with a pipe and a
 * timer; RestartUnit calls on a bus), and each keeps them in a list it
 * frees whole, so that actor_free() leaves nothing behind; in one file the
 * three shared nothing but the event reporting, which is here
 * (io/actor_backend.h), with the identity checks all three need.  The cost
 * is an internal header and a record (act_record) copied from every
 * request, a few strings per action: actions are rare.
 *
 * The restart-unit target is looked up before the gate so that every event
 * of the action, suppressed and dry-run included, names the unit.  A
 * group's action (core/group_judge.h: a verdict on the sum over a watch's
 * processes) is about no process: its action is the group's, its unit the
 * watch's or the one the monitor found its processes in, and the checks
 * of a process's identity do not apply. */
#include "io/actor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/action_policy.h"
#include "core/group_judge.h"
#include "core/units.h"
#include "io/actor_backend.h"
#include "os/clock.h"

struct actor {
	struct act_base base;
	pid_t self;
	bool dry_run;
	struct action_policy *policies;
	struct act_signal *signal;
	struct act_exec *exec;
	struct act_unit *unit;
};

/* ---- what the backends share ---------------------------------------------- */

int act_record_init(struct act_record *s, const struct act_base *b, const struct act_request *r,
		    const char *action)
{
	memset(s, 0, sizeof(*s));
	s->base = b;
	s->action = action;
	s->metric = r->metric;
	s->pid = r->pid;
	s->start_ticks = r->start_ticks;
	s->watch = strdup(r->watch->name);
	s->comm = strdup(r->comm ? r->comm : "?");
	s->title = strdup(r->title ? r->title : "");
	s->incident = r->incident ? strdup(r->incident) : NULL;
	s->group = r->group;
	s->processes = r->processes;
	return s->watch && s->comm && s->title && (s->incident || !r->incident) ? 0 : -ENOMEM;
}

void act_record_clear(struct act_record *s)
{
	free(s->watch);
	free(s->comm);
	free(s->title);
	free(s->unit);
	free(s->incident);
	s->watch = s->comm = s->title = s->unit = s->incident = NULL;
}

void act_report(const struct act_record *s, const char *result, const char *fmt, ...)
{
	struct event ev;
	va_list ap;

	event_init(&ev, EVENT_ACTION, clock_usec(CLOCK_REALTIME));
	va_start(ap, fmt);
	vsnprintf(ev.detail, sizeof(ev.detail), fmt, ap);
	va_end(ap);
	if (s->group)
		event_about_group(&ev, s->watch, s->processes);
	else
		event_about(&ev, &(struct subject){ s->watch, s->pid, s->comm, s->title });
	ev.metric = s->metric;
	ev.action = s->action;
	ev.result = result;
	ev.unit = s->unit;
	ev.incident = s->incident;
	event_describe(&ev);
	s->base->emit(s->base->ctx, &ev);
}

int act_same_process(const struct act_base *b, pid_t pid, unsigned long long start_ticks)
{
	struct proc_stat st;
	int r = proc_read_stat(b->root, pid, &st, NULL);

	if (r < 0)
		return r;
	if (st.start_ticks != start_ticks || (proc_stat_dead(&st) && !proc_leader_exited(&st)))
		return -ESRCH;
	return 0;
}

int act_held_alive(const struct act_request *r)
{
	if (r->procfd < 0)
		return -EBADF;
	return syscall(SYS_pidfd_send_signal, r->procfd, 0, NULL, 0) < 0 ? -errno : 0;
}

/* A start time counts clock ticks, so a process that took the pid within
 * the same tick would pass for the one judged: the kept directory, when it
 * can tell, names that very process. */
int act_still_there(const struct act_base *b, const struct act_request *r)
{
	int e = act_same_process(b, r->pid, r->start_ticks);

	if (e < 0)
		return e;
	return act_held_alive(r) == -ESRCH ? -ESRCH : 0;
}

/* ---- the gate ------------------------------------------------------------- */

/* Report a withheld action: why the gate is shut. */
static void report_gated(const struct act_record *s, const struct watch *w, enum action_gate g)
{
	char why[64];

	if (g == GATE_COOLDOWN) {
		format_duration(why, sizeof(why), (double)w->cooldown_ms / 1000.0);
		act_report(s, "suppressed", "cooldown: the watch acted less than %s ago", why);
	} else {
		format_duration(why, sizeof(why), (double)w->max_actions_period_ms / 1000.0);
		act_report(s, "suppressed", "max_actions: %u in %s reached", w->max_actions, why);
	}
}

/* A group's unit: the watch's, else the one its live processes are in
 * (the monitor's lookup); none: why, into why.  0 or -errno. */
static int group_target(const struct act_request *r, char **unit, char *why, size_t len)
{
	char found[256] = "";
	int e;

	if (r->watch->unit)
		return (*unit = strdup(r->watch->unit)) ? 0 : -ENOMEM;
	if (!r->group_unit) {
		snprintf(why, len, "no unit to restart: name one with 'unit:'");
		return -ENOENT;
	}
	e = r->group_unit(r->group_ctx, found, sizeof(found), why, len);
	if (e < 0)
		return e;
	return (*unit = strdup(found)) ? 0 : -ENOMEM;
}

/* Hand the action to its backend, with the record (moved). */
static void dispatch(struct actor *a, enum action act, const struct act_request *r, struct act_record *s)
{
	switch (act) {
	case ACTION_SIGNAL:
		act_signal_run(a->signal, r, s);
		break;
	case ACTION_EXEC:
		act_exec_run(a->exec, r, s);
		break;
	case ACTION_RESTART_UNIT:
		act_unit_run(a->unit, r, s);
		break;
	default:
		break;
	}
}

int actor_run(struct actor *a, const struct act_request *r)
{
	const struct watch *w = r->watch;
	enum action act = r->group ? group_action(w, r->why) : r->why == EVENT_LIMIT ? w->on_limit : w->on_leak;
	uint64_t now_ms = clock_usec(CLOCK_MONOTONIC) / 1000;
	struct action_policy *p;
	struct act_record s;
	enum action_gate g;
	int ret = 0;

	if (act == ACTION_ALERT)
		return 0;
	p = action_policy_get(&a->policies, w->name);
	if (!p)
		return 0;
	g = action_gate(p, w, now_ms);
	if (r->retry && g != GATE_GO)
		return -EAGAIN;   /* still gated: its suppression was reported */
	if (act_record_init(&s, &a->base, r, action_name(act)) < 0)
		goto out;
	if (act == ACTION_RESTART_UNIT) {   /* named in every event, dry-run too */
		char no_unit[448] = "?";   /* an event detail's size */

		if (r->group && group_target(r, &s.unit, no_unit, sizeof(no_unit)) < 0) {
			act_report(&s, "failed", "%s", no_unit);
			goto out;
		}
		if (!r->group && act_unit_target(&a->base, r, &s.unit, no_unit, sizeof(no_unit)) < 0) {
			act_report(&s, "failed", "pid %d %s", (int)r->pid, no_unit);
			goto out;
		}
	}
	if (!r->group && (r->pid <= 1 || r->pid == a->self)) {
		act_report(&s, "failed", "refused: never acts on PID 1 or on leakwatchd");
		goto out;
	}
	if (g != GATE_GO) {
		report_gated(&s, w, g);
		ret = -EAGAIN;
		goto out;
	}
	action_record(p, w, now_ms);
	if (a->dry_run) {
		act_report(&s, "dry-run", "would %s", act == ACTION_SIGNAL ? "signal" :
			   act == ACTION_EXEC ? "run the exec command" : "restart the unit");
		goto out;
	}
	dispatch(a, act, r, &s);
out:
	act_record_clear(&s);
	return ret;
}

/* ---- the actor ------------------------------------------------------------ */

int actor_new(struct actor **out, sd_event *e, const struct proc_root *root, pid_t self,
	      act_emit_fn emit, act_note_fn note, void *ctx)
{
	struct actor *a = calloc(1, sizeof(*a));
	int r = -ENOMEM;

	if (!a)
		return -ENOMEM;
	a->base.event = sd_event_ref(e);
	a->base.root = root;
	a->base.emit = emit;
	a->base.note = note;
	a->base.ctx = ctx;
	a->self = self;
	if ((r = act_signal_new(&a->signal, &a->base)) < 0 ||
	    (r = act_exec_new(&a->exec, &a->base)) < 0 ||
	    (r = act_unit_new(&a->unit, &a->base)) < 0)
		goto fail;
	*out = a;
	return 0;
fail:
	actor_free(a);
	return r;
}

struct action_policy **actor_policies(struct actor *a)
{
	return &a->policies;
}

void actor_set_child_nofile(struct actor *a, const struct rlimit *rl)
{
	act_exec_set_nofile(a->exec, rl);
}

void actor_set_dry_run(struct actor *a, bool on)
{
	a->dry_run = on;
}

unsigned actor_pending(const struct actor *a)
{
	return act_signal_pending(a->signal) + act_exec_pending(a->exec) + act_unit_pending(a->unit);
}

void actor_free(struct actor *a)
{
	if (!a)
		return;
	act_exec_free(a->exec);       /* reports the commands it kills */
	act_signal_free(a->signal);
	act_unit_free(a->unit);
	action_policy_free_all(a->policies);
	sd_event_unref(a->base.event);
	free(a);
}
