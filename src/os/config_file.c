/* The configuration file, end to end (see config_file.h): the one place
 * that reads it (file_read, capped at 4 MiB: a configuration is a few
 * kilobytes, and the cap bounds everything after), looks users up
 * (getpwnam_r, which may ask NSS over the network, so it stays out of the
 * pure schema) and MemTotal, and prints.  The YAML is os/yaml_tree.c's,
 * the rules are core/config_schema.c's. */
#include "os/config_file.h"
#include "core/config_diag.h"
#include "core/config_schema.h"
#include "core/config_tree.h"
#include "core/server_lint.h"
#include "os/files.h"
#include "os/yaml_tree.h"

#include <errno.h>
#include <fcntl.h>
#include <libproc2/meminfo.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FILE_SIZE (4u << 20)   /* refused from this size on */

/* lookup_user's default: 0, -ENOENT or -errno. */
static int getpwnam_uid(const char *name, uid_t *uid)
{
	long size = sysconf(_SC_GETPW_R_SIZE_MAX);
	struct passwd pw, *res = NULL;
	char *buf = NULL, *nb;
	int r;

	if (size <= 0)
		size = 4096;
	for (;;) {
		nb = realloc(buf, (size_t)size);
		if (!nb) {
			r = -ENOMEM;
			goto out;
		}
		buf = nb;
		r = getpwnam_r(name, &pw, buf, (size_t)size, &res);
		if (r != ERANGE || size >= (1L << 20))
			break;
		size *= 2;
	}
	if (r == 0 && res) {
		*uid = res->pw_uid;
	} else if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM) {
		r = -ENOENT;   /* not found, as getpwnam_r(3) lists the ways to say so */
	} else {
		r = -r;
	}
out:
	free(buf);
	return r;
}

int config_parse_text(const char *path, const char *text, size_t len,
		      const struct config_env *env, struct config **out, struct diag *diags)
{
	struct config_env e = { .mem_total = 0, .lookup_user = getpwnam_uid };
	struct yaml_problem after;
	struct cfg_diag diag;
	struct cfg_tree tree;
	struct config *cfg;
	int r;

	*out = NULL;
	if (env) {
		e.mem_total = env->mem_total;
		if (env->lookup_user)
			e.lookup_user = env->lookup_user;
	}
	cfg = config_new(path);
	if (!cfg) {
		diag_add(diags, "%s: error: cannot load: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	cfg_diag_init(&diag, path);
	cfg_tree_init(&tree);
	if (yaml_tree_read(text, len, &tree, &after, &diag) == 0) {
		config_schema(&tree, &e, &diag, cfg);
		yaml_problem_report(&after, &diag);
	}
	cfg_tree_free(&tree);
	r = cfg_diag_finish(&diag, diags);
	if (r < 0) {
		config_free(cfg);
		return r;
	}
	*out = cfg;
	return 0;
}

int config_load(const char *path, const struct config_env *env,
		struct config **out, struct diag *diags)
{
	const char *what;
	char *text;
	size_t len;
	int r;

	*out = NULL;
	r = file_read(AT_FDCWD, path, MAX_FILE_SIZE - 1, 0, &text, &len);
	if (r < 0) {
		what = r == -ENOMEM || r == -EISDIR || r == -EFBIG ? "cannot read" : "cannot open";
		if (r == -EFBIG)
			diag_add(diags, "%s: error: %s: larger than %u MiB, far more than a "
				 "configuration needs", path, what, MAX_FILE_SIZE >> 20);
		else
			diag_add(diags, "%s: error: %s: %s", path, what, strerror(-r));
		return r;
	}
	r = config_parse_text(path, text, len, env, out, diags);
	free(text);
	return r;
}

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

int config_check_load(const char *path, struct config **out)
{
	struct config *cfg = NULL;
	struct diag warnings = { 0 };
	int r = config_load_report(path, &cfg, NULL, 0);

	*out = NULL;
	if (r < 0)
		return r;
	/* out of memory here loses warnings only: the file is still good */
	server_lint_config(cfg, &warnings);
	for (size_t i = 0; i < warnings.n; i++)
		fprintf(stderr, "%s\n", warnings.msgs[i]);
	diag_free(&warnings);
	*out = cfg;
	return 0;
}

int config_check(const char *path)
{
	struct config *cfg = NULL;
	int r = config_check_load(path, &cfg);

	if (r < 0)
		return r;
	config_free(cfg);
	printf("configuration OK\n");
	return 0;
}
