/* A strict JSON validator for the unit tests (RFC 8259 grammar, without
 * the UTF-8 check: text.h has that), and its pieces for tests that walk a
 * document (test_inspect_render's lookups by path).  Independent of src/,
 * so a bug in the renderers cannot hide in it. */
#ifndef LEAKWATCH_JSON_CHECK_H
#define LEAKWATCH_JSON_CHECK_H

#include <stdbool.h>
#include <string.h>

struct jp {
	const char *p;
	int depth;
};

static inline bool j_value(struct jp *j);

static inline void j_ws(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static inline bool j_string(struct jp *j)
{
	if (*j->p != '"')
		return false;
	j->p++;
	while (*j->p != '"') {
		unsigned char c = (unsigned char)*j->p;

		if (c < 0x20)   /* also the end of the text */
			return false;
		if (c == '\\') {
			j->p++;
			if (*j->p && strchr("\"\\/bfnrt", *j->p)) {
				j->p++;
			} else if (*j->p == 'u') {
				j->p++;
				for (int i = 0; i < 4; i++, j->p++)
					if (!strchr("0123456789abcdefABCDEF", *j->p) || !*j->p)
						return false;
			} else {
				return false;
			}
		} else {
			j->p++;
		}
	}
	j->p++;
	return true;
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool j_number(struct jp *j)
{
	if (*j->p == '-')
		j->p++;
	if (*j->p == '0')
		j->p++;
	else if (is_digit(*j->p))
		while (is_digit(*j->p))
			j->p++;
	else
		return false;
	if (*j->p == '.') {
		j->p++;
		if (!is_digit(*j->p))
			return false;
		while (is_digit(*j->p))
			j->p++;
	}
	if (*j->p == 'e' || *j->p == 'E') {
		j->p++;
		if (*j->p == '+' || *j->p == '-')
			j->p++;
		if (!is_digit(*j->p))
			return false;
		while (is_digit(*j->p))
			j->p++;
	}
	return true;
}

static inline bool j_container(struct jp *j, char open, char close, bool object)
{
	if (*j->p != open || ++j->depth > 64)
		return false;
	j->p++;
	j_ws(j);
	if (*j->p == close) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		j_ws(j);
		if (object) {
			if (!j_string(j))
				return false;
			j_ws(j);
			if (*j->p++ != ':')
				return false;
		}
		if (!j_value(j))
			return false;
		j_ws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p != close)
			return false;
		j->p++;
		j->depth--;
		return true;
	}
}

static inline bool j_value(struct jp *j)
{
	j_ws(j);
	switch (*j->p) {
	case '{': return j_container(j, '{', '}', true);
	case '[': return j_container(j, '[', ']', false);
	case '"': return j_string(j);
	case 't': return strncmp(j->p, "true", 4) == 0 && (j->p += 4);
	case 'f': return strncmp(j->p, "false", 5) == 0 && (j->p += 5);
	case 'n': return strncmp(j->p, "null", 4) == 0 && (j->p += 4);
	default:  return j_number(j);
	}
}

static inline bool json_valid(const char *text)
{
	struct jp j = { text, 0 };

	if (!j_value(&j))
		return false;
	j_ws(&j);
	return *j.p == '\0';
}

#endif
