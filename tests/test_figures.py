"""Figures a reader can read: every figure of the report goes through ``figures.save``, which checks
it (labelled axes and colour bars, legends that show their entries, no overlapping titles); these
tests run the checker on broken figures (negative controls) and walk the figures of real sections."""
from __future__ import annotations

import numpy as np
import pytest

from verify.report import figures as FG
from verify.report.build import run_section


def _good(tmp_path):
    fig, axes = FG.new_figure(1, 1)
    ax = axes[0, 0]
    X, Y = FG.grid(n=20)
    FG.contour(ax, X, Y, X ** 2 + Y ** 2, title="f")
    FG.curve(ax, [[0, 0], [1, 1]], label="minimizer arc")  # white, outlined
    FG.draw_legend(ax)
    return fig, ax


def test_a_labelled_figure_has_no_problem(tmp_path):
    fig, _ = _good(tmp_path)
    assert FG.figure_problems(fig) == []
    FG.drain_log()
    name = FG.save(fig, tmp_path / "good.png")
    (entry,) = FG.drain_log()
    assert entry["file"] == name and entry["problems"] == [] and entry["seconds"] > 0


def test_missing_axis_label_is_caught(tmp_path):
    fig, ax = _good(tmp_path)
    ax.set_xlabel("")
    assert any("x axis has no label" in p for p in FG.figure_problems(fig))


def test_unlabelled_colour_bar_is_caught(tmp_path):
    fig, axes = FG.new_figure(1, 1)
    ax = axes[0, 0]
    X, Y = FG.grid(n=20)
    cs = ax.contourf(X, Y, X * Y)
    fig.colorbar(cs, ax=ax)
    FG.label_axes(ax)
    assert any("colour bar" in p for p in FG.figure_problems(fig))


def test_labelled_curve_without_legend_is_caught(tmp_path):
    fig, axes = FG.new_figure(1, 1)
    ax = axes[0, 0]
    ax.plot([0, 1], [0, 1], label="SAM")
    FG.label_axes(ax, "step", "loss")
    assert any("in no legend" in p for p in FG.figure_problems(fig))


def test_white_entry_on_white_legend_is_caught(tmp_path):
    fig, axes = FG.new_figure(1, 1)
    ax = axes[0, 0]
    ax.plot([0, 1], [0, 1], color="white", label="minimizer arc")  # no outline
    FG.label_axes(ax)
    ax.legend()
    assert any("colour of the legend background" in p for p in FG.figure_problems(fig))


def test_overlapping_titles_are_caught(tmp_path):
    fig, axes = FG.new_figure(2, 1)
    for ax in axes[0]:
        ax.plot([0, 1], [0, 1])
        FG.label_axes(ax)
    axes[0, 0].set_title("a very long title " * 8)
    axes[0, 1].set_title("another long title " * 4)
    assert any("overlap" in p for p in FG.figure_problems(fig))


def test_strict_save_raises(tmp_path, monkeypatch):
    monkeypatch.setattr(FG, "STRICT", True)
    fig, ax = _good(tmp_path)
    ax.set_ylabel("")
    with pytest.raises(FG.FigureProblem, match="y axis has no label"):
        FG.save(fig, tmp_path / "bad.png")


def _two_line_panels():
    fig, axes = FG.new_figure(2, 1)
    for ax in axes[0]:
        ax.plot([0, 1], [0, 1])
        FG.label_axes(ax)
    return fig, axes


def test_labels_running_into_a_neighbour_or_off_the_figure_are_caught():
    fig, axes = _two_line_panels()
    FG.fix_margins(fig)
    assert FG.layout_problems(fig) == []  # the control: the margins fit these labels
    fig.subplots_adjust(wspace=0.0)  # the second panel's tick labels now lie on the first panel
    assert any("run into the frame" in p for p in FG.layout_problems(fig))
    fig, axes = _two_line_panels()
    FG.fix_margins(fig)
    fig.subplots_adjust(left=0.0)  # the first panel's tick labels leave the figure
    assert any("run off the figure" in p for p in FG.layout_problems(fig))


def test_legend_running_into_a_colour_bar_is_caught():
    fig, ax = _good(None)
    ax.get_legend().remove()
    ax.scatter([0], [0], label="a legend entry far wider than the panel it is drawn in, " * 2)
    ax.legend(loc="lower left", fontsize=7)
    assert any("legend run into the frame of 'colour bar'" in p for p in FG.figure_problems(fig))


def test_save_falls_back_to_constrained_layout_when_the_margins_do_not_fit(tmp_path):
    fig, axes = _two_line_panels()
    FG.drain_log()
    FG.save(fig, tmp_path / "fits.png")
    fig, axes = _two_line_panels()
    axes[0, 1].set_ylabel("a long y label set horizontally")  # far wider than the allowance
    axes[0, 1].yaxis.label.set_rotation(0)
    FG.save(fig, tmp_path / "crowded.png")
    fits, crowded = FG.drain_log()
    assert fits["layout"] == "fixed margins" and fits["problems"] == []
    assert crowded["layout"] == "constrained" and crowded["problems"] == []


def test_robust_levels_ignore_the_corners():
    X, Y = FG.grid(n=101)
    Z = np.where(np.hypot(X, Y) > 4.1, 1e6, X ** 2 + Y ** 2)  # huge values in the corners (<1%)
    levels = FG.robust_levels(Z, 20)
    assert levels[-1] < 1e6 and np.all(np.diff(levels) > 0)


def _walk(sections, tmp_path):
    """Run the sections, return {section: (figure log, figures listed by its certificates)}."""
    out = {}
    for name in sections:
        res = run_section(name, True, tmp_path / name)
        assert not res["error"], res["error"]
        listed = {f for c in res["certificates"] for f in c["figures"]}
        out[name] = (res["figure_log"], listed)
    return out


def _assert_clean(walked):
    for name, (log, listed) in walked.items():
        logged = {e["file"] for e in log}
        assert listed <= logged, f"{name}: figures not made through figures.save: {listed - logged}"
        for e in log:
            assert not e["problems"], f"{name}/{e['file']}: " + "; ".join(e["problems"])


def test_figures_of_fast_sections_are_readable(tmp_path):
    _assert_clean(_walk(["core_checks", "thm_3_1", "prop_a1", "kim_thm1", "kim_cases"], tmp_path))


@pytest.mark.slow
def test_every_figure_of_the_quick_report_is_readable(tmp_path):
    from verify.report.build import discover
    _assert_clean(_walk([s.name for s in discover() if not s.error], tmp_path))
