/* The metric rules of a watch (see config_schema_metric.h): `max` (with
 * `for`), `growth` and `predict`, and which of them needs which.  A `max`
 * of "N%" is kept as N: what it is a percentage of is the process's own
 * limit, which only the daemon reads, process by process (core/judge.h);
 * only rss's fallback, MemTotal, is known here. */
#include "core/config_schema_metric.h"
#include "core/units.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define MAX_FOR 1000000

enum { MK_MAX, MK_FOR, MK_GROWTH, MK_PREDICT, MK_COUNT };
static const char *const metric_keys[MK_COUNT] = {
	[MK_MAX] = "max", [MK_FOR] = "for", [MK_GROWTH] = "growth", [MK_PREDICT] = "predict",
};

/* What a percentage max is of, in the messages. */
static const char *const percent_of[METRIC_COUNT] = {
	[METRIC_RSS] = "of its cgroup's memory.max, else MemTotal",
	[METRIC_FDS] = "of its RLIMIT_NOFILE",
	[METRIC_THREADS] = "of its cgroup's pids.max",
	[METRIC_USS] = "of its cgroup's memory.max, else MemTotal",
	[METRIC_PSS] = "of its cgroup's memory.max, else MemTotal",
};

static bool is_percent(const char *s)
{
	return s && *s && s[strlen(s) - 1] == '%';
}

/* A max that is neither an amount nor a percentage (D: its description). */
static void bad_max(struct cfg_ctx *c, enum metric m, const struct cfg_node *v, const char *d)
{
	if (metric_is_memory(m))
		cfg_err(c, v, "'max' must be a size like 1G or 512MiB, or a percentage like 80%% (%s), not %s",
			percent_of[m], d);
	else
		cfg_err(c, v, "%s max must be a count like %s, or a percentage like 90%% (%s), not %s",
			metric_name(m), m == METRIC_FDS ? "4096" : "256", percent_of[m], d);
}

/* "N%": of the process's own limit, read while it is watched (config.h);
 * for rss also of MemTotal, the fallback, resolved now. */
static void parse_max_percent(struct cfg_ctx *c, enum metric m, const struct cfg_node *v,
			      const char *s, struct metric_rule *r)
{
	char d[CFG_DESC_LEN];
	double pct;
	int e = parse_percent(s, &pct);

	cfg_describe(c->tree, v, d, sizeof(d));
	if (e == -ERANGE) {
		cfg_err(c, v, "'max' as a percentage must be more than 0%% and at most 100%%, not %s", d);
	} else if (e < 0) {
		bad_max(c, m, v, d);
	} else if (metric_is_memory(m) && c->mem_total == 0) {
		cfg_err(c, v, "'max' as a percentage needs MemTotal, which is unknown");
	} else {
		r->has_max = true;
		r->max_percent = pct;
		r->max = metric_is_memory(m) ? floor((double)c->mem_total * pct / 100) : 0;   /* whole bytes */
	}
}

/* The max of fds or threads: a count, or a percentage of the process's
 * own limit. */
static void parse_max_count(struct cfg_ctx *c, enum metric m, const struct cfg_node *v,
			    struct metric_rule *r)
{
	const char *s = cfg_scalar(c, v);
	char d[CFG_DESC_LEN];
	double x;
	int e;

	if (is_percent(s)) {
		parse_max_percent(c, m, v, s, r);
		return;
	}
	cfg_describe(c->tree, v, d, sizeof(d));
	e = s ? parse_count(s, &x) : -EINVAL;
	if (e == -EINVAL && s && parse_size(s, &x) == 0)
		cfg_err(c, v, "%s max must be a count, not a size (%s)", metric_name(m), d);
	else if (e == -ERANGE)
		cfg_err(c, v, "'max' value %s is too large", d);
	else if (e < 0)
		bad_max(c, m, v, d);
	else if (x == 0)
		cfg_err(c, v, "'max' must be more than 0, not %s", d);
	else {
		r->has_max = true;
		r->max = x;
	}
}

/* The max of rss, uss or pss: a size, or a percentage of the process's memory limit. */
static void parse_max_size(struct cfg_ctx *c, enum metric m, const struct cfg_node *v, struct metric_rule *r)
{
	const char *s = cfg_scalar(c, v);
	char d[CFG_DESC_LEN];
	double x;
	int e;

	if (is_percent(s)) {
		parse_max_percent(c, m, v, s, r);
		return;
	}
	cfg_describe(c->tree, v, d, sizeof(d));
	e = s ? parse_size(s, &x) : -EINVAL;
	if (e == -ERANGE)
		cfg_err(c, v, "'max' value %s is too large", d);
	else if (e < 0)
		bad_max(c, m, v, d);
	else if (x < 1)
		cfg_err(c, v, "'max' must be more than 0, not %s", d);
	else {
		r->has_max = true;
		r->max = x;
	}
}

static void parse_growth(struct cfg_ctx *c, enum metric m, const struct cfg_node *v,
			 struct metric_rule *r)
{
	const char *s = cfg_scalar(c, v);
	char d[CFG_DESC_LEN];
	double x;
	int e;

	cfg_describe(c->tree, v, d, sizeof(d));
	e = s ? parse_rate(s, metric_is_memory(m), &x) : -EINVAL;
	if (e == -ENOMEM)
		c->diag->oom = true;
	else if (e == -EINVAL && !metric_is_memory(m) && parse_rate(s, 1, &x) == 0)
		cfg_err(c, v, "%s growth must be a count per time like 500/h, not a size (%s)",
			metric_name(m), d);
	else if (e == -ERANGE)
		cfg_err(c, v, "'growth' value %s is too large", d);
	else if (e < 0)
		cfg_err(c, v, "'growth' must be a rate like %s (per s, min, h or d), not %s",
			metric_is_memory(m) ? "200M/h" : "500/h", d);
	else if (x <= 0)
		cfg_err(c, v, "'growth' must be more than 0, not %s", d);
	else
		r->growth = x;
}

void cfg_parse_metric(struct cfg_ctx *c, enum metric m, const struct cfg_node *v,
		      struct metric_rule *r)
{
	static const char *const examples[METRIC_COUNT] = {
		"a mapping like { max: 1G, growth: 200M/h }", "a mapping like { max: 4096, growth: 500/h }",
		"a mapping like { max: 256, growth: 60/h }", "a mapping like { max: 1G, growth: 100M/h }",
		"a mapping like { max: 1G, growth: 100M/h }",
	};
	const struct cfg_node *key[MK_COUNT], *val[MK_COUNT];
	double n;
	uint64_t ms;

	if (!v || v->kind != CFG_MAPPING) {
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
	if (val[MK_MAX] && metric_is_memory(m))
		parse_max_size(c, m, val[MK_MAX], r);
	else if (val[MK_MAX])
		parse_max_count(c, m, val[MK_MAX], r);
	if (val[MK_FOR]) {
		const char *s = cfg_scalar(c, val[MK_FOR]);

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
