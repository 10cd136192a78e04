/* The NUL-terminated /proc texts: status (real uid), cgroup (unit),
 * cmdline (joined in place), loadavg (last pid), a directory name (pid),
 * an exe path (Python?), mountinfo (hidepid=, gid=), CapEff: of status;
 * and, on the raw bytes (NULs inside), a process title, which must come
 * out one line of printable UTF-8 under PROC_TITLE_SIZE. */
#include <sys/types.h>

#include "fuzz_proc.h"
#include "core/cgroup_unit.h"
#include "core/buf.h"
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
	n = proc_join_cmdline(s, size);
	if (n > size)
		abort();
	free(s);
	return 0;
}
