/* /proc/PID/stat and statm text: proc_parse_stat, proc_stat_is_thread,
 * proc_parse_statm, on exactly the bytes given (not NUL-terminated). */
#include "fuzz_proc.h"
#include "core/proc_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_stat st;
	long pages;
	/* an exact-size copy, so that ASan sees any read past the end */
	char *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (proc_parse_stat(buf, size, &st) == 0 && st.comm[sizeof(st.comm) - 1] != '\0')
		abort();   /* comm must stay terminated */
	(void)proc_stat_is_thread(buf, size);
	(void)proc_parse_statm(buf, size, &pages);
	free(buf);
	return 0;
}
