"""Tests that kill mutation survivors (tools/mutate.py) in the rival papers' sections (kim_*, zhou_*,
rivals_*) and the core cross-checks: each test names the behaviour it pins down; the mutants it was
shown to kill are recorded in tools/mutation_results/*.json."""
from __future__ import annotations

import numpy as np
import pytest


# -- the report's order: the index opens the rival part, the side-by-side page closes the rivals' results ---
def test_rival_sections_follow_the_index_and_precede_the_side_by_side_page():
    """Sections run in ORDER (verify.report.build): the index directly before Kim's and Zhou's
    sections, Kim's before Zhou's, and the side-by-side page after both."""
    import importlib

    from theorems import rivals_index
    order = {n: importlib.import_module(f"theorems.{n}").ORDER for n in rivals_index.rival_modules()}
    kim = [o for n, o in order.items() if n.startswith("kim_")]
    zhou = [o for n, o in order.items() if n.startswith("zhou_")]
    assert order["rivals_index"] < min(kim) and max(kim) < min(zhou)
    assert max(zhou) < order["rivals_explanations"]
    main_paper = [importlib.import_module(f"theorems.{n}").ORDER for n in ("mlp_check", "refutations")]
    assert max(main_paper) < order["rivals_index"]


# -- the rivals' index ------------------------------------------------------------------------------
def test_index_report_is_a_real_example_and_a_ghost_control():
    from theorems import rivals_index as I
    real, control = I.report_certificates()
    assert real.expected and real.passed and not real.example.startswith("negative control")
    assert not control.expected and control.as_expected
    assert control.example.startswith("negative control")
    assert I.certify().expected


def test_index_statement_is_the_paragraph_on_what_an_entry_gives():
    from theorems import rivals_index as I
    assert I.certify().statement.startswith("Each entry names the result")


@pytest.mark.parametrize("status, module", [("chekced", ""), ("chekced", "kim_thm1"),
                                            (None, "kim_thm1")])
def test_index_refuses_an_unknown_status_with_or_without_a_module(status, module):
    """A misspelt status is caught whether or not the entry names a module; so is a known status
    other than 'checked' that names a module."""
    from theorems import rivals_index as I
    status = I.CITED if status is None else status
    bad = I.Entry(I.KIM, "a result with a bad status", status, module)
    cert = I.certify(I.ENTRIES + [bad], expected=False)
    assert not cert.claim("statuses").passed
    assert "a result with a bad status" in cert.claim("statuses").note


# -- Kim et al., Cases I-III on Beale: the certificate's claims on short runs ---------------------------
def _kim_case(method, steps, rho=None, expected=True):
    from theorems import kim_cases
    return kim_cases.certify(method, rho=rho, steps=steps, expected=expected)


def test_kim_cases_usam_from_the_stated_start_stalls_at_the_saddle_within_600_steps():
    """The example's own start (RUNS): USAM reaches the saddle in a few hundred steps (GD needs the
    full 20000 to reach the minimum, so its claim is not asked here); the certificate's numbers are
    the trace's."""
    from theorems import kim_cases as k
    cert = _kim_case("usam", 600)
    for cid in ("SAM stalls at the saddle", "Case III", "cos -> sign(1 + rho lambda_u)"):
        assert cert.claim(cid).passed, cid
    assert float(cert.objects["threshold -1/lambda_u"]) == pytest.approx(4 / 111)
    end = np.asarray(cert.objects["SAM end"])
    assert float(cert.claim("SAM stalls at the saddle").value) == float(np.linalg.norm(end - k.SADDLE))
    gd = np.asarray(cert.objects["GD end"])
    assert float(cert.claim("GD reaches the minimum").value) == pytest.approx(
        float(np.linalg.norm(gd - k.MINIMUM)), rel=1e-15)
    assert cert.statement.startswith("Statement (our words). Near an index-one saddle")


@pytest.mark.parametrize("method, steps", [("usam", 600), ("sam", 1000)])
def test_kim_cases_an_empty_near_saddle_window_is_not_case_three(method, steps):
    """Below the threshold the run never comes near the saddle: no step to judge, so Case III (and
    the cosine claim) must fail, not hold vacuously."""
    from theorems import kim_cases as k
    cert = _kim_case(method, steps, rho=k.RUNS[method][2], expected=False)
    assert cert.objects["steps in the near-saddle window"] == 0
    assert not cert.claim("Case III").passed
    assert not [c for c in cert.claims if c.id.startswith("cos")][0].passed
    assert not cert.claim("SAM stalls at the saddle").passed and cert.as_expected


def test_kim_cases_normalized_sam_stalls_and_its_cosine_oscillates():
    cert = _kim_case("sam", 1000)
    for cid in ("SAM stalls at the saddle", "Case III", "cos oscillates (Figure 4)"):
        assert cert.claim(cid).passed, cid


def test_kim_cases_normalized_sam_ending_0_017_away_has_not_stalled():
    """rho = 0.5, 1000 steps: normalized SAM circles the saddle at about 0.017 — outside the stall
    radius 1e-2 of the claim (within 2e-2 it would pass)."""
    cert = _kim_case("sam", 1000, rho=0.5, expected=False)
    stall = cert.claim("SAM stalls at the saddle")
    assert 0.01 < float(stall.value) < 0.02 and not stall.passed


# -- Zhou et al. Thm 4.3 / Lemma C.1 --------------------------------------------------------------------
ONE_D = np.array([[1.0], [2.0], [-0.5]])          # d = 1: G = L = mu = 1.75


@pytest.mark.parametrize("c, B, eta, rho", [
    ({"L": 1.0, "mu": 0.1, "sigma^2": 1.0}, 2, 0.1, 0.1 * 0.01 / 24),      # the noise bounds eta
    ({"L": 2.0, "mu": 0.5, "sigma^2": 0.0}, 2, 0.25, 0.25 * 0.25 / 96),    # no noise: eta = 1/(2L)
    ({"L": 1.0, "mu": 1.0, "sigma^2": 0.5}, 3, 0.5, 0.5 / 24)])             # 1/(2L) below mu B/(2 L s2)
def test_thm43_edge_is_the_minimum_of_the_stated_conditions(c, B, eta, rho):
    """eta <= min{1/(2L), mu B/(2 L sigma^2)}, rho <= min{1/(4L), mu B/(4 L sigma^2), eta mu^2/(24 L^2)}."""
    from theorems import zhou_thm43
    assert zhou_thm43.edge(c, B) == pytest.approx((eta, rho), rel=1e-15, abs=0)


def test_thm43_rate_claim_has_no_slack_beyond_rounding():
    """A step size whose exact worst case exceeds the stated rate by 1e-9 (relative) fails the claim:
    the allowance is 1e-12, not a loose one."""
    from scipy.optimize import brentq

    from theorems import zhou_thm43 as Z

    def excess(k):
        return float(Z.certify("d = 1", ONE_D, eta_times_L=k, expected=False).claim("rate").value) - 1
    k = brentq(lambda k: excess(k) - 1e-9, 0.3, 1.9, xtol=1e-12)
    cert = Z.certify("d = 1", ONE_D, eta_times_L=k, expected=False)
    assert 1e-11 < float(cert.claim("rate").value) - 1 < 1e-7
    assert not cert.claim("rate").passed


def test_thm43_certificate_states_the_rate_it_checks_and_controls_add_no_findings():
    from theorems import zhou_thm41, zhou_thm43 as Z
    cert = Z.certify("d = 1", ONE_D)
    eta, mu = float(cert.objects["eta"]), float(cert.objects["mu"])
    assert float(cert.objects["stated rate 1 - eta mu/2"]) == pytest.approx(1 - eta * mu / 2, rel=1e-15)
    assert cert.statement.startswith("Statement (our words). Let the loss be L-smooth")
    assert cert.expected and cert.passed
    X3 = zhou_thm41.datasets()["d = 3, n = 6 (Gaussian rows)"]
    assert Z.certify("d = 3", X3).findings                     # rho L ~ 1e-5: SAM is SGD here
    control = Z.certify("d = 3", X3, eta_times_L=2.2, expected=False)
    assert float(control.objects["rho L"]) < 0.01 and not control.findings   # a control documents nothing


def test_lemma_c1_is_a_real_example_by_default_and_its_upper_claim_is_tight():
    """mu taken 1e-9 too large: the exact ratio 2L exceeds 2 L^2 / mu by 1e-9 relative — the upper
    claim fails (its allowance is 1e-12 of the value)."""
    from theorems import zhou_thm43 as Z
    real = Z.certify_lemma_c1("d = 1", ONE_D)
    assert real.expected and real.passed and not real.example.startswith("negative control")
    assert real.statement.startswith("Statement (our words)") and "Lemma C.1" in real.statement
    off = Z.certify_lemma_c1("d = 1", ONE_D, mu_factor=1 + 1e-9, expected=False)
    assert not off.claim("upper").passed


# -- Zhou et al. Example 4.1 ----------------------------------------------------------------------------
def test_example41_prop41_bound_is_the_closed_form_and_allows_no_escape():
    """On |v| <= reach the largest |L'| along v is c * max t (1 - t^2) = 2 c / (3 sqrt 3) (c = tanh u,
    at t = 1/sqrt 3, inside the valley): Proposition 4.1's eta bound b / max |L'| stays below the
    escape threshold 2/a."""
    import math

    from theorems import zhou_example41 as E
    cert = E.certify_assumptions()
    c = math.tanh(1.3455)
    reach = float(cert.objects["sub-quadratic reach along v at u = 1.3455"])
    expected = (reach / 2) / (2 * c / (3 * math.sqrt(3)))
    assert float(cert.objects["Prop 4.1 eta bound b / max_V |L'|"]) == pytest.approx(expected, rel=1e-6)
    assert not cert.claim("Prop 4.1 allows escape").passed


def test_example41_subquadratic_reach_is_read_on_the_grid_from_zero():
    """On the grid 0, 1, ..., 20 the reach (closed form atanh(sqrt(2/3)) / tanh(u)) is a grid point
    within one step of the closed form."""
    import math

    from theorems import zhou_example41 as E
    for u in (0.5, 1.0):
        r = E.subquadratic_reach(u, n=21, vmax=20.0)
        assert r == int(r) and abs(r - math.atanh(math.sqrt(2 / 3)) / math.tanh(u)) <= 1.0


def test_example41_small_radius_cannot_destabilise_gds_minimum():
    """rho = 0.02: s (1 + rho s) stays below 2/eta at GD's end, so the control fails 'USAM-unstable'."""
    from theorems import zhou_example41 as E
    control = E.certify_run(rho=0.02, steps=2000, expected=False)
    assert not control.claim("USAM-unstable there").passed


def test_example41_run_holds_after_an_odd_number_of_steps():
    """GD's v flips sign every step (factor 1 - eta s < 0): after 2001 steps it ends slightly below
    M, and the valley claim must read the sign of u, not of v."""
    from theorems import zhou_example41 as E
    cert = E.certify_run(steps=2001)
    assert cert.passed, str(cert)


def test_example41_gd_not_yet_on_m_after_150_steps():
    """After 150 GD steps |v| is about 1e-6: not on M by the claim's 1e-10."""
    from theorems import zhou_example41 as E
    cert = E.certify_run(steps=150, expected=False)
    gd = cert.claim("GD on M")
    assert 1e-10 < float(gd.value) < 1e-4 and not gd.passed


# -- Kim et al. Thm 1 -----------------------------------------------------------------------------------
SADDLE_CASE = ("kim_saddle", ("0", "0"), ("-0.3", "-0.01"))     # x^2 - y^2: lambda = 2, -2


def test_kim_thm1_sink_holds_however_small_the_positive_margin():
    """rho = 0.6 > 1/2: the smallest lambda + rho lambda^2 is -2 + 0.6 * 4 = 0.4 — small, but
    positive, so the continuous condition holds (and the run still converges)."""
    from theorems import kim_thm1
    cert = kim_thm1.certify(*SADDLE_CASE, "0.6", 0.02, 1500)
    assert float(cert.claim("sink").value) == pytest.approx(0.4) and cert.claim("sink").passed
    assert cert.passed, str(cert)


def test_kim_thm1_discrete_radius_between_one_and_two_fails():
    """eta = 0.4: |1 - 0.4 * 6| = 1.4, the discrete map expands: the discrete claim fails."""
    from theorems import kim_thm1
    cert = kim_thm1.certify(*SADDLE_CASE, "1", 0.4, 50, expected=False)
    step = cert.claim("discrete step")
    assert float(step.value) == pytest.approx(1.4) and not step.passed
    assert cert.claim("sink").passed


def test_kim_thm1_convergence_ratio_just_above_its_bound_fails():
    """76 steps: the distance ratio is about 1.5e-3, above the claim's 1e-3 — not converged."""
    from theorems import kim_thm1
    cert = kim_thm1.certify(*SADDLE_CASE, "1", 0.02, 76, expected=False)
    conv = cert.claim("USAM converges")
    assert 1e-3 < float(conv.value) < 2e-3 and not conv.passed


def test_kim_thm1_a_minimum_is_not_a_saddle():
    """Negative control for the hypotheses: at the minimum of x^2/4 + y^2 (eigenvalues 1/2 and 2,
    the smaller one in (0, 1)) no eigenvalue is negative — the theorem does not apply, and no claim
    is made (there is no threshold to compare rho with)."""
    from theorems import kim_thm1
    cert = kim_thm1.certify(("0.25*x**2 + y**2", "x,y"), ("0", "0"), ("0.1", "0.1"), "1", 0.02, 100,
                            expected=False)
    met = {h.name: h.met for h in cert.hypotheses}
    assert met == {"critical": True, "hyperbolic": True, "unstable for GD": False}
    assert not cert.claims and not cert.passed and cert.as_expected


def test_kim_thm1_jacobian_claims_allow_100_times_the_hypotheses_tolerance():
    """The allowance of 'measured eigenvalue == lambda + rho lambda^2' is stated: 100 x the
    tolerance of the hypotheses (64 rounding units of 10, at 30 digits)."""
    from theorems import kim_thm1
    from verify.ctx import get_context
    ctx = get_context("mpmath", dps=30)
    cert = kim_thm1.certify(*SADDLE_CASE, "1", 0.02, 10, expected=False)
    allowance = 100 * ctx.to_float(ctx.tol(10, units=64))
    assert float(cert.claim("jacobian eigenvalue 0").tolerance) == pytest.approx(allowance, rel=1e-12, abs=0)


def test_kim_thm1_eigen_map_is_the_smallest_lambda_plus_rho_lambda_squared():
    """Figure 6's closed-form 2 x 2 eigenvalues against numpy's, on a coarse grid around Beale's saddle."""
    from theorems import kim_thm1
    from verify import zoo
    from verify.ctx import get_context
    fp, obj = get_context("float64"), zoo.get("beale").objective
    rho = 0.1
    X, Y, M = kim_thm1.eigen_map("beale", rho, ((-0.5, 0.5), (0.5, 1.5)), n=4)
    for x, y, m in zip(X.ravel(), Y.ravel(), M.ravel()):
        lam = np.linalg.eigvalsh(np.asarray(obj.hess(obj.point([x, y], fp), fp), float))
        assert m == pytest.approx(float(np.min(lam + rho * lam ** 2)), rel=1e-9, abs=1e-9)


# -- core cross-checks ----------------------------------------------------------------------------------
def test_core_transpose_finding_reports_the_asymmetry_of_du():
    """The finding states ||Du - Du^T||_F, the reason the two formulas differ (about 2.9 here)."""
    import re

    from theorems import core_checks as C
    from verify import sam, zoo
    from verify.ctx import get_context
    fp, obj = get_context("float64"), zoo.get("tilted_ring").objective
    cert = C.operators_certificate("tilted_ring", ("0.6", "0.9"), "0.3", C.ARITHMETICS[0])
    (finding,) = [f for f in cert.findings if "grad f_SAM" in f.statement]
    shown = float(re.search(r"\|\|Du - Du\^T\|\|_F = ([0-9.e+-]+);", finding.evidence).group(1))
    J = np.asarray(sam.du_matrix(obj, obj.point(["0.6", "0.9"], fp), fp), float)
    assert shown == pytest.approx(float(np.linalg.norm(J - J.T)), rel=5e-3)


@pytest.mark.parametrize("arith", [("float64", {}), ("mpmath", {"dps": 50})], ids=["float64", "mpmath50"])
def test_core_appendix_d_allowances_are_rounding_units_of_the_problem_scale(arith):
    """The Appendix D claims allow k rounding units of the scale 1 + rho + ||x|| = 5.05 (k = 1 for
    x+ and f(x+), 4 for grad f(x+), 16 for grad f_SAM, 64 for the Hessian's smallest eigenvalue),
    in the arithmetic of the run."""
    from theorems import core_checks as C
    from verify.ctx import get_context
    ctx = get_context(arith[0], **arith[1])
    cert = C.appendix_d_certificate(arith)
    unit = ctx.to_float(ctx.tol(ctx.scalar("5.05")))
    assert cert.passed
    for cid, field, k in (("x_plus", "bound", 1), ("f_x_plus", "tolerance", 1),
                          ("shifted_gradient", "bound", 4), ("sam_stationary", "bound", 16),
                          ("hessian_psd", "tolerance", 64)):
        assert float(getattr(cert.claim(cid), field)) == pytest.approx(k * unit, rel=1e-12, abs=0), cid


# -- Kim et al. Figure 7 --------------------------------------------------------------------------------
def test_fig7_same_sample_gradient_reuses_each_label_for_one_step():
    """With two calls a step (SAM: perturbation, then update) the second call sees the first one's
    label; the third call draws a new one. The gradient is that of (w2 w1^2 - y)^2."""
    from theorems import kim_fig7 as k
    from verify.core import stochastic as st
    W = np.array([[0.3, 0.8], [-0.2, 0.5]])
    grad = k.same_sample_gradient(2)
    gen = st.rng(5)
    first, second = grad(W, gen), grad(W, gen)
    assert np.array_equal(first, second)
    draws = {tuple(grad(W, gen)[:, 1]) for _ in range(40)}        # new labels on later steps
    assert len(draws) > 1
    for w, g in zip(W, first):                                   # d/dw of (w2 w1^2 - y)^2, y a label
        exact = [[4 * (w[1] * w[0] ** 2 - y) * w[1] * w[0], 2 * (w[1] * w[0] ** 2 - y) * w[0] ** 2]
                 for y in k.LABELS]
        assert any(np.allclose(g, e, rtol=1e-14, atol=0) for e in exact)


def test_fig7_starts_fill_the_stated_box():
    """w1 uniform in [-0.1, 0.1] (both signs), w2 uniform in [0, 1]."""
    from theorems import kim_fig7 as k
    S = k.starts(400)
    assert S[:, 0].min() < -0.09 and S[:, 0].max() > 0.09 and np.all(np.abs(S[:, 0]) <= 0.1)
    assert S[:, 1].min() < 0.01 and S[:, 1].max() > 0.99 and np.all((S[:, 1] >= 0) & (S[:, 1] <= 1))


def test_fig7_sgd_is_sam_at_rho_zero_with_one_sample_a_step():
    """The control's premise: SGD (one label a step) is normalized SAM with rho = 0 whose two
    gradient calls a step share a label — the same chains, bit for bit."""
    from theorems import kim_fig7 as k
    from verify.core import stochastic as st
    sgd = k.run(0.01, 0.0, 300, 50)
    sam = st.run_chains(k.same_sample_gradient(2), k.starts(50), "sam", 0.0, 0.01, 300,
                        seed=k.SEED + 1, sampled=True).W
    assert sgd["loss"].estimate == float(np.mean(k.mean_loss(sam)))


# -- the three explanations: the digits-MLP points ------------------------------------------------------
def _mlp_ev(**kw):
    """A measured point with the stalled seed's numbers (as in test_kim_zhou_explanations)."""
    ev = dict(f=2.285, grad_norm=0.092, grad_ratio=0.0088, lambda_min=-0.76, lambda_max=0.77,
              residual_min=1e-15, f_end=2.2852, follow_steps=200)
    ev.update(kw)
    return ev


def test_explanations_sam_stays_means_f_moves_by_at_most_one_percent():
    from theorems import rivals_explanations as E
    stays = E.explanations(_mlp_ev(f_end=2.285 * 1.009), 3.0)[E.HALLUCINATED]
    moves = E.explanations(_mlp_ev(f_end=2.285 * 1.015), 3.0)[E.HALLUCINATED]
    assert stays["SAM stays"] and stays["accounts"]
    assert not moves["SAM stays"] and not moves["accounts"]


def test_explanations_table_names_the_failed_hypotheses():
    """The MLP table: the main paper's explanation accounts for the stalled point; Kim's and Zhou's
    cells name exactly the hypotheses that fail there (not the ones that hold)."""
    from theorems import rivals_explanations as E
    table = E.mlp_table({"stalled": _mlp_ev()}, 3.0)
    (row,) = table["rows"]
    cells = dict(zip(table["columns"], row))
    assert cells[E.HALLUCINATED] == "accounts for it"
    assert cells[E.KIM].startswith("hypotheses fail: critical point of f")
    assert "negative Hessian eigenvalue" not in cells[E.KIM]          # it has one: that one holds
    assert cells[E.ZHOU].startswith("hypotheses fail: critical point of f")
    assert "H positive semidefinite" in cells[E.ZHOU]
    assert "lambda_max" not in cells[E.ZHOU]                            # 0.77 is below the bound


def _fake_sweep(monkeypatch, stalled):
    """Section 4's sweep replaced by four seeds at the largest rho of the quick run: SAM-only
    (switch step 0) and switching seeds, with their final losses."""
    import types

    import torch

    from theorems import mlp_check
    rho = max(mlp_check.QUICK["rhos"])
    res = types.SimpleNamespace(
        extra={"rho_rows": [rho, rho, rho, rho, 0.5], "switch_rows": [0, 600, 1, 600, 1]},
        logs={"loss": [[9.0, 0.3, 0.05, 0.1, 0.01]]}, theta=torch.arange(5.0).reshape(5, 1))
    monkeypatch.setattr(mlp_check, "shared_sweep", lambda quick: ("data", {"result": res}))
    monkeypatch.setattr(mlp_check, "stalled_point", lambda sw, r: stalled)
    return rho


@pytest.mark.parametrize("stalled", [(None, None), (0, "theta of seed 0")])
def test_mlp_points_are_the_stalled_seed_and_the_best_switching_seed(monkeypatch, stalled):
    """The switching point is the switching seed (switch step > 0, even 1) at the largest rho with
    the lowest final loss; the stalled point is passed on as found, or None when none stalled."""
    from theorems import rivals_explanations as E
    rho = _fake_sweep(monkeypatch, stalled)
    data, cfg, found = E.mlp_points(quick=True)
    assert data == "data" and cfg["rho"] == rho and cfg["follow"] == E.MLP_QUICK["follow"]
    assert found["stalled SAM-only seed"] == (None if stalled[0] is None else stalled)
    best, theta = found["switching seed"]
    assert best == 2 and float(theta[0]) == 2.0


# -- Zhou et al. Thm 4.1 / Cor 4.2 ----------------------------------------------------------------------
def test_thm41_bound_at_rho_zero_is_sgds():
    """Table 2: rho = 0 turns the left side into ||G||_F^2 and eta_thm into sqrt(B / (gamma ||G||_F^2))."""
    from theorems import zhou_thm41 as z
    G = np.array([[2.0, 0.5], [0.5, 1.0]])
    f2 = float(np.sum(G * G))
    assert z.bound_lhs(G, 0.3, 0.0, 2) == f2
    assert z.bound_lhs(G, 0.3, 0.5, 2) == pytest.approx(f2 * (1 + 0.25 * 0.3 * f2 / 2), rel=1e-15)
    assert z.eta_theorem(G, 0.3, 0.0, 2) == pytest.approx(np.sqrt(2 / (0.3 * f2)), rel=1e-15)


def test_thm41_eta_critical_is_the_stability_edge_to_rounding():
    """The bisection ends on the edge: the spectral radius of T is <= 1 (+1e-12) at eta_c and above it
    a relative 1e-8 further."""
    from theorems import zhou_thm41 as z
    X = z.reduce_to_range(z.datasets()["d = 3, n = 6 (Gaussian rows)"])
    eta_c = z.eta_critical(X, 0.1, 2, 2.0)
    assert z.spectral_radius(z.operator(X, eta_c, 0.1, 2)) <= 1 + 1e-12
    assert z.spectral_radius(z.operator(X, eta_c * (1 + 1e-8), 0.1, 2)) > 1 + 1e-12


def test_thm41_certificate_runs_what_it_states():
    """A real example by default; the one-step inequality at 0.5, 1 and 1.5 eta_thm; the chains at
    0.5 eta_c (the exact E[L_5] quoted in the claim is the recursion's at that step size)."""
    import re

    from theorems import zhou_thm41 as z
    X = np.array([[1.0], [2.0], [-0.5]])
    cert = z.certify("d = 1", X, n_chains=500)
    assert cert.expected and cert.passed
    assert [r[0] for r in cert.objects["one-step growth"]["rows"]] == ["0.5 eta_thm", "1 eta_thm",
                                                                     "1.5 eta_thm"]
    eta_c = float(cert.objects["eta_c (exact stability edge)"])
    quoted = float(re.search(r"exact E\[L_5\] = ([0-9.e+-]+) ", cert.claim("operator vs chains").statement)
                   .group(1))
    exact = z.expected_losses(z.reduce_to_range(X), 0.5 * eta_c, 0.1, 2, np.ones(1), 5)[-1]
    assert quoted == pytest.approx(exact, rel=1e-5)


def test_thm41_corollary_holds_with_the_growth_just_above_c_to_the_t():
    """d = 1, B = 1: above eta_thm E[L_t] / (C^t E[L_0]) stays between 1 and 2 — Corollary 4.2
    holds, with little room (the claim's bound is 1)."""
    from theorems import zhou_thm41 as z
    cert = z.certify("d = 1", np.array([[1.0], [2.0], [-0.5]]), B=1, n_chains=500)
    cor = cert.claim("Cor 4.2")
    assert 1 < float(cor.value) < 2 and cor.passed


@pytest.mark.parametrize("quick, n, extra", [(True, 2000, False), (False, 20000, True)])
def test_thm41_report_runs_the_stated_cases(monkeypatch, quick, n, extra):
    """quick: 2000 chains and no rho = 0.5, B = 1 case; the full report: 20000 chains and that case.
    Both: every dataset, the one-data-point case, the false-gamma control and Lemma C.2 with its
    control (the certificates are stubbed: only which runs are made is checked)."""
    from theorems import zhou_thm41 as z
    calls = []
    monkeypatch.setattr(z, "certify", lambda name, X, **kw: calls.append((name, kw)) or kw)
    monkeypatch.setattr(z, "certify_lemma_c2", lambda n_chains, **kw: dict(kw, lemma=n_chains))
    out = z.report_certificates(quick=quick)
    assert all(kw["n_chains"] == n for _, kw in calls)
    assert any(kw.get("B") == 1 and kw.get("rho") == 0.5 for _, kw in calls) is extra
    assert [c[0] for c in calls][:len(z.datasets())] == list(z.datasets())
    assert ("one data point", {"n_chains": n}) in calls
    assert calls[-1][1] == {"gamma_factor": 2.0, "n_chains": n, "expected": False}
    assert out[-2] == {"lemma": n} and out[-1]["expected"] is False


@pytest.mark.parametrize("quick", [True, False])
def test_fig7_report_runs_sgd_and_sam_and_the_rho_zero_control(monkeypatch, quick):
    """Both reports run rho = 0 (SGD) beside SAM's rho = 0.1, and the control with rho_sam = 0;
    quick: the eta of the picture (0.01) and one where SGD is trapped too (0.1)."""
    from theorems import kim_fig7 as k
    calls = []
    monkeypatch.setattr(k, "certify", lambda etas, rhos, **kw: calls.append((etas, rhos, kw)))
    k.report_certificates(quick=quick)
    (etas, rhos, kw), (etas_c, rhos_c, kw_c) = calls
    assert 0.0 in rhos and 0.1 in rhos and kw == {} and (etas_c, rhos_c) == (etas, rhos)
    assert kw_c == {"rho_sam": 0.0, "expected": False}
    assert etas == ((0.01, 0.1) if quick else k.ETAS) and (quick or rhos == k.RHOS)


# -- the three explanations: the zoo survey -------------------------------------------------------------
def test_flatter_than_gd_counts_ties_and_only_ties():
    """On the ring every minimizer is equally sharp: after 3000 steps SAM's refined minimizers and
    GD's ends agree to ~1e-13, a tie, which counts as 'flatter than GD'. After 1000 steps GD's ends
    are still ~1e-7 off the circle, where the Hessian is sharper or flatter by ~1e-7..1e-6: the
    comparison reads that difference (an allowance of 1e-9), not a looser one."""
    from theorems import rivals_explanations as E
    from verify import zoo
    from verify.core import stochastic as st
    from verify.ctx import get_context
    fp, obj = get_context("float64"), zoo.get("ring").objective
    seen = set()
    for steps in (1000, 3000):
        rows = E.survey("ring", 0.5, steps)["rows"]
        gd_ends = st.run_chains(E.vector_gradient("ring"), E.starts("ring"), "gd", 0.0, E.ETA, steps).W
        for row, g in zip(rows, gd_ends):
            if row["kind"] != "minimizer":
                continue
            diff = E.sharpness(obj, obj.point(row["x"], fp), fp) - E.sharpness(obj, obj.point(
                g.tolist(), fp), fp)
            case = "tie" if abs(diff) < 1e-11 else ("sharper" if diff > 1e-8 else
                                                     "flatter" if diff < -1e-8 else "unclear")
            assert case != "unclear", diff
            seen.add(case)
            assert row["flatter than GD"] is (case != "sharper"), (steps, diff)
    assert seen == {"tie", "sharper", "flatter"}
