/* Actions, pure half: cooldown and max_actions gates, exec argv
 * substitution and environment. */
#include <stdlib.h>
#include <string.h>

#include "core/action_policy.h"
#include "check.h"

static void test_gates(void)
{
	struct action_policy *list = NULL, *p;
	struct watch w = { .cooldown_ms = 1000, .max_actions = 3, .max_actions_period_ms = 10000 };
	/* time (ms), expected gate, record when allowed */
	static const struct { uint64_t t; enum action_gate want; } steps[] = {
		{ 100, GATE_GO },            /* first */
		{ 500, GATE_COOLDOWN },      /* within 1 s */
		{ 1100, GATE_GO },           /* second */
		{ 2100, GATE_GO },           /* third */
		{ 3200, GATE_MAX_ACTIONS },  /* 3 in the last 10 s */
		{ 9000, GATE_MAX_ACTIONS },
		{ 10100, GATE_GO },          /* the first is 10 s old */
		{ 10200, GATE_COOLDOWN },
		{ 11000, GATE_COOLDOWN },    /* cooldown is checked first */
		{ 11050, GATE_COOLDOWN },
		{ 11100, GATE_GO },          /* 1100 is now 10 s old too */
	};

	p = action_policy_get(&list, "api");
	CHECK(p && action_policy_get(&list, "api") == p);
	CHECK(action_policy_get(&list, "other") != p);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		enum action_gate g = action_gate(p, &w, steps[i].t);

		CHECK_MSG(g == steps[i].want, "step %zu at %llu ms: gate %d, want %d", i,
			  (unsigned long long)steps[i].t, g, steps[i].want);
		if (g == GATE_GO)
			CHECK(action_record(p, &w, steps[i].t) == 0);
	}
	/* a reload to max_actions 1/h: the newest action (11.1 s) counts */
	w.max_actions = 1;
	w.max_actions_period_ms = 3600000;
	CHECK(action_gate(p, &w, 20000) == GATE_MAX_ACTIONS);
	CHECK(action_gate(p, &w, 3611100) == GATE_GO);
	CHECK(action_record(p, &w, 3611100) == 0);     /* the ring shrinks to 1 */
	CHECK(p->cap == 1 && p->n == 1 && p->times[0] == 3611100);
	CHECK(action_gate(p, &w, 3700000) == GATE_MAX_ACTIONS);
	action_policy_free_all(list);
	action_policy_free_all(NULL);
}

static void test_argv_env(void)
{
	char *tmpl[] = { "/usr/local/bin/page", "--pid", "{pid}", "w={watch}/{metric}", "{event}:{value}", "{unknown}", NULL };
	struct watch w = { .exec = tmpl, .exec_len = 6 };
	struct action_subject s = { .pid = 4242, .watch = "api", .metric = "rss", .event = "leak", .value = 1048576.4 };
	char *base[] = { "PATH=/usr/bin", "LEAKWATCH_PID=1", "HOME=/", NULL };
	char **argv = NULL, **env = NULL;

	CHECK(action_argv(&w, &s, &argv) == 0);
	CHECK_STR(argv[0], "/usr/local/bin/page");
	CHECK_STR(argv[2], "4242");
	CHECK_STR(argv[3], "w=api/rss");
	CHECK_STR(argv[4], "leak:1048576");
	CHECK_STR(argv[5], "{unknown}");
	CHECK(argv[6] == NULL);
	strv_free(argv);

	CHECK(action_env(base, &s, &env) == 0);
	CHECK_STR(env[0], "PATH=/usr/bin");
	CHECK_STR(env[1], "HOME=/");         /* the inherited LEAKWATCH_PID is dropped */
	CHECK_STR(env[2], "LEAKWATCH_PID=4242");
	CHECK_STR(env[3], "LEAKWATCH_WATCH=api");
	CHECK_STR(env[4], "LEAKWATCH_METRIC=rss");
	CHECK_STR(env[5], "LEAKWATCH_EVENT=leak");
	CHECK_STR(env[6], "LEAKWATCH_VALUE=1048576");
	CHECK(env[7] == NULL);
	strv_free(env);
	strv_free(NULL);
}

int main(void)
{
	RUN(test_gates);
	RUN(test_argv_env);
	return check_done("test_action");
}
