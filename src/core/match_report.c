/* The match report (see match_report.h): what `leakwatchctl match` says.
 *
 * Why the not-matched lists are capped and the matches are not: the
 * matches are what leakwatchd would watch, each one a process it holds
 * three descriptors and a history for, so listing them all costs no more
 * than watching them; but a near miss is any process holding one
 * selective criterion (comm: python3 holds for every Python on the host),
 * and a host of 30,000 processes must not print 30,000 lines per watch,
 * nor keep them: each list keeps its first max_rows in pid order (the
 * survey walks the pids in order) and counts the rest.  Two lists, so that
 * the processes the watch matches but does not get (an earlier watch took
 * them: the surprise an operator is most likely asking about) are never
 * crowded out by near misses.
 *
 * Every text a process chose (comm, title, and the reason, which quotes
 * its exe and units) goes out through buf_line_text or buf_json_string:
 * one printable line, valid UTF-8, whatever bytes it held. */
#include "core/match_report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *match_row_kind_name(enum match_row_kind k)
{
	static const char *const names[ROW_KINDS] = {
		[ROW_MATCHED] = "matched", [ROW_UNDECIDED] = "undecided", [ROW_HELD] = "held",
		[ROW_TAKEN] = "taken", [ROW_NEVER] = "never", [ROW_NEAR] = "near_miss",
	};

	return (unsigned)k < ROW_KINDS ? names[k] : "?";
}

int match_report_init(struct match_report *r, const struct config *cfg, const char *proc_dir, size_t max_rows)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->proc_dir = proc_dir;
	r->max_rows = max_rows;
	r->w = calloc(cfg->n_watches + 1, sizeof(*r->w));
	return r->w ? 0 : -ENOMEM;
}

void match_report_free(struct match_report *r)
{
	if (!r->w)
		return;
	for (size_t i = 0; i < r->cfg->n_watches; i++) {
		free(r->w[i].matched.v);
		free(r->w[i].elsewhere.v);
		free(r->w[i].near.v);
	}
	free(r->w);
	r->w = NULL;
}

static struct match_rows *list_of(const struct match_report *r, size_t w, enum match_row_kind kind)
{
	struct match_watch_rows *rows = &r->w[w];

	return kind == ROW_MATCHED ? &rows->matched : kind == ROW_NEAR ? &rows->near : &rows->elsewhere;
}

bool match_report_wants(const struct match_report *r, size_t w, enum match_row_kind kind)
{
	return kind == ROW_MATCHED || list_of(r, w, kind)->n < r->max_rows;
}

int match_report_add(struct match_report *r, size_t w, const struct match_row *row)
{
	struct match_rows *l = list_of(r, w, row->kind);

	l->seen++;
	if (!match_report_wants(r, w, row->kind))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		void *p = realloc(l->v, cap * sizeof(*l->v));

		if (!p)
			return -ENOMEM;
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = *row;
	return 0;
}

/* ---- the table ------------------------------------------------------------ */

/* Where a row's second line (its reason) starts: under the title. */
#define REASON_COLUMN "                          "

static void table_row(struct buf *b, const struct match_row *row)
{
	struct buf comm = { 0 };

	buf_line_text(&comm, row->comm);    /* escaped, up to 4 columns a byte */
	buf_printf(b, "  %7d %-15s ", (int)row->pid, comm.data ? comm.data : "");
	buf_free(&comm);
	if (row->title[0]) {
		buf_puts(b, "\"");
		buf_line_text(b, row->title);
		buf_puts(b, "\"");
	} else {
		buf_puts(b, "-");
	}
	buf_puts(b, "\n");
	if (row->kind != ROW_MATCHED) {
		buf_puts(b, REASON_COLUMN);
		buf_line_text(b, row->reason);
		buf_puts(b, "\n");
	}
}

static void table_watch(struct buf *b, const struct match_report *r, size_t i)
{
	const struct match_watch_rows *w = &r->w[i];
	size_t others = w->elsewhere.seen + w->near.seen;
	size_t shown = w->elsewhere.n + w->near.n;

	buf_puts(b, "\n");
	buf_line_text(b, r->cfg->watches[i].name);
	if (w->matched.n)
		buf_printf(b, ": %zu matched\n", w->matched.n);
	else
		buf_puts(b, ": nothing matched\n");
	if (w->matched.n || others)
		buf_puts(b, "      PID COMM            TITLE\n");
	for (size_t k = 0; k < w->matched.n; k++)
		table_row(b, &w->matched.v[k]);
	if (!others)
		return;
	buf_printf(b, "  not taken: %zu (%zu that match it but are not watched by it, %zu near miss%s)\n", others,
		   w->elsewhere.seen, w->near.seen, w->near.seen == 1 ? "" : "es");
	for (size_t k = 0; k < w->elsewhere.n; k++)
		table_row(b, &w->elsewhere.v[k]);
	for (size_t k = 0; k < w->near.n; k++)
		table_row(b, &w->near.v[k]);
	if (others > shown)
		buf_printf(b, "  ... and %zu more\n", others - shown);
}

void match_report_table(const struct match_report *r, struct buf *out)
{
	buf_printf(out, "%zu watch%s, %zu processes read from ", r->cfg->n_watches,
		   r->cfg->n_watches == 1 ? "" : "es", r->n_procs);
	buf_line_text(out, r->proc_dir);
	buf_puts(out, "\n");
	if (!r->privileged)
		buf_puts(out, "note: not run as root: another user's exe link cannot be read here, and hidepid= may "
			 "hide their processes; leakwatchd as root may see more\n");
	for (size_t i = 0; i < r->cfg->n_watches; i++)
		table_watch(out, r, i);
}

/* ---- JSON ------------------------------------------------------------------ */

static void json_row(struct buf *b, const struct match_report *r, const struct match_row *row)
{
	buf_printf(b, "{\"pid\": %d, \"ppid\": %d, \"comm\": ", (int)row->pid, (int)row->ppid);
	buf_json_string(b, row->comm);
	buf_puts(b, ", \"title\": ");
	if (row->title[0])
		buf_json_string(b, row->title);
	else
		buf_puts(b, "null");
	if (row->has_uid)
		buf_printf(b, ", \"uid\": %u", (unsigned)row->uid);
	else
		buf_puts(b, ", \"uid\": null");
	if (row->kind == ROW_MATCHED) {
		buf_puts(b, "}");
		return;
	}
	buf_printf(b, ", \"kind\": \"%s\", \"criterion\": ", match_row_kind_name(row->kind));
	if (row->criterion >= 0)
		buf_printf(b, "\"%s\"", match_crit_name((enum match_crit)row->criterion));
	else
		buf_puts(b, "null");
	buf_puts(b, ", \"failed\": [");
	for (int c = 0, n = 0; c < CRIT_COUNT; c++)
		if (row->failed & CRIT_BIT(c))
			buf_printf(b, "%s\"%s\"", n++ ? ", " : "", match_crit_name((enum match_crit)c));
	buf_puts(b, "], \"watch\": ");
	if (row->other_watch >= 0 && (size_t)row->other_watch < r->cfg->n_watches)
		buf_json_string(b, r->cfg->watches[row->other_watch].name);
	else
		buf_puts(b, "null");
	buf_puts(b, ", \"reason\": ");
	buf_json_string(b, row->reason);
	buf_puts(b, "}");
}

static void json_list(struct buf *b, const struct match_report *r, const struct match_rows *a,
		      const struct match_rows *more)
{
	size_t n = 0;

	buf_puts(b, "[");
	for (const struct match_rows *l = a; l; l = l == a ? more : NULL)
		for (size_t k = 0; k < l->n; k++) {
			buf_puts(b, n++ ? ",\n      " : "\n      ");
			json_row(b, r, &l->v[k]);
		}
	buf_puts(b, n ? "\n    ]" : "]");
}

void match_report_json(const struct match_report *r, struct buf *out)
{
	buf_puts(out, "{\"proc\": ");
	buf_json_string(out, r->proc_dir);
	buf_printf(out, ", \"processes\": %zu, \"privileged\": %s, \"watches\": [", r->n_procs,
		   r->privileged ? "true" : "false");
	for (size_t i = 0; i < r->cfg->n_watches; i++) {
		const struct match_watch_rows *w = &r->w[i];
		size_t others = w->elsewhere.seen + w->near.seen;

		buf_puts(out, i ? ",\n  {\"watch\": " : "\n  {\"watch\": ");
		buf_json_string(out, r->cfg->watches[i].name);
		buf_puts(out, ",\n    \"matched\": ");
		json_list(out, r, &w->matched, NULL);
		buf_puts(out, ",\n    \"not_matched\": ");
		json_list(out, r, &w->elsewhere, &w->near);
		buf_printf(out, ",\n    \"not_matched_more\": %zu}", others - w->elsewhere.n - w->near.n);
	}
	buf_puts(out, r->cfg->n_watches ? "\n]}\n" : "]}\n");
}
