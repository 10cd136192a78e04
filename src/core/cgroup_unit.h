/* The systemd units a process is in, from the text of /proc/PID/cgroup, by
 * the rule systemd itself applies (its cg_path_get_unit and
 * cg_path_get_user_unit): below the root, skip the leading slices; the
 * next component is the system manager's unit.  When that unit is a user's
 * service manager (user@UID.service) or a login session (session-ID.scope),
 * the same rule applied to the rest of the path gives the unit within it,
 * the user unit.  Pure, so core/match.c and the tests use it without a
 * reader; os/proc.h's proc_read_unit() reads the file for it. */
#ifndef LEAKWATCH_CGROUP_UNIT_H
#define LEAKWATCH_CGROUP_UNIT_H

#include <stdbool.h>

#define CGROUP_UNIT_MAX 256   /* systemd's UNIT_NAME_MAX: every name is shorter */

struct cgroup_unit {
	char system[CGROUP_UNIT_MAX];  /* the system manager's unit */
	char user[CGROUP_UNIT_MAX];    /* the unit within user@UID.service or a
					* session's scope; "" when none */
};

/* The units of the process whose /proc/PID/cgroup text is TEXT: 0; -ENOENT
 * when it is in no system unit (the root cgroup, a slice, a component that
 * is no unit name); -EINVAL when the text cannot be trusted (two lines for
 * the unified hierarchy, or for name=systemd) or when the two hierarchies
 * both name a system unit, and not the same.  The unified line ("0::") decides, as it
 * does for systemd; the name=systemd line only when the unified one is
 * missing or at the root (a legacy layout).  *u is all "" on error. */
int cgroup_unit_parse(const char *text, struct cgroup_unit *u);

/* Is NAME the name of a unit that can exist, plain or an instance
 * ("api.service", "getty@tty1.service"; not a template "getty@.service"):
 * shorter than CGROUP_UNIT_MAX, of a known type, in systemd's characters? */
bool cgroup_unit_name_valid(const char *name);

/* Is this system unit a user's service manager, user@UID.service? */
bool cgroup_unit_is_user_manager(const char *unit);

#endif
