# scxlab: the commands a user types. Everything that compiles or boots runs inside the
# toolchain root (kernel/tools-exec); the host only needs what `make setup` installs.
#
#   make setup                                   host packages, toolchain root, guest image
#   make test                                    unit + integration tests (what .ci/run calls)
#   make experiment POLICY=fifo WORKLOAD=nginx   one policy: DURATION= REPEATS= CLOCK= ICOUNT_SHIFT= TARGET=
#   make compare POLICIES="cfs fifo" WORKLOAD=nginx REPEATS=5   interleaved in one boot
#                                                (SNAPSHOT=1: restore the saved booted guest; default 0, cold)
#   make sweep SWEEP=cgroup-weights               a resumable parameter matrix (EXECUTOR=slurm: a SLURM job array)
#   make bench-overhead                           what each policy costs (perf pipe, hackbench)
#   make bench-suite                              where an experiment's time goes, per clock (suite.md)
#   make selfcheck-host                           TARGET=host run by scxlab inside its sched_ext guest
#   make selfcheck-kvm                            ACCEL=kvm: scxlab in the guest boots a nested guest under its KVM
#   make report | figures | paper | publish | verify BUNDLE=... | export   analysis (see analysis/analysis.mk)
#   make time-model [CLAIMS=...]                  each ratio claim under three time models (analysis/analysis.mk)
#   make train TRACES="results/..."              the ML yield predictor (see tools/mltrain/mltrain.mk)
#   make check-models                             retrain paper/models from paper/results, compare bytes
#   ./scxlab experiment|compare|sweep|selfcheck-host|selfcheck-kvm ... VAR=value  the same runs, with the runner's own exit code
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Values a user gives (make VAR=value, or the environment) are data, never make or shell text: make takes each
# as typed (no $(...) expansion: $(value)) and exports it; recipes refer to it as "$$VAR" and never paste it into
# a command line. ./scxlab maps the run variables to the runner's arguments. A misspelt variable is refused.
RUN_VARS := POLICY POLICIES WORKLOAD DURATION REPEATS CLOCK ICOUNT_SHIFT ACCEL TARGET VM MONITORS CGROUPS PRECISION PARAMS MAX_REPEATS \
	RESULTS SWEEP EXECUTOR JOBS SNAPSHOT
ANALYSIS_VARS := RESULT FIGURES FORMAT NAME BUNDLE SUMS_SHA256 PUBLISH_DIR DRY_RUN ALLOW_HOST_MISMATCH WHY CSV CLAIMS MODELS
TRAIN_VARS := TRACES SEED HORIZON_US SPLIT EPOCHS MODEL
USER_VARS := $(RUN_VARS) $(ANALYSIS_VARS) $(TRAIN_VARS)
# what kernel/setup.sh reads from the environment
SETUP_VARS := SCXLAB_CACHE SCXLAB_MIRROR
UNKNOWN_VARS := $(foreach v,$(.VARIABLES),$(if $(filter command,$(origin $(v))),$(filter-out $(USER_VARS) $(SETUP_VARS),$(v))))
ifneq ($(strip $(UNKNOWN_VARS)),)
$(error unknown variable $(strip $(UNKNOWN_VARS)): scxlab's variables are $(USER_VARS) (and $(SETUP_VARS) for make setup))
endif
$(foreach v,$(USER_VARS) $(SETUP_VARS),$(if $(filter command environment,$(firstword $(origin $(v)))),$(eval override $(v) := $$(value $(v)))))
ifeq ($(origin RESULTS),undefined)
RESULTS := $(CURDIR)/results
endif

SETUP_ENV := build/setup.env
SETUP_INPUTS := kernel/setup.sh kernel/tools.packages kernel/image.packages kernel/tools.lock kernel/image.lock \
	kernel/guest-init kernel/required-kconfig kernel/kscx-build.sh
PY := /usr/bin/python3

# report, figures, paper, paper-add, reproduce-paper, publish, verify, analysis-test
include analysis/analysis.mk
# train: the mlyield predictor from mltrace results
include tools/mltrain/mltrain.mk
# after the included files' defaults (?=): exporting first would define the variables, empty
export $(USER_VARS) $(SETUP_VARS)

.PHONY: help setup build test unit-test integration-test experiment compare sweep bench-overhead bench-suite selfcheck-host selfcheck-kvm clean

help:
	@sed -n '/^#/!q;p' Makefile | sed 's/^# \{0,1\}//'

# `make setup` always checks the cache (EXECUTOR=slurm: also installs slurm-wlm and munge) (seconds when nothing changed); other targets only
# rerun it when its recipe changed or it never ran in this checkout.
setup:
	kernel/setup.sh
$(SETUP_ENV): $(SETUP_INPUTS)
	kernel/setup.sh

build: $(SETUP_ENV)
	@kernel/tools-exec env MAKEFLAGS= make --no-print-directory -f build.mk -j2 all >&2

# The runner's exit code is the experiment's verdict (0 valid, 1 invalid run, 2 bad input, 3 target not
# prepared); make reports any of them as its own error 2 and names the runner's in its message. ./scxlab
# returns the runner's own code.
experiment compare sweep bench-overhead bench-suite selfcheck-host selfcheck-kvm: build
	@SCXLAB_FROM_MAKE=1 ./scxlab $@

unit-test: build
	kernel/tools-exec env MAKEFLAGS= make --no-print-directory -f build.mk unit-tests

integration-test: build
	$(PY) -m pytest -v tests/integration

test: build
	tests/run-all

clean:
	rm -rf build
