# Analysis targets, included from the top-level Makefile. Everything here runs on the host with
# Debian's Python (numpy, scipy, matplotlib) and reads only result directories.
#
#   make report [RESULT="dir..."]          comparison table (default: newest under RESULTS)
#   make figures [RESULT="dir..."] [FIGURES=dir] [FORMAT=svg,png,pdf]
#                                          default: the paper's kept results into paper/figures;
#                                          named results into build/figures
#   make paper                             regenerate paper/ (figures, paper.md, index.html)
#   make paper-add RESULT=dir              keep a result under paper/results for the paper to quote
#   make reproduce-paper [RESULTS=dir] [DRY_RUN=1]  rerun every experiment the paper quotes
#   make publish [RESULT="dir..."] [NAME=] result bundle under build/publish (default: paper's results)
#   make verify BUNDLE=path [SUMS_SHA256=] check a bundle's integrity
#   make analysis-test                     the analysis tests alone (seconds)
PY ?= /usr/bin/python3
RESULTS ?= $(CURDIR)/results
RESULT ?=
FIGURES ?=
FORMAT ?= svg
NAME ?=
BUNDLE ?=
SUMS_SHA256 ?=
PUBLISH_DIR ?= $(CURDIR)/build/publish
ANALYSIS := $(PY) -m analysis

.PHONY: report figures paper paper-add reproduce-paper publish verify analysis-test

report:
	@$(ANALYSIS) report --results "$(RESULTS)" $(RESULT)

figures:
	@$(ANALYSIS) figures --format "$(FORMAT)" $(if $(FIGURES),--out "$(FIGURES)") $(RESULT)

paper:
	@$(ANALYSIS) paper

paper-add:
	@test -n "$(RESULT)" || { echo "make paper-add: name the result to keep with RESULT=results/<id>" >&2; exit 2; }
	@$(ANALYSIS) add-result $(RESULT)

reproduce-paper:
	@$(ANALYSIS) reproduce-paper --results "$(RESULTS)" $(if $(DRY_RUN),--dry-run)

publish:
	@$(ANALYSIS) publish --out "$(PUBLISH_DIR)" $(if $(NAME),--name "$(NAME)") $(RESULT)

verify:
	@test -n "$(BUNDLE)" || { echo "make verify: name the bundle with BUNDLE=build/publish/<name>.tar.gz (or its folder)" >&2; exit 2; }
	@$(ANALYSIS) verify "$(BUNDLE)" $(if $(SUMS_SHA256),--sums-sha256 "$(SUMS_SHA256)")

analysis-test:
	$(PY) -m pytest -q -p no:cacheprovider tests/analysis
