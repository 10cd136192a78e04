/* The configuration's document tree: what the schema (config_schema.c)
 * reads, built by a YAML reader (os/yaml_tree.c) or by hand in the tests.
 *
 * Why a tree of our own: the schema walked libyaml's yaml_document_t, so
 * the pure core could not build or link without libyaml, and the tests of
 * the schema had to go through YAML text.  Nodes here are scalars,
 * sequences and mappings (ordered key/value pairs), each with the 0-based
 * line and column where it starts (libyaml's start_mark), which is all the
 * schema and its "FILE:LINE:COLUMN" diagnostics use: no tags, no styles
 * (nothing distinguishes a quoted scalar from a plain one).
 *
 * A node may be the child of several: a YAML alias is the node it names,
 * not a copy, so an alias bomb stays as small as it was written (copying
 * would turn "billion laughs" into a billion nodes).  The cost: walkers
 * must bound their own depth, as the schema does (8 'parent' levels).
 *
 * Compact: three growing arrays, no node allocated alone: 20 bytes a node,
 * 4 an item, the scalar text once.  A node names its children by id, not
 * by pointer, so the arrays may move while the tree is built; ids are
 * checked once, when it is sealed, and never again. */
#ifndef LEAKWATCH_CONFIG_TREE_H
#define LEAKWATCH_CONFIG_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_TREE_MAX_NODES (1u << 22)   /* far over what a reader lets through */
#define CFG_TREE_MAX_TEXT  (1u << 28)   /* bytes of scalar text, NULs included */

enum cfg_kind { CFG_SCALAR, CFG_SEQUENCE, CFG_MAPPING };

struct cfg_node {
	uint32_t line, column; /* 0-based, where the node starts */
	uint32_t first;        /* scalar: offset of its text; others: of its first item id */
	uint32_t count;        /* scalar: bytes; sequence: items; mapping: pairs */
	uint8_t kind;          /* enum cfg_kind */
};

/* Three arrays: the nodes, the item ids of the sequences and mappings
 * (key, value, key, value, ... for a mapping), the scalar texts (each
 * NUL-terminated, and possibly holding NULs of its own). */
struct cfg_tree {
	struct cfg_node *nodes;
	size_t n_nodes, nodes_cap;
	uint32_t *items;
	size_t n_items, items_cap;
	char *text;
	size_t text_len, text_cap;
	long root;             /* -1: no document at all */
	bool sealed;           /* every item id checked: the accessors are safe */
};

void cfg_tree_init(struct cfg_tree *t);
void cfg_tree_free(struct cfg_tree *t);   /* accepts NULL; leaves t empty */

/* Add a node; its id (0, 1, 2, ... in the order of adding) or -ENOMEM, or
 * -E2BIG past the limits above (or a line or column past 2^32).  The ids
 * of a sequence's or mapping's items (n_ids even for a mapping) may name
 * nodes not added yet: cfg_tree_seal() checks them. */
long cfg_tree_scalar(struct cfg_tree *t, size_t line, size_t column,
		     const char *text, size_t len);
long cfg_tree_collection(struct cfg_tree *t, enum cfg_kind kind, size_t line, size_t column,
			 const uint32_t *ids, size_t n_ids);

/* Done adding: root is a node id, or -1 for an empty tree.  0, or -EINVAL
 * when root or an item names no node. */
int cfg_tree_seal(struct cfg_tree *t, long root);

/* The accessors of a sealed tree.  NULL when there is none. */
const struct cfg_node *cfg_tree_root(const struct cfg_tree *t);
/* Item i of a sequence, key or value i of a mapping (i < n->count). */
const struct cfg_node *cfg_tree_item(const struct cfg_tree *t, const struct cfg_node *n, size_t i);
const struct cfg_node *cfg_tree_key(const struct cfg_tree *t, const struct cfg_node *n, size_t i);
const struct cfg_node *cfg_tree_value(const struct cfg_tree *t, const struct cfg_node *n, size_t i);
/* A scalar's text, NUL-terminated; n->count is its length. */
const char *cfg_tree_text(const struct cfg_tree *t, const struct cfg_node *n);

#endif
