/* The schema of the configuration: a document tree (config_tree.h) checked
 * against every key, type, unit and range of leakwatch.yaml(5)
 * and turned into struct config.
 *
 * It walks a tree, not YAML text, so that the core builds and links
 * without libyaml, and reads nothing itself: MemTotal and the user lookup
 * come in through struct config_env.  The YAML side is os/yaml_tree.c, the
 * file side os/config_file.c. */
#ifndef LEAKWATCH_CONFIG_SCHEMA_H
#define LEAKWATCH_CONFIG_SCHEMA_H

#include "core/config.h"
#include "core/config_diag.h"
#include "core/config_tree.h"

/* Fill CFG (from config_new) from the sealed TREE; an empty tree (no
 * document) is "no watches defined".  Every problem is added to DIAG, and
 * CFG is only good when cfg_diag_finish() then returns 0.  ENV may be NULL
 * (no MemTotal, no user known). */
void config_schema(const struct cfg_tree *tree, const struct config_env *env,
		   struct cfg_diag *diag, struct config *cfg);

#endif
