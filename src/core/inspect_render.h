/* python.json: everything an inspection found, as one JSON object (the
 * two phases' reports, what the daemon measured, the facts and the
 * summary), written into an incident's directory beside python.txt
 * (core/inspect_text.h).  Pure. */
#ifndef LEAKWATCH_INSPECT_RENDER_H
#define LEAKWATCH_INSPECT_RENDER_H

#include "core/buf.h"
#include "core/inspect_report.h"
#include "core/inspect_summary.h"

/* Append python.json to b: one JSON object and a newline, valid JSON and
 * UTF-8 whatever bytes the reports' strings hold.  p1 or p2 may be NULL
 * (that phase failed: its key is null), m NULL (nothing measured); f is
 * what inspect_facts_build() made of them.  Keys: format, pid, python,
 * trigger, summary, measured {seconds, rss, fds, threads: {phase1,
 * phase2}}, phase1 {pause, tracemalloc, heap, objects, threads}, phase2
 * {pause, elapsed, tracemalloc, heap {start, end}, objects {start, end},
 * files}, types, referents, sites (each with its traceback), stacks (with
 * frames), files, errors (each with its phase), facts {top_type, top_site,
 * top_stack, outside_python_heap, top_files}; a record the report did not
 * have is null.  Returns 0, or -ENOMEM when b failed (buf_ok). */
int inspect_render_json(struct buf *b, const struct inspect_report *p1, const struct inspect_report *p2,
			const struct inspect_measure *m, const struct inspect_facts *f);

#endif
