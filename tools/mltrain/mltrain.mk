# tools/mltrain/mltrain.mk - `make train`: trains the mlyield yield predictor from traces of the
# mltrace policy (tools/mltrain/mltrain.c explains labels, split, training and provenance).
# Included by the top-level Makefile after its variables (SETUP_ENV, RESULTS).
#
#   make train                                   newest valid mltrace result of each workload
#                                                under $(RESULTS)
#   make train TRACES="results/A results/B"      these result directories (or trace CSV files); a trace
#                                                kept gzip-compressed (paper/results/*/runs/*/raw/
#                                                mlyield-trace.csv.gz) is read as it is
#   make train ... SEED=1 HORIZON_US=5000 SPLIT=time|run EPOCHS=30 MODEL=path.json
#
# The model goes to $(RESULTS)/mlyield-models/<date>-<time>.json unless MODEL= says otherwise;
# an existing file is never overwritten. The last line printed is the model's path. To make it
# the policy's built-in default: cp MODEL schedulers/mlyield/default-model.json; make build.
#
#   make check-models                            retrain every model under paper/models from the traces
#                                                under paper/results, with the parameters its provenance
#                                                records, and compare bytes (tools/mltrain/check_models.py)
ifndef MLTRAIN_MK_INCLUDED
MLTRAIN_MK_INCLUDED := 1

SETUP_ENV ?= build/setup.env
RESULTS ?= $(CURDIR)/results

MLTRAIN := build/tools/mltrain
PY ?= /usr/bin/python3
MLTRAIN_SRC := tools/mltrain/mltrain.c tools/mltrain/mltrace_csv.h \
	schedulers/mlyield/mlyield_nn.h schedulers/mlyield/mlyield_model.h
# -ffp-contract=off: no fused multiply-add may change a rounding between builds (determinism).
MLTRAIN_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -ffp-contract=off -D_GNU_SOURCE

# Defaults; the values reach the trainer through the environment (see the top-level Makefile).
SEED ?= 1
HORIZON_US ?= 5000
SPLIT ?= time
EPOCHS ?= 30
MLTRAIN_STAMP := $(shell date +%Y%m%d-%H%M%S)
export SEED HORIZON_US SPLIT EPOCHS MLTRAIN_STAMP

.PHONY: train check-models

# Built inside the toolchain root like everything else (build.mk does not build tools/). zlib reads the
# gzip-compressed traces that kept results hold: zlib1g-dev is in the root already (libbpf needs it), so reading
# them adds no package to kernel/tools.packages (whose change would rebuild every user's toolchain root).
# Linked under a temporary name and renamed: test files run side by side (make test's JOBS) may each build it, and
# none may run a half-written binary.
$(MLTRAIN): $(MLTRAIN_SRC) $(SETUP_ENV)
	@mkdir -p $(dir $@)
	kernel/tools-exec gcc $(MLTRAIN_CFLAGS) tools/mltrain/mltrain.c -o $@.tmp-$$$$ -ljansson -lm -lz && mv -f $@.tmp-$$$$ $@

# What the paper's "train again from the same traces" means, checked: a few seconds per model.
check-models: $(MLTRAIN)
	@$(PY) tools/mltrain/check_models.py

# Every folder the trainer reads or writes outside the repository is bind-mounted into the root.
# A refused or failed training leaves no folder it made (RESULTS, the model's folder) behind: each is removed
# if empty, twice over, since either may hold the other.
train: $(MLTRAIN)
	@model=$${MODEL:-$$RESULTS/mlyield-models/$$MLTRAIN_STAMP.json}; out=$$(dirname -- "$$model"); \
	made=(); for d in "$$out" "$$RESULTS"; do [ -e "$$d" ] || made+=("$$d"); done; \
	mkdir -p -- "$$out" || exit 2; \
	read -ra traces <<<"$${TRACES:-}"; \
	binds=(--bind "$$RESULTS" --bind "$$out"); \
	for t in "$${traces[@]}"; do binds+=(--bind "$$(dirname -- "$$(realpath -m -- "$$t")")"); done; \
	if [ $${#traces[@]} -eq 0 ]; then traces=(--newest "$$RESULTS"); fi; \
	kernel/tools-exec "$${binds[@]}" $(MLTRAIN) -o "$$model" --seed "$$SEED" --horizon-us "$$HORIZON_US" \
		--split "$$SPLIT" --epochs "$$EPOCHS" --repo "$$PWD" "$${traces[@]}"; rc=$$?; \
	[ $$rc -eq 0 ] || for d in "$${made[@]}" "$${made[@]}"; do rmdir -- "$$d" 2>/dev/null; done; exit $$rc

endif
