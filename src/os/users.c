/* User names for the messages (see users.h). */
#include "os/users.h"

#include <pwd.h>
#include <stdio.h>

void user_name(uid_t uid, char *out, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(out, len, "%s", res->pw_name);
	else
		snprintf(out, len, "uid %u", (unsigned)uid);
}

void user_of_pid(const struct proc_root *root, pid_t pid, char *out, size_t len)
{
	char rel[40], buf[4096];
	uid_t uid;

	snprintf(rel, sizeof(rel), "%d/status", (int)pid);
	if (proc_read_file(root, rel, buf, sizeof(buf)) > 0 && proc_parse_ruid(buf, &uid) == 0)
		user_name(uid, out, len);
	else
		snprintf(out, len, "?");
}
