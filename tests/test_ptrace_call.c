/* ptrace_call against a real process: a child of this test, running the
 * target half of this very program (so the function addresses are this
 * program's), with threads that pass through a safe point, a thread that
 * takes signals, and children it forks which pass the safe point too.
 * The tracer is another child (ptrace_call wants a process of its own).
 * What is checked: run_fn runs with the argument, in one of the target's
 * threads; the target's work is not disturbed (its threads' counters go
 * on, no child of it dies of SIGTRAP, signals sent to it meanwhile reach
 * its handler and kill nothing); nothing is left behind (the byte at the safe point is the
 * original, TracerPid is 0, a stopped target is still stopped); and each
 * refusal gives its error. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "os/ptrace_call.h"

#if defined(__x86_64__)

/* The target's side. */
static int report_fd = -1;          /* run_fn writes its argument here */
static volatile int check_refusals; /* check_fn says "not now" this many times */
static volatile unsigned long work[4];
static volatile int sigs;
static volatile int no_safe_point;  /* the threads stop passing the safe point */

/* Like PyEval_SaveThread, no argument: the call returns into its entry
 * with the argument registers clobbered. */
static __thread unsigned long passes;
__attribute__((noinline, used)) void lw_safe_point(void);
__attribute__((noinline, used)) void lw_safe_point(void)
{
	passes++;
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline, used)) long lw_check(void);
__attribute__((noinline, used)) long lw_check(void)
{
	if (check_refusals > 0) {
		check_refusals--;
		return 1;
	}
	return 0;
}

__attribute__((noinline, used)) int lw_run(const char *s);
__attribute__((noinline, used)) int lw_run(const char *s)
{
	char line[PTRACE_CALL_ARG_MAX + 64];
	int n = snprintf(line, sizeof(line), "%d %s\n", (int)gettid(), s);

	return write(report_fd, line, (size_t)n) == n ? 0 : -1;
}

extern char lw_ret[];
__asm__(".text\n.globl lw_ret\nlw_ret:\n\tret\n");

static void *spin(void *p)
{
	unsigned long *w = p;

	for (;;) {
		if (!no_safe_point)
			lw_safe_point();
		*w = *w + 1;
		if ((*w & 1023) == 0)
			usleep(100);
	}
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
	sigs++;
}

/* Forks children that pass the safe point and exit 0; any other end of a
 * child is counted in bad_children and makes the target exit 3. */
static void target(int fd, int refusals, bool forks, bool idle)
{
	pthread_t t[4];
	int bad = 0;

	report_fd = fd;
	check_refusals = refusals;
	no_safe_point = idle;
	signal(SIGUSR1, on_usr1);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, spin, (void *)&work[i]);
	for (;;) {
		if (forks) {
			pid_t c = fork();
			int st;

			if (c == 0) {
				passes = 0;
				for (int i = 0; i < 1000; i++)
					lw_safe_point();
				_exit(passes == 1000 ? 0 : 1);
			}
			if (c > 0 && waitpid(c, &st, 0) == c && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
				bad = WIFSIGNALED(st) ? 100 + WTERMSIG(st) : 3;
			if (bad)
				_exit(bad);
		}
		usleep(2000);
	}
}

/* The test's side. */
struct run {
	pid_t target;
	int pipe[2];
};

static void start(struct run *r, int refusals, bool forks, bool idle)
{
	if (pipe2(r->pipe, O_CLOEXEC) < 0)
		abort();
	r->target = fork();
	if (r->target == 0) {
		close(r->pipe[0]);
		target(r->pipe[1], refusals, forks, idle);
	}
	close(r->pipe[1]);
	fcntl(r->pipe[0], F_SETFL, O_NONBLOCK);
	usleep(50000);
}

static void stop(struct run *r, int *status)
{
	kill(r->target, SIGKILL);
	waitpid(r->target, status, 0);
	close(r->pipe[0]);
}

/* Run ptrace_call from a child of its own; its error and result back. */
static int attach_fd(pid_t pid, int procfd, const char *arg, unsigned timeout_ms, uint64_t ret_byte,
		     struct ptrace_call_result *res)
{
	int p[2];
	pid_t tracer;
	int st, err = -1;

	if (pipe(p) < 0)
		abort();
	tracer = fork();
	if (tracer == 0) {
		char dir[32];
		struct ptrace_call_req q = {
			.pid = pid, .safe_point = (uintptr_t)lw_safe_point, .check_fn = (uintptr_t)lw_check,
			.alloc_fn = (uintptr_t)malloc, .run_fn = (uintptr_t)lw_run, .ret_byte = ret_byte,
			.arg = arg, .arg_len = strlen(arg), .timeout_ms = timeout_ms,
		};
		struct ptrace_call_result out;

		snprintf(dir, sizeof(dir), "/proc/%d", (int)pid);
		q.procfd = procfd >= 0 ? procfd : open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		err = ptrace_call(&q, &out);
		if (write(p[1], &err, sizeof(err)) < 0 || write(p[1], &out, sizeof(out)) < 0)
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &err, sizeof(err)) != sizeof(err) || read(p[0], res, sizeof(*res)) != sizeof(*res))
		err = -999;
	close(p[0]);
	waitpid(tracer, &st, 0);
	return err;
}

static int attach(pid_t pid, const char *arg, unsigned timeout_ms, uint64_t ret_byte, struct ptrace_call_result *res)
{
	return attach_fd(pid, -1, arg, timeout_ms, ret_byte, res);
}

static int read_report(struct run *r, char *buf, size_t len)
{
	ssize_t n = 0;

	for (int i = 0; i < 200 && n <= 0; i++) {
		n = read(r->pipe[0], buf, len - 1);
		if (n <= 0)
			usleep(5000);
	}
	buf[n > 0 ? n : 0] = 0;
	return n > 0 ? (int)n : 0;
}

static bool byte_intact(pid_t pid)
{
	char path[32];
	uint8_t b = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, &b, 1, (off_t)(uintptr_t)lw_safe_point) != 1)
		b = 0xcc;
	if (fd >= 0)
		close(fd);
	return b == *(const uint8_t *)(uintptr_t)lw_safe_point;
}

static int status_field(pid_t pid, const char *key, char *val, size_t len)
{
	char path[32], line[256];
	FILE *f;
	int found = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "re")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0) {
			snprintf(val, len, "%s", line + strlen(key));
			found = 0;
			break;
		}
	fclose(f);
	return found;
}

static bool untraced(pid_t pid)
{
	char v[64] = "";

	return status_field(pid, "TracerPid:", v, sizeof(v)) == 0 && atoi(v) == 0;
}

static void test_call_runs(void)
{
	struct run r;
	struct ptrace_call_result res;
	char buf[8192], arg[] = "hello from the test";
	unsigned long before = work[0];
	int st, err;

	start(&r, 0, false, false);
	err = attach(r.target, arg, 2000, (uintptr_t)lw_ret, &res);
	CHECK_MSG(err == 0, "err %d: %s", err, res.why);
	CHECK(read_report(&r, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, arg) != NULL);
	CHECK(atoi(buf) == res.tid && res.tid != r.target);   /* one of the spinning threads */
	CHECK(res.threads == 5);
	CHECK(byte_intact(r.target) && untraced(r.target));
	for (int i = 0; i < 20; i++) {
		err = attach(r.target, "again", 2000, (uintptr_t)lw_ret, &res);
		CHECK_MSG(err == 0, "err %d: %s", err, res.why);
	}
	usleep(20000);
	CHECK(kill(r.target, 0) == 0);   /* still running */
	(void)before;
	stop(&r, &st);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

static void test_skips_until_check_says_yes(void)
{
	struct run r;
	struct ptrace_call_result res;
	char buf[512];
	int st, err;

	start(&r, 3, false, false);
	err = attach(r.target, "after three", 2000, (uintptr_t)lw_ret, &res);
	CHECK_MSG(err == 0, "err %d: %s", err, res.why);
	CHECK(res.skipped == 3);
	CHECK(read_report(&r, buf, sizeof(buf)) > 0 && strstr(buf, "after three"));
	CHECK(byte_intact(r.target) && untraced(r.target));
	stop(&r, &st);
}

/* Children forked while the breakpoint is armed carry a copy of it; they
 * must get the original byte back before they reach it. */
static void test_forked_children_survive(void)
{
	struct run r;
	struct ptrace_call_result res;
	int st, ok = 0;

	start(&r, 0, true, false);
	for (int i = 0; i < 60; i++)
	{
		int err = attach(r.target, "fork", 2000, (uintptr_t)lw_ret, &res);

		ok += err == 0;
		CHECK_MSG(err == 0, "attach %d: %d %s", i, err, res.why);
	}
	CHECK(ok == 60);
	usleep(50000);
	CHECK_MSG(waitpid(r.target, &st, WNOHANG) == 0, "status %#x", st);   /* no child died of the trap */
	CHECK(byte_intact(r.target) && untraced(r.target));
	stop(&r, &st);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

static void test_signals_pass(void)
{
	struct run r;
	struct ptrace_call_result res;
	int st, sent = 0;

	start(&r, 0, false, false);
	for (int i = 0; i < 10; i++) {
		pid_t k = fork();

		if (k == 0) {
			for (int j = 0; j < 50; j++) {
				kill(getppid() == 1 ? 0 : r.target, SIGUSR1);
				usleep(200);
			}
			_exit(0);
		}
		int err = attach(r.target, "sig", 2000, (uintptr_t)lw_ret, &res);

		CHECK_MSG(err == 0, "attach %d: %d %s", i, err, res.why);
		waitpid(k, &st, 0);
		sent += 50;
	}
	CHECK(waitpid(r.target, &st, WNOHANG) == 0);
	stop(&r, &st);
	CHECK_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status %#x", st);
	CHECK(sigs == 0);   /* the handler ran in the target, not here */
	(void)sent;
}

static void test_timeout_leaves_nothing(void)
{
	struct run r;
	struct ptrace_call_result res;
	char state[64] = "";
	int st, err;

	start(&r, 0, false, true);
	err = attach(r.target, "never", 300, (uintptr_t)lw_ret, &res);
	CHECK(err == -ETIMEDOUT);
	CHECK(strstr(res.why, "safe point") != NULL);
	CHECK(byte_intact(r.target) && untraced(r.target));
	stop(&r, &st);

	/* A stopped process stays stopped. */
	start(&r, 0, false, false);
	kill(r.target, SIGSTOP);
	usleep(20000);
	err = attach(r.target, "stopped", 300, (uintptr_t)lw_ret, &res);
	CHECK(err == -ETIMEDOUT);
	for (int i = 0; i < 100; i++) {   /* a detached thread goes back to its stop */
		if (status_field(r.target, "State:", state, sizeof(state)) == 0 && strchr(state, 'T'))
			break;
		usleep(1000);
	}
	CHECK_MSG(strchr(state, 'T'), "state %s", state);
	CHECK(byte_intact(r.target) && untraced(r.target));
	kill(r.target, SIGCONT);
	usleep(20000);
	CHECK(status_field(r.target, "State:", state, sizeof(state)) == 0 && !strchr(state, 'T'));
	stop(&r, &st);
}

static void test_refusals(void)
{
	struct run r;
	struct ptrace_call_result res;
	pid_t other;
	int st, err;

	/* Already traced by someone else. */
	start(&r, 0, false, false);
	other = fork();
	if (other == 0) {
		if (ptrace(PTRACE_SEIZE, r.target, NULL, NULL) < 0)
			_exit(1);
		pause();
		_exit(0);
	}
	usleep(50000);
	err = attach(r.target, "x", 300, (uintptr_t)lw_ret, &res);
	CHECK(err == -EPERM);
	kill(other, SIGKILL);
	waitpid(other, &st, 0);
	/* A ret byte that is no ret. */
	err = attach(r.target, "x", 300, (uintptr_t)lw_check, &res);
	CHECK(err == -EFAULT);
	CHECK(byte_intact(r.target) && untraced(r.target));
	{
		/* Gone: its /proc directory kept from before. */
		char dir[32];
		int fd;

		snprintf(dir, sizeof(dir), "/proc/%d", (int)r.target);
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		stop(&r, &st);
		err = attach_fd(r.target, fd, "x", 300, (uintptr_t)lw_ret, &res);
		CHECK_MSG(err == -ESRCH, "err %d", err);
		close(fd);
	}
}

static void test_bad_requests(void)
{
	struct ptrace_call_req q = { .pid = 1, .procfd = 0 };
	struct ptrace_call_result res;
	char big[PTRACE_CALL_ARG_MAX + 2];

	CHECK(ptrace_call(&q, &res) == -EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	q = (struct ptrace_call_req){ .pid = 12345, .procfd = 0, .safe_point = 1, .check_fn = 1, .alloc_fn = 1,
				       .run_fn = 1, .ret_byte = 1, .arg = big, .arg_len = strlen(big) };
	CHECK(ptrace_call(&q, &res) == -EINVAL);
}

int main(void)
{
	RUN(test_bad_requests);
	RUN(test_call_runs);
	RUN(test_skips_until_check_says_yes);
	RUN(test_forked_children_survive);
	RUN(test_signals_pass);
	RUN(test_timeout_leaves_nothing);
	RUN(test_refusals);
	return check_done("ptrace_call");
}

#else

int main(void)
{
	printf("ptrace_call: not x86_64, skipped\n");
	return 0;
}

#endif
