/* A plot of one watched process for a terminal: per metric its caption,
 * a chart of PLOT_TEXT_ROWS rows of braille characters (U+2800 to U+28FF,
 * 2 x 4 dots each) as wide as the terminal, a UTC time axis and a row of
 * the verdicts over time.  The same content as the SVG (plot_model.h).
 * Pure formatting: no I/O. */
#ifndef LEAKWATCH_PLOT_TEXT_H
#define LEAKWATCH_PLOT_TEXT_H

#include "core/buf.h"
#include "core/plot_model.h"

#define PLOT_TEXT_ROWS      10
#define PLOT_TEXT_WIDTH_MIN 40
#define PLOT_TEXT_WIDTH_MAX 400   /* a wider terminal gets this many columns */

/* The chart of p in width columns (clamped to the bounds above) onto b:
 * valid UTF-8, no control character but the newlines, no line wider than
 * width (code points). */
void plot_text(struct buf *b, const struct plot *p, unsigned width);

#endif
