# mod_wsgi_lite: build with apxs against Debian's Python.
#
#   make            build .libs/mod_wsgi_lite.so (-Wall -Wextra -Werror)
#   make install    install it into Apache's module directory (apxs -i)
#   make run        build, then serve the demo app on 127.0.0.1:8000
#   make test       build, then run the Apache::Test suite (event + prefork)
#   make soak       build, then soak/run.py: 200,000 mixed requests with the
#                   children's RSS followed, 1,000 of each bad application,
#                   graceful restarts and stop under load (several minutes;
#                   SOAK_REQUESTS=20000 make soak for a smoke run)
#   make clean
#
# The Python that Apache embeds is chosen explicitly: a pyenv python3 first
# on PATH must never be picked up.  Override with PYTHON_CONFIG=...

PYTHON_CONFIG ?= /usr/bin/python3-config
PYTHON        ?= $(patsubst %-config,%,$(PYTHON_CONFIG))
APXS          ?= /usr/bin/apxs

PY_INCLUDES := $(shell $(PYTHON_CONFIG) --includes 2>/dev/null)
PY_LDFLAGS  := $(shell $(PYTHON_CONFIG) --embed --ldflags 2>/dev/null)
# The interpreter's own path, so libpython finds its prefix from it rather
# than from whatever python3 is first on Apache's PATH.
PY_EXE      := $(shell $(PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
CDEFS   := -DWSL_PYTHON_EXECUTABLE=$(PY_EXE)
EXTRA_CFLAGS ?= -O2
EXTRA_LDFLAGS ?=

SRCS := mod_wsgi_lite.c $(wildcard src/*.c)
HDRS := $(wildcard src/*.h)
SO   := .libs/mod_wsgi_lite.so

all: $(SO)

$(SO): $(SRCS) $(HDRS) Makefile
	@test -x "$(APXS)" || { echo "apxs not found: run scripts/deps.sh (or make deps)"; exit 1; }
	@test -n "$(PY_EXE)" || { echo "$(PYTHON) not found"; exit 1; }
	@echo "apxs -c $(SRCS)  (full log: build.log)"
	@$(APXS) -c -o mod_wsgi_lite.la \
	    $(foreach f,$(WARN) $(EXTRA_CFLAGS) $(PY_INCLUDES) -Isrc $(CDEFS),-Wc,$(f)) \
	    $(foreach f,$(EXTRA_LDFLAGS),-Wl,$(f)) \
	    $(SRCS) $(PY_LDFLAGS) >build.log 2>&1 || \
	    { grep -E 'error|warning|undefined' build.log || cat build.log; exit 1; }

install: $(SO)
	$(APXS) -i -n wsgi_lite mod_wsgi_lite.la

deps:
	./scripts/deps.sh

run: deps
	$(MAKE) all
	./scripts/run-demo.sh

test: deps
	$(MAKE) all
	./t/run.sh

soak: deps
	$(MAKE) all
	$(PYTHON) soak/run.py

clean:
	rm -rf .libs src/.libs build.log *.la *.lo *.slo *.o src/*.lo src/*.slo src/*.o src/*.la
	rm -rf t/logs t/TEST t/conf/apache_test_config.pm

.PHONY: all install deps run test soak clean
