/* The `group:` rules of a watch (see config_schema_group.h).
 *
 * The problem: a leak spread over short-lived workers (gunicorn's
 * max_requests, celery's max-tasks-per-child) is never seen by a rule on
 * one process, which does not live a window; the sum over them does.  The
 * group's metric rules are a watch's own (config_schema_metric.c parses
 * them, so a group's `growth: 500M/h` means what a watch's does), with two
 * restrictions checked here, after that parse: a `max` must be an amount,
 * as a sum has no limit of its own to be a percentage of; and the actions
 * are alert or restart-unit only, as there is no single process to signal
 * or to run a command for.  The alternative, a second metric parser for
 * groups, would word the same mistakes twice and drift. */
#include "core/config_schema_group.h"
#include "core/config_schema_metric.h"

#include <stdlib.h>
#include <string.h>

/* uss: and pss: are known keys only to say why a group has none: each
 * process's are read at times of its own (the smaps budget), so their sum
 * at a tick would add old values to new ones. */
enum { G_RSS, G_FDS, G_THREADS, G_ON_LEAK, G_ON_LIMIT, G_USS, G_PSS, G_COUNT };
static const char *const group_keys[G_COUNT] = {
	[G_RSS] = "rss", [G_FDS] = "fds", [G_THREADS] = "threads",
	[G_ON_LEAK] = "on_leak", [G_ON_LIMIT] = "on_limit", [G_USS] = "uss", [G_PSS] = "pss",
};

/* The value of KEY in the mapping map, or NULL. */
static const struct cfg_node *value_of(const struct cfg_ctx *c, const struct cfg_node *map, const char *key)
{
	for (size_t i = 0; map && map->kind == CFG_MAPPING && i < map->count; i++) {
		const char *k = cfg_scalar(c, cfg_tree_key(c->tree, map, i));

		if (k && strcmp(k, key) == 0)
			return cfg_tree_value(c->tree, map, i);
	}
	return NULL;
}

/* A group's on_leak or on_limit: alert or restart-unit. */
static void parse_group_action(struct cfg_ctx *c, const char *key, const struct cfg_node *v,
			       const struct watch *w, enum action *a)
{
	const char *s = cfg_scalar(c, v);

	if (s && strcmp(s, "alert") == 0) {
		*a = ACTION_ALERT;
	} else if (s && strcmp(s, "restart-unit") == 0) {
		*a = ACTION_RESTART_UNIT;
		if (w->match.user_unit)
			cfg_err(c, v, "group %s: restart-unit cannot restart a unit within a user's service "
				"manager (match: user_unit); use alert", key);
	} else if (s && (strcmp(s, "signal") == 0 || strcmp(s, "exec") == 0)) {
		cfg_err(c, v, "group %s must be restart-unit or alert, not %s: a group's verdict is about the "
			"sum over its processes, there is no single process to %s", key, s,
			strcmp(s, "signal") == 0 ? "signal" : "run the command for");
	} else {
		cfg_err_value(c, v, key, "restart-unit or alert (in a group)");
	}
}

void cfg_parse_group(struct cfg_ctx *c, const struct cfg_node *v, struct watch *w)
{
	const struct cfg_node *key[G_COUNT], *val[G_COUNT];
	struct group_rule *g;

	if (!v || v->kind != CFG_MAPPING) {
		cfg_err_value(c, v, "group", "a mapping like { rss: { growth: 500M/h }, on_leak: restart-unit }");
		return;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		c->diag->oom = true;
		return;
	}
	w->group = g;
	g->on_leak = g->on_limit = ACTION_ALERT;
	for (int m = 0; m < GROUP_METRICS; m++)
		g->rule[m].for_samples = 1;
	cfg_keys(c, v, group_keys, G_COUNT, key, val);
	if (!key[G_RSS] && !key[G_FDS] && !key[G_THREADS])
		cfg_err(c, v, "'group' needs at least one of 'rss', 'fds' or 'threads'");
	for (int m = 0; m < GROUP_METRICS; m++) {
		if (!key[G_RSS + m])
			continue;
		cfg_parse_metric(c, (enum metric)m, val[G_RSS + m], &g->rule[m]);
		g->metrics |= 1u << m;
		if (g->rule[m].max_percent > 0) {
			cfg_err(c, value_of(c, val[G_RSS + m], "max"), "a group's 'max' must be an amount, not a "
				"percentage: a sum over processes has no limit of its own to be a percentage of");
			g->rule[m].has_max = false;
		}
	}
	for (int k = G_USS; k <= G_PSS; k++)
		if (key[k])
			cfg_err(c, key[k], "a group sums 'rss', 'fds' and 'threads' only: each process's '%s' is "
				"read at times of its own, so a sum of them at one moment would mix old and new values",
				group_keys[k]);
	if (val[G_ON_LEAK])
		parse_group_action(c, "on_leak", val[G_ON_LEAK], w, &g->on_leak);
	if (val[G_ON_LIMIT])
		parse_group_action(c, "on_limit", val[G_ON_LIMIT], w, &g->on_limit);
}
