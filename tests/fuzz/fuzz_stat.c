/* /proc/PID/stat and statm text: proc_parse_stat, proc_stat_is_thread,
 * proc_parse_statm, proc_parse_smaps_rollup, on exactly the bytes given (not NUL-terminated). */
#include "fuzz_proc.h"
#include "core/proc_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_stat st;
	long pages;
	struct proc_smaps sm;
	/* an exact-size copy, so that ASan sees any read past the end */
	char *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (proc_parse_stat(buf, size, &st) == 0 && st.comm[sizeof(st.comm) - 1] != '\0')
		abort();   /* comm must stay terminated */
	(void)proc_stat_is_thread(buf, size);
	(void)proc_parse_statm(buf, size, &pages);
	if (proc_parse_smaps_rollup(buf, size, &sm) == 0 && (!(sm.uss >= 0) || !(sm.pss >= 0)))
		abort();   /* amounts, never negative nor NaN */
	free(buf);
	return 0;
}
