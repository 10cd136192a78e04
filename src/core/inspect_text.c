/* python.txt (see inspect_text.h): an inspection for a human.
 *
 * The problem: an operator opening the incident directory wants the
 * answer first and the evidence after it, in a page or two, not a JSON
 * object of up to half a megabyte.  So the summary line comes first, then
 * the phases' figures, then each table with its rows indented under it
 * (a type's referents, a site's traceback, a stack's frames).
 *
 * Why a budget of rows rather than cutting the text at 16 KiB: a cut in
 * the middle of a row leaves half a traceback line, and maybe half a
 * character.  Every row here is at most ROW_MAX bytes (its strings cut to
 * INSPECT_TEXT_NAME bytes by inspect_clip, on a character boundary), so
 * a row is written only when ROW_MAX more bytes still fit, and the rows
 * left out are counted in a last line.  With the format's caps (about 300
 * rows) the limit binds only for reports full of long names.
 *
 * The strings are the reports' (already control-free UTF-8 per the
 * parser); inspect_clip replaces anything else by '?', so the text stays
 * one record per line even if it is handed a report that did not pass the
 * parser. */
#include "core/inspect_text.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "core/inspect_fmt.h"

#define ROW_MAX  512            /* bytes of one row, at most */
#define TAIL_MAX 96             /* the last line, saying what was left out */

struct text {
	struct buf *b;
	size_t start;               /* b->len before python.txt */
	bool cut;
	unsigned left;              /* rows left out */
};

/* May another row be written? */
static bool row(struct text *t)
{
	if (!t->cut && t->b->len - t->start + ROW_MAX + TAIL_MAX > INSPECT_TEXT_MAX)
		t->cut = true;
	if (t->cut)
		t->left++;
	return !t->cut;
}

static void name(struct text *t, const char *s)
{
	char c[INSPECT_TEXT_NAME + 1];

	inspect_clip(c, sizeof(c), s ? s : "-", INSPECT_TEXT_NAME);
	buf_puts(t->b, c);
}

static void size(struct text *t, double v, bool sign)
{
	char s[32];

	inspect_fmt_size(s, sizeof(s), v, sign);
	buf_puts(t->b, s);
}

static void count(struct text *t, uint64_t v)
{
	char s[32];

	inspect_fmt_count(s, sizeof(s), v);
	buf_puts(t->b, s);
}

static void diff(struct text *t, int64_t v)
{
	char s[32];

	inspect_fmt_diff(s, sizeof(s), v);
	buf_puts(t->b, s);
}

/* "rss 100M -> 272M (+172M)" or "fds 10 -> 12 (+2)" */
static void change(struct text *t, const char *what, uint64_t a, uint64_t b, bool bytes)
{
	buf_printf(t->b, "%s ", what);
	if (bytes) {
		size(t, (double)a, false);
		buf_puts(t->b, " -> ");
		size(t, (double)b, false);
		buf_puts(t->b, " (");
		size(t, (double)b - (double)a, true);
	} else {
		count(t, a);
		buf_puts(t->b, " -> ");
		count(t, b);
		buf_puts(t->b, " (");
		diff(t, inspect_sdiff(b, a));
	}
	buf_puts(t->b, ")");
}

static void figures(struct text *t, const struct inspect_report *p1, const struct inspect_report *p2,
		    const struct inspect_measure *m, const struct inspect_facts *f)
{
	const struct inspect_report *r = p2 ? p2 : p1;

	buf_printf(t->b, "pid %" PRIu64 ", Python ", f->pid);
	name(t, r ? r->version : NULL);
	buf_printf(t->b, "; phase 1 %s, phase 2 %s\n", p1 ? "reported" : "failed", p2 ? "reported" : "failed");
	if (m && (m->rss1 || m->rss2 || m->fds1 || m->fds2 || m->threads1 || m->threads2)) {
		buf_printf(t->b, "measured over %.1f s: ", m->seconds);
		change(t, "rss", m->rss1, m->rss2, true);
		change(t, "; fds", m->fds1, m->fds2, false);
		change(t, "; threads", m->threads1, m->threads2, false);
		buf_puts(t->b, "\n");
	}
	buf_printf(t->b, "the script paused the process %.3f s, then %.3f s",
		   p1 ? p1->pause : 0.0, p2 ? p2->pause : 0.0);
	if (p2 && (p2->have & INSPECT_HAVE_ELAPSED))
		buf_printf(t->b, "; censuses %.3f s apart", p2->elapsed);
	buf_printf(t->b, "\ntracemalloc: %s, then %s", p1 && p1->tracemalloc ? inspect_tm_name(p1->tracemalloc) : "?",
		   p2 && p2->tracemalloc ? inspect_tm_name(p2->tracemalloc) : "?");
	if (f->heap_traced) {
		buf_puts(t->b, "; ");
		change(t, "traced heap", p2->heap_start, p2->heap, true);
	}
	buf_printf(t->b, "\ngrowth outside the Python heap: %s", inspect_verdict_name(f->outside_heap));
	if (f->outside_heap != INSPECT_VERDICT_UNKNOWN) {
		buf_puts(t->b, " (rss ");
		size(t, (double)f->rss_growth, true);
		buf_puts(t->b, ", traced heap ");
		size(t, (double)f->heap_growth, true);
		buf_puts(t->b, ")");
	}
	buf_puts(t->b, "\n");
	if (p2 && (p2->have & INSPECT_HAVE_OBJECTS)) {
		change(t, "gc objects", p2->objects_start, p2->objects, false);
		buf_puts(t->b, "\n");
	}
}

static void referent(struct text *t, const struct inspect_referent *x, bool with_owner)
{
	if (!row(t))
		return;
	buf_puts(t->b, "      -> ");
	if (with_owner) {
		name(t, x->owner);
		buf_puts(t->b, " -> ");
	}
	count(t, x->count);
	buf_puts(t->b, " ");
	name(t, x->name);
	buf_puts(t->b, "  ");
	size(t, (double)x->size, false);
	buf_puts(t->b, "\n");
}

static bool owned(const struct inspect_report *r, const struct inspect_referent *x)
{
	for (size_t i = 0; i < r->n_types; i++)
		if (strcmp(r->types[i].name, x->owner) == 0)
			return true;
	return false;
}

static void types(struct text *t, const struct inspect_report *r)
{
	if (!r->n_types && !r->n_referents)
		return;
	buf_puts(t->b, "\ntypes, most grown first (objects, estimated size of the growth):\n");
	for (size_t i = 0; i < r->n_types; i++) {
		const struct inspect_type *ty = &r->types[i];

		if (row(t)) {
			buf_puts(t->b, "  ");
			diff(t, inspect_sdiff(ty->c2, ty->c1));
			buf_puts(t->b, "  ");
			size(t, (double)ty->size, true);
			buf_puts(t->b, "  ");
			name(t, ty->name);
			buf_puts(t->b, " (");
			count(t, ty->c1);
			buf_puts(t->b, " -> ");
			count(t, ty->c2);
			buf_puts(t->b, ")\n");
		}
		for (size_t k = 0; k < r->n_referents; k++)
			if (strcmp(r->referents[k].owner, ty->name) == 0)
				referent(t, &r->referents[k], false);
	}
	for (size_t k = 0; k < r->n_referents; k++)
		if (!owned(r, &r->referents[k]))
			referent(t, &r->referents[k], true);
}

static void frame_rows(struct text *t, const struct inspect_frame *fr, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!row(t))
			continue;
		buf_puts(t->b, "      ");
		name(t, fr[i].where);
		buf_puts(t->b, "  ");
		name(t, fr[i].func);
		buf_puts(t->b, "\n");
	}
}

static void sites(struct text *t, const struct inspect_report *r)
{
	if (!r->n_sites)
		return;
	buf_puts(t->b, "\nallocation sites, most grown first (traced size and blocks):\n");
	for (size_t i = 0; i < r->n_sites; i++) {
		const struct inspect_site *s = &r->sites[i];

		if (row(t)) {
			buf_puts(t->b, "  ");
			size(t, (double)s->size_diff, true);
			buf_puts(t->b, "  ");
			diff(t, s->count_diff);
			buf_puts(t->b, " blocks  ");
			name(t, s->where);
			buf_puts(t->b, " (now ");
			size(t, (double)s->size, false);
			buf_puts(t->b, " in ");
			count(t, s->count);
			buf_puts(t->b, " blocks)\n");
		}
		frame_rows(t, s->frames, s->n_frames);
	}
}

static void stacks(struct text *t, const struct inspect_report *r)
{
	if (!r->n_stacks)
		return;
	buf_puts(t->b, "\nthread stacks, most threads first (outermost frame first):\n");
	for (size_t i = 0; i < r->n_stacks; i++) {
		const struct inspect_stack *s = &r->stacks[i];

		if (row(t)) {
			buf_puts(t->b, "  ");
			count(t, s->count);
			buf_puts(t->b, s->count == 1 ? " thread (" : " threads (");
			diff(t, inspect_sdiff(s->count, s->count1));
			buf_puts(t->b, ")  \"");
			name(t, s->name);
			buf_puts(t->b, "\"  target ");
			name(t, s->target);
			buf_puts(t->b, "\n");
		}
		frame_rows(t, s->frames, s->n_frames);
	}
}

static void files(struct text *t, const struct inspect_report *r)
{
	if (!r->n_files && !(r->have & INSPECT_HAVE_FILES))
		return;
	buf_puts(t->b, "\nopen files, sockets and sqlite connections: ");
	count(t, r->files_total);
	buf_puts(t->b, " seen\n");
	for (size_t i = 0; i < r->n_files; i++) {
		const struct inspect_file *f = &r->files[i];

		if (!row(t))
			continue;
		buf_puts(t->b, "  ");
		count(t, f->count);
		buf_printf(t->b, "  %s  ", inspect_file_kind_name(f->kind));
		name(t, f->name);
		if (f->site) {
			buf_puts(t->b, "  opened at ");
			name(t, f->site);
		}
		buf_puts(t->b, "\n");
	}
}

static void errors(struct text *t, const struct inspect_report *p1, const struct inspect_report *p2)
{
	const struct inspect_report *r[2] = { p1, p2 };

	if (!(p1 && p1->n_errors) && !(p2 && p2->n_errors))
		return;
	buf_puts(t->b, "\nthe script's errors:\n");
	for (int ph = 0; ph < 2; ph++) {
		for (size_t i = 0; r[ph] && i < r[ph]->n_errors; i++) {
			if (!row(t))
				continue;
			buf_printf(t->b, "  phase %d: %s: ", ph + 1, r[ph]->errors[i].what);
			name(t, r[ph]->errors[i].msg);
			buf_puts(t->b, "\n");
		}
	}
}

int inspect_render_text(struct buf *b, const struct inspect_report *p1, const struct inspect_report *p2,
			const struct inspect_measure *m, const struct inspect_facts *f)
{
	struct text t = { .b = b, .start = b->len };
	char s[INSPECT_SUMMARY_LEN + 1];

	inspect_clip(s, sizeof(s), f->summary, INSPECT_SUMMARY_LEN);
	buf_printf(b, "%s\n\n", s);
	figures(&t, p1, p2, m, f);
	if (p2) {
		types(&t, p2);
		sites(&t, p2);
		stacks(&t, p2);
		files(&t, p2);
	}
	errors(&t, p1, p2);
	if (t.cut)
		buf_printf(b, "\n(%u more rows not shown: python.json has them all)\n", t.left);
	return buf_ok(b) ? 0 : -ENOMEM;
}
