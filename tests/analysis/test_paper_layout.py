"""The paper's layout (analysis/paperdoc.py), from synthetic results: summary first, contents
that match the sections, per-result detail in the appendix, every figure shown and marked as
emulated, the verdict logic's extra fields and the time model shown when provided."""
import re
import sys
import types

import pytest

from analysis import AnalysisError, claimfacts, figures, paper, stats, timemodel
from synthetic_results import claim_section, interleaved_nginx, write_result

CLAIMS = (claim_section("idea", title="cgfifo vs cfs on nginx", policy="cgfifo", expected=1.03,
                        results="{rid}", ablations="fifo")
          + claim_section("later", title="not measured yet", policy="cgfifo", expected=1.10, results="",
                          needs="a result"))


@pytest.fixture
def built(tmp_path, results):
    src = write_result(results, "20260101-000000-nginx-cfs+fifo+cgfifo", interleaved_nginx(
        {"cfs": [1000, 1010, 990, 1005, 995], "fifo": [1200, 1190, 1210, 1205, 1195],
         "cgfifo": [1201, 1189, 1211, 1204, 1196]}))
    pdir = tmp_path / "paper"
    pdir.mkdir()
    kept = paper.add_result(src, pdir)
    (pdir / "claims.ini").write_text(CLAIMS.format(rid=kept.name))
    written = paper.build(pdir)
    return pdir, written


def _headings(md, levels=("##", "###")):
    return [line.split(" ", 1)[1] for line in md.splitlines() if line.split(" ", 1)[0] in levels]


def _section(md, title):
    start = md.index(f"## {title}\n")
    nxt = md.find("\n## ", start + 1)
    return md[start:nxt if nxt >= 0 else len(md)]


def test_summary_is_first_and_holds_the_claims_and_their_figure(built):
    pdir, _ = built
    md = (pdir / "paper.md").read_text()
    assert _headings(md, ("##",))[0] == "Summary"
    summary = _section(md, "Summary")
    assert "| cgfifo vs cfs on nginx | +3.0% | +20.0% [" in summary and "| not measured yet |" in summary
    assert "](figures/claims.svg)" in summary
    # the claims figure shows the ablation beside the measurement
    assert "ablation (fifo)" in (pdir / "figures/claims.svg").read_text()
    # the summary fits a screen: no per-result table in it
    assert len(summary.splitlines()) < 30
    for section in ("Claims", "Time model", "Limitations", "Method", "Appendix"):
        assert f"\n## {section}\n" in md


def test_contents_list_every_section_and_link_to_it(built):
    pdir, _ = built
    for page in ("paper", "appendix"):
        md = (pdir / f"{page}.md").read_text()
        toc = re.findall(r"^\s*- \[(.+)\]\(#([^)]+)\)$", md.split("**Contents**", 1)[1].split("\n## ", 1)[0], re.M)
        assert [label for label, _ in toc] == [h.replace("[", "").replace("]", "") for h in _headings(md)]
        html = (pdir / ("index.html" if page == "paper" else "appendix.html")).read_text()
        ids = re.findall(r'<h[23] id="([^"]+)">', html)
        assert [a for _, a in toc] == ids
        assert re.findall(r'<li class="l[23]"><a href="#([^"]+)">', html) == ids


def test_per_result_detail_is_in_the_appendix(built):
    pdir, _ = built
    md, appendix = (pdir / "paper.md").read_text(), (pdir / "appendix.md").read_text()
    assert "| metric | unit | stat |" in appendix and "| metric | unit | stat |" not in md
    assert "### nginx: cfs, fifo, cgfifo (`20260101-000000-nginx-cfs+fifo+cgfifo`)" in appendix
    assert "make compare POLICIES=" in appendix
    # the claim links to its result's section in the appendix, in both renderings
    assert "(appendix.md#nginx-cfs-fifo-cgfifo-20260101-000000-nginx-cfsfifocgfifo)" in md
    assert 'href="appendix.html#nginx-cfs-fifo-cgfifo-20260101-000000-nginx-cfsfifocgfifo"' in \
        (pdir / "index.html").read_text()
    assert 'id="nginx-cfs-fifo-cgfifo-20260101-000000-nginx-cfsfifocgfifo"' in (pdir / "appendix.html").read_text()
    assert 'href="index.html"' in (pdir / "appendix.html").read_text()


def test_limitations_and_the_sections_nothing_was_measured_for(built):
    pdir, _ = built
    md = (pdir / "paper.md").read_text()
    lim = _section(md, "Limitations")
    for item in ("**Emulation.**", "**Two clocks.**", "**The baseline.**", "**Boots.**", "**Provenance.**",
                 "**Not measured.**"):
        assert item in lim
    # the one measured claim rests on one boot, and the paper says what its interval leaves out
    assert "`idea` rests on one boot: its interval covers the variation between that boot's runs" in lim
    assert "EEVDF" in lim and "kernel 7.3.4+deb13-cloud-amd64" in lim and "not measured yet" in lim
    assert "Not measured" in _section(md, "Time model")
    assert "No kept result has a cgroup weight sweep" in md
    assert "No kept results differ only in their clock." in md


def test_every_written_figure_is_shown_and_says_it_was_emulated(built):
    pdir, written = built
    shown = (pdir / "paper.md").read_text() + (pdir / "appendix.md").read_text()
    files = sorted((pdir / "figures").iterdir())
    assert {f.name for f in files} >= {"claims.svg", "overhead.svg"}
    for f in files:
        assert f"(figures/{f.name})" in shown, f.name
    for text in ((pdir / "paper.md").read_text(), (pdir / "appendix.md").read_text()):
        for caption in re.findall(r"^!\[[^\]]*\]\([^)]+\)\n\n\*(.+)\*$", text, re.M):
            assert "emulated (QEMU TCG)" in caption


def test_a_figure_no_page_shows_fails_the_build(built, monkeypatch):
    pdir, _ = built
    real = figures.make_all

    def stray(datasets, out_dir, *a, **kw):
        out = real(datasets, out_dir, *a, **kw)
        (out_dir / "stray.svg").write_text("<svg/>")
        return out

    monkeypatch.setattr(figures, "make_all", stray)
    with pytest.raises(AnalysisError, match="stray.svg"):
        paper.build(pdir)


def test_verdict_extras_and_time_model_are_shown_when_provided(built, monkeypatch):
    pdir, _ = built
    evaluate = paper.evaluate

    def with_extras(claim, paper_dir, results=None):
        c = evaluate(claim, paper_dir, results)
        if c.measured is not None:
            c.tentative = True
            c.notes = ["a note from the verdict logic"]
            share = stats.Summary(kind=stats.OTHER, stat="mean", n=3, center=0.6, ci_low=0.55, ci_high=0.65,
                                  ci_method="percentile", minimum=0.55, maximum=0.65, p10=0.55, p90=0.65,
                                  values=(0.55, 0.6, 0.65))
            c.mechanism = [claimfacts.Mechanism(what="CPU share of high (entitled 0.667)", policy="cgfifo",
                                                role="claimed", measured=share, entitled=0.667)]
            c.multiple_comparisons = "one family"
        return c

    monkeypatch.setattr(paper, "evaluate", with_extras)
    def table(claims, paper_dir, results=None):  # one claim judged under two time models, the verdicts differing
        c = next(c for c in claims if c.kind == "ratio")
        return [timemodel.Row(c.id, c.title, c.expected, [
            timemodel.Cell("virtual shift=3", verdict="held", ratio=1.2, ci_low=1.1, ci_high=1.3, n_policy=5,
                           n_baseline=5),
            timemodel.Cell("real", verdict="did not hold", ratio=0.9, ci_low=0.8, ci_high=0.95, n_policy=5,
                           n_baseline=5)], label=timemodel.SENSITIVE)]
    monkeypatch.setattr(timemodel, "table", table)
    paper.build(pdir)
    md = (pdir / "paper.md").read_text()
    assert "| held, but not due to the idea (tentative) | emulation-sensitive |" in md
    assert "*emulation-sensitive*: the claim's verdict changes with the emulator's time model" in md
    assert "- A note from the verdict logic." in md
    assert "**Mechanism.** CPU share of high (entitled 0.667), mean over runs [95% CI]:" in md
    assert "| cgfifo | claimed | 0.6000 [0.5500, 0.6500] |" in md
    assert "**Multiple comparisons.** one family" in md
    tm = _section(md, "Time model")
    assert "| claim | claimed | virtual shift=3 | real | time model |" in tm
    assert "+20.0% [+10.0%, +30.0%] (n=5 vs 5): held" in tm and "did not hold" in tm and "emulation-sensitive |" in tm


def test_the_boots_item_names_each_claims_boot_count():
    from types import SimpleNamespace as NS
    from analysis import paperdoc
    claims = [NS(id="one", kind="ratio", measured=NS(n_boots=1)), NS(id="two", kind="ratio", measured=NS(n_boots=2)),
              NS(id="three", kind="ratio", measured=NS(n_boots=3)), NS(id="acc", kind="value", measured=NS()),
              NS(id="none", kind="ratio", measured=None)]
    text = paperdoc._boots_item(claims)
    assert "`one` rests on one boot" in text
    assert "`two` resamples 2 boots, which estimates the between-boot term from 2 values" in text
    assert "`three` resamples 3 boots" in text and "understates" not in text.split("`three`")[1]
    assert "acc" not in text and "none" not in text
    assert paperdoc._boots_item(claims[3:]) == "**Boots.** No ratio claim is measured yet."


def test_limitations_give_each_policys_range_per_clock_once():
    """The Limitations' two-clock item is short: per workload and policy run on both clocks, the
    range of its ratio to cfs on each; a result in two clock groups counts once, and a policy
    measured on one clock only is left out."""
    from types import SimpleNamespace as NS
    from analysis import paperdoc

    def ds(i, clock):
        return NS(ids=[i], first=NS(workload="nginx", headline="rps", clock=clock))

    def comp(*pairs):
        rows = [NS(policy=p, ratio=NS(ratio=r)) for p, r in pairs] + [NS(policy="cfs", ratio=None)]
        return NS(metric=lambda name: NS(rows=rows))
    v1, v2, real = ds("v1", "virtual"), ds("v2", "virtual"), ds("r", "real")
    comparisons = {("v1",): comp(("fifo", 1.175), ("qmap", 1.1)), ("v2",): comp(("fifo", 1.197)),
                   ("r",): comp(("fifo", 2.351))}
    out = paperdoc._clock_ranges([[v1, real], [v2, real]], comparisons)
    assert out == ["`fifo` on nginx: +17.5% to +19.7% on the virtual clock, +135.1% on the real clock"]


@pytest.mark.parametrize("software, says", [
    ({"git_dirty": False}, "; run from a checkout of it"),
    ({"git_dirty": True, "git_diff": {"file": "raw/git-diff.patch", "sha256": "0" * 64, "bytes": 10}},
     "with that patch applied"),
    ({"git_dirty": True, "git_diff": {"file": None, "sha256": None, "bytes": None, "omitted": "over 32 MiB"}},
     "not recorded (over 32 MiB)"),
    ({"git_dirty": True}, "not recorded (made before the runner kept them): a checkout of it is the nearest code"),
])
def test_a_results_reproduce_block_says_whether_its_tree_was_modified(tmp_path, software, says):
    """A result made from a modified work tree never reads as made by its commit alone."""
    import json
    from analysis import loader, paperdoc
    d = write_result(tmp_path, "20260101-000000-nginx-cfs+fifo", interleaved_nginx({"cfs": [100, 101], "fifo": [110, 111]}))
    manifest = json.loads((d / "manifest.json").read_text())
    manifest["software"].update(software)
    (d / "manifest.json").write_text(json.dumps(manifest))
    block = paperdoc._reproduce_block(loader.load_result(d))
    assert says in block.splitlines()[0]


def test_provenance_names_the_results_made_from_a_modified_tree():
    from types import SimpleNamespace as NS
    from analysis import paperdoc

    def res(i, **software):
        return NS(id=i, manifest={"software": software})
    clean = [res("a", git_dirty=False), res("b")]
    assert "Every kept result was made from a clean checkout" in paperdoc._provenance_item(clean)
    text = paperdoc._provenance_item(clean + [res("c", git_dirty=True),
                                              res("d", git_dirty=True, git_diff={"file": "raw/git-diff.patch"})])
    assert text.startswith("**Provenance.** 2 of the 4 kept results shown were made from a modified work tree; "
                           "1 of them kept no record") and "`c`" in text and "`d`" not in text and "as a patch" in text


def test_results_made_before_the_window_record_are_named_under_their_figure(tmp_path):
    """A figure drawn partly from results whose runs carry no window record says which, and what
    their numbers are over; one drawn from windowed results says nothing."""
    from analysis import loader, paperdoc
    from types import SimpleNamespace as NS
    inst = {"instance": 1, "start_s": 0.2, "end_s": 5.2, "length_s": 5.0, "exit_s": 5.5, "client_duration_s": 5.0}
    window = {"source": "marks", "start_s": 0.2, "end_s": 5.2, "length_s": 5.0, "sampling_s": [0.1, 0.05],
              "instances": [inst], "tolerance_rel": 0.05, "tolerance_min_s": 0.5, "agrees": True, "disagreements": []}
    old = write_result(tmp_path, "20260101-000000-nginx-cfs+fifo", interleaved_nginx({"cfs": [100], "fifo": [110]}))
    runs = interleaved_nginx({"cfs": [100], "fifo": [110]})
    for r in runs:
        r["window"] = window
    new = write_result(tmp_path, "20260101-000100-nginx-cfs+fifo", runs)
    datasets = [NS(results=[loader.load_result(old)]), NS(results=[loader.load_result(new)])]
    note = paperdoc._legacy_window_note(datasets, [old.name, new.name], "cgroup shares")
    text = note[1] if isinstance(note, tuple) else str(note)
    assert "1 of the 2 results drawn here" in text and f"`{old.name}`" in text and new.name not in text
    assert paperdoc._legacy_window_note(datasets, [new.name], "cgroup shares") is None
