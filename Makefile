# etchnn — build, test, demo.  `make` builds build/etchnn and build/libetchnn.{a,so}.
CC      ?= cc
BUILD   ?= build
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-format-truncation $(if $(findstring clang,$(CC)),-Wno-unknown-warning-option)
PKGS    := libprotobuf-c yaml-0.1 libcjson hdf5 libzip
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lprotobuf-c -lyaml -lcjson -lhdf5 -lzip)
ONNX_PROTO ?= /usr/include/onnx/onnx.proto
CPPFLAGS := -Iinclude -Isrc -I$(BUILD)/gen $(PKG_CFLAGS) -D_POSIX_C_SOURCE=200809L
LDLIBS   := $(PKG_LIBS) -lm

LIB_SRC := $(wildcard src/util/*.c src/ir/*.c src/config/*.c src/frontends/*.c src/api/*.c \
                      src/passes/*.c src/hw/*.c src/hw/cmvm/*.c src/backends/*.c src/tools/*.c)
GEN_SRC := $(BUILD)/gen/onnx.pb-c.c $(BUILD)/gen/fx_arith_text.c $(BUILD)/gen/fx_act_text.c $(BUILD)/gen/fx_wide_text.c
LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC)) $(BUILD)/obj/gen/onnx.pb-c.o $(BUILD)/obj/gen/fx_arith_text.o $(BUILD)/obj/gen/fx_act_text.o $(BUILD)/obj/gen/fx_wide_text.o
CLI_OBJ := $(BUILD)/obj/src/cli/main.o

.PHONY: all deps all-deps-minimal test test-extended check sanitize demo clean bench
all: $(BUILD)/etchnn $(BUILD)/libetchnn.a $(BUILD)/libetchnn.so $(BUILD)/test_fx $(BUILD)/test_hw_cmvm

$(BUILD)/gen/onnx.pb-c.c: $(ONNX_PROTO)
	@mkdir -p $(BUILD)/gen
	protoc-c --c_out=$(BUILD)/gen -I$(dir $(ONNX_PROTO)) $(ONNX_PROTO)

# The one fixed-point implementation, also embedded verbatim in generated C.
$(BUILD)/gen/fx_arith_text.c: src/ir/fx_arith.h tools/embed.sh
	@mkdir -p $(BUILD)/gen
	sh tools/embed.sh etn_fx_arith_text $< > $@

$(BUILD)/gen/fx_act_text.c: src/ir/fx_act.h tools/embed.sh
	@mkdir -p $(BUILD)/gen
	sh tools/embed.sh etn_fx_act_text $< > $@

$(BUILD)/gen/fx_wide_text.c: src/ir/fx_wide.h tools/embed.sh
	@mkdir -p $(BUILD)/gen
	sh tools/embed.sh etn_fx_wide_text $< > $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -std=c11 -w -c $< -o $@

$(BUILD)/obj/%.o: %.c $(BUILD)/gen/onnx.pb-c.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -fPIC -MMD -MP -c $< -o $@

# the emulator's inner loops are worth vectorizing
$(BUILD)/obj/src/tools/emulate.o: CFLAGS += -O3

$(BUILD)/libetchnn.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/libetchnn.so: $(LIB_OBJ)
	$(CC) $(CFLAGS) -shared -o $@ $^ $(LDLIBS)

$(BUILD)/etchnn: $(CLI_OBJ) $(BUILD)/libetchnn.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test_fx: $(BUILD)/obj/tests/test_fx.o $(BUILD)/libetchnn.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# the cmvm core against the exact matrix product (tests/test_hw.py runs it)
$(BUILD)/test_hw_cmvm: $(BUILD)/obj/tests/test_hw_cmvm.o $(BUILD)/libetchnn.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

deps:
	@sh tools/install-deps.sh

# Every test: the normal build, then the ASan+UBSan build, then every fuzzer
# regression input replayed under libFuzzer's ASan+UBSan build.
# Test files run in parallel (pytest-xdist, one file per worker: files that share a
# build directory stay on one worker), one worker per core.
PYTEST_PAR = $$(python3 -c 'import xdist' 2>/dev/null && echo '-n auto --dist loadfile')

test: deps all
	python3 -m pytest -q $(PYTEST_PAR) -m "not extended" tests
	$(MAKE) sanitize
	$(MAKE) fuzz-regress

check: test

# The longest cross-checks (every shared model through the HLS C++ project, a 420 MB design), beyond make test's sample.
test-extended: all
	python3 -m pytest -q $(PYTEST_PAR) -m extended tests

# ASan+UBSan build of everything, then the C-level and CLI tests against it.
sanitize:
	$(MAKE) BUILD=build/asan CC=clang CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" all
	ETCHNN=build/asan/etchnn ETCHNN_TEST_FX=build/asan/test_fx ETCHNN_SANITIZED=1 python3 -m pytest -q -x $(PYTEST_PAR) tests -m "not slow and not extended" \
	    $(addprefix --ignore=,$(SANITIZE_SKIP))

# Under the sanitizers: every test that drives the compiler with varied input,
# not the ones whose time goes into other programs (Verilator and Yosys builds,
# TensorFlow, Keras training, the Python package, which loads the normal library
# anyway).  The recurrent reader runs under ASan+UBSan through its fuzz seeds
# (tests/fuzz/corpus_keras/bi, bi2, lstm, qlstm) in fuzz-regress; test_qkeras_rnn spends its time in
# TensorFlow and QKeras.
SANITIZE_SKIP := tests/test_rtl.py tests/test_synth.py tests/test_qkeras.py tests/test_valgrind.py tests/python tests/test_tune.py \
                 tests/test_recurrent.py tests/test_qkeras_rnn.py

demo: all-deps-minimal
	$(MAKE) all
	sh tools/demo.sh

all-deps-minimal:
	@ETCHNN_MINIMAL=1 sh tools/install-deps.sh

clean:
	rm -rf build

# Fuzzers (libFuzzer, clang): rules in tests/fuzz/fuzz.mk
-include tests/fuzz/fuzz.mk
