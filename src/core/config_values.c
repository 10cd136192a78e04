/* The typed readers of tree nodes used by the schema (see config_values.h
 * for why one reader per type, each reporting its own problem), and how a
 * value is quoted in a message. */
#include "core/config_values.h"
#include "core/units.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DESC_MAX_TEXT 60   /* longer values are shortened with "..." */

void cfg_err(struct cfg_ctx *c, const struct cfg_node *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_diag_vadd(c->diag, n ? n->line : 0, n ? n->column : 0, fmt, ap);
	va_end(ap);
}

void cfg_err_value(struct cfg_ctx *c, const struct cfg_node *v, const char *key, const char *what)
{
	char d[CFG_DESC_LEN];

	cfg_describe(c->tree, v, d, sizeof(d));
	cfg_err(c, v, "'%s' must be %s, not %s", key, what, d);
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

void cfg_describe(const struct cfg_tree *t, const struct cfg_node *n, char *buf, size_t len)
{
	const char *s = "nothing";

	if (!n) {
		snprintf(buf, len, "%s", s);
		return;
	}
	switch (n->kind) {
	case CFG_SCALAR:
		if (n->count == 0) {
			s = "empty";
			break;
		}
		quote(buf, len, cfg_tree_text(t, n), n->count);
		return;
	case CFG_MAPPING:
		s = n->count == 0 ? "an empty mapping" : "a mapping";
		break;
	case CFG_SEQUENCE:
		s = n->count == 0 ? "an empty list" : "a list";
		break;
	default:
		break;
	}
	snprintf(buf, len, "%s", s);
}

const char *cfg_scalar(const struct cfg_ctx *c, const struct cfg_node *n)
{
	const char *s = cfg_tree_text(c->tree, n);

	return s && strlen(s) == n->count ? s : NULL;   /* no embedded NUL */
}

void cfg_keys(struct cfg_ctx *c, const struct cfg_node *map, const char *const *names, size_t n,
	      const struct cfg_node **key, const struct cfg_node **val)
{
	char d[CFG_DESC_LEN];

	for (size_t i = 0; i < n; i++)
		key[i] = val[i] = NULL;
	for (size_t p = 0; p < map->count; p++) {
		const struct cfg_node *k = cfg_tree_key(c->tree, map, p);
		const char *s = cfg_scalar(c, k);
		size_t i;

		if (!s) {
			cfg_describe(c->tree, k, d, sizeof(d));
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
			val[i] = cfg_tree_value(c->tree, map, p);
		}
	}
}

struct config_pos cfg_pos(const struct cfg_node *n)
{
	if (!n)
		return (struct config_pos){ 0, 0 };
	return (struct config_pos){ n->line + 1, n->column + 1 };
}

char *cfg_strdup(struct cfg_ctx *c, const char *s)
{
	char *d = strdup(s);

	if (!d)
		c->diag->oom = true;
	return d;
}

bool cfg_bool(struct cfg_ctx *c, const char *key, const struct cfg_node *v, bool *out)
{
	static const char *const words[] = { "false", "no", "off", "true", "yes", "on" };
	const char *s = cfg_scalar(c, v);

	for (size_t i = 0; s && i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcasecmp(s, words[i]) == 0) {
			*out = i >= 3;
			return true;
		}
	}
	cfg_err_value(c, v, key, "true or false");
	return false;
}

bool cfg_duration(struct cfg_ctx *c, const char *key, const struct cfg_node *v, uint64_t *ms)
{
	const char *s = cfg_scalar(c, v);
	char d[CFG_DESC_LEN];
	int r = s ? parse_duration(s, ms) : -EINVAL;

	if (r == 0)
		return true;
	cfg_describe(c->tree, v, d, sizeof(d));
	if (r == -ERANGE)
		cfg_err(c, v, "'%s' value %s is too large", key, d);
	else if (s && *s && strspn(s, "0123456789.") == strlen(s))
		cfg_err(c, v, "'%s' must be a duration like 5s or 250ms, not %s (a unit is required)",
			key, d);
	else
		cfg_err_value(c, v, key, "a duration like 5s or 250ms");
	return false;
}

char *cfg_abs_path(struct cfg_ctx *c, const char *key, const struct cfg_node *v)
{
	const char *s = cfg_scalar(c, v);

	if (!s || s[0] != '/') {
		cfg_err_value(c, v, key, "an absolute path");
		return NULL;
	}
	return cfg_strdup(c, s);
}

const char *cfg_string(struct cfg_ctx *c, const char *key, const struct cfg_node *v,
		       const char *what)
{
	const char *s = cfg_scalar(c, v);

	if (!s || !*s) {
		cfg_err_value(c, v, key, what);
		return NULL;
	}
	return s;
}
