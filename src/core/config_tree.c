/* The document tree's builder and accessors (see config_tree.h for why a
 * tree of our own and why ids).  Arrays grow by doubling, bounded by
 * CFG_TREE_MAX_NODES and CFG_TREE_MAX_TEXT so that even a reader without
 * limits of its own cannot make one grow without end. */
#include "core/config_tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void cfg_tree_init(struct cfg_tree *t)
{
	memset(t, 0, sizeof(*t));
	t->root = -1;
}

void cfg_tree_free(struct cfg_tree *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->items);
	free(t->text);
	cfg_tree_init(t);
}

/* ARR (of *cap elements of SIZE bytes) with room for MORE past LEN, at
 * most MAX in all: the array, moved or not, with *err 0; on failure ARR
 * unchanged with *err -E2BIG or -ENOMEM. */
static void *grow(void *arr, size_t *cap, size_t len, size_t more, size_t size, size_t max,
		  int *err)
{
	size_t want = *cap ? *cap : 64;
	void *p;

	*err = 0;
	if (more > max || len > max - more) {
		*err = -E2BIG;
		return arr;
	}
	if (len + more <= *cap)
		return arr;
	while (want < len + more)
		want *= 2;
	if (want > max)
		want = max;
	p = realloc(arr, want * size);
	if (!p) {
		*err = -ENOMEM;
		return arr;
	}
	*cap = want;
	return p;
}

static long add_node(struct cfg_tree *t, enum cfg_kind kind, size_t line, size_t column,
		     size_t first, size_t count)
{
	int r;

	if (line > UINT32_MAX || column > UINT32_MAX)
		return -E2BIG;
	t->nodes = grow(t->nodes, &t->nodes_cap, t->n_nodes, 1, sizeof(*t->nodes),
			CFG_TREE_MAX_NODES, &r);
	if (r < 0)
		return r;
	t->sealed = false;
	t->nodes[t->n_nodes] = (struct cfg_node){
		.line = (uint32_t)line, .column = (uint32_t)column,
		.first = (uint32_t)first, .count = (uint32_t)count, .kind = (uint8_t)kind,
	};
	return (long)t->n_nodes++;
}

long cfg_tree_scalar(struct cfg_tree *t, size_t line, size_t column,
		     const char *text, size_t len)
{
	size_t at = t->text_len;
	long id;
	int r;

	if (len >= CFG_TREE_MAX_TEXT)
		return -E2BIG;
	t->text = grow(t->text, &t->text_cap, t->text_len, len + 1, 1, CFG_TREE_MAX_TEXT, &r);
	if (r < 0)
		return r;
	id = add_node(t, CFG_SCALAR, line, column, at, len);
	if (id < 0)
		return id;
	if (len)
		memcpy(t->text + at, text, len);
	t->text[at + len] = '\0';
	t->text_len += len + 1;
	return id;
}

long cfg_tree_collection(struct cfg_tree *t, enum cfg_kind kind, size_t line, size_t column,
			 const uint32_t *ids, size_t n_ids)
{
	size_t at = t->n_items;
	long id;
	int r;

	if ((kind != CFG_SEQUENCE && kind != CFG_MAPPING) || (kind == CFG_MAPPING && n_ids % 2))
		return -EINVAL;
	/* items are bounded like nodes: each is a node or a use of an alias */
	t->items = grow(t->items, &t->items_cap, t->n_items, n_ids, sizeof(*t->items),
			2 * (size_t)CFG_TREE_MAX_NODES, &r);
	if (r < 0)
		return r;
	id = add_node(t, kind, line, column, at, kind == CFG_MAPPING ? n_ids / 2 : n_ids);
	if (id < 0)
		return id;
	if (n_ids)
		memcpy(t->items + at, ids, n_ids * sizeof(*ids));
	t->n_items += n_ids;
	return id;
}

int cfg_tree_seal(struct cfg_tree *t, long root)
{
	if (root < -1 || (root >= 0 && (size_t)root >= t->n_nodes))
		return -EINVAL;
	for (size_t i = 0; i < t->n_items; i++)
		if (t->items[i] >= t->n_nodes)
			return -EINVAL;
	t->root = root;
	t->sealed = true;
	return 0;
}

const struct cfg_node *cfg_tree_root(const struct cfg_tree *t)
{
	return t->sealed && t->root >= 0 ? &t->nodes[t->root] : NULL;
}

const struct cfg_node *cfg_tree_item(const struct cfg_tree *t, const struct cfg_node *n, size_t i)
{
	if (!n || n->kind != CFG_SEQUENCE || i >= n->count)
		return NULL;
	return &t->nodes[t->items[n->first + i]];
}

const struct cfg_node *cfg_tree_key(const struct cfg_tree *t, const struct cfg_node *n, size_t i)
{
	if (!n || n->kind != CFG_MAPPING || i >= n->count)
		return NULL;
	return &t->nodes[t->items[n->first + 2 * i]];
}

const struct cfg_node *cfg_tree_value(const struct cfg_tree *t, const struct cfg_node *n, size_t i)
{
	if (!n || n->kind != CFG_MAPPING || i >= n->count)
		return NULL;
	return &t->nodes[t->items[n->first + 2 * i + 1]];
}

const char *cfg_tree_text(const struct cfg_tree *t, const struct cfg_node *n)
{
	return n && n->kind == CFG_SCALAR ? t->text + n->first : NULL;
}
