/* The actor for a group's verdict (act_request.group): the group's own
 * action (not the watch's), never a process's checks (pid 0 is no
 * refusal), the unit the watch's or the one the monitor's lookup finds
 * (asked only when an event is to name it: not for a retry still
 * withheld), a failure saying why there is none, alert doing nothing,
 * dry-run and cooldown as for a process; every event about the group ("W: group of N processes:
 * action ..."), with no pid. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "check.h"
#include "core/config.h"
#include "core/event.h"
#include "io/actor.h"
#include "os/proc.h"

struct seen {
	unsigned n;
	bool group;
	unsigned processes;
	pid_t pid;
	char result[16], unit[64], msg[600];
};

static void on_event(void *ctx, struct event *e)
{
	struct seen *s = ctx;

	s->n++;
	s->group = e->group;
	s->processes = e->processes;
	s->pid = e->pid;
	snprintf(s->result, sizeof(s->result), "%s", e->result ? e->result : "");
	snprintf(s->unit, sizeof(s->unit), "%s", e->unit ? e->unit : "");
	snprintf(s->msg, sizeof(s->msg), "%s", e->message);
}

/* The monitor's lookup, faked: the unit in ctx, or why there is none
 * (ctx "!WHY"); counts its calls. */
static int lookups;

static int fake_unit(void *ctx, char *unit, size_t len, char *why, size_t why_len)
{
	const char *s = ctx;

	lookups++;
	if (s[0] == '!') {
		snprintf(why, why_len, "%s", s + 1);
		return -ENOENT;
	}
	snprintf(unit, len, "%s", s);
	return 0;
}

int main(void)
{
	static const struct {
		const char *name;
		enum action group_act;
		const char *watch_unit, *lookup;   /* the fake lookup's answer; NULL: no lookup given */
		bool dry_run;
		int asks;              /* asked this many times in a row, the last as a retry when 3 */
		int ret;               /* of the last ask */
		int lookups;           /* the lookup asked this often */
		unsigned events;
		const char *result, *unit, *msg;
	} cases[] = {
		{ "the watch's unit", ACTION_RESTART_UNIT, "w.service", "api.service", true, 1, 0, 0, 1,
		  "dry-run", "w.service", "test: group of 3 processes: action restart-unit: dry-run: would restart the unit" },
		{ "the processes' unit", ACTION_RESTART_UNIT, NULL, "api.service", true, 1, 0, 1, 1,
		  "dry-run", "api.service", "test: group of 3 processes: action restart-unit: dry-run" },
		{ "no unit", ACTION_RESTART_UNIT, NULL, "!its processes are in several units (a, b)", true, 1, 0, 1, 1,
		  "failed", "", "test: group of 3 processes: action restart-unit: failed: its processes are in several "
		  "units (a, b)" },
		{ "no lookup", ACTION_RESTART_UNIT, NULL, NULL, true, 1, 0, 0, 1, "failed", "",
		  "test: group of 3 processes: action restart-unit: failed: no unit to restart" },
		{ "alert", ACTION_ALERT, NULL, "api.service", true, 1, 0, 0, 0, "", "", "" },
		{ "cooldown", ACTION_RESTART_UNIT, NULL, "api.service", true, 2, -EAGAIN, 2, 2,
		  "suppressed", "api.service", "test: group of 3 processes: action restart-unit: suppressed: cooldown" },
		{ "cooldown, retried: no lookup", ACTION_RESTART_UNIT, NULL, "api.service", true, 3, -EAGAIN, 2, 2,
		  "suppressed", "api.service", "test: group of 3 processes: action restart-unit: suppressed: cooldown" },
	};
	struct proc_root root = { .fd = -1 };

	if (!check_case("test_actor_group"))
		return check_done("test_actor_group");
	CHECK(proc_root_open(&root, "/proc") == 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct group_rule gr = { .metrics = 1u << METRIC_RSS, .on_leak = cases[i].group_act };
		struct watch w = {
			.name = "test", .on_leak = ACTION_SIGNAL, .on_limit = ACTION_SIGNAL, .unit = (char *)cases[i].watch_unit,
			.cooldown_ms = 3600000, .max_actions = 100, .max_actions_period_ms = 3600000, .group = &gr,
		};
		struct act_request r = {
			.watch = &w, .why = EVENT_LEAK, .metric = METRIC_RSS, .value = 1e9, .procfd = -1, .group = true,
			.processes = 3, .group_unit = cases[i].lookup ? fake_unit : NULL, .group_ctx = (void *)cases[i].lookup,
		};
		struct seen s = { 0 };
		struct actor *a = NULL;
		sd_event *e = NULL;
		int ret = 0;

		CHECK(sd_event_new(&e) >= 0);
		CHECK(actor_new(&a, e, &root, getpid(), on_event, NULL, &s) == 0);
		if (!a)
			break;
		actor_set_dry_run(a, cases[i].dry_run);
		lookups = 0;
		for (int k = 0; k < cases[i].asks; k++) {
			r.retry = k == 2;
			ret = actor_run(a, &r);
		}
		CHECK_MSG(ret == cases[i].ret && s.n == cases[i].events && lookups == cases[i].lookups,
			  "%s: returned %d, %u events, %d lookups", cases[i].name, ret, s.n, lookups);
		if (cases[i].events) {
			CHECK_MSG(s.group && s.processes == 3 && s.pid == 0, "%s", cases[i].name);
			CHECK_STR(s.result, cases[i].result);
			CHECK_STR(s.unit, cases[i].unit);
			CHECK_MSG(strncmp(s.msg, cases[i].msg, strlen(cases[i].msg)) == 0, "%s: %s", cases[i].name, s.msg);
		}
		CHECK(actor_pending(a) == 0);
		actor_free(a);
		sd_event_unref(e);
	}
	proc_root_close(&root);
	return check_done("test_actor_group");
}
