"""The rival papers' simulations on the engine (issue 18): each grid point / rho / paired setting is
one task seeded by its own index, so a 2-worker LocalCluster gives the numbers of the serial run."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("distributed")

import theorems.kim_double_well as dw                  # noqa: E402
import theorems.kim_thm2 as k2                          # noqa: E402
import theorems.kim_thm3 as k3                          # noqa: E402
from verify.core import stochastic as st                # noqa: E402
from verify.engine import Engine, map_tasks             # noqa: E402
from verify.errors import SamVerifyError                # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    with Engine(workers=2, progress=False) as eng:
        yield eng


def _numbers(cert) -> dict:
    d = cert.to_dict()
    d.pop("elapsed")
    return d


def test_double_well_fractions_are_the_same_on_two_workers(cluster):
    rhos, n = [0.0, 0.17, 0.9], 200
    serial = dw.simulate("sam", rhos, n, seed=5)
    on_cluster = dw.simulate("sam", rhos, n, seed=5, engine=cluster)
    as_dicts = [{r: {k: v.as_dict() for k, v in c.items()} for r, c in sim.items()}
                for sim in (serial, on_cluster)]
    assert as_dicts[0] == as_dicts[1]
    # one task per rho gives the rows of the single (rho x start) array, bit for bit
    starts = st.rng(5).uniform(-dw.SPREAD, dw.SPREAD, n)
    whole = st.run_chains(lambda W: dw.grad(W, 1.0), np.tile(starts, 3)[:, None], "sam",
                          np.repeat(rhos, n)[:, None], dw.ETA, dw.STEPS).W[:, 0]
    chunks = map_tasks(dw.final_thetas, [("sam", r, starts, 1.0) for r in rhos], cluster)
    assert np.array_equal(whole, np.concatenate(chunks), equal_nan=True)


def test_kim_thm2_certificates_are_the_same_on_two_workers(cluster):
    assert _numbers(k2.certify_variance(quick=True, n_chains=400)) == \
        _numbers(k2.certify_variance(quick=True, n_chains=400, engine=cluster))
    assert _numbers(k2.certify_cor1(quick=True, n_chains=400)) == \
        _numbers(k2.certify_cor1(quick=True, n_chains=400, engine=cluster))


def test_kim_thm3_certificate_is_the_same_on_two_workers(cluster):
    assert _numbers(k3.certify_dynamics(quick=True, n_chains=300)) == \
        _numbers(k3.certify_dynamics(quick=True, n_chains=300, engine=cluster))


def test_equality_is_not_vacuous_the_seed_decides_the_numbers(cluster):
    """Control: a task seeded differently (as a per-worker seed would be) gives other numbers."""
    p = k2.grid(True)[0]
    same, other = map_tasks(k2.simulate_w2, [(p, 300, 7), (p, 300, 8)], cluster)
    assert np.array_equal(same, k2.simulate_w2(p, 300, 7))
    assert not np.array_equal(same, other)


def test_a_failed_simulation_task_is_a_named_error(cluster):
    with pytest.raises(SamVerifyError, match="final_thetas.*failed.*unknown method"):
        map_tasks(dw.final_thetas, [("sam", 0.1, np.zeros(3), 1.0),
                                    ("nosuch", 0.1, np.zeros(3), 1.0)], cluster)
