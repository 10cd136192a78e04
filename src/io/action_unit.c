/* The restart-unit action: RestartUnit over the system bus.
 *
 * A supervised service is best recycled by its supervisor: systemd stops
 * the whole unit (every process of it, in order, with its ExecStop) and
 * starts it again, where a signal to one pid would leave the rest.  The
 * unit is the rule's (`unit:`), or the one the process is in, read from
 * /proc/PID/cgroup (a live thread's, once the main thread has exited: an
 * exited leader shows the root cgroup of the v1 hierarchies, name=systemd's
 * among them); the read is checked against the process's identity
 * afterwards, so that the unit is the judged process's and not that of
 * one that took its pid.  The unit is the system manager's one the
 * process is in, by systemd's own rule (core/cgroup_unit.h), which the
 * owner of a delegated subtree cannot steer by naming its cgroups; a
 * group's restart (r->group) names its unit already (io/actor.c) and has
 * no process to check.  A process under a user's service manager
 * (user@UID.service) is refused:
 * restarting the manager would stop all of that user's services, and the
 * system manager does not know the units within it.
 *
 * The bus is opened at the first restart and kept; calls are asynchronous
 * (the event loop goes on while systemd works), one pending call each,
 * with its own bus slot and record, in a list.  The reply reports the
 * action: "RestartUnit UNIT queued" (systemd took the job) or the error.
 * act_unit_free() drops the slots (no callback, no event: see
 * io/actor.h's actor_free), then flushes the calls already made to the
 * bus and closes it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "io/actor.h"
#include "io/actor_backend.h"

struct restart_call {
	struct restart_call *next;
	struct act_unit *owner;
	struct act_record s;
	sd_bus_slot *slot;
};

struct act_unit {
	const struct act_base *base;
	sd_bus *bus;                   /* opened at the first restart */
	struct restart_call *calls;    /* sent, not answered yet */
	unsigned n;
};

static void call_free(struct restart_call *c)
{
	struct restart_call **pp;

	for (pp = &c->owner->calls; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			c->owner->n--;
			break;
		}
	sd_bus_slot_unref(c->slot);
	act_record_clear(&c->s);
	free(c);
}

static int on_restart_reply(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct restart_call *c = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);

	(void)error;
	if (e)
		act_report(&c->s, "failed", "RestartUnit %s: %s", c->s.unit, e->message ? e->message : e->name);
	else
		act_report(&c->s, "ok", "RestartUnit %s queued", c->s.unit);
	call_free(c);
	return 0;
}

int act_unit_target(const struct act_base *b, const struct act_request *r, char **unit,
		    char *why, size_t why_len)
{
	char dir[48];
	struct cgroup_unit u;
	struct proc_stat st;
	int e;

	if (r->watch->unit)
		return (*unit = strdup(r->watch->unit)) ? 0 : -ENOMEM;
	/* A leader that exited shows v1's root cgroup: a live thread's, then. */
	snprintf(dir, sizeof(dir), "%d", (int)r->pid);
	if (proc_read_stat(b->root, r->pid, &st, NULL) == 0)
		proc_live_dir(b->root, r->pid, &st, dir, sizeof(dir));
	e = proc_read_unit(b->root, dir, &u);
	/* Checked after the read: a process still there now was there then, so
	 * the cgroup read is its own, not that of a process that took its pid. */
	if (act_still_there(b, r) < 0) {
		snprintf(why, why_len, "is gone or was replaced before its unit was looked up");
		return -ESRCH;
	}
	if (e == -EINVAL) {
		snprintf(why, why_len, "is in no unit that can be told: its cgroup hierarchies "
			 "(unified and name=systemd) name different units");
		return -ENOENT;
	}
	if (e < 0) {
		snprintf(why, why_len, "is in no systemd unit");
		return -ENOENT;
	}
	if (cgroup_unit_is_user_manager(u.system)) {
		snprintf(why, why_len, "is in %s, a user's service manager%s%s%s: refused, as restarting "
			 "it would stop every service of that user, and the system manager does not "
			 "know the units within it", u.system, u.user[0] ? " (its unit there: " : "",
			 u.user, u.user[0] ? ")" : "");
		return -EPERM;
	}
	return (*unit = strdup(u.system)) ? 0 : -ENOMEM;
}

/* The system bus, opened and attached to the loop once.  0 or -errno. */
static int bus_open(struct act_unit *u)
{
	int e;

	if (u->bus)
		return 0;
	e = sd_bus_open_system(&u->bus);
	if (e >= 0)
		e = sd_bus_attach_event(u->bus, u->base->event, SD_EVENT_PRIORITY_NORMAL);
	if (e < 0)
		u->bus = sd_bus_unref(u->bus);
	return e;
}

void act_unit_run(struct act_unit *u, const struct act_request *r, struct act_record *s)
{
	struct restart_call *c = calloc(1, sizeof(*c));
	int e;

	if (!c)
		goto out;
	c->owner = u;
	c->s = *s;        /* the call owns the strings now */
	memset(s, 0, sizeof(*s));
	if (!r->group && act_still_there(u->base, r) < 0) {
		act_report(&c->s, "failed", "pid %d is gone or was replaced before the restart", (int)r->pid);
		goto fail;
	}
	e = bus_open(u);
	if (e < 0) {
		act_report(&c->s, "failed", "cannot connect to the system bus: %s", strerror(-e));
		goto fail;
	}
	e = sd_bus_call_method_async(u->bus, &c->slot, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
				     "org.freedesktop.systemd1.Manager", "RestartUnit", on_restart_reply,
				     c, "ss", c->s.unit, "replace");
	if (e < 0) {
		act_report(&c->s, "failed", "RestartUnit %s: %s", c->s.unit, strerror(-e));
		goto fail;
	}
	c->next = u->calls;
	u->calls = c;
	u->n++;
	return;
fail:
	call_free(c);   /* not listed yet */
out:
	act_record_clear(s);
}

int act_unit_new(struct act_unit **out, const struct act_base *b)
{
	struct act_unit *u = calloc(1, sizeof(*u));

	if (!u)
		return -ENOMEM;
	u->base = b;
	*out = u;
	return 0;
}

unsigned act_unit_pending(const struct act_unit *u)
{
	return u ? u->n : 0;
}

void act_unit_free(struct act_unit *u)
{
	if (!u)
		return;
	while (u->calls)
		call_free(u->calls);
	sd_bus_flush_close_unref(u->bus);
	free(u);
}
