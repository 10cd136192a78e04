/* The runtime and state directories (see paths.h).
 *
 * leakwatchd and leakwatchctl must find the same control socket.  Under
 * systemd the daemon is told its directories in $RUNTIME_DIRECTORY and
 * $STATE_DIRECTORY (leakwatchd.service sets RuntimeDirectory=leakwatch and
 * StateDirectory=leakwatch); leakwatchctl, run from a shell, has neither
 * and falls back to the same defaults, /run/leakwatch and
 * /var/lib/leakwatch.  A hard-coded path would ignore a unit that moves
 * them; the variables alone would leave leakwatchctl without a path.
 * systemd joins several directories with ':', and the first is ours; an
 * empty or relative value is ignored for the default.  The state directory
 * is only a default: state_dir: in the configuration wins
 * (daemon/persist.c). */
#include "os/paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* systemd joins several directories with ':'; ours is the first. */
static int first_dir(const char *env, const char *fallback, char *out, size_t len)
{
	const char *v = getenv(env);
	size_t n;

	if (!v || !*v || *v != '/')
		v = fallback;
	n = strcspn(v, ":");
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

int runtime_dir(char *out, size_t len)
{
	return first_dir("RUNTIME_DIRECTORY", DEFAULT_RUNTIME_DIR, out, len);
}

int default_state_dir(char *out, size_t len)
{
	return first_dir("STATE_DIRECTORY", DEFAULT_STATE_DIR, out, len);
}

int inspect_script_path(char *out, size_t len)
{
	const char *v = getenv("LEAKWATCH_INSPECT_SCRIPT");

	if (!v || v[0] != '/')
		v = INSPECT_SCRIPT;
	if (strlen(v) >= len)
		return -ENAMETOOLONG;
	memcpy(out, v, strlen(v) + 1);
	return 0;
}
