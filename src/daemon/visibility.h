/* Whether leakwatchd can see the processes it is to watch.  /proc mounted
 * with hidepid= (systemd's ProtectProc=, or by hand) keeps other users'
 * processes from an unprivileged daemon, and nothing else would tell: the
 * watches would just never find anything.  Checked once, at start. */
#ifndef LEAKWATCH_VISIBILITY_H
#define LEAKWATCH_VISIBILITY_H

#include "daemon/notice.h"

struct monitor;

/* A warning through say when mon's /proc hides other users' processes
 * from this daemon (its capabilities and groups considered); nothing when
 * it does not, or when the mount cannot be read. */
void visibility_warn_hidepid(const struct monitor *mon, const struct notice_sink *say);

#endif
