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
#                 (dates, TO excluded), RECIPIENT= (doc/reports.md)
#   make sample-data  N (1000000) synthetic events into that database
#   make bench    the figures of SPEC §7 against their ceilings, on a
#                 private stack, BENCH_SECONDS (10) per scenario
#
#   make install  the programs, SQL, nginx and Apache snippets, systemd
#                 units and the docs into PREFIX (/usr/local), DESTDIR
#                 honoured; the layout is in doc/install.md.  make
#                 uninstall undoes it.
#   make migrate  apply sql/ to the database the PG* variables name
#
# SANITIZER=address,undefined builds with those sanitizers (as redis does).

PREFIX	?= /usr/local
# Where 'make install' puts things (doc/install.md).  /etc and /run are
# not under PREFIX: systemd units and web servers name them absolutely.
LIBEXECDIR ?= $(PREFIX)/libexec/esphooks
DATADIR	?= $(PREFIX)/share/esphooks
DOCDIR	?= $(PREFIX)/share/doc/esphooks
UNITDIR	?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
# The systemd units deploy/systemd/<unit>.in become.
UNITS	 = esphooks@.socket esphooks@.service esphooks-replay@.service
SYSCONFDIR ?= /etc
RUNDIR	?= /run/esphooks
# The units' StateDirectory= (always under /var/lib): the spools.
STATEDIR = /var/lib/esphooks
# The web server's user and group: they own the sockets' group (nginx
# and Apache connect) and, in CGI mode, the CGI spool.
WEB_USER ?= www-data
WEB_GROUP ?= www-data
# The database the CGI variant (Apache mod_cgi) reaches.
CGI_PGHOST ?= /run/postgresql
CGI_PGPORT ?= 5432
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

# make puts command-line variables in the recipe's environment: taken
# from there, a value is never parsed by the shell.
report:
	deploy/report.sh $(if $(FROM),--from "$$FROM") $(if $(TO),--to "$$TO") \
	    $(if $(RECIPIENT),--recipient "$$RECIPIENT") \
	    $(if $(LIMIT),--limit "$$LIMIT")

N ?= 1000000
sample-data:
	tests/bin/gen-events $(N)

# Beyond what 'make run' needs: Apache for tests/90-apache.t, strace
# for tests/77-durable.t.
test-deps:
	ESPHOOKS_EXTRA_PACKAGES="apache2 strace $${ESPHOOKS_EXTRA_PACKAGES:-}" deploy/stack.sh deps

test: test-deps
	$(MAKE) all WERROR=$(WERROR)
	tests/run

# The whole suite with ASan and UBSan (errors fatal, leaks reported);
# rebuilds from clean before and after, so no sanitized binary is left.
sanitize:
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
# One deps run: the stack's packages and wrk together.
bench:
	ESPHOOKS_EXTRA_PACKAGES=wrk deploy/stack.sh deps
	$(MAKE) all $(B)/bench/copybench
	bench/run

$(B)/bench/copybench: bench/copybench.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -pthread -o $@ $< $(PKG_LIBS)

clean:
	rm -rf $(B) $(PROGRAMS)

# The @...@ names of the templates in nginx/ and deploy/.
SUBST = sed -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' \
	-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
	-e 's|@RUNDIR@|$(RUNDIR)|g' -e 's|@HTPASSWD@|$(SYSCONFDIR)/esphooks/htpasswd|g' \
	-e 's|@CGI_SPOOL@|$(STATEDIR)/cgi-spool|g' \
	-e 's|@WEB_USER@|$(WEB_USER)|g' -e 's|@WEB_GROUP@|$(WEB_GROUP)|g' \
	-e 's|@PGHOST@|$(CGI_PGHOST)|g' -e 's|@PGPORT@|$(CGI_PGPORT)|g'
D	 = $(DESTDIR)

# Files under PREFIX are replaced by each install: do not edit them.
# $(SYSCONFDIR)/esphooks/esphooks.conf is written only if it is absent.
install: $(PROGRAMS)
	install -d $(D)$(LIBEXECDIR) $(D)$(DATADIR)/sql $(D)$(DATADIR)/nginx \
	    $(D)$(DATADIR)/apache $(D)$(DOCDIR)/doc $(D)$(UNITDIR) \
	    $(D)$(SYSUSERSDIR) $(D)$(SYSCONFDIR)/esphooks
	install -m 755 $(PROGRAMS) $(D)$(LIBEXECDIR)/
	install -m 644 sql/[0-9][0-9][0-9]_*.sql $(D)$(DATADIR)/sql/
	install -m 755 sql/migrate.sh $(D)$(DATADIR)/sql/
	$(SUBST) nginx/locations.conf.in >$(D)$(DATADIR)/nginx/locations.conf
	$(SUBST) deploy/apache/esphooks-fcgi.conf.in >$(D)$(DATADIR)/apache/esphooks-fcgi.conf
	$(SUBST) deploy/apache/esphooks-cgi.conf.in >$(D)$(DATADIR)/apache/esphooks-cgi.conf
	for u in $(UNITS); do \
	    $(SUBST) deploy/systemd/$$u.in >$(D)$(UNITDIR)/$$u || exit 1; done
	chmod 644 $(D)$(DATADIR)/nginx/*.conf $(D)$(DATADIR)/apache/*.conf \
	    $(addprefix $(D)$(UNITDIR)/,$(UNITS))
	install -m 644 deploy/systemd/esphooks.sysusers $(D)$(SYSUSERSDIR)/esphooks.conf
	install -m 644 deploy/esphooks.conf $(D)$(DATADIR)/esphooks.conf.example
	test -e $(D)$(SYSCONFDIR)/esphooks/esphooks.conf || \
	    install -m 644 deploy/esphooks.conf $(D)$(SYSCONFDIR)/esphooks/esphooks.conf
	install -m 644 README.md $(D)$(DOCDIR)/
	install -m 644 doc/*.md $(D)$(DOCDIR)/doc/
	@echo "Installed.  Next (doc/install.md): systemd-sysusers; the database"
	@echo "and 'make migrate'; $(SYSCONFDIR)/esphooks/htpasswd; systemctl daemon-reload;"
	@echo "systemctl enable --now esphooks@{mailjet,sendpulse,aldeamo}.socket;"
	@echo "include $(DATADIR)/nginx/locations.conf in your nginx server {}."

# Leaves $(SYSCONFDIR)/esphooks (settings, credentials) and
# $(STATEDIR) (the spool: it may hold events) alone.
uninstall:
	rm -f $(addprefix $(D)$(LIBEXECDIR)/,$(PROVIDERS))
	rm -rf $(D)$(DATADIR) $(D)$(DOCDIR)
	rm -f $(addprefix $(D)$(UNITDIR)/,$(UNITS)) \
	    $(D)$(SYSUSERSDIR)/esphooks.conf
	-rmdir $(D)$(LIBEXECDIR)

include fuzz/fuzz.mk

.PHONY: all deps test-deps run stop migrate report sample-data test sanitize \
	valgrind fuzz bench clean install uninstall
.SECONDARY:

-include $(shell find $(B) -name '*.d' 2>/dev/null)
