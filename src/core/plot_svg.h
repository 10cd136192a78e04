/* A plot of one watched process as an SVG 1.1 document: per metric a
 * panel with the window's bucket means (a line) in their min-max band,
 * the coarse quarters before the window, the fitted trend, the limit, the
 * predicted crossing and the leak and limit periods, on a UTC time axis
 * and a value axis in the configuration's notation.  What the plot shows
 * is plot_model.h's.  Pure formatting: no I/O.
 *
 * What tests and tools may rely on: each panel is <g id="panel-METRIC"
 * class="panel">; in it the limit line has id "limit-METRIC" (class
 * "limit"), the trend "trend-METRIC" (class "trend"), the prediction
 * "predict-METRIC" and its crossing of the limit "crossing-METRIC"; each
 * leak or limit period is a <rect class="verdict leak"> or <rect
 * class="verdict limit">; the bucket means are <polyline class="mean">,
 * their band <path class="band">, the coarse quarters <rect
 * class="coarse">.  Text from the process or the config (watch, comm,
 * title) is escaped and clipped. */
#ifndef LEAKWATCH_PLOT_SVG_H
#define LEAKWATCH_PLOT_SVG_H

#include "core/buf.h"
#include "core/plot_model.h"

/* The most plot_svg() writes, whatever the history and the names. */
#define PLOT_SVG_MAX (96u << 10)

/* The document for p onto b. */
void plot_svg(struct buf *b, const struct plot *p);

/* s as XML character data or attribute text onto b: & < > " ' as
 * entities, every control character (C0, DEL, C1) and each character XML
 * does not allow as '?', invalid UTF-8 as U+FFFD; at most max_chars
 * characters, a longer text ending in "…". */
void plot_xml_text(struct buf *b, const char *s, size_t max_chars);

#endif
