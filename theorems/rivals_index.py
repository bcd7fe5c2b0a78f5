"""The rival explanations, result by result: every numbered result of Kim et al. (2023) and Zhou et
al. (2025) with a quantitative content, and what this library does with it.

Each entry names the result (theorem, corollary, proposition, lemma, example, remark, or a figure or
table that makes a quantitative claim), gives a status and, when it is checked, the theorem module
whose report section checks it:

* checked — a module of this report checks it (the module's section holds the certificates);
* not yet checked — checkable here (small models, closed forms) but no module does it yet; the
  note says what a check would need;
* not reproducible here — needs what this project does not run (CIFAR/ImageNet-scale training,
  hundreds of GPU epochs); the note gives the reason;
* cited / definition — a result quoted from other work, or a definition or assumption used by the
  checked results (it is checked where it is used).

Claims: every module the index names exists, is a report section (``report_certificates``,
``THEOREM``, ``TITLE``, ``ORDER``), and every rival module of the package (``kim_*``, ``zhou_*``,
``rivals_*``, the "Three explanations" page included) is named by the index. Negative control: an
index entry naming a module that does not exist.
"""
from __future__ import annotations

import importlib
import pathlib
from dataclasses import dataclass

from verify.core.claims import boolean
from verify.core.results import Certificate
from verify.ctx import get_context

THEOREM = "Rival papers: index"
TITLE = "Every numbered result of Kim et al. (2023) and Zhou et al. (2025), with its status"
ORDER = 6.9

CHECKED, NOT_YET, NOT_HERE, CITED = ("checked", "not yet checked", "not reproducible here",
                                     "cited / definition")
CIFAR = "CIFAR-scale training of deep networks (ResNet/WRN/VGG/ViT, hundreds of epochs, GPUs)"
PACKAGE = "theorems"
RIVAL_PREFIXES = ("kim_", "zhou_", "rivals_")


@dataclass(frozen=True)
class Entry:
    paper: str
    result: str
    status: str
    module: str = ""
    note: str = ""


KIM, ZHOU = "Kim et al. 2023", "Zhou et al. 2025"
ENTRIES = [
    # -- Kim et al. --------------------------------------------------------------------------------
    Entry(KIM, "Figure 1 (Beale: GD reaches the minimum, SAM stalls at the saddle)", CHECKED,
          "kim_cases", note="the paper's start is not given; ours are stated"),
    Entry(KIM, "Lemma 1 (Lambda Lemma)", CITED, note="classical (Palis-de Melo), used qualitatively"),
    Entry(KIM, "Cases I-III, Figure 2 (phase portraits)", CHECKED, "kim_cases",
          note="Case III in measurable form: w^p across the stable manifold's tangent"),
    Entry(KIM, "Figures 3-4 (perturbed point crossing basins; cos(grad l(w), grad l(w^p)) oscillates)",
          CHECKED, "kim_cases", note="eta = 1e-3 (1e-4 in the paper); normalized SAM's cosine keeps "
          "oscillating (about 0.5..0.9 once stalled, -1..1 on the approach); USAM's tends to -1"),
    Entry(KIM, "Theorem 1 (saddle attracts USAM if rho > -1/lambda_1)", CHECKED, "kim_thm1"),
    Entry(KIM, "Remark (10): any saddle, lambda_j + rho lambda_j^2 > 0 for all negative lambda_j",
          CHECKED, "kim_thm1"),
    Entry(KIM, "Figure 5 (x^2 - y^2, start (-3, -0.01), rho = 1)", CHECKED, "kim_thm1",
          note="from the paper's start; its step size is not stated (eta = 0.02 here)"),
    Entry(KIM, "Figure 6 (lambda + rho lambda^2 over the Beale function)", CHECKED, "kim_thm1",
          note="the figure's rho is not stated; rho = 0.1 (above 4/111) and a control at 0.02"),
    Entry(KIM, "Figure 7 (two-parameter network of Ziyin et al.: SGD vs SAM over 1000 seeds)",
          CHECKED, "kim_fig7", note="learning rate, batch size and steps are 'as in Ziyin et al.', "
          "not stated: run with one sample a step (the same for perturbation and step), 5000 steps, "
          "eta in {0.01, 0.05, 0.1}; the picture appears at eta = 0.01, while at eta = 0.1 SGD "
          "itself ends on the saddle set (eta w2 in (1/8, 0.32))"),
    Entry(KIM, "Theorem 2 (variance of SAM diffusion at a saddle, (15))", CHECKED, "kim_thm2"),
    Entry(KIM, "Corollary 1 (SGD - SAM mean squared displacement, (16))", CHECKED, "kim_thm2"),
    Entry(KIM, "Theorem 3 (momentum, batch size, rho; constants C1..C4)", CHECKED, "kim_thm3"),
    Entry(KIM, "Figure 8 (batch size and momentum, ResNet-18 CIFAR-10/100)", NOT_HERE, note=CIFAR),
    Entry(KIM, "Figure 9 (momentum for SGD and SAM, CIFAR-10)", NOT_HERE, note=CIFAR),
    Entry(KIM, "Table 1 (test accuracy over rho and momentum, CIFAR-10)", NOT_HERE, note=CIFAR),
    Entry(KIM, "Appendix B: rho_c = sqrt(mu/2) of the double well's SAM objective", CHECKED,
          "kim_double_well"),
    Entry(KIM, "Appendix B, Table 2 (global / trap fractions over rho)", CHECKED, "kim_double_well"),
    # -- Zhou et al. -------------------------------------------------------------------------------
    Entry(ZHOU, "Figure 1 (SAM only in the last epochs, WRN-16-8 CIFAR-10)", NOT_HERE, note=CIFAR),
    Entry(ZHOU, "Figure 2 (the switching method)", CITED, note="an illustration, no quantity"),
    Entry(ZHOU, "Figures 3, 5, 7-9, 11-13, 15 (switching-proportion sweeps)", NOT_HERE, note=CIFAR),
    Entry(ZHOU, "Table 1 (two-phase overview)", CITED, note="maps claims P1-P4 to results below"),
    Entry(ZHOU, "Example 4.1 and Figure 4(a) (tanh(v tanh(u)) two-phase run)", CHECKED,
          "zhou_example41", note="finding: Assumption 4.1 and PL fail on the example"),
    Entry(ZHOU, "Figure 4(b)-(c), Figure 16 (escape and interpolation on real networks)", NOT_HERE,
          note=CIFAR),
    Entry(ZHOU, "Definitions 4.1, 4.2, C.1; Assumptions 4.1-4.3", CITED,
          note="hypotheses; checked where the results that use them are checked"),
    Entry(ZHOU, "Theorem 4.1 (sharpness bound of SAM-stable minima)", CHECKED, "zhou_thm41",
          note="interpolating linear models and a tanh network linearized at an interpolating "
          "minimum (Definition 4.1's setting); the nonlinear dynamics beyond it are not covered"),
    Entry(ZHOU, "Table 2 (SAM vs SGD sharpness bounds; rho = 0 recovers SGD)", CHECKED, "zhou_thm41"),
    Entry(ZHOU, "Corollary 4.2 (exponential escape when the bound fails)", CHECKED, "zhou_thm41"),
    Entry(ZHOU, "Proposition 4.1 (SAM stays in a sub-quadratic valley)", CHECKED, "zhou_prop41"),
    Entry(ZHOU, "Theorem 4.3 (rate (1 - eta mu / 2)^t)", CHECKED, "zhou_thm43",
          note="exact worst case at the edge; finding: the allowed rho makes SAM equal to SGD"),
    Entry(ZHOU, "Figure 6 (adversarial training late)", NOT_HERE, note=CIFAR),
    Entry(ZHOU, "Figure 10 (sharpness evolution, FC nets on a CIFAR-10 subset)", NOT_HERE,
          note="CIFAR-10 data and edge-of-stability training runs"),
    Entry(ZHOU, "Figure 14 (2-D loss landscape around SGD / SAM solutions)", NOT_HERE, note=CIFAR),
    Entry(ZHOU, "Example C.1 (highly sub-quadratic profile)", CHECKED, "zhou_prop41"),
    Entry(ZHOU, "Proposition C.1 (quadratic valley: SAM leaves)", CHECKED, "zhou_prop41"),
    Entry(ZHOU, "Remark C.1 (1 - cos valleys)", CHECKED, "zhou_prop41",
          note="finding: Proposition 4.1 allows rho = 0 only on this example"),
    Entry(ZHOU, "Proposition C.2 (almost all starts in the valley)", CHECKED, "zhou_prop41"),
    Entry(ZHOU, "Lemma C.1 (PL and smoothness: 2 mu L <= ||grad L||^2 <= 2 L^2 L / mu)", CHECKED,
          "zhou_thm43"),
    Entry(ZHOU, "Lemma C.2 (norm- vs loss-based stability)", CHECKED, "zhou_thm41"),
]


SIDE_BY_SIDE = "rivals_explanations"      # the 'Three explanations' page, named by the index too


def module_status(name: str) -> tuple[bool, str]:
    """(is a report section, evidence) for theorems.<name>."""
    try:
        mod = importlib.import_module(f"{PACKAGE}.{name}")
    except ImportError as exc:
        return False, f"import failed: {exc}"
    missing = [a for a in ("report_certificates", "THEOREM", "TITLE", "ORDER") if not hasattr(mod, a)]
    return not missing, (f"missing {missing}" if missing else f"section '{mod.THEOREM}'")


def rival_modules() -> list[str]:
    from verify.report.build import module_names
    return [m for m in module_names(PACKAGE) if m.startswith(RIVAL_PREFIXES)]


def certify(entries=None, expected: bool = True) -> Certificate:
    entries = ENTRIES if entries is None else entries
    fp = get_context("float64")
    label = f"{len(entries)} results of the two rival papers"
    cert = Certificate(THEOREM, TITLE, label if expected else f"negative control: {label}",
                       statement=__doc__.split("\n\n")[1], context=fp.name,
                       precision="exact (bookkeeping)", expected=expected)
    counts = {s: sum(e.status == s for e in entries) for s in (CHECKED, NOT_YET, NOT_HERE, CITED)}
    cert.add_object("status_counts", counts, label="status counts")
    cert.add_object("results", {
        "columns": ["paper", "result", "status", "checked by", "note"],
        "rows": [[e.paper, e.result, e.status, e.module, e.note] for e in entries]})
    named = sorted({e.module for e in entries if e.module} | {SIDE_BY_SIDE})
    for name in named:
        ok, evidence = module_status(name)
        cert.add(boolean(f"module {name}", f"theorems.{name} exists and is a report section", ok, fp,
                         evidence))
    bad_status = [e.result for e in entries if e.status not in counts or
                  (e.status == CHECKED) != bool(e.module)]
    cert.add(boolean("statuses", "every entry has a known status, and exactly the checked ones name "
                     "a module", not bad_status, fp, "; ".join(bad_status)))
    unlisted = [m for m in rival_modules() if m not in named and m != "rivals_index"]
    cert.add(boolean("coverage", "every rival module (kim_*, zhou_*, rivals_*) is named by the index",
                     not unlisted, fp, f"unlisted: {unlisted}" if unlisted else ""))
    return cert.finish()


def report_certificates(quick: bool = False, figdir: pathlib.Path | None = None) -> list:
    ghost = Entry(KIM, "a result claimed checked by a module that does not exist", CHECKED,
                  "kim_no_such_module")
    return [certify(), certify(ENTRIES + [ghost], expected=False)]


# -- uniform entry point (theorems.REGISTRY) --------------------------------------------------------
EXAMPLES = ("the numbered results of Kim et al. (2023) and Zhou et al. (2025)",)
