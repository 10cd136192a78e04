/* Bracket expressions (see regex_bracket.h), read the way glibc 2.36's
 * parse_bracket_exp() reads them with RE_SYNTAX_POSIX_EXTENDED in the C
 * locale:
 *   - '^' first negates; newline is then a member of the complement (no
 *     REG_NEWLINE), so is NUL, which no text holds;
 *   - ']' first (after any '^') is a member, later it ends the expression;
 *   - '-' is a member first, last, or as the end of a range ("[!--]");
 *     anywhere else it is an error, as is a range after a range ("a-c-e");
 *   - a range is by byte value, its ends single bytes: a class cannot end
 *     one ("[a-[:digit:]]"), nor start one (its '-' then is misplaced);
 *   - a backslash is a member like any byte (no RE_BACKSLASH_ESCAPE_IN_LISTS);
 *   - "[:name:]" is one of the twelve classes, in ASCII (bytes >= 0x80
 *     are in none, as in the C locale); a '[' not followed by ':', '=' or
 *     '.' is a member;
 *   - "[=x=]" and "[.x.]" are refused: in the C locale each is just x,
 *     which is clearer written as such (put '-' first or last, ']' first). */
#include "core/regex_bracket.h"

#include <errno.h>
#include <string.h>

static const char *const class_names[] = {
	"alnum", "alpha", "blank", "cntrl", "digit", "graph",
	"lower", "print", "punct", "space", "upper", "xdigit",
};

static bool in_class(size_t k, unsigned c)
{
	bool digit = c >= '0' && c <= '9', upper = c >= 'A' && c <= 'Z';
	bool lower = c >= 'a' && c <= 'z', graph = c > ' ' && c < 0x7f;

	switch (k) {
	case 0: return digit || upper || lower;
	case 1: return upper || lower;
	case 2: return c == ' ' || c == '\t';
	case 3: return c < ' ' || c == 0x7f;
	case 4: return digit;
	case 5: return graph;
	case 6: return lower;
	case 7: return graph || c == ' ';
	case 8: return graph && !digit && !upper && !lower;
	case 9: return c == ' ' || (c >= '\t' && c <= '\r');
	case 10: return upper;
	default: return digit || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');   /* xdigit */
	}
}

void rx_set_add(uint64_t *set, unsigned lo, unsigned hi)
{
	for (unsigned c = lo; c <= hi; c++)
		set[c >> 6] |= UINT64_C(1) << (c & 63);
}

bool rx_set_class(uint64_t *set, const char *name, size_t len)
{
	for (size_t k = 0; k < sizeof(class_names) / sizeof(class_names[0]); k++)
		if (strlen(class_names[k]) == len && memcmp(class_names[k], name, len) == 0) {
			for (unsigned c = 0; c < 256; c++)
				if (in_class(k, c))
					rx_set_add(set, c, c);
			return true;
		}
	return false;
}

static bool is_symbol(const char *p)
{
	return p[0] == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.');
}

static int refuse(int err, const char **why, const char *what)
{
	*why = what;
	return err;
}

/* Where the "[:name:]", "[=x=]" or "[.x.]" at P has its closing ":]",
 * "=]" or ".]"; NULL when it has none. */
static const char *symbol_end(const char *p)
{
	const char *end = p + 2;

	while (*end && !(end[0] == p[1] && end[1] == ']'))
		end++;
	return *end ? end : NULL;
}

/* A "[:name:]" (or a refused "[=x=]", "[.x.]") at *P into SET; *P past it. */
static int symbol(const char **p, uint64_t *set, const char **why)
{
	char delim = (*p)[1];
	const char *name = *p + 2, *end = symbol_end(*p);

	if (!end)
		return refuse(-EINVAL, why, "unmatched [");
	if (delim == '=')
		return refuse(-ENOTSUP, why, "equivalence classes like [=a=] are not supported");
	if (delim == '.')
		return refuse(-ENOTSUP, why, "collating symbols like [.a.] are not supported");
	if (!rx_set_class(set, name, (size_t)(end - name)))
		return refuse(-EINVAL, why, "unknown character class");
	*p = end + 2;
	return 0;
}

/* One member at *P: a class, a byte, or a range of bytes. */
static int member(const char **p, uint64_t *set, bool first, const char **why)
{
	int lo, hi;

	if (is_symbol(*p))
		return symbol(p, set, why);
	lo = (unsigned char)**p;
	if (lo == '-' && !first && (*p)[1] != ']')
		return refuse(-EINVAL, why, "'-' inside a bracket expression");
	(*p)++;
	if ((*p)[0] != '-' || (*p)[1] == ']') {
		rx_set_add(set, (unsigned)lo, (unsigned)lo);
		return 0;
	}
	(*p)++;
	if (!**p)
		return refuse(-EINVAL, why, "unmatched [");
	if (is_symbol(*p)) {
		if (!symbol_end(*p))
			return refuse(-EINVAL, why, "unmatched [");
		return (*p)[1] == '.' ? refuse(-ENOTSUP, why, "collating symbols like [.a.] are not supported")
				      : refuse(-EINVAL, why, "a class cannot end a range");
	}
	hi = (unsigned char)**p;
	if (hi < lo)
		return refuse(-EINVAL, why, "a range that ends before it starts");
	(*p)++;
	rx_set_add(set, (unsigned)lo, (unsigned)hi);
	return 0;
}

int rx_bracket(const char **p, uint64_t *set, const char **why)
{
	const char *q = *p;
	bool negate = *q == '^';
	int r;

	memset(set, 0, 4 * sizeof(set[0]));
	if (negate)
		q++;
	for (bool first = true; first || *q != ']'; first = false) {
		if (!*q) {
			*p = q;
			return refuse(-EINVAL, why, "unmatched [");
		}
		r = member(&q, set, first, why);
		if (r < 0) {
			*p = q;
			return r;
		}
	}
	*p = q + 1;
	if (negate)
		for (int i = 0; i < 4; i++)
			set[i] = ~set[i];
	return 0;
}
