/* When inspections start, and what they leave on the watched process
 * (inspections.h says what).
 *
 * An inspection is started once per leak episode (the leak event comes
 * once), and never twice at once for a process; its outcome is kept on
 * the watched record, so it lives and dies with the process, and status
 * shows it.  On demand, only a watched process may be inspected: the
 * configuration is what says a process is the operator's to look into.
 *
 * Costs: nothing of its own beyond an incident capture per inspection. */
#include "daemon/inspections.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/monitor.h"
#include "daemon/persist.h"
#include "os/clock.h"
#include "os/paths.h"

static struct watched *find(struct inspections *s, pid_t pid, unsigned long long start_ticks)
{
	for (struct watched *w = s->mon->j.watched; w; w = w->next)
		if (w->pid == pid && w->start_ticks == start_ticks)
			return w;
	return NULL;
}

static void on_state(void *ctx, pid_t pid, unsigned long long start_ticks, const char *state, const char *note,
		     const char *incident)
{
	struct inspections *s = ctx;
	struct watched *w = find(s, pid, start_ticks);

	(void)incident;
	if (!w)
		return;
	snprintf(w->inspect_state, sizeof(w->inspect_state), "%s", state);
	free(w->inspect_note);
	w->inspect_note = note ? strdup(note) : NULL;
}

static void on_emit(void *ctx, struct event *e)
{
	struct inspections *s = ctx;

	s->emit(s->ctx, e);
}

int inspections_init(struct inspections *s, sd_event *e, struct monitor *mon, struct persist *persist,
		     inspect_event_fn emit, void *ctx)
{
	char script[PATH_MAX], runtime[PATH_MAX];
	int r;

	memset(s, 0, sizeof(*s));
	s->mon = mon;
	s->persist = persist;
	s->emit = emit;
	s->ctx = ctx;
	if ((r = inspect_script_path(script, sizeof(script))) < 0 || (r = runtime_dir(runtime, sizeof(runtime))) < 0)
		return r;
	r = inspector_init(&s->in, e, &mon->root, script, runtime, on_emit, on_state, s);
	s->ready = r == 0;
	return r;
}

void inspections_free(struct inspections *s)
{
	if (s->ready)
		inspector_free(&s->in);
	s->ready = false;
}

bool inspections_busy(const struct inspections *s, pid_t pid)
{
	return s->ready && inspect_running(&s->in, pid);
}

/* Start one on w: 0 or -errno, why in why (-EBUSY: one runs already). */
static int start(struct inspections *s, struct watched *w, const struct proc_handle *h, const char *trigger,
		 unsigned seconds, char *why, size_t len)
{
	const struct watch *wc = &s->mon->j.cfg->watches[w->watch];
	struct inspect_request rq = {
		.pid = w->pid, .start_ticks = w->start_ticks, .procfd = h->dirfd, .watch = wc->name,
		.comm = w->comm, .title = w->title, .trigger = trigger, .seconds = seconds,
	};

	if (!s->ready) {
		snprintf(why, len, "inspections are not set up (the script's path is too long)");
		return -ENOSYS;
	}
	if (inspect_running(&s->in, w->pid)) {
		snprintf(why, len, "an inspection of pid %d is running", (int)w->pid);
		return -EBUSY;
	}
	if (!trigger || !w->incident) {
		/* on demand, or a capture that failed: an incident of its own */
		char dir[PATH_MAX];

		if (persist_capture(s->persist, w, h, EVENT_INSPECT, METRIC_RSS, dir, sizeof(dir)) == 0) {
			free(w->incident);
			w->incident = strdup(dir);
		}
	}
	rq.incident = w->incident;
	return inspect_start(&s->in, &rq, why, len);
}

void inspections_on_leak(void *ctx, const struct watched *cw, const struct proc_handle *h, int metric)
{
	struct inspections *s = ctx;
	struct watched *w = find(s, cw->pid, cw->start_ticks);
	char why[512];
	int r;

	if (!w)
		return;
	r = start(s, w, h, metric_name((enum metric)metric), s->mon->j.cfg->watches[w->watch].inspect_seconds, why,
		  sizeof(why));
	/* a failure was told by an inspect event; -EBUSY needs no word; no
	 * room is told here, and the action does not wait */
	if (r == -EAGAIN || r == -ENOSYS) {
		struct subject sub = { s->mon->j.cfg->watches[w->watch].name, w->pid, w->comm, w->title };
		struct event ev;

		event_init(&ev, EVENT_INSPECT, clock_usec(CLOCK_REALTIME));
		event_about(&ev, &sub);
		ev.result = "failed";
		ev.incident = w->incident;
		event_say(&ev, "inspection failed: not inspected: %s (its action goes ahead)", why);
		event_describe(&ev);
		s->emit(s->ctx, &ev);
	}
}

/* "inspection PID": how its last inspection went, as lines "state\tSTATE",
 * "note\tTEXT", "incident\tDIR". */
static void answer_state(struct inspections *s, const char *arg, struct buf *reply)
{
	const struct watched *w;
	char *end;
	long pid = strtol(arg, &end, 10);

	if (end == arg || *end || pid <= 0 || pid > INT32_MAX) {
		buf_printf(reply, "ERR not a pid: %.40s\n", arg);
		return;
	}
	if (!(w = judged_find(&s->mon->j, (pid_t)pid))) {
		buf_printf(reply, "ERR pid %ld is not watched\n", pid);
		return;
	}
	buf_puts(reply, "OK\nstate\t");
	buf_puts(reply, w->inspect_state[0] ? w->inspect_state : "none");
	buf_puts(reply, "\nnote\t");
	buf_line_text(reply, w->inspect_note ? w->inspect_note : "");
	buf_puts(reply, "\nincident\t");
	buf_line_text(reply, w->incident ? w->incident : "");
	buf_puts(reply, "\n");
}

bool inspections_answer(struct inspections *s, const char *request, struct buf *reply)
{
	char why[512], *end;
	long pid, seconds = 0;
	struct watched *w;
	int r;

	if (strncmp(request, "inspection ", 11) == 0) {
		answer_state(s, request + 11, reply);
		return true;
	}
	if (strncmp(request, "inspect ", 8) != 0)
		return false;
	pid = strtol(request + 8, &end, 10);
	if (end == request + 8 || pid <= 0 || pid > INT32_MAX || (*end && *end != ' ')) {
		buf_printf(reply, "ERR not a pid: %.40s\n", request + 8);
		return true;
	}
	if (*end == ' ') {
		char *p = end + 1;

		seconds = strtol(p, &end, 10);
		if (end == p || *end || seconds < 1 || seconds > INSPECT_SECONDS_MAX) {
			buf_printf(reply, "ERR seconds must be from 1 to %d: %.40s\n", INSPECT_SECONDS_MAX, p);
			return true;
		}
	}
	w = NULL;
	for (struct watched *x = s->mon->j.watched; x; x = x->next)
		if (x->pid == (pid_t)pid)
			w = x;
	if (!w) {
		buf_printf(reply, "ERR pid %ld is not watched: only a process a watch matches is inspected\n", pid);
		return true;
	}
	if (!seconds)
		seconds = s->mon->j.cfg->watches[w->watch].inspect_seconds;
	r = start(s, w, &tracked_of(w)->h, NULL, (unsigned)seconds, why, sizeof(why));
	if (r < 0) {
		buf_puts(reply, "ERR ");
		buf_line_text(reply, why);
		buf_puts(reply, "\n");
		return true;
	}
	buf_printf(reply, "OK\ninspecting pid %ld for %ld s\n", pid, seconds);
	return true;
}
