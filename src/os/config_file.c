#include "os/config_file.h"

#include <libproc2/meminfo.h>
#include <stdio.h>
#include <string.h>

unsigned long long mem_total(void)
{
	struct meminfo_info *info = NULL;
	unsigned long long kib;

	if (procps_meminfo_new(&info) < 0)
		return 0;
	kib = MEMINFO_GET(info, MEMINFO_MEM_TOTAL, ul_int);
	procps_meminfo_unref(&info);
	return kib * 1024;
}

int config_load_report(const char *path, struct config **out, char *summary, size_t len)
{
	struct config_env env = { .mem_total = mem_total(), .lookup_user = NULL };
	struct diag diags = { 0 };
	int r = config_load(path, &env, out, &diags);
	size_t used = 0;

	for (size_t i = 0; i < diags.n; i++) {
		fprintf(stderr, "%s\n", diags.msgs[i]);
		if (summary && used + strlen(diags.msgs[i]) + 40 < len)
			used += (size_t)snprintf(summary + used, len - used, "%s%s", used ? "; " : "",
						 diags.msgs[i]);
	}
	if (summary && diags.n > 0 && used < len)
		snprintf(summary + used, len - used, " (%zu error%s)", diags.n, diags.n == 1 ? "" : "s");
	diag_free(&diags);
	return r;
}

int config_check(const char *path)
{
	struct config *cfg = NULL;
	int r = config_load_report(path, &cfg, NULL, 0);

	if (r < 0)
		return r;
	config_free(cfg);
	printf("configuration OK\n");
	return 0;
}
