# fuzz/fuzz.mk - libFuzzer targets beside the parsers (included by the
# top Makefile; see fuzz/README.md).
#
#   make fuzz                  install clang if missing, build, seed and
#                              run every target for FUZZ_SECONDS each
#   make fuzz-build            only build the targets into build/fuzz/
#   make fuzz FUZZ_TARGETS=fuzz_aldeamo FUZZ_SECONDS=3600
#                              one target, longer
#
# Everything is compiled again with clang into build/fuzz/, with its own
# flags: objects of the gcc build (or of SANITIZER=) are never mixed in,
# since libFuzzer needs clang's coverage instrumentation in every object
# it should steer by.

FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
# Just above LIMIT_FIELD (65536), so a string over the limit fits in
# one input; libFuzzer grows inputs slowly, so most stay far smaller.
FUZZ_MAX_LEN	?= 66000
# More libFuzzer flags for every target, e.g. FUZZ_FLAGS=-jobs=2.
FUZZ_FLAGS	?=
# Debian 12's clang is clang-14.  Its libFuzzer runtime,
# libclang_rt.fuzzer-x86_64.a, is in libclang-rt-14-dev, which clang
# only recommends, and stack.sh installs without recommends.
FUZZ_PACKAGES	?= clang libclang-rt-14-dev

FB		 = $(B)/fuzz
FUZZ_SAN	 = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS	 = -std=c11 -D_DEFAULT_SOURCE $(WARNINGS) -g -O1 \
		   -fno-omit-frame-pointer $(FUZZ_SAN) -Ilib -Ifuzz \
		   $(PKG_CFLAGS) -MMD -MP
FUZZ_LIB_OBJ	 = $(LIB_SRC:lib/%.c=$(FB)/lib/%.o)
FUZZ_TABLES	 = $(PROVIDERS:%=$(FB)/tables/%.o)
FUZZ_PROVIDERS	 = $(PROVIDERS:%=$(FB)/fuzz_%)
FUZZ_TARGETS	?= fuzz_payload fuzz_spool $(PROVIDERS:%=fuzz_%)

fuzz:
	ESPHOOKS_EXTRA_PACKAGES="$(FUZZ_PACKAGES)" deploy/stack.sh deps
	$(MAKE) fuzz-build
	fuzz/seed.sh --tables $(FB)/corpus/fuzz_payload $(PROVIDERS)
	fuzz/seed.sh $(FB)/corpus/fuzz_spool spool
	for p in $(PROVIDERS); do \
		fuzz/seed.sh --tables $(FB)/corpus/fuzz_$$p $$p || exit 1; \
	done
	FUZZ_MAX_LEN=$(FUZZ_MAX_LEN) FUZZ_FLAGS="$(FUZZ_FLAGS)" \
	    fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-build: $(FB)/fuzz_payload $(FB)/fuzz_spool $(FUZZ_PROVIDERS)

$(FB)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FB)/tables/%.o: cgi-bin/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DESPHOOKS_NO_MAIN -c -o $@ $<

$(FB)/obj/check.o $(FB)/obj/fuzz_payload.o $(FB)/obj/fuzz_spool.o: \
    $(FB)/obj/%.o: fuzz/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

# One source, one object per provider table.
$(PROVIDERS:%=$(FB)/obj/fuzz_%.o): $(FB)/obj/fuzz_%.o: fuzz/fuzz_provider.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DFUZZ_PROVIDER=provider_$* -c -o $@ $<

$(FB)/libesphooks.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

# A provider target links its own table only; the archive supplies the
# lib/ objects each target uses and leaves out the rest (server, store).
$(FB)/fuzz_payload $(FB)/fuzz_spool: $(FB)/fuzz_%: $(FB)/obj/fuzz_%.o \
    $(FB)/obj/check.o $(FB)/libesphooks.a
	$(FUZZ_CC) $(FUZZ_SAN) -o $@ $(filter %.o %.a,$^) $(PKG_LIBS)

$(FUZZ_PROVIDERS): $(FB)/fuzz_%: $(FB)/obj/fuzz_%.o $(FB)/obj/check.o \
    $(FB)/tables/%.o $(FB)/libesphooks.a
	$(FUZZ_CC) $(FUZZ_SAN) -o $@ $(filter %.o %.a,$^) $(PKG_LIBS)

.PHONY: fuzz fuzz-build
