/* The configuration file: YAML bytes in, a config or diagnostics out. */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/config.h"
#include "fuzz_proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_env env = { .mem_total = 1ull << 34 };
	struct config *cfg = NULL;
	struct diag diags = { 0 };
	char path[64];
	int fd = memfd_create("leakwatch.yaml", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (config_load(path, &env, &cfg, &diags) == 0 && !cfg)
			abort();
	}
	config_free(cfg);
	diag_free(&diags);
	close(fd);
	return 0;
}
