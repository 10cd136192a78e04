/* YAML text into the configuration's document tree (core/config_tree.h),
 * with libyaml, the one part of the configuration that knows YAML.
 *
 * A hostile file must cost little: a pass over libyaml's events bounds the
 * nesting (64) and the nodes (100,000, an alias counted at every use, so
 * "billion laughs" stays small) before anything is loaded.  The first
 * document is then loaded with libyaml's loader (which resolves aliases,
 * and reports undefined ones, the way YAML says) and copied into the
 * compact tree; libyaml's document, some 200 bytes a node, is freed before
 * the schema runs.  Building the tree straight from the events would save
 * that copy, but would mean redoing libyaml's alias resolution and its
 * composer's errors ("found undefined alias", ...) to the byte.  What follows the first document is read only to be
 * refused ("only one YAML document is allowed", or its syntax error). */
#ifndef LEAKWATCH_YAML_TREE_H
#define LEAKWATCH_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config_diag.h"
#include "core/config_tree.h"

/* A problem found but not yet reported. */
struct yaml_problem {
	bool set;
	size_t line, column;   /* 0-based */
	const char *msg;       /* static: libyaml's or ours */
};

/* TEXT (LEN bytes) into T (initialised; sealed here).  Returns 0 with T
 * holding the first document (or nothing, when TEXT has none) and in
 * *after the problem with what follows it (a second document or a syntax
 * error), for the caller to report after the schema's findings: the
 * first CFG_MAX_ERRORS found are the ones kept.  Or -E2BIG (a limit),
 * -EINVAL (a syntax error in the first document) or -ENOMEM, each already
 * added to DIAG, with T empty. */
int yaml_tree_read(const char *text, size_t len, struct cfg_tree *t,
		   struct yaml_problem *after, struct cfg_diag *diag);

/* Add P, if set, to DIAG. */
void yaml_problem_report(const struct yaml_problem *p, struct cfg_diag *diag);

#endif
