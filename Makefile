# esphooks - email provider webhooks into PostgreSQL.
#
#   make run      install what is missing, build, start PostgreSQL, nginx
#                 and the programs under ./var (see deploy/stack.sh)
#   make stop     stop what 'make run' started
#   make test     build and run every test (unit, CGI, nginx + PostgreSQL)
#   make          build the programs into cgi-bin/
#
#   make sanitize the whole suite under ASan+UBSan
#   make valgrind the CGI-mode tests under valgrind
#   make fuzz     the libFuzzer targets of fuzz/, FUZZ_SECONDS (60) each
#   make report   the reports for the 'make run' database; FROM=, TO=
#                 (dates, TO excluded), RECIPIENT= (README, Reports)
#   make sample-data  N (1000000) synthetic events into that database
#   make bench    the figures of SPEC §7 against their ceilings, on a
#                 private stack, BENCH_SECONDS (10) per scenario
#
# SANITIZER=address,undefined builds with those sanitizers (as redis does).

PREFIX	?= /usr/local
CC	?= cc
PKGS	 = fcgi json-c libpq

# Recursive on purpose: on a fresh machine 'make run' installs the -dev
# packages first, and pkg-config must be asked after that.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))

WARNINGS = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wwrite-strings -Wformat=2 -Wundef -Wvla \
	   -Wold-style-definition -Wredundant-decls -Wnested-externs
CFLAGS	?= -O2 -g
ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE $(WARNINGS) $(WERROR) $(CFLAGS) \
	     -Ilib $(PKG_CFLAGS) -MMD -MP
ifdef SANITIZER
ALL_CFLAGS += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer
LDFLAGS    += -fsanitize=$(SANITIZER)
endif

B	 = build
LIB_SRC	 = $(wildcard lib/*.c)
LIB_OBJ	 = $(LIB_SRC:lib/%.c=$(B)/lib/%.o)
PROVIDERS = $(patsubst cgi-bin/%.c,%,$(wildcard cgi-bin/*.c))
PROGRAMS = $(PROVIDERS:%=cgi-bin/%)
TEST_SRC = $(wildcard tests/unit/*.c)
TESTS	 = $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)
# The provider tables without their main(), for tests and fuzzing.
TABLES	 = $(PROVIDERS:%=$(B)/tables/%.o)

all: $(PROGRAMS) $(TESTS)

$(B)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/cgi-bin/%.o: cgi-bin/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/tables/%.o: cgi-bin/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DESPHOOKS_NO_MAIN -c -o $@ $<

$(B)/libesphooks.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

cgi-bin/%: $(B)/cgi-bin/%.o $(B)/libesphooks.a
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(PKG_LIBS)

# $^ would also hold the headers that the .d files add.
$(B)/tests/%: tests/unit/%.c $(TABLES) $(B)/libesphooks.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(PKG_LIBS)

deps:
	deploy/stack.sh deps

run: deps
	$(MAKE) all
	deploy/stack.sh up

stop:
	deploy/stack.sh down

migrate:
	sql/migrate.sh

report:
	deploy/report.sh $(if $(FROM),--from '$(FROM)') $(if $(TO),--to '$(TO)') \
	    $(if $(RECIPIENT),--recipient '$(RECIPIENT)') $(if $(LIMIT),--limit '$(LIMIT)')

N ?= 1000000
sample-data:
	tests/bin/gen-events $(N)

test: deps
	$(MAKE) all WERROR=$(WERROR)
	tests/run

# The whole suite with ASan and UBSan (errors fatal, leaks reported);
# rebuilds from clean before and after, so no sanitized binary is left.
sanitize: deps
	$(MAKE) clean
	$(MAKE) test SANITIZER=address,undefined \
	    CFLAGS="-O1 -g -fno-sanitize-recover=all"; \
	rc=$$?; $(MAKE) clean; exit $$rc

# The CGI-mode tests with each request under valgrind: any error, or a
# definite or indirect leak, fails the run.
valgrind:
	ESPHOOKS_EXTRA_PACKAGES=valgrind deploy/stack.sh deps
	$(MAKE) all
	ESPHOOKS_VALGRIND=1 tests/run tests/25-cgi.t

# Loopback only, bounded, its own stack (bench/run); timings are
# printed, never asserted.  wrk is installed when missing.
bench: deps
	ESPHOOKS_EXTRA_PACKAGES=wrk deploy/stack.sh deps
	$(MAKE) all $(B)/bench/copybench
	bench/run

$(B)/bench/copybench: bench/copybench.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -pthread -o $@ $< $(PKG_LIBS)

clean:
	rm -rf $(B) $(PROGRAMS)

include fuzz/fuzz.mk

.PHONY: all deps run stop migrate report sample-data test sanitize valgrind fuzz \
	bench clean
.SECONDARY:

-include $(shell find $(B) -name '*.d' 2>/dev/null)
