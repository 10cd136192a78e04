/* python.json (see inspect_render.h): the reports of an inspection, the
 * daemon's measurements and the facts, as one JSON object.
 *
 * Why everything, when python.txt has the gist: the text is cut to 16 KiB
 * and rounds its numbers, while a tool (or an operator with jq) comparing
 * incidents wants every row and the exact figures.  The two renderers take
 * the same structs, so they cannot disagree about what the script said.
 *
 * Why it is always valid JSON: every string goes through the project's
 * one JSON string writer (buf_json_string: quotes, backslashes and control
 * characters escaped, bytes that are not UTF-8 replaced by U+FFFD), so
 * even a report that reached this renderer without passing the parser
 * cannot break the object; numbers are integers the parser bounded to
 * 2^53-1 or seconds written with six decimals.  The object is laid out one
 * key per line and one row per line: readable with less, and still small
 * (at most about twice the reports). */
#include "core/inspect_render.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

static void key(struct buf *b, const char *indent, const char *k)
{
	buf_puts(b, indent);
	buf_json_string(b, k);
	buf_puts(b, ": ");
}

/* A string, or null when NULL. */
static void str(struct buf *b, const char *s)
{
	if (s)
		buf_json_string(b, s);
	else
		buf_puts(b, "null");
}

static void u64(struct buf *b, uint64_t v)
{
	buf_printf(b, "%" PRIu64, v);
}

static void seconds(struct buf *b, double v)
{
	if (isfinite(v))
		buf_printf(b, "%.6f", v);
	else
		buf_puts(b, "null");
}

/* "NAME": value within a row object: ", " before all but the first. */
static void field_u64(struct buf *b, const char *k, uint64_t v)
{
	buf_puts(b, ", ");
	buf_json_string(b, k);
	buf_printf(b, ": %" PRIu64, v);
}

static void field_i64(struct buf *b, const char *k, int64_t v)
{
	buf_puts(b, ", ");
	buf_json_string(b, k);
	buf_printf(b, ": %" PRId64, v);
}

static void field_str(struct buf *b, const char *k, const char *v)
{
	buf_puts(b, ", ");
	buf_json_string(b, k);
	buf_puts(b, ": ");
	str(b, v);
}

static void frames(struct buf *b, const char *k, const struct inspect_frame *fr, size_t n)
{
	buf_puts(b, ", ");
	buf_json_string(b, k);
	buf_puts(b, ": [");
	for (size_t i = 0; i < n; i++) {
		buf_puts(b, i ? ", {\"where\": " : "{\"where\": ");
		str(b, fr[i].where);
		field_str(b, "function", fr[i].func);
		buf_puts(b, "}");
	}
	buf_puts(b, "]");
}

static void phase1(struct buf *b, const struct inspect_report *r)
{
	key(b, "  ", "phase1");
	if (!r) {
		buf_puts(b, "null,\n");
		return;
	}
	buf_puts(b, "{\"pause\": ");
	seconds(b, r->pause);
	field_str(b, "tracemalloc", inspect_tm_name(r->tracemalloc));
	buf_puts(b, ", \"heap\": ");
	if (r->have & INSPECT_HAVE_HEAP)
		u64(b, r->heap);
	else
		buf_puts(b, "null");
	buf_puts(b, ", \"objects\": ");
	if (r->have & INSPECT_HAVE_OBJECTS)
		u64(b, r->objects);
	else
		buf_puts(b, "null");
	buf_puts(b, ", \"threads\": ");
	if (r->have & INSPECT_HAVE_THREADS)
		u64(b, r->threads);
	else
		buf_puts(b, "null");
	buf_puts(b, "},\n");
}

static void start_end(struct buf *b, const char *k, bool have, uint64_t start, uint64_t end)
{
	buf_puts(b, ", ");
	buf_json_string(b, k);
	if (have)
		buf_printf(b, ": {\"start\": %" PRIu64 ", \"end\": %" PRIu64 "}", start, end);
	else
		buf_puts(b, ": null");
}

static void phase2(struct buf *b, const struct inspect_report *r)
{
	key(b, "  ", "phase2");
	if (!r) {
		buf_puts(b, "null,\n");
		return;
	}
	buf_puts(b, "{\"pause\": ");
	seconds(b, r->pause);
	buf_puts(b, ", \"elapsed\": ");
	if (r->have & INSPECT_HAVE_ELAPSED)
		seconds(b, r->elapsed);
	else
		buf_puts(b, "null");
	field_str(b, "tracemalloc", inspect_tm_name(r->tracemalloc));
	start_end(b, "heap", r->have & INSPECT_HAVE_HEAP, r->heap_start, r->heap);
	start_end(b, "objects", r->have & INSPECT_HAVE_OBJECTS, r->objects_start, r->objects);
	buf_puts(b, ", \"files\": ");
	if (r->have & INSPECT_HAVE_FILES)
		u64(b, r->files_total);
	else
		buf_puts(b, "null");
	buf_puts(b, "},\n");
}

static void measured(struct buf *b, const struct inspect_measure *m)
{
	key(b, "  ", "measured");
	if (!m) {
		buf_puts(b, "null,\n");
		return;
	}
	buf_puts(b, "{\"seconds\": ");
	buf_json_number(b, m->seconds);
	buf_printf(b, ", \"rss\": {\"phase1\": %" PRIu64 ", \"phase2\": %" PRIu64 "}", m->rss1, m->rss2);
	buf_printf(b, ", \"fds\": {\"phase1\": %" PRIu64 ", \"phase2\": %" PRIu64 "}", m->fds1, m->fds2);
	buf_printf(b, ", \"threads\": {\"phase1\": %" PRIu64 ", \"phase2\": %" PRIu64 "}", m->threads1,
		   m->threads2);
	buf_puts(b, ", \"attach\": {");
	for (int i = 0; i < 2; i++)
		buf_printf(b, "%s\"phase%d\": {\"held_usec\": %" PRIu64 ", \"wait_usec\": %" PRIu64
			   ", \"threads_traced\": %" PRIu64 "}", i ? ", " : "", i + 1, m->held_usec[i],
			   m->wait_usec[i], m->traced[i]);
	buf_puts(b, "}},\n");
}

/* "KEY": [ one row per line ], */
static void rows_open(struct buf *b, const char *k, size_t n)
{
	key(b, "  ", k);
	buf_puts(b, n ? "[\n" : "[");
}

static void row_sep(struct buf *b, size_t i, size_t n)
{
	buf_puts(b, i + 1 < n ? ",\n" : "\n  ");
}

static void tables(struct buf *b, const struct inspect_report *r)
{
	static const struct inspect_report empty;

	if (!r)
		r = &empty;
	rows_open(b, "types", r->n_types);
	for (size_t i = 0; i < r->n_types; i++) {
		const struct inspect_type *t = &r->types[i];

		buf_puts(b, "    {\"name\": ");
		str(b, t->name);
		field_u64(b, "count1", t->c1);
		field_u64(b, "count2", t->c2);
		field_u64(b, "growth", t->c2 > t->c1 ? t->c2 - t->c1 : 0);
		field_u64(b, "size", t->size);
		buf_puts(b, "}");
		row_sep(b, i, r->n_types);
	}
	buf_puts(b, "],\n");
	rows_open(b, "referents", r->n_referents);
	for (size_t i = 0; i < r->n_referents; i++) {
		const struct inspect_referent *x = &r->referents[i];

		buf_puts(b, "    {\"owner\": ");
		str(b, x->owner);
		field_str(b, "name", x->name);
		field_u64(b, "count", x->count);
		field_u64(b, "size", x->size);
		buf_puts(b, "}");
		row_sep(b, i, r->n_referents);
	}
	buf_puts(b, "],\n");
	rows_open(b, "sites", r->n_sites);
	for (size_t i = 0; i < r->n_sites; i++) {
		const struct inspect_site *s = &r->sites[i];

		buf_puts(b, "    {\"site\": ");
		str(b, s->where);
		field_i64(b, "size_diff", s->size_diff);
		field_i64(b, "count_diff", s->count_diff);
		field_u64(b, "size", s->size);
		field_u64(b, "count", s->count);
		frames(b, "traceback", s->frames, s->n_frames);
		buf_puts(b, "}");
		row_sep(b, i, r->n_sites);
	}
	buf_puts(b, "],\n");
}

static void tables2(struct buf *b, const struct inspect_report *r)
{
	static const struct inspect_report empty;

	if (!r)
		r = &empty;
	rows_open(b, "stacks", r->n_stacks);
	for (size_t i = 0; i < r->n_stacks; i++) {
		const struct inspect_stack *s = &r->stacks[i];

		buf_printf(b, "    {\"count\": %" PRIu64, s->count);
		field_u64(b, "count1", s->count1);
		field_str(b, "name", s->name);
		field_str(b, "target", s->target);
		frames(b, "frames", s->frames, s->n_frames);
		buf_puts(b, "}");
		row_sep(b, i, r->n_stacks);
	}
	buf_puts(b, "],\n");
	rows_open(b, "files", r->n_files);
	for (size_t i = 0; i < r->n_files; i++) {
		const struct inspect_file *f = &r->files[i];

		buf_puts(b, "    {\"kind\": ");
		str(b, inspect_file_kind_name(f->kind));
		field_str(b, "name", f->name);
		field_u64(b, "count", f->count);
		field_str(b, "site", f->site);
		buf_puts(b, "}");
		row_sep(b, i, r->n_files);
	}
	buf_puts(b, "],\n");
}

static void errors(struct buf *b, const struct inspect_report *p1, const struct inspect_report *p2)
{
	const struct inspect_report *r[2] = { p1, p2 };
	size_t n = (p1 ? p1->n_errors : 0) + (p2 ? p2->n_errors : 0), k = 0;

	rows_open(b, "errors", n);
	for (int ph = 0; ph < 2; ph++) {
		for (size_t i = 0; r[ph] && i < r[ph]->n_errors; i++, k++) {
			buf_printf(b, "    {\"phase\": %d", ph + 1);
			field_str(b, "what", r[ph]->errors[i].what);
			field_str(b, "message", r[ph]->errors[i].msg);
			buf_puts(b, "}");
			row_sep(b, k, n);
		}
	}
	buf_puts(b, "],\n");
}

/* "" is none in the facts */
static const char *opt(const char *s)
{
	return s[0] ? s : NULL;
}

static void facts(struct buf *b, const struct inspect_facts *f)
{
	buf_puts(b, "  \"facts\": {\n    \"top_type\": ");
	if (f->has_type) {
		buf_puts(b, "{\"name\": ");
		str(b, f->top_type);
		field_u64(b, "count", f->type_count);
		field_u64(b, "growth", f->type_growth);
		field_u64(b, "size", f->type_size);
		buf_puts(b, "}");
	} else {
		buf_puts(b, "null");
	}
	buf_puts(b, ",\n    \"top_site\": ");
	if (f->has_site) {
		buf_puts(b, "{\"site\": ");
		str(b, f->top_site);
		field_i64(b, "size_growth", f->site_size_growth);
		field_i64(b, "count_growth", f->site_count_growth);
		field_u64(b, "size", f->site_size);
		field_u64(b, "count", f->site_count);
		buf_puts(b, "}");
	} else {
		buf_puts(b, "null");
	}
	buf_puts(b, ",\n    \"top_stack\": ");
	if (f->has_stack) {
		buf_printf(b, "{\"count\": %" PRIu64, f->stack_count);
		field_u64(b, "count1", f->stack_count1);
		field_i64(b, "growth", f->stack_growth);
		field_str(b, "where", opt(f->stack_where));
		field_str(b, "function", opt(f->stack_where) ? f->stack_func : NULL);
		field_str(b, "target", opt(f->stack_target));
		field_str(b, "name", f->stack_name);
		buf_puts(b, "}");
	} else {
		buf_puts(b, "null");
	}
	buf_puts(b, ",\n    \"outside_python_heap\": {\"verdict\": ");
	str(b, inspect_verdict_name(f->outside_heap));
	buf_printf(b, ", \"heap_traced\": %s", f->heap_traced ? "true" : "false");
	field_i64(b, "rss_growth", f->rss_growth);
	field_i64(b, "heap_growth", f->heap_growth);
	field_i64(b, "outside", f->outside_bytes);
	buf_puts(b, "},\n    \"top_files\": ");
	if (f->has_file) {
		buf_puts(b, "{\"kind\": ");
		str(b, inspect_file_kind_name(f->file_kind));
		field_str(b, "name", opt(f->file_name));
		field_u64(b, "count", f->file_count);
		field_str(b, "site", opt(f->file_site));
		buf_puts(b, "}");
	} else {
		buf_puts(b, "null");
	}
	field_u64(b, "files_total", f->files_total);
	buf_puts(b, "\n  }\n");
}

int inspect_render_json(struct buf *b, const struct inspect_report *p1, const struct inspect_report *p2,
			const struct inspect_measure *m, const struct inspect_facts *f)
{
	const struct inspect_report *r = p2 ? p2 : p1;

	buf_printf(b, "{\n  \"format\": %d,\n", INSPECT_FORMAT);
	key(b, "  ", "pid");
	u64(b, f->pid);
	buf_puts(b, ",\n");
	key(b, "  ", "python");
	str(b, r ? r->version : NULL);
	buf_puts(b, ",\n");
	key(b, "  ", "trigger");
	str(b, opt(f->trigger));
	buf_puts(b, ",\n");
	key(b, "  ", "summary");
	str(b, f->summary);
	buf_puts(b, ",\n");
	measured(b, m);
	phase1(b, p1);
	phase2(b, p2);
	tables(b, p2);
	tables2(b, p2);
	errors(b, p1, p2);
	facts(b, f);
	buf_puts(b, "}\n");
	return buf_ok(b) ? 0 : -ENOMEM;
}
