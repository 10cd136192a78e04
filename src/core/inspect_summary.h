/* What an inspection found, in facts and one line: from the two phases'
 * reports (core/inspect_report.h) and what the daemon measured itself,
 * the type that grew most, the allocation site that grew most, the
 * thread stack that grew most, the open file group that is largest,
 * whether the growth is outside the Python heap, and the summary that goes
 * into the inspect event ("rss leak in pid 4242: +180,000 __main__.Session
 * objects (+172M); top site app/cache.py:88 (+168M)").  Pure.
 *
 * The facts own their strings (copied, cut, made printable), so they may
 * outlive the reports; every string is valid UTF-8 without a control
 * character. */
#ifndef LEAKWATCH_INSPECT_SUMMARY_H
#define LEAKWATCH_INSPECT_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/inspect_report.h"

#define INSPECT_SUMMARY_LEN   300                /* bytes of the summary, at most */
#define INSPECT_NAME_LEN      (INSPECT_FIELD_MAX + 1)
/* On demand, a stack whose thread count grew by fewer is not named first
 * (the main thread seen at another line is no thread leak). */
#define INSPECT_STACK_LEAK_MIN 5
#define INSPECT_NATIVE_MIN    (8.0 * 1024 * 1024)   /* RSS growth the native verdict needs */

/* What the daemon measured: at phase 1 and at phase 2, in bytes and
 * counts (0 and 0: not measured), the seconds between the phases, and
 * the metric whose leak verdict started the inspection: "rss", "uss",
 * "pss", "fds", "threads", or NULL or "" for an inspection on demand (any
 * other text counts as on demand). */
struct inspect_measure {
	const char *trigger;
	uint64_t rss1, rss2, fds1, fds2, threads1, threads2;
	double seconds;
	/* each attach, phase 1 and 2 (0: not made): how long the thread used
	 * was held by the tracer, how long until a thread reached the safe
	 * point, and the threads traced meanwhile */
	uint64_t held_usec[2], wait_usec[2], traced[2];
};

enum inspect_verdict { INSPECT_VERDICT_UNKNOWN, INSPECT_VERDICT_NO, INSPECT_VERDICT_YES };
const char *inspect_verdict_name(enum inspect_verdict v);   /* "unknown", "no", "yes" */

struct inspect_facts {
	uint64_t pid;
	char trigger[8];                 /* one of the known ones, or "" (on demand) */

	/* the type whose count grew most (ties: the larger SIZE) */
	bool has_type;
	char top_type[INSPECT_NAME_LEN]; /* "__main__.Session"; "" when none */
	uint64_t type_count;             /* objects now */
	uint64_t type_growth;            /* C2 - C1 */
	uint64_t type_size;              /* estimated bytes of the growth */

	/* the allocation site whose traced size grew most */
	bool has_site;
	char top_site[INSPECT_NAME_LEN]; /* "app/cache.py:88"; "" when none */
	int64_t site_size_growth, site_count_growth;
	uint64_t site_size, site_count;

	/* the thread stack that grew most (ties, or none grew: the most threads) */
	bool has_stack;
	uint64_t stack_count, stack_count1;
	int64_t stack_growth;
	char stack_where[INSPECT_NAME_LEN];   /* innermost program frame "FILE:LINE" */
	char stack_func[INSPECT_NAME_LEN];    /* its function */
	char stack_target[INSPECT_NAME_LEN];  /* the threads' target; "" unknown */
	char stack_name[INSPECT_NAME_LEN];    /* a representative thread name */

	/* Growth outside the Python heap (a C extension or native library):
	 * YES when RSS grew by at least INSPECT_NATIVE_MIN and the traced
	 * heap by less than a quarter of that; UNKNOWN when the heap was not
	 * traced (tracemalloc off or failed, no heap record in phase 2) or RSS
	 * not measured; else NO.  outside_bytes = rss_growth - max(heap_growth, 0). */
	enum inspect_verdict outside_heap;
	bool heap_traced;                /* phase 2 has the traced heap at both phases */
	int64_t rss_growth, heap_growth, outside_bytes;

	/* the largest group of open files, sockets or sqlite connections */
	bool has_file;
	enum inspect_file_kind file_kind;
	char file_name[INSPECT_NAME_LEN];     /* "" unknown */
	char file_site[INSPECT_NAME_LEN];     /* "" unknown */
	uint64_t file_count;
	uint64_t files_total;

	char summary[INSPECT_SUMMARY_LEN + 1];
};

/* Fill f from the phase 1 report p1 (may be NULL), the phase 2 report p2
 * (may be NULL when phase 2 failed) and m (NULL: nothing measured), and
 * write the summary, "TRIGGER leak in pid N: " (or "inspection of pid N: "
 * on demand) and, by trigger:
 *   rss, uss, pss: "+96M outside the Python heap (traced Python heap
 *     +1.2M): a C extension or native library" when that verdict is YES,
 *     else the type and the site that grew most, "+180,000 __main__.Session
 *     objects (+172M); top site app/cache.py:88 (+168M)" (a function
 *     key reads "+5,000 functions M.f.<locals>.g"; without a trace, "; no
 *     allocation sites (tracemalloc off)" instead of the site);
 *   threads: the stack that grew, "200 threads (+190) in app/worker.py:42
 *     wait_forever" (its innermost frame outside the stdlib);
 *   fds: the largest file group, "500 open files /srv/data.db (+480)
 *     opened at app/db.py:12" ("open sockets", "sqlite connections"; the
 *     growth is the daemon's count of fds);
 *   on demand: the native verdict, else a stack that grew, else the types
 *     and sites, else the file group.
 * When the reports have none of it: what the daemon measured, and that
 * ("no phase 2 report", "none held by a Python file, socket or sqlite
 * object", "no Python thread stack grew ...").  Names are cut to 96 bytes,
 * the line to INSPECT_SUMMARY_LEN.  Returns 0, or -EINVAL when neither
 * report is given or one is of the wrong phase. */
int inspect_facts_build(struct inspect_facts *f, const struct inspect_report *p1,
			const struct inspect_report *p2, const struct inspect_measure *m);

#endif
