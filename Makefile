# gotap — build, test and demo.  `make demo` and `make test` install what is
# missing first (scripts/deps.sh, Debian packages via apt-get).
#
# Layout: protocol/ -> build/libproto.a; stub/*.c (but main.c) -> libstub.a;
# analyzer/*.c (but main.c) -> libana.a; bin/gotap-stub, bin/gotap.
# Unit tests tests/unit/<lib>_*.c link with that lib (proto_, stub_, ana_).
# SAN=1 builds everything with ASan+UBSan under build/asan (make asan).

SAN ?= 0
ifeq ($(SAN),1)
BUILD   ?= build/asan
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD   ?= build
SANFLAGS =
endif
BIN     ?= $(if $(filter 1,$(SAN)),$(BUILD)/bin,bin)

CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iprotocol -Istub -Ianalyzer $(SANFLAGS) -MMD -MP
LDFLAGS += $(SANFLAGS)
STUB_LIBS = -lZydis -pthread
ANA_LIBS = $(shell pkg-config --libs libdw jansson 2>/dev/null || echo -ldw -lelf -ljansson) -lZydis -lpthread

PROTO_SRC = $(wildcard protocol/*.c)
STUB_SRC  = $(filter-out stub/main.c,$(wildcard stub/*.c))
ANA_SRC   = $(filter-out analyzer/main.c,$(wildcard analyzer/*.c))
UNIT_SRC  = $(wildcard tests/unit/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBPROTO = $(BUILD)/libproto.a
LIBSTUB  = $(BUILD)/libstub.a
LIBANA   = $(BUILD)/libana.a

UNIT_BINS = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

PROGS = $(BIN)/gotap-stub $(if $(wildcard analyzer/main.c),$(BIN)/gotap)

.PHONY: all deps test unit asan demo clean fuzz bench soak targets
# keep unit-test objects (they are intermediates of pattern rules)
.SECONDARY:
all: $(PROGS) $(UNIT_BINS)

deps:
	@scripts/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIBPROTO): $(call obj,$(PROTO_SRC))
	@mkdir -p $(dir $@)
	rm -f $@; ar rcs $@ $^
$(LIBSTUB): $(call obj,$(STUB_SRC))
	@mkdir -p $(dir $@)
	rm -f $@; ar rcs $@ $^
$(LIBANA): $(call obj,$(ANA_SRC))
	@mkdir -p $(dir $@)
	rm -f $@; ar rcs $@ $^

$(BIN)/gotap-stub: $(call obj,stub/main.c) $(LIBSTUB) $(LIBPROTO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(STUB_LIBS)
$(BIN)/gotap: $(call obj,analyzer/main.c) $(LIBANA) $(LIBPROTO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(ANA_LIBS)

$(BUILD)/tests/proto_%: $(call obj,tests/unit/proto_%.c) $(LIBPROTO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^
$(BUILD)/tests/stub_%: $(call obj,tests/unit/stub_%.c) $(LIBSTUB) $(LIBPROTO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(STUB_LIBS)
$(BUILD)/tests/ana_%: $(call obj,tests/unit/ana_%.c) $(LIBANA) $(LIBPROTO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(ANA_LIBS)

# Fuzz targets: tests/fuzz/fuzz_*.c define LLVMFuzzerTestOneInput.  `make test`
# replays each one's corpus (tests/fuzz/corpus/<name>/) through a plain driver;
# `make fuzz` builds them with clang's libFuzzer and runs each FUZZ_SECONDS.
FUZZ_SRC  = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY = $(patsubst tests/fuzz/%.c,$(BUILD)/tests/replay_%,$(FUZZ_SRC))
$(BUILD)/tests/replay_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c $(LIBANA) $(LIBSTUB) $(LIBPROTO)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(LDFLAGS) -o $@ $(filter %.c,$^) $(LIBANA) $(LIBSTUB) $(LIBPROTO) $(ANA_LIBS) $(STUB_LIBS)
all: $(FUZZ_REPLAY)

FUZZ_SECONDS ?= 60
fuzz: deps
	@scripts/fuzz.sh $(FUZZ_SECONDS)

test: deps
	@$(MAKE) --no-print-directory all
	@GOTAP_BIN=$(abspath $(BIN)) GOTAP_BUILD=$(abspath $(BUILD)) tests/run.sh

asan: deps
	@$(MAKE) --no-print-directory SAN=1 CC=clang all
	@GOTAP_BIN=$(abspath build/asan/bin) GOTAP_BUILD=$(abspath build/asan) \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh $(abspath $(BIN))

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/bench.sh $(abspath $(BIN))

soak: deps
	@$(MAKE) --no-print-directory all
	@scripts/soak.sh $(abspath $(BIN))

clean:
	rm -rf build bin

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
