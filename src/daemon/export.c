/* The textfile and the HTTP endpoint (export.h says what and when).  Kept
 * out of main.c so that the event loop holds neither the scratch buffer,
 * the endpoint nor their reporting state; the page itself is
 * core/prometheus.c's, the server io/httpd.c's. */
#include "daemon/export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/prometheus.h"
#include "io/httpd.h"
#include "os/files.h"

static void render_metrics(void *ctx, struct buf *out)
{
	struct metrics_export *x = ctx;

	metrics_render(out, x->seen, x->counters);
}

/* The textfile for node_exporter: rewritten whole (renamed into place)
 * every interval, at most once a second. */
static void write_textfile(struct metrics_export *x, uint64_t now_ms)
{
	const char *path = x->cfg->metrics_textfile;
	int r;

	if (!path || now_ms - x->textfile_ms < 1000)
		return;
	x->textfile_ms = now_ms;
	buf_reset(&x->scratch);
	metrics_render(&x->scratch, x->seen, x->counters);
	r = buf_ok(&x->scratch) ? write_file_atomic(path, x->scratch.data, x->scratch.len, 0644, false) : -ENOMEM;
	if (r < 0 && !x->textfile_failing)
		notice(&x->say, NOTICE_ERROR, NULL, "cannot write the metrics textfile %s: %s", path, strerror(-r));
	else if (r == 0 && x->textfile_failing)
		notice(&x->say, NOTICE_LOG_INFO, NULL, "the metrics textfile %s is written again", path);
	x->textfile_failing = r < 0;
}

/* Start, move or stop the HTTP endpoint to match the config. */
static void set_listen(struct metrics_export *x, sd_event *e)
{
	const char *want = x->cfg->metrics_listen;
	int r;

	if (want && x->listening && strcmp(want, x->listening) == 0)
		return;
	httpd_free(x->httpd);
	x->httpd = NULL;
	free(x->listening);
	x->listening = NULL;
	if (!want)
		return;
	r = httpd_new(&x->httpd, e, want, NULL, render_metrics, x);
	if (r < 0) {
		notice(&x->say, NOTICE_ERROR, NULL, "metrics: cannot listen on %s: %s; no HTTP endpoint", want,
		       r == -EADDRNOTAVAIL ? "no such address" :
		       r == -ELIBACC ? "libmicrohttpd.so.12 cannot be loaded (Debian: libmicrohttpd12)" :
		       strerror(-r));
		return;
	}
	x->listening = strdup(want);
	notice(&x->say, NOTICE_LOG_INFO, NULL, "metrics served on http://%s/metrics", want);
}

void export_init(struct metrics_export *x, const struct config *cfg, const struct judged *seen,
		 const struct metrics_counters *counters, const struct notice_sink *say)
{
	*x = (struct metrics_export){ .cfg = cfg, .seen = seen, .counters = counters, .say = *say };
}

void export_set_config(struct metrics_export *x, const struct config *cfg, sd_event *e)
{
	x->cfg = cfg;
	set_listen(x, e);
}

void export_tick(struct metrics_export *x, uint64_t now_ms)
{
	write_textfile(x, now_ms);
}

void export_stop(struct metrics_export *x)
{
	/* stale numbers must not outlive the daemon in node_exporter */
	if (x->cfg->metrics_textfile && unlink(x->cfg->metrics_textfile) < 0 && errno != ENOENT)
		notice(&x->say, NOTICE_LOG_WARN, NULL, "cannot remove the metrics textfile %s: %s",
		       x->cfg->metrics_textfile, strerror(errno));
}

void export_free(struct metrics_export *x)
{
	httpd_free(x->httpd);
	x->httpd = NULL;
	free(x->listening);
	x->listening = NULL;
	buf_free(&x->scratch);
}
