/* The control requests that change something (see requests.h).
 *
 * Who may ask: the socket is born 0600 (io/control.c), so only the
 * daemon's own user (root, for the shipped unit) can connect at all.
 * That is the rule for everything; the requests that change what the
 * daemon does also look at the peer's credentials (SO_PEERCRED, taken at
 * accept), so that an operator who opens the socket to a monitoring user
 * or group (chmod, chgrp, an ACL) to share `leakwatchctl status` does not
 * share reload, forget and inspect with it.  A process a watch judges is
 * hostile: one that could forget itself once a window would never get a
 * verdict, so forget is the operator's alone; one that runs as the
 * daemon's user could ptrace or kill the daemon already, so nothing is
 * lost there.
 *
 * forget refuses a process an inspection is looking into: the
 * inspection's outcome would come back to the record afresh (it is found
 * by pid and start time), and its action is waiting on it.  An action
 * already under way (a kill_after escalation, an exec command, a
 * RestartUnit call) goes on: it is the process's, not the record's.
 *
 * Costs: a compare of the first word per request. */
#include "daemon/requests.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/inspections.h"
#include "daemon/monitor.h"

/* Is the request's first word w? */
static bool first_word(const char *request, const char *w)
{
	size_t n = strlen(w);

	request += strspn(request, " \t");
	return strncmp(request, w, n) == 0 && (request[n] == '\0' || request[n] == ' ' || request[n] == '\t');
}

int requests_alone(const char *request, const char *w)
{
	if (!first_word(request, w))
		return 0;
	request += strspn(request, " \t") + strlen(w);
	return request[strspn(request, " \t")] ? -1 : 1;
}

bool requests_allowed(const char *request, uid_t peer, uid_t self, struct buf *reply)
{
	static const char *const changing[] = { "reload", "forget", "inspect" };

	if (peer == 0 || peer == self)
		return true;
	for (size_t i = 0; i < sizeof(changing) / sizeof(changing[0]); i++)
		if (first_word(request, changing[i])) {
			buf_printf(reply, "ERR permission denied: only root or leakwatchd's own user may %s\n",
				   changing[i]);
			return false;
		}
	return true;
}

bool requests_forget(struct monitor *m, const struct inspections *s, const char *request, struct buf *reply)
{
	const struct watched *w;
	const char *arg, *watch;
	char *end;
	long pid;

	if (!first_word(request, "forget"))
		return false;
	arg = request + strspn(request, " \t") + 6;
	arg += strspn(arg, " \t");
	pid = strtol(arg, &end, 10);
	end += strspn(end, " \t");
	if (end == arg || *end || pid <= 0 || pid > INT32_MAX || !strchr("0123456789", arg[0])) {
		buf_puts(reply, "ERR forget needs a pid: ");
		buf_line_text(reply, strlen(arg) > 40 ? "(too long)" : arg);
		buf_puts(reply, "\n");
		return true;
	}
	if (!(w = judged_find(&m->j, (pid_t)pid))) {
		buf_printf(reply, "ERR pid %ld is not watched: nothing to forget\n", pid);
		return true;
	}
	if (inspections_busy(s, (pid_t)pid)) {
		buf_printf(reply, "ERR pid %ld is being inspected: forget it once the inspection is over\n", pid);
		return true;
	}
	watch = m->j.cfg->watches[w->watch].name;   /* the config's: outlives the record */
	monitor_forget(m, (pid_t)pid);
	buf_printf(reply, "OK\n%s: pid %ld forgotten: its history, verdicts and withheld actions are dropped; "
		   "matched afresh at the next discovery\n", watch, pid);
	return true;
}
