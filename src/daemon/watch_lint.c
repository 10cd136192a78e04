/* The watches' warnings as the daemon tells them (see watch_lint.h).
 *
 * Apart from daemon/main.c so that the start, SIGHUP and the socket's
 * reload tell the same warnings the same way, through the notice sink
 * (daemon/notice.h: main.c counts the events on their way out), and the
 * reply to `leakwatchctl reload` lists what the journal gets.  The texts
 * are built from the configuration (the operator's), yet go out as
 * one-line text (buf_line_text) all the same: a reply line is a protocol
 * line.  Costs: at start and at each reload, one lint per watch, within
 * one SERVER_MATCH_BUDGET for all of them. */
#include "daemon/watch_lint.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct server_lint *watch_lint(const struct config *cfg, char *note, size_t len)
{
	struct server_lint *l = calloc(cfg->n_watches ? cfg->n_watches : 1, sizeof(*l));
	uint64_t budget = SERVER_MATCH_BUDGET;
	size_t n = 0;

	for (size_t i = 0; l && i < cfg->n_watches; i++)
		n += server_lint_watch(&cfg->watches[i], &budget, &l[i]);
	note[0] = '\0';
	if (n)
		snprintf(note, len, ", %zu warning%s", n, n == 1 ? "" : "s");
	return l;
}

void watch_lint_tell(const struct notice_sink *say, const struct config *cfg, struct server_lint *l,
		     struct buf *reply)
{
	for (size_t i = 0; l && i < cfg->n_watches; i++) {
		const struct subject about = { .watch = cfg->watches[i].name };

		for (size_t k = 0; k < l[i].n; k++) {
			notice(say, NOTICE_WARNING, &about, "%s", l[i].w[k].text);
			if (reply) {
				buf_printf(reply, "warning: %s: ", about.watch);
				buf_line_text(reply, l[i].w[k].text);
				buf_puts(reply, "\n");
			}
		}
	}
	free(l);
}
