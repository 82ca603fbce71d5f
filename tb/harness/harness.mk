# Verilator builds of the co-simulation harness (included by the top Makefile; also usable alone with
# `make -f tb/harness/harness.mk ...` from the repository root).
#
#   make build TOP=<module> [PARAMS="DATA_W=256 N=4"]     verilate + compile build/<TOP>/<variant>/V<TOP>
#   make -s build-path TOP=<module> [PARAMS=...]          the same, then print only the binary's path
#   make lint-fixtures                                    verilator --lint-only -Wall over tb/fixtures
#   COVERAGE=1 with build / build-path                    the coverage-instrumented variant (below)
#
# <variant> is `default`, or the parameters joined: DATA_W=256 N=4 -> DATA_W_256-N_4.
# A top found in tb/fixtures/ is built from the fixtures alone (so harness tests do not depend on rtl/
# work in progress); any other top from rtl/ (packages first) plus the fixtures.

SHELL := /bin/bash

HARNESS_DIR := tb/harness
HARNESS_SOURCES := $(wildcard $(HARNESS_DIR)/*.cpp $(HARNESS_DIR)/*.h) $(HARNESS_DIR)/gen_ports.mjs \
                   $(HARNESS_DIR)/harness.mk
HARNESS_CPP := $(abspath $(wildcard $(HARNESS_DIR)/*.cpp))

FIXTURE_SV := $(sort $(wildcard tb/fixtures/*.sv))
RTL_PKG_SV := $(sort $(wildcard rtl/*_pkg.sv))
RTL_SV := $(RTL_PKG_SV) $(filter-out $(RTL_PKG_SV),$(sort $(wildcard rtl/*.sv)))
SV_SOURCES = $(if $(wildcard tb/fixtures/$(TOP).sv),$(FIXTURE_SV),$(RTL_SV) $(FIXTURE_SV))

empty :=
space := $(empty) $(empty)
HARNESS_VARIANT = $(if $(strip $(PARAMS)),$(subst $(space),-,$(subst =,_,$(strip $(PARAMS)))),default)
HARNESS_VDIR = build/$(TOP)/$(HARNESS_VARIANT)
# The binary for TOP / PARAMS; `make -s build-path` prints its absolute path.
HARNESS_BIN = $(HARNESS_VDIR)/V$(TOP)

# One fixed set of flags everywhere: changing any of them rebuilds everything.
VERILATOR_FLAGS := --cc --exe --assert --trace-fst --x-assign fast --x-initial fast -Wno-fatal -Irtl \
    -CFLAGS -O2 -CFLAGS -std=c++17 -CFLAGS -I$(abspath $(HARNESS_DIR)) \
    -CFLAGS -include -CFLAGS $(abspath $(HARNESS_DIR)/vl_print_hook.h) \
    -LDFLAGS -lzmq
VERILATOR_MAKEFLAGS := OPT_FAST=-O2 OBJCACHE=ccache -j 2

# COVERAGE=1: line, toggle and user (cover property) coverage, with the functional cover points of
# tb/coverage/*.sv bound into the RTL, built under build/coverage/ so the normal builds stay as they are.
# The harness then writes a .dat file when it exits (scripts/coverage/README.md).
ifeq ($(COVERAGE),1)
HARNESS_VDIR = build/coverage/$(TOP)/$(HARNESS_VARIANT)
VERILATOR_FLAGS += --coverage-line --coverage-toggle --coverage-user
SV_SOURCES = $(if $(wildcard tb/fixtures/$(TOP).sv),$(FIXTURE_SV),$(RTL_SV) $(FIXTURE_SV) $(sort $(wildcard tb/coverage/*.sv)))
endif

.PHONY: build build-path lint-fixtures harness-locked-build

define require_top
	@test -n "$(TOP)" || { echo "usage: make build TOP=<module> [PARAMS='A=1 B=2']" >&2; exit 2; }
	@test -f "rtl/$(TOP).sv" -o -f "tb/fixtures/$(TOP).sv" || { echo "no rtl/$(TOP).sv or tb/fixtures/$(TOP).sv" >&2; exit 2; }
endef

# Two processes building the same variant take turns; the one that waited then finds it up to date.
build:
	$(require_top)
	@mkdir -p $(HARNESS_VDIR)
	@flock $(HARNESS_VDIR)/.lock $(MAKE) --no-print-directory -f $(HARNESS_DIR)/harness.mk \
	    TOP='$(TOP)' PARAMS='$(PARAMS)' harness-locked-build

build-path: build
	@echo $(abspath $(HARNESS_BIN))

harness-locked-build: $(HARNESS_BIN)
	@:

# Verilate, generate the port table from the model's header, then compile (the steps of
# `verilator --build`, split so that ports_gen.cpp exists before the C++ compile). All the tools'
# chatter goes to stderr: stdout of build-path is the path alone.
$(HARNESS_BIN): $(SV_SOURCES) $(HARNESS_SOURCES)
	@echo "verilating $(TOP) ($(HARNESS_VARIANT))" >&2
	verilator $(VERILATOR_FLAGS) --top-module $(TOP) $(addprefix -G,$(PARAMS)) \
	    --Mdir $(HARNESS_VDIR)/obj_dir -o ../V$(TOP) \
	    $(SV_SOURCES) $(HARNESS_CPP) $(abspath $(HARNESS_VDIR)/ports_gen.cpp) >&2
	node $(HARNESS_DIR)/gen_ports.mjs $(HARNESS_VDIR)/obj_dir/V$(TOP).h $(TOP) $(HARNESS_VDIR)/ports_gen.cpp
	$(MAKE) --no-print-directory -C $(HARNESS_VDIR)/obj_dir -f V$(TOP).mk $(VERILATOR_MAKEFLAGS) >&2
	@touch $@

lint-fixtures:
	@for f in $(FIXTURE_SV); do verilator --lint-only -Wall $$f || exit 1; done
