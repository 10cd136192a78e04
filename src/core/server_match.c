/* Which server a watch is for, and whether its criteria can take that
 * server's master (see server_match.h).
 *
 * Which server: from the text of the criteria, by the names the servers
 * give their programs and processes: "gunicorn", "uwsgi" (the program,
 * its comm, exe uwsgi-core and the --auto-procname titles), "celeryd" or
 * "PoolWorker" (Celery's titles), or "celery" with "worker" (so that
 * "celery -A proj flower" or "beat" is no worker pool).  A watch whose own
 * criteria have no text (only user:, unit:, pidfile:...) is for the
 * children of its parent's server; one whose own text names no server is
 * not for one, whatever its parent is (a command that a uWSGI master's
 * --attach-daemon or a gunicorn hook starts is no worker).  Criteria
 * naming two servers are for none: guessing would warn about a rule
 * written on purpose.  The other way, recognising by the live processes,
 * needs them running, and at -t on another host they are not.
 *
 * Can the rule take the master: a substring test ("names a worker") is
 * fooled by "(master|worker)"; running the watch's own compiled regex
 * (regex_match.h, the matcher discovery uses) on the titles each server
 * gives its master, router or main process is not, but needs the names
 * the operator chose (gunicorn's proc_name, uWSGI's procname prefix,
 * Celery's node name and host), which are taken from the literal words of
 * the watch's regexes, with a few defaults.  So both: a regex that names
 * no worker can match the master, since without setproctitle or
 * --auto-procname master and workers share their argv, and one that does
 * is still run on the titles.  The cost, at load only: at most
 * 2 x NAMES_MAX^2 searches of titles of about 100 bytes for a Celery
 * watch, fewer for the others, none for a regex over RX_SAMPLE_BYTES
 * (each linear in the title, regex_match.h); a watch of no known server
 * costs a few strcasestr calls. */
#include "core/server_match.h"
#include "core/regex_compile.h"
#include "core/regex_match.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MAX_LEVELS      9          /* the watch and 8 parents (config_schema_match.c) */
#define NAMES_MAX       12         /* candidate names taken from the regexes */
#define NAME_LEN        48
#define TITLE_LEN       256
#define RX_SAMPLE_BYTES (256u << 10)

const char *lint_server_name(enum lint_server s)
{
	switch (s) {
	case LINT_GUNICORN: return "gunicorn";
	case LINT_UWSGI: return "uWSGI";
	case LINT_CELERY: return "Celery";
	case LINT_SERVER_NONE: break;
	}
	return "";
}

/* ---- recognition -------------------------------------------------------- */

#define BIT(s) (1u << (s))

static bool has(const char *text, const char *word)
{
	return text && strcasestr(text, word) != NULL;
}

/* The servers the text criteria of one level name, as bits; *any says
 * whether it has text criteria at all. */
static unsigned level_names(const struct match *m, bool *any)
{
	const char *t[3] = { m->cmdline, m->comm, m->exe };
	bool celery = false, worker = false;
	unsigned bits = 0;

	*any = false;
	for (int i = 0; i < 3; i++) {
		if (!t[i])
			continue;
		*any = true;
		if (has(t[i], "gunicorn"))
			bits |= BIT(LINT_GUNICORN);
		if (has(t[i], "uwsgi"))
			bits |= BIT(LINT_UWSGI);
		if (has(t[i], "celeryd") || has(t[i], "poolworker"))
			bits |= BIT(LINT_CELERY);
		celery |= has(t[i], "celery");
		worker |= has(t[i], "worker");
	}
	if (celery && worker)
		bits |= BIT(LINT_CELERY);
	return bits;
}

enum lint_server server_lint_recognise(const struct watch *w)
{
	bool any;
	unsigned bits = level_names(&w->match, &any);

	if (!any && w->match.parent)
		bits = level_names(w->match.parent, &any);
	for (enum lint_server s = LINT_GUNICORN; s <= LINT_CELERY; s++)
		if (bits == BIT(s))
			return s;
	return LINT_SERVER_NONE;
}

/* ---- can it match the master -------------------------------------------- */

struct names {
	size_t n;
	char s[NAMES_MAX][NAME_LEN];
};

static void names_add(struct names *ns, const char *s, size_t len)
{
	if (len == 0 || len >= NAME_LEN || ns->n >= NAMES_MAX)
		return;
	for (size_t i = 0; i < ns->n; i++)
		if (strlen(ns->s[i]) == len && memcmp(ns->s[i], s, len) == 0)
			return;
	memcpy(ns->s[ns->n], s, len);
	ns->s[ns->n++][len] = '\0';
}

/* A word, and its parts between ':' and '@' ("worker1@host" gives
 * "worker1" and "host" too). */
static void names_add_word(struct names *ns, const char *s, size_t len)
{
	size_t start = 0;

	names_add(ns, s, len);
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == ':' || s[i] == '@') {
			if (start > 0 || i < len)
				names_add(ns, s + start, i - start);
			start = i + 1;
		}
	}
}

static bool name_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':' || c == '@';
}

/* Past a bracket expression starting at s[0] == '['. */
static const char *skip_bracket(const char *s)
{
	s++;
	if (*s == '^')
		s++;
	if (*s == ']')
		s++;
	while (*s && *s != ']') {
		if (s[0] == '[' && (s[1] == ':' || s[1] == '=' || s[1] == '.')) {
			const char *end = strchr(s + 2, s[1]);

			s = end && end[1] == ']' ? end + 2 : s + 1;
			continue;
		}
		s++;
	}
	return *s ? s + 1 : s;
}

/* The literal words of regex source RX (outside bracket expressions,
 * escapes like \w ending a word) into NS. */
static void names_from_regex(struct names *ns, const char *rx)
{
	char word[NAME_LEN];
	size_t len = 0;
	bool too_long = false;

	for (const char *p = rx;; ) {
		int c = -1;   /* the literal byte read, or -1 for none */

		if (*p == '\\' && p[1]) {
			c = isalpha((unsigned char)p[1]) ? -1 : (unsigned char)p[1];
			p += 2;
		} else if (*p == '[') {
			p = skip_bracket(p);
		} else if (*p) {
			c = (unsigned char)*p++;
		}
		if (c >= 0 && name_char((unsigned char)c)) {
			if (len + 1 < sizeof(word))
				word[len++] = (char)c;
			else
				too_long = true;
			continue;
		}
		if (len && !too_long)
			names_add_word(ns, word, len);
		len = 0;
		too_long = false;
		if (!*p)
			break;
	}
}

/* Titles of the processes a watch for the server's workers must not
 * take; \1 and \2 stand for candidate names. */
static const char *const gunicorn_titles[] = { "gunicorn: master [\1]", NULL };
static const char *const uwsgi_titles[] = {
	"\1 uWSGI master", "\1uWSGI master", "uWSGI master", "\1 uWSGI http 1", "uWSGI http 1",
	"uwsgi --master --workers 4 --http :8080 --wsgi-file \1.py",
	"/usr/bin/uwsgi-core --ini /etc/uwsgi/apps-enabled/\1.ini --processes 4", NULL,
};
static const char *const celery_titles[] = {
	"[celeryd: \1@\2:MainProcess] -active- (-A \1 worker -l INFO -n \1@\2)",
	"/usr/bin/python3 /usr/bin/celery -A \1 worker -l INFO -n \1@\2", NULL,
};
static const char *const default_names[] = {
	"api", "app", "app:app", "proj", "celery", "worker1", "localhost", NULL,
};

/* TEMPLATE with \1 = A and \2 = B into out; its length. */
static size_t expand(const char *template, const char *a, const char *b, char *out)
{
	size_t n = 0;

	for (const char *t = template; *t && n + 1 < TITLE_LEN; t++) {
		const char *with = *t == '\1' ? a : *t == '\2' ? b : NULL;

		if (!with) {
			out[n++] = *t;
			continue;
		}
		for (; *with && n + 1 < TITLE_LEN; with++)
			out[n++] = *with;
	}
	out[n] = '\0';
	return n;
}

/* Does the watch's cmdline regex match one of the titles (into title)? */
static bool matches_a_title(const struct watch *w, const char *const *titles, char *title)
{
	struct names ns = { 0 };
	struct regex_prog *rx = w->match.cmdline_rx;
	size_t levels = 0;

	if (regex_prog_bytes(rx) > RX_SAMPLE_BYTES)
		return false;
	for (const struct match *m = &w->match; m && levels < MAX_LEVELS; m = m->parent, levels++)
		if (m->cmdline)
			names_from_regex(&ns, m->cmdline);
	for (const char *const *d = default_names; *d; d++)
		names_add(&ns, *d, strlen(*d));
	for (const char *const *t = titles; *t; t++) {
		bool one = !strchr(*t, '\1'), two = strchr(*t, '\2') != NULL;

		for (size_t i = 0; i < (one ? 1 : ns.n); i++) {
			for (size_t j = 0; j < (two ? ns.n : 1); j++) {
				size_t len = expand(*t, ns.s[i], ns.s[j], title);

				if (regex_search(rx, title, len))
					return true;
			}
		}
	}
	return false;
}

bool server_match_master(const struct watch *w, enum lint_server s, char *why, size_t len)
{
	static const char *const *const titles[] = {
		[LINT_GUNICORN] = gunicorn_titles, [LINT_UWSGI] = uwsgi_titles,
		[LINT_CELERY] = celery_titles,
	};
	const char *rx = w->match.cmdline;
	char title[TITLE_LEN];

	/* the master's parent is the service manager: parent: leaves it out */
	if (s != LINT_UWSGI && w->match.parent)
		return false;
	if (!rx || !has(rx, s == LINT_CELERY ? "poolworker" : "worker")) {
		snprintf(why, len, s == LINT_UWSGI ?
			 "no cmdline regex of it names a worker, and unless uWSGI runs with "
			 "--auto-procname they share argv, comm (uwsgi) and exe (uwsgi-core)" :
			 s == LINT_CELERY ? "its cmdline names no pool child (ForkPoolWorker) "
			 "and it has no parent criterion" :
			 "its cmdline names no worker and it has no parent criterion");
		return true;
	}
	if (!matches_a_title(w, titles[s], title))
		return false;
	snprintf(why, len, "its cmdline regex also matches \"%.100s\"", title);
	return true;
}
