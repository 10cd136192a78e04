/* An inspection's findings and its end (inspect_job.h says what).
 *
 * Why the daemon measures the process itself: RSS, fds and threads as the
 * process reports them could say anything; the same numbers read from
 * /proc by the daemon at the moment each report came in are what the
 * outside-the-heap verdict is judged on.  Why the files are written only
 * at the end: an incident holds complete reports or none.
 *
 * Costs: two proc samples, the rendering of two reports (at most 256 KiB
 * each) into at most a few hundred KiB. */
#include "daemon/inspect_job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/inspect_render.h"
#include "core/inspect_text.h"
#include "os/clock.h"
#include "os/files.h"

int inspect_job_init(struct inspect_job *j, const struct inspect_request *rq)
{
	memset(j, 0, sizeof(*j));
	inspect_report_init(&j->rep[0]);
	inspect_report_init(&j->rep[1]);
	j->pid = rq->pid;
	j->start_ticks = rq->start_ticks;
	j->seconds = rq->seconds;
	snprintf(j->trigger, sizeof(j->trigger), "%s", rq->trigger ? rq->trigger : "");
	j->m.trigger = j->trigger;
	j->watch = strdup(rq->watch ? rq->watch : "");
	j->comm = strdup(rq->comm ? rq->comm : "");
	j->title = strdup(rq->title ? rq->title : "");
	j->incident = rq->incident ? strdup(rq->incident) : NULL;
	if (!j->watch || !j->comm || !j->title || (rq->incident && !j->incident))
		return -ENOMEM;
	return 0;
}

void inspect_job_free(struct inspect_job *j)
{
	if (!j)
		return;
	inspect_report_free(&j->rep[0]);
	inspect_report_free(&j->rep[1]);
	free(j->watch);
	free(j->comm);
	free(j->title);
	free(j->incident);
	j->watch = j->comm = j->title = j->incident = NULL;
}

void inspect_job_attached(struct inspect_job *j, int phase, const struct attach_outcome *o)
{
	if (o->version[0])
		snprintf(j->version, sizeof(j->version), "%s", o->version);
	if (phase == 1 || phase == 2) {
		j->attach[phase - 1] = o->res;
		j->m.held_usec[phase - 1] = o->res.held_usec;
		j->m.wait_usec[phase - 1] = o->res.wait_usec;
		j->m.traced[phase - 1] = o->res.threads;
	}
}

int inspect_job_report(struct inspect_job *j, int phase, const char *text, size_t len, const char *token,
		       char *why, size_t whylen)
{
	int r = inspect_parse(&j->rep[phase - 1], text, len, token, phase, (uint64_t)j->pid, why, whylen);

	if (r == -E2BIG)
		snprintf(why, whylen, "larger than %d bytes", INSPECT_REPORT_MAX);
	j->have[phase - 1] = r == 0;
	return r;
}

void inspect_job_measure(struct inspect_job *j, const struct proc_root *root, int phase)
{
	struct proc_handle h;
	struct proc_sample s;

	if (proc_open(root, j->pid, j->start_ticks, &h) < 0)
		return;
	if (proc_sample(root, &h, &s) == 0) {
		uint64_t rss = (uint64_t)s.rss, fds = s.fds_err ? 0 : (uint64_t)s.fds, thr = (uint64_t)s.threads;

		if (phase == 1) {
			j->m.rss1 = rss;
			j->m.fds1 = fds;
			j->m.threads1 = thr;
		} else {
			j->m.rss2 = rss;
			j->m.fds2 = fds;
			j->m.threads2 = thr;
		}
	}
	proc_close(&h);
}

static void event_for(struct inspect_job *j, struct event *ev, const char *result)
{
	struct subject s = { j->watch, j->pid, j->comm, j->title };

	event_init(ev, EVENT_INSPECT, clock_usec(CLOCK_REALTIME));
	event_about(ev, &s);
	ev->result = result;
	ev->incident = j->incident;
}

/* python.json and python.txt into the incident directory: 0 or -errno. */
static int write_files(struct inspect_job *j)
{
	struct buf json = { 0 }, text = { 0 };
	char path[PATH_MAX];
	int r = 0;

	if (!j->incident)
		return 0;
	inspect_render_json(&json, j->have[0] ? &j->rep[0] : NULL, j->have[1] ? &j->rep[1] : NULL, &j->m,
			    &j->facts);
	inspect_render_text(&text, j->have[0] ? &j->rep[0] : NULL, j->have[1] ? &j->rep[1] : NULL, &j->m,
			    &j->facts);
	if (!buf_ok(&json) || !buf_ok(&text))
		r = -ENOMEM;
	if (!r && snprintf(path, sizeof(path), "%s/python.json", j->incident) < (int)sizeof(path))
		r = write_file_atomic(path, json.data, json.len, 0640, false);
	if (!r && snprintf(path, sizeof(path), "%s/python.txt", j->incident) < (int)sizeof(path))
		r = write_file_atomic(path, text.data, text.len, 0640, false);
	buf_free(&json);
	buf_free(&text);
	return r;
}

void inspect_finish_ok(struct inspect_job *j, inspect_event_fn emit, void *ctx)
{
	struct event ev;
	int r;

	j->m.seconds = j->rep[1].elapsed;
	inspect_facts_build(&j->facts, &j->rep[0], &j->rep[1], &j->m);   /* both parsed here */
	snprintf(j->summary, sizeof(j->summary), "%s", j->facts.summary);
	r = write_files(j);
	event_for(j, &ev, "ok");
	if (j->facts.has_type)
		ev.top_type = j->facts.top_type;
	if (j->facts.has_site)
		ev.top_site = j->facts.top_site;
	if (r < 0)
		event_say(&ev, "%s (the report could not be written under %s: %s)", j->summary, j->incident,
			  strerror(-r));
	else
		event_say(&ev, "%s", j->summary);
	event_describe(&ev);
	emit(ctx, &ev);
}

void inspect_finish_failed(struct inspect_job *j, inspect_event_fn emit, void *ctx)
{
	struct event ev;

	event_for(j, &ev, "failed");
	event_say(&ev, "inspection failed: %s", j->why);
	event_describe(&ev);
	emit(ctx, &ev);
}
