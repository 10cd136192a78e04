/* The schema's top level and the keys of a watch (see config_schema.h for
 * why it walks a tree, not YAML).  The metric rules are in
 * config_schema_metric.c, the match criteria in config_schema_match.c, the
 * typed readers in config_values.c.  A problem never stops the walk: every
 * key is checked, and the checks that span keys (a window against the
 * interval, duplicate names) run once all of them are read. */
#include "core/config_schema.h"
#include "core/cgroup_unit.h"
#include "core/config_schema_group.h"
#include "core/config_schema_match.h"
#include "core/config_schema_metric.h"
#include "core/config_values.h"
#include "core/units.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define MIN_INTERVAL_MS   100
#define WINDOW_SAMPLES    10

/* ---- watches ------------------------------------------------------------ */

enum {
	W_NAME, W_MATCH, W_WARMUP, W_WINDOW, W_RSS, W_FDS, W_THREADS, W_USS, W_PSS, W_ON_LEAK,
	W_ON_LIMIT, W_SIGNAL, W_KILL_AFTER, W_UNIT, W_EXEC, W_COOLDOWN,
	W_MAX_ACTIONS, W_CAPTURE, W_EXEC_TIMEOUT, W_INSPECT, W_INSPECT_SECONDS, W_GROUP, W_COUNT
};
static const char *const watch_keys[W_COUNT] = {
	[W_NAME] = "name", [W_MATCH] = "match", [W_WARMUP] = "warmup",
	[W_WINDOW] = "window", [W_RSS] = "rss", [W_FDS] = "fds",
	[W_THREADS] = "threads", [W_USS] = "uss", [W_PSS] = "pss", [W_ON_LEAK] = "on_leak", [W_ON_LIMIT] = "on_limit",
	[W_SIGNAL] = "signal", [W_KILL_AFTER] = "kill_after", [W_UNIT] = "unit",
	[W_EXEC] = "exec", [W_COOLDOWN] = "cooldown", [W_MAX_ACTIONS] = "max_actions",
	[W_CAPTURE] = "capture", [W_EXEC_TIMEOUT] = "exec_timeout",
	[W_INSPECT] = "inspect", [W_INSPECT_SECONDS] = "inspect_seconds", [W_GROUP] = "group",
};

/* What the checks across keys need to point at. */
struct watch_nodes {
	const struct cfg_node *map, *name, *window;
	bool window_bad;       /* already reported: no 10 x interval check */
};

/* The defaults (leakwatch.yaml(5)). */
static void watch_init(struct watch *w)
{
	memset(w, 0, sizeof(*w));
	config_match_init(&w->match);
	w->window_ms = 30 * 60 * 1000;
	for (int m = 0; m < METRIC_COUNT; m++)
		w->rule[m].for_samples = 1;
	w->on_leak = ACTION_ALERT;
	w->on_limit = ACTION_ALERT;
	w->signal = SIGTERM;
	w->kill_after_ms = 30 * 1000;
	w->cooldown_ms = 10 * 60 * 1000;
	w->max_actions = 3;
	w->max_actions_period_ms = 60 * 60 * 1000;
	w->exec_timeout_ms = 30 * 1000;
	w->inspect_seconds = 30;
}

static void parse_name(struct cfg_ctx *c, const struct cfg_node *v, struct watch *w)
{
	const char *s = cfg_scalar(c, v);

	if (!s || !watch_name_valid(s)) {
		cfg_err_value(c, v, "name", "1 to 64 letters, digits, '.', '_' or '-', "
			      "starting with a letter or digit");
		return;
	}
	w->name = cfg_strdup(c, s);
}

static bool parse_action(struct cfg_ctx *c, const char *key, const struct cfg_node *v,
			 enum action *a)
{
	const char *s = cfg_scalar(c, v);

	for (int i = ACTION_ALERT; s && i <= ACTION_EXEC; i++) {
		if (strcmp(s, action_name((enum action)i)) == 0) {
			*a = (enum action)i;
			return true;
		}
	}
	cfg_err_value(c, v, key, "one of alert, signal, restart-unit, exec");
	return false;
}

static void parse_exec(struct cfg_ctx *c, const struct cfg_node *v, struct watch *w)
{
	const char *what = "a non-empty list of strings like [\"/usr/local/bin/notify\", \"{pid}\"]";

	if (!v || v->kind != CFG_SEQUENCE || v->count == 0) {
		cfg_err_value(c, v, "exec", what);
		return;
	}
	w->exec = calloc((size_t)v->count + 1, sizeof(char *));
	if (!w->exec) {
		c->diag->oom = true;
		return;
	}
	for (size_t i = 0; i < v->count; i++) {
		const struct cfg_node *arg = cfg_tree_item(c->tree, v, i);
		const char *s = cfg_scalar(c, arg);

		if (!s)
			cfg_err_value(c, arg, "exec", "a list of strings");
		else if (i == 0 && !*s)
			cfg_err(c, arg, "the program in 'exec' must not be empty");
		else
			w->exec[w->exec_len++] = cfg_strdup(c, s);
	}
}

static void parse_max_actions(struct cfg_ctx *c, const struct cfg_node *v, struct watch *w)
{
	const char *s = cfg_scalar(c, v);
	int e = s ? parse_count_per(s, &w->max_actions, &w->max_actions_period_ms) : -EINVAL;

	if (e == -ERANGE)
		cfg_err_value(c, v, "max_actions", "1 to 1000000 actions per a period longer than 0");
	else if (e < 0)
		cfg_err_value(c, v, "max_actions", "a count per period like 3/h or 5/30m");
}

/* The processes of a user_unit: criterion are in a unit of a user's
 * manager, which the system manager, the one restart-unit asks, does not
 * know: it would restart a system unit of that name, or user@UID.service
 * and every service of that user with it. */
#define USER_UNIT_NO_RESTART "%s: restart-unit cannot restart a unit within a user's service manager " \
	"(match: user_unit); use signal or exec"

/* What a watch does about a leak: the keys from on_leak to exec_timeout. */
static void parse_actions(struct cfg_ctx *c, const struct cfg_node *const *key,
			  const struct cfg_node *const *val, struct watch *w)
{
	bool leak_ok = false, limit_ok = false;
	const char *s;

	w->on_leak_at = cfg_pos(val[W_ON_LEAK]);
	w->on_limit_at = cfg_pos(val[W_ON_LIMIT]);
	w->signal_at = cfg_pos(val[W_SIGNAL]);
	w->kill_after_at = cfg_pos(val[W_KILL_AFTER]);
	if (val[W_ON_LEAK])
		leak_ok = parse_action(c, "on_leak", val[W_ON_LEAK], &w->on_leak);
	if (val[W_ON_LIMIT])
		limit_ok = parse_action(c, "on_limit", val[W_ON_LIMIT], &w->on_limit);
	if (val[W_SIGNAL]) {
		s = cfg_scalar(c, val[W_SIGNAL]);
		if (!s || parse_signal(s, &w->signal) < 0)
			cfg_err_value(c, val[W_SIGNAL], "signal",
				      "a signal name like TERM or HUP, or a number");
	}
	if (val[W_KILL_AFTER])
		cfg_duration(c, "kill_after", val[W_KILL_AFTER], &w->kill_after_ms);
	if (val[W_UNIT]) {
		s = cfg_scalar(c, val[W_UNIT]);
		if (!s || (strcmp(s, "auto") != 0 && !cgroup_unit_name_valid(s)))
			cfg_err_value(c, val[W_UNIT], "unit", "auto or a unit name like api.service");
		else if (strcmp(s, "auto") != 0)
			w->unit = cfg_strdup(c, s);
	}
	if (val[W_EXEC])
		parse_exec(c, val[W_EXEC], w);
	if (leak_ok && w->on_leak == ACTION_EXEC && !key[W_EXEC])
		cfg_err(c, val[W_ON_LEAK], "on_leak: exec needs an 'exec' command");
	if (limit_ok && w->on_limit == ACTION_EXEC && !key[W_EXEC])
		cfg_err(c, val[W_ON_LIMIT], "on_limit: exec needs an 'exec' command");
	if (leak_ok && w->on_leak == ACTION_RESTART_UNIT && w->match.user_unit)
		cfg_err(c, val[W_ON_LEAK], USER_UNIT_NO_RESTART, "on_leak");
	if (limit_ok && w->on_limit == ACTION_RESTART_UNIT && w->match.user_unit)
		cfg_err(c, val[W_ON_LIMIT], USER_UNIT_NO_RESTART, "on_limit");
	if (val[W_COOLDOWN])
		cfg_duration(c, "cooldown", val[W_COOLDOWN], &w->cooldown_ms);
	if (val[W_MAX_ACTIONS])
		parse_max_actions(c, val[W_MAX_ACTIONS], w);
	if (val[W_CAPTURE])
		cfg_bool(c, "capture", val[W_CAPTURE], &w->capture);
	if (val[W_EXEC_TIMEOUT] &&
	    cfg_duration(c, "exec_timeout", val[W_EXEC_TIMEOUT], &w->exec_timeout_ms) &&
	    w->exec_timeout_ms == 0)
		cfg_err_value(c, val[W_EXEC_TIMEOUT], "exec_timeout", "a duration longer than 0");
	if (val[W_INSPECT]) {
		s = cfg_scalar(c, val[W_INSPECT]);
		if (s && strcmp(s, "python") == 0)
			w->inspect = INSPECT_PYTHON;
		else if (!s || strcmp(s, "none") != 0)
			cfg_err_value(c, val[W_INSPECT], "inspect", "python or none");
	}
	if (val[W_INSPECT_SECONDS]) {
		uint64_t ms = 0;

		if (cfg_duration(c, "inspect_seconds", val[W_INSPECT_SECONDS], &ms)) {
			if (ms < 1000 || ms > INSPECT_SECONDS_MAX * 1000ull)
				cfg_err_value(c, val[W_INSPECT_SECONDS], "inspect_seconds",
					      "a duration from 1s to 10min");
			else
				w->inspect_seconds = (unsigned)(ms / 1000);
		}
	}
}

static void parse_watch(struct cfg_ctx *c, const struct cfg_node *map, struct watch *w,
			struct watch_nodes *wn)
{
	const struct cfg_node *key[W_COUNT], *val[W_COUNT];

	wn->map = map;
	w->at = cfg_pos(map);
	if (!map || map->kind != CFG_MAPPING) {
		char d[CFG_DESC_LEN];

		cfg_describe(c->tree, map, d, sizeof(d));
		cfg_err(c, map, "each watch must be a mapping of keys like name and match, not %s", d);
		return;
	}
	cfg_keys(c, map, watch_keys, W_COUNT, key, val);
	wn->name = val[W_NAME];
	wn->window = val[W_WINDOW];
	if (!val[W_NAME])
		cfg_err(c, map, "watch needs a 'name'");
	else
		parse_name(c, val[W_NAME], w);
	if (!val[W_MATCH])
		cfg_err(c, map, "watch needs a 'match'");
	else
		cfg_parse_match(c, "match", val[W_MATCH], &w->match, 0);
	if (val[W_WARMUP])
		cfg_duration(c, "warmup", val[W_WARMUP], &w->warmup_ms);
	if (val[W_WINDOW]) {
		wn->window_bad = !cfg_duration(c, "window", val[W_WINDOW], &w->window_ms);
		if (!wn->window_bad && w->window_ms == 0) {
			cfg_err_value(c, val[W_WINDOW], "window", "more than 0");
			wn->window_bad = true;
		}
	}
	for (int m = 0; m < METRIC_COUNT; m++)
		if (val[W_RSS + m])
			cfg_parse_metric(c, (enum metric)m, val[W_RSS + m], &w->rule[m]);
	parse_actions(c, key, val, w);
	if (key[W_GROUP])
		cfg_parse_group(c, val[W_GROUP], w);
}

static void parse_watches(struct cfg_ctx *c, const struct cfg_node *v, struct config *cfg,
			  struct watch_nodes **nodes)
{
	size_t n;

	if (v->kind == CFG_SCALAR && v->count == 0) {
		cfg_err(c, v, "no watches defined");
		return;
	}
	if (v->kind != CFG_SEQUENCE) {
		cfg_err(c, v, "'watches' must be a list of watches");
		return;
	}
	n = v->count;
	if (n == 0) {
		cfg_err(c, v, "no watches defined");
		return;
	}
	if (n > CONFIG_MAX_WATCHES) {
		cfg_err(c, v, "%zu watches; at most %d are allowed (one watch matches any "
			"number of processes)", n, CONFIG_MAX_WATCHES);
		return;
	}
	cfg->watches = calloc(n, sizeof(*cfg->watches));
	*nodes = calloc(n, sizeof(**nodes));
	if (!cfg->watches || !*nodes) {
		c->diag->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct watch *w = &cfg->watches[cfg->n_watches];
		struct watch_nodes *wn = &(*nodes)[cfg->n_watches++];

		watch_init(w);
		parse_watch(c, cfg_tree_item(c->tree, v, i), w, wn);
		if (!w->name)
			continue;
		for (struct watch *o = cfg->watches; o < w; o++) {
			if (o->name && strcmp(o->name, w->name) == 0) {
				cfg_err(c, wn->name, "duplicate watch name '%s' (first defined at line %zu)",
					w->name, (size_t)(*nodes)[o - cfg->watches].name->line + 1);
				break;
			}
		}
	}
}

/* ---- top level ---------------------------------------------------------- */

enum { T_INTERVAL, T_DRY_RUN, T_STATE_DIR, T_METRICS, T_WATCHES, T_COUNT };
static const char *const top_keys[T_COUNT] = {
	[T_INTERVAL] = "interval", [T_DRY_RUN] = "dry_run", [T_STATE_DIR] = "state_dir",
	[T_METRICS] = "metrics", [T_WATCHES] = "watches",
};

enum { X_TEXTFILE, X_LISTEN, X_COUNT };
static const char *const metrics_keys[X_COUNT] = {
	[X_TEXTFILE] = "textfile", [X_LISTEN] = "listen",
};

/* "HOST:PORT" or "[V6]:PORT", port 1..65535. */
static bool valid_listen(const char *s)
{
	const char *colon = strrchr(s, ':');
	double port;

	if (!colon || colon == s || parse_count(colon + 1, &port) < 0 ||
	    port < 1 || port > 65535)
		return false;
	if (*s == '[')
		return colon - s >= 3 && colon[-1] == ']';
	return memchr(s, ':', (size_t)(colon - s)) == NULL;
}

static void parse_metrics(struct cfg_ctx *c, const struct cfg_node *v, struct config *cfg)
{
	const struct cfg_node *key[X_COUNT], *val[X_COUNT];
	const char *s;

	if (v->kind != CFG_MAPPING) {
		cfg_err_value(c, v, "metrics", "a mapping with 'textfile' and/or 'listen'");
		return;
	}
	cfg_keys(c, v, metrics_keys, X_COUNT, key, val);
	if (val[X_TEXTFILE])
		cfg->metrics_textfile = cfg_abs_path(c, "textfile", val[X_TEXTFILE]);
	if (val[X_LISTEN]) {
		s = cfg_scalar(c, val[X_LISTEN]);
		if (!s || !valid_listen(s))
			cfg_err_value(c, val[X_LISTEN], "listen",
				      "HOST:PORT with a port from 1 to 65535, like 127.0.0.1:9567");
		else
			cfg->metrics_listen = cfg_strdup(c, s);
	}
}

static void check_windows(struct cfg_ctx *c, const struct config *cfg,
			  const struct watch_nodes *nodes)
{
	char win[32], ivl[32];

	for (size_t i = 0; i < cfg->n_watches; i++) {
		const struct watch *w = &cfg->watches[i];

		if (!nodes[i].map || nodes[i].map->kind != CFG_MAPPING ||
		    nodes[i].window_bad || w->window_ms / WINDOW_SAMPLES >= cfg->interval_ms)
			continue;
		format_duration(win, sizeof(win), (double)w->window_ms / 1000);
		format_duration(ivl, sizeof(ivl), (double)cfg->interval_ms / 1000);
		cfg_err(c, nodes[i].window ? nodes[i].window : nodes[i].map,
			"'window' (%s%s) must be at least %d times 'interval' (%s): "
			"a trend needs at least %d samples", win,
			nodes[i].window ? "" : ", the default", WINDOW_SAMPLES, ivl, WINDOW_SAMPLES);
	}
}

static void parse_root(struct cfg_ctx *c, const struct cfg_node *root, struct config *cfg)
{
	const struct cfg_node *key[T_COUNT], *val[T_COUNT];
	struct watch_nodes *nodes = NULL;
	bool interval_ok = true;

	if (root->kind != CFG_MAPPING) {
		char d[CFG_DESC_LEN];

		cfg_describe(c->tree, root, d, sizeof(d));
		cfg_err(c, root, "the configuration must be a mapping of keys like interval "
			"and watches, not %s", d);
		return;
	}
	cfg_keys(c, root, top_keys, T_COUNT, key, val);
	if (val[T_INTERVAL]) {
		interval_ok = cfg_duration(c, "interval", val[T_INTERVAL], &cfg->interval_ms);
		if (interval_ok && cfg->interval_ms < MIN_INTERVAL_MS) {
			cfg_err_value(c, val[T_INTERVAL], "interval", "at least 100ms");
			interval_ok = false;
		}
	}
	if (val[T_DRY_RUN])
		cfg_bool(c, "dry_run", val[T_DRY_RUN], &cfg->dry_run);
	if (val[T_STATE_DIR])
		cfg->state_dir = cfg_abs_path(c, "state_dir", val[T_STATE_DIR]);
	if (val[T_METRICS])
		parse_metrics(c, val[T_METRICS], cfg);
	if (!key[T_WATCHES])
		cfg_err(c, root, "no watches defined");
	else if (val[T_WATCHES])
		parse_watches(c, val[T_WATCHES], cfg, &nodes);
	if (interval_ok && nodes)
		check_windows(c, cfg, nodes);
	free(nodes);
}

void config_schema(const struct cfg_tree *tree, const struct config_env *env,
		   struct cfg_diag *diag, struct config *cfg)
{
	struct cfg_ctx c = { .tree = tree, .diag = diag };
	const struct cfg_node *root = cfg_tree_root(tree);

	if (env) {
		c.mem_total = env->mem_total;
		c.lookup_user = env->lookup_user;
	}
	cfg->interval_ms = 5000;
	if (!root)
		cfg_err(&c, NULL, "no watches defined");
	else
		parse_root(&c, root, cfg);
}
