/* Unit tests of the configuration's document tree: the builder and its
 * checks (core/config_tree.c), YAML into the tree with its places, limits
 * and trailing documents (os/yaml_tree.c), and the schema fed a tree built
 * by hand, with no YAML at all (core/config_schema.c). */
#include "core/config_diag.h"
#include "core/config_schema.h"
#include "core/config_tree.h"
#include "os/yaml_tree.h"

#include <errno.h>
#include <stdlib.h>

#include "check.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The tree below N as text: S@L:C'text', L@L:C[...], M@L:C{k=v, ...}
 * (places 1-based), DEPTH levels at most. */
static void dump(const struct cfg_tree *t, const struct cfg_node *n, char *buf, size_t len,
		 size_t *o, int depth)
{
	const char *open = n->kind == CFG_MAPPING ? "{" : "[";

	if (*o >= len)
		return;
	*o += (size_t)snprintf(buf + *o, len - *o, "%c@%u:%u",
			       n->kind == CFG_SCALAR ? 'S' : n->kind == CFG_MAPPING ? 'M' : 'L',
			       n->line + 1, n->column + 1);
	if (*o >= len)
		return;
	if (n->kind == CFG_SCALAR) {
		*o += (size_t)snprintf(buf + *o, len - *o, "'%s'", cfg_tree_text(t, n));
		return;
	}
	*o += (size_t)snprintf(buf + *o, len - *o, "%s", depth ? open : "...");
	for (size_t i = 0; depth && i < n->count && *o < len; i++) {
		if (i)
			*o += (size_t)snprintf(buf + *o, len - *o, ", ");
		if (n->kind == CFG_SEQUENCE) {
			dump(t, cfg_tree_item(t, n, i), buf, len, o, depth - 1);
			continue;
		}
		dump(t, cfg_tree_key(t, n, i), buf, len, o, depth - 1);
		if (*o < len)
			*o += (size_t)snprintf(buf + *o, len - *o, "=");
		dump(t, cfg_tree_value(t, n, i), buf, len, o, depth - 1);
	}
	if (depth && *o < len)
		*o += (size_t)snprintf(buf + *o, len - *o, "%s", n->kind == CFG_MAPPING ? "}" : "]");
}

static void test_builder(void)
{
	struct cfg_tree t;
	uint32_t ids[4];
	long a, b, m;
	char buf[256];
	size_t o = 0;

	cfg_tree_init(&t);
	CHECK(cfg_tree_root(&t) == NULL);          /* not sealed */
	ids[0] = 1, ids[1] = 2, ids[2] = 1, ids[3] = 2;
	m = cfg_tree_collection(&t, CFG_MAPPING, 0, 0, ids, 4);   /* children come later */
	a = cfg_tree_scalar(&t, 0, 0, "key", 3);
	b = cfg_tree_scalar(&t, 0, 5, "v\0w", 3);
	CHECK(m == 0 && a == 1 && b == 2);
	CHECK(cfg_tree_collection(&t, CFG_MAPPING, 0, 0, ids, 3) == -EINVAL);   /* odd */
	CHECK(cfg_tree_collection(&t, CFG_SCALAR, 0, 0, ids, 2) == -EINVAL);
	CHECK(cfg_tree_seal(&t, 3) == -EINVAL);     /* no node 3 */
	CHECK(cfg_tree_seal(&t, -2) == -EINVAL);
	CHECK(cfg_tree_seal(&t, m) == 0);
	CHECK(cfg_tree_root(&t) == &t.nodes[0]);
	dump(&t, cfg_tree_root(&t), buf, sizeof(buf), &o, 4);
	CHECK_STR(buf, "M@1:1{S@1:1'key'=S@1:6'v', S@1:1'key'=S@1:6'v'}");
	/* the same node under both keys; its text holds a NUL */
	CHECK(cfg_tree_value(&t, &t.nodes[0], 0) == cfg_tree_value(&t, &t.nodes[0], 1));
	CHECK(t.nodes[2].count == 3 && memcmp(cfg_tree_text(&t, &t.nodes[2]), "v\0w", 4) == 0);
	/* accessors refuse the wrong kind or index */
	CHECK(cfg_tree_item(&t, &t.nodes[0], 0) == NULL);
	CHECK(cfg_tree_key(&t, &t.nodes[0], 2) == NULL);
	CHECK(cfg_tree_value(&t, NULL, 0) == NULL);
	CHECK(cfg_tree_text(&t, &t.nodes[0]) == NULL);
	/* a dangling id is caught at sealing, whatever was sealed before */
	ids[0] = 99;
	CHECK(cfg_tree_collection(&t, CFG_SEQUENCE, 1, 0, ids, 1) == 3);
	CHECK(cfg_tree_root(&t) == NULL);           /* unsealed again */
	CHECK(cfg_tree_seal(&t, 0) == -EINVAL);
	CHECK(cfg_tree_scalar(&t, 1ull << 32, 0, "x", 1) == -E2BIG);
	cfg_tree_free(&t);
	CHECK(t.nodes == NULL && t.n_nodes == 0 && t.root == -1);
	cfg_tree_free(NULL);

	cfg_tree_init(&t);                           /* the empty tree */
	CHECK(cfg_tree_seal(&t, -1) == 0 && cfg_tree_root(&t) == NULL);
	cfg_tree_free(&t);
}

/* YAML text, and the tree or the diagnostics it must give. */
struct yaml_case {
	const char *text;
	int ret;
	const char *tree;      /* dump of the root, 6 levels; "" for none */
	const char *diag;      /* the first diagnostic, or the one after the document */
};

static const struct yaml_case yaml_cases[] = {
	{ "", 0, "", NULL },
	{ "# only a comment\n", 0, "", NULL },
	{ "a: 1\n", 0, "M@1:1{S@1:1'a'=S@1:4'1'}", NULL },
	{ "a:\n  - x\n  - 'y z'\n  -\n", 0, "M@1:1{S@1:1'a'=L@2:3[S@2:5'x', S@3:5'y z', S@4:4'']}", NULL },
	{ "{ k: [1, {b: c}] }\n", 0, "M@1:1{S@1:3'k'=L@1:6[S@1:7'1', M@1:10{S@1:11'b'=S@1:14'c'}]}", NULL },
	{ "x: &a [1]\ny: *a\n", 0, "M@1:1{S@1:1'x'=L@1:4[S@1:8'1'], S@2:1'y'=L@1:4[S@1:8'1']}", NULL },
	{ "s: \"t\\tu\"\n", 0, "M@1:1{S@1:1's'=S@1:4't\tu'}", NULL },
	{ "---\n", 0, "S@2:1''", NULL },
	{ "a: 1\n---\nb: 2\n", 0, "M@1:1{S@1:1'a'=S@1:4'1'}", "3:1: only one YAML document is allowed" },
	{ "a: 1\n---\nb: c: d\n", 0, "M@1:1{S@1:1'a'=S@1:4'1'}", "3:5: mapping values are not allowed in this context" },
	{ "a: b: c\n", -EINVAL, "", "1:5: mapping values are not allowed in this context" },
	{ "x: *nope\n", -EINVAL, "", "1:4: found undefined alias" },
	{ "a: \xc3\x28\n", -EINVAL, "", "1:5: invalid trailing UTF-8 octet" },
};

static void test_yaml(void)
{
	for (size_t i = 0; i < N(yaml_cases); i++) {
		const struct yaml_case *c = &yaml_cases[i];
		struct yaml_problem after;
		struct cfg_diag d;
		struct cfg_tree t;
		char buf[512] = "", got[256] = "";
		size_t o = 0;
		int r;

		cfg_diag_init(&d, "f");
		cfg_tree_init(&t);
		r = yaml_tree_read(c->text, strlen(c->text), &t, &after, &d);
		CHECK_MSG(r == c->ret, "case %zu: %d", i, r);
		if (cfg_tree_root(&t))
			dump(&t, cfg_tree_root(&t), buf, sizeof(buf), &o, 6);
		CHECK_STR(buf, c->tree);
		if (r == 0)
			yaml_problem_report(&after, &d);
		CHECK_MSG(d.n_errs == (c->diag ? 1u : 0u), "case %zu: %zu errors", i, d.n_errs);
		if (d.n_errs)
			snprintf(got, sizeof(got), "%zu:%zu: %s", d.errs[0].line + 1, d.errs[0].column + 1,
				 d.errs[0].msg);
		if (c->diag)
			CHECK_STR(got, c->diag);
		cfg_diag_free(&d);
		cfg_tree_free(&t);
	}
}

/* TEXT made of PREFIX, then N times UNIT, then SUFFIX. */
static char *repeat(const char *prefix, const char *unit, size_t n, const char *suffix)
{
	size_t lp = strlen(prefix), lu = strlen(unit), ls = strlen(suffix);
	char *s = malloc(lp + n * lu + ls + 1), *p = s;

	if (!s)
		return NULL;
	memcpy(p, prefix, lp);
	p += lp;
	for (size_t i = 0; i < n; i++, p += lu)
		memcpy(p, unit, lu);
	memcpy(p, suffix, ls + 1);
	return s;
}

/* The limits of the pre-pass: depth 64, 100,000 nodes counting each use
 * of an alias, each at the place it is passed. */
static void test_limits(void)
{
	static const struct {
		const char *prefix, *unit;
		size_t n;
		const char *suffix;
		int ret;
		const char *diag;
	} cases[] = {
		{ "", "[", 64, "", -EINVAL, NULL },   /* 64 deep: a syntax error, no limit */
		{ "", "[", 65, "", -E2BIG, "1:65: nested more than 64 deep" },
		/* 6 nodes and 99,994 uses of the alias: the most there may be */
		{ "a: &a x\nb: [", "*a, ", 99994, "x]\n", 0, NULL },
		{ "a: &a x\nb: [", "*a, ", 99995, "x]\n", -E2BIG,
		  "2:399985: more than 100000 YAML nodes; a configuration needs far fewer (at most 1000 watches)" },
	};

	for (size_t i = 0; i < N(cases); i++) {
		char *text = repeat(cases[i].prefix, cases[i].unit, cases[i].n, cases[i].suffix);
		struct yaml_problem after;
		struct cfg_diag d;
		struct cfg_tree t;
		char got[256] = "";
		int r;

		if (!text) {
			CHECK(text != NULL);
			continue;
		}
		cfg_diag_init(&d, "f");
		cfg_tree_init(&t);
		r = yaml_tree_read(text, strlen(text), &t, &after, &d);
		CHECK_MSG(r == cases[i].ret, "case %zu: %d", i, r);
		if (d.n_errs)
			snprintf(got, sizeof(got), "%zu:%zu: %s", d.errs[0].line + 1, d.errs[0].column + 1,
				 d.errs[0].msg);
		if (cases[i].diag)
			CHECK_STR(got, cases[i].diag);
		if (r == 0)   /* the aliases are items naming one node, not copies */
			CHECK(t.n_nodes == 6 && t.n_items == 4 + 99995);
		cfg_diag_free(&d);
		cfg_tree_free(&t);
		free(text);
	}
}

/* The schema on a tree made by hand: pure core, its places as given. */
static void test_schema_by_hand(void)
{
	struct cfg_tree t;
	struct cfg_diag d;
	struct diag out = { 0 };
	struct config *cfg = config_new("hand.yaml");
	/* 0 {watches: 1 [2 {name: a, match: 5 {comm: 7}}], interval: 9} */
	const uint32_t root[] = { 10, 1, 11, 9 }, list[] = { 2 }, watch[] = { 3, 4, 6, 5 },
		       match[] = { 12, 7 };
	int r;

	cfg_tree_init(&t);
	cfg_diag_init(&d, "hand.yaml");
	CHECK(cfg != NULL);
	if (!cfg)
		return;
	cfg_tree_collection(&t, CFG_MAPPING, 0, 0, root, N(root));
	cfg_tree_collection(&t, CFG_SEQUENCE, 1, 2, list, N(list));
	cfg_tree_collection(&t, CFG_MAPPING, 1, 4, watch, N(watch));
	cfg_tree_scalar(&t, 1, 4, "name", 4);
	cfg_tree_scalar(&t, 1, 10, "a", 1);
	cfg_tree_collection(&t, CFG_MAPPING, 2, 11, match, N(match));
	cfg_tree_scalar(&t, 2, 4, "match", 5);
	cfg_tree_scalar(&t, 2, 19, "x*", 2);
	cfg_tree_scalar(&t, 0, 0, "unused", 6);
	cfg_tree_scalar(&t, 7, 10, "5", 1);           /* 9: a duration without a unit */
	cfg_tree_scalar(&t, 0, 0, "watches", 7);
	cfg_tree_scalar(&t, 7, 0, "interval", 8);
	CHECK(cfg_tree_scalar(&t, 2, 13, "comm", 4) == 12);
	CHECK(cfg_tree_seal(&t, 0) == 0);
	config_schema(&t, NULL, &d, cfg);
	r = cfg_diag_finish(&d, &out);
	CHECK(r == -EINVAL && out.n == 1);
	if (out.n == 1)
		CHECK_STR(out.msgs[0], "hand.yaml:8:11: error: 'interval' must be a duration like "
			  "5s or 250ms, not '5' (a unit is required)");
	CHECK(cfg->n_watches == 1 && cfg->watches[0].name && strcmp(cfg->watches[0].name, "a") == 0);
	CHECK(cfg->n_watches == 1 && cfg->watches[0].match.comm &&
	      strcmp(cfg->watches[0].match.comm, "x*") == 0);
	diag_free(&out);
	config_free(cfg);
	cfg_tree_free(&t);

	/* the empty tree: "no watches defined" at 1:1 */
	cfg = config_new("e");
	cfg_tree_init(&t);
	cfg_diag_init(&d, "e");
	CHECK(cfg_tree_seal(&t, -1) == 0);
	if (cfg)
		config_schema(&t, NULL, &d, cfg);
	CHECK(cfg_diag_finish(&d, &out) == -EINVAL && out.n == 1);
	if (out.n == 1)
		CHECK_STR(out.msgs[0], "e:1:1: error: no watches defined");
	diag_free(&out);
	config_free(cfg);
}

/* The collection: sorted by place, ties in the order found, an alias's
 * repeats said once, at most CFG_MAX_ERRORS kept. */
static void test_diag(void)
{
	struct cfg_diag d;
	struct diag out = { 0 };

	cfg_diag_init(&d, "p");
	CHECK(cfg_diag_finish(&d, &out) == 0 && out.n == 0);
	cfg_diag_add(&d, 3, 0, "third");
	cfg_diag_add(&d, 0, 4, "first %d", 1);
	cfg_diag_add(&d, 0, 4, "first %d", 1);
	cfg_diag_add(&d, 0, 4, "tie");
	for (int i = 0; i < CFG_MAX_ERRORS; i++)
		cfg_diag_add(&d, 9, 0, "many %d", i);
	CHECK(cfg_diag_finish(&d, &out) == -EINVAL);
	CHECK(out.n == 3 + (CFG_MAX_ERRORS - 4) + 1);
	if (out.n > 3) {
		CHECK_STR(out.msgs[0], "p:1:5: error: first 1");
		CHECK_STR(out.msgs[1], "p:1:5: error: tie");
		CHECK_STR(out.msgs[2], "p:4:1: error: third");
		CHECK_STR(out.msgs[out.n - 1], "p: error: 4 more errors not shown");
	}
	CHECK(d.errs == NULL && d.n_errs == 0);
	diag_free(&out);

	cfg_diag_init(&d, "p");
	cfg_diag_add(&d, 0, 0, "lost");
	d.oom = true;
	CHECK(cfg_diag_finish(&d, &out) == -ENOMEM && out.n == 1);
	if (out.n == 1)
		CHECK_STR(out.msgs[0], "p: error: out of memory");
	diag_free(&out);
	cfg_diag_free(NULL);
}

int main(void)
{
	RUN(test_builder);
	RUN(test_yaml);
	RUN(test_limits);
	RUN(test_schema_by_hand);
	RUN(test_diag);
	return check_done("test_config_tree");
}
