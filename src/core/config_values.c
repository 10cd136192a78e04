/* Diagnostics collection and the typed readers of YAML nodes used by the
 * config parser.  See config_parse.h. */
#include "core/config_values.h"
#include "core/units.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DESC_MAX_TEXT 60   /* longer values are shortened with "..." */

static void add_error(struct cfg_ctx *c, size_t line, size_t column, const char *fmt, va_list ap)
{
	struct cfg_error *errs;
	char *msg;

	if (c->n_errs >= CFG_MAX_ERRORS) {
		c->n_dropped++;
		return;
	}
	if (vasprintf(&msg, fmt, ap) < 0) {
		c->oom = true;
		return;
	}
	errs = realloc(c->errs, (c->n_errs + 1) * sizeof(*errs));
	if (!errs) {
		free(msg);
		c->oom = true;
		return;
	}
	c->errs = errs;
	c->errs[c->n_errs] = (struct cfg_error){ line, column, c->n_errs, msg };
	c->n_errs++;
}

void cfg_err(struct cfg_ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_error(c, n ? n->start_mark.line : 0, n ? n->start_mark.column : 0, fmt, ap);
	va_end(ap);
}

void cfg_err_mark(struct cfg_ctx *c, size_t line, size_t column, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_error(c, line, column, fmt, ap);
	va_end(ap);
}

void cfg_err_value(struct cfg_ctx *c, const yaml_node_t *v, const char *key, const char *what)
{
	char d[CFG_DESC_LEN];

	cfg_describe(v, d, sizeof(d));
	cfg_err(c, v, "'%s' must be %s, not %s", key, what, d);
}

static int error_cmp(const void *a, const void *b)
{
	const struct cfg_error *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->column != y->column)
		return x->column < y->column ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void free_errors(struct cfg_ctx *c)
{
	for (size_t i = 0; i < c->n_errs; i++)
		free(c->errs[i].msg);
	free(c->errs);
	c->errs = NULL;
	c->n_errs = 0;
}

static int push_diag(struct diag *d, char *msg)
{
	char **msgs;

	if (!msg)
		return -ENOMEM;
	msgs = realloc(d->msgs, (d->n + 1) * sizeof(char *));
	if (!msgs) {
		free(msg);
		return -ENOMEM;
	}
	d->msgs = msgs;
	d->msgs[d->n++] = msg;
	return 0;
}

int cfg_finish(struct cfg_ctx *c, struct diag *diags)
{
	int r = 0;

	if (c->oom) {
		char *msg;

		if (asprintf(&msg, "%s: error: out of memory", c->path) < 0)
			msg = NULL;
		push_diag(diags, msg);
		r = -ENOMEM;
		goto out;
	}
	if (c->n_errs == 0)
		goto out;
	qsort(c->errs, c->n_errs, sizeof(*c->errs), error_cmp);
	for (size_t i = 0; i < c->n_errs; i++) {
		const struct cfg_error *e = &c->errs[i], *prev = i ? e - 1 : NULL;
		char *msg;

		/* An aliased node is read once per reference: say it once. */
		if (prev && prev->line == e->line && prev->column == e->column &&
		    strcmp(prev->msg, e->msg) == 0)
			continue;
		if (asprintf(&msg, "%s:%zu:%zu: error: %s", c->path, e->line + 1,
			     e->column + 1, e->msg) < 0)
			msg = NULL;
		if (push_diag(diags, msg) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	if (c->n_dropped) {
		char *msg;

		if (asprintf(&msg, "%s: error: %zu more errors not shown", c->path, c->n_dropped) < 0)
			msg = NULL;
		if (push_diag(diags, msg) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = -EINVAL;
out:
	free_errors(c);
	return r;
}

void diag_free(struct diag *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	d->msgs = NULL;
	d->n = 0;
}

/* 'TEXT' with control characters escaped, shortened past DESC_MAX_TEXT. */
static void quote(char *buf, size_t len, const char *s, size_t n)
{
	size_t o = 0, i;

	if (len < 8) {
		if (len)
			buf[0] = '\0';
		return;
	}
	buf[o++] = '\'';
	for (i = 0; i < n && o + 8 < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (i >= DESC_MAX_TEXT && (ch & 0xc0) != 0x80)
			break;
		if (ch == '\n')
			o += (size_t)snprintf(buf + o, len - o, "\\n");
		else if (ch == '\t')
			o += (size_t)snprintf(buf + o, len - o, "\\t");
		else if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
		else
			buf[o++] = (char)ch;
	}
	if (i < n) {
		while (o > 1 && ((unsigned char)buf[o - 1] & 0xc0) == 0x80)
			o--;   /* cut before a split UTF-8 sequence */
		if (o > 1 && (unsigned char)buf[o - 1] >= 0xc0)
			o--;
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
}

void cfg_describe(const yaml_node_t *n, char *buf, size_t len)
{
	const char *s = "nothing";

	if (!n) {
		snprintf(buf, len, "%s", s);
		return;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		if (n->data.scalar.length == 0) {
			s = "empty";
			break;
		}
		quote(buf, len, (const char *)n->data.scalar.value, n->data.scalar.length);
		return;
	case YAML_MAPPING_NODE:
		s = n->data.mapping.pairs.top == n->data.mapping.pairs.start ?
			"an empty mapping" : "a mapping";
		break;
	case YAML_SEQUENCE_NODE:
		s = n->data.sequence.items.top == n->data.sequence.items.start ?
			"an empty list" : "a list";
		break;
	default:
		break;
	}
	snprintf(buf, len, "%s", s);
}

const char *cfg_scalar(const yaml_node_t *n)
{
	const char *s;

	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	s = (const char *)n->data.scalar.value;
	return strlen(s) == n->data.scalar.length ? s : NULL;   /* no embedded NUL */
}

void cfg_keys(struct cfg_ctx *c, yaml_node_t *map, const char *const *names, size_t n,
	      yaml_node_t **key, yaml_node_t **val)
{
	char d[CFG_DESC_LEN];

	for (size_t i = 0; i < n; i++)
		key[i] = val[i] = NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		const char *s = cfg_scalar(k);
		size_t i;

		if (!s) {
			cfg_describe(k, d, sizeof(d));
			cfg_err(c, k, "keys must be plain names, not %s", d);
			continue;
		}
		for (i = 0; i < n && strcmp(names[i], s) != 0; i++)
			;
		quote(d, sizeof(d), s, strlen(s));
		if (i == n) {
			cfg_err(c, k, "unknown key %s", d);
		} else if (key[i]) {
			cfg_err(c, k, "duplicate key %s", d);
		} else {
			key[i] = k;
			val[i] = yaml_document_get_node(c->doc, p->value);
		}
	}
}

char *cfg_strdup(struct cfg_ctx *c, const char *s)
{
	char *d = strdup(s);

	if (!d)
		c->oom = true;
	return d;
}

bool cfg_bool(struct cfg_ctx *c, const char *key, const yaml_node_t *v, bool *out)
{
	static const char *const words[] = { "false", "no", "off", "true", "yes", "on" };
	const char *s = cfg_scalar(v);

	for (size_t i = 0; s && i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcasecmp(s, words[i]) == 0) {
			*out = i >= 3;
			return true;
		}
	}
	cfg_err_value(c, v, key, "true or false");
	return false;
}

bool cfg_duration(struct cfg_ctx *c, const char *key, const yaml_node_t *v, uint64_t *ms)
{
	const char *s = cfg_scalar(v);
	char d[CFG_DESC_LEN];
	int r = s ? parse_duration(s, ms) : -EINVAL;

	if (r == 0)
		return true;
	cfg_describe(v, d, sizeof(d));
	if (r == -ERANGE)
		cfg_err(c, v, "'%s' value %s is too large", key, d);
	else if (s && *s && strspn(s, "0123456789.") == strlen(s))
		cfg_err(c, v, "'%s' must be a duration like 5s or 250ms, not %s (a unit is required)",
			key, d);
	else
		cfg_err_value(c, v, key, "a duration like 5s or 250ms");
	return false;
}

char *cfg_abs_path(struct cfg_ctx *c, const char *key, const yaml_node_t *v)
{
	const char *s = cfg_scalar(v);

	if (!s || s[0] != '/') {
		cfg_err_value(c, v, key, "an absolute path");
		return NULL;
	}
	return cfg_strdup(c, s);
}

const char *cfg_string(struct cfg_ctx *c, const char *key, const yaml_node_t *v,
		       const char *what)
{
	const char *s = cfg_scalar(v);

	if (!s || !*s) {
		cfg_err_value(c, v, key, what);
		return NULL;
	}
	return s;
}
