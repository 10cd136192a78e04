/* The filters of a status request (see status_filter.h).
 *
 * Why the daemon filters, not the client: the client copies the reply as
 * it comes (the table is rendered for its width by the daemon), so a
 * client-side filter would have to parse the table or the JSON back; and
 * the daemon alone knows the configuration in force, so it tells an
 * unknown watch name from a watch that has no process now, which an
 * empty list would not.  Why words ("watch api verdict leak"), not
 * options: the request stays one line of space-separated words like the
 * others, and a watch name holds no blank (core/config.h's rule), so a
 * name is one word.  A verdict filter keeps a process when any of its
 * metrics is at that verdict ("which processes leak?"), and shows all its
 * metrics, so that its rows stay whole.
 *
 * Costs: per request, one lookup of the name among the watches; per
 * process shown, at most one verdict per metric, as the rows compute
 * anyway. */
#include "core/status_filter.h"

#include <errno.h>
#include <string.h>

#include "core/report_cells.h"

static const char *const verdicts[STATUS_VERDICTS] = { "warming", "ok", "leak", "limit", "unreadable" };

int status_verdict_parse(const char *s)
{
	for (int v = 0; v < STATUS_VERDICTS; v++)
		if (strcmp(s, verdicts[v]) == 0)
			return v;
	return -1;
}

const char *status_verdict_name(int v)
{
	return v >= 0 && v < STATUS_VERDICTS ? verdicts[v] : "?";
}

int status_metric_verdict(const struct judged *j, const struct watched *w, int i)
{
	const struct metric_state *s = watched_metric(w, i);

	if (!s)
		return -1;   /* uss, pss of a watch that judges neither */
	if (report_unreadable(w, i))
		return STATUS_UNREADABLE;
	return (int)detect_verdict(s, judged_warming(j, w));
}

/* "ERR no watch is named 'NAME': the watches are a, b, ... and N more":
 * at most 8 of them, the list bounded whatever the configuration. */
static void unknown_watch(const struct judged *j, const char *name, struct buf *reply)
{
	size_t n = j->cfg->n_watches, shown = n < 8 ? n : 8;

	if (!watch_name_valid(name)) {
		buf_puts(reply, "ERR no watch is named so: a watch name is 1 to 64 letters, digits, '.', '_' or '-'\n");
		return;
	}
	buf_printf(reply, "ERR no watch is named '%s': ", name);
	if (n == 0) {
		buf_puts(reply, "the configuration has none\n");
		return;
	}
	buf_puts(reply, n == 1 ? "the one watch is " : "the watches are ");
	for (size_t i = 0; i < shown; i++)
		buf_printf(reply, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ", j->cfg->watches[i].name);
	if (n > shown)
		buf_printf(reply, " and %zu more", n - shown);
	buf_puts(reply, "\n");
}

int status_filter_parse(const struct judged *j, char *const *words, size_t n, struct status_filter *f,
			struct buf *reply)
{
	bool have_watch = false, have_verdict = false;

	*f = (struct status_filter){ -1, -1, false };
	for (size_t i = 0; i < n; i++) {
		if (strcmp(words[i], "watches") == 0 && !f->watches) {
			f->watches = true;
		} else if (strcmp(words[i], "watch") == 0 && !have_watch && i + 1 < n) {
			const struct watch *w = config_find_watch(j->cfg, words[++i]);

			have_watch = true;
			if (!w) {
				unknown_watch(j, words[i], reply);
				return -ENOENT;
			}
			f->watch = (long)(w - j->cfg->watches);
		} else if (strcmp(words[i], "verdict") == 0 && !have_verdict && i + 1 < n) {
			have_verdict = true;
			f->verdict = status_verdict_parse(words[++i]);
			if (f->verdict < 0) {
				buf_puts(reply, "ERR not a verdict: '");
				buf_line_text(reply, strlen(words[i]) > 20 ? "(too long)" : words[i]);
				buf_puts(reply, "': warming, ok, leak, limit or unreadable\n");
				return -EDOM;
			}
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

bool status_filter_keeps(const struct judged *j, const struct status_filter *f, const struct watched *w)
{
	if (f->watch >= 0 && w->watch != (size_t)f->watch)
		return false;
	if (f->verdict < 0)
		return true;
	for (int i = 0; i < METRIC_COUNT; i++)
		if (status_metric_verdict(j, w, i) == f->verdict)
			return true;
	return false;
}
