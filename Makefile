# leakwatch — see README.md.  `make`, `make check`, `make demo`, `make bench`.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share
SYSCONFDIR ?= /etc
CATALOGDIR ?= $(PREFIX)/lib/systemd/catalog
UNITDIR    ?= $(PREFIX)/lib/systemd/system
# bash-completion's directory under DATADIR (its .pc file's, else the usual one)
BASHCOMPDIR ?= $(or $(shell $(PKG_CONFIG) --define-variable=datadir='$(DATADIR)' \
                 --variable=completionsdir bash-completion 2>/dev/null),$(DATADIR)/bash-completion/completions)
DESTDIR    ?=

CC         ?= cc
PKG_CONFIG ?= pkg-config
PKGS        = libproc2 yaml-0.1 libsystemd
# libmicrohttpd: its header only; httpd.c loads the library when needed
OPT_PKGS    = libmicrohttpd
PYTHON     ?= /usr/bin/python3
BUILD      ?= build
VERSION    ?= 0.1.0

# CFLAGS/LDFLAGS are the user's (`make CFLAGS=...` or `CFLAGS += ...`);
# what the build needs is kept apart so they cannot drop it.
CFLAGS   ?= -O2 -g
WARNINGS  = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wformat-security -Wno-format-nonliteral
LW_CFLAGS = -std=gnu11 $(WARNINGS) -D_GNU_SOURCE -DLEAKWATCH_VERSION=\"$(VERSION)\" \
            -DLEAKWATCH_DATADIR=\"$(DATADIR)\" \
            $(shell $(PKG_CONFIG) --cflags $(PKGS) $(OPT_PKGS))
LW_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS)) -lm

# The layout is the pipeline (README "Hacking"): src/core/ is pure logic
# (no system calls), built as its own library that links nothing but libc
# and libm (`make layout` checks it); src/os/ reads the system (/proc,
# files), src/io/ talks to the outside (sinks, sockets, actions),
# src/daemon/ is leakwatchd itself, src/ctl/ the client.  Headers are named
# with their directory ("core/trend.h"); dependencies come from -MMD.
CORE_SRCS   = $(wildcard src/core/*.c)
OS_SRCS     = $(wildcard src/os/*.c)
IO_SRCS     = $(wildcard src/io/*.c)
DAEMON_SRCS = $(filter-out src/daemon/main.c,$(wildcard src/daemon/*.c))
CORE_OBJS   = $(CORE_SRCS:src/%.c=$(BUILD)/obj/%.o)
CTL_OBJS    = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(wildcard src/ctl/*.c))
LIB_OBJS    = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(OS_SRCS) $(IO_SRCS) $(DAEMON_SRCS))
CORE_LIB    = $(BUILD)/libleakwatch-core.a
LIB         = $(BUILD)/libleakwatch.a
TESTS       = $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))

all: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl $(BUILD)/leakwatchd.service

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(LW_CFLAGS) -Isrc -MMD -MP $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/tests/*.d $(BUILD)/fuzz/*.d)

# The unit file with this build's install paths.
# What is rendered with an installation path (the unit file; the inspect
# script's path compiled into os/paths.c) is rebuilt when the paths change,
# so `make install PREFIX=...` after a plain `make` installs what it says.
$(BUILD)/paths.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(SBINDIR) $(SYSCONFDIR) $(DATADIR)' | cmp -s - $@ || echo '$(SBINDIR) $(SYSCONFDIR) $(DATADIR)' > $@
$(BUILD)/obj/os/paths.o: $(BUILD)/paths.stamp
FORCE:

$(BUILD)/leakwatchd.service: systemd/leakwatchd.service.in Makefile $(BUILD)/paths.stamp
	@mkdir -p $(@D)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< > $@

# Made afresh: `ar r` on an old archive keeps the members of sources since
# removed, and the linker may take a stale one first.
$(CORE_LIB): $(CORE_OBJS)
	rm -f $@ && $(AR) rcs $@ $^

$(LIB): $(LIB_OBJS)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/leakwatchd: $(BUILD)/obj/daemon/main.o $(LIB) $(CORE_LIB)
	$(CC) $(LW_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -Wl,--start-group $(LIB) $(CORE_LIB) -Wl,--end-group $(LW_LIBS) $(LDLIBS)

$(BUILD)/leakwatchctl: $(CTL_OBJS) $(LIB) $(CORE_LIB)
	$(CC) $(LW_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(CTL_OBJS) -Wl,--start-group $(LIB) $(CORE_LIB) -Wl,--end-group $(LW_LIBS) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(LIB) $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(LW_CFLAGS) -Isrc -Itests -MMD -MP $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< \
	  -Wl,--start-group $(LIB) $(CORE_LIB) -Wl,--end-group $(LW_LIBS) $(LDLIBS)

tests: $(TESTS) $(BUILD)/tests/pre62_fd.so

unit: $(TESTS)
	@set -e; for t in $(TESTS); do $$t; done

# One unit test program: `make test-units`; only its cases matching the
# glob CASE (tests/check.h): `make test-units CASE='test_rate'`.
test-%: $(BUILD)/tests/test_%
	$<

golden: $(BUILD)/leakwatchd
	@sh tests/golden.sh $(BUILD)/leakwatchd
	@sh tests/lint_events.sh $(BUILD)/leakwatchd

# The unit tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
# The daemon is built there first (for churn-asan), once for both.
SAN_CFLAGS  = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
SAN_LDFLAGS = -fsanitize=address,undefined
# The builds inside check's targets (the sanitized tree, the gcc and clang
# trees) run JOBS compilers at a time; the tests themselves run one by one.
JOBS ?= 2

sanitize: asan-daemon
	$(MAKE) --no-print-directory -j$(JOBS) BUILD=build/asan CFLAGS="$(SAN_CFLAGS)" LDFLAGS="$(SAN_LDFLAGS)" \
	  tests $(FUZZ_TARGETS:%=build/asan/fuzz/replay_%)
	$(MAKE) --no-print-directory BUILD=build/asan CFLAGS="$(SAN_CFLAGS)" LDFLAGS="$(SAN_LDFLAGS)" \
	  unit golden fuzz-replay

asan-daemon:
	$(MAKE) --no-print-directory -j$(JOBS) BUILD=build/asan CFLAGS="$(SAN_CFLAGS)" LDFLAGS="$(SAN_LDFLAGS)" \
	  build/asan/leakwatchd

# Fuzz targets (tests/fuzz/fuzz_*.c): `make check` replays their corpora
# (under the sanitizers, through sanitize); `make fuzz` runs each with
# libFuzzer (clang) for FUZZ_SECONDS.
FUZZ_TARGETS = stat text config state regex inspect elf maps plot
FUZZ_SECONDS ?= 300

$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(LIB) $(CORE_LIB)
	@mkdir -p $(BUILD)/fuzz
	$(CC) $(LW_CFLAGS) $(CPPFLAGS) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ tests/fuzz/fuzz_$*.c tests/fuzz/replay.c \
	  -Wl,--start-group $(LIB) $(CORE_LIB) -Wl,--end-group $(LW_LIBS) $(LDLIBS)

fuzz-replay: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)
	@set -e; for t in $(FUZZ_TARGETS); do $(BUILD)/fuzz/replay_$$t tests/fuzz/corpus/$$t; done

fuzz:
	$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang \
	  CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
	  build/fuzz/libleakwatch.a build/fuzz/libleakwatch-core.a
	@set -e; for t in $(FUZZ_TARGETS); do \
	  clang $(LW_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc \
	    -o build/fuzz/fuzz_$$t tests/fuzz/fuzz_$$t.c -Wl,--start-group build/fuzz/libleakwatch.a build/fuzz/libleakwatch-core.a -Wl,--end-group $(LW_LIBS); done
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_TARGETS="$(FUZZ_TARGETS)" sh tests/fuzz/run.sh

# Alias bombs, 10,000 watches, deep nesting, huge files, exponential
# regexes: each refused (or loaded) within 2 s of CPU and 64 MiB.
hostile: $(BUILD)/leakwatchd
	$(PYTHON) tests/hostile_config_test.py --daemon $(BUILD)/leakwatchd

# The daemon as root against processes of uid 65534 that forge pidfiles,
# argv, comm, cgroups, fds and threads (tests/hostile/*.py); needs root.
hostile-proc: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl
	$(PYTHON) tests/hostile_proc_test.py --daemon $(BUILD)/leakwatchd --ctl $(BUILD)/leakwatchctl

scenario: $(BUILD)/leakwatchd
	$(PYTHON) tests/scenario_test.py --daemon $(BUILD)/leakwatchd

action: $(BUILD)/leakwatchd
	$(PYTHON) tests/action_test.py --daemon $(BUILD)/leakwatchd

# A real systemd in a container (debootstrap + systemd-nspawn): the shipped
# unit, READY, restart-unit over D-Bus, a failed reload.
systemd: $(BUILD)/leakwatchd
	sh tests/systemd_test.sh $(BUILD)/leakwatchd

# The Debian package (tests/deb_test.sh): make deb, lintian, then apt
# install, upgrade, remove and purge in a container with a real systemd
# (root; the root file system of `make systemd`; about a minute).
deb-test: $(BUILD)/leakwatchd
	sh tests/deb_test.sh $(BUILD)

# Processes that exit as soon as they are found, pids handed on at once
# (ns_last_pid): in a pid namespace of their own; needs root, else skipped.
race: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl
	$(PYTHON) tests/race_test.py --daemon $(BUILD)/leakwatchd --ctl $(BUILD)/leakwatchctl

# The inspection script (share/leakwatch/inspect.py) run by a SIGUSR1
# handler (no ptrace) in a program per leak cause, a control and a hostile
# one, on every CPython 3.8-3.13 found: both reports checked against the
# format, each cause found; the timing figures with 100k and 1M objects.
inspect-script:
	$(PYTHON) tests/inspect_script_test.py

gunicorn: $(BUILD)/leakwatchd
	$(PYTHON) tests/gunicorn_test.py --daemon $(BUILD)/leakwatchd

# Debian's uWSGI (python3 plugin, --http router): leaking workers recycled
# with SIGHUP under load, none of its requests lost, the master and the
# router never touched.
uwsgi: $(BUILD)/leakwatchd
	$(PYTHON) tests/uwsgi_test.py --daemon $(BUILD)/leakwatchd

# A real Celery worker (Debian's, prefork pool, its own redis-server on
# loopback): leaking pool children recycled after their task in hand (SIGURG
# and the app's hook, tests/programs/celery_app.py), every task done once,
# the main process kept.
celery: $(BUILD)/leakwatchd
	$(PYTHON) tests/celery_test.py --daemon $(BUILD)/leakwatchd

# The shipped conf/leakwatch.yaml (but for its state, textfile and listen
# paths) against Debian's gunicorn, uWSGI and Celery started as the README
# says: each watch finds exactly the workers, nothing else, in two daemons
# (one started before the servers, one after).
shipped-conf: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl
	$(PYTHON) tests/shipped_conf_test.py --daemon $(BUILD)/leakwatchd --ctl $(BUILD)/leakwatchctl

# inspect: python on real leaking programs under every CPython 3.8+ here,
# a leak verdict inspected before its action, and the refusals
inspect: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl
	$(PYTHON) tests/inspect_test.py --daemon $(BUILD)/leakwatchd --ctl $(BUILD)/leakwatchctl

# the same on every pyenv CPython 3.8..3.13 (make check: 3.8, 3.12, 3.13 and Debian's)
inspect-all: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl
	$(PYTHON) tests/inspect_test.py --daemon $(BUILD)/leakwatchd --ctl $(BUILD)/leakwatchctl --all

notify: $(BUILD)/leakwatchd
	$(PYTHON) tests/notify_test.py --daemon $(BUILD)/leakwatchd

journal: $(BUILD)/leakwatchd
	sh tests/journal_test.sh $(BUILD)/leakwatchd

# leakwatchctl against a live daemon, history kept across a SIGKILL,
# Prometheus metrics (promtool, a concurrent textfile reader), captures.
operator: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl
	$(PYTHON) tests/operator_test.py --daemon $(BUILD)/leakwatchd --ctl $(BUILD)/leakwatchctl

# leakwatchctl match with no daemon: exactly the live processes each watch
# matches, each near miss with its reason (the wrong user, parent or
# cmdline; an earlier watch's), undecided when run as nobody; needs root;
# and `leakwatchd -t --show-matches` prints the same report.
match: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl
	$(PYTHON) tests/match_test.py --ctl $(BUILD)/leakwatchctl --daemon $(BUILD)/leakwatchd

# max: N% against real processes' own limits: a lowered RLIMIT_NOFILE, a
# cgroup's pids.max and memory.max (cgroups of its own; those cases need root).
limits: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl
	$(PYTHON) tests/limits_test.py --daemon $(BUILD)/leakwatchd --ctl $(BUILD)/leakwatchctl

# Group totals (group:) against real recycled workers: three pools of 4
# workers living 20 s, two whose sums grow (a group leak each; one dry-run
# restart-unit, one alert), one bounded (nothing); no per-process verdict
# (about 80 s).
group: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl
	@t0=$$(date +%s); $(PYTHON) tests/group_test.py --daemon $(BUILD)/leakwatchd --ctl $(BUILD)/leakwatchctl; \
	  rc=$$?; echo "group: wall $$(( $$(date +%s) - t0 ))s"; exit $$rc

# uss: and pss: against real processes: smaps_rollup read for the watch that
# judges them (status, history, metrics, a uss leak event), for no other.
uss: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl
	$(PYTHON) tests/uss_test.py --daemon $(BUILD)/leakwatchd --ctl $(BUILD)/leakwatchctl

# Pre-fork copy on write: workers that unshare a 200 MiB heap by reading it
# (USS up 6.8 GiB/h, RSS flat) get a uss leak event and no rss one at the
# same rate; frozen ones (read without touching) none (about 80 s).
cow: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl
	$(PYTHON) tests/cow_test.py --daemon $(BUILD)/leakwatchd --ctl $(BUILD)/leakwatchctl

# leakwatchd unprivileged among other users' processes, a /proc before
# Linux 6.2 (the LD_PRELOAD shim) and one mounted hidepid=2; needs root.
perm: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl $(BUILD)/tests/pre62_fd.so
	$(PYTHON) tests/perm_test.py --daemon $(BUILD)/leakwatchd --ctl $(BUILD)/leakwatchctl \
	  --shim $(BUILD)/tests/pre62_fd.so

$(BUILD)/tests/pre62_fd.so: tests/pre62_fd.c
	@mkdir -p $(@D)
	$(CC) $(LW_CFLAGS) $(CPPFLAGS) $(CFLAGS) -shared -fPIC $(LDFLAGS) -o $@ $< -ldl

# A fork storm (thousands of short-lived processes a second, some matching
# the watches) while 50 targets are watched: every leak found, no false
# alarm, the daemon's RSS, fds and scan time flat (tests/churn_test.py).
# `churn` runs it for CHURN_SECONDS, then churn-asan: 20 s on the daemon
# built with ASan+LSan+UBSan, which must exit clean (no leak at exit).
CHURN_SECONDS ?= 60
churn: $(BUILD)/leakwatchd
	$(PYTHON) tests/churn_test.py --daemon $(BUILD)/leakwatchd --seconds $(CHURN_SECONDS)
	$(MAKE) --no-print-directory churn-asan

churn-asan: asan-daemon
	$(PYTHON) tests/churn_test.py --daemon build/asan/leakwatchd --seconds 20 --sanitized

# 500 targets at 200 ms for SOAK_MINUTES (30), with leakers recycled,
# reloads and a light fork load: RSS, fds and scan time flat, figures
# printed every minute (tests/soak.py).  Not part of check.
SOAK_MINUTES ?= 30
soak: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl
	$(PYTHON) tests/soak.py --daemon $(BUILD)/leakwatchd --ctl $(BUILD)/leakwatchctl --minutes $(SOAK_MINUTES)

# Warning-free with both compilers (-Werror), each in its own build dir.
compilers:
	$(MAKE) --no-print-directory -j$(JOBS) BUILD=build/gcc CC=gcc CFLAGS="-O2 -g -Werror" all tests
	$(MAKE) --no-print-directory -j$(JOBS) BUILD=build/clang CC=clang CFLAGS="-O2 -g -Werror" all tests

# The unit file must verify, and its exposure score stay low (bench-like
# figure printed; fails above 3.0, "OK" in systemd-analyze's words).
unitfile: $(BUILD)/leakwatchd
	@sh tests/unit_test.sh systemd/leakwatchd.service.in $(BUILD)/leakwatchd

# src/'s shape: files of at most 500 lines, functions of at most 80, no
# include cycle, core/ pure (its own headers and libc's only) and linking
# with libc and libm alone (tests/layout_check.py prints the link line).
layout: $(CORE_OBJS)
	$(PYTHON) tests/layout_check.py --cc $(CC) --core-objs $(CORE_OBJS)

# The journal catalog must parse, with an entry for every event.
catalog:
	@sh tests/catalog_test.sh systemd/leakwatch.catalog

# The shipped JSON Schemas (share/leakwatch/schema) against the man pages'
# examples, malformed texts and a live daemon, and the tests' validator
# (lwtest.SCHEMAS); the bash completions with bash-completion's helpers.
schema-completion: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl
	$(PYTHON) tests/schema_test.py --daemon $(BUILD)/leakwatchd --ctl $(BUILD)/leakwatchctl
	bash tests/completion_test.sh $(BUILD)/leakwatchd $(BUILD)/leakwatchctl

# A fresh tree: `make demo` would build what it runs, and `make install
# PREFIX=...` after a plain `make` installs a unit and a daemon with that
# PREFIX's paths (tests/install_test.sh; about 20 s).  The demo itself runs
# in check-slow (`make demo`, with the tree's own programs); DEMO=1 runs it
# here too, in the empty tree (25 s more).
install-test:
	sh tests/install_test.sh

# leakwatchctl without a daemon: one-line usage errors (status 2), and the
# width it asks the status table for (tests/ctl_test.py, a second).
ctl: $(BUILD)/leakwatchctl
	$(PYTHON) tests/ctl_test.py --ctl $(BUILD)/leakwatchctl

# The sample Prometheus alerting rules must load, and pass their unit tests.
alerts:
	promtool check rules conf/leakwatch-alerts.yml
	promtool test rules tests/leakwatch-alerts.test.yml

# The Grafana dashboard and the alerting rules use only what a real daemon
# exports, in PromQL that promtool parses (tests/dashboard_test.py).
dashboard: $(BUILD)/leakwatchd
	$(PYTHON) tests/dashboard_test.py --daemon $(BUILD)/leakwatchd

# The real-process tests that mostly wait (for a leak to show, a window to
# fill, a server to boot) and cannot disturb each other: each daemon and
# program carries a marker of its run, its own RUNTIME_DIRECTORY and
# STATE_DIRECTORY, free ports, cgroups named after its run (lwtest's
# make_cgroup), and journal runs in a mount namespace of its own.  Kept out:
# what measures latency or CPU (hostile, hostile-proc's tick times, race,
# inspect-script's pauses, churn), what builds, and systemd's container.
# scenario stays out too: its sawtooth cases (issue 16's: a small leak
# under a large sawtooth, reported within 2.5 windows) came a window late
# beside the others, whatever ran beside it.  check-slow runs them
# CHECK_JOBS at a time, longest first, each one's output into
# BUILD/check-logs/NAME.log, printed whole and in this order once all are
# done, with its exit status, wall time and CPU; it fails when any failed
# (all run all the same).  At 4 at a time on 2 cores, inspect's attaches
# missed their safe point (inspect uses half a core: inspections, and
# noise work under every CPython).
CHECK_SLOW = inspect group cow uss uwsgi gunicorn celery action operator demo shipped-conf journal perm notify limits match
CHECK_JOBS ?= 3

check-slow: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl $(BUILD)/tests/pre62_fd.so
	@rm -rf $(BUILD)/check-logs && mkdir -p $(BUILD)/check-logs
	@t0=$$(date +%s); \
	$(MAKE) --no-print-directory -j$(CHECK_JOBS) $(CHECK_SLOW:%=check-slow-%) >/dev/null 2>&1; \
	wall=$$(($$(date +%s) - t0)); sum=0; failed=; \
	for t in $(CHECK_SLOW); do \
	  read st secs cpu < $(BUILD)/check-logs/$$t.status 2>/dev/null || { st=lost; secs=0; cpu=?; }; \
	  echo "======== make $$t: exit $$st, $$secs s, $$cpu s of CPU"; cat $(BUILD)/check-logs/$$t.log; \
	  sum=$$((sum + secs)); [ "$$st" = 0 ] || failed="$$failed $$t"; \
	done; \
	echo "check-slow: $(words $(CHECK_SLOW)) targets, $(CHECK_JOBS) at a time: $$wall s wall, $$sum s one after another"; \
	[ -z "$$failed" ] || { echo "check-slow: FAILED:$$failed"; exit 1; }

# One of them: its status, wall seconds and CPU seconds (its children's user
# + system, from times) into NAME.status, for check-slow to judge.
check-slow-%:
	@s=$$(date +%s); $(MAKE) --no-print-directory $* > $(BUILD)/check-logs/$*.log 2>&1; st=$$?; \
	times > $(BUILD)/check-logs/$*.times; \
	cpu=$$(awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($$i, t, "m"); c += t[1] * 60 + t[2] } \
	  printf "%.0f", c }' $(BUILD)/check-logs/$*.times); \
	echo "$$st $$(($$(date +%s) - s)) $$cpu" > $(BUILD)/check-logs/$*.status

# What check builds first, JOBS compilers at a time (one at a time, `all`
# and `unit` took twice as long).
check-build:
	$(MAKE) --no-print-directory -j$(JOBS) all tests $(BUILD)/tests/pre62_fd.so

check: check-build all unit golden layout hostile hostile-proc compilers catalog unitfile install-test ctl alerts dashboard schema-completion sanitize scenario check-slow race inspect-script churn-asan systemd deb-test
	@echo "make check: all passed"

demo: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl
	@sh tests/demo.sh $(BUILD)/leakwatchd $(BUILD)/leakwatchctl

# Benchmarks print figures; they do not fail on a goal (bench/README.md,
# BENCHMARKS.md).  `make bench` takes about 22 minutes, bench-full hours.
bench: bench-cpu bench-memory bench-detect bench-scale bench-inspect bench-boundary bench-smaps

bench-full: $(BUILD)/leakwatchd
	$(PYTHON) bench/cpu_matrix.py --daemon $(BUILD)/leakwatchd --build-dir $(BUILD)/bench/matrix \
	  --sizes 10,100,1000,5000 --fds 10,1000 --runs 3 --seconds 20
	$(PYTHON) bench/scale.py all $(BUILD)/leakwatchd
	$(PYTHON) bench/detect.py --daemon $(BUILD)/leakwatchd --full --rates 1024
	BENCH_MEMORY_SECONDS=1800 sh bench/memory.sh $(BUILD)/leakwatchd

# CPU per process-sample beside the floor, psutil, monit and process-exporter
bench-matrix: $(BUILD)/leakwatchd
	$(PYTHON) bench/cpu_matrix.py --daemon $(BUILD)/leakwatchd --build-dir $(BUILD)/bench/matrix \
	  --sizes 10,100,1000 --fds 10 --runs 3 --seconds 10

# time from leak start to the first warning, beside monit and reload-on-rss
bench-detect: $(BUILD)/leakwatchd
	$(PYTHON) bench/detect.py --daemon $(BUILD)/leakwatchd

# discovery among 5000 processes; memory at 10, 1000, 5000 watched
bench-scale: $(BUILD)/leakwatchd
	$(PYTHON) bench/scale.py all $(BUILD)/leakwatchd --runs 1

bench-cpu: $(BUILD)/leakwatchd
	@sh bench/run.sh $(BUILD)/leakwatchd

bench-memory: $(BUILD)/leakwatchd
	@sh bench/memory.sh $(BUILD)/leakwatchd

# the stall an inspection costs the process, 100k and 1M live objects
bench-inspect: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl
	$(PYTHON) bench/inspect.py --daemon $(BUILD)/leakwatchd --ctl $(BUILD)/leakwatchctl

# the detector's boundary (how large a working set hides a leak of 1-4x
# growth) and its false alarms, beside monit, least squares + R^2 and
# Theil-Sen, on the same synthetic series replayed through src/core (a few
# seconds); e.g. BOUNDARY_ARGS="--window 1800 --interval 5 --warmup 300"
BOUNDARY_ARGS ?=
BOUNDARY_SRCS = bench/boundary.c bench/boundary_csv.c bench/boundary_rules.c bench/boundary_series.c
$(BUILD)/bench/boundary: $(BOUNDARY_SRCS) bench/boundary_csv.h bench/boundary_rules.h bench/boundary_series.h $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(LW_CFLAGS) -Isrc $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(BOUNDARY_SRCS) $(CORE_LIB) -lm $(LDLIBS)

bench-boundary: $(BUILD)/bench/boundary
	$(BUILD)/bench/boundary $(BOUNDARY_ARGS)

# what a read of smaps_rollup (uss, pss) costs beside statm and status at
# 10, 100, 1000 MiB resident, what the daemon's budget makes of it, and
# the stall it causes a process that maps and unmaps (about 1.5 min); e.g.
# SMAPS_ARGS="--sizes 10,100,1000,4000 --reads 4000 --stall-seconds 10"
SMAPS_ARGS ?=
$(BUILD)/bench/smaps_cost: bench/smaps_cost.c
	@mkdir -p $(@D)
	$(CC) $(LW_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

bench-smaps: $(BUILD)/bench/smaps_cost
	$(BUILD)/bench/smaps_cost $(SMAPS_ARGS)

# The man pages and the example configuration name installed files by the
# default paths (/usr/local/...): installed, they name this PREFIX's.
# $(call render,SRC,DEST): SRC so rendered, installed as DEST (mode 644).
RENDER_PATHS = sed -e 's|/usr/local/share|$(DATADIR)|g; s|/usr/local/sbin|$(SBINDIR)|g; \
                       s|/usr/local/lib/systemd/catalog|$(CATALOGDIR)|g'
render = $(RENDER_PATHS) $(1) > $(2) && chmod 644 $(2)

# The Debian package (debian/; README "Installing"): built in a temporary
# copy of the tree with dpkg-buildpackage; the .deb lands in DEBDIR.
DEBDIR ?= $(BUILD)/deb
deb:
	sh debian/make-deb.sh $(DEBDIR)

install: $(BUILD)/leakwatchd $(BUILD)/leakwatchctl $(BUILD)/leakwatchd.service
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(CATALOGDIR) $(DESTDIR)$(SYSCONFDIR)/leakwatch $(DESTDIR)$(UNITDIR)
	install -m 755 $(BUILD)/leakwatchd $(DESTDIR)$(SBINDIR)/leakwatchd
	install -m 755 $(BUILD)/leakwatchctl $(DESTDIR)$(BINDIR)/leakwatchctl
	$(call render,man/leakwatchctl.1,$(DESTDIR)$(MANDIR)/man1/leakwatchctl.1)
	$(call render,man/leakwatchd.8,$(DESTDIR)$(MANDIR)/man8/leakwatchd.8)
	$(call render,man/leakwatch.yaml.5,$(DESTDIR)$(MANDIR)/man5/leakwatch.yaml.5)
	install -m 644 systemd/leakwatch.catalog $(DESTDIR)$(CATALOGDIR)/leakwatch.catalog
	install -m 644 $(BUILD)/leakwatchd.service $(DESTDIR)$(UNITDIR)/leakwatchd.service
	install -d $(DESTDIR)$(DATADIR)/leakwatch
	install -m 644 conf/leakwatch-alerts.yml $(DESTDIR)$(DATADIR)/leakwatch/leakwatch-alerts.yml
	install -m 644 conf/leakwatch-grafana.json $(DESTDIR)$(DATADIR)/leakwatch/leakwatch-grafana.json
	install -m 644 share/leakwatch/inspect.py $(DESTDIR)$(DATADIR)/leakwatch/inspect.py
	install -d $(DESTDIR)$(DATADIR)/leakwatch/python
	install -m 644 share/leakwatch/python/leakwatch_celery.py $(DESTDIR)$(DATADIR)/leakwatch/python/leakwatch_celery.py
	install -d $(DESTDIR)$(DATADIR)/doc/leakwatch
	install -m 644 LICENSE $(DESTDIR)$(DATADIR)/doc/leakwatch/copyright
	install -d $(DESTDIR)$(DATADIR)/leakwatch/schema $(DESTDIR)$(BASHCOMPDIR)
	install -m 644 share/leakwatch/schema/event.schema.json share/leakwatch/schema/status.schema.json \
	  share/leakwatch/schema/history.schema.json share/leakwatch/schema/watches.schema.json $(DESTDIR)$(DATADIR)/leakwatch/schema/
	install -m 644 share/bash-completion/completions/leakwatchd share/bash-completion/completions/leakwatchctl \
	  $(DESTDIR)$(BASHCOMPDIR)/
	test -e $(DESTDIR)$(SYSCONFDIR)/leakwatch/leakwatch.yaml || \
	  { $(call render,conf/leakwatch.yaml,$(DESTDIR)$(SYSCONFDIR)/leakwatch/leakwatch.yaml); }

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/leakwatchd $(DESTDIR)$(MANDIR)/man8/leakwatchd.8 \
	  $(DESTDIR)$(BINDIR)/leakwatchctl $(DESTDIR)$(MANDIR)/man1/leakwatchctl.1 \
	  $(DESTDIR)$(MANDIR)/man5/leakwatch.yaml.5 $(DESTDIR)$(CATALOGDIR)/leakwatch.catalog \
	  $(DESTDIR)$(UNITDIR)/leakwatchd.service $(DESTDIR)$(DATADIR)/leakwatch/leakwatch-alerts.yml \
	  $(DESTDIR)$(DATADIR)/leakwatch/inspect.py $(DESTDIR)$(DATADIR)/leakwatch/python/leakwatch_celery.py \
	  $(DESTDIR)$(DATADIR)/doc/leakwatch/copyright \
	  $(DESTDIR)$(DATADIR)/leakwatch/leakwatch-grafana.json \
	  $(DESTDIR)$(DATADIR)/leakwatch/schema/event.schema.json $(DESTDIR)$(DATADIR)/leakwatch/schema/status.schema.json \
	  $(DESTDIR)$(DATADIR)/leakwatch/schema/history.schema.json $(DESTDIR)$(DATADIR)/leakwatch/schema/watches.schema.json \
	  $(DESTDIR)$(BASHCOMPDIR)/leakwatchd $(DESTDIR)$(BASHCOMPDIR)/leakwatchctl

clean:
	rm -rf build

.PHONY: FORCE all tests unit golden check-build check-slow layout hostile hostile-proc inspect-script inspect-all fuzz fuzz-replay compilers catalog unitfile install-test ctl alerts dashboard schema-completion sanitize asan-daemon churn churn-asan soak scenario action race gunicorn uwsgi celery shipped-conf inspect notify journal operator match limits uss cow perm group systemd check demo bench bench-full bench-matrix bench-detect bench-scale bench-cpu bench-memory bench-inspect bench-boundary bench-smaps deb deb-test install uninstall clean
