/* The configuration: reads one YAML file with libyaml's document loader and
 * turns it into struct config, checking every key, type, unit and range.
 * Problems are collected (see config_parse.h) and reported all at once,
 * sorted by their place in the file. */
#include "core/config.h"
#include "core/config_values.h"
#include "core/units.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE_SIZE     (4u << 20)
#define MAX_YAML_DEPTH    64       /* libyaml slows quadratically with depth */
#define MAX_YAML_NODES    100000   /* about 200 bytes each once loaded */
#define MAX_WATCHES       1000
#define MIN_INTERVAL_MS   100
#define WINDOW_SAMPLES    10
#define MAX_NAME_LEN      64
#define MAX_FOR           1000000

const char *metric_name(enum metric m)
{
	switch (m) {
	case METRIC_RSS:     return "rss";
	case METRIC_FDS:     return "fds";
	case METRIC_THREADS: return "threads";
	default:             return "?";
	}
}

const char *action_name(enum action a)
{
	switch (a) {
	case ACTION_ALERT:        return "alert";
	case ACTION_SIGNAL:       return "signal";
	case ACTION_RESTART_UNIT: return "restart-unit";
	case ACTION_EXEC:         return "exec";
	default:                  return "?";
	}
}

/* ---- metrics: rss, fds, threads ---------------------------------------- */

enum { MK_MAX, MK_FOR, MK_GROWTH, MK_PREDICT, MK_COUNT };
static const char *const metric_keys[MK_COUNT] = {
	[MK_MAX] = "max", [MK_FOR] = "for", [MK_GROWTH] = "growth", [MK_PREDICT] = "predict",
};

static void parse_max(struct cfg_ctx *c, enum metric m, yaml_node_t *v, struct metric_rule *r)
{
	const char *s = cfg_scalar(v);
	char d[CFG_DESC_LEN];
	double x, pct;
	int e;

	cfg_describe(v, d, sizeof(d));
	if (m != METRIC_RSS) {
		e = s ? parse_count(s, &x) : -EINVAL;
		if (e == -EINVAL && s && parse_size(s, &x) == 0)
			cfg_err(c, v, "%s max must be a count, not a size (%s)", metric_name(m), d);
		else if (e == -ERANGE)
			cfg_err(c, v, "'max' value %s is too large", d);
		else if (e < 0)
			cfg_err(c, v, "%s max must be a count like %s, not %s", metric_name(m),
				m == METRIC_FDS ? "4096" : "256", d);
		else if (x == 0)
			cfg_err(c, v, "'max' must be more than 0, not %s", d);
		else
			goto ok;
		return;
	}
	if (s && *s && s[strlen(s) - 1] == '%') {
		e = parse_percent(s, &pct);
		if (e == -ERANGE) {
			cfg_err(c, v, "'max' as a percentage must be more than 0%% and at most 100%%, not %s", d);
		} else if (e < 0) {
			cfg_err(c, v, "'max' must be a size like 1G or 512MiB, or a percentage of MemTotal like 80%%, not %s", d);
		} else if (c->mem_total == 0) {
			cfg_err(c, v, "'max' as a percentage needs MemTotal, which is unknown");
		} else {
			r->has_max = true;
			r->max_percent = pct;
			r->max = (double)c->mem_total * pct / 100;
		}
		return;
	}
	e = s ? parse_size(s, &x) : -EINVAL;
	if (e == -ERANGE)
		cfg_err(c, v, "'max' value %s is too large", d);
	else if (e < 0)
		cfg_err(c, v, "'max' must be a size like 1G or 512MiB, or a percentage of MemTotal like 80%%, not %s", d);
	else if (x < 1)
		cfg_err(c, v, "'max' must be more than 0, not %s", d);
	else
		goto ok;
	return;
ok:
	r->has_max = true;
	r->max = x;
}

static void parse_growth(struct cfg_ctx *c, enum metric m, yaml_node_t *v, struct metric_rule *r)
{
	const char *s = cfg_scalar(v);
	char d[CFG_DESC_LEN];
	double x;
	int e;

	cfg_describe(v, d, sizeof(d));
	e = s ? parse_rate(s, m == METRIC_RSS, &x) : -EINVAL;
	if (e == -ENOMEM)
		c->oom = true;
	else if (e == -EINVAL && m != METRIC_RSS && parse_rate(s, 1, &x) == 0)
		cfg_err(c, v, "%s growth must be a count per time like 500/h, not a size (%s)",
			metric_name(m), d);
	else if (e == -ERANGE)
		cfg_err(c, v, "'growth' value %s is too large", d);
	else if (e < 0)
		cfg_err(c, v, "'growth' must be a rate like %s (per s, min, h or d), not %s",
			m == METRIC_RSS ? "200M/h" : "500/h", d);
	else if (x <= 0)
		cfg_err(c, v, "'growth' must be more than 0, not %s", d);
	else
		r->growth = x;
}

static void parse_metric(struct cfg_ctx *c, enum metric m, yaml_node_t *v, struct metric_rule *r)
{
	static const char *const examples[METRIC_COUNT] = {
		"a mapping like { max: 1G, growth: 200M/h }", "a mapping like { max: 4096, growth: 500/h }",
		"a mapping like { max: 256, growth: 60/h }",
	};
	yaml_node_t *key[MK_COUNT], *val[MK_COUNT];
	double n;
	uint64_t ms;

	if (!v || v->type != YAML_MAPPING_NODE) {
		cfg_err_value(c, v, metric_name(m), examples[m]);
		return;
	}
	cfg_keys(c, v, metric_keys, MK_COUNT, key, val);
	if (!key[MK_MAX] && !key[MK_GROWTH] && !key[MK_PREDICT])
		cfg_err(c, v, "'%s' needs at least one of 'max', 'growth' or 'predict'", metric_name(m));
	if (key[MK_PREDICT] && !key[MK_MAX])
		cfg_err(c, v, "'predict' needs 'max'");
	if (key[MK_FOR] && !key[MK_MAX])
		cfg_err(c, v, "'for' needs 'max'");
	if (val[MK_MAX])
		parse_max(c, m, val[MK_MAX], r);
	if (val[MK_FOR]) {
		const char *s = cfg_scalar(val[MK_FOR]);

		if (!s || parse_count(s, &n) < 0 || n < 1 || n > MAX_FOR)
			cfg_err_value(c, val[MK_FOR], "for",
				      "a whole number of samples from 1 to 1000000");
		else
			r->for_samples = (unsigned)n;
	}
	if (val[MK_GROWTH])
		parse_growth(c, m, val[MK_GROWTH], r);
	if (val[MK_PREDICT] && cfg_duration(c, "predict", val[MK_PREDICT], &ms)) {
		if (ms == 0)
			cfg_err_value(c, val[MK_PREDICT], "predict", "more than 0");
		else
			r->predict = (double)ms / 1000;
	}
}

/* ---- watches ------------------------------------------------------------ */

enum {
	W_NAME, W_MATCH, W_WARMUP, W_WINDOW, W_RSS, W_FDS, W_THREADS, W_ON_LEAK,
	W_ON_LIMIT, W_SIGNAL, W_KILL_AFTER, W_UNIT, W_EXEC, W_COOLDOWN,
	W_MAX_ACTIONS, W_CAPTURE, W_EXEC_TIMEOUT, W_COUNT
};
static const char *const watch_keys[W_COUNT] = {
	[W_NAME] = "name", [W_MATCH] = "match", [W_WARMUP] = "warmup",
	[W_WINDOW] = "window", [W_RSS] = "rss", [W_FDS] = "fds",
	[W_THREADS] = "threads", [W_ON_LEAK] = "on_leak", [W_ON_LIMIT] = "on_limit",
	[W_SIGNAL] = "signal", [W_KILL_AFTER] = "kill_after", [W_UNIT] = "unit",
	[W_EXEC] = "exec", [W_COOLDOWN] = "cooldown", [W_MAX_ACTIONS] = "max_actions",
	[W_CAPTURE] = "capture", [W_EXEC_TIMEOUT] = "exec_timeout",
};

/* What the checks across keys need to point at. */
struct watch_nodes {
	yaml_node_t *map, *name, *window;
	bool window_bad;       /* already reported: no 10 x interval check */
};

static void watch_init(struct watch *w)
{
	memset(w, 0, sizeof(*w));
	cfg_match_init(&w->match);
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
}

static void watch_free(struct watch *w)
{
	free(w->name);
	cfg_match_free(&w->match);
	free(w->unit);
	for (size_t i = 0; i < w->exec_len; i++)
		free(w->exec[i]);
	free(w->exec);
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_NAME_LEN || !strchr(CFG_ALNUM, *s))
		return false;
	return strspn(s, CFG_ALNUM "._-") == n;
}

static void parse_name(struct cfg_ctx *c, yaml_node_t *v, struct watch *w)
{
	const char *s = cfg_scalar(v);

	if (!s || !valid_name(s)) {
		cfg_err_value(c, v, "name", "1 to 64 letters, digits, '.', '_' or '-', "
			      "starting with a letter or digit");
		return;
	}
	w->name = cfg_strdup(c, s);
}

static bool parse_action(struct cfg_ctx *c, const char *key, yaml_node_t *v, enum action *a)
{
	const char *s = cfg_scalar(v);

	for (int i = ACTION_ALERT; s && i <= ACTION_EXEC; i++) {
		if (strcmp(s, action_name((enum action)i)) == 0) {
			*a = (enum action)i;
			return true;
		}
	}
	cfg_err_value(c, v, key, "one of alert, signal, restart-unit, exec");
	return false;
}

static void parse_exec(struct cfg_ctx *c, yaml_node_t *v, struct watch *w)
{
	const char *what = "a non-empty list of strings like [\"/usr/local/bin/notify\", \"{pid}\"]";
	yaml_node_item_t *it;
	size_t n, i = 0;

	if (!v || v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.top ==
	    v->data.sequence.items.start) {
		cfg_err_value(c, v, "exec", what);
		return;
	}
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	w->exec = calloc(n + 1, sizeof(char *));
	if (!w->exec) {
		c->oom = true;
		return;
	}
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++, i++) {
		yaml_node_t *arg = yaml_document_get_node(c->doc, *it);
		const char *s = cfg_scalar(arg);

		if (!s)
			cfg_err_value(c, arg, "exec", "a list of strings");
		else if (i == 0 && !*s)
			cfg_err(c, arg, "the program in 'exec' must not be empty");
		else
			w->exec[w->exec_len++] = cfg_strdup(c, s);
	}
}

static void parse_watch(struct cfg_ctx *c, yaml_node_t *map, struct watch *w,
			struct watch_nodes *wn)
{
	yaml_node_t *key[W_COUNT], *val[W_COUNT];
	const char *s;
	bool leak_ok = false, limit_ok = false;

	wn->map = map;
	if (!map || map->type != YAML_MAPPING_NODE) {
		char d[CFG_DESC_LEN];

		cfg_describe(map, d, sizeof(d));
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
			parse_metric(c, (enum metric)m, val[W_RSS + m], &w->rule[m]);
	if (val[W_ON_LEAK])
		leak_ok = parse_action(c, "on_leak", val[W_ON_LEAK], &w->on_leak);
	if (val[W_ON_LIMIT])
		limit_ok = parse_action(c, "on_limit", val[W_ON_LIMIT], &w->on_limit);
	if (val[W_SIGNAL]) {
		s = cfg_scalar(val[W_SIGNAL]);
		if (!s || parse_signal(s, &w->signal) < 0)
			cfg_err_value(c, val[W_SIGNAL], "signal",
				      "a signal name like TERM or HUP, or a number");
	}
	if (val[W_KILL_AFTER])
		cfg_duration(c, "kill_after", val[W_KILL_AFTER], &w->kill_after_ms);
	if (val[W_UNIT]) {
		s = cfg_scalar(val[W_UNIT]);
		if (!s || !*s || (strcmp(s, "auto") != 0 && !strchr(s + 1, '.')))
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
	if (val[W_COOLDOWN])
		cfg_duration(c, "cooldown", val[W_COOLDOWN], &w->cooldown_ms);
	if (val[W_MAX_ACTIONS]) {
		int e;

		s = cfg_scalar(val[W_MAX_ACTIONS]);
		e = s ? parse_count_per(s, &w->max_actions, &w->max_actions_period_ms) : -EINVAL;
		if (e == -ERANGE)
			cfg_err_value(c, val[W_MAX_ACTIONS], "max_actions",
				      "1 to 1000000 actions per a period longer than 0");
		else if (e < 0)
			cfg_err_value(c, val[W_MAX_ACTIONS], "max_actions",
				      "a count per period like 3/h or 5/30m");
	}
	if (val[W_CAPTURE])
		cfg_bool(c, "capture", val[W_CAPTURE], &w->capture);
	if (val[W_EXEC_TIMEOUT] && cfg_duration(c, "exec_timeout", val[W_EXEC_TIMEOUT], &w->exec_timeout_ms) &&
	    w->exec_timeout_ms == 0)
		cfg_err_value(c, val[W_EXEC_TIMEOUT], "exec_timeout", "a duration longer than 0");
}

static void parse_watches(struct cfg_ctx *c, yaml_node_t *v, struct config *cfg,
			  struct watch_nodes **nodes)
{
	yaml_node_item_t *it;
	size_t n;

	if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0) {
		cfg_err(c, v, "no watches defined");
		return;
	}
	if (v->type != YAML_SEQUENCE_NODE) {
		cfg_err(c, v, "'watches' must be a list of watches");
		return;
	}
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n == 0) {
		cfg_err(c, v, "no watches defined");
		return;
	}
	if (n > MAX_WATCHES) {
		cfg_err(c, v, "%zu watches; at most %d are allowed (one watch matches any "
			"number of processes)", n, MAX_WATCHES);
		return;
	}
	cfg->watches = calloc(n, sizeof(*cfg->watches));
	*nodes = calloc(n, sizeof(**nodes));
	if (!cfg->watches || !*nodes) {
		c->oom = true;
		return;
	}
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		struct watch *w = &cfg->watches[cfg->n_watches];
		struct watch_nodes *wn = &(*nodes)[cfg->n_watches++];

		watch_init(w);
		parse_watch(c, yaml_document_get_node(c->doc, *it), w, wn);
		if (!w->name)
			continue;
		for (struct watch *o = cfg->watches; o < w; o++) {
			if (o->name && strcmp(o->name, w->name) == 0) {
				cfg_err(c, wn->name, "duplicate watch name '%s' (first defined at line %zu)",
					w->name, (*nodes)[o - cfg->watches].name->start_mark.line + 1);
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

static void parse_metrics(struct cfg_ctx *c, yaml_node_t *v, struct config *cfg)
{
	yaml_node_t *key[X_COUNT], *val[X_COUNT];
	const char *s;

	if (v->type != YAML_MAPPING_NODE) {
		cfg_err_value(c, v, "metrics", "a mapping with 'textfile' and/or 'listen'");
		return;
	}
	cfg_keys(c, v, metrics_keys, X_COUNT, key, val);
	if (val[X_TEXTFILE])
		cfg->metrics_textfile = cfg_abs_path(c, "textfile", val[X_TEXTFILE]);
	if (val[X_LISTEN]) {
		s = cfg_scalar(val[X_LISTEN]);
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

		if (!nodes[i].map || nodes[i].map->type != YAML_MAPPING_NODE ||
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

static void parse_root(struct cfg_ctx *c, yaml_node_t *root, struct config *cfg)
{
	yaml_node_t *key[T_COUNT], *val[T_COUNT];
	struct watch_nodes *nodes = NULL;
	bool interval_ok = true;

	if (root->type != YAML_MAPPING_NODE) {
		char d[CFG_DESC_LEN];

		cfg_describe(root, d, sizeof(d));
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

/* ---- loading ------------------------------------------------------------ */

static int read_file(const char *path, char **buf, size_t *len)
{
	size_t cap = 0, n = 0;
	char *b = NULL, *nb;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t got;

		if (n == cap) {
			if (cap >= MAX_FILE_SIZE) {
				r = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 8192;
			nb = realloc(b, cap);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			b = nb;
		}
		got = read(fd, b + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	*buf = b;
	*len = n;
	b = NULL;
out:
	free(b);
	close(fd);
	return r;
}

static int file_error(const char *path, const char *what, int err, struct diag *diags)
{
	char *msg, **msgs;
	int n;

	if (err == -EFBIG)
		n = asprintf(&msg, "%s: error: %s: larger than %u MiB, far more than a "
			     "configuration needs", path, what, MAX_FILE_SIZE >> 20);
	else
		n = asprintf(&msg, "%s: error: %s: %s", path, what, strerror(-err));
	if (n < 0)
		return err;
	msgs = realloc(diags->msgs, (diags->n + 1) * sizeof(char *));
	if (!msgs) {
		free(msg);
		return err;
	}
	diags->msgs = msgs;
	diags->msgs[diags->n++] = msg;
	return err;
}

/* A syntax error from libyaml: one diagnostic at its problem mark. */
static void syntax_error(struct cfg_ctx *c, const yaml_parser_t *p, const char *buf, size_t len)
{
	size_t line = p->problem_mark.line, col = p->problem_mark.column;

	if (p->error == YAML_MEMORY_ERROR) {
		c->oom = true;
		return;
	}
	if (p->error == YAML_READER_ERROR) {   /* only an offset: count lines */
		line = col = 0;
		for (size_t i = 0; i < p->problem_offset && i < len; i++) {
			if (buf[i] == '\n') {
				line++;
				col = 0;
			} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
				col++;
			}
		}
	}
	cfg_err_mark(c, line, col, "%s", p->problem ? p->problem : "invalid YAML");
}

/* A pass over the events before the document is loaded, so a hostile file
 * costs little: nesting and node counts are bounded (aliases count once
 * per reference, so "billion laughs" stays small).  Returns -E2BIG after
 * reporting a limit; syntax errors are left to the loader, which reports
 * them at the same place. */
static int prescan(struct cfg_ctx *c, const char *buf, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	size_t depth = 0, nodes = 0;
	int r = 0;

	if (!yaml_parser_initialize(&parser)) {
		c->oom = true;
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (r == 0 && yaml_parser_parse(&parser, &ev)) {
		yaml_event_type_t t = ev.type;
		bool opens = t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT;

		if (opens && ++depth > MAX_YAML_DEPTH) {
			cfg_err_mark(c, ev.start_mark.line, ev.start_mark.column,
				     "nested more than %d deep", MAX_YAML_DEPTH);
			r = -E2BIG;
		} else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
			depth--;
		}
		if ((opens || t == YAML_SCALAR_EVENT || t == YAML_ALIAS_EVENT) &&
		    ++nodes > MAX_YAML_NODES && r == 0) {
			cfg_err_mark(c, ev.start_mark.line, ev.start_mark.column,
				     "more than %d YAML nodes; a configuration needs far fewer "
				     "(at most %d watches)", MAX_YAML_NODES, MAX_WATCHES);
			r = -E2BIG;
		}
		yaml_event_delete(&ev);
		if (t == YAML_STREAM_END_EVENT)
			break;
	}
	if (parser.error == YAML_MEMORY_ERROR) {
		c->oom = true;
		r = -ENOMEM;
	}
	yaml_parser_delete(&parser);
	return r;
}

static void load_document(struct cfg_ctx *c, const char *buf, size_t len, struct config *cfg)
{
	yaml_parser_t parser;
	yaml_document_t doc, next;
	yaml_node_t *root;

	if (prescan(c, buf, len) < 0)
		return;
	if (!yaml_parser_initialize(&parser)) {
		c->oom = true;
		return;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		syntax_error(c, &parser, buf, len);
		goto out_parser;
	}
	c->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root)
		cfg_err_mark(c, 0, 0, "no watches defined");
	else
		parse_root(c, root, cfg);
	if (root) {
		if (!yaml_parser_load(&parser, &next)) {
			syntax_error(c, &parser, buf, len);
		} else {
			root = yaml_document_get_root_node(&next);
			if (root)
				cfg_err(c, root, "only one YAML document is allowed");
			yaml_document_delete(&next);
		}
	}
	yaml_document_delete(&doc);
	c->doc = NULL;
out_parser:
	yaml_parser_delete(&parser);
}

int config_load(const char *path, const struct config_env *env,
		struct config **out, struct diag *diags)
{
	struct cfg_ctx c = { .path = path };
	struct config *cfg = NULL;
	char *buf = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if (env) {
		c.mem_total = env->mem_total;
		c.lookup_user = env->lookup_user;
	}
	r = read_file(path, &buf, &len);
	if (r == -ENOMEM)
		return file_error(path, "cannot read", r, diags);
	if (r < 0)
		return file_error(path, r == -EISDIR || r == -EFBIG ? "cannot read" : "cannot open",
				  r, diags);
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg || !(cfg->path = strdup(path))) {
		r = file_error(path, "cannot load", -ENOMEM, diags);
		goto out;
	}
	cfg->interval_ms = 5000;
	load_document(&c, buf, len, cfg);
	r = cfg_finish(&c, diags);
	if (r < 0)
		goto out;
	*out = cfg;
	cfg = NULL;
out:
	config_free(cfg);
	free(buf);
	return r;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->state_dir);
	free(c->metrics_textfile);
	free(c->metrics_listen);
	for (size_t i = 0; i < c->n_watches; i++)
		watch_free(&c->watches[i]);
	free(c->watches);
	free(c);
}

const struct watch *config_find_watch(const struct config *c, const char *name)
{
	if (!c || !name)
		return NULL;
	for (size_t i = 0; i < c->n_watches; i++)
		if (c->watches[i].name && strcmp(c->watches[i].name, name) == 0)
			return &c->watches[i];
	return NULL;
}
