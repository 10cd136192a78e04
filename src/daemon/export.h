/* The Prometheus outputs of leakwatchd: a textfile for node_exporter's
 * textfile collector (metrics_textfile), written every tick but at most
 * once a second, removed at stop so that stale numbers do not outlive the
 * daemon; and an HTTP endpoint (metrics_listen), started, moved or
 * stopped to match the configuration at each reload.  Both render the
 * same page (core/prometheus.h).
 *
 * A failing output is told once through the notice sink (notice.h), and
 * its recovery in one log line; the daemon runs on without either. */
#ifndef LEAKWATCH_EXPORT_H
#define LEAKWATCH_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "core/buf.h"
#include "daemon/notice.h"

struct config;
struct httpd;
struct metrics_counters;
struct judged;

struct metrics_export {
	const struct config *cfg;  /* metrics_textfile, metrics_listen */
	const struct judged *seen; /* what is rendered, with the counters */
	const struct metrics_counters *counters;
	struct notice_sink say;
	struct buf scratch;        /* for the textfile, reused */
	uint64_t textfile_ms;      /* when the textfile was last written */
	bool textfile_failing;
	struct httpd *httpd;       /* metrics: listen, when on */
	char *listening;           /* the address it listens on */
};

/* Borrow cfg, seen and counters (they outlive x); nothing is started yet. */
void export_init(struct metrics_export *x, const struct config *cfg, const struct judged *seen,
		 const struct metrics_counters *counters, const struct notice_sink *say);

/* Take cfg (it outlives x), and start, move or stop the HTTP endpoint on
 * e to match it.  Also at start, with the configuration of export_init(). */
void export_set_config(struct metrics_export *x, const struct config *cfg, sd_event *e);

/* After each tick (now_ms on CLOCK_BOOTTIME): the textfile, when due. */
void export_tick(struct metrics_export *x, uint64_t now_ms);

/* At stop: remove the textfile. */
void export_stop(struct metrics_export *x);

/* Stop the endpoint, free the buffers; accepts a zeroed one. */
void export_free(struct metrics_export *x);

#endif
