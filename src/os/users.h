/* Who a user is, for the messages that name the daemon's user and a
 * process's owner ("the process runs as www-data, leakwatchd as nobody").
 * Shared by discovery (its warnings) and the monitor (an fd count it may
 * not read), which otherwise know nothing of each other.  getpwuid_r may
 * read /etc/passwd or ask NSS: called only when a warning is said, and
 * once at start for the daemon's own user. */
#ifndef LEAKWATCH_USERS_H
#define LEAKWATCH_USERS_H

#include <stddef.h>
#include <sys/types.h>

#include "os/proc.h"

/* A user's name, or "uid N", into out. */
void user_name(uid_t uid, char *out, size_t len);

/* The user process pid runs as (its real uid, as `user:` matches), or
 * "?", into out. */
void user_of_pid(const struct proc_root *root, pid_t pid, char *out, size_t len);

#endif
