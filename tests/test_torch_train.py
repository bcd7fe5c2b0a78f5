"""Batched full-batch SAM / switching, checkpoints, the SAM optimizer wrapper, and the phenomenon."""
import pytest
import torch
import torch.nn.functional as F

from verify.nn.data import load_digits
from verify.errors import InvalidRhoError, SamVerifyError
from verify.nn.mlp import build_mlp
from verify.nn.sam_optimizer import SAM, HallucinationMonitor
from verify.objectives.torch_model import flatten_params
from verify.nn.train import TrainConfig, TrainResult, check_against_core, classify, sweep, train


@pytest.fixture(scope="module")
def data():
    return load_digits().subset(200)


def _optimizer_run(data, seed, rho, steps, switch_steps, width=8):
    Xtr, ytr, _, _ = data.tensors(dtype=torch.float64)
    m = build_mlp(64, width, 1, 10, "tanh", seed=seed).double()
    opt = SAM(m.parameters(), torch.optim.SGD, rho=rho, lr=0.01, momentum=0.9,
              switch_steps=switch_steps)

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(m(Xtr), ytr)
        loss.backward()
        return loss
    for _ in range(steps):
        opt.step(closure)
    return flatten_params(m), opt


@pytest.mark.parametrize("switch", [0.0, 0.25])
def test_batched_equals_per_seed_optimizer(data, switch):
    steps = 40
    cfg = TrainConfig(rho=1.5, steps=steps, switch_fraction=switch, seeds=(0, 1, 2), width=8,
                      dtype="float64", device="cpu", log_every=10)
    res = train(data, cfg, progress=False)
    for i, s in enumerate(cfg.seeds):
        theta, _ = _optimizer_run(data, s, 1.5, steps, cfg.switch_step)
        assert torch.allclose(res.theta[i], theta, atol=1e-12, rtol=0)


def test_logs_and_core_recheck(data):
    cfg = TrainConfig(rho=1.0, steps=30, seeds=(0, 1), width=8, dtype="float64", device="cpu",
                      log_every=10)
    res = train(data, cfg, progress=False)
    assert res.logs["loss"].shape == (4, 2) and list(res.logs["step"]) == [0, 10, 20, 30]
    chk = check_against_core(res, data, 1)
    assert max(chk["rel_diff"].values()) < 1e-10
    fin = res.final()
    assert all(abs(fin["grad_ratio"][i] - fin["shifted_grad_norm"][i] / fin["grad_norm"][i]) < 1e-12
               for i in range(2))


def test_checkpoint_resume_is_exact(data, tmp_path):
    full = train(data, TrainConfig(rho=2.0, steps=30, seeds=(3, 4), width=8, dtype="float64",
                                   device="cpu", log_every=10), progress=False)
    half = train(data, TrainConfig(rho=2.0, steps=20, seeds=(3, 4), width=8, dtype="float64",
                                   device="cpu", log_every=10), progress=False)
    path = half.save(tmp_path / "ck.pt")
    back = TrainResult.load(path)
    back.config.steps = 30
    resumed = train(data, back.config, resume=back, progress=False)
    assert torch.allclose(resumed.theta, full.theta, atol=1e-13, rtol=0)
    assert resumed.logs["step"].tolist() == full.logs["step"].tolist()     # no step logged twice
    assert torch.allclose(resumed.logs["loss"], full.logs["loss"], atol=1e-13, rtol=0)
    with pytest.raises(SamVerifyError):
        TrainResult.load(tmp_path / "missing.pt")
    torch.save({"x": 1}, tmp_path / "other.pt")
    with pytest.raises(SamVerifyError, match="not a sam-verify"):
        TrainResult.load(tmp_path / "other.pt")


def test_config_validation():
    with pytest.raises(InvalidRhoError):
        TrainConfig(rho=-1)
    with pytest.raises(SamVerifyError):
        TrainConfig(switch_fraction=2)


def test_classify():
    assert classify(2.3, 1e-3, 0.05) == "hallucinated"
    assert classify(2.3, 5.0, 0.05) == "unstable"
    assert classify(0.01, 1.2, 0.01) == "converged"
    assert classify(float("nan"), 1.0, 1.0) == "diverged"
    assert classify(0.5, 0.5, 0.1) == "other"


def test_optimizer_monitor_and_errors(data):
    mon = HallucinationMonitor(patience=3)
    for k in range(3):
        mon.record(k, 2.3, 2.31, 0.05, 1e-4)
    assert mon.suspected and mon.suspected_at == 2
    mon2 = HallucinationMonitor(patience=3)
    for k, r in enumerate([1e-4, 1e-4, 1.0, 1e-4]):
        mon2.record(k, 2.3, 2.3, 1.0, r)
    assert not mon2.suspected
    _, opt = _optimizer_run(data, 0, 1.0, 5, 2)
    assert opt.steps_taken == 5 and len(opt.monitor.history) == 3
    assert opt.monitor.last["grad_ratio"] > 0
    with pytest.raises(SamVerifyError, match="closure"):
        opt.step()
    with pytest.raises(InvalidRhoError):
        SAM(build_mlp(2, 2, 1, 2).parameters(), rho=-1.0, lr=0.1)
    sd = opt.state_dict()
    assert sd["sam_steps_taken"] == 5


def test_phenomenon_quick():
    """At rho = 3 SAM-only sits at loss ~ ln 10 with the SAM direction vanishing, while switching
    trains; at rho = 0.5 both train (the report's quick configuration)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        d = load_digits().subset(400)
        sw = sweep(d, (0.5, 3.0), seeds=range(4), steps=1000, width=16, device="cpu",
                   progress=False, log_every=25)
    finally:
        torch.set_num_threads(threads)
    rows = {(x["mode"], x["rho"]): x for x in sw["rows"]}
    assert rows[("sam-only", 3.0)]["mean_train_loss"] > 2.0
    assert rows[("sam-only", 3.0)]["median_grad_ratio"] < 0.1
    assert rows[("switching", 3.0)]["mean_train_acc"] > 0.9
    assert rows[("sam-only", 0.5)]["mean_train_loss"] < 0.05
    assert rows[("switching", 0.5)]["mean_train_loss"] < 0.05


@pytest.mark.gpu
def test_cuda_training_matches_cpu(data):
    cfg = dict(rho=1.0, steps=20, seeds=(0, 1), width=8, dtype="float64", log_every=10)
    a = train(data, TrainConfig(device="cpu", **cfg), progress=False)
    b = train(data, TrainConfig(device="cuda", **cfg), progress=False)
    assert b.theta.device.type == "cuda"
    assert torch.allclose(a.theta, b.theta.cpu(), atol=1e-10)


def test_batched_rows_match_core_per_point(data):
    """sam.perturbed_rows / diagnostics_rows on stacked seeds equal verify.core.sam per point."""
    from verify import sam
    from verify.ctx.torch import TorchContext
    from verify.nn.train import BatchedProblem
    ctx = TorchContext("cpu", "float64")
    prob = BatchedProblem(data, 8, 1, "tanh", "float64", "cpu")
    th = prob.init((0, 1, 2))
    g, f = prob.grad_and_value(th)
    xp = sam.perturbed_rows(th, g, 1.7)
    w, fp = prob.grad_and_value(xp)
    _, _, ratio, gap = sam.diagnostics_rows(f, g, fp, w)
    obj = prob.objective()
    for i in range(3):
        assert torch.allclose(xp[i], sam.perturbed_point(obj, th[i], 1.7, ctx), atol=1e-14)
        assert torch.allclose(w[i], sam.shifted_gradient(obj, th[i], 1.7, ctx), atol=1e-14)
        d = sam.diagnostics(obj, th[i], 1.7, ctx)
        assert abs(float(ratio[i] - d.grad_ratio)) < 1e-12 and abs(float(gap[i] - d.loss_gap)) < 1e-12


def test_sweep_row_chunks_equal_one_batch(data):
    kw = dict(seeds=(0, 1), steps=15, width=4, device="cpu", progress=False, log_every=5,
              dtype="float64")
    a = sweep(data, (0.5, 2.0), **kw)
    b = sweep(data, (0.5, 2.0), row_chunk=3, **kw)
    assert torch.allclose(a["result"].theta, b["result"].theta, atol=1e-12)
    assert [r["mean_train_loss"] for r in a["rows"]] == pytest.approx([r["mean_train_loss"] for r in b["rows"]])
    c = sweep(data, (0.5, 2.0), switch_rhos=(2.0,), **kw)
    assert [(r["mode"], r["rho"]) for r in c["rows"]] == [("sam-only", 0.5), ("sam-only", 2.0), ("switching", 2.0)]


def _model_and_closure(data, seed=0, width=8):
    Xtr, ytr, _, _ = data.tensors(dtype=torch.float64)
    m = build_mlp(64, width, 1, 10, "tanh", seed=seed).double()
    return m, (lambda: F.cross_entropy(m(Xtr), ytr))


def test_optimizer_state_dict_resumes_exactly(data):
    """The saved state carries the base optimizer's momentum: a reload continues the run to
    rounding; without the base state (the control) the resumed run differs."""
    m, loss_fn = _model_and_closure(data)
    opt = SAM(m.parameters(), torch.optim.SGD, rho=1.0, lr=0.05, momentum=0.9, switch_steps=2)

    def closure(opt=opt):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss
    for _ in range(3):
        opt.step(closure)
    import copy
    # a deep copy, as torch.save makes: a state dict holds references to the live buffers
    saved_p, saved_opt = [p.detach().clone() for p in m.parameters()], copy.deepcopy(opt.state_dict())
    for _ in range(5):
        opt.step(closure)
    want = flatten_params(m)

    def resumed(with_base: bool):
        m2, loss2 = _model_and_closure(data)
        with torch.no_grad():
            for p, q in zip(m2.parameters(), saved_p):
                p.copy_(q)
        opt2 = SAM(m2.parameters(), torch.optim.SGD, rho=1.0, lr=0.05, momentum=0.9)
        sd = dict(saved_opt)
        if not with_base:
            sd.pop("base_optimizer")
        opt2.load_state_dict(sd)
        for _ in range(5):
            opt2.zero_grad()
            opt2.step(lambda: (opt2.zero_grad(), loss2().backward(), loss2())[2])
        return flatten_params(m2), opt2
    got, opt2 = resumed(True)
    assert opt2.steps_taken == 8 and opt2.switch_steps == 2
    assert torch.allclose(got, want, atol=1e-12)
    assert not torch.allclose(resumed(False)[0], want, atol=1e-6)


def test_optimizer_two_step_interface_switches_and_monitors(data):
    """first_step/second_step give the same run as step(closure), plain GD phase and monitor
    included."""
    want, opt_ref = _optimizer_run(data, 0, 1.0, 5, 2)
    m, loss_fn = _model_and_closure(data)
    opt = SAM(m.parameters(), torch.optim.SGD, rho=1.0, lr=0.01, momentum=0.9, switch_steps=2)
    for _ in range(5):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.first_step(zero_grad=True, loss=loss)
        loss_plus = loss_fn()
        loss_plus.backward()
        opt.second_step(zero_grad=True, loss=loss_plus)
    assert opt.steps_taken == 5 and not opt.in_gd_phase
    assert torch.allclose(flatten_params(m), want, atol=1e-12)
    assert [h["step"] for h in opt.monitor.history] == [2, 3, 4]
    for a, b in zip(opt.monitor.history, opt_ref.monitor.history):
        assert a == pytest.approx(b, rel=1e-12)
    with pytest.raises(SamVerifyError, match="first_step"):
        opt.second_step()


def test_optimizer_restores_only_this_steps_parameters():
    """A parameter without a gradient in this step is neither perturbed nor restored (a stale
    copy from an earlier step must not pull it back)."""
    a = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    b = torch.nn.Parameter(torch.tensor([3.0], dtype=torch.float64))
    opt = SAM([a, b], torch.optim.SGD, rho=0.1, lr=0.1)

    def both():
        opt.zero_grad()
        loss = (a ** 2 + b ** 2).sum()
        loss.backward()
        return loss
    opt.step(both)
    b_after = b.detach().clone()
    assert float(b_after) < 3.0

    def only_a():
        opt.zero_grad(set_to_none=True)
        loss = (a ** 2).sum()
        loss.backward()
        return loss
    opt.step(only_a)
    assert torch.equal(b.detach(), b_after)


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), -1.0, "x"])
def test_optimizer_refuses_bad_rho(bad):
    p = [torch.nn.Parameter(torch.zeros(2))]
    with pytest.raises(InvalidRhoError):
        SAM(p, rho=bad, lr=0.1)
    with pytest.raises(InvalidRhoError):
        SAM([{"params": p, "rho": bad}], rho=0.1, lr=0.1)


def test_optimizer_edge_cases(data):
    """first_step twice is refused (theta would be lost); the monitor warns once when it gets no
    losses; an older state dict without the base state keeps its settings (lr)."""
    m, loss_fn = _model_and_closure(data)
    opt = SAM(m.parameters(), torch.optim.SGD, rho=1.0, lr=0.01)
    loss_fn().backward()
    opt.first_step()
    with pytest.raises(SamVerifyError, match="twice"):
        opt.first_step()
    opt.zero_grad()
    loss_fn().backward()
    with pytest.warns(UserWarning, match="loss="):
        opt.second_step(zero_grad=True)
    sd = opt.state_dict()
    sd["param_groups"][0]["lr"] = 0.01234
    sd.pop("base_optimizer")
    opt2 = SAM(m.parameters(), torch.optim.SGD, rho=1.0, lr=0.1)
    opt2.load_state_dict(sd)
    assert opt2.base_optimizer.param_groups[0]["lr"] == 0.01234 == opt2.param_groups[0]["lr"]


def test_transition_bracket_and_monotonicity():
    from verify.nn.train import _transition
    rows = [{"rho": r, "f": f} for r, f in ((0.5, 0.0), (1.0, 0.25), (1.5, 0.75), (2.0, 0.25), (3.0, 1.0))]
    t = _transition(rows, lambda x: x["f"] >= 0.5)
    assert t == {"rho": 1.5, "bracket": [1.0, 1.5], "monotone": False}
    rows[3]["f"] = 0.5
    assert _transition(rows, lambda x: x["f"] >= 0.5)["monotone"] is True
    assert _transition(rows, lambda x: x["f"] >= 0.0)["bracket"] == [None, 0.5]   # changed at the start
    assert _transition(rows, lambda x: x["f"] > 2)["rho"] is None
