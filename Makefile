# scxlab: the commands a user types. Everything that compiles or boots runs inside the
# pinned toolchain root (kernel/tools-exec); the host only needs what `make setup` installs.
#
#   make setup                                   host packages, toolchain root, guest image
#   make test                                    unit + integration tests (what .ci/run calls)
#   make experiment POLICY=fifo WORKLOAD=nginx   one policy: DURATION= REPEATS= CLOCK= TARGET=
#   make compare POLICIES="cfs fifo" WORKLOAD=nginx REPEATS=5   interleaved in one boot
#   make sweep SWEEP=cgroup-weights               a resumable parameter matrix
#   make bench-overhead                           what each policy costs (perf pipe, hackbench)
#   make report | figures | paper | publish | verify BUNDLE=...   analysis (see analysis/analysis.mk)
#   make train TRACES="results/..."              the ML yield predictor (see tools/mltrain/mltrain.mk)
SHELL := /bin/bash
.DEFAULT_GOAL := help

POLICY ?= fifo
POLICIES ?= cfs fifo
WORKLOAD ?= nginx
DURATION ?=
REPEATS ?=
CLOCK ?=
TARGET ?= vm
VM ?= default
MONITORS ?=
CGROUPS ?=
PRECISION ?=
PARAMS ?=
MAX_REPEATS ?=
RESULTS ?= $(CURDIR)/results

SETUP_ENV := build/setup.env
SETUP_INPUTS := kernel/setup.sh kernel/tools.packages kernel/image.packages kernel/guest-init kernel/required-kconfig
# The runners work inside the toolchain root, which sees only the repository, the cache and
# /tmp of this machine; RESULTS (wherever it is) is bind-mounted there too, so that results
# land where the user asked and not inside the toolchain root.
TOOLS = SCXLAB_EXTRA_BINDS="$(abspath $(RESULTS))" kernel/tools-exec
PY := /usr/bin/python3

# report, figures, paper, paper-add, reproduce-paper, publish, verify, analysis-test
include analysis/analysis.mk
# train: the mlyield predictor from mltrace results
include tools/mltrain/mltrain.mk

.PHONY: help setup build test unit-test integration-test experiment compare sweep bench-overhead clean

help:
	@sed -n '1,11p' Makefile | sed 's/^# \{0,1\}//'

# `make setup` always checks the cache (seconds when nothing changed); other targets only
# rerun it when its recipe changed or it never ran in this checkout.
setup:
	kernel/setup.sh
$(SETUP_ENV): $(SETUP_INPUTS)
	kernel/setup.sh

build: $(SETUP_ENV)
	@$(TOOLS) env MAKEFLAGS= make --no-print-directory -f build.mk -j2 all >&2

# The runner's exit code is the experiment's verdict: 0 valid, 1 invalid run, 2 bad input.
RUN = $(TOOLS) env IMAGE_DIR="$$(. $(SETUP_ENV); echo $$IMAGE_DIR)" TOOLS_ROOT="$$(. $(SETUP_ENV); echo $$TOOLS_ROOT)" \
	build/runners/scxlab run --repo $(CURDIR) --results $(RESULTS) --workload "$(WORKLOAD)" \
	--duration "$(DURATION)" --repeats "$(REPEATS)" --clock "$(CLOCK)" --target "$(TARGET)" --vm "$(VM)" --monitors "$(MONITORS)" --cgroups "$(CGROUPS)" --params "$(PARAMS)" --precision "$(PRECISION)" --max-repeats "$(MAX_REPEATS)"

experiment: build
	@$(RUN) --policy "$(POLICY)" --command 'make experiment POLICY="$(POLICY)" WORKLOAD="$(WORKLOAD)" DURATION="$(DURATION)" REPEATS="$(REPEATS)" CLOCK="$(CLOCK)" TARGET="$(TARGET)" VM="$(VM)" MONITORS="$(MONITORS)" CGROUPS="$(CGROUPS)" PRECISION="$(PRECISION)" MAX_REPEATS="$(MAX_REPEATS)" PARAMS="$(PARAMS)"'

compare: build
	@$(RUN) --policies "$(POLICIES)" --command 'make compare POLICIES="$(POLICIES)" WORKLOAD="$(WORKLOAD)" DURATION="$(DURATION)" REPEATS="$(REPEATS)" CLOCK="$(CLOCK)" TARGET="$(TARGET)" VM="$(VM)" MONITORS="$(MONITORS)" CGROUPS="$(CGROUPS)" PRECISION="$(PRECISION)" MAX_REPEATS="$(MAX_REPEATS)" PARAMS="$(PARAMS)"'

# A parameter matrix (configs/sweeps/NAME.ini), one result directory per point; resumable.
SWEEP ?=
# The cgroup weight sweep then writes its table (weights.md/json: throughput vs cfs, achieved vs
# entitled shares per point) into the sweep's folder, from whatever points are done.
SWEEP_RUN = $(TOOLS) env IMAGE_DIR="$$(. $(SETUP_ENV); echo $$IMAGE_DIR)" TOOLS_ROOT="$$(. $(SETUP_ENV); echo $$TOOLS_ROOT)" \
	build/runners/scxlab sweep --sweep "$(SWEEP)" --repo $(CURDIR) --results $(RESULTS) \
	--duration "$(DURATION)" --repeats "$(REPEATS)" --clock "$(CLOCK)" --command 'make sweep SWEEP="$(SWEEP)"'
sweep: build
ifeq ($(SWEEP),cgroup-weights)
	@out=$$($(SWEEP_RUN)); rc=$$?; dir=$$(tail -n1 <<<"$$out"); \
	if [ -d "$$dir" ] && ls -d "$$dir"/2* >/dev/null 2>&1; then $(PY) -m analysis weights "$$dir" >&2; fi; [ -z "$$out" ] || echo "$$out"; exit $$rc
else
	@$(SWEEP_RUN)
endif

# What each policy costs: the overhead sweep, then its table (ratios to cfs with CIs, ns per
# BPF callback) written into the sweep's folder as overhead.md and overhead.json.
bench-overhead: build
	@out=$$($(MAKE) --no-print-directory sweep SWEEP=overhead); rc=$$?; dir=$$(tail -n1 <<<"$$out"); \
	if [ -d "$$dir" ]; then $(PY) -m analysis overhead "$$dir" && echo "$$dir"; fi; exit $$rc

unit-test: build
	$(TOOLS) env MAKEFLAGS= make --no-print-directory -f build.mk unit-tests

integration-test: build
	$(PY) -m pytest -v tests/integration

test: build
	tests/run-all

clean:
	rm -rf build
