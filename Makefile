# mod_wsgi_lite: build with apxs against Debian's Python.
#
#   make            build .libs/mod_wsgi_lite.so (-Wall -Wextra -Werror)
#   make install    install the module into Apache's module directory (apxs
#                   -i) and the launcher, mod_wsgi_lite-express, into
#                   $(BINDIR) (/usr/local/bin); DESTDIR=... stages both
#   make run        build, then serve the demo app on 127.0.0.1:8000
#                   through the launcher (scripts/run-demo.sh)
#   make test       build, then run the Apache::Test suite (event + prefork)
#   make test-pythons  the suite against other Pythons (PYTHONS=3.12 3.13:
#                   pyenv builds, copied to /opt/wsl-python), each built
#                   in build/pyX.Y/; make test-python PYTHON_CONFIG=...
#                   for one (a distribution's /usr/bin/python3.X-config)
#   make bench      build, then bench/run.py: static Apache, mod_wsgi and
#                   mod_wsgi_lite side by side under wrk (BENCH_ARGS=--quick),
#                   then bench-pool
#   make bench-pool bench/pool.py (issue 18): pools of interpreters with
#                   their own GIL against one shared-GIL interpreter and
#                   prefork, on the newest Python 3.12+ there is
#                   (POOL_ARGS=--quick)
#   make asan       the suite against an ASan+UBSan build (build/asan/)
#   make tsan       the suite (event MPM) against a ThreadSanitizer build
#                   (build/tsan/); TSAN_ARGS=t/concurrency.t for some tests
#   make tsan-soak  a short soak/run.py (hostile-heavy) against that build
#   make valgrind   a short load on `apache2 -X` under valgrind memcheck
#   make callgrind  instructions per hello request (and inclusive for the
#                   environ) under callgrind, `apache2 -X`: bench/callgrind.py;
#                   CALLGRIND_SO=... measures another build (for instance
#                   the branch point, built in a worktree of its own),
#                   CALLGRIND_ARGS="--requests 200,1000 --mpm event"
#   make fuzz       libFuzzer targets in fuzz/, FUZZ_SECONDS (60) each
#   make soak       build, then soak/run.py: 200,000 mixed requests with the
#                   children's RSS followed, 1,000 of each bad application,
#                   graceful restarts and stop under load (several minutes;
#                   SOAK_REQUESTS=20000 make soak for a smoke run), then
#                   soak/daemon.py: the same in daemon mode, against
#                   Debian's mod_wsgi daemon mode (make soak-daemon alone;
#                   SOAK_DAEMON_REQUESTS=20000 for a smoke run)
#   make clean
#
# The Python that Apache embeds is chosen explicitly: a pyenv python3 first
# on PATH must never be picked up.  Override with PYTHON_CONFIG=...

PYTHON_CONFIG ?= /usr/bin/python3-config
PYTHON        ?= $(patsubst %-config,%,$(PYTHON_CONFIG))
APXS          ?= /usr/bin/apxs
PREFIX        ?= /usr/local
BINDIR        ?= $(PREFIX)/bin
DESTDIR       ?=

PY_INCLUDES := $(shell $(PYTHON_CONFIG) --includes 2>/dev/null)
PY_PREFIX   := $(shell $(PYTHON_CONFIG) --prefix 2>/dev/null)
PY_CONFIG_LDFLAGS := $(shell $(PYTHON_CONFIG) --embed --ldflags 2>/dev/null)
# X.Y (with its ABI flags) from -lpythonX.Y: names the build/pyX.Y/ tree.
PY_VERSION  := $(patsubst -lpython%,%,$(filter -lpython%,$(PY_CONFIG_LDFLAGS)))
# A pyenv-style python3.X-config hard-codes -L and -Wl,-rpath for the
# prefix it was built in, even when the tree has been copied elsewhere
# (make test-pythons copies /root/.pyenv builds, which Apache's user
# cannot read, to /opt/wsl-python): point both at the config's own
# prefix, where its libpython is.  Debian's configs carry no rpath and
# are left as they are.
comma       := ,
PY_RPATHS   := $(patsubst -Wl$(comma)-rpath$(comma)%,%,$(filter -Wl$(comma)-rpath$(comma)%,$(PY_CONFIG_LDFLAGS)))
PY_LIBDIR   := $(if $(PY_RPATHS),$(PY_PREFIX)/lib)
PY_LDFLAGS  := $(if $(PY_LIBDIR),-L$(PY_LIBDIR) -Wl$(comma)-rpath$(comma)$(PY_LIBDIR)) \
               $(filter-out -Wl$(comma)-rpath$(comma)% $(addprefix -L,$(PY_RPATHS) $(PY_LIBDIR)),$(PY_CONFIG_LDFLAGS))
# The interpreter's own path, so libpython finds its prefix from it rather
# than from whatever python3 is first on Apache's PATH.
PY_EXE      := $(shell $(PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
CDEFS   := -DWSL_PYTHON_EXECUTABLE=$(PY_EXE)
EXTRA_CFLAGS ?= -O2
EXTRA_LDFLAGS ?=

SRCS := mod_wsgi_lite.c $(wildcard src/*/*.c)
HDRS := $(wildcard src/*/*.h)
SO   := .libs/mod_wsgi_lite.so

all: $(SO)

# What the default build takes from PYTHON_CONFIG, so that another
# PYTHON_CONFIG rebuilds .libs/ (build/apxs.flags changes only with it).
APXS_PY_FLAGS := $(PY_INCLUDES) $(PY_LDFLAGS) $(CDEFS)
build/apxs.flags: FORCE
	@mkdir -p build
	@echo '$(APXS_PY_FLAGS)' | cmp -s - $@ || echo '$(APXS_PY_FLAGS)' >$@

$(SO): $(SRCS) $(HDRS) Makefile build/apxs.flags
	@test -x "$(APXS)" || { echo "apxs not found: run scripts/deps.sh (or make deps)"; exit 1; }
	@test -n "$(PY_EXE)" || { echo "$(PYTHON) not found"; exit 1; }
	@echo "apxs -c $(SRCS)  (full log: build.log)"
	@$(APXS) -c -o mod_wsgi_lite.la \
	    $(foreach f,$(WARN) $(EXTRA_CFLAGS) $(PY_INCLUDES) -Isrc $(CDEFS),-Wc,$(f)) \
	    $(foreach f,$(EXTRA_LDFLAGS),-Wl,$(f)) \
	    $(SRCS) $(PY_LDFLAGS) >build.log 2>&1 || \
	    { grep -E 'error|warning|undefined' build.log || cat build.log; exit 1; }

# The module against another Python, in a tree of its own: build/pyX.Y/
# (make python-so PYTHON_CONFIG=/usr/bin/python3.12-config, or what make
# test-pythons passes).  Compiled with apxs's own compiler and flags, one
# object per source under build/pyX.Y/, so no object of another Python is
# ever linked in; build/pyX.Y/flags holds the command lines, and a change
# of Python (a new copy, another config) rebuilds everything.
PY_BUILD     := build/py$(PY_VERSION)
PY_BUILD_SO  := $(PY_BUILD)/mod_wsgi_lite.so
PY_BUILD_OBJS := $(patsubst %.c,$(PY_BUILD)/%.o,$(SRCS))
APXS_CC       = $(shell $(APXS) -q CC)
APXS_CFLAGS   = $(shell $(APXS) -q CFLAGS) $(shell $(APXS) -q CPPFLAGS) $(APXS_DEFS)
APXS_LDFLAGS  = $(filter -Wl$(comma)%,$(shell $(APXS) -q LDFLAGS))
PY_BUILD_CFLAGS = $(APXS_CFLAGS) -fPIC -DPIC $(APXS_INCLUDES) $(WARN) \
                  $(EXTRA_CFLAGS) $(PY_INCLUDES) -Isrc $(CDEFS)
PY_BUILD_LDFLAGS = -shared $(APXS_LDFLAGS) $(EXTRA_LDFLAGS)

python-so: $(PY_BUILD_SO)

FORCE:

$(PY_BUILD)/flags: FORCE
	@test -n "$(PY_VERSION)" || { echo "$(PYTHON_CONFIG) --embed --ldflags names no libpython"; exit 1; }
	@test -n "$(PY_EXE)" || { echo "$(PYTHON) not found"; exit 1; }
	@mkdir -p $(PY_BUILD)
	@printf '%s\n' '$(APXS_CC) $(PY_BUILD_CFLAGS)' '$(PY_BUILD_LDFLAGS) $(PY_LDFLAGS)' | \
	    cmp -s - $@ || \
	    printf '%s\n' '$(APXS_CC) $(PY_BUILD_CFLAGS)' '$(PY_BUILD_LDFLAGS) $(PY_LDFLAGS)' >$@

$(PY_BUILD)/%.o: %.c $(HDRS) $(PY_BUILD)/flags
	@mkdir -p $(@D)
	@$(APXS_CC) $(PY_BUILD_CFLAGS) -c $< -o $@ >$@.log 2>&1 || { cat $@.log; exit 1; }

$(PY_BUILD_SO): $(PY_BUILD_OBJS)
	@echo "$(APXS_CC) ... $(PY_LDFLAGS) -> $@  (Python $(PY_VERSION), $(PYTHON_CONFIG))"
	@$(APXS_CC) $(PY_BUILD_LDFLAGS) $(PY_BUILD_OBJS) -o $@ $(PY_LDFLAGS) >$(PY_BUILD)/link.log 2>&1 || \
	    { cat $(PY_BUILD)/link.log; exit 1; }

# Sanitizer build: compiled straight with $(ASAN_CC) into build/asan/, so the
# normal build's objects are never touched.  Apache and Python are not
# instrumented; scripts/asan.sh preloads the runtimes into httpd.
ASAN_CC     ?= gcc
ASAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -O1 -g
# One tree per Python (make asan PYTHON_CONFIG=... for another).
ASAN_SO     := build/asan/py$(PY_VERSION)/mod_wsgi_lite.so
APXS_INCLUDES = -I$(shell $(APXS) -q INCLUDEDIR) -I$(shell $(APXS) -q APR_INCLUDEDIR)
APXS_DEFS     = $(shell $(APXS) -q EXTRA_CPPFLAGS)

$(ASAN_SO): $(SRCS) $(HDRS) Makefile
	@mkdir -p $(@D)
	@echo "$(ASAN_CC) $(ASAN_FLAGS) -> $@  (log: $(@D)/build.log)"
	@$(ASAN_CC) -shared -fPIC $(ASAN_FLAGS) $(WARN) $(APXS_DEFS) \
	    $(APXS_INCLUDES) $(PY_INCLUDES) -Isrc $(CDEFS) -DWSL_SANITIZE \
	    $(SRCS) -o $@ $(PY_LDFLAGS) >$(@D)/build.log 2>&1 || \
	    { cat $(@D)/build.log; exit 1; }

asan: test-deps $(ASAN_SO)
	CC=$(ASAN_CC) WSL_SAN_SO=$(CURDIR)/$(ASAN_SO) WSL_PYTHON=$(PY_EXE) ./scripts/asan.sh

# ThreadSanitizer build, the same way: gcc straight into build/tsan/, Python
# on malloc (-DWSL_SANITIZE); scripts/tsan.sh preloads libtsan into httpd
# and runs the suite under the event MPM (worker threads are the point).
TSAN_CC     ?= gcc
TSAN_FLAGS  := -fsanitize=thread -fno-omit-frame-pointer -O1 -g
TSAN_SO     := build/tsan/py$(PY_VERSION)/mod_wsgi_lite.so
TSAN_ARGS   ?=

$(TSAN_SO): $(SRCS) $(HDRS) Makefile
	@mkdir -p $(@D)
	@echo "$(TSAN_CC) $(TSAN_FLAGS) -> $@  (log: $(@D)/build.log)"
	@$(TSAN_CC) -shared -fPIC $(TSAN_FLAGS) $(WARN) $(APXS_DEFS) \
	    $(APXS_INCLUDES) $(PY_INCLUDES) -Isrc $(CDEFS) -DWSL_SANITIZE \
	    $(SRCS) -o $@ $(PY_LDFLAGS) >$(@D)/build.log 2>&1 || \
	    { cat $(@D)/build.log; exit 1; }

tsan-deps:
	./scripts/deps.sh libtsan2

tsan: test-deps tsan-deps $(TSAN_SO)
	CC=$(TSAN_CC) WSL_SAN_SO=$(CURDIR)/$(TSAN_SO) WSL_PYTHON=$(PY_EXE) ./scripts/tsan.sh $(TSAN_ARGS)

# The same wrapper under a short soak/run.py weighted to the hostile
# applications (threads that outlive their requests).
tsan-soak: deps tsan-deps $(TSAN_SO)
	CC=$(TSAN_CC) WSL_SAN_SO=$(CURDIR)/$(TSAN_SO) WSL_PYTHON=$(PY_EXE) ./scripts/tsan.sh --soak

# libFuzzer targets over src/common/validate.c and wire.c (no Apache, no
# Python).  Each runs
# FUZZ_SECONDS from its committed seed corpus fuzz/corpus/<target>/; new
# inputs go to build/fuzz/corpus/<target>/, crashes to build/fuzz/.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := fuzz_response fuzz_header_key fuzz_alias fuzz_wire
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=undefined -fno-omit-frame-pointer

build/fuzz/%: fuzz/%.c src/common/validate.c src/common/validate.h \
             src/common/wire.c src/common/wire.h src/common/snapshot.h Makefile
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -Wall -Wextra -Werror -Isrc \
	    fuzz/$*.c src/common/validate.c src/common/wire.c -o $@

fuzz-deps:
	./scripts/deps.sh clang libclang-rt-14-dev

fuzz: fuzz-deps $(addprefix build/fuzz/,$(FUZZ_TARGETS))
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./scripts/fuzz.sh $(FUZZ_TARGETS)

valgrind-deps:
	./scripts/deps.sh valgrind

valgrind: valgrind-deps all
	./scripts/valgrind.sh

# Counting instructions, not timing: other load on the machine does not
# change the figures.  Two runs of apache2 -X per variant, a few minutes.
CALLGRIND_SO   ?= .libs/mod_wsgi_lite.so
CALLGRIND_ARGS ?=
callgrind: valgrind-deps all
	/usr/bin/python3 bench/callgrind.py --so $(CALLGRIND_SO) $(CALLGRIND_ARGS)

install: $(SO)
	@libexec=$$($(APXS) -q LIBEXECDIR) && \
	    install -d "$(DESTDIR)$$libexec" && \
	    echo "apxs -i: $(DESTDIR)$$libexec/mod_wsgi_lite.so" && \
	    $(APXS) -i -S LIBEXECDIR="$(DESTDIR)$$libexec" -n wsgi_lite \
	        mod_wsgi_lite.la >>build.log 2>&1 || \
	    { tail -20 build.log; exit 1; }
	install -d "$(DESTDIR)$(BINDIR)"
	install -m 755 scripts/mod_wsgi_lite-express \
	    "$(DESTDIR)$(BINDIR)/mod_wsgi_lite-express"

deps:
	./scripts/deps.sh

# The suite also needs the applications and clients of t/apps.t.
test-deps:
	./scripts/deps.sh --tests

run: deps
	$(MAKE) all
	./scripts/run-demo.sh

# WSL_PYTHON: the interpreter the module was built for, which t/python.t
# compares with the one the server embeds.
test: test-deps
	$(MAKE) all
	./scripts/check-calls.py
	WSL_PYTHON=$(PY_EXE) ./t/run.sh

# The suite against the build/pyX.Y/ tree of PYTHON_CONFIG (TESTS= some
# files), e.g. make test-python PYTHON_CONFIG=/usr/bin/python3.12-config.
TESTS ?=
test-python: test-deps $(PY_BUILD_SO)
	WSL_MODULE_SO=$(CURDIR)/$(PY_BUILD_SO) WSL_PYTHON=$(PY_EXE) ./t/run.sh $(TESTS)

# The suite against each of PYTHONS, pyenv builds under PYENV_VERSIONS
# copied to PYTHON_COPIES (Apache's user cannot read /root) or paths of
# pythonX.Y-config scripts: scripts/test-pythons.sh, one test-python each.
PYTHONS        ?= 3.12 3.13
PYENV_VERSIONS ?= /root/.pyenv/versions
PYTHON_COPIES  ?= /opt/wsl-python
test-pythons: test-deps pythons-deps
	PYENV_VERSIONS=$(PYENV_VERSIONS) PYTHON_COPIES=$(PYTHON_COPIES) \
	    TESTS="$(TESTS)" ./scripts/test-pythons.sh $(PYTHONS)

# patchelf: scripts/python-copy.sh points the copy's interpreter at its
# own libpython.
pythons-deps:
	./scripts/deps.sh patchelf

# No file of src/ calls a function of a file that calls it back.
check-calls: all
	./scripts/check-calls.py -v

# bench/deps.sh adds wrk and Debian's mod_wsgi (the reference) when missing.
bench: deps pythons-deps
	./bench/deps.sh
	$(MAKE) all
	/usr/bin/python3 bench/run.py $(BENCH_ARGS)
	$(MAKE) --no-print-directory bench-pool-newest

# bench/pool.py, pools of sub-interpreters with their own GIL (issue 18),
# needs Python 3.12 or later: the module is built into build/pyX.Y/ for
# the newest Python newer than Debian's that scripts/python-config.sh
# finds (the one make test-pythons PYTHONS=newest tests, copied to
# PYTHON_COPIES), else for Debian's own if it is 3.12 or later; with
# neither, it is skipped and says why.  POOL_ARGS go to pool.py; by
# default the options of BENCH_ARGS it shares (--quick, --pin, --runs=N,
# --duration=N, --warmup=N).
POOL_ARGS ?= $(filter --quick --pin --runs=% --duration=% --warmup=%,$(BENCH_ARGS))
bench-pool: deps pythons-deps
	./bench/deps.sh
	$(MAKE) --no-print-directory bench-pool-newest

bench-pool-newest:
	@export PYENV_VERSIONS=$(PYENV_VERSIONS) PYTHON_COPIES=$(PYTHON_COPIES); \
	debian=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	xy=$$(./scripts/python-config.sh newest) || exit 1; \
	if [ -n "$$xy" ] && [ "$${xy#3.}" -ge 12 ]; then \
	    config=$$(./scripts/python-config.sh "$$xy") || exit 1; \
	elif [ "$${debian#3.}" -ge 12 ]; then \
	    xy=$$debian; config=$(PYTHON_CONFIG); \
	else \
	    echo "bench-pool: skipped: no Python 3.12 or later (Debian's is" \
	         "$$debian, and there is none newer under $(PYENV_VERSIONS) or" \
	         "$(PYTHON_COPIES)): a pool's own GIL needs one"; \
	    exit 0; \
	fi; \
	echo "bench-pool: Python $$xy ($$config)"; \
	$(MAKE) --no-print-directory bench-pool-run PYTHON_CONFIG="$$config"

bench-pool-run: $(PY_BUILD_SO)
	/usr/bin/python3 bench/pool.py --module $(CURDIR)/$(PY_BUILD_SO) $(POOL_ARGS)

soak: deps
	$(MAKE) all
	$(PYTHON) soak/run.py
	sh bench/deps.sh
	$(PYTHON) soak/daemon.py

# The daemon-mode soak alone: soak/daemon.py, mod_wsgi_lite against
# Debian's mod_wsgi (installed by bench/deps.sh) in daemon mode.
soak-daemon: deps
	$(MAKE) all
	sh bench/deps.sh
	$(PYTHON) soak/daemon.py

clean:
	rm -rf .libs src/*/.libs build.log *.la *.lo *.slo *.o src/*/*.lo src/*/*.slo src/*/*.o src/*/*.la
	rm -rf t/logs t/TEST t/conf/apache_test_config.pm build/asan build/tsan build/valgrind build/fuzz
	rm -rf build/py[0-9]* build/apxs.flags

.PHONY: all install deps test-deps run test check-calls bench soak soak-daemon clean asan tsan tsan-deps tsan-soak valgrind \
	valgrind-deps fuzz fuzz-deps python-so test-python test-pythons pythons-deps FORCE callgrind \
	bench-pool bench-pool-newest bench-pool-run
