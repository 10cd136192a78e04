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
 * is still run on the titles.  The cost, at load only: per watch, one
 * search of a title of about 80 bytes per candidate name (per name and
 * host for Celery), at most NAMES_MAX x NAMES_MAX; a search is linear in
 * the title (regex_match.h), but a regex keeping many states alive makes
 * each byte dear: 1000 Celery watches of "(.?){30}PoolWorker.*celeryN"
 * took 2.8 s.  So a configuration's searches share SERVER_MATCH_BUDGET,
 * counted by each search's bound: the same 1000 now take 0.4 s (0.02 s
 * to load), and a watch past the budget is judged by its words alone.
 * The shipped example's three take 4 us, and a watch of no known server
 * a few strcasestr calls. */
#include "core/server_match.h"
#include "core/regex_compile.h"
#include "core/regex_match.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_LEVELS      9          /* the watch and 8 parents (config_schema_match.c) */
#define NAMES_MAX       12         /* candidate names taken from the regexes */
#define NAME_LEN        48
#define TITLE_LEN       256

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

/* Candidate names, and the hosts among them (the parts after an '@'):
 * none holding the word that names a worker (reject), since
 * "ForkPoolWorker-" taken from the regex and put into a main process's
 * title would make a title no main process has. */
struct names {
	size_t n;
	char s[NAMES_MAX][NAME_LEN];
};

struct candidates {
	const char *reject;
	struct names any, hosts;
};

static void names_add(struct names *ns, const char *reject, const char *s, size_t len)
{
	if (len == 0 || len >= NAME_LEN || ns->n >= NAMES_MAX)
		return;
	for (size_t i = 0; i < ns->n; i++)
		if (strlen(ns->s[i]) == len && memcmp(ns->s[i], s, len) == 0)
			return;
	memcpy(ns->s[ns->n], s, len);
	ns->s[ns->n][len] = '\0';
	if (!strcasestr(ns->s[ns->n], reject))
		ns->n++;
}

/* A word, and its parts between ':' and '@' ("worker1@host" gives
 * "worker1" and "host" too, "host" also as a host, as is a word with a
 * dot or one that HOST says follows an '@'). */
static void names_add_word(struct candidates *c, const char *s, size_t len, bool host)
{
	size_t start = 0;

	names_add(&c->any, c->reject, s, len);
	if (host || memchr(s, '.', len))
		names_add(&c->hosts, c->reject, s, len);
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != ':' && s[i] != '@')
			continue;
		if (start > 0 || i < len)
			names_add(&c->any, c->reject, s + start, i - start);
		if (start > 0 && s[start - 1] == '@')
			names_add(&c->hosts, c->reject, s + start, i - start);
		start = i + 1;
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
 * escapes like \w ending a word) into TO. */
static void names_from_regex(struct candidates *to, const char *rx)
{
	char word[NAME_LEN];
	size_t len = 0;
	bool too_long = false, host = false;   /* the word follows "@(" */

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
			names_add_word(to, word, len, host);
		host = len && word[len - 1] == '@' && c == '(';
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
/* (without setproctitle a regex that names no pool child is enough to
 * warn, and one that does cannot match the main process's argv) */
static const char *const celery_titles[] = {
	"[celeryd: \1@\2:MainProcess] -active- (-A \1 worker -l INFO -n \1@\2)", NULL,
};
static const char *const default_names[] = {
	"api", "app", "app:app", "proj", "celery", "worker1", NULL,
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

/* The candidates for W: the words of its regexes, then the defaults. */
static void candidates(const struct watch *w, struct candidates *c)
{
	size_t levels = 0;

	for (const struct match *m = &w->match; m && levels < MAX_LEVELS; m = m->parent, levels++)
		if (m->cmdline)
			names_from_regex(c, m->cmdline);
	for (const char *const *d = default_names; *d; d++)
		names_add(&c->any, c->reject, *d, strlen(*d));
	names_add(&c->hosts, c->reject, "localhost", 9);
}

/* Does the watch's cmdline regex match one of the titles (into title),
 * as far as *budget goes (each search costs its bound, the title's
 * length + 1 times the regex's bytes)? */
static bool matches_a_title(const struct watch *w, const char *const *titles, const char *worker,
			    uint64_t *budget, char *title)
{
	struct candidates c = { .reject = worker };
	struct regex_prog *rx = w->match.cmdline_rx;
	uint64_t bytes = regex_prog_bytes(rx);

	candidates(w, &c);
	for (const char *const *t = titles; *t; t++) {
		bool one = !strchr(*t, '\1'), two = strchr(*t, '\2') != NULL;

		for (size_t i = 0; i < (one ? 1 : c.any.n); i++) {
			for (size_t j = 0; j < (two ? c.hosts.n : 1); j++) {
				size_t len = expand(*t, c.any.s[i], c.hosts.s[j], title);
				uint64_t cost = (len + 1) * bytes;

				if (cost > *budget)
					return false;
				*budget -= cost;
				if (regex_search(rx, title, len))
					return true;
			}
		}
	}
	return false;
}

bool server_match_master(const struct watch *w, enum lint_server s, uint64_t *budget,
			 char *why, size_t len)
{
	static const char *const *const titles[] = {
		[LINT_GUNICORN] = gunicorn_titles, [LINT_UWSGI] = uwsgi_titles,
		[LINT_CELERY] = celery_titles,
	};
	const char *rx = w->match.cmdline, *worker = s == LINT_CELERY ? "poolworker" : "worker";
	char title[TITLE_LEN];

	/* the master's parent is the service manager: parent: leaves it out */
	if (s != LINT_UWSGI && w->match.parent)
		return false;
	if (!rx || !has(rx, worker)) {
		snprintf(why, len, s == LINT_UWSGI ?
			 "no cmdline regex of it names a worker, and unless uWSGI runs with "
			 "--auto-procname they share argv, comm (uwsgi) and exe (uwsgi-core)" :
			 s == LINT_CELERY ? "its cmdline names no pool child (ForkPoolWorker) "
			 "and it has no parent criterion" :
			 "its cmdline names no worker and it has no parent criterion");
		return true;
	}
	if (!matches_a_title(w, titles[s], worker, budget, title))
		return false;
	snprintf(why, len, "its cmdline regex also matches \"%.100s\"", title);
	return true;
}
