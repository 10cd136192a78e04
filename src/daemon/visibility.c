/* The hidepid= check (visibility.h says why).  The mount's options and the
 * daemon's effective capabilities are read through the monitor's /proc
 * root, so a fixture tree tests it; the groups are the process's own. */
#include "daemon/visibility.h"

#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "daemon/monitor.h"
#include "os/proc.h"

static bool in_group(gid_t gid)
{
	gid_t groups[256];
	int n = getgroups(256, groups);

	if (getegid() == gid)
		return true;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

void visibility_warn_hidepid(const struct monitor *mon, const struct notice_sink *say)
{
	struct proc_mount pm;
	char status[4096];
	uint64_t caps = 0;

	if (proc_root_mount(&mon->root, &pm) < 0)
		return;
	if (proc_read_file(&mon->root, "self/status", status, sizeof(status)) > 0)
		proc_parse_cap_eff(status, &caps);
	if (!proc_mount_hides(&pm, caps, pm.has_gid && in_group(pm.gid)))
		return;
	notice(say, NOTICE_WARNING, NULL, "/proc is mounted with hidepid=%s: leakwatchd runs as %s and %s, so it cannot "
	       "watch other users' processes; run it as root, with CAP_SYS_PTRACE, or in the group of "
	       "the mount's gid= option",
	       proc_hidepid_name(pm.hidepid), mon->self_user,
	       pm.hidepid == HIDEPID_NOACCESS ? "may not read them" : "sees only its own user's processes");
}
