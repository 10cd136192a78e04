/* The facts of an inspection and its one-line summary (see
 * inspect_summary.h).
 *
 * The problem: an operator paged for "rss leak in pid 4242" wants the
 * answer in the same line: which objects, allocated where, or that it is
 * not Python's memory at all.  The report has the evidence in tables (20
 * types, 10 sites, 10 stacks, 20 file groups); the line can hold one or two
 * of them, and which depends on the metric that leaked: memory points at
 * types and sites, threads at a stack, fds at a file group.
 *
 * The maxima are picked here, not taken as the tables' first rows: the
 * script sorts them, but a forged report may not, and "top" should mean
 * the same whatever wrote the report.  Ties keep the earlier row.
 *
 * The native verdict.  tracemalloc sees what Python's allocators hand out
 * (objects, their buffers), not what a C extension mallocs itself or a
 * native library maps.  So when RSS grew by at least 8 MiB (below that,
 * arena and allocator noise dominate) and the traced heap by less than a
 * quarter of it, most of the growth is outside the Python heap, and the
 * line says so instead of naming the Python type that happened to grow
 * most.  The verdict cannot tell a native leak from fragmentation (freed
 * Python memory the allocator keeps), which also grows RSS without
 * traced bytes; the wording says where the memory is, not who leaked it.
 * Without a trace (tracemalloc off or failed) there is no verdict.
 *
 * The cost: a pass over each table, strings copied into the facts (each at
 * most a field) so that they may outlive the reports; the line is built in
 * a local buffer and clipped to INSPECT_SUMMARY_LEN on a character
 * boundary. */
#include "core/inspect_summary.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/inspect_fmt.h"

#define SHOWN_NAME 96       /* bytes of a name in the summary */

static const char *const verdict_names[] = { "unknown", "no", "yes" };

const char *inspect_verdict_name(enum inspect_verdict v)
{
	return v <= INSPECT_VERDICT_YES ? verdict_names[v] : "?";
}

static void copy(char *dst, const char *s)
{
	inspect_clip(dst, INSPECT_NAME_LEN, s, INSPECT_FIELD_MAX);
}

static void pick_type(struct inspect_facts *f, const struct inspect_report *r)
{
	const struct inspect_type *best = NULL;
	uint64_t bg = 0;

	for (size_t i = 0; i < r->n_types; i++) {
		const struct inspect_type *t = &r->types[i];
		uint64_t g = t->c2 > t->c1 ? t->c2 - t->c1 : 0;

		if (!best || g > bg || (g == bg && t->size > best->size)) {
			best = t;
			bg = g;
		}
	}
	if (!best)
		return;
	f->has_type = true;
	copy(f->top_type, best->name);
	f->type_count = best->c2;
	f->type_growth = bg;
	f->type_size = best->size;
}

static void pick_site(struct inspect_facts *f, const struct inspect_report *r)
{
	const struct inspect_site *best = NULL;

	for (size_t i = 0; i < r->n_sites; i++)
		if (!best || r->sites[i].size_diff > best->size_diff)
			best = &r->sites[i];
	if (!best)
		return;
	f->has_site = true;
	copy(f->top_site, best->where);
	f->site_size_growth = best->size_diff;
	f->site_count_growth = best->count_diff;
	f->site_size = best->size;
	f->site_count = best->count;
}

static void pick_stack(struct inspect_facts *f, const struct inspect_report *r)
{
	const struct inspect_stack *best = NULL;
	int64_t bg = 0;
	size_t k;

	for (size_t i = 0; i < r->n_stacks; i++) {
		const struct inspect_stack *s = &r->stacks[i];
		int64_t g = inspect_sdiff(s->count, s->count1);

		if (!best || g > bg || (g == bg && s->count > best->count)) {
			best = s;
			bg = g;
		}
	}
	if (!best)
		return;
	f->has_stack = true;
	f->stack_count = best->count;
	f->stack_count1 = best->count1;
	f->stack_growth = bg;
	copy(f->stack_target, best->target ? best->target : "");
	copy(f->stack_name, best->name);
	/* the innermost frame of the program's own, else the innermost */
	for (k = best->n_frames; k > 0; k--)
		if (!inspect_stdlib_frame(best->frames[k - 1].where))
			break;
	if (k == 0)
		k = best->n_frames;
	if (k > 0) {
		copy(f->stack_where, best->frames[k - 1].where);
		copy(f->stack_func, best->frames[k - 1].func);
	}
}

static void pick_file(struct inspect_facts *f, const struct inspect_report *r)
{
	const struct inspect_file *best = NULL;

	for (size_t i = 0; i < r->n_files; i++)
		if (!best || r->files[i].count > best->count)
			best = &r->files[i];
	f->files_total = r->files_total;
	if (!best)
		return;
	f->has_file = true;
	f->file_kind = best->kind;
	f->file_count = best->count;
	copy(f->file_name, best->name ? best->name : "");
	copy(f->file_site, best->site ? best->site : "");
}

static void judge_heap(struct inspect_facts *f, const struct inspect_report *p1,
		       const struct inspect_report *p2, const struct inspect_measure *m)
{
	bool traced = p2 && (p2->have & INSPECT_HAVE_HEAP) &&
		      (p2->tracemalloc == INSPECT_TM_STOPPED || p2->tracemalloc == INSPECT_TM_RUNNING) &&
		      !(p1 && p1->tracemalloc == INSPECT_TM_FAILED);

	f->heap_traced = traced;
	f->rss_growth = inspect_sdiff(m->rss2, m->rss1);
	f->heap_growth = traced ? inspect_sdiff(p2->heap, p2->heap_start) : 0;
	f->outside_bytes = f->rss_growth - (f->heap_growth > 0 ? f->heap_growth : 0);
	if (!traced || !m->rss1 || !m->rss2)
		f->outside_heap = INSPECT_VERDICT_UNKNOWN;
	else if ((double)f->rss_growth >= INSPECT_NATIVE_MIN && (double)f->heap_growth < f->rss_growth / 4.0)
		f->outside_heap = INSPECT_VERDICT_YES;
	else
		f->outside_heap = INSPECT_VERDICT_NO;
}

/* ---- the line --------------------------------------------------------------- */

struct line {
	char s[1024];
	size_t n;
};

static void put(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (l->n >= sizeof(l->s) - 1)
		return;
	va_start(ap, fmt);
	k = vsnprintf(l->s + l->n, sizeof(l->s) - l->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		l->n = l->n + (size_t)k < sizeof(l->s) ? l->n + (size_t)k : sizeof(l->s) - 1;
}

static void put_name(struct line *l, const char *s)
{
	char t[SHOWN_NAME + 1];

	inspect_clip(t, sizeof(t), s, SHOWN_NAME);
	put(l, "%s", t);
}

static void say_native(struct line *l, const struct inspect_facts *f)
{
	char a[32], b[32];

	inspect_fmt_size(a, sizeof(a), (double)f->outside_bytes, true);
	inspect_fmt_size(b, sizeof(b), (double)f->heap_growth, true);
	put(l, "%s outside the Python heap (traced Python heap %s): a C extension or native library", a, b);
}

/* The type that grew, the site that grew: false when neither did.  A type
 * whose growth is under a twentieth of the site's is left out: the memory
 * is in objects the collector does not track (a dict of strings, bytes),
 * and a few lists more say nothing. */
static bool say_types(struct line *l, const struct inspect_facts *f)
{
	bool site = f->has_site && f->site_size_growth > 0;
	bool type = f->has_type && !(site && (double)f->type_size * 20 < (double)f->site_size_growth);
	char a[32], b[32];

	if (!type && !site)
		return false;
	if (type) {
		bool func = strncmp(f->top_type, "function ", 9) == 0;

		inspect_fmt_diff(a, sizeof(a), (int64_t)f->type_growth);
		put(l, "%s %s", a, func ? (f->type_growth == 1 ? "function " : "functions ") : "");
		put_name(l, f->top_type + (func ? 9 : 0));
		if (!func)
			put(l, f->type_growth == 1 ? " object" : " objects");
		inspect_fmt_size(b, sizeof(b), (double)f->type_size, true);
		if (f->type_size)
			put(l, " (%s)", b);
	}
	if (site) {
		inspect_fmt_size(a, sizeof(a), (double)f->site_size_growth, true);
		put(l, "%stop site ", type ? "; " : "");
		put_name(l, f->top_site);
		put(l, " (%s)", a);
	} else if (!f->heap_traced) {
		put(l, "; no allocation sites (tracemalloc off)");
	}
	return true;
}

/* The stack that grew: false when none did. */
static bool say_stack(struct line *l, const struct inspect_facts *f)
{
	char a[32], b[32];

	if (!f->has_stack || f->stack_growth <= 0)
		return false;
	inspect_fmt_count(a, sizeof(a), f->stack_count);
	inspect_fmt_diff(b, sizeof(b), f->stack_growth);
	put(l, "%s thread%s (%s) ", a, f->stack_count == 1 ? "" : "s", b);
	if (f->stack_where[0]) {
		put(l, "in ");
		put_name(l, f->stack_where);
		put(l, " ");
		put_name(l, f->stack_func);
	} else if (f->stack_target[0]) {
		put(l, "running ");
		put_name(l, f->stack_target);
	} else {
		put(l, "named ");
		put_name(l, f->stack_name);
	}
	return true;
}

static const char *file_noun(enum inspect_file_kind k, bool one)
{
	if (k == INSPECT_FILE_SOCKET)
		return one ? "open socket" : "open sockets";
	if (k == INSPECT_FILE_SQLITE)
		return one ? "sqlite connection" : "sqlite connections";
	return one ? "open file" : "open files";
}

static bool say_files(struct line *l, const struct inspect_facts *f, const struct inspect_measure *m)
{
	char a[32], b[32];

	if (!f->has_file)
		return false;
	inspect_fmt_count(a, sizeof(a), f->file_count);
	put(l, "%s %s", a, file_noun(f->file_kind, f->file_count == 1));
	if (f->file_name[0]) {
		put(l, " ");
		put_name(l, f->file_name);
	}
	inspect_fmt_diff(b, sizeof(b), inspect_sdiff(m->fds2, m->fds1));
	if (m->fds1 || m->fds2)
		put(l, " (%s)", b);
	if (f->file_site[0]) {
		put(l, " opened at ");
		put_name(l, f->file_site);
	}
	return true;
}

/* What the daemon measured of the metric, when the reports say nothing. */
static void say_measured(struct line *l, const struct inspect_facts *f, const struct inspect_measure *m,
			 bool have_p2)
{
	char a[32], b[32];
	const char *t = f->trigger;

	if (strcmp(t, "threads") == 0 && (m->threads1 || m->threads2)) {
		inspect_fmt_count(a, sizeof(a), m->threads2);
		inspect_fmt_diff(b, sizeof(b), inspect_sdiff(m->threads2, m->threads1));
		put(l, "%s threads (%s), ", a, b);
		if (have_p2) {
			put(l, "no Python thread stack grew (threads of native code?)");
			return;
		}
	} else if (strcmp(t, "fds") == 0 && (m->fds1 || m->fds2)) {
		inspect_fmt_count(a, sizeof(a), m->fds2);
		inspect_fmt_diff(b, sizeof(b), inspect_sdiff(m->fds2, m->fds1));
		put(l, "%s fds (%s), ", a, b);
		if (have_p2) {
			put(l, "none held by a Python file, socket or sqlite object");
			return;
		}
	} else if (t[0] && strcmp(t, "threads") != 0 && strcmp(t, "fds") != 0 && (m->rss1 || m->rss2)) {
		inspect_fmt_size(a, sizeof(a), (double)f->rss_growth, true);
		put(l, "%s RSS, ", a);
	}
	if (!have_p2)
		put(l, "no phase 2 report");
	else
		put(l, "no growth of Python objects, threads or files found%s",
		    f->heap_traced ? "" : " (tracemalloc off)");
}

static void say(struct inspect_facts *f, const struct inspect_measure *m, bool have_p2)
{
	struct line l = { .n = 0 };
	const char *t = f->trigger;
	bool memory = t[0] && strcmp(t, "threads") != 0 && strcmp(t, "fds") != 0;
	bool native = f->outside_heap == INSPECT_VERDICT_YES;
	bool done;

	l.s[0] = '\0';
	if (t[0])
		put(&l, "%s leak in pid %llu: ", t, (unsigned long long)f->pid);
	else
		put(&l, "inspection of pid %llu: ", (unsigned long long)f->pid);
	if (memory)
		done = native ? (say_native(&l, f), true) : say_types(&l, f);
	else if (strcmp(t, "threads") == 0)
		done = say_stack(&l, f);
	else if (strcmp(t, "fds") == 0)
		done = say_files(&l, f, m);
	else if (native)
		done = (say_native(&l, f), true);
	else
		done = (f->stack_growth >= INSPECT_STACK_LEAK_MIN && say_stack(&l, f)) || say_types(&l, f) ||
		       say_files(&l, f, m);
	if (!done)
		say_measured(&l, f, m, have_p2);
	inspect_clip(f->summary, sizeof(f->summary), l.s, INSPECT_SUMMARY_LEN);
}

int inspect_facts_build(struct inspect_facts *f, const struct inspect_report *p1,
			const struct inspect_report *p2, const struct inspect_measure *m)
{
	static const char *const triggers[] = { "rss", "uss", "pss", "fds", "threads" };
	static const struct inspect_measure none;

	memset(f, 0, sizeof(*f));
	if ((!p1 && !p2) || (p1 && p1->phase != 1) || (p2 && p2->phase != 2))
		return -EINVAL;
	if (!m)
		m = &none;
	for (size_t i = 0; m->trigger && i < sizeof(triggers) / sizeof(triggers[0]); i++)
		if (strcmp(m->trigger, triggers[i]) == 0)
			snprintf(f->trigger, sizeof(f->trigger), "%s", triggers[i]);
	f->pid = p2 ? p2->pid : p1->pid;
	if (p2) {
		pick_type(f, p2);
		pick_site(f, p2);
		pick_stack(f, p2);
		pick_file(f, p2);
	}
	judge_heap(f, p1, p2, m);
	say(f, m, p2 != NULL);
	return 0;
}
