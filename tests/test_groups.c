/* The monitor's groups (daemon/groups.c) on a fixture /proc tree: the sum
 * over a watch's processes sampled each tick, a group limit reported once
 * per episode as an event about the group (no pid, processes counted),
 * its restart-unit asked with the one unit its live processes are in, or
 * with why there is none when they are in several; a reload keeping the
 * watch's name and window keeps the group's history. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/config.h"
#include "fixture.h"
#include "daemon/monitor.h"
#include "io/actor.h"

struct seen {
	int group_limits, process_limits;
	unsigned processes;
	char message[600];
	int acts;
	bool act_group;
	unsigned act_processes;
	pid_t act_pid;
	char unit[64], no_unit[448];
};

static void on_event(void *ctx, struct event *e)
{
	struct seen *s = ctx;

	if (e->type != EVENT_LIMIT)
		return;
	if (!e->group) {
		s->process_limits++;
		return;
	}
	s->group_limits++;
	s->processes = e->processes;
	snprintf(s->message, sizeof(s->message), "%s", e->message);
}

static int on_act(void *ctx, const struct act_request *r)
{
	struct seen *s = ctx;

	s->acts++;
	s->act_group = r->group;
	s->act_processes = r->processes;
	s->act_pid = r->pid;
	s->unit[0] = s->no_unit[0] = '\0';
	if (r->group_unit && r->group_unit(r->group_ctx, s->unit, sizeof(s->unit), s->no_unit, sizeof(s->no_unit)) < 0)
		s->unit[0] = '\0';
	return 0;
}

static const char *config_text =
	"interval: 250ms\n"
	"watches:\n"
	"  - name: pool\n"
	"    match:\n"
	"      parent: { cmdline: \"^master\" }\n"
	"    window: 20s\n"
	"    rss: { max: 1G }\n"
	"    group:\n"
	"      rss: { max: 10M }\n"
	"      on_limit: restart-unit\n";

/* ticks of 250 ms from *now, workers 101 and 102 at these pages each */
static void run(struct monitor *m, uint64_t *now, int ticks, long pages101, long pages102)
{
	for (int i = 0; i < ticks; i++) {
		stat_file(101, "worker", 100, PF_USER, 1, pages101, 101);
		stat_file(102, "worker", 100, PF_USER, 1, pages102, 102);
		monitor_tick(m, *now, WALL_BASE + *now * 1000);
		*now += 250;
	}
}

int main(void)
{
	static const struct {
		long p101, p102;      /* 4 KiB pages each: the sum against 10M */
		const char *cgroup102;
		int limits, acts;     /* in all, after this step */
		const char *unit, *no_unit;
	} steps[] = {
		{ 1000, 1000, NULL, 0, 0, "", "" },                          /* 8M: under */
		{ 2000, 1000, NULL, 1, 1, "api.service", "" },               /* 12M: over */
		{ 2500, 1000, NULL, 1, 1, "api.service", "" },               /* still over: no new episode */
		{ 1000, 1000, "0::/system.slice/other.service\n", 1, 1, "api.service", "" },   /* under again */
		{ 2000, 1000, NULL, 2, 2, "", "several units" },             /* over, in two units */
	};
	struct config *cfg, *cfg2;
	struct monitor m;
	static struct seen s;
	struct group_record *kept;
	uint64_t now = 1000;

	if (!check_case("test_groups"))
		return check_done("test_groups");
	if (!make_root("proc-groups"))
		return 2;
	cfg = load_config(config_text);
	cfg2 = load_config(config_text);
	CHECK(cfg && cfg2);
	if (!cfg || !cfg2)
		return check_done("test_groups");
	CHECK(cfg->watches[0].group && cfg->watches[0].group->metrics == 1u << METRIC_RSS &&
	      cfg->watches[0].group->rule[METRIC_RSS].max == 10 * 1024 * 1024 &&
	      cfg->watches[0].group->on_limit == ACTION_RESTART_UNIT && cfg->watches[0].group->on_leak == ACTION_ALERT);
	make_proc(1, "systemd", 0, PF_USER, "/sbin/init", 3);
	make_proc(100, "master", 1, PF_USER, "master", 3);
	make_proc(101, "worker", 100, PF_USER, "worker", 3);
	make_proc(102, "worker", 100, PF_USER, "worker", 3);
	CHECK(monitor_init(&m, root, cfg, 4242, on_event, &s) == 0);
	m.act = on_act;
	m.act_ctx = &s;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (steps[i].cgroup102)
			put("102/cgroup", steps[i].cgroup102, strlen(steps[i].cgroup102));
		run(&m, &now, 8, steps[i].p101, steps[i].p102);
		CHECK_MSG(s.group_limits == steps[i].limits && s.acts == steps[i].acts, "step %zu: %d limits, %d acts",
			  i, s.group_limits, s.acts);
		if (!s.acts)
			continue;
		CHECK_MSG(strcmp(s.unit, steps[i].unit) == 0 && strstr(s.no_unit, steps[i].no_unit), "step %zu: %s / %s",
			  i, s.unit, s.no_unit);
		CHECK(s.act_group && s.act_processes == 2 && s.act_pid == 0);
	}
	CHECK(s.process_limits == 0);
	CHECK(s.processes == 2);
	CHECK_MSG(strncmp(s.message, "pool: group of 2 processes: rss over limit: ", 44) == 0, "%s", s.message);
	CHECK(m.j.groups && m.j.groups[0] && m.j.groups[0]->m[METRIC_RSS].in_limit);
	/* a reload with the same name and window: the same record, its episode kept */
	kept = m.j.groups ? m.j.groups[0] : NULL;
	monitor_set_config(&m, cfg2);
	CHECK(m.j.groups && m.j.groups[0] == kept);
	run(&m, &now, 4, 2000, 1000);
	CHECK(s.group_limits == 2);
	monitor_free(&m);
	config_free(cfg);
	config_free(cfg2);
	CHECK(remove_root() == 0);
	return check_done("test_groups");
}
