# nrm - one non-recursive Makefile with explicit source lists.
#
#   make            build bin/nrmd, bin/nrmctl and build/web (warnings are
#                   errors)
#   make web        build/web: the console tree nrmd serves (docs/console.md)
#   make browser    the browser tests (tests/browser, chromium)
#   make run        install what is missing, start ./var cluster, run nrmd
#   make check      install what is missing, run every test tier
#   make bench      benchmarks (not part of check); make bench-seal builds
#                   the bench-only build/bench-noseal/bin/nrmd (never
#                   installed) and weighs sealing against it; make
#                   bench-pool weighs a pool of 4 against the default
#                   (2 x CPUs + 1)
#   make ha         a pg_auto_failover formation in ./var/ha and two nrmd
#                   on it (not part of make run); make ha-stop ends it
#   make chaos      the fault battery on a formation of its own (bounded,
#                   loopback only, not part of check)
#   make asan       build build/asan/{nrmd,nrmctl} with ASan+UBSan
#   make fuzz       build the libFuzzer targets (clang)
#   make format-check
#   make hardening-check  the built nrmd and nrmctl carry every hardening
#                   flag (PIE, RELRO, BIND_NOW, canaries, fortify, CET)

CC       ?= cc
CSTD      = -std=c11 -D_GNU_SOURCE
WARN      = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wpointer-arith -Wcast-qual -fno-common \
            -Wformat=2 -Wvla
OPT      ?= -O2 -g
# Hardening (issue 14; docs/security.md "Transport and build"): stack
# canaries, fortified libc calls (-D_FORTIFY_SOURCE=3 needs -O; left out
# of the sanitizer builds, whose interceptors it would bypass), CET
# branch protection, position-independent executables with a read-only
# GOT bound at start.  scripts/check-hardening.sh checks the binaries.
HARDEN_FORTIFY ?= -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3
HARDEN_CFLAGS   = -fstack-protector-strong -fcf-protection -fPIE \
                  $(HARDEN_FORTIFY)
HARDEN_LDFLAGS  = -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack
# Include paths, one set per program: nrm-core's headers are reached as
# "nrm/x.h" (so none shadows the C library); nrmd sees common/ and its own
# folder, nrmctl common/ and its own, so neither can include the other's
# headers: the build enforces the split.
INC_CORE   = -iquote nrm-core/include
INC_COMMON = $(INC_CORE) -iquote nrm-api/common
INC_NRMD   = $(INC_COMMON) -iquote nrm-api/nrmd -iquote $(BUILD)/gen \
             -I/usr/include/postgresql
INC_NRMCTL = $(INC_COMMON) -iquote nrm-api/nrmctl -I/usr/include/postgresql
INC       ?= $(INC_CORE)
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) $(HARDEN_CFLAGS) $(EXTRA_CFLAGS) $(INC) \
             -MMD -MP
LDLIBS_CORE = -lcjson
LDLIBS_CTL  = -lpq -lssl -lcrypto -lcjson -largon2 -lcrack
LDLIBS_API  = -levent_core -levent_extra -levent_openssl -lpthread -lpq -lssl \
              -lcrypto -lcjson -largon2 -lcrack
# nrmd draws the enrolment QR code (qr.c) with libqrencode
LDLIBS_QR  := $(shell pkg-config --libs libqrencode 2>/dev/null || echo -lqrencode)

BUILD    ?= build/release
BIN      ?= bin

CORE_SRC = nrm-core/error.c nrm-core/utf8.c nrm-core/timefmt.c \
           nrm-core/geo.c nrm-core/json.c nrm-core/signal.c \
           nrm-core/signal_codec.c nrm-core/route.c \
           nrm-core/duration.c nrm-core/diag.c nrm-core/rules.c \
           nrm-core/rules_regions.c nrm-core/rules_parse.c \
           nrm-core/rules_compile.c nrm-core/role.c \
           nrm-core/statvocab.c nrm-core/statlabel.c \
           nrm-core/indicators.c

API_COMMON_SRC = nrm-api/common/log.c nrm-api/common/crypto.c \
           nrm-api/common/fieldcrypt.c nrm-api/common/kekset.c \
           nrm-api/common/kekhsm.c \
           nrm-api/common/pgnotice.c \
           nrm-api/common/util.c nrm-api/common/routing.c \
           nrm-api/common/auditchain.c nrm-api/common/password.c \
           nrm-api/common/totp.c nrm-api/common/indicators_file.c \
           nrm-api/common/keyfile.c nrm-api/common/pubsign.c

NRMD_SRC = nrm-api/nrmd/main.c nrm-api/nrmd/daemon.c nrm-api/nrmd/db.c \
           nrm-api/nrmd/db_queue.c nrm-api/nrmd/db_stmt.c \
           nrm-api/nrmd/http.c nrm-api/nrmd/req.c nrm-api/nrmd/conn.c \
           nrm-api/nrmd/config.c nrm-api/nrmd/framing.c nrm-api/nrmd/hist.c \
           nrm-api/nrmd/endpoints.c nrm-api/nrmd/tls.c \
           nrm-api/nrmd/problem.c nrm-api/nrmd/auth.c nrm-api/nrmd/dbapi.c \
           nrm-api/nrmd/waiters.c nrm-api/nrmd/jobs.c \
           nrm-api/nrmd/checkpoint.c nrm-api/nrmd/workers.c \
           nrm-api/nrmd/session.c nrm-api/nrmd/backoff.c \
           nrm-api/nrmd/flood.c nrm-api/nrmd/guard.c \
           nrm-api/nrmd/webroot.c nrm-api/nrmd/qr.c \
           nrm-api/nrmd/metrics.c nrm-api/nrmd/sealed.c \
           nrm-api/nrmd/handlers/signals.c nrm-api/nrmd/handlers/routing.c \
           nrm-api/nrmd/handlers/inbox.c nrm-api/nrmd/handlers/cases.c \
           nrm-api/nrmd/handlers/audit.c nrm-api/nrmd/handlers/tracks.c \
           nrm-api/nrmd/handlers/panel.c nrm-api/nrmd/handlers/idread.c \
           nrm-api/nrmd/handlers/health.c nrm-api/nrmd/handlers/people.c \
           nrm-api/nrmd/handlers/login.c nrm-api/nrmd/handlers/web.c \
           nrm-api/nrmd/handlers/statistics.c \
           nrm-api/nrmd/handlers/privacy.c \
           nrm-api/nrmd/handlers/indicators.c \
           nrm-api/nrmd/handlers/overview.c nrm-api/nrmd/coverage.c \
           nrm-api/nrmd/handlers/publications.c \
           nrm-api/nrmd/handlers/pubrender.c \
           nrm-api/nrmd/handlers/carework.c

NRMCTL_SRC = nrm-api/nrmctl/nrmctl.c nrm-api/nrmctl/ctl_cmds.c \
             nrm-api/nrmctl/ctl_key.c nrm-api/nrmctl/ctl_person.c \
             nrm-api/nrmctl/ctl_audit.c nrm-api/nrmctl/ctl_check.c \
             nrm-api/nrmctl/ctl_db.c nrm-api/nrmctl/migrate.c \
             nrm-api/nrmctl/keys.c nrm-api/nrmctl/persons.c \
             nrm-api/nrmctl/audit_link.c nrm-api/nrmctl/audit_verify.c \
             nrm-api/nrmctl/audit_export.c nrm-api/nrmctl/audit_sign.c \
             nrm-api/nrmctl/publication.c nrm-api/nrmctl/kek_cli.c \
             nrm-api/nrmctl/data_cli.c nrm-api/nrmctl/pseud_cli.c \
             nrm-api/nrmctl/retention.c

UNIT_TESTS = tests/unit/test_json tests/unit/test_signal \
             tests/unit/test_signal_codec tests/unit/test_geo \
             tests/unit/test_timefmt tests/unit/test_utf8 \
             tests/unit/test_route tests/unit/test_config \
             tests/unit/test_rules tests/unit/test_crypto \
             tests/unit/test_auditchain tests/unit/test_password \
             tests/unit/test_totp tests/unit/test_http_alone \
             tests/unit/test_workers tests/unit/test_session_edge \
             tests/unit/test_backoff tests/unit/test_webroot \
             tests/unit/test_statvocab tests/unit/test_indicators \
             tests/unit/test_framing tests/unit/test_coverage \
             tests/unit/test_pubsign tests/unit/test_flood \
             tests/unit/test_fieldcrypt tests/unit/test_kekset \
             tests/unit/test_waiters

CORE_OBJ   = $(CORE_SRC:%.c=$(BUILD)/%.o)
COMMON_OBJ = $(API_COMMON_SRC:%.c=$(BUILD)/%.o)
NRMD_OBJ   = $(NRMD_SRC:%.c=$(BUILD)/%.o)
NRMCTL_OBJ = $(NRMCTL_SRC:%.c=$(BUILD)/%.o)

# The schema version this build needs is the highest sql/NNNN_*.sql, and
# the repeatable files it needs are sql/api/*.sql: NRM_SCHEMA_CHECKSUM is
# the SHA-256 of their lines "SHA256 NAME" in name order (C locale), as
# api.schema_checksum() computes it from nrm.schema_repeatable.  The
# generated header changes (and recompiles its users) only when they do.
SCHEMA_VERSION := $(shell ls sql 2>/dev/null | sed -n 's/^0*\([0-9][0-9]*\)_.*\.sql$$/\1/p' | sort -n | tail -1)
SCHEMA_CHECKSUM := $(shell for f in $$(ls sql/api 2>/dev/null | LC_ALL=C sort | grep -E '^[a-z0-9_]+[.]sql$$'); do \
  printf '%s %s\n' "$$(sha256sum < sql/api/$$f | cut -c1-64)" "$$f"; done | sha256sum | cut -c1-64)
SCHEMA_H = $(BUILD)/gen/schema_version.h
$(shell mkdir -p $(BUILD)/gen; \
  { echo '#define NRM_SCHEMA_VERSION $(or $(SCHEMA_VERSION),0)'; \
    echo '#define NRM_SCHEMA_CHECKSUM "$(SCHEMA_CHECKSUM)"'; } > $(SCHEMA_H).tmp; \
  cmp -s $(SCHEMA_H).tmp $(SCHEMA_H) || mv $(SCHEMA_H).tmp $(SCHEMA_H); \
  rm -f $(SCHEMA_H).tmp)

# Objects and programs are rebuilt when the compile or link flags change
# (a new hardening flag must reach every object): $(FLAGS_STAMP) changes
# only when they do.
FLAGS_STAMP = $(BUILD)/gen/flags
$(shell mkdir -p $(BUILD)/gen; \
  echo '$(CC) $(CSTD) $(WARN) $(OPT) $(HARDEN_CFLAGS) $(EXTRA_CFLAGS) $(HARDEN_LDFLAGS) $(EXTRA_LDFLAGS)' \
    > $(FLAGS_STAMP).tmp; \
  cmp -s $(FLAGS_STAMP).tmp $(FLAGS_STAMP) || mv $(FLAGS_STAMP).tmp $(FLAGS_STAMP); \
  rm -f $(FLAGS_STAMP).tmp)

.PHONY: all run check bench asan fuzz unit format format-check clean distclean deps \
        web browser hardening-check ha ha-stop chaos

all: $(BIN)/nrmd $(BIN)/nrmctl web

# The console tree (web/ + the Utrecht CSS from web/node_modules + the
# API document, each text file with a .gz beside it): always remade, it
# takes a moment and npm ci runs only when the lockfile changed.
web:
	@scripts/build-web.sh

# The browser tier: one cluster, one nrmd, chromium (tests/browser).
browser: all
	@tests/browser/run.sh

$(BUILD)/nrm-api/common/%.o: INC = $(INC_COMMON)
# pgnotice.c reads libpq's result fields (both programs link libpq)
$(BUILD)/nrm-api/common/pgnotice.o: INC = $(INC_COMMON) \
    -I/usr/include/postgresql
$(BUILD)/nrm-api/nrmd/%.o: INC = $(INC_NRMD)
$(BUILD)/nrm-api/nrmctl/%.o: INC = $(INC_NRMCTL)

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/libnrmcore.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BIN)/nrmd: $(NRMD_OBJ) $(COMMON_OBJ) $(BUILD)/libnrmcore.a
	@mkdir -p $(dir $@)
	$(CC) $(OPT) $(HARDEN_LDFLAGS) $(EXTRA_LDFLAGS) -o $@ $^ $(LDLIBS_API) \
	  $(LDLIBS_QR)

$(BIN)/nrmctl: $(NRMCTL_OBJ) $(COMMON_OBJ) $(BUILD)/libnrmcore.a
	@mkdir -p $(dir $@)
	$(CC) $(OPT) $(HARDEN_LDFLAGS) $(EXTRA_LDFLAGS) -o $@ $^ $(LDLIBS_CTL)

# Unit tests link nrm-core alone (plus cmocka) by this one rule.  A test
# that needs more names the objects it links as prerequisites, its
# libraries in UNIT_LIBS and its include path in INC.
UNIT_LIBS = $(LDLIBS_CORE)
$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libnrmcore.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(EXTRA_LDFLAGS) -o $@ $(filter-out %.h %.a,$^) \
	  $(BUILD)/libnrmcore.a -lcmocka $(UNIT_LIBS)

UNIT_DIR = $(BUILD)/tests/unit
COMMON_DIR = $(BUILD)/nrm-api/common

# test_config also links the config module, which is pure apart from
# reading its file.
$(UNIT_DIR)/test_config: INC = $(INC_NRMD)
$(UNIT_DIR)/test_config: $(BUILD)/nrm-api/nrmd/config.o \
    $(COMMON_DIR)/log.o $(COMMON_DIR)/util.o

# The tests of common/ modules that link crypto.c and OpenSSL: crypto
# alone; a publication's hash and signature; the envelope of personal
# data; the KEK set on top of it; the audit-chain formats and nrmd's
# checkpoint file on top of them; the credentials (+ libargon2, cracklib).
CRYPTO_TESTS = $(addprefix $(UNIT_DIR)/test_,crypto pubsign fieldcrypt \
               kekset auditchain password totp)
$(CRYPTO_TESTS): INC = $(INC_COMMON)
$(CRYPTO_TESTS): UNIT_LIBS = $(LDLIBS_CORE) -lcrypto
$(CRYPTO_TESTS): $(COMMON_DIR)/crypto.o
$(UNIT_DIR)/test_pubsign: $(COMMON_DIR)/pubsign.o $(COMMON_DIR)/util.o \
    $(COMMON_DIR)/log.o
$(UNIT_DIR)/test_fieldcrypt: $(COMMON_DIR)/fieldcrypt.o \
    $(COMMON_DIR)/keyfile.o
$(UNIT_DIR)/test_kekset: $(COMMON_DIR)/kekset.o $(COMMON_DIR)/kekhsm.o \
    $(COMMON_DIR)/fieldcrypt.o $(COMMON_DIR)/keyfile.o
$(UNIT_DIR)/test_auditchain: INC = $(INC_NRMD)
$(UNIT_DIR)/test_auditchain: $(COMMON_DIR)/auditchain.o \
    $(BUILD)/nrm-api/nrmd/checkpoint.o $(COMMON_DIR)/util.o \
    $(COMMON_DIR)/log.o
$(UNIT_DIR)/test_password: $(COMMON_DIR)/password.o
$(UNIT_DIR)/test_totp: $(COMMON_DIR)/totp.o
$(UNIT_DIR)/test_password $(UNIT_DIR)/test_totp: \
    UNIT_LIBS = $(LDLIBS_CORE) -lcrypto -largon2 -lcrack

# test_http_alone links the HTTP edge, auth and the api.* call path with
# the pool and what they need from common/ and nrm-core, but NOT daemon.o
# nor any handler: the modules stand alone.
HTTP_ALONE_OBJ = $(addprefix $(BUILD)/nrm-api/nrmd/,http.o req.o framing.o \
                 hist.o auth.o dbapi.o db.o db_queue.o db_stmt.o conn.o \
                 problem.o tls.o session.o \
                 config.o guard.o flood.o) \
                 $(addprefix $(COMMON_DIR)/,log.o util.o crypto.o \
                 pgnotice.o keyfile.o)
$(UNIT_DIR)/test_http_alone: INC = $(INC_NRMD)
$(UNIT_DIR)/test_http_alone: UNIT_LIBS = $(LDLIBS_API)
$(UNIT_DIR)/test_http_alone: $(HTTP_ALONE_OBJ)

# Unit tests that link one nrmd module alone with crypto.c (and util.c,
# log.c) and OpenSSL: no daemon, no libevent.  test_session_edge: the
# session edge; test_backoff: the login backoff table; test_webroot: the
# console's tree; test_framing: the strict edge; test_coverage: the live
# coverage nrmd keeps; test_flood: the token buckets and the
# rejected-token cache.
NRMD_ALONE = $(addprefix $(UNIT_DIR)/test_,session_edge backoff webroot \
             framing coverage flood)
$(UNIT_DIR)/test_session_edge: $(BUILD)/nrm-api/nrmd/session.o
$(UNIT_DIR)/test_backoff: $(BUILD)/nrm-api/nrmd/backoff.o
$(UNIT_DIR)/test_webroot: $(BUILD)/nrm-api/nrmd/webroot.o
$(UNIT_DIR)/test_framing: $(BUILD)/nrm-api/nrmd/framing.o
$(UNIT_DIR)/test_coverage: $(BUILD)/nrm-api/nrmd/coverage.o
$(UNIT_DIR)/test_flood: $(BUILD)/nrm-api/nrmd/flood.o
$(NRMD_ALONE): INC = $(INC_NRMD)
$(NRMD_ALONE): UNIT_LIBS = $(LDLIBS_CORE) -lcrypto
$(NRMD_ALONE): $(COMMON_DIR)/crypto.o $(COMMON_DIR)/util.o \
    $(COMMON_DIR)/log.o

# test_workers links the pool alone (no daemon), libevent and pthreads,
# and the password module for a real Argon2id verification through it.
$(UNIT_DIR)/test_workers: INC = $(INC_NRMD)
$(UNIT_DIR)/test_workers: UNIT_LIBS = $(LDLIBS_CORE) -levent_core -lpthread \
    -lcrypto -largon2 -lcrack
$(UNIT_DIR)/test_workers: $(BUILD)/nrm-api/nrmd/workers.o \
    $(COMMON_DIR)/password.o $(COMMON_DIR)/crypto.o

# test_waiters links the inbox reads' queue alone (no daemon, no
# database) with libevent.
$(UNIT_DIR)/test_waiters: INC = $(INC_NRMD)
$(UNIT_DIR)/test_waiters: UNIT_LIBS = $(LDLIBS_CORE) -levent
$(UNIT_DIR)/test_waiters: $(BUILD)/nrm-api/nrmd/waiters.o \
    $(BUILD)/nrm-api/nrmd/hist.o $(COMMON_DIR)/util.o $(COMMON_DIR)/log.o

unit: $(UNIT_TESTS:%=$(BUILD)/%)
	@set -e; for t in $^; do echo "== $$t"; $$t; done

asan:
	$(MAKE) BUILD=build/asan BIN=build/asan/bin OPT="-O1 -g -fno-omit-frame-pointer" \
	  HARDEN_FORTIFY= \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" all

# The fuzzers: those of nrm-core alone, then those that need sources of
# nrm-api/common (fuzz_<name>.c and its extra sources).
FUZZ_CORE = signal geo json rules indicators
FUZZ_CC = clang $(CSTD) -O1 -g -fsanitize=fuzzer,address,undefined

fuzz:
	$(MAKE) CC=clang BUILD=build/fuzz BIN=build/fuzz/bin HARDEN_FORTIFY= \
	  OPT="-O1 -g" EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined" \
	  build/fuzz/libnrmcore.a
	@mkdir -p build/fuzz/bin
	set -e; for f in $(FUZZ_CORE); do \
	  $(FUZZ_CC) $(INC_CORE) -o build/fuzz/bin/fuzz_$$f tests/fuzz/fuzz_$$f.c \
	    build/fuzz/libnrmcore.a -lcjson; \
	done
	$(FUZZ_CC) $(INC_COMMON) -o build/fuzz/bin/fuzz_token \
	  tests/fuzz/fuzz_token.c nrm-api/common/crypto.c \
	  build/fuzz/libnrmcore.a -lcjson -lcrypto
	$(FUZZ_CC) $(INC_COMMON) -o build/fuzz/bin/fuzz_fieldcrypt \
	  tests/fuzz/fuzz_fieldcrypt.c nrm-api/common/fieldcrypt.c \
	  nrm-api/common/crypto.c nrm-api/common/keyfile.c \
	  build/fuzz/libnrmcore.a -lcjson -lcrypto
	$(FUZZ_CC) $(INC_NRMD) -o build/fuzz/bin/fuzz_framing \
	  tests/fuzz/fuzz_framing.c nrm-api/nrmd/framing.c
	$(FUZZ_CC) $(INC_COMMON) -o build/fuzz/bin/fuzz_totp \
	  tests/fuzz/fuzz_totp.c nrm-api/common/totp.c nrm-api/common/crypto.c \
	  build/fuzz/libnrmcore.a -lcjson -lcrypto

hardening-check: $(BIN)/nrmd $(BIN)/nrmctl
	@scripts/check-hardening.sh $(BIN)/nrmd $(BIN)/nrmctl -- \
	  $(CORE_OBJ) $(COMMON_OBJ) $(NRMD_OBJ) $(NRMCTL_OBJ)

run:
	@scripts/run.sh

check:
	@scripts/check.sh

# Every benchmark, then issue 16's one table (scripts/bench-table.sh) of
# what bench.sh and bench-inbox.sh measured in this run.
BENCH_SUMMARY_FILE = build/bench-summary.txt
bench:
	@mkdir -p build && : >$(BENCH_SUMMARY_FILE)
	@BENCH_SUMMARY=$(CURDIR)/$(BENCH_SUMMARY_FILE) scripts/bench.sh
	@BENCH_SUMMARY=$(CURDIR)/$(BENCH_SUMMARY_FILE) scripts/bench-inbox.sh
	@scripts/bench-audit.sh
	@$(MAKE) --no-print-directory bench-route
	@$(MAKE) --no-print-directory bench-seal
	@scripts/bench-pool.sh
	@scripts/bench-table.sh $(BENCH_SUMMARY_FILE)

# A pool of 4 against nrmd's default pool (2 x CPUs + 1), side by side.
.PHONY: bench-pool
bench-pool:
	@scripts/bench-pool.sh

# The routing micro-benchmark (nrm-core alone, one core).
.PHONY: bench-route
$(BUILD)/bench/route_bench: bench/route_bench.c $(BUILD)/libnrmcore.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(EXTRA_LDFLAGS) -o $@ $^ $(LDLIBS_CORE)

bench-route: $(BUILD)/bench/route_bench
	$(BUILD)/bench/route_bench

# The cost of sealing personal data (fieldcrypt alone, one core).
.PHONY: bench-seal
$(BUILD)/bench/seal_bench: INC = $(INC_COMMON)
$(BUILD)/bench/seal_bench: bench/seal_bench.c \
    $(BUILD)/nrm-api/common/fieldcrypt.o $(BUILD)/nrm-api/common/crypto.o \
    $(BUILD)/nrm-api/common/keyfile.o $(BUILD)/libnrmcore.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(EXTRA_LDFLAGS) -o $@ $^ $(LDLIBS_CORE) -lcrypto

# The bench-only nrmd whose sealing is an identity copy of the same byte
# layout (fieldcrypt.c, NRM_BENCH_NOSEAL): built under build/bench-noseal,
# never installed, refuses to start unless NRM_BENCH_NOSEAL=1; then
# scripts/bench-seal.sh runs intake and case reads against it and bin/nrmd
# in alternate rounds and prints the throughput ratio.
NOSEAL = build/bench-noseal
.PHONY: bench-noseal
bench-noseal:
	$(MAKE) BUILD=$(NOSEAL) BIN=$(NOSEAL)/bin \
	  EXTRA_CFLAGS=-DNRM_BENCH_NOSEAL $(NOSEAL)/bin/nrmd

bench-seal: $(BUILD)/bench/seal_bench bench-noseal
	$(BUILD)/bench/seal_bench
	@scripts/bench-seal.sh

deps:
	@scripts/deps.sh

# High availability (docs/operations.md): NRM_HA_PORT is the monitor's
# port (the nodes take the next two), NRM_HA_HTTP_PORT the first nrmd's.
NRM_HA_PORT ?= 54350
NRM_HA_HTTP_PORT ?= 8180
ha: all
	@scripts/deps.sh
	@scripts/ha.sh run var/ha $(NRM_HA_PORT) $(NRM_HA_HTTP_PORT)

ha-stop:
	@scripts/ha.sh down var/ha

chaos: all
	@scripts/deps.sh
	@scripts/chaos.sh

FORMAT_FILES = $(wildcard nrm-core/*.c nrm-core/include/nrm/*.h \
               nrm-api/*/*.[ch] nrm-api/nrmd/handlers/*.c \
               tests/unit/*.c tests/fuzz/*.c)
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
