/* The unit from a cgroup (core/cgroup_unit.h), as systemd tells it: the
 * first component below the leading slices, whatever the owner of a
 * delegated subtree made below it; the user unit within user@UID.service;
 * the unified line before name=systemd, and no unit when the two disagree
 * or a hierarchy has two lines; unit names as systemd accepts them. */
#include "core/cgroup_unit.h"

#include <errno.h>
#include <string.h>

#include "check.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A line of each of the hybrid layout's hierarchies, around a path. */
#define HYBRID(v1, v2) "12:pids:/\n9:memory:/x\n1:name=systemd:" v1 "\n0::" v2 "\n"

static void test_paths(void)
{
	static const struct {
		const char *text;
		int ret;
		const char *unit, *user;
	} cases[] = {
		/* the root, init.scope, plain services and scopes */
		{ "0::/\n", -ENOENT, "", "" },
		{ "0::/init.scope\n", 0, "init.scope", "" },
		{ "0::/system.slice/api.service\n", 0, "api.service", "" },
		{ "0::/system.slice/api.service/workers\n", 0, "api.service", "" },
		{ "0::/system.slice/run-r1.scope\n", 0, "run-r1.scope", "" },
		{ "0::/system.slice/system-getty.slice/getty@tty1.service\n", 0, "getty@tty1.service", "" },
		{ "0::/machine.slice/libpod-1.scope/container\n", 0, "libpod-1.scope", "" },
		{ "0::/system.slice/dev-hugepages.mount\n", 0, "dev-hugepages.mount", "" },
		/* what a delegated subtree's owner names below its unit is not a unit */
		{ "0::/system.slice/job.service/sshd.service\n", 0, "job.service", "" },
		{ "0::/system.slice/job.service/x.slice/sshd.service\n", 0, "job.service", "" },
		{ "0::/system.slice/job.service/user@0.service/a.service\n", 0, "job.service", "" },
		/* sessions and user managers */
		{ "0::/user.slice/user-1000.slice/session-3.scope\n", 0, "session-3.scope", "" },
		{ "0::/user.slice/user-1000.slice/user@1000.service/app.slice/api.service\n", 0,
		  "user@1000.service", "api.service" },
		{ "0::/user.slice/user-1000.slice/user@1000.service/app.slice/api.service/x.service\n", 0,
		  "user@1000.service", "api.service" },
		{ "0::/user.slice/user-1000.slice/user@1000.service/init.scope\n", 0,
		  "user@1000.service", "init.scope" },
		{ "0::/user.slice/user-1000.slice/user@1000.service\n", 0, "user@1000.service", "" },
		{ "0::/user.slice/user-1000.slice/user@1000.service/app.slice\n", 0, "user@1000.service", "" },
		{ "0::/user.slice/user-1000.slice/user@x.service/app.slice/api.service\n", 0,
		  "user@x.service", "" },
		/* escaped names: one leading '_' dropped */
		{ "0::/system.slice/_cpu.service\n", 0, "cpu.service", "" },
		{ "0::/_x.slice/_y.service\n", 0, "y.service", "" },
		/* no unit: slices only, names that are no unit's */
		{ "0::/system.slice\n", -ENOENT, "", "" },
		{ "0::/system.slice/not-a-unit.slice\n", -ENOENT, "", "" },
		{ "0::/system.slice/workers\n", -ENOENT, "", "" },
		{ "0::/system.slice/api.servic\n", -ENOENT, "", "" },
		{ "0::/system.slice/api .service\n", -ENOENT, "", "" },
		{ "0::/system.slice/.service\n", -ENOENT, "", "" },
		{ "0::/system.slice/@x.service\n", -ENOENT, "", "" },
		{ "0::/system.slice/getty@.service\n", -ENOENT, "", "" },
		{ "0::/system.slice/a@b.slice/x.service\n", -ENOENT, "", "" },
		{ "0::/../../system.slice/api.service\n", -ENOENT, "", "" },
		{ "", -ENOENT, "", "" },
		{ "garbage\n", -ENOENT, "", "" },
		/* a removed cgroup's zombie */
		{ "0::/system.slice/api.service (deleted)\n", 0, "api.service", "" },
		/* no newline at the end; a ':' in a path */
		{ "0::/system.slice/api.service", 0, "api.service", "" },
		{ "0::/system.slice/a:b.service\n", 0, "a:b.service", "" },
		/* v1 lines: name=systemd when the unified line is absent or at the root */
		{ "12:pids:/system.slice/x.service\n1:name=systemd:/system.slice/legacy.service\n0::/\n", 0,
		  "legacy.service", "" },
		{ "1:name=systemd:/system.slice/legacy.service\n", 0, "legacy.service", "" },
		{ "3:cpu,name=systemd:/system.slice/legacy.service\n", 0, "legacy.service", "" },
		{ "12:pids:/system.slice/x.service\n", -ENOENT, "", "" },
		{ "1:name=systemdx:/system.slice/x.service\n", -ENOENT, "", "" },
		{ "1:name=systemd:/system.slice/job.service/sshd.service\n", 0, "job.service", "" },
		/* hybrid: the two agree, or one is at its root, or name=systemd names no unit */
		{ HYBRID("/system.slice/job.service/a", "/system.slice/job.service/b/sshd.service"), 0,
		  "job.service", "" },
		{ HYBRID("/", "/system.slice/api.service"), 0, "api.service", "" },
		{ HYBRID("/system.slice/api.service", "/"), 0, "api.service", "" },
		{ HYBRID("/user.slice/user-1.slice/user@1.service/a.service",
			 "/user.slice/user-1.slice/user@1.service/b.service"), 0, "user@1.service", "b.service" },
		{ HYBRID("/system.slice", "/system.slice/job.service"), 0, "job.service", "" },
		{ HYBRID("/payload", "/system.slice/job.service"), 0, "job.service", "" },
		{ HYBRID("/system.slice/job.service", "/system.slice"), -ENOENT, "", "" },
		/* hybrid: they name different system units */
		{ HYBRID("/system.slice/sshd.service", "/system.slice/job.service"), -EINVAL, "", "" },
		{ HYBRID("/system.slice/job.service/x/sshd.service",
			 "/user.slice/user-65534.slice/user@65534.service/app.slice/api.service"), -EINVAL, "", "" },
		/* two lines for one hierarchy: not the kernel's text */
		{ "1:name=systemd:/system.slice/a.service\n0::/system.slice/sshd.service\n0::/system.slice/a.service\n",
		  -EINVAL, "", "" },
		{ "1:name=systemd:/system.slice/a.service\n1:name=systemd:/system.slice/b.service\n0::/\n",
		  -EINVAL, "", "" },
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct cgroup_unit u;
		int r;

		memset(&u, 'x', sizeof(u));
		r = cgroup_unit_parse(cases[i].text, &u);
		CHECK_MSG(r == cases[i].ret && strcmp(u.system, cases[i].unit) == 0 &&
			  strcmp(u.user, cases[i].user) == 0,
			  "case %zu (%s): r=%d '%.40s' '%.40s'", i, cases[i].text, r, u.system, u.user);
	}
}

static void test_long_names(void)
{
	char text[1024], name[300];
	struct cgroup_unit u;

	/* 255 bytes is the longest name systemd takes; 256 is none */
	memset(name, 'a', sizeof(name));
	memcpy(name + 255 - strlen(".service"), ".service", sizeof(".service"));
	snprintf(text, sizeof(text), "0::/system.slice/%s/x\n", name);
	CHECK(cgroup_unit_parse(text, &u) == 0 && strlen(u.system) == 255);
	memset(name, 'a', sizeof(name));
	memcpy(name + 256 - strlen(".service"), ".service", sizeof(".service"));
	snprintf(text, sizeof(text), "0::/system.slice/%s/x\n", name);
	CHECK(cgroup_unit_parse(text, &u) == -ENOENT && u.system[0] == '\0');
	snprintf(text, sizeof(text), "0::/user.slice/user@1.service/%s\n", name);
	CHECK(cgroup_unit_parse(text, &u) == 0 && strcmp(u.system, "user@1.service") == 0 && !u.user[0]);
}

static void test_names(void)
{
	static const struct { const char *name; bool valid, manager; } cases[] = {
		{ "api.service", true, false }, { "getty@tty1.service", true, false },
		{ "a-b_c:d\\x2d.service", true, false }, { "x.socket", true, false },
		{ "x.timer", true, false }, { "x.path", true, false }, { "x.automount", true, false },
		{ "x.swap", true, false }, { "x.target", true, false }, { "x.device", true, false },
		{ "a.b.service", true, false }, { "user@1000.service", true, true },
		{ "user@0.service", true, true }, { "user@4294967294.service", true, true },
		{ "user@4294967295.service", true, false }, { "user@x.service", true, false },
		{ "user@1000.scope", true, false }, { "xuser@1000.service", true, false },
		{ "getty@.service", false, false }, { "@x.service", false, false },
		{ ".service", false, false }, { "api", false, false }, { "api.", false, false },
		{ "api.servic", false, false }, { "a b.service", false, false },
		{ "a/b.service", false, false }, { "", false, false }, { "auto", false, false },
		{ "x.Service", false, false },
	};

	for (size_t i = 0; i < N(cases); i++) {
		CHECK_MSG(cgroup_unit_name_valid(cases[i].name) == cases[i].valid, "%s", cases[i].name);
		CHECK_MSG(cgroup_unit_is_user_manager(cases[i].name) == cases[i].manager, "%s", cases[i].name);
	}
}

int main(void)
{
	RUN(test_paths);
	RUN(test_long_names);
	RUN(test_names);
	return check_done("test_cgroup_unit");
}
