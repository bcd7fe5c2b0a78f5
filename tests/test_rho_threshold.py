"""rho threshold: the smallest rho with hallucinated minimizers against the distances from argmin f to
the nearest maximizer and saddle."""
import pytest

from theorems import rho_threshold as R


def _bracket(c):
    lo, hi = c.objects["threshold_bracket"]
    return float(lo), float(hi)


@pytest.mark.parametrize("name,expected", [("ring", 1.0), ("tilted_ring", 1.0742), ("ring3", 1.0)])
def test_threshold_is_the_maximizer_distance(name, expected):
    c = R.certify_example(name, quick=True)
    lo, hi = _bracket(c)
    assert lo <= expected + 1e-3 and hi >= expected - 1e-3 and hi - lo < 0.01
    assert c.passed, str(c)


def test_ring_window_closes_at_rho_2():
    # on the ring the hallucinated circle r = rho - 1 exists only for 1 < rho < 2
    c = R.certify_example("ring", quick=True)
    assert c.objects["scanned_rho"] == "[1.1, 1.9]"


def test_saddle_sets_the_threshold_on_the_double_well():
    c = R.certify_example("double_well2", quick=True)
    lo, hi = _bracket(c)
    assert abs(hi - 1.0) < 0.01                      # the saddle (0, 1) is at distance 1 from (1, 1)
    assert not c.claim("exceeds_max_distance").passed  # the maximizer is at distance sqrt 2
    assert c.claim("threshold_at_nearest_critical_point").passed
    assert c.findings and "Sections 2.1 and 4.1" in c.findings[0].source


def test_convex_control_has_none():
    c = R.certify_example("convex_lse", quick=True)
    assert c.passed and "none found" in c.objects["threshold"]


def test_report_quick(tmp_path):
    certs = R.report_certificates(quick=True, figdir=tmp_path)
    assert (tmp_path / "rho_threshold.png").exists()
    for c in certs:
        c.to_json()


# -- Appendix D: the threshold from the geometry (issue 12) --------------------------------------------
def _appendix_d_geometry(mp):
    """Independent: rho* = distance from the maximizer to the nearest point of the arc (an end)."""
    from verify import zoo
    from verify.core.solve import critical_point
    zf = zoo.get("appendix_d")
    xm = critical_point(zf.objective, zf.maximizers[0], mp).x
    end = mp.vector([-mp.scalar(31) / 20 * mp.mp.cos(mp.scalar(2) / 5), mp.scalar(3) / 5])
    return zf.objective, xm, end, mp.norm(xm - end)


def test_appendix_d_threshold_is_the_distance_from_the_maximizer_to_the_arc_end(mp50):
    obj, xm, end, rho_star = _appendix_d_geometry(mp50)
    c = R.certify_example("appendix_d", quick=True)
    lo, hi = _bracket(c)
    assert abs(lo - float(rho_star)) <= 1e-12 and 0 < hi - lo <= 1e-6
    assert c.passed, str(c)
    for cid in ("exhibited_just_above", "ray_reach_below"):
        assert c.claim(cid).passed


def test_a_point_just_above_the_threshold_is_a_hallucinated_minimizer(mp50):
    # rho = rho* + 1e-4, below the old grid bracket [1.9047, 1.9062]: Newton on y + rho u(y) = arc end
    from verify import sam
    from verify.core.classify import SeamWarning, classify
    from verify.core.solve import newton
    obj, xm, end, rho_star = _appendix_d_geometry(mp50)
    rho = rho_star + mp50.scalar("1e-4")
    y0 = R.guess_near_critical(obj, xm, end, rho, mp50)
    y = newton(lambda z: z + rho * sam.unit_gradient(obj, z, mp50) - end,
               lambda z: mp50.eye(2) + rho * sam.du_matrix(obj, z, mp50), y0, mp50).x
    assert mp50.norm(y + rho * sam.unit_gradient(obj, y, mp50) - end) < mp50.scalar("1e-40")
    assert abs(obj.value(end, mp50)) < mp50.scalar("1e-45")          # x+ in argmin f (f = 0)
    assert mp50.norm(obj.grad(y, mp50)) > mp50.scalar("1e-6")        # but y is not critical
    with pytest.warns(SeamWarning):   # x+ is the arc's end, on the seam y = 0.6 (f is C^1 there)
        assert classify(obj, y, rho, mp50).kind == "hallucinated_minimizer"
    c = R.certify_example("appendix_d", quick=True)
    lo, _ = _bracket(c)
    assert float(rho) > lo                                            # consistent with the bracket


def test_ray_reach_rejects_the_axis_value():
    # negative control: the symmetry-axis distance 1.55 + x_max (1.926) is not the threshold: some
    # gradient ray reaches the arc sooner
    from verify import zoo
    zf = zoo.get("appendix_d")
    reach, where = R.ray_reach(zf, R.manifold_polyline(zf, 401), n_grid=81)
    assert reach < 1.92 and reach > 1.9


def _hallucinated_one_by_one(zf, rho, ctx, targets, crit, n_grid, grad_margin=1e-6):
    """Reference: the former search, one Newton solve at a time in ctx (thm_3_1.preimage)."""
    from theorems import thm_3_1
    from verify.core import sam
    from verify.errors import SamVerifyError
    Y, Yp = R._grid_shift(zf.objective, rho, zf.box, n_grid)
    crit_f = [R._floats(ctx, c) for _, c in crit]
    for xs in targets:
        for g in R._guesses(Y, Yp, R._floats(ctx, xs), crit_f, rho):
            try:
                gv = ctx.vector([float(v) for v in g])
                if ctx.to_float(ctx.norm(sam.perturbed_point(zf.objective, gv, rho, ctx) - xs)) > 0.25 * rho:
                    continue
                y = thm_3_1.preimage(zf.objective, xs, rho, ctx, gv, max_iter=25).x
                gn = ctx.to_float(ctx.norm(zf.objective.grad(y, ctx)))
                res = ctx.to_float(ctx.norm(sam.perturbed_point(zf.objective, y, rho, ctx) - xs))
            except (SamVerifyError, ArithmeticError, ValueError):
                continue
            if gn > grad_margin and res <= 1e-10:
                return y, xs, res, gn
    return None


def _same_hit(a, b, ctx) -> bool:
    close = lambda u, v: max(abs(ctx.to_float(p) - ctx.to_float(q))  # noqa: E731
                             for p, q in zip(ctx.to_list(u), ctx.to_list(v))) < 1e-9
    return close(a[0], b[0]) and close(a[1], b[1]) and abs(a[3] - b[3]) < 1e-9


@pytest.mark.parametrize("name,rho", [("double_well2", 1.3), ("ring", 1.5)])
def test_batched_search_matches_one_by_one(name, rho):
    """The batched Newton search returns the same first hit (same target, same preimage) as solving
    the candidates one by one; control: with the targets reversed the first hit is another target, so
    the comparison can tell hits apart."""
    from verify.ctx import get_context
    from verify.objectives import zoo
    fp = get_context("float64")
    zf = zoo.get(name)
    targets, crit = R.argmin_samples(zf, fp, 8), R.critical_points(zf, fp)
    batched = R.hallucinated_at(zf, rho, fp, targets, crit, 41)
    serial = _hallucinated_one_by_one(zf, rho, fp, targets, crit, 41)
    assert batched is not None and serial is not None
    assert _same_hit(batched, serial, fp)
    reversed_hit = R.hallucinated_at(zf, rho, fp, targets[::-1], crit, 41)
    assert reversed_hit is not None and not _same_hit(batched, reversed_hit, fp)
