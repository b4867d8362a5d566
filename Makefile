# nrm - one non-recursive Makefile with explicit source lists.
#
#   make            build bin/nrmd and bin/nrmctl (warnings are errors)
#   make run        install what is missing, start ./var cluster, run nrmd
#   make check      install what is missing, run every test tier
#   make bench      benchmarks (not part of check)
#   make asan       build build/asan/{nrmd,nrmctl} with ASan+UBSan
#   make fuzz       build the libFuzzer targets (clang)
#   make format-check

CC       ?= cc
CSTD      = -std=c11 -D_GNU_SOURCE
WARN      = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wpointer-arith -Wcast-qual -fno-common \
            -Wformat=2 -Wvla
OPT      ?= -O2 -g
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) $(EXTRA_CFLAGS) -iquote nrm-core -iquote nrm-api \
            -I/usr/include/postgresql -iquote $(BUILD)/gen -MMD -MP
LDLIBS_CORE = -lcjson
LDLIBS_API  = -levent_core -levent_extra -levent_openssl -lpq -lssl \
              -lcrypto -lcjson

BUILD    ?= build/release
BIN      ?= bin

CORE_SRC = nrm-core/error.c nrm-core/utf8.c nrm-core/timefmt.c \
           nrm-core/geo.c nrm-core/signal.c nrm-core/route.c \
           nrm-core/duration.c nrm-core/diag.c nrm-core/rules.c

API_COMMON_SRC = nrm-api/log.c nrm-api/crypto.c nrm-api/config.c \
           nrm-api/util.c nrm-api/routing.c

NRMD_SRC = nrm-api/main.c nrm-api/daemon.c nrm-api/db.c nrm-api/http.c \
           nrm-api/conn.c \
           nrm-api/routes.c nrm-api/tls.c nrm-api/problem.c nrm-api/auth.c \
           nrm-api/dbapi.c nrm-api/handler_signals.c \
           nrm-api/handler_routing.c nrm-api/handler_inbox.c \
           nrm-api/handler_cases.c nrm-api/handler_audit.c \
           nrm-api/handler_tracks.c \
           nrm-api/checkpoint.c \
           nrm-api/handler_health.c

NRMCTL_SRC = nrm-api/nrmctl.c nrm-api/migrate.c nrm-api/keys.c \
             nrm-api/audit_cli.c

UNIT_TESTS = tests/unit/test_signal tests/unit/test_geo \
             tests/unit/test_timefmt tests/unit/test_utf8 \
             tests/unit/test_route tests/unit/test_config \
             tests/unit/test_rules tests/unit/test_crypto

CORE_OBJ   = $(CORE_SRC:%.c=$(BUILD)/%.o)
COMMON_OBJ = $(API_COMMON_SRC:%.c=$(BUILD)/%.o)
NRMD_OBJ   = $(NRMD_SRC:%.c=$(BUILD)/%.o)
NRMCTL_OBJ = $(NRMCTL_SRC:%.c=$(BUILD)/%.o)

# The schema version this build needs is the highest sql/NNNN_*.sql; the
# generated header changes (and recompiles its users) only when it does.
SCHEMA_VERSION := $(shell ls sql 2>/dev/null | sed -n 's/^0*\([0-9][0-9]*\)_.*\.sql$$/\1/p' | sort -n | tail -1)
SCHEMA_H = $(BUILD)/gen/schema_version.h
$(shell mkdir -p $(BUILD)/gen; \
  echo '#define NRM_SCHEMA_VERSION $(or $(SCHEMA_VERSION),0)' > $(SCHEMA_H).tmp; \
  cmp -s $(SCHEMA_H).tmp $(SCHEMA_H) || mv $(SCHEMA_H).tmp $(SCHEMA_H); \
  rm -f $(SCHEMA_H).tmp)

.PHONY: all run check bench asan fuzz unit format format-check clean distclean deps

all: $(BIN)/nrmd $(BIN)/nrmctl

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/libnrmcore.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BIN)/nrmd: $(NRMD_OBJ) $(COMMON_OBJ) $(BUILD)/libnrmcore.a
	@mkdir -p $(dir $@)
	$(CC) $(OPT) $(EXTRA_LDFLAGS) -o $@ $^ $(LDLIBS_API)

$(BIN)/nrmctl: $(NRMCTL_OBJ) $(COMMON_OBJ) $(BUILD)/libnrmcore.a
	@mkdir -p $(dir $@)
	$(CC) $(OPT) $(EXTRA_LDFLAGS) -o $@ $^ $(LDLIBS_API)

# Unit tests link nrm-core alone (plus cmocka); test_config also links
# the config module, which is pure apart from reading its file.
$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libnrmcore.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(EXTRA_LDFLAGS) -o $@ $(filter-out %.h,$^) -lcmocka $(LDLIBS_CORE)

$(BUILD)/tests/unit/test_config: tests/unit/test_config.c \
    $(BUILD)/nrm-api/config.o $(BUILD)/nrm-api/log.o \
    $(BUILD)/nrm-api/util.o $(BUILD)/libnrmcore.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(EXTRA_LDFLAGS) -o $@ $(filter-out %.h,$^) -lcmocka $(LDLIBS_CORE)

# test_crypto links the crypto module and OpenSSL.
$(BUILD)/tests/unit/test_crypto: tests/unit/test_crypto.c \
    $(BUILD)/nrm-api/crypto.o $(BUILD)/libnrmcore.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(EXTRA_LDFLAGS) -o $@ $(filter-out %.h,$^) -lcmocka $(LDLIBS_CORE) -lcrypto

unit: $(UNIT_TESTS:%=$(BUILD)/%)
	@set -e; for t in $^; do echo "== $$t"; $$t; done

asan:
	$(MAKE) BUILD=build/asan BIN=build/asan/bin OPT="-O1 -g -fno-omit-frame-pointer" \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" all

fuzz:
	$(MAKE) CC=clang BUILD=build/fuzz BIN=build/fuzz/bin \
	  OPT="-O1 -g" EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined" \
	  build/fuzz/libnrmcore.a
	@mkdir -p build/fuzz/bin
	clang $(CSTD) -iquote nrm-core -O1 -g -fsanitize=fuzzer,address,undefined \
	  -o build/fuzz/bin/fuzz_signal tests/fuzz/fuzz_signal.c \
	  build/fuzz/libnrmcore.a -lcjson
	clang $(CSTD) -iquote nrm-core -O1 -g -fsanitize=fuzzer,address,undefined \
	  -o build/fuzz/bin/fuzz_geo tests/fuzz/fuzz_geo.c \
	  build/fuzz/libnrmcore.a -lcjson
	clang $(CSTD) -iquote nrm-core -O1 -g -fsanitize=fuzzer,address,undefined \
	  -o build/fuzz/bin/fuzz_rules tests/fuzz/fuzz_rules.c \
	  build/fuzz/libnrmcore.a -lcjson
	clang $(CSTD) -D_GNU_SOURCE -iquote nrm-core -iquote nrm-api -O1 -g \
	  -fsanitize=fuzzer,address,undefined \
	  -o build/fuzz/bin/fuzz_token tests/fuzz/fuzz_token.c nrm-api/crypto.c \
	  build/fuzz/libnrmcore.a -lcjson -lcrypto

run:
	@scripts/run.sh

check:
	@scripts/check.sh

bench:
	@scripts/bench.sh
	@scripts/bench-inbox.sh
	@scripts/bench-audit.sh
	@$(MAKE) --no-print-directory bench-route

# The routing micro-benchmark (nrm-core alone, one core).
.PHONY: bench-route
$(BUILD)/bench/route_bench: bench/route_bench.c $(BUILD)/libnrmcore.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(EXTRA_LDFLAGS) -o $@ $^ $(LDLIBS_CORE)

bench-route: $(BUILD)/bench/route_bench
	$(BUILD)/bench/route_bench

deps:
	@scripts/deps.sh

FORMAT_FILES = $(wildcard nrm-core/*.[ch] nrm-api/*.[ch] tests/unit/*.c tests/fuzz/*.c)
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build bin

distclean: clean
	@scripts/pg.sh stop var 2>/dev/null || true
	rm -rf var

-include $(shell find build -name '*.d' 2>/dev/null)
