# Analysis targets, included from the top-level Makefile. Everything here runs on the host with
# Debian's Python (numpy, scipy, matplotlib) and reads only result directories.
#
#   make report [RESULT="dir..."]          comparison table (default: newest under RESULTS)
#                                          ALLOW_HOST_MISMATCH=1: pool results whose hosts differ
#   make figures [RESULT="dir..."] [FIGURES=dir] [FORMAT=svg,png,pdf]
#                                          default: the paper's kept results into paper/figures;
#                                          named results into build/figures
#   make paper                             regenerate paper/ (figures, paper.md, index.html, appendix.md/.html)
#   make paper-add RESULT=dir [WHY=text]   keep a result under paper/results for the paper to quote (a result
#                                          from a modified work tree only with WHY=, recorded beside it)
#   make reproduce-paper [RESULTS=dir] [DRY_RUN=1] [JOBS=N]  rerun every experiment the paper quotes,
#                                          N at once (default 1; a real-clock one alone)
#   make time-model [CLAIMS="id..."] [MODELS="shift=2 real"] [REPEATS=] [DURATION=] [JOBS=N] [DRY_RUN=1] [RESULTS=dir]
#                                          each ratio claim's compare under the time models of
#                                          analysis/timemodel.py (a real-clock one alone: a quiet host)
#   make publish [RESULT="dir..."] [NAME=] result bundle under build/publish (default: paper's results)
#   make verify BUNDLE=path [SUMS_SHA256=] check a bundle's integrity
#   make export [RESULT="dir..."] [CSV=file] every measured value as one long-format CSV (default: the
#                                          paper's results into build/export/results.csv)
#   make analysis-test                     the analysis tests alone (seconds)
PY ?= /usr/bin/python3
# Defaults; the values themselves reach the commands through the environment (see the top-level
# Makefile): recipes say "$$VAR", and lists (RESULT, several folders) are split by `read -ra`, which
# neither expands nor runs anything.
RESULTS ?= $(CURDIR)/results
FORMAT ?= svg
PUBLISH_DIR ?= $(CURDIR)/build/publish
export RESULTS FORMAT PUBLISH_DIR
ANALYSIS := $(PY) -m analysis
SPLIT_RESULT := read -ra result <<<"$${RESULT:-}"
# A switch (DRY_RUN, ALLOW_HOST_MISMATCH) is 1 (on) or 0 / unset (off); any other value is refused rather than
# read as "on" (DRY_RUN=0 or DRY_RUN=no would otherwise mean a dry run). $(call SWITCH,VAR,--option) adds the
# option to the array flags.
SWITCH = case "$${$(1):-0}" in 0) ;; 1) flags+=($(2)) ;; *) printf 'make %s: %s is 1 (on) or 0 (off), not %q\n' \
	"$@" $(1) "$$$(1)" >&2; exit 2 ;; esac

.PHONY: report figures paper paper-add reproduce-paper time-model publish verify export analysis-test

report:
	@flags=(); $(call SWITCH,ALLOW_HOST_MISMATCH,--allow-host-mismatch); $(SPLIT_RESULT); \
	$(ANALYSIS) report --results "$$RESULTS" "$${flags[@]}" "$${result[@]}"

figures:
	@$(SPLIT_RESULT); $(ANALYSIS) figures --format "$$FORMAT" $${FIGURES:+--out "$$FIGURES"} "$${result[@]}"

export:
	@$(SPLIT_RESULT); $(ANALYSIS) export $${CSV:+--out "$$CSV"} "$${result[@]}"

paper:
	@$(ANALYSIS) paper

paper-add:
	@test -n "$${RESULT:-}" || { echo "make paper-add: name the result to keep with RESULT=results/<id>" >&2; exit 2; }
	@$(SPLIT_RESULT); $(ANALYSIS) add-result $${WHY:+--dirty-because "$$WHY"} "$${result[@]}"

reproduce-paper:
	@flags=(); $(call SWITCH,DRY_RUN,--dry-run); $(ANALYSIS) reproduce-paper --results "$$RESULTS" "$${flags[@]}" --jobs "$${JOBS:-}"

time-model:
	@flags=(); $(call SWITCH,DRY_RUN,--dry-run); \
	$(ANALYSIS) time-model --results "$$RESULTS" "$${flags[@]}" --jobs "$${JOBS:-}" --repeats "$${REPEATS:-}" \
		--duration "$${DURATION:-}" --claims "$${CLAIMS:-}" --models "$${MODELS:-}"

publish:
	@$(SPLIT_RESULT); $(ANALYSIS) publish --out "$$PUBLISH_DIR" $${NAME:+--name "$$NAME"} "$${result[@]}"

verify:
	@test -n "$${BUNDLE:-}" || { echo "make verify: name the bundle with BUNDLE=build/publish/<name>.tar.gz (or its folder)" >&2; exit 2; }
	@$(ANALYSIS) verify "$$BUNDLE" $${SUMS_SHA256:+--sums-sha256 "$$SUMS_SHA256"}

analysis-test:
	$(PY) -m pytest -q -p no:cacheprovider tests/analysis
