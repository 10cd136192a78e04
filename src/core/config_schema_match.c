/* The `match:` mapping of a watch and its nested `parent:` matches (see
 * config_schema_match.h).  The user name is resolved through the caller's
 * lookup (config_env), so this stays pure.  A cmdline regex is compiled for
 * leakwatch's own matcher (regex_compile.h, which reads the syntax exactly
 * as glibc's regcomp does) once regex_cost.h has refused back-references
 * and sizes past its bounds; a pattern the compiler refuses gets glibc's
 * message.  All of a file's regexes share one memory budget. */
#include "core/config_schema_match.h"
#include "core/cgroup_unit.h"
#include "core/regex_compile.h"
#include "core/regex_cost.h"

#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARENT_DEPTH 8
#define MAX_UID          4294967294ULL   /* (uid_t)-1 is "no uid" */

enum {
	M_COMM, M_EXE, M_CMDLINE, M_PYTHON, M_USER, M_UNIT, M_USER_UNIT, M_PIDFILE, M_PARENT,
	M_COUNT
};
static const char *const match_keys[M_COUNT] = {
	[M_COMM] = "comm", [M_EXE] = "exe", [M_CMDLINE] = "cmdline", [M_PYTHON] = "python",
	[M_USER] = "user", [M_UNIT] = "unit", [M_USER_UNIT] = "user_unit", [M_PIDFILE] = "pidfile",
	[M_PARENT] = "parent",
};

static void parse_user(struct cfg_ctx *c, const struct cfg_node *v, struct match *m)
{
	const char *s = cfg_string(c, "user", v, "a user name or uid");
	char d[CFG_DESC_LEN];
	unsigned long long n;
	uid_t uid;
	int r;

	if (!s)
		return;
	cfg_describe(c->tree, v, d, sizeof(d));
	if (strspn(s, "0123456789") == strlen(s)) {
		errno = 0;
		n = strtoull(s, NULL, 10);
		if (errno || n > MAX_UID) {
			cfg_err(c, v, "'user' value %s is too large", d);
			return;
		}
		uid = (uid_t)n;
	} else {
		r = c->lookup_user ? c->lookup_user(s, &uid) : -ENOENT;
		if (r == -ENOMEM) {
			c->diag->oom = true;
			return;
		}
		if (r == -ENOENT) {
			cfg_err(c, v, "unknown user %s", d);
			return;
		}
		if (r < 0) {
			cfg_err(c, v, "cannot look up user %s: %s", d, strerror(-r));
			return;
		}
	}
	m->has_uid = true;
	m->uid = uid;
	m->user = cfg_strdup(c, s);
}

/* All the cmdline regexes of a configuration together may take this much
 * memory: regex_cost.h's estimate of what glibc's regcomp would take for
 * each (a bound kept from when glibc compiled them), and leakwatch's own
 * compiled programs, which are smaller. */
#define REGEX_TOTAL_BYTES (32u << 20)   /* a?{2000}, the worst one, fits */

/* BYTES more of the budget: false (said once) when that spends it. */
static bool regex_budget(struct cfg_ctx *c, const struct cfg_node *v, uint64_t bytes)
{
	c->regex_bytes += bytes;
	if (c->regex_bytes <= REGEX_TOTAL_BYTES)
		return true;
	if (!c->regex_budget_spent)
		cfg_err(c, v, "the 'cmdline' regexes up to here would take over %u MiB "
			"to compile; simplify them or use fewer", REGEX_TOTAL_BYTES >> 20);
	c->regex_budget_spent = true;
	return false;
}

/* Refuse back-references and what expands past regex_cost.h's bounds;
 * true when S may be compiled. */
static bool regex_acceptable(struct cfg_ctx *c, const struct cfg_node *v, const char *s)
{
	struct regex_cost cost;

	switch (regex_cost(s, &cost)) {
	case REGEX_BACKREF:
		cfg_err(c, v, "back-references like \\1 are not supported in 'cmdline': "
			"matching them can take exponential time");
		return false;
	case REGEX_TOO_DEEP:
		cfg_err(c, v, "'cmdline' regex nests parentheses more than %d deep",
			REGEX_MAX_DEPTH);
		return false;
	case REGEX_TOO_BIG:
		cfg_err(c, v, "'cmdline' regex is too complex: more than %d elements once its "
			"repetitions are expanded", REGEX_MAX_ELEMENTS);
		return false;
	case REGEX_OK:
		break;
	}
	return regex_budget(c, v, cost.bytes);
}

/* S, which the compiler refused (WHY, at byte AT), in glibc's words:
 * regcomp's message, the one users know.  regcomp is asked only here: on
 * a pattern it takes, it can spend exponential time before it answers
 * ("(\b|)++++" takes glibc 2.36 over 20 s, "((\b|)(^|)){0,5}{0,5}{0,5}"
 * 9 s), but it refuses a bad one as it reads it. */
static void regex_refused(struct cfg_ctx *c, const struct cfg_node *v, const char *s,
			  const char *why, size_t at)
{
	regex_t re;
	char err[256];
	int r = regcomp(&re, s, REG_EXTENDED | REG_NOSUB);

	if (r == REG_ESPACE) {
		c->diag->oom = true;
	} else if (r != 0) {
		regerror(r, &re, err, sizeof(err));
		cfg_err(c, v, "bad regex in 'cmdline': %s", err);
	} else {
		regfree(&re);
		cfg_err(c, v, "bad regex in 'cmdline': %s at byte %zu", why, at + 1);
	}
}

static void parse_cmdline(struct cfg_ctx *c, const struct cfg_node *v, struct match *m)
{
	const char *s = cfg_string(c, "cmdline", v, "a regular expression"), *why = NULL;
	struct regex_prog *rx;
	size_t at = 0;
	int r;

	if (!s || !regex_acceptable(c, v, s))
		return;
	r = regex_compile(s, &rx, &why, &at);
	if (r == -ENOMEM) {
		c->diag->oom = true;
	} else if (r == -ENOTSUP) {
		cfg_err(c, v, "bad regex in 'cmdline': %s; write the character itself", why);
	} else if (r == -E2BIG) {
		cfg_err(c, v, "'cmdline' regex is too complex: %s", why);
	} else if (r < 0) {
		regex_refused(c, v, s, why, at);
	} else if (regex_budget(c, v, regex_prog_bytes(rx))) {
		m->cmdline = cfg_strdup(c, s);
		if (m->cmdline) {
			m->cmdline_rx = rx;
			return;
		}
	}
	regex_free(rx);
}

/* A unit a process can be in (core/cgroup_unit.h): the copy, or NULL. */
static char *parse_unit_name(struct cfg_ctx *c, const char *key, const struct cfg_node *v)
{
	const char *s = cfg_scalar(c, v);

	if (!s || !cgroup_unit_name_valid(s)) {
		cfg_err_value(c, v, key, "a unit name like api.service");
		return NULL;
	}
	return cfg_strdup(c, s);
}

static void parse_parent(struct cfg_ctx *c, const struct cfg_node *v, struct match *m,
			 unsigned depth)
{
	if (depth >= MAX_PARENT_DEPTH) {
		cfg_err(c, v, "'parent' is nested more than %d deep", MAX_PARENT_DEPTH);
		return;
	}
	m->parent = malloc(sizeof(*m->parent));
	if (!m->parent) {
		c->diag->oom = true;
		return;
	}
	config_match_init(m->parent);
	cfg_parse_match(c, "parent", v, m->parent, depth + 1);
}

void cfg_parse_match(struct cfg_ctx *c, const char *key, const struct cfg_node *v,
		     struct match *m, unsigned depth)
{
	const struct cfg_node *k[M_COUNT], *val[M_COUNT];
	const char *s;
	bool any = false;

	if (!v || v->kind != CFG_MAPPING) {
		cfg_err_value(c, v, key, "a mapping of criteria like comm or cmdline");
		return;
	}
	cfg_keys(c, v, match_keys, M_COUNT, k, val);
	m->at = cfg_pos(v);
	m->cmdline_at = cfg_pos(val[M_CMDLINE]);
	m->python_at = cfg_pos(val[M_PYTHON]);
	for (int i = 0; i < M_COUNT; i++)
		any |= k[i] != NULL;
	if (!any)
		cfg_err(c, v, depth ? "parent match needs at least one criterion"
				    : "match needs at least one criterion");
	if (val[M_COMM] && (s = cfg_string(c, "comm", val[M_COMM], "a glob like python3*")))
		m->comm = cfg_strdup(c, s);
	if (val[M_EXE] && (s = cfg_string(c, "exe", val[M_EXE], "a glob like */python3*")))
		m->exe = cfg_strdup(c, s);
	if (val[M_CMDLINE])
		parse_cmdline(c, val[M_CMDLINE], m);
	if (val[M_PYTHON]) {
		bool b;

		if (cfg_bool(c, "python", val[M_PYTHON], &b))
			m->python = b;
	}
	if (val[M_USER])
		parse_user(c, val[M_USER], m);
	if (val[M_UNIT])
		m->unit = parse_unit_name(c, "unit", val[M_UNIT]);
	if (val[M_USER_UNIT])
		m->user_unit = parse_unit_name(c, "user_unit", val[M_USER_UNIT]);
	if (val[M_PIDFILE])
		m->pidfile = cfg_abs_path(c, "pidfile", val[M_PIDFILE]);
	if (val[M_PARENT])
		parse_parent(c, val[M_PARENT], m, depth);
}
