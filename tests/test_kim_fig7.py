"""Kim et al. Figure 7 (one-neuron network): SGD reaches the minima, SAM stays on the saddle set, at
a step size the paper leaves open; the control with rho = 0 fails."""
import numpy as np

from theorems import kim_fig7 as k


def test_picture_at_small_step_and_control_with_rho_zero():
    cert = k.certify(etas=(0.01,), rhos=(0.0, 0.1), n=300)
    assert cert.passed, str(cert)
    assert cert.objects["eta_shown"] == [0.01]
    control = k.certify(etas=(0.01,), rhos=(0.0, 0.1), rho_sam=0.0, n=300, expected=False)
    assert not control.claim("figure_7b").passed and control.as_expected


def test_large_step_traps_sgd_too():
    """At eta = 0.1 one-sample SGD ends on the saddle set (eta w2 in (1/8, 0.32) for most starts):
    the figure's contrast is not there (the claim fails), and the certificate notes why."""
    cert = k.certify(etas=(0.1,), rhos=(0.0, 0.1), n=300, expected=False)
    assert not cert.claim("figure_7b").passed and cert.as_expected
    assert "0.1" in cert.objects["sgd_trapped_too"]


def test_loss_levels_of_the_landscape():
    W = np.array([[0.0, 0.7], [np.sqrt(1 / (2 * 0.8)), 0.8]])
    assert np.allclose(k.mean_loss(W), [k.SADDLE, k.MINIMUM])
