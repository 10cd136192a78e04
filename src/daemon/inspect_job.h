/* One inspection's request, and its findings as they come (daemon/inspect.h
 * runs it): the two
 * reports, checked; what the daemon measured of the process at each;
 * what each attach cost; and at the end the files in the incident
 * directory and the `inspect` event. */
#ifndef LEAKWATCH_INSPECT_JOB_H
#define LEAKWATCH_INSPECT_JOB_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/inspect_report.h"
#include "core/inspect_summary.h"
#include "core/event.h"
#include "os/inspect_attach.h"
#include "os/proc.h"

typedef void (*inspect_event_fn)(void *ctx, struct event *e);

/* What to inspect (daemon/inspect.h's inspect_start). */
struct inspect_request {
	pid_t pid;
	unsigned long long start_ticks;
	int procfd;                /* its /proc/PID directory (duplicated) */
	const char *watch, *comm;
	const char *title;         /* its title (core/proc_title.h), or NULL */
	const char *trigger;       /* the leaking metric ("rss", "fds", ...), NULL on demand */
	unsigned seconds;          /* between the two looks */
	const char *incident;      /* the incident directory for the report, or NULL */
};

struct inspect_job {
	pid_t pid;
	unsigned long long start_ticks;
	char *watch, *comm, *title, *incident;   /* owned; incident NULL when none */
	char trigger[8];                 /* "" on demand */
	unsigned seconds;
	char version[16];                /* the runtime's, from the attacher */
	struct inspect_report rep[2];
	bool have[2];                    /* rep[i] parsed */
	struct inspect_measure m;        /* m.trigger points into trigger */
	struct ptrace_call_result attach[2];
	char why[512];                   /* why it failed */
	char summary[INSPECT_SUMMARY_LEN + 1];
	struct inspect_facts facts;
};

/* 0 or -ENOMEM. */
int inspect_job_init(struct inspect_job *j, const struct inspect_request *rq);
void inspect_job_free(struct inspect_job *j);   /* accepts a zeroed job */

/* The attacher's outcome of phase (1 or 2). */
void inspect_job_attached(struct inspect_job *j, int phase, const struct attach_outcome *o);

/* The report text of phase: 0, or -errno with why (inspect_parse()). */
int inspect_job_report(struct inspect_job *j, int phase, const char *text, size_t len, const char *token,
		       char *why, size_t whylen);

/* Measure the process now, for phase (its RSS, fds, threads). */
void inspect_job_measure(struct inspect_job *j, const struct proc_root *root, int phase);

/* The end: the facts and summary, python.json and python.txt in the
 * incident directory, the `inspect` event (result ok). */
void inspect_finish_ok(struct inspect_job *j, inspect_event_fn emit, void *ctx);

/* The end when it failed (j->why says why): the `inspect` event (result
 * failed). */
void inspect_finish_failed(struct inspect_job *j, inspect_event_fn emit, void *ctx);

#endif
