/* The configuration: YAML bytes in, a config or diagnostics out.  The
 * whole path after the file is read (YAML text, document tree, schema),
 * handed the text the way config_load hands it on: NUL-terminated, its
 * length apart, and the server warnings of a config that loads
 * (core/server_lint.h: they read its regexes' source).  No file is
 * touched. */
#include <errno.h>
#include <stdio.h>

#include "core/config.h"
#include "core/server_lint.h"
#include "fuzz_proc.h"
#include "os/config_file.h"

/* Users without NSS, so that a run does not depend on the machine's. */
static int fake_user(const char *name, uid_t *uid)
{
	if (strcmp(name, "root") != 0)
		return -ENOENT;
	*uid = 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_env env = { .mem_total = 1ull << 34, .lookup_user = fake_user };
	struct config *cfg = NULL;
	struct diag diags = { 0 };
	char *text = fuzz_cstr(data, size);

	if (!text)
		return 0;
	if (config_parse_text("fuzz.yaml", text, size, &env, &cfg, &diags) == 0 && !cfg)
		abort();
	if (!cfg && diags.n == 0)
		abort();   /* a refusal always says why */
	if (cfg) {
		struct diag warnings = { 0 };
		int n = server_lint_config(cfg, &warnings);

		if (n >= 0 && ((size_t)n != warnings.n || (size_t)n != server_lint_count(cfg)))
			abort();
		diag_free(&warnings);
	}
	config_free(cfg);
	diag_free(&diags);
	free(text);
	return 0;
}
