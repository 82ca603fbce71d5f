# nvme-tcp-ddp: one entry point for set-up, build, tests, waveforms and benchmarks.
# `make help` lists the targets.

SHELL := /bin/bash
NPX   := npx --no-install

.PHONY: help deps run demo test sim soak lint synth waves bench typecheck clean

help:
	@echo "make deps            install system packages (Debian) and npm packages; safe to rerun"
	@echo "make run             the main job: ddpsim run (NVMe/TCP reads through the RTL offload block)"
	@echo "make demo            build the RTL and co-simulate a CRC32C stream against the reference"
	@echo "make test            the whole suite (typecheck, lint, unit, RTL and end-to-end tests)"
	@echo "make sim [SHARD=i/n] the RTL regression only"
	@echo "make soak [FRAMES=n] [SHARD=i/n] [SEED=s] [SCENARIO=seed]  random differential traffic, RTL against the model, on every core"
	@echo "make coverage [SOAK=1 [FRAMES=n]]  the RTL regression on coverage builds: per-module table, cover points, HTML"
	@echo "make lint            verilator --lint-only -Wall over rtl/"
	@echo "make synth           synthesize every rtl/ module with the pinned Yosys; cells and depth"
	@echo "make waves TEST=pat  rerun the tests matching pat with FST tracing; prints the files"
	@echo "make bench           simulator, bridge and software benchmarks"
	@echo "make build TOP=m [PARAMS='A=1 B=2']  verilate one top module into build/"
	@echo "make clean           remove build outputs"

deps:
	bash scripts/deps.sh

include tb/harness/harness.mk

typecheck:
	$(NPX) tsc --noEmit

lint:
	bash scripts/lint.sh

synth:
	node scripts/synth.mjs

test: typecheck lint
	@mkdir -p build
	$(NPX) vitest run --reporter=default --reporter=json --outputFile.json=build/test-report.json; status=$$?; \
	  node scripts/test-summary.mjs build/test-report.json; exit $$status

SIM_ARGS := $(if $(SHARD),--shard=$(SHARD))
sim:
	$(NPX) vitest run test/rtl $(SIM_ARGS)

# FRAMES (default 10^6) over all local cores; SHARD=i/n runs the i-th of n parts (one per machine); SEED
# reproduces a soak, SCENARIO=<seed> one scenario of it alone; WORKERS overrides the number of cores.
SOAK_ARGS := $(if $(FRAMES),--frames=$(FRAMES)) $(if $(SHARD),--shard=$(SHARD)) $(if $(SEED),--seed=$(SEED)) \
             $(if $(SCENARIO),--scenario=$(SCENARIO)) $(if $(WORKERS),--workers=$(WORKERS))
soak:
	$(NPX) tsx scripts/soak.ts $(SOAK_ARGS)

waves:
	@test -n "$(TEST)" || { echo "usage: make waves TEST=<test name pattern>"; exit 2; }
	@mkdir -p waves && touch waves/.stamp
	WAVES=1 $(NPX) vitest run -t "$(TEST)"; status=$$?; \
	  echo "waveforms written:"; find waves -name '*.fst' -newer waves/.stamp | sed 's/^/  /'; exit $$status

run:
	./bin/ddpsim.mjs run $(ARGS)

demo:
	$(NPX) tsx src/cli/demo.ts

bench:
	$(NPX) tsx bench/run.ts

clean:
	rm -rf build waves

# The RTL regression on coverage-instrumented builds (build/coverage/): per-module table, cover points, HTML
# report. SOAK=1 adds a soak of FRAMES (default 10^5) frames.
.PHONY: coverage
coverage:
	$(NPX) tsx scripts/coverage.ts $(if $(filter 1,$(SOAK)),--soak $(or $(FRAMES),100000))
