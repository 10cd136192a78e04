/* /proc/PID/maps text: every line through maps_next (its path within the
 * line), every path's basename through python_version_from_name, and the
 * runtime pick with the first line as the exe link's target and the rest
 * as maps; the pick's paths must be terminated and its kind consistent. */
#include <errno.h>

#include "fuzz_proc.h"
#include "core/maps_parse.h"

static struct maps_runtime rt;   /* 8 KiB: off the stack */

static void lines(const char *text, size_t len)
{
	struct maps_entry m;
	size_t pos = 0, last = 0;
	int r, major, minor;

	while ((r = maps_next(text, len, &pos, &m)) != 0) {
		if (pos <= last && len)
			abort();    /* no progress */
		last = pos;
		if (r < 0)
			continue;
		if (m.path_len && (m.path < text || m.path + m.path_len > text + len))
			abort();
		if (m.start >= m.end)
			abort();
		if (m.path_len) {
			const char *b = memrchr(m.path, '/', m.path_len);
			size_t off = b ? (size_t)(b + 1 - m.path) : 0;

			if (python_version_from_name(m.path + off, m.path_len - off, &major, &minor) == 0 &&
			    (major < 0 || minor < 0))
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), *nl, *maps;
	size_t len;

	if (!s)
		return 0;
	nl = memchr(s, '\n', size);
	if (nl)
		*nl = '\0';
	/* the maps text in an exact-size copy, not terminated, as ASan must see it */
	len = nl ? size - (size_t)(nl + 1 - s) : size;
	maps = malloc(len ? len : 1);
	if (!maps) {
		free(s);
		return 0;
	}
	memcpy(maps, data + (size - len), len);
	lines(maps, len);
	if (maps_pick_runtime(maps, len, nl ? s : NULL, &rt) == 0) {
		if (memchr(rt.path, '\0', sizeof(rt.path)) == NULL || memchr(rt.other, '\0', sizeof(rt.other)) == NULL)
			abort();
		if ((rt.kind == PY_NAME_NONE) != (rt.path[0] == '\0') || rt.libraries > 2)
			abort();
		if (rt.kind == PY_NAME_LIBRARY && rt.libraries == 0)
			abort();
	}
	free(maps);
	free(s);
	return 0;
}
