/* Held-back actions go to the most urgent process first (issue 17): three
 * workers of one watch get a leak verdict in the same tick, each at its own
 * distance from the limit; under a cooldown (emulated by the act callback:
 * one action, then "suppressed" for 8 ticks) the one closest to its limit
 * is acted on first, then the next closest, whatever the list order.  And
 * a process over its limit goes before the others waiting.  A monitor over a
 * fixture /proc (fixture.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "daemon/monitor.h"
#include "io/actor.h"
#include "fixture.h"

#define PAGES_PER_TICK 25
#define COOLDOWN_TICKS 8

struct calls {
	int tick, open_at;     /* the current tick; the first tick the "cooldown" lets one through */
	int n;
	pid_t pid[32];
	int at[32];
	bool retry[32];
	int asked_first[200];  /* per pid: 1 + the tick it was first asked, 0: never */
};

static int on_act(void *ctx, const struct act_request *r)
{
	struct calls *c = ctx;

	if (r->pid < 200 && !c->asked_first[r->pid]) {
		c->asked_first[r->pid] = 1 + c->tick;
		CHECK_MSG(!r->retry, "pid %d: first asked as a retry", (int)r->pid);
	}
	if (c->tick < c->open_at)
		return -EAGAIN;                 /* suppressed: asked again later */
	if (c->n < 32) {
		c->pid[c->n] = r->pid;
		c->at[c->n] = c->tick;
		c->retry[c->n++] = r->retry;
	}
	c->open_at = c->tick + COOLDOWN_TICKS;
	return 0;
}

/* base: each worker's starting rss, pages; the limit is 10000 pages. */
static void run(const long base[3], long jump_101, struct calls *c)
{
	static const char cfg_text[] =
		"interval: 250ms\n"
		"watches:\n"
		"  - name: workers\n"
		"    match: { comm: leaker }\n"
		"    window: 10s\n"
		"    rss: { growth: 100M/h, max: 40000K }\n"
		"    on_leak: signal\n"
		"    on_limit: signal\n";
	struct config *cfg;
	struct monitor m;

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 3; i++)
		make_proc(101 + i, "leaker", 1, PF_USER, "leaker", 3);
	cfg = load_config(cfg_text);
	CHECK(cfg != NULL);
	if (!cfg)
		return;
	CHECK(monitor_init(&m, root, cfg, 300, NULL, NULL) == 0);
	m.act = on_act;
	m.act_ctx = c;
	for (int t = 0; t < 120; t++) {
		uint64_t now = 1000 + (uint64_t)t * 250;

		c->tick = t;
		for (int i = 0; i < 3; i++) {
			long rss = base[i] + (long)t * PAGES_PER_TICK;

			if (i == 0 && t >= 50)
				rss += jump_101;        /* over the limit from tick 50 */
			stat_file(101 + i, "leaker", 1, PF_USER, 1, rss, (unsigned long long)(101 + i));
		}
		monitor_tick(&m, now, WALL_BASE + now * 1000);
	}
	monitor_free(&m);
	config_free(cfg);
}

static void test_eta_order(void)
{
	/* 102 is closest to the limit, then 103, then 101 */
	static const long base[3] = { 1000, 5000, 3000 };
	struct calls c;

	run(base, 0, &c);
	CHECK_MSG(c.n == 3, "%d actions", c.n);
	CHECK_MSG(c.asked_first[101] == c.asked_first[102] && c.asked_first[102] == c.asked_first[103] &&
		  c.asked_first[101] > 0, "verdicts at ticks %d %d %d: not together", c.asked_first[101] - 1,
		  c.asked_first[102] - 1, c.asked_first[103] - 1);
	if (c.n == 3) {
		CHECK_MSG(c.pid[0] == 102 && c.pid[1] == 103 && c.pid[2] == 101, "order %d %d %d", (int)c.pid[0],
			  (int)c.pid[1], (int)c.pid[2]);
		CHECK(c.at[0] == c.asked_first[102] - 1 && !c.retry[0]);        /* in the verdict's tick */
		CHECK(c.at[1] == c.at[0] + COOLDOWN_TICKS && c.retry[1]);       /* at each release */
		CHECK(c.at[2] == c.at[1] + COOLDOWN_TICKS && c.retry[2]);
	}
}

static void test_over_limit_first(void)
{
	/* 101, the farthest from its limit, jumps over it at tick 50, while it
	 * and 103 wait: it goes first at the next release */
	static const long base[3] = { 1000, 5000, 3000 };
	struct calls c;

	run(base, 6000, &c);
	CHECK_MSG(c.n == 3, "%d actions", c.n);
	if (c.n == 3)
		CHECK_MSG(c.pid[0] == 102 && c.pid[1] == 101 && c.pid[2] == 103, "order %d %d %d (at %d %d %d)",
			  (int)c.pid[0], (int)c.pid[1], (int)c.pid[2], c.at[0], c.at[1], c.at[2]);
}

int main(void)
{
	if (!make_root("urgency"))
		return 2;
	RUN(test_eta_order);
	remove_root();
	if (!make_root("urgency"))
		return 2;
	RUN(test_over_limit_first);
	remove_root();
	return check_done("test_urgency");
}
