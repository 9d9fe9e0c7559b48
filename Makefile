# Makefile - one build for all of loam.  See README.md.
#
#   make            build build/libloam.a and bin/*
#   make check      run every test suite; last line "N passed, N failed"
#   make bench      run tests/bench/*, one line each
#   make demo       run the demo on embedded data
#   make evidence   each method's central claim, reproduced on CPU
#   make deps       apt-get install whatever is missing
#   make install / uninstall / lint / fuzz / clean
#
# SANITIZE=address,undefined builds everything under build/san-*/ so that
# it never mixes with the normal build.

include config.mk

comma := ,
empty :=
space := $(empty) $(empty)

ifeq ($(strip $(SANITIZE)),)
OUT    := .
OBJ    := build/obj
SANFLAGS :=
else
OUT    := build/san-$(subst $(comma),-,$(SANITIZE))
OBJ    := $(OUT)/obj
SANFLAGS := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
BIN    := $(OUT)/bin
LIBA   := $(OUT)/build/libloam.a
TBIN   := $(OUT)/build/tests

WARN := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wundef -Wcast-align -Wwrite-strings \
	-Wvla -Wno-unused-parameter
ifneq ($(WERROR),)
WARN += -Werror
endif

# libfaiss_c found?  Then use it; else build our C API subset.
HAVE_FAISS_C := $(shell printf 'int main(void){return 0;}' | \
	$(CC) -x c - -lfaiss_c -o /dev/null 2>/dev/null && echo yes)
ifeq ($(FAISS_LIBS),)
ifeq ($(HAVE_FAISS_C),yes)
FAISS_LIBS := -lfaiss_c -lfaiss
FAISS_SHIM :=
else
FAISS_LIBS := -lfaiss
FAISS_SHIM := lib/base/faiss_c.cpp
endif
else
FAISS_SHIM :=
endif

LIB_FLOORS := base nn method
LIB_INC    := $(LIB_FLOORS:%=-Ilib/%)
ALL_CPPFLAGS := $(LIB_INC) -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-DLOAM_VERSION_STRING='"$(VERSION)"' $(FAISS_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS   := -std=c11 $(WARN) $(CFLAGS) -fopenmp $(SANFLAGS)
ALL_CXXFLAGS := -std=c++17 -Wall -Wextra $(if $(WERROR),-Werror) $(CXXFLAGS) \
	-fopenmp $(SANFLAGS)
ALL_LDFLAGS  := $(LDFLAGS) -fopenmp $(SANFLAGS)
ALL_LIBS     := $(FAISS_LIBS) $(BLAS_LIBS) $(LIBS)

LIB_SRC   := $(sort $(wildcard $(LIB_FLOORS:%=lib/%/*.c)))
LIB_OBJ   := $(LIB_SRC:lib/%.c=$(OBJ)/lib/%.o) $(FAISS_SHIM:lib/%.cpp=$(OBJ)/lib/%.o)
CMD_SRC   := $(sort $(wildcard cmd/*.c))
PROGS     := $(CMD_SRC:cmd/%.c=%)
CMD_BIN   := $(PROGS:%=$(BIN)/%)
UNIT_SRC  := $(sort $(wildcard tests/unit/*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(TBIN)/unit/%)
TOOL_SRC  := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN  := $(TOOL_SRC:tests/tools/%.c=$(TBIN)/tools/%)
BENCH_SRC := $(sort $(wildcard tests/bench/*.c tests/bench/*.cpp))
BENCH_BIN := $(patsubst tests/bench/%,$(TBIN)/bench/%,$(basename $(BENCH_SRC)))
MAN1      := $(sort $(wildcard man/*.1))
MAN5      := $(sort $(wildcard man/*.5))

.PHONY: all deps bench-deps lint-deps fuzz-deps deps-list check test bench demo evidence install uninstall lint fuzz clean \
	tart-model
.DEFAULT_GOAL := all

all: deps $(LIBA) $(CMD_BIN)

# Installs with apt-get only what dpkg says is missing; apt-get update runs
# only when a package is unknown to the local lists.  No-op when complete.
# The lists are in config.mk; the benchmarks' baselines (NumPy, PyTorch),
# lint and fuzz need a little more, installed only by those targets.
bench-deps:
	@$(MAKE) --no-print-directory deps DEPS_PKGS="$(BENCH_PKGS)"

lint-deps:
	@$(MAKE) --no-print-directory deps DEPS_PKGS="$(LINT_PKGS)"

fuzz-deps:
	@$(MAKE) --no-print-directory deps DEPS_PKGS="$(FUZZ_PKGS)"

# Every package any target installs, one a line (tests/deps.bats).
deps-list:
	@printf '%s\n' $(DEPS_PKGS) $(BENCH_PKGS) $(LINT_PKGS) $(FUZZ_PKGS)

deps:
	@missing=; for p in $(DEPS_PKGS); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	        grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "deps: installing$$missing"; \
	    sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    if ! apt-cache show $$missing >/dev/null 2>&1; then \
	        $$sudo apt-get update -q || exit 1; fi; \
	    $$sudo apt-get install -y -q --no-install-recommends $$missing || exit 1; \
	fi

$(OBJ)/lib/%.o: lib/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(OBJ)/lib/%.o: lib/%.cpp | deps
	@mkdir -p $(@D)
	$(CXX) $(ALL_CPPFLAGS) $(ALL_CXXFLAGS) -MMD -MP -c $< -o $@

$(OBJ)/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) -Itests/unit $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN)/%: $(OBJ)/cmd/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $< $(LIBA) $(ALL_LIBS) -o $@

$(TBIN)/unit/%: $(OBJ)/tests/unit/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $< $(LIBA) $(ALL_LIBS) -o $@

$(TBIN)/tools/%: $(OBJ)/tests/tools/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $< $(LIBA) $(ALL_LIBS) -o $@

$(TBIN)/bench/%: $(OBJ)/tests/bench/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CXX) $(ALL_LDFLAGS) $< $(LIBA) $(ALL_LIBS) -o $@

# Benchmarks may be C++ when they call a library's own C++ API as baseline.
$(OBJ)/tests/bench/%.o: tests/bench/%.cpp | deps
	@mkdir -p $(@D)
	$(CXX) $(ALL_CPPFLAGS) $(ALL_CXXFLAGS) -c $< -o $@

test: check
check: all $(UNIT_BIN) $(TOOL_BIN)
	@LOAM_OUT=$(OUT) LOAM_SANITIZE=$(SANITIZE) tests/run-all

bench: all bench-deps $(BENCH_BIN) $(TOOL_BIN)
	@LOAM_OUT=$(OUT) tests/bench/run

demo: all $(TOOL_BIN)
	@LOAM_OUT=$(OUT) tests/demo

# Each method's central claim at CPU scale, from runs (README, Evidence).
evidence: all $(TOOL_BIN) $(TBIN)/unit/gridworld_test
	@LOAM_OUT=$(OUT) tests/evidence

# The CPU-trained TART reasoning module shipped in testdata/ (tart-fit(1),
# README), in two stages: 12,000 steps through the curricula on one thread
# (TART_RESUME=1 continues an interrupted stage 1 from its last checkpoint,
# every 250 steps), then 5,500 steps at full size from stage 1's weights
# with a fresh Adam and a linear decay.  Deterministic for the thread counts;
# the shipped file came from the generator before the training tasks got a
# random stream of their own, so a rerun gives a different file.
TART_MODEL := testdata/tart-cpu.safetensors
TART_STAGE1 := $(OUT)/build/tart-stage1.safetensors
tart-model: all
	$(BIN)/tart-fit train --config tiny --positions 130 --batch 64 --lr 1e-3 \
	    --dims 1:16:3:400 --points 18:130:16:500 --steps 12000 \
	    --checkpoint-every 250 --log-every 50 -s 1 -t 1 \
	    $(if $(TART_RESUME),--resume) -o $(TART_STAGE1)
	$(BIN)/tart-fit train --init $(TART_STAGE1) --batch 64 --lr 5e-4 \
	    --decay 0:5500:1e-5 --dims 16:16:0:1 --points 130:130:0:1 \
	    --steps 5500 --checkpoint-every 250 --log-every 50 -s 2 -t 2 \
	    -o $(TART_MODEL)

install: all
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANPREFIX)/man1 \
	    $(DESTDIR)$(MANPREFIX)/man5
	$(if $(PROGS),cp -f $(CMD_BIN) $(DESTDIR)$(PREFIX)/bin/)
	$(if $(MAN1),cp -f $(MAN1) $(DESTDIR)$(MANPREFIX)/man1/)
	$(if $(MAN5),cp -f $(MAN5) $(DESTDIR)$(MANPREFIX)/man5/)

uninstall:
	rm -f $(PROGS:%=$(DESTDIR)$(PREFIX)/bin/%) \
	    $(MAN1:man/%=$(DESTDIR)$(MANPREFIX)/man1/%) \
	    $(MAN5:man/%=$(DESTDIR)$(MANPREFIX)/man5/%)

lint: deps lint-deps
	tests/lint/layers lib
	mandoc -T lint -W warning $(MAN1) $(MAN5)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --std=c11 --inline-suppr $(LIB_INC) -D_POSIX_C_SOURCE=200809L -D__GNUC__ \
	    --library=tests/cppcheck.cfg --suppress=missingIncludeSystem lib cmd

# libFuzzer targets (clang; -fopenmp, as lib/ has OpenMP loops and calls,
# takes libomp from libomp-dev): conf, npy, rec, rewardcount, safetensors.
# Not part of check.  Run one on a scratch copy of its seed corpus, so that
# the units it finds stay out of the repository:
#   cp -r tests/fuzz/corpus/rec /tmp/rec
#   build/fuzz/rec_fuzz -max_total_time=600 -print_final_stats=1 /tmp/rec
# and add a crash's reproducer (crash-*, minimised with -minimize_crash=1)
# to tests/fuzz/corpus/NAME/ once it is fixed.
FUZZ_SRC := $(sort $(wildcard tests/fuzz/*_fuzz.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_CC  := clang
fuzz: deps fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_BIN)

build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(FAISS_SHIM)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(ALL_CPPFLAGS) -std=c11 -g -O1 -fopenmp -fsanitize=fuzzer,address,undefined \
	    $< $(filter-out lib/base/knn.c lib/base/cli.c,$(LIB_SRC)) $(BLAS_LIBS) $(LIBS) -lm -o $@

clean:
	rm -rf build bin

.SECONDARY:
-include $(shell find build -name '*.d' 2>/dev/null)
