/* The NUL-terminated /proc texts: status (real uid), cgroup (unit),
 * cmdline (joined in place), loadavg (last pid), a directory name (pid),
 * an exe path (Python?), mountinfo (hidepid=, gid=; the cgroup mounts),
 * CapEff: of status; a process's own limits (limits, a cgroup's path to
 * walk, a cgroup limit file); and, on the raw bytes (NULs inside), a process title, which must come
 * out one line of printable UTF-8 under PROC_TITLE_SIZE. */
#include <sys/types.h>

#include "fuzz_proc.h"
#include "core/cgroup_unit.h"
#include "core/buf.h"
#include "core/limits_parse.h"
#include "core/proc_parse.h"
#include "core/proc_title.h"

static void check_title(const uint8_t *data, size_t size)
{
	char *raw = malloc(size + 1), out[PROC_TITLE_SIZE];
	size_t n;

	if (!raw)
		return;
	memcpy(raw, data, size);
	raw[size] = '\0';
	n = proc_title(raw, size, out);
	if (n >= PROC_TITLE_SIZE || strlen(out) != n)
		abort();
	for (size_t i = 0; i < n; ) {
		size_t c = utf8_char_len(out + i);
		unsigned char b = (unsigned char)out[i];

		if (c == 0 || b < 0x20 || b == 0x7f || b == '"' || (c == 2 && b == 0xc2 && (unsigned char)out[i + 1] < 0xa0))
			abort();
		i += c;
	}
	free(raw);
}

/* A path to walk is absolute and has no "", "." or ".." component; the
 * mount points are strings within their arrays. */
static void check_own_limits(const char *s)
{
	static struct cgroup_mounts m;
	const char *p;
	size_t len;
	double v;

	if (limits_parse_nofile(s, &v) == 0 && v < -1)
		abort();
	if (cgroup_parse_limit(s, &v) == 0 && v < -1)
		abort();
	for (int i = 0; i < 2; i++) {
		if (cgroup_parse_path(s, i ? "pids" : NULL, &p, &len) != 0)
			continue;
		if (len == 0 || p[0] != '/' || p < s || p + len > s + strlen(s) || memchr(p, '\n', len) ||
		    (len > 1 && (p[len - 1] == '/' || memmem(p, len, "//", 2))))
			abort();
	}
	cgroup_parse_mounts(s, &m);
	if (strnlen(m.unified, sizeof(m.unified)) == sizeof(m.unified) ||
	    strnlen(m.pids, sizeof(m.pids)) == sizeof(m.pids) || strnlen(m.memory, sizeof(m.memory)) == sizeof(m.memory))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct cgroup_unit unit;
	uid_t uid;
	struct proc_mount pm;
	uint64_t caps;
	long pid;
	size_t n;

	check_title(data, size);
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
	check_own_limits(s);
	n = proc_join_cmdline(s, size);
	if (n > size)
		abort();
	free(s);
	return 0;
}
