/* The unit of a process from its cgroup path (see cgroup_unit.h).
 *
 * The problem: the cgroup path is only partly the system's.  Under a unit
 * with Delegate=yes (a user's service manager, a container or CI job
 * runner), the unit's owner creates and names the cgroups below it, and
 * moves its processes among them.  The rule used before, the deepest
 * component ending in .service or .scope, let that owner choose: a job in
 * /system.slice/job.service/sshd.service was "in sshd.service", and
 * `unit: auto` restarted sshd; a process of a user's manager in
 * user@65534.service/app.slice/api.service was "in api.service" and
 * matched a rule written for the system's api.service.
 *
 * systemd reads the path from the top: the slices first (they nest:
 * user.slice/user-1000.slice), then the first component that is not one,
 * which is the unit; whatever is below it is the unit's own business.  So
 * here.  That component was made by systemd itself, never by a unit's
 * payload, so no owner of a delegated subtree can change it.  A component
 * is a unit only if its name is one systemd would give (a known type,
 * systemd's characters, shorter than 256 bytes); names that would clash
 * with the kernel's files carry one leading '_' in the tree (systemd's
 * cg_escape), dropped here.  Inside user@UID.service, or a login session's
 * scope, the same rule once more gives the user unit: that one is named by
 * the user, and is told apart so that `unit:` means a unit of the system
 * manager and `user_unit:` one within a user's (core/match.c).
 *
 * Which line: /proc/PID/cgroup has one per hierarchy.  systemd tracks its
 * units in the unified hierarchy ("0::") when there is one in use (unified
 * and hybrid layouts), in the name=systemd one otherwise (legacy, where the
 * "0::" line still shows, at "/").  In a hybrid layout both hold the unit's
 * processes, and the owner of a delegated subtree may place a process
 * differently in each (on cgroup v1 a user may move its own processes into
 * any cgroup whose cgroup.procs it may write, so into another subtree it
 * was delegated).  Both then still name a unit the same user was given,
 * but not necessarily the same one; rather than pick, a process whose two
 * lines name different system units is in none that can be trusted
 * (-EINVAL), so no rule matches it by unit and restart-unit refuses it.
 * A name=systemd line that names no unit leaves the choice to the unified
 * one, as systemd does: nobody can pick between two units then, and a
 * container's systemd on the unified hierarchy may leave the other
 * hierarchy's path outside any unit (its root, or a manager's cgroup).  A
 * text with two lines for one hierarchy is not the kernel's (a cgroup name
 * with a newline could forge a line; current kernels refuse such names,
 * older ones may not): -EINVAL too.
 *
 * Costs: one pass over the text for the two lines, then the components
 * of at most two paths up to their unit, each looked at once. */
#include "core/cgroup_unit.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* A piece of the text: a path, or one of its components. */
struct span {
	const char *p;
	size_t n;
};

static const char *const unit_types[] = {
	"service", "socket", "target", "device", "mount", "automount", "swap",
	"timer", "path", "slice", "scope",
};

static bool span_is(const char *p, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(p, word, n) == 0;
}

static bool has_prefix(struct span s, const char *prefix)
{
	size_t m = strlen(prefix);

	return s.n >= m && memcmp(s.p, prefix, m) == 0;
}

static bool has_suffix(struct span s, const char *suffix)
{
	size_t m = strlen(suffix);

	return s.n >= m && memcmp(s.p + s.n - m, suffix, m) == 0;
}

static bool unit_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr(":-_.\\@", c));
}

/* systemd's unit_name_is_valid(): PREFIX[@INSTANCE].TYPE, with an instance
 * only when asked (a template, "getty@.service", never). */
static bool name_valid(struct span s, bool instance)
{
	const char *dot, *at = NULL;
	bool typed = false;

	if (s.n == 0 || s.n >= CGROUP_UNIT_MAX)
		return false;
	dot = memrchr(s.p, '.', s.n);
	if (!dot || dot == s.p)
		return false;
	for (size_t i = 0; i < sizeof(unit_types) / sizeof(unit_types[0]); i++)
		typed |= span_is(dot + 1, (size_t)(s.p + s.n - dot - 1), unit_types[i]);
	if (!typed)
		return false;
	for (const char *c = s.p; c < dot; c++) {
		if (!unit_char(*c))
			return false;
		if (*c == '@' && !at)
			at = c;
	}
	if (at == s.p)
		return false;
	return !at || (instance && dot > at + 1);
}

bool cgroup_unit_name_valid(const char *name)
{
	struct span s = { name, strlen(name) };

	return name_valid(s, true);
}

/* The component at p, after any slashes. */
static struct span component(const char *p, const char *end)
{
	struct span c;

	while (p < end && *p == '/')
		p++;
	c.p = p;
	while (p < end && *p != '/')
		p++;
	c.n = (size_t)(p - c.p);
	return c;
}

/* A component as a unit name: without the one leading '_' of its escape. */
static struct span unescaped(struct span c)
{
	if (c.n > 0 && c.p[0] == '_') {
		c.p++;
		c.n--;
	}
	return c;
}

static bool is_slice(struct span c)
{
	return c.n >= strlen("x.slice") && has_suffix(c, ".slice") && name_valid(unescaped(c), false);
}

static bool all_digits(const char *p, size_t n, size_t max)
{
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* user@UID.service: any decimal uid below (uid_t)-1 counts, so that in
 * doubt restart-unit refuses. */
static bool user_manager(struct span s)
{
	unsigned long long uid = 0;
	size_t n;

	if (s.n < strlen("user@x.service") || !has_prefix(s, "user@") || !has_suffix(s, ".service"))
		return false;
	n = s.n - strlen("user@") - strlen(".service");
	if (!all_digits(s.p + 5, n, 10))
		return false;
	for (size_t i = 0; i < n; i++)
		uid = uid * 10 + (unsigned)(s.p[5 + i] - '0');
	return uid < UINT32_MAX;
}

/* session-ID.scope, ID letters and digits (systemd's session_id_valid). */
static bool session_scope(struct span s)
{
	size_t n;

	if (s.n < strlen("session-x.scope") || !has_prefix(s, "session-") || !has_suffix(s, ".scope"))
		return false;
	n = s.n - strlen("session-") - strlen(".scope");
	for (size_t i = 0; i < n; i++) {
		char c = s.p[8 + i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return false;
	}
	return true;
}

bool cgroup_unit_is_user_manager(const char *unit)
{
	struct span s = { unit, strlen(unit) };

	return user_manager(s);
}

/* systemd's cg_path_get_unit(): the slices skipped, the next component
 * must be a unit, not a slice.  *after is set past it. */
static bool first_unit(const char *p, const char *end, struct span *unit, const char **after)
{
	struct span c = component(p, end);

	while (is_slice(c))
		c = component(c.p + c.n, end);
	if (c.n < 3)
		return false;
	*unit = unescaped(c);
	if (!name_valid(*unit, true) || has_suffix(*unit, ".slice"))
		return false;
	*after = c.p + c.n;
	return true;
}

/* The units of one path: 0 or -ENOENT. */
static int path_units(struct span path, struct cgroup_unit *u)
{
	const char *end = path.p + path.n, *after;
	struct span s, in;

	memset(u, 0, sizeof(*u));
	if (has_suffix(path, " (deleted)"))   /* the cgroup of a zombie, removed */
		end -= strlen(" (deleted)");
	if (!first_unit(path.p, end, &s, &after))
		return -ENOENT;
	memcpy(u->system, s.p, s.n);
	if ((user_manager(s) || session_scope(s)) && first_unit(after, end, &in, &after))
		memcpy(u->user, in.p, in.n);
	return 0;
}

/* Is WORD one of the comma-separated items of the controllers field? */
static bool has_item(const char *p, const char *end, const char *word)
{
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;

		if (span_is(p, (size_t)(stop - p), word))
			return true;
		p = stop + 1;
	}
	return false;
}

struct cgroup_lines {
	struct span unified, named;    /* the paths of "0::" and of name=systemd */
	unsigned n_unified, n_named;
};

/* The lines are "ID:CONTROLLERS:PATH"; the path may hold ':' itself. */
static void find_lines(const char *text, struct cgroup_lines *l)
{
	memset(l, 0, sizeof(*l));
	for (const char *line = text; *line;) {
		const char *eol = strchrnul(line, '\n');
		const char *c1 = memchr(line, ':', (size_t)(eol - line));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(eol - c1 - 1)) : NULL;

		if (c2 && c2 + 1 < eol && c2[1] == '/') {
			struct span path = { c2 + 1, (size_t)(eol - c2 - 1) };

			if (c1 == line + 1 && line[0] == '0' && c2 == c1 + 1) {
				l->unified = path;
				l->n_unified++;
			} else if (has_item(c1 + 1, c2, "name=systemd")) {
				l->named = path;
				l->n_named++;
			}
		}
		line = *eol ? eol + 1 : eol;
	}
}

static bool at_root(struct span path)
{
	return path.n == 1;
}

int cgroup_unit_parse(const char *text, struct cgroup_unit *u)
{
	struct cgroup_lines l;
	struct cgroup_unit v1;
	int r = -ENOENT;

	memset(u, 0, sizeof(*u));
	find_lines(text, &l);
	if (l.n_unified > 1 || l.n_named > 1)
		return -EINVAL;
	if (l.n_unified && !at_root(l.unified)) {
		r = path_units(l.unified, u);
		if (r == 0 && l.n_named && path_units(l.named, &v1) == 0 &&
		    strcmp(v1.system, u->system) != 0)
			r = -EINVAL;   /* the hierarchies disagree: trust neither */
	} else if (l.n_named) {
		r = path_units(l.named, u);
	}
	if (r < 0)
		memset(u, 0, sizeof(*u));
	return r;
}
