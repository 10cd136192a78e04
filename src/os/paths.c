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
