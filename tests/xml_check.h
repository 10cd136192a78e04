/* A well-formedness check for the unit tests, for the XML the SVG
 * renderer writes: an optional XML declaration, then elements that nest
 * and close by name, attributes quoted with '"' and not repeated in an
 * element, no '<' in text or attribute values, every '&' the start of one
 * of XML's five entities or a numeric character reference, no comments,
 * CDATA, processing instructions or doctype after the declaration, one
 * root.  Independent of src/, so a bug in the renderer cannot hide in it
 * (the operator test parses the daemon's SVG with python's XML parser). */
#ifndef LEAKWATCH_XML_CHECK_H
#define LEAKWATCH_XML_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define XML_DEPTH_MAX 32

static inline bool xml_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_' || c == ':' || c == '.';
}

/* An entity or character reference at p: its length, 0 when there is none. */
static inline size_t xml_entity(const char *p)
{
	static const char *const named[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };
	size_t n = 2;

	for (size_t i = 0; i < 5; i++)
		if (strncmp(p, named[i], strlen(named[i])) == 0)
			return strlen(named[i]);
	if (p[1] != '#')
		return 0;
	while (p[n] >= '0' && p[n] <= '9')
		n++;
	return n > 2 && p[n] == ';' ? n + 1 : 0;
}

/* The element's name at p into name (at most 31 characters): its length. */
static inline size_t xml_name(const char *p, char name[32])
{
	size_t n = 0;

	while (xml_name_char(p[n]) && n < 31) {
		name[n] = p[n];
		n++;
	}
	name[n] = '\0';
	return n;
}

/* The attributes and the end of a start tag at *pp (after its name): false
 * when malformed; *empty when it ends with "/>". */
static inline bool xml_attrs(const char **pp, bool *empty)
{
	const char *p = *pp;
	char seen[64][32], name[32];
	size_t n_seen = 0;

	for (;;) {
		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		if (p[0] == '/' && p[1] == '>') {
			*empty = true;
			*pp = p + 2;
			return true;
		}
		if (*p == '>') {
			*empty = false;
			*pp = p + 1;
			return true;
		}
		p += xml_name(p, name);
		if (!name[0] || p[0] != '=' || p[1] != '"' || n_seen == 64)
			return false;
		for (size_t i = 0; i < n_seen; i++)
			if (strcmp(seen[i], name) == 0)
				return false;
		memcpy(seen[n_seen++], name, sizeof(name));
		for (p += 2; *p != '"'; p++)
			if (!*p || *p == '<' || (*p == '&' && !xml_entity(p)))
				return false;
		p++;
	}
}

/* Is s well-formed?  why (when not NULL) says where it is not. */
static inline bool xml_well_formed(const char *s, char *why, size_t why_len)
{
	char stack[XML_DEPTH_MAX][32], name[32];
	const char *p = s, *decl_end;
	int depth = 0, roots = 0;

#define XML_FAIL(what) do { if (why) snprintf(why, why_len, "%s at offset %zu", what, (size_t)(p - s)); \
		return false; } while (0)
	if (strncmp(p, "<?xml ", 6) == 0) {
		if (!(decl_end = strstr(p, "?>")))
			XML_FAIL("an unterminated declaration");
		p = decl_end + 2;
	}
	while (*p) {
		if (*p == '&' && !xml_entity(p))
			XML_FAIL("a bare '&'");
		if (*p == '>')
			XML_FAIL("a bare '>'");
		if (*p != '<') {
			if (depth == 0 && *p != '\n' && *p != ' ')
				XML_FAIL("text outside the root");
			p++;
			continue;
		}
		if (p[1] == '/') {
			size_t n = xml_name(p + 2, name);

			if (depth == 0 || strcmp(stack[depth - 1], name) != 0 || p[2 + n] != '>')
				XML_FAIL("an end tag that closes nothing open");
			depth--;
			p += 3 + n;
			continue;
		}
		{
			bool empty;
			size_t n = xml_name(p + 1, name);

			if (!n)
				XML_FAIL("'<' not starting an element");
			if (depth == 0 && roots++)
				XML_FAIL("a second root");
			p += 1 + n;
			if (!xml_attrs(&p, &empty))
				XML_FAIL("a malformed start tag");
			if (!empty) {
				if (depth == XML_DEPTH_MAX)
					XML_FAIL("too deep");
				memcpy(stack[depth++], name, sizeof(name));
			}
		}
	}
	if (depth || roots != 1)
		XML_FAIL("unclosed elements or no root");
#undef XML_FAIL
	return true;
}

#endif
