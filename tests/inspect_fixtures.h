/* Reports of the inspection script (share/leakwatch/report-format.md) for
 * the unit tests of core/inspect_*: one pair of phase 1 and phase 2 reports per cause of
 * a leak (a cache, reference cycles, closures, files, sockets, sqlite, a
 * native library, threads, no tracemalloc), with what the daemon measured.
 * The bodies are written with '|' for TAB; fx_report() adds the header
 * and the end record with the right count.  The helpers at the end parse
 * them (for the tests: they CHECK as they go). */
#ifndef LEAKWATCH_INSPECT_FIXTURES_H
#define LEAKWATCH_INSPECT_FIXTURES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "text.h"
#include "core/inspect_report.h"
#include "core/inspect_summary.h"

#define FX_TOKEN "0123456789abcdef0123456789abcdef"
#define FX_PID   4242
#define MiB      (1024ull * 1024)

/* The report of phase with body ('|' for TAB), malloc'd, its length in
 * *len; NULL when out of memory. */
static inline char *fx_report(int phase, const char *body, size_t *len)
{
	size_t n = strlen(body), lines = 1;
	char *s = malloc(n + 128);
	int k;

	if (!s)
		return NULL;
	k = snprintf(s, 128, "leakwatch-inspect\t1\t%s\t%d\n", FX_TOKEN, phase);
	for (size_t i = 0; i < n; i++) {
		s[k + i] = body[i] == '|' ? '\t' : body[i];
		lines += body[i] == '\n';
	}
	k += (int)n;
	k += snprintf(s + k, 64, "end\t%zu\n", lines);
	*len = (size_t)k;
	return s;
}

#define FX_HEAD1 "python|3.11.2|4242\npause|0.012345\n"
#define FX_HEAD2 "python|3.11.2|4242\npause|0.345678\nelapsed|30.002\n"

/* phase 1: tracemalloc started now */
static const char fx_p1_started[] =
	FX_HEAD1
	"tracemalloc|started\n"
	"heap|0\n"
	"objects|52000\n"
	"threads|3\n";

/* phase 1: tracemalloc was on already */
static const char fx_p1_running[] =
	FX_HEAD1
	"tracemalloc|running\n"
	"heap|10485760\n"
	"objects|52000\n"
	"threads|3\n";

/* phase 1: tracemalloc could not start */
static const char fx_p1_failed[] =
	FX_HEAD1
	"tracemalloc|failed\n"
	"error|tracemalloc|RuntimeError: the tracemalloc module is not available\n"
	"objects|52000\n"
	"threads|3\n";

/* a cache of sessions that is never pruned */
static const char fx_p2_cache[] =
	FX_HEAD2
	"tracemalloc|stopped\n"
	"heap|0|178257920\n"
	"objects|52000|312000\n"
	"type|__main__.Session|1000|181000|180355072\n"
	"type|builtins.dict|20000|100000|18874368\n"
	"referent|__main__.Session|builtins.dict|180000|18874368\n"
	"referent|__main__.Session|builtins.str|180000|12582912\n"
	"referent|builtins.dict|builtins.int|80000|2240000\n"
	"site|app/cache.py:88|176160768|180000|176160768|180000\n"
	"frame|app/main.py:10|main\n"
	"frame|app/server.py:55|handle\n"
	"frame|app/cache.py:88|put\n"
	"site|/usr/lib/python3.11/json/decoder.py:353|1048576|1000|2097152|2000\n"
	"frame|app/server.py:50|parse\n"
	"frame|/usr/lib/python3.11/json/decoder.py:353|raw_decode\n"
	"site|app/old.py:3|-4096|-12|0|0\n"
	"stack|2|2|MainThread|-\n"
	"frame|app/main.py:5|<module>\n"
	"frame|/usr/lib/python3.11/selectors.py:468|select\n"
	"file|socket|AF_INET 0.0.0.0:8080|2|-\n"
	"file|file|/var/log/app.log|1|app/log.py:7\n"
	"files|3\n";

/* nodes in reference cycles the collector is never given time to free */
static const char fx_p2_cycles[] =
	FX_HEAD2
	"tracemalloc|stopped\n"
	"heap|0|62914560\n"
	"objects|52000|1052000\n"
	"type|__main__.Node|0|500000|28000000\n"
	"type|builtins.list|3000|503000|28000000\n"
	"referent|__main__.Node|builtins.list|500000|28000000\n"
	"referent|__main__.Node|__main__.Node|500000|28000000\n"
	"site|app/graph.py:21|62914560|1000000|62914560|1000000\n"
	"frame|app/graph.py:21|link\n";

/* handlers made per request, each a closure over its request */
static const char fx_p2_closure[] =
	FX_HEAD2
	"tracemalloc|stopped\n"
	"heap|0|9961472\n"
	"objects|52000|152000\n"
	"type|function __main__.make_handler.<locals>.handler|10|50010|7340032\n"
	"type|builtins.cell|100|50100|2000000\n"
	"referent|function __main__.make_handler.<locals>.handler|builtins.cell|50000|2000000\n"
	"site|app/handlers.py:14|9961472|100000|9961472|100000\n"
	"frame|app/handlers.py:30|register\n"
	"frame|app/handlers.py:14|make_handler\n";

/* a log file opened per request and never closed */
static const char fx_p2_files[] =
	FX_HEAD2
	"tracemalloc|stopped\n"
	"heap|0|1048576\n"
	"objects|52000|53000\n"
	"type|_io.TextIOWrapper|2|482|134400\n"
	"site|app/db.py:12|1048576|960|1048576|960\n"
	"file|file|/srv/data.db|500|app/db.py:12\n"
	"file|socket|AF_UNIX /run/x.sock|4|app/ipc.py:3\n"
	"files|504\n";

/* sockets of a pool that forgets them */
static const char fx_p2_sockets[] =
	FX_HEAD2
	"tracemalloc|running\n"
	"heap|10485760|11534336\n"
	"objects|52000|53000\n"
	"file|socket|AF_INET 10.0.0.2:5432|300|app/pool.py:30\n"
	"file|socket|AF_INET unconnected|2|-\n"
	"files|302\n";

/* sqlite connections opened per call */
static const char fx_p2_sqlite[] =
	FX_HEAD2
	"tracemalloc|stopped\n"
	"heap|0|2097152\n"
	"objects|52000|52400\n"
	"type|sqlite3.Connection|0|200|36800\n"
	"site|app/store.py:9|2097152|400|2097152|400\n"
	"file|sqlite|/srv/cache.sqlite|200|app/store.py:9\n"
	"file|sqlite|-|1|-\n"
	"files|201\n";

/* a C extension's buffers: RSS grows, the traced heap hardly */
static const char fx_p2_native[] =
	FX_HEAD2
	"tracemalloc|running\n"
	"heap|10485760|11744051\n"
	"objects|52000|52050\n"
	"type|builtins.list|100|150|4000\n"
	"site|app/codec.py:7|1258291|50|1258291|50\n";

/* worker threads started per job that wait forever */
static const char fx_p2_threads[] =
	FX_HEAD2
	"tracemalloc|stopped\n"
	"heap|0|2097152\n"
	"objects|52000|54000\n"
	"type|threading.Thread|2|192|10752\n"
	"stack|200|10|Thread-N (worker)|app.worker.run\n"
	"frame|/usr/lib/python3.11/threading.py:995|_bootstrap\n"
	"frame|/usr/lib/python3.11/threading.py:1038|_bootstrap_inner\n"
	"frame|/usr/lib/python3.11/threading.py:975|run\n"
	"frame|app/worker.py:42|wait_forever\n"
	"frame|/usr/lib/python3.11/threading.py:320|wait\n"
	"stack|1|1|MainThread|-\n"
	"frame|app/main.py:5|<module>\n"
	"stack|1|1|Thread-N (poller)|app.poll.loop\n"
	"frame|/usr/lib/python3.11/threading.py:995|_bootstrap\n";

/* the cache again, without tracemalloc */
static const char fx_p2_notrace[] =
	FX_HEAD2
	"tracemalloc|off\n"
	"objects|52000|312000\n"
	"type|__main__.Session|1000|181000|180355072\n"
	"error|tracemalloc|not tracing\n";

/* nothing grew */
static const char fx_p2_quiet[] =
	FX_HEAD2
	"tracemalloc|stopped\n"
	"heap|0|4096\n"
	"objects|52000|52000\n"
	"stack|1|1|MainThread|-\n"
	"frame|app/main.py:5|<module>\n"
	"files|0\n";

struct fx_cause {
	const char *name;
	const char *p1, *p2;
	struct inspect_measure m;
};

/* Each cause with the trigger its leak would have; the expected summaries
 * are the tests'. */
static const struct fx_cause fx_causes[] = {
	{ "cache", fx_p1_started, fx_p2_cache,
	  { "rss", 100 * MiB, 280 * MiB, 12, 12, 3, 3, 30.0, { 0, 0 }, { 0, 0 }, { 0, 0 } } },
	{ "cycles", fx_p1_started, fx_p2_cycles,
	  { "rss", 100 * MiB, 164 * MiB, 12, 12, 3, 3, 30.0, { 0, 0 }, { 0, 0 }, { 0, 0 } } },
	{ "closure", fx_p1_started, fx_p2_closure,
	  { "uss", 100 * MiB, 110 * MiB, 12, 12, 3, 3, 30.0, { 0, 0 }, { 0, 0 }, { 0, 0 } } },
	{ "files", fx_p1_started, fx_p2_files,
	  { "fds", 100 * MiB, 101 * MiB, 30, 510, 3, 3, 30.0, { 0, 0 }, { 0, 0 }, { 0, 0 } } },
	{ "sockets", fx_p1_running, fx_p2_sockets,
	  { "fds", 100 * MiB, 101 * MiB, 20, 310, 3, 3, 30.0, { 0, 0 }, { 0, 0 }, { 0, 0 } } },
	{ "sqlite", fx_p1_started, fx_p2_sqlite,
	  { "fds", 100 * MiB, 102 * MiB, 12, 212, 3, 3, 30.0, { 0, 0 }, { 0, 0 }, { 0, 0 } } },
	{ "native", fx_p1_running, fx_p2_native,
	  { "rss", 200 * MiB, 200 * MiB + 96 * MiB + 1258291, 12, 12, 3, 3, 30.0, { 0, 0 }, { 0, 0 }, { 0, 0 } } },
	{ "native-pss", fx_p1_running, fx_p2_native,
	  { "pss", 200 * MiB, 200 * MiB + 96 * MiB + 1258291, 12, 12, 3, 3, 30.0, { 0, 0 }, { 0, 0 }, { 0, 0 } } },
	{ "threads", fx_p1_started, fx_p2_threads,
	  { "threads", 100 * MiB, 104 * MiB, 12, 12, 12, 202, 30.0, { 0, 0 }, { 0, 0 }, { 0, 0 } } },
	{ "on-demand", fx_p1_started, fx_p2_cache,
	  { NULL, 100 * MiB, 280 * MiB, 12, 12, 3, 3, 30.0, { 0, 0 }, { 0, 0 }, { 0, 0 } } },
	{ "on-demand-threads", fx_p1_started, fx_p2_threads,
	  { "", 100 * MiB, 100 * MiB, 12, 12, 12, 202, 30.0, { 0, 0 }, { 0, 0 }, { 0, 0 } } },
	{ "on-demand-native", fx_p1_running, fx_p2_native,
	  { "", 200 * MiB, 200 * MiB + 96 * MiB + 1258291, 12, 12, 3, 3, 30.0, { 0, 0 }, { 0, 0 }, { 0, 0 } } },
	{ "on-demand-quiet", fx_p1_started, fx_p2_quiet,
	  { NULL, 100 * MiB, 100 * MiB, 12, 12, 3, 3, 30.0, { 0, 0 }, { 0, 0 }, { 0, 0 } } },
	{ "notrace", fx_p1_failed, fx_p2_notrace,
	  { "rss", 100 * MiB, 280 * MiB, 12, 12, 3, 3, 30.0, { 0, 0 }, { 0, 0 }, { 0, 0 } } },
	{ "quiet-rss", fx_p1_started, fx_p2_quiet,
	  { "rss", 100 * MiB, 104 * MiB, 12, 12, 3, 3, 30.0, { 0, 0 }, { 0, 0 }, { 0, 0 } } },
	{ "quiet-fds", fx_p1_started, fx_p2_quiet,
	  { "fds", 100 * MiB, 100 * MiB, 20, 500, 3, 3, 30.0, { 0, 0 }, { 0, 0 }, { 0, 0 } } },
	{ "quiet-threads", fx_p1_started, fx_p2_quiet,
	  { "threads", 100 * MiB, 100 * MiB, 12, 12, 3, 40, 30.0, { 0, 0 }, { 0, 0 }, { 0, 0 } } },
};
#define FX_CAUSES (sizeof(fx_causes) / sizeof(fx_causes[0]))

/* ---- helpers of the tests (check.h's CHECK) -------------------------------- */

/* No control character but newlines, valid UTF-8. */
static inline bool clean_text(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0))
			return false;
	return utf8_valid(s);
}

/* The fixtures, parsed: a report of either phase, a cause's pair with its facts. */
struct loaded {
	struct inspect_report p1, p2;
	struct inspect_facts f;
};

static inline bool parse_one(struct inspect_report *r, int phase, const char *body)
{
	char why[200], *text;
	size_t len;
	int rc;

	inspect_report_init(r);
	text = fx_report(phase, body, &len);
	if (!text)
		return false;
	rc = inspect_parse(r, text, len, FX_TOKEN, phase, FX_PID, why, sizeof(why));
	CHECK_MSG(rc == 0, "phase %d: %s", phase, why);
	free(text);
	return rc == 0;
}

static inline bool load(const struct fx_cause *c, struct loaded *l)
{
	if (!parse_one(&l->p1, 1, c->p1) || !parse_one(&l->p2, 2, c->p2))
		return false;
	CHECK(inspect_facts_build(&l->f, &l->p1, &l->p2, &c->m) == 0);
	return true;
}

static inline void unload(struct loaded *l)
{
	inspect_report_free(&l->p1);
	inspect_report_free(&l->p2);
}

static inline const struct fx_cause *cause(const char *name)
{
	for (size_t i = 0; i < FX_CAUSES; i++)
		if (strcmp(fx_causes[i].name, name) == 0)
			return &fx_causes[i];
	abort();
}

/* The largest report: every table at its cap, every field 256 bytes. */
static inline char *largest(void)
{
	size_t cap = INSPECT_REPORT_MAX, n = 0;
	char *s = malloc(cap), f[257];

	if (!s)
		return NULL;
	memset(f, 'x', 256);
	f[256] = '\0';
	n += (size_t)snprintf(s + n, cap - n, "%s", FX_HEAD2);
	n += (size_t)snprintf(s + n, cap - n, "tracemalloc|stopped\nheap|0|9007199254740991\nobjects|0|9007199254740991\n");
	for (int i = 0; i < INSPECT_TYPES_MAX; i++)
		n += (size_t)snprintf(s + n, cap - n, "type|%.250s%d|0|9007199254740991|9007199254740991\n", f, i);
	for (int i = 0; i < INSPECT_REFERENTS_MAX; i++)
		n += (size_t)snprintf(s + n, cap - n, "referent|%.250s%d|%s|1|1\n", f, i % 20, f);
	for (int i = 0; i < INSPECT_SITES_MAX; i++) {
		n += (size_t)snprintf(s + n, cap - n, "site|%.250s:%d|-9007199254740991|1|1|1\n", f, i);
		for (int k = 0; k < INSPECT_SITE_FRAMES_MAX; k++)
			n += (size_t)snprintf(s + n, cap - n, "frame|%.250s:%d|%s\n", f, k, f);
	}
	for (int i = 0; i < INSPECT_STACKS_MAX; i++) {
		n += (size_t)snprintf(s + n, cap - n, "stack|%d|0|%s|%s\n", 100 - i, f, f);
		for (int k = 0; k < INSPECT_STACK_FRAMES_MAX; k++)
			n += (size_t)snprintf(s + n, cap - n, "frame|%.250s:%d|%s\n", f, k, f);
	}
	for (int i = 0; i < INSPECT_FILES_MAX; i++)
		n += (size_t)snprintf(s + n, cap - n, "file|socket|%s|%d|%.250s:1\n", f, i, f);
	for (int i = 0; i < INSPECT_ERRORS_MAX; i++)
		n += (size_t)snprintf(s + n, cap - n, "error|internal|%s\n", f);
	snprintf(s + n, cap - n, "files|9007199254740991\n");
	return s;
}

#endif
