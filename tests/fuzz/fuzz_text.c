/* The NUL-terminated /proc texts: status (real uid), cgroup (unit),
 * cmdline (joined in place), loadavg (last pid), a directory name (pid),
 * an exe path (Python?), mountinfo (hidepid=, gid=), CapEff: of status. */
#include <sys/types.h>

#include "fuzz_proc.h"
#include "core/cgroup_unit.h"
#include "core/proc_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct cgroup_unit unit;
	uid_t uid;
	struct proc_mount pm;
	uint64_t caps;
	long pid;
	size_t n;

	if (!s)
		return 0;
	(void)proc_parse_ruid(s, &uid);
	if (cgroup_unit_parse(s, &unit) == 0 &&
	    (!unit.system[0] || !cgroup_unit_name_valid(unit.system) ||
	     (unit.user[0] && !cgroup_unit_name_valid(unit.user))))
		abort();
	(void)proc_parse_last_pid(s, size, &pid);
	(void)proc_name_pid(s);
	(void)proc_exe_is_python(s);
	if (proc_parse_mountinfo(s, 0, 22, &pm) == 0 && pm.hidepid > HIDEPID_PTRACEABLE)
		abort();
	(void)proc_parse_cap_eff(s, &caps);
	n = proc_join_cmdline(s, size);
	if (n > size)
		abort();
	free(s);
	return 0;
}
