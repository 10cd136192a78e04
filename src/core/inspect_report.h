/* The report of the Python inspection script (share/leakwatch/inspect.py),
 * parsed: one phase's line report, as share/leakwatch/report-format.md
 * ("leakwatch inspect report, format 1") defines it, checked strictly and
 * turned into a struct whose strings are all owned and bounded.  Pure.
 *
 * The text comes from a hostile process: inspect_parse() accepts only a
 * report that follows the format to the letter (the header, the token, the
 * phase and the pid the daemon expects; well-formed known records in their
 * phase and within their caps; `end COUNT` right and last) and refuses
 * anything else with -EBADMSG and a reason naming the line.  A reason never
 * quotes the report: it holds only the parser's own words and the names of
 * known records, so it can go into a log line as it is. */
#ifndef LEAKWATCH_INSPECT_REPORT_H
#define LEAKWATCH_INSPECT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/inspect_lines.h"

#define INSPECT_FORMAT           1       /* and INSPECT_REPORT_MAX, ..., in inspect_lines.h */

#define INSPECT_TYPES_MAX        20
#define INSPECT_REFERENTS_MAX    40
#define INSPECT_SITES_MAX        10
#define INSPECT_SITE_FRAMES_MAX  8
#define INSPECT_STACKS_MAX       10
#define INSPECT_STACK_FRAMES_MAX 12
#define INSPECT_FILES_MAX        20
#define INSPECT_ERRORS_MAX       8

/* tracemalloc's state as the report gives it: phase 1 says started,
 * running or failed; phase 2 stopped, running or off.  UNKNOWN: the
 * report has no tracemalloc record. */
enum inspect_tm {
	INSPECT_TM_UNKNOWN, INSPECT_TM_STARTED, INSPECT_TM_RUNNING, INSPECT_TM_FAILED,
	INSPECT_TM_STOPPED, INSPECT_TM_OFF,
};
const char *inspect_tm_name(enum inspect_tm s);   /* "started", ...; NULL for UNKNOWN */

enum inspect_file_kind { INSPECT_FILE_FILE, INSPECT_FILE_SOCKET, INSPECT_FILE_SQLITE };
const char *inspect_file_kind_name(enum inspect_file_kind k);   /* "file", "socket", "sqlite" */

/* Which of the records that come at most once a report had (the header,
 * python, pause and end are always there in a parsed report). */
enum {
	INSPECT_HAVE_TRACEMALLOC = 1u << 0,
	INSPECT_HAVE_HEAP        = 1u << 1,
	INSPECT_HAVE_OBJECTS     = 1u << 2,
	INSPECT_HAVE_THREADS     = 1u << 3,   /* phase 1 */
	INSPECT_HAVE_ELAPSED     = 1u << 4,   /* phase 2 */
	INSPECT_HAVE_FILES       = 1u << 5,   /* phase 2 */
};

/* Every string below points into the report's own copy of the text: valid
 * UTF-8 without a control character, at most INSPECT_FIELD_MAX bytes,
 * valid until inspect_report_free().  A text field that was "-" (none) is
 * NULL where the comment says so. */
struct inspect_frame {
	const char *where;       /* "FILE:LINE" */
	const char *func;        /* the function's name */
};

struct inspect_type {
	const char *name;        /* "__main__.Session", "function __main__.f.<locals>.g" */
	uint64_t c1, c2;         /* objects at census 1 and 2 (c2 > c1) */
	uint64_t size;           /* estimated bytes of the growth */
};

struct inspect_referent {
	const char *owner;       /* the grown type's name (not checked against the types) */
	const char *name;        /* the type its objects refer to */
	uint64_t count, size;    /* scaled to the owner's growth */
};

struct inspect_site {
	const char *where;       /* "FILE:LINE" */
	int64_t size_diff, count_diff;
	uint64_t size, count;    /* now */
	size_t n_frames;
	struct inspect_frame frames[INSPECT_SITE_FRAMES_MAX];   /* outermost first */
};

struct inspect_stack {
	uint64_t count, count1;  /* threads with this stack now, and at phase 1 */
	const char *name;        /* a representative thread name ("Thread-N (worker)") */
	const char *target;      /* module.qualname of the target, or NULL */
	size_t n_frames;
	struct inspect_frame frames[INSPECT_STACK_FRAMES_MAX];  /* outermost first */
};

struct inspect_file {
	enum inspect_file_kind kind;
	const char *name;        /* path, "AF_INET 10.0.0.2:5432", or NULL (unknown) */
	uint64_t count;
	const char *site;        /* "FILE:LINE" of the allocation, or NULL */
};

struct inspect_error {
	const char *what;        /* census|tracemalloc|threads|files|state|report|internal */
	const char *msg;
};

struct inspect_report {
	int phase;               /* 1 or 2; 0: empty */
	const char *version;     /* "3.11.2" */
	uint64_t pid;
	double pause;            /* seconds the script ran in this phase */
	unsigned have;           /* INSPECT_HAVE_* */
	double elapsed;          /* phase 2: seconds from census 1 to census 2 */
	enum inspect_tm tracemalloc;
	uint64_t heap;           /* traced bytes now (phase 1's BYTES, phase 2's END) */
	uint64_t heap_start;     /* phase 2: traced bytes at phase 1 (START) */
	uint64_t objects;        /* gc-tracked objects now (phase 1's COUNT, phase 2's C2) */
	uint64_t objects_start;  /* phase 2: at census 1 (C1) */
	uint64_t threads;        /* phase 1: threads */
	uint64_t files_total;    /* phase 2: open file objects seen */
	size_t n_types, n_referents, n_sites, n_stacks, n_files, n_errors;
	struct inspect_type types[INSPECT_TYPES_MAX];
	struct inspect_referent referents[INSPECT_REFERENTS_MAX];
	struct inspect_site sites[INSPECT_SITES_MAX];
	struct inspect_stack stacks[INSPECT_STACKS_MAX];
	struct inspect_file files[INSPECT_FILES_MAX];
	struct inspect_error errors[INSPECT_ERRORS_MAX];
	char *text;              /* the owned copy the strings point into */
};

void inspect_report_init(struct inspect_report *r);   /* an empty report */
void inspect_report_free(struct inspect_report *r);   /* back to empty; accepts NULL */

/* Parse one phase's report text (len bytes; NULs in it are refused) into r,
 * which must have been initialised: what it held is freed first.  token is
 * the daemon's 32 lowercase hex digits, phase 1 or 2, pid the target's
 * (0: any pid, for tools that do not know it; the daemon passes its own).
 * Returns 0, -E2BIG (more than INSPECT_REPORT_MAX bytes), -EBADMSG (not a
 * valid report: why says where and what, "line 7: type: 4 fields, expected
 * 5"), -EINVAL (bad arguments) or -ENOMEM.  On failure r is empty, and why
 * (when whylen > 0) is always set.
 *
 * What is refused: a wrong header, format, token, phase or pid; a known
 * record with the wrong number of fields, a malformed number (decimal,
 * no sign unless a diff, no leading zero, at most 2^53-1) or seconds (up
 * to 6 fraction digits), an unknown tracemalloc state, file kind or error
 * WHAT; a record of the other phase; a record that comes once (heap,
 * objects, ...) twice; more records than a cap (20 types, ...); a frame
 * that does not follow a site or a stack, or more frames than its cap; a
 * type whose count did not grow; a line over 1024 bytes, a field over 256,
 * an empty record name, a control character (C0, DEL, C1) or bytes that
 * are not UTF-8; no end record, a wrong count in it, anything after it,
 * a last line without "\n".  Records of unknown names are skipped whole
 * (forward compatibility), once their line passes the checks on bytes. */
int inspect_parse(struct inspect_report *r, const char *text, size_t len, const char *token, int phase,
		  uint64_t pid, char *why, size_t whylen);

#endif
