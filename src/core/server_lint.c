/* Warnings about watches that look wrong for gunicorn, uWSGI or Celery
 * (see server_lint.h).
 *
 * The problem: one default signal (TERM) cannot be right for the three.
 * A gunicorn worker finishes its requests on TERM; a uWSGI worker dies on
 * it in the middle of a request (HUP is its graceful exit); a Celery pool
 * child dies on TERM, HUP, QUIT or INT in the middle of its task, lost
 * under Celery's defaults.  A rule that can match the master (uWSGI's
 * --http router, Celery's MainProcess) has the action meant for one
 * worker stop or reload the whole server, and `python: true` on uWSGI
 * (whose executable is uwsgi-core) matches nothing.  A recipe per server
 * in the documentation is not enough: the default is TERM, and a rule
 * copied from the gunicorn recipe onto uWSGI looks right.  Such a file is
 * not invalid either: the operator may have reasons (task_acks_late makes
 * TERM bearable for Celery), so these are warnings, never a refusal, and
 * each says what is wrong, why, and what to write instead.
 *
 * Only what the file shows is judged (server_match.h tells the server
 * and whether the master can match); a signal is judged only when an
 * action sends it, the criteria only when an action acts on the process
 * (signal or exec).  What a signal does in each server's worker is what
 * README "Actions" and leakwatch.yaml(5) EXAMPLE say, measured with
 * Debian 12's gunicorn 20.1, uWSGI 2.0.21 and Celery 5.2.6; an unlisted
 * signal does what the kernel's default does (the servers reset them).
 * The cost: a few string tests per watch, at load. */
#include "core/server_lint.h"
#include "core/config_diag.h"
#include "core/units.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define MAX_LEVELS          9      /* the watch and 8 parents (config_schema_match.c) */
#define GUNICORN_GRACE_MS   30000  /* --graceful-timeout's default */
#define UWSGI_MERCY_MS      60000  /* --worker-reload-mercy's default */

/* ---- the warnings --------------------------------------------------------- */

static bool signals(const struct watch *w)
{
	return w->on_leak == ACTION_SIGNAL || w->on_limit == ACTION_SIGNAL;
}

static bool acts_on_process(const struct watch *w)
{
	return signals(w) || w->on_leak == ACTION_EXEC || w->on_limit == ACTION_EXEC;
}

static bool pos_before(struct config_pos a, struct config_pos b)
{
	return a.line < b.line || (a.line == b.line && a.column < b.column);
}

/* The first of the given positions that is known, else the watch's. */
static struct config_pos first_pos(const struct watch *w, struct config_pos a, struct config_pos b)
{
	if (a.line && (!b.line || pos_before(a, b)))
		return a;
	return b.line ? b : w->at;
}

/* Where a warning about the signal points: signal:, or the action that
 * signals with the default. */
static struct config_pos signal_pos(const struct watch *w)
{
	struct config_pos none = { 0, 0 };

	if (w->signal_at.line)
		return w->signal_at;
	return first_pos(w, w->on_leak == ACTION_SIGNAL ? w->on_leak_at : none,
			 w->on_limit == ACTION_SIGNAL ? w->on_limit_at : none);
}

static struct lint_warning *add(struct server_lint *out, enum lint_code code, struct config_pos at)
{
	struct lint_warning *lw = &out->w[out->n++];

	lw->code = code;
	lw->at = at;
	lw->text[0] = '\0';
	return lw;
}

static void sig_text(int sig, char *buf, size_t len)
{
	const char *name = sig < SIGRTMIN ? sigabbrev_np(sig) : NULL;

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%d", sig);
}

enum effect { FX_GRACEFUL, FX_ABRUPT, FX_NONE, FX_UWSGI_QUIT, FX_SOFT_LIMIT };

/* What SIG does to a worker of S. */
static enum effect signal_effect(enum lint_server s, int sig)
{
	if (s == LINT_GUNICORN && sig == SIGTERM)
		return FX_GRACEFUL;
	if (s == LINT_GUNICORN && (sig == SIGUSR1 || sig == SIGWINCH))
		return FX_NONE;                  /* reopen the logs; nothing */
	if (s == LINT_UWSGI && sig == SIGHUP)
		return FX_GRACEFUL;
	if (s == LINT_UWSGI && sig == SIGQUIT)
		return FX_UWSGI_QUIT;
	if (s == LINT_UWSGI && (sig == SIGUSR1 || sig == SIGUSR2 || sig == SIGWINCH))
		return FX_NONE;                  /* statistics; nothing */
	if (s == LINT_CELERY && sig == SIGURG)
		return FX_GRACEFUL;              /* with the README's hook */
	if (s == LINT_CELERY && sig == SIGUSR1)
		return FX_SOFT_LIMIT;
	switch (sig) {                           /* ignored or stopping by default */
	case SIGCHLD: case SIGCONT: case SIGURG: case SIGWINCH: case SIGPIPE:
	case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
		return FX_NONE;
	}
	return FX_ABRUPT;
}

static const char *const worker_of[] = {
	[LINT_GUNICORN] = "gunicorn worker", [LINT_UWSGI] = "uWSGI worker",
	[LINT_CELERY] = "Celery pool child",
};
static const char *const work_of[] = {
	[LINT_GUNICORN] = "request", [LINT_UWSGI] = "request", [LINT_CELERY] = "task",
};
static const char *const instead[] = {
	[LINT_GUNICORN] = "use signal: TERM (the worker finishes its requests and exits, "
		"and the master forks a new one)",
	[LINT_UWSGI] = "use signal: HUP (the worker finishes the request, and the master respawns it)",
	[LINT_CELERY] = "use signal: URG with the hook from the README (the child leaves after "
		"the task in hand, and the main process forks a new one)",
};

static void lint_signal(const struct watch *w, enum lint_server s, struct server_lint *out)
{
	enum effect fx = signal_effect(s, w->signal);
	char sig[16], *t;
	const char *dflt = w->signal_at.line ? "" : " (the default)";
	size_t len = LINT_TEXT_MAX;

	if (fx == FX_GRACEFUL)
		return;
	sig_text(w->signal, sig, sizeof(sig));
	t = add(out, LINT_SIGNAL, signal_pos(w))->text;
	if (fx == FX_UWSGI_QUIT)
		snprintf(t, len, "signal QUIT does not recycle a uWSGI worker: the workers the master "
			 "started first ignore it, and one it has respawned takes it as the master's "
			 "and kills the --http router; %s", instead[s]);
	else if (fx == FX_SOFT_LIMIT)
		snprintf(t, len, "signal USR1 is Celery's soft time limit: the task in hand fails "
			 "with SoftTimeLimitExceeded, and the child runs on until kill_after's "
			 "SIGKILL; %s", instead[s]);
	else if (fx == FX_NONE)
		snprintf(t, len, "signal %s%s does not end a %s, so it is %s%s; %s", sig, dflt, worker_of[s],
			 w->kill_after_ms ? "recycled only by kill_after's SIGKILL, in the middle of its "
			 : "never recycled (kill_after is 0)", w->kill_after_ms ? work_of[s] : "", instead[s]);
	else if (s == LINT_CELERY)
		snprintf(t, len, "signal %s%s ends a Celery pool child in the middle of its task, "
			 "which is lost under Celery's defaults (WorkerLostError) and run again only "
			 "with task_acks_late and task_reject_on_worker_lost; %s", sig, dflt, instead[s]);
	else
		snprintf(t, len, "signal %s%s ends a %s %sin the middle of its %s%s; %s", sig, dflt,
			 worker_of[s], s == LINT_GUNICORN ? "at once, " : "", work_of[s],
			 s == LINT_GUNICORN && (w->signal == SIGQUIT || w->signal == SIGINT) ?
			 " (QUIT and INT are gunicorn's quick shutdown)" :
			 s == LINT_GUNICORN && w->signal == SIGHUP ?
			 " (a worker does not handle HUP; the master reloads on it)" :
			 s == LINT_UWSGI ? ", and its client gets no answer" : "", instead[s]);
}

static void lint_master(const struct watch *w, enum lint_server s, uint64_t *budget,
			struct server_lint *out)
{
	char why[150], *t;
	struct config_pos at = w->match.cmdline_at.line ? w->match.cmdline_at : w->match.at;

	if (!server_match_master(w, s, budget, why, sizeof(why)))
		return;
	t = add(out, LINT_MASTER, at)->text;
	if (s == LINT_GUNICORN)
		snprintf(t, LINT_TEXT_MAX, "this watch can match the gunicorn master too: %s, and an "
			 "action meant for a worker stops or reloads the whole server when it reaches "
			 "the master; match cmdline: \"^gunicorn: worker \\\\[NAME\\\\]\" with parent: "
			 "{ cmdline: \"^gunicorn: master \\\\[NAME\\\\]\" }", why);
	else if (s == LINT_UWSGI)
		snprintf(t, LINT_TEXT_MAX, "this watch can match the uWSGI master or its router too: %s; "
			 "a signal to the master reloads or stops the whole instance; run uWSGI with "
			 "--auto-procname --procname-prefix-spaced NAME and match cmdline: "
			 "\"^NAME uWSGI worker [0-9]+$\"", why);
	else
		snprintf(t, LINT_TEXT_MAX, "this watch can match Celery's MainProcess too: %s, and a "
			 "signal to it (or kill_after's SIGKILL) stops the whole node; add parent: "
			 "{ cmdline: \"^\\\\[celeryd: NAME@[^]]*:MainProcess\\\\] \" }, or match "
			 "the children's titles", why);
}

static void lint_python(const struct watch *w, struct server_lint *out)
{
	size_t levels = 0;

	for (const struct match *m = &w->match; m && levels < MAX_LEVELS; m = m->parent, levels++) {
		if (m->python != 1)
			continue;
		snprintf(add(out, LINT_PYTHON, m->python_at.line ? m->python_at : m->at)->text,
			 LINT_TEXT_MAX, "python: true never matches a uWSGI process: its executable "
			 "is uwsgi-core, which runs Python as a plugin, not a Python interpreter; leave "
			 "python: out (inspect: python still works on the worker's embedded Python)");
		return;
	}
}

static void lint_kill_after(const struct watch *w, enum lint_server s, struct server_lint *out)
{
	uint64_t grace = s == LINT_GUNICORN ? GUNICORN_GRACE_MS : UWSGI_MERCY_MS;
	char ka[32];

	if (s == LINT_CELERY || w->kill_after_ms == 0 || w->kill_after_ms >= grace ||
	    signal_effect(s, w->signal) != FX_GRACEFUL)
		return;
	format_duration(ka, sizeof(ka), (double)w->kill_after_ms / 1000);
	snprintf(add(out, LINT_KILL_AFTER, w->kill_after_at.line ? w->kill_after_at : signal_pos(w))->text,
		 LINT_TEXT_MAX, "kill_after %s%s is shorter than %s's default %s (%s), so its SIGKILL "
		 "can cut a %s the worker is still finishing; use kill_after: %s (if you set %s "
		 "shorter, a little above it is enough)", ka, w->kill_after_at.line ? "" : " (the default)",
		 lint_server_name(s), s == LINT_GUNICORN ? "graceful timeout" : "worker reload mercy",
		 s == LINT_GUNICORN ? "30s" : "60s", work_of[s], s == LINT_GUNICORN ? "35s" : "65s",
		 s == LINT_GUNICORN ? "--graceful-timeout" : "--worker-reload-mercy");
}

static void sort_by_pos(struct server_lint *out)
{
	for (size_t i = 1; i < out->n; i++) {
		for (size_t j = i; j > 0 && pos_before(out->w[j].at, out->w[j - 1].at); j--) {
			struct lint_warning tmp = out->w[j];

			out->w[j] = out->w[j - 1];
			out->w[j - 1] = tmp;
		}
	}
}

size_t server_lint_watch(const struct watch *w, uint64_t *budget, struct server_lint *out)
{
	enum lint_server s = server_lint_recognise(w);

	out->server = s;
	out->n = 0;
	if (s == LINT_SERVER_NONE)
		return 0;
	if (acts_on_process(w))
		lint_master(w, s, budget, out);
	if (s == LINT_UWSGI)
		lint_python(w, out);
	if (signals(w)) {
		lint_signal(w, s, out);
		lint_kill_after(w, s, out);
	}
	sort_by_pos(out);
	return out->n;
}

size_t server_lint_count(const struct config *c)
{
	uint64_t budget = SERVER_MATCH_BUDGET;
	struct server_lint l;
	size_t n = 0;

	for (size_t i = 0; i < c->n_watches; i++)
		n += server_lint_watch(&c->watches[i], &budget, &l);
	return n;
}

int server_lint_config(const struct config *c, struct diag *out)
{
	uint64_t budget = SERVER_MATCH_BUDGET;
	struct server_lint l;
	int n = 0;

	for (size_t i = 0; i < c->n_watches; i++) {
		const struct watch *w = &c->watches[i];

		server_lint_watch(w, &budget, &l);
		for (size_t k = 0; k < l.n; k++, n++) {
			struct config_pos at = l.w[k].at.line ? l.w[k].at : w->at;
			int r = at.line ? diag_add(out, "%s:%u:%u: warning: %s", c->path, at.line,
						   at.column, l.w[k].text)
					: diag_add(out, "%s: warning: %s: %s", c->path, w->name, l.w[k].text);

			if (r < 0)
				return r;
		}
	}
	return n;
}
