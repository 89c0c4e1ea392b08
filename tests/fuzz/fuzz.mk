# fuzz.mk — libFuzzer targets (included at the end of the Makefile).
#
#   make fuzz-build                      build $(BUILD)/fuzz/fuzz_{onnx,config,events,keras}
#   make fuzz FUZZ_SECONDS=600           run the four, one after the other
#   make fuzz-onnx | fuzz-config | fuzz-events | fuzz-keras   run one
#   make fuzz-regress                    replay the checked-in seeds once (seconds; for CI)
#
# The library is rebuilt with clang and ASan+UBSan+fuzzer instrumentation in
# its own object directory ($(FUZZ_OBJ)); the generated sources come from the
# Makefile's rules in $(BUILD)/gen.  See tests/fuzz/README.md.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
# Extra libFuzzer flags, e.g. FUZZ_FLAGS="-jobs=2 -workers=2" or "-max_len=4096".
FUZZ_FLAGS   ?=
# Seconds one input may take before libFuzzer reports a hang (timeout-* artifact).
FUZZ_TIMEOUT ?= 25
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_OBJ     := $(BUILD)/fuzzobj
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  ?= -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link
# clang and gcc disagree on some warnings: keep them visible but not fatal here.
FUZZ_WARN    := $(filter-out -Werror,$(WARN)) -Wno-unknown-warning-option
# The model the config and events targets apply their inputs to: every layer
# class a configuration can name (built by tests/fuzz/make_onnx_seeds.py).
FUZZ_MODEL   ?= $(CURDIR)/tests/fuzz/corpus_onnx/all_ops.onnx
# Models outside the repository used as extra seeds when present (copied at fuzz time).
FUZZ_SHARED_MODELS ?= ../shared/models/onnx
FUZZ_SHARED_QONNX  ?= ../shared/models/qonnx
# (fuzz-onnx allows 4 GB: a real image model among the seeds, branched_model_ch_last, 256x256x3 in,
#  needs 1.8 GB of emulator buffers to compile; libFuzzer's default limit is 2 GB)
FUZZ_SHARED_KERAS  ?= ../shared/models

FUZZ_TARGETS  := onnx config events keras
FUZZ_BINS     := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))
FUZZ_LIB_OBJ  := $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(LIB_SRC)) \
                 $(patsubst $(BUILD)/gen/%.c,$(FUZZ_OBJ)/gen/%.o,$(GEN_SRC))

.PHONY: fuzz fuzz-build $(patsubst %,fuzz-%,$(FUZZ_TARGETS)) fuzz-regress fuzz-clean

fuzz-build: $(FUZZ_BINS)

$(FUZZ_OBJ)/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -std=c11 -w -c $< -o $@

$(FUZZ_OBJ)/%.o: %.c $(BUILD)/gen/onnx.pb-c.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) $(FUZZ_WARN) -MMD -MP -c $< -o $@

$(FUZZ_DIR)/libetchnn_fuzz.a: $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_OBJ)/tests/fuzz/fuzz_%.o $(FUZZ_DIR)/libetchnn_fuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# keep the target objects (they are intermediates of the pattern chain)
.SECONDARY: $(patsubst %,$(FUZZ_OBJ)/tests/fuzz/fuzz_%.o,$(FUZZ_TARGETS))

-include $(shell find $(FUZZ_OBJ) -name '*.d' 2>/dev/null)

# Run one target: working corpus in $(FUZZ_DIR)/corpus_NAME (new inputs go
# there), read-only seeds in tests/fuzz/corpus_NAME, crashes in
# $(FUZZ_DIR)/artifacts/.  The log is kept in $(FUZZ_DIR)/NAME.log.
define fuzz_run
	@mkdir -p $(FUZZ_DIR)/corpus_$(1) $(FUZZ_DIR)/artifacts
	cd $(FUZZ_DIR) && ETCHNN_FUZZ_MODEL=$(FUZZ_MODEL) ETCHNN_FUZZ_KERAS_WEIGHTS=$(CURDIR)/$(FUZZ_DIR)/keras_weights ./fuzz_$(1) -max_total_time=$(FUZZ_SECONDS) \
	    -timeout=$(FUZZ_TIMEOUT) -artifact_prefix=artifacts/$(1)- -print_final_stats=1 $(2) $(FUZZ_FLAGS) \
	    corpus_$(1) $(CURDIR)/tests/fuzz/corpus_$(1) 2>&1 | tee $(1).log | grep -v '^#[0-9]*.*\(NEW\|REDUCE\)'; \
	    test $${PIPESTATUS[0]} -eq 0
endef

fuzz: fuzz-onnx fuzz-config fuzz-events fuzz-keras

fuzz-onnx: SHELL := /bin/bash
fuzz-onnx: $(FUZZ_DIR)/fuzz_onnx
	@mkdir -p $(FUZZ_DIR)/corpus_onnx
	cp examples/jet_tagger.onnx tests/ref/models/*.onnx $(FUZZ_DIR)/corpus_onnx/
	if [ -d $(FUZZ_SHARED_MODELS) ]; then cp $(FUZZ_SHARED_MODELS)/*.onnx $(FUZZ_DIR)/corpus_onnx/; fi
	if [ -d $(FUZZ_SHARED_QONNX) ]; then for f in $(FUZZ_SHARED_QONNX)/*.onnx; do cp $$f $(FUZZ_DIR)/corpus_onnx/qonnx-$$(basename $$f); done; fi
	$(call fuzz_run,onnx,-dict=$(CURDIR)/tests/fuzz/onnx.dict -rss_limit_mb=4096)

fuzz-config: SHELL := /bin/bash
fuzz-config: $(FUZZ_DIR)/fuzz_config
	$(call fuzz_run,config,-dict=$(CURDIR)/tests/fuzz/config.dict)

fuzz-keras: SHELL := /bin/bash
fuzz-keras: $(FUZZ_DIR)/fuzz_keras
	@mkdir -p $(FUZZ_DIR)/corpus_keras
	rm -rf $(FUZZ_DIR)/keras_weights && mkdir -p $(FUZZ_DIR)/keras_weights && cp tests/fuzz/keras_weights/*.h5 $(FUZZ_DIR)/keras_weights/
	if [ -d $(FUZZ_SHARED_KERAS)/keras ]; then python3 tests/fuzz/make_keras_seeds.py --shared $(FUZZ_SHARED_KERAS) \
	    $(FUZZ_DIR)/keras_weights $(FUZZ_DIR)/corpus_keras; fi
	$(call fuzz_run,keras,-dict=$(CURDIR)/tests/fuzz/keras.dict)

fuzz-events: SHELL := /bin/bash
fuzz-events: $(FUZZ_DIR)/fuzz_events
	$(call fuzz_run,events,)

# Every checked-in seed once (the regress-* files are inputs that once crashed).
fuzz-regress: $(FUZZ_BINS)
	for t in $(FUZZ_TARGETS); do \
	    ETCHNN_FUZZ_MODEL=$(FUZZ_MODEL) ETCHNN_FUZZ_KERAS_WEIGHTS=$(CURDIR)/tests/fuzz/keras_weights $(FUZZ_DIR)/fuzz_$$t -runs=0 -timeout=$(FUZZ_TIMEOUT) \
	        -artifact_prefix=$(FUZZ_DIR)/regress-$$t- tests/fuzz/corpus_$$t || exit 1; \
	done

fuzz-clean:
	rm -rf $(FUZZ_DIR) $(FUZZ_OBJ)
