/* The configuration file: read it, turn its YAML into a tree
 * (os/yaml_tree.h), check that against the schema (core/config_schema.h),
 * and report the result the way both programs do (every diagnostic on
 * stderr; MemTotal, for "N%" limits, from libproc2). */
#ifndef LEAKWATCH_CONFIG_FILE_H
#define LEAKWATCH_CONFIG_FILE_H

#include <stddef.h>

#include "core/config.h"

#define DEFAULT_CONFIG "/etc/leakwatch/leakwatch.yaml"

/* Parse and validate PATH.  Returns 0 and *out, or a negative errno:
 * -EINVAL when the file has errors (all of them in *diags), or the errno of
 * opening/reading the file (also described in *diags as "FILE: error: ..."),
 * -EFBIG for a file of 4 MiB or more.  env may be NULL; a NULL lookup_user
 * is getpwnam_r(3). */
int config_load(const char *path, const struct config_env *env,
		struct config **out, struct diag *diags);

/* The same for TEXT (LEN bytes, NUL-terminated or not) already in memory,
 * PATH only naming it in the diagnostics and the config: 0, -EINVAL or
 * -ENOMEM. */
int config_parse_text(const char *path, const char *text, size_t len,
		      const struct config_env *env, struct config **out, struct diag *diags);

/* MemTotal in bytes; 0 when unknown. */
unsigned long long mem_total(void);

/* Load PATH, printing each diagnostic to stderr.  When summary is given,
 * the first diagnostics also go there, joined by "; " as room allows. */
int config_load_report(const char *path, struct config **out, char *summary, size_t len);

/* config_check()'s first half: load path (its diagnostics on stderr, as
 * config_load_report), then the warnings of core/server_lint.h on stderr.
 * 0 with the configuration in *out (config_free() it), or the load's
 * negative errno with *out NULL. */
int config_check_load(const char *path, struct config **out);

/* leakwatchd -t and leakwatchctl check-config: 0 ("configuration OK" on
 * stdout, after the warnings of core/server_lint.h on stderr as
 * "FILE:LINE:COLUMN: warning: MESSAGE") or the load's negative errno. */
int config_check(const char *path);

#endif
