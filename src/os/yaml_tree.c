/* YAML text into the document tree (see yaml_tree.h for the limits and why
 * the loader's document is copied, then freed).  Every message is
 * libyaml's own or the limits', at the place libyaml gives; the goldens
 * (tests/conf) hold them byte for byte. */
#include "os/yaml_tree.h"
#include "core/config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <yaml.h>

#define MAX_YAML_DEPTH    64       /* libyaml slows quadratically with depth */
#define MAX_YAML_NODES    100000   /* about 200 bytes each once loaded */

/* Where and what libyaml's error is.  False for running out of memory. */
static bool syntax_error(const yaml_parser_t *p, const char *buf, size_t len,
			 struct yaml_problem *where)
{
	size_t line = p->problem_mark.line, col = p->problem_mark.column;

	if (p->error == YAML_MEMORY_ERROR)
		return false;
	if (p->error == YAML_READER_ERROR) {   /* only an offset: count lines */
		line = col = 0;
		for (size_t i = 0; i < p->problem_offset && i < len; i++) {
			if (buf[i] == '\n') {
				line++;
				col = 0;
			} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
				col++;
			}
		}
	}
	*where = (struct yaml_problem){ true, line, col, p->problem ? p->problem : "invalid YAML" };
	return true;
}

/* A pass over the events before the document is loaded, so a hostile file
 * costs little: nesting and node counts are bounded (aliases count once
 * per reference, so "billion laughs" stays small).  Returns -E2BIG after
 * reporting a limit; syntax errors are left to the loader, which reports
 * them at the same place. */
static int prescan(const char *buf, size_t len, struct cfg_diag *diag)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	size_t depth = 0, nodes = 0;
	int r = 0;

	if (!yaml_parser_initialize(&parser)) {
		diag->oom = true;
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (r == 0 && yaml_parser_parse(&parser, &ev)) {
		yaml_event_type_t t = ev.type;
		bool opens = t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT;

		if (opens && ++depth > MAX_YAML_DEPTH) {
			cfg_diag_add(diag, ev.start_mark.line, ev.start_mark.column,
				     "nested more than %d deep", MAX_YAML_DEPTH);
			r = -E2BIG;
		} else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
			depth--;
		}
		if ((opens || t == YAML_SCALAR_EVENT || t == YAML_ALIAS_EVENT) &&
		    ++nodes > MAX_YAML_NODES && r == 0) {
			cfg_diag_add(diag, ev.start_mark.line, ev.start_mark.column,
				     "more than %d YAML nodes; a configuration needs far fewer "
				     "(at most %d watches)", MAX_YAML_NODES, CONFIG_MAX_WATCHES);
			r = -E2BIG;
		}
		yaml_event_delete(&ev);
		if (t == YAML_STREAM_END_EVENT)
			break;
	}
	if (parser.error == YAML_MEMORY_ERROR) {
		diag->oom = true;
		r = -ENOMEM;
	}
	yaml_parser_delete(&parser);
	return r;
}

/* One node of DOC into T, its items' ids through SCRATCH (room for the
 * largest collection's).  Its tree id is its document id - 1. */
static long copy_node(const yaml_node_t *n, struct cfg_tree *t, uint32_t *scratch)
{
	size_t line = n->start_mark.line, col = n->start_mark.column, k = 0;

	switch (n->type) {
	case YAML_SCALAR_NODE:
		return cfg_tree_scalar(t, line, col, (const char *)n->data.scalar.value,
				       n->data.scalar.length);
	case YAML_SEQUENCE_NODE:
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++)
			scratch[k++] = (uint32_t)(*it - 1);
		return cfg_tree_collection(t, CFG_SEQUENCE, line, col, scratch, k);
	case YAML_MAPPING_NODE:
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			scratch[k++] = (uint32_t)(p->key - 1);
			scratch[k++] = (uint32_t)(p->value - 1);
		}
		return cfg_tree_collection(t, CFG_MAPPING, line, col, scratch, k);
	default:
		return -EINVAL;
	}
}

/* DOC into T (sealed): 0, or -ENOMEM.  (The tree's own limits are far past
 * what prescan() lets through, so -E2BIG cannot come from here.) */
static int copy_document(const yaml_document_t *doc, struct cfg_tree *t)
{
	size_t most = 0;
	uint32_t *scratch;
	long r = 0;

	for (const yaml_node_t *n = doc->nodes.start; n < doc->nodes.top; n++) {
		size_t k = n->type == YAML_SEQUENCE_NODE ?
			(size_t)(n->data.sequence.items.top - n->data.sequence.items.start) :
			n->type == YAML_MAPPING_NODE ?
			2 * (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start) : 0;

		if (k > most)
			most = k;
	}
	scratch = malloc((most ? most : 1) * sizeof(*scratch));
	if (!scratch)
		return -ENOMEM;
	for (const yaml_node_t *n = doc->nodes.start; r >= 0 && n < doc->nodes.top; n++)
		r = copy_node(n, t, scratch);
	free(scratch);
	if (r >= 0)
		r = cfg_tree_seal(t, doc->nodes.top > doc->nodes.start ? 0 : -1);
	if (r < 0)
		cfg_tree_free(t);
	return r < 0 ? -ENOMEM : 0;
}

/* After the first document: a second one, or a syntax error, is refused. */
static void read_rest(yaml_parser_t *parser, const char *text, size_t len,
		      struct yaml_problem *rest, struct cfg_diag *diag)
{
	yaml_document_t next;
	yaml_node_t *root;

	if (!yaml_parser_load(parser, &next)) {
		if (!syntax_error(parser, text, len, rest))
			diag->oom = true;
		return;
	}
	root = yaml_document_get_root_node(&next);
	if (root)
		*rest = (struct yaml_problem){ true, root->start_mark.line, root->start_mark.column,
					    "only one YAML document is allowed" };
	yaml_document_delete(&next);
}

int yaml_tree_read(const char *text, size_t len, struct cfg_tree *t,
		   struct yaml_problem *after, struct cfg_diag *diag)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct yaml_problem first;
	int r;

	*after = (struct yaml_problem){ 0 };
	r = prescan(text, len, diag);
	if (r < 0)
		return r;
	if (!yaml_parser_initialize(&parser)) {
		diag->oom = true;
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		r = syntax_error(&parser, text, len, &first) ? -EINVAL : -ENOMEM;
		if (r == -EINVAL)
			yaml_problem_report(&first, diag);
		else
			diag->oom = true;
		goto out;
	}
	r = copy_document(&doc, t);
	yaml_document_delete(&doc);
	if (r < 0) {
		diag->oom = true;
		goto out;
	}
	if (cfg_tree_root(t))
		read_rest(&parser, text, len, after, diag);
out:
	yaml_parser_delete(&parser);
	return r;
}

void yaml_problem_report(const struct yaml_problem *p, struct cfg_diag *diag)
{
	if (p->set)
		cfg_diag_add(diag, p->line, p->column, "%s", p->msg);
}
