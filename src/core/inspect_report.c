/* The parser of the inspection script's report (see inspect_report.h and
 * share/leakwatch/report-format.md): the records, on top of the framing
 * (lines, fields, numbers) of core/inspect_lines.c.
 *
 * The problem: the report is written by code running inside the watched
 * process, which is hostile, and it may write anything into the FIFO up to
 * the 256 KiB the daemon reads.  Every figure the daemon shows of it must
 * be one the format allows, in a table of the format's size.
 *
 * Why strict, refusing the whole report at the first fault, rather than
 * skipping bad lines: a report that breaks the format was either written
 * by a broken script or forged, and in both cases its "good" lines are
 * not to be trusted either; one rule is also easier to test than a repair
 * for every fault.  Unknown record names are the one leniency, as the
 * format asks (a newer script may add records): their lines pass the
 * framing's checks and are skipped whole (a frame after one still belongs
 * to the site or stack before it).
 *
 * Why a table of records: half of them exist in both phases, some with
 * other fields (heap, objects); one row per record with its field count
 * per phase says in one place what the format's prose says in two, and a
 * record of the wrong phase is refused by the same test as a wrong field
 * count.  The readers store what they read, checking the caps, "-" for
 * none, the enumerations (states, kinds, WHATs) and the few rules between
 * fields (a type grew; a frame follows its site or stack).  The order of
 * rows ("most grown first") is not checked: the facts
 * (core/inspect_summary.c) pick their maxima themselves.  A referent's
 * OWNER is not checked against the types either (it is shown under its
 * own name when it names none).
 *
 * Memory: the text is copied once into a buffer the report owns (at most
 * INSPECT_REPORT_MAX + 1 bytes), cut in place by the framing, and the
 * report's strings point into it: one allocation, freed with the report,
 * no string longer than a field.  The tables are fixed arrays of the
 * format's caps, so the struct has a fixed size (about 6 KiB) and the
 * parse is one pass, linear in the text.  The cost: the copy is as big as
 * the text even when most of it is an unknown record nobody keeps. */
#include "core/inspect_report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	struct inspect_lines l;
	struct inspect_report *r;
	const char *token;         /* expected */
	int phase;                 /* expected */
	uint64_t pid;              /* expected, 0: any */
	unsigned seen;             /* records that come once, seen (their once bits) */
	struct inspect_frame *frames;   /* where a frame goes now, or NULL */
	size_t *n_frames;
	size_t frames_max;
	const char *frames_of;     /* "site" or "stack" */
};

struct record {
	const char *name;
	unsigned char fields[2];   /* fields (the name included) in phase 1, 2; 0: not there */
	unsigned once;             /* a bit of its own when it comes at most once, else 0 */
	bool frame;                /* the frame record: keeps the frames' owner */
	int (*parse)(struct parser *p);
};

static const char *const tm_names[] = {
	[INSPECT_TM_STARTED] = "started", [INSPECT_TM_RUNNING] = "running",
	[INSPECT_TM_FAILED] = "failed", [INSPECT_TM_STOPPED] = "stopped", [INSPECT_TM_OFF] = "off",
};

const char *inspect_tm_name(enum inspect_tm s)
{
	return s > INSPECT_TM_UNKNOWN && s <= INSPECT_TM_OFF ? tm_names[s] : NULL;
}

static const char *const kind_names[] = {
	[INSPECT_FILE_FILE] = "file", [INSPECT_FILE_SOCKET] = "socket", [INSPECT_FILE_SQLITE] = "sqlite",
};

const char *inspect_file_kind_name(enum inspect_file_kind k)
{
	return k <= INSPECT_FILE_SQLITE ? kind_names[k] : "?";
}

void inspect_report_init(struct inspect_report *r)
{
	memset(r, 0, sizeof(*r));
}

void inspect_report_free(struct inspect_report *r)
{
	if (!r)
		return;
	free(r->text);
	inspect_report_init(r);
}

enum {
	ONCE_HEADER = 1u << 0, ONCE_PYTHON = 1u << 1, ONCE_PAUSE = 1u << 2, ONCE_TM = 1u << 3,
	ONCE_HEAP = 1u << 4, ONCE_OBJECTS = 1u << 5, ONCE_THREADS = 1u << 6, ONCE_ELAPSED = 1u << 7,
	ONCE_FILES = 1u << 8,
};

/* "-" is none. */
static const char *opt(const char *s)
{
	return strcmp(s, "-") == 0 ? NULL : s;
}

/* Room for one more of a table of max rows: 0 or -EBADMSG. */
static int room(struct parser *p, size_t n, size_t max)
{
	if (n >= max)
		return inspect_fail(&p->l, "%s: more than %zu", p->l.rec, max);
	return 0;
}

static int rec_header(struct parser *p)
{
	if (strcmp(p->l.f[1], "1") != 0)
		return inspect_fail(&p->l, "leakwatch-inspect: not format %d", INSPECT_FORMAT);
	if (strcmp(p->l.f[2], p->token) != 0)
		return inspect_fail(&p->l, "leakwatch-inspect: wrong token");
	if (strcmp(p->l.f[3], p->phase == 1 ? "1" : "2") != 0)
		return inspect_fail(&p->l, "leakwatch-inspect: not a phase %d report", p->phase);
	return 0;
}

static int rec_python(struct parser *p)
{
	struct inspect_report *r = p->r;

	if (!p->l.f[1][0])
		return inspect_fail(&p->l, "python: empty VERSION");
	if (inspect_count(&p->l, 2, "PID", &r->pid) < 0)
		return -EBADMSG;
	if (r->pid == 0 || (p->pid && r->pid != p->pid))
		return inspect_fail(&p->l, "python: pid %llu, expected %llu", (unsigned long long)r->pid,
				    (unsigned long long)p->pid);
	r->version = p->l.f[1];
	return 0;
}

static int rec_pause(struct parser *p)
{
	return inspect_seconds(&p->l, 1, "SECONDS", &p->r->pause);
}

static int rec_tracemalloc(struct parser *p)
{
	static const enum inspect_tm states[2][3] = {
		{ INSPECT_TM_STARTED, INSPECT_TM_RUNNING, INSPECT_TM_FAILED },
		{ INSPECT_TM_STOPPED, INSPECT_TM_RUNNING, INSPECT_TM_OFF },
	};

	for (int i = 0; i < 3; i++) {
		enum inspect_tm s = states[p->phase - 1][i];

		if (strcmp(p->l.f[1], inspect_tm_name(s)) == 0) {
			p->r->tracemalloc = s;
			p->r->have |= INSPECT_HAVE_TRACEMALLOC;
			return 0;
		}
	}
	return inspect_fail(&p->l, "tracemalloc: not a phase %d state", p->phase);
}

/* heap and objects: one count in phase 1, two in phase 2 */
static int start_end(struct parser *p, uint64_t *start, uint64_t *now)
{
	if (p->phase == 1)
		return inspect_count(&p->l, 1, "COUNT", now);
	if (inspect_count(&p->l, 1, "START", start) < 0 || inspect_count(&p->l, 2, "END", now) < 0)
		return -EBADMSG;
	return 0;
}

static int rec_heap(struct parser *p)
{
	p->r->have |= INSPECT_HAVE_HEAP;
	return start_end(p, &p->r->heap_start, &p->r->heap);
}

static int rec_objects(struct parser *p)
{
	p->r->have |= INSPECT_HAVE_OBJECTS;
	return start_end(p, &p->r->objects_start, &p->r->objects);
}

static int rec_threads(struct parser *p)
{
	p->r->have |= INSPECT_HAVE_THREADS;
	return inspect_count(&p->l, 1, "COUNT", &p->r->threads);
}

static int rec_elapsed(struct parser *p)
{
	p->r->have |= INSPECT_HAVE_ELAPSED;
	return inspect_seconds(&p->l, 1, "SECONDS", &p->r->elapsed);
}

static int rec_files(struct parser *p)
{
	p->r->have |= INSPECT_HAVE_FILES;
	return inspect_count(&p->l, 1, "COUNT", &p->r->files_total);
}

static int rec_error(struct parser *p)
{
	static const char *const whats[] = {
		"census", "tracemalloc", "threads", "files", "state", "report", "internal",
	};
	struct inspect_report *r = p->r;

	if (room(p, r->n_errors, INSPECT_ERRORS_MAX) < 0)
		return -EBADMSG;
	for (size_t i = 0; i < sizeof(whats) / sizeof(whats[0]); i++) {
		if (strcmp(p->l.f[1], whats[i]) == 0) {
			r->errors[r->n_errors].what = whats[i];
			r->errors[r->n_errors++].msg = p->l.f[2];
			return 0;
		}
	}
	return inspect_fail(&p->l, "error: unknown WHAT");
}

static int rec_type(struct parser *p)
{
	struct inspect_report *r = p->r;
	struct inspect_type *t = &r->types[r->n_types];

	if (room(p, r->n_types, INSPECT_TYPES_MAX) < 0)
		return -EBADMSG;
	if (!p->l.f[1][0])
		return inspect_fail(&p->l, "type: empty NAME");
	if (inspect_count(&p->l, 2, "C1", &t->c1) < 0 || inspect_count(&p->l, 3, "C2", &t->c2) < 0 ||
	    inspect_count(&p->l, 4, "SIZE", &t->size) < 0)
		return -EBADMSG;
	if (t->c2 <= t->c1)
		return inspect_fail(&p->l, "type: C2 not above C1");
	t->name = p->l.f[1];
	r->n_types++;
	return 0;
}

static int rec_referent(struct parser *p)
{
	struct inspect_report *r = p->r;
	struct inspect_referent *x = &r->referents[r->n_referents];

	if (room(p, r->n_referents, INSPECT_REFERENTS_MAX) < 0)
		return -EBADMSG;
	if (!p->l.f[1][0] || !p->l.f[2][0])
		return inspect_fail(&p->l, "referent: empty OWNER or NAME");
	if (inspect_count(&p->l, 3, "COUNT", &x->count) < 0 || inspect_count(&p->l, 4, "SIZE", &x->size) < 0)
		return -EBADMSG;
	x->owner = p->l.f[1];
	x->name = p->l.f[2];
	r->n_referents++;
	return 0;
}

/* The frames that follow go to this table. */
static void frames_to(struct parser *p, struct inspect_frame *f, size_t *n, size_t max,
		      const char *of)
{
	p->frames = f;
	p->n_frames = n;
	p->frames_max = max;
	p->frames_of = of;
}

static int rec_site(struct parser *p)
{
	struct inspect_report *r = p->r;
	struct inspect_site *s = &r->sites[r->n_sites];

	if (room(p, r->n_sites, INSPECT_SITES_MAX) < 0 || inspect_where(&p->l, 1, "FILE:LINE") < 0 ||
	    inspect_diff(&p->l, 2, "SIZE_DIFF", &s->size_diff) < 0 ||
	    inspect_diff(&p->l, 3, "COUNT_DIFF", &s->count_diff) < 0 ||
	    inspect_count(&p->l, 4, "SIZE", &s->size) < 0 || inspect_count(&p->l, 5, "COUNT", &s->count) < 0)
		return -EBADMSG;
	s->where = p->l.f[1];
	r->n_sites++;
	frames_to(p, s->frames, &s->n_frames, INSPECT_SITE_FRAMES_MAX, "site");
	return 0;
}

static int rec_stack(struct parser *p)
{
	struct inspect_report *r = p->r;
	struct inspect_stack *s = &r->stacks[r->n_stacks];

	if (room(p, r->n_stacks, INSPECT_STACKS_MAX) < 0 || inspect_count(&p->l, 1, "COUNT", &s->count) < 0 ||
	    inspect_count(&p->l, 2, "COUNT1", &s->count1) < 0)
		return -EBADMSG;
	s->name = p->l.f[3];
	s->target = opt(p->l.f[4]);
	r->n_stacks++;
	frames_to(p, s->frames, &s->n_frames, INSPECT_STACK_FRAMES_MAX, "stack");
	return 0;
}

static int rec_frame(struct parser *p)
{
	struct inspect_frame *f;

	if (!p->frames)
		return inspect_fail(&p->l, "frame: not after a site or stack");
	if (*p->n_frames >= p->frames_max)
		return inspect_fail(&p->l, "frame: more than %zu after a %s", p->frames_max, p->frames_of);
	if (inspect_where(&p->l, 1, "FILE:LINE") < 0)
		return -EBADMSG;
	f = &p->frames[(*p->n_frames)++];
	f->where = p->l.f[1];
	f->func = p->l.f[2];
	return 0;
}

static int rec_file(struct parser *p)
{
	struct inspect_report *r = p->r;
	struct inspect_file *f = &r->files[r->n_files];
	int k;

	if (room(p, r->n_files, INSPECT_FILES_MAX) < 0)
		return -EBADMSG;
	for (k = INSPECT_FILE_FILE; k <= INSPECT_FILE_SQLITE; k++)
		if (strcmp(p->l.f[1], inspect_file_kind_name((enum inspect_file_kind)k)) == 0)
			break;
	if (k > INSPECT_FILE_SQLITE)
		return inspect_fail(&p->l, "file: unknown KIND");
	if (inspect_count(&p->l, 3, "COUNT", &f->count) < 0)
		return -EBADMSG;
	if (strcmp(p->l.f[4], "-") != 0 && inspect_where(&p->l, 4, "SITE") < 0)
		return -EBADMSG;
	f->kind = (enum inspect_file_kind)k;
	f->name = opt(p->l.f[2]);
	f->site = opt(p->l.f[4]);
	r->n_files++;
	return 0;
}

static const struct record records[] = {
	{ "leakwatch-inspect", { 4, 4 }, ONCE_HEADER, false, rec_header },
	{ "python", { 3, 3 }, ONCE_PYTHON, false, rec_python },
	{ "pause", { 2, 2 }, ONCE_PAUSE, false, rec_pause },
	{ "tracemalloc", { 2, 2 }, ONCE_TM, false, rec_tracemalloc },
	{ "heap", { 2, 3 }, ONCE_HEAP, false, rec_heap },
	{ "objects", { 2, 3 }, ONCE_OBJECTS, false, rec_objects },
	{ "threads", { 2, 0 }, ONCE_THREADS, false, rec_threads },
	{ "error", { 3, 3 }, 0, false, rec_error },
	{ "elapsed", { 0, 2 }, ONCE_ELAPSED, false, rec_elapsed },
	{ "type", { 0, 5 }, 0, false, rec_type },
	{ "referent", { 0, 5 }, 0, false, rec_referent },
	{ "site", { 0, 6 }, 0, false, rec_site },
	{ "frame", { 0, 3 }, 0, true, rec_frame },
	{ "stack", { 0, 5 }, 0, false, rec_stack },
	{ "file", { 0, 5 }, 0, false, rec_file },
	{ "files", { 0, 2 }, ONCE_FILES, false, rec_files },
};

/* The first three lines, in this order. */
static const char *const head[3] = { "leakwatch-inspect", "python", "pause" };
static const char *const head_why[3] = {
	"not a leakwatch-inspect report", "python record expected", "pause record expected",
};

/* One line's record (inspect_lines_run's callback): 0 or -EBADMSG. */
static int parse_record(struct inspect_lines *l, void *ctx)
{
	struct parser *p = ctx;
	const struct record *rec = NULL;
	unsigned want;

	if (l->line <= 3 && strcmp(l->f[0], head[l->line - 1]) != 0)
		return inspect_fail(l, "%s", head_why[l->line - 1]);
	for (size_t i = 0; i < sizeof(records) / sizeof(records[0]) && !rec; i++)
		if (strcmp(records[i].name, l->f[0]) == 0)
			rec = &records[i];
	if (!rec)
		return 0;                   /* unknown (or end): skipped, frames may follow still */
	l->rec = rec->name;
	want = rec->fields[p->phase - 1];
	if (!want)
		return inspect_fail(l, "%s: not a phase %d record", rec->name, p->phase);
	if (l->nf != want)
		return inspect_fail(l, "%s: %zu fields, expected %u", rec->name, l->nf, want);
	if (rec->once) {
		if (p->seen & rec->once)
			return inspect_fail(l, "%s: repeated", rec->name);
		p->seen |= rec->once;
	}
	if (!rec->frame)
		p->frames = NULL;           /* a site or stack sets them again */
	return rec->parse(p);
}

static void say(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

int inspect_parse(struct inspect_report *r, const char *text, size_t len, const char *token, int phase,
		  uint64_t pid, char *why, size_t whylen)
{
	struct parser p = { .r = r, .token = token, .phase = phase, .pid = pid };
	int rc;

	if (!why)
		whylen = 0;
	if (whylen)
		why[0] = '\0';
	p.l.why = why;
	p.l.whylen = whylen;
	inspect_report_free(r);
	if (!r || (!text && len) || !token || (phase != 1 && phase != 2)) {
		say(why, whylen, "bad arguments");
		return -EINVAL;
	}
	if (len > INSPECT_REPORT_MAX) {
		say(why, whylen, "report of %zu bytes, more than %d", len, INSPECT_REPORT_MAX);
		return -E2BIG;
	}
	r->text = malloc(len + 1);
	if (!r->text) {
		say(why, whylen, "out of memory");
		return -ENOMEM;
	}
	if (len)
		memcpy(r->text, text, len);
	r->text[len] = '\0';
	r->phase = phase;
	rc = inspect_lines_run(&p.l, r->text, len, parse_record, &p);
	if (rc < 0)
		inspect_report_free(r);
	return rc;
}
