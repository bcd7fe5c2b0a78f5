"""The SAM optimizer as users of SAM wrappers expect it: BatchNorm statistics, mixed precision,
DDP, adaptive SAM and the normalization choice, the monitor on minibatches. Each check has a
negative control that breaks exactly the property it checks."""
import copy
import datetime
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from verify.errors import NonFiniteError, SamVerifyError
from verify.nn.data import load_digits
from verify.nn.mlp import build_mlp
from verify.nn.sam_optimizer import SAM, HallucinationMonitor, adaptive_param_groups
from verify.objectives.torch_model import flatten_params

EPS32 = torch.finfo(torch.float32).eps
EPS64 = torch.finfo(torch.float64).eps


def _closure(opt, model, X, y, scaler=None, autocast=None):
    def closure():
        opt.zero_grad()
        with autocast or _null():
            loss = F.cross_entropy(model(X), y)
        (scaler.scale(loss) if scaler is not None else loss).backward()
        return loss
    return closure


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _bn_model(kind: str, momentum):
    torch.manual_seed(0)
    if kind == "1d":
        return nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5, momentum=momentum), nn.Tanh(),
                             nn.Linear(5, 3)).double()
    return nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4, momentum=momentum), nn.ReLU(),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 3)).double()


def _bn_data(kind: str):
    g = torch.Generator().manual_seed(1)
    shape = (16, 6) if kind == "1d" else (16, 2, 6, 6)
    return torch.randn(shape, generator=g, dtype=torch.float64), torch.randint(0, 3, (16,), generator=g)


def _stats(model):
    return {k: v.clone() for k, v in model.state_dict().items()
            if k.endswith(("running_mean", "running_var", "num_batches_tracked"))}


# ---------------------------------------------------------------- BatchNorm

@pytest.mark.parametrize("kind,momentum", [("1d", 0.1), ("1d", None), ("2d", 0.1)])
def test_batchnorm_statistics_equal_one_plain_step(kind, momentum):
    """After one SAM step the running statistics are exactly those of one forward pass at theta
    (one plain step), by step(closure) and by first_step/second_step; the control
    norm_stats="update" (the wrappers' behaviour, and this optimizer's before) counts two batches."""
    X, y = _bn_data(kind)
    plain = _bn_model(kind, momentum)
    plain(X)
    want = _stats(plain)
    assert int(want[[k for k in want if k.endswith("tracked")][0]]) == 1

    def sam_stats(norm_stats, two_step=False):
        model = _bn_model(kind, momentum)
        opt = SAM(model.parameters(), rho=0.5, lr=0.1, norm_stats=norm_stats)
        closure = _closure(opt, model, X, y)
        if two_step:
            loss = closure()
            opt.first_step(zero_grad=True, loss=loss)
            opt.second_step(zero_grad=True, loss=closure())
        else:
            opt.step(closure)
        return _stats(model)
    for two_step in (False, True):
        got = sam_stats("freeze", two_step)
        assert all(torch.equal(got[k], want[k]) for k in want)
    control = sam_stats("update")
    assert int(control[[k for k in control if k.endswith("tracked")][0]]) == 2
    assert not all(torch.equal(control[k], want[k]) for k in want)


def test_batchnorm_guard_leaves_eval_and_other_modules_alone():
    """Layers in eval mode are not touched, and the hook is gone after the step (a forward after
    second_step updates the statistics as usual)."""
    X, y = _bn_data("1d")
    model = _bn_model("1d", 0.1)
    opt = SAM(model.parameters(), rho=0.5, lr=0.1)
    opt.step(_closure(opt, model, X, y))
    assert not opt._guard.active
    before = _stats(model)
    model(X)
    after = _stats(model)
    assert int(after["1.num_batches_tracked"]) == int(before["1.num_batches_tracked"]) + 1


def _two_pass(opt, closure):
    loss = closure()
    opt.first_step(zero_grad=True, loss=loss)
    hooked = opt._guard.active
    opt.second_step(zero_grad=True, loss=closure())
    return hooked


def test_batchnorm_layers_found_once_then_saved_without_the_hook():
    """The first SAM step finds the BatchNorm layers with the global hook; later steps save and
    restore them directly (no hook), and every step still advances the statistics by one batch.
    Control: norm_stats="update" advances them by two a step."""
    X, y = _bn_data("1d")
    for norm_stats, per_step in (("freeze", 1), ("update", 2)):
        model = _bn_model("1d", 0.1)
        opt = SAM(model.parameters(), rho=0.5, lr=0.1, norm_stats=norm_stats)
        closure = _closure(opt, model, X, y)
        hooked = [_two_pass(opt, closure) for _ in range(3)]
        assert int(model[1].num_batches_tracked) == 3 * per_step
        if norm_stats == "freeze":
            assert hooked == [True, False, False]


def test_batchnorm_statistics_of_every_step_equal_one_forward_at_theta():
    """Every step, also those that save the layers directly (no hook) and one after the model
    changed dtype (new buffers, new parameter data), leaves running mean, variance and counter
    exactly as one training-mode forward at that step's theta leaves them. Control:
    norm_stats="update" leaves them elsewhere from the first step on."""
    X, y = _bn_data("2d")
    for norm_stats in ("freeze", "update"):
        model = _bn_model("2d", 0.1).float()
        opt = SAM(model.parameters(), rho=0.5, lr=0.1, norm_stats=norm_stats)
        same = []
        for step in range(4):
            if step == 2:
                model.double()
            inputs = X.to(next(model.parameters()).dtype)
            plain = copy.deepcopy(model)
            plain(inputs)
            want = _stats(plain)
            opt.step(_closure(opt, model, inputs, y))
            got = _stats(model)
            same.append(all(torch.equal(got[k], want[k]) for k in want))
        assert same == ([True] * 4 if norm_stats == "freeze" else [False] * 4)


class _Branches(nn.Module):
    """Two heads; the second (with its own BatchNorm) is used only when ``second`` is set."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.a = nn.Linear(6, 3).double()
        self.b = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.Linear(5, 3)).double()
        self.second = False

    def forward(self, x):
        return self.b(x) if self.second else self.a(x)


@pytest.mark.parametrize("stale", [False, True])
def test_batchnorm_layers_found_again_when_the_perturbed_parameters_change(stale, monkeypatch):
    """A BatchNorm first forwarded in a later step (a branch switched on: other parameters get
    gradients) is found again and frozen in the perturbed pass. Control (stale): with the layer
    list never refreshed it is updated twice in that step."""
    import verify.nn.sam_optimizer as so
    if stale:
        monkeypatch.setattr(so, "_same_tensors", lambda a, b: a is not None)
    X, y = _bn_data("1d")
    model = _Branches()
    opt = SAM(model.parameters(), rho=0.5, lr=0.1)
    closure = _closure(opt, model, X, y)
    _two_pass(opt, closure)
    model.second = True
    _two_pass(opt, closure)
    assert int(model.b[1].num_batches_tracked) == (2 if stale else 1)


# ---------------------------------------------------------------- mixed precision

def _mlp32(seed=0):
    return build_mlp(8, 6, 1, 3, "tanh", seed=seed)


def _data32(n=32, d=8, seed=2):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, 3, (n,), generator=g)


def test_grad_scaler_gives_the_unscaled_run():
    """With a GradScaler (power-of-two scale, so unscaling is exact) the run equals the run
    without one: parameters, and the monitor's gradient norms. Control: the same scaled
    gradients given to first_step/second_step without scaler= record norms scale times larger
    and end elsewhere."""
    X, y = _data32()

    def run(mode):
        model = _mlp32()
        opt = SAM(model.parameters(), rho=0.5, lr=0.05, momentum=0.9)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 10) if mode != "none" else None
        closure = _closure(opt, model, X, y, scaler)
        for _ in range(4):
            if mode in ("ignored", "two_step"):   # ignored: the scaled gradients reach it as they are
                loss = closure()
                opt.first_step(zero_grad=True, loss=loss, scaler=scaler if mode == "two_step" else None)
                opt.second_step(zero_grad=True, loss=closure(),
                                scaler=scaler if mode == "two_step" else None)
                if mode == "two_step":
                    scaler.update()
            else:
                opt.step(closure, scaler=scaler)
                if scaler is not None:
                    scaler.update()
        return flatten_params(model), [h["grad_norm"] for h in opt.monitor.history]
    want, norms = run("none")
    for mode in ("scaler", "two_step"):
        got, got_norms = run(mode)
        assert torch.allclose(got, want, rtol=8 * EPS32, atol=8 * EPS32)
        assert got_norms == pytest.approx(norms, rel=8 * EPS32)
    bad, bad_norms = run("ignored")
    assert bad_norms[0] == pytest.approx(2.0 ** 10 * norms[0], rel=1e-5)
    assert not torch.allclose(bad, want, atol=1e-3)


class _InfAt:
    """A closure factor that is inf on the given calls (a float16 overflow, on demand)."""

    def __init__(self, calls):
        self.calls, self.n = set(calls), 0

    def __call__(self):
        self.n += 1
        return float("inf") if self.n in self.calls else 1.0


@pytest.mark.parametrize("bad_pass", [1, 2])
def test_scaler_skips_a_step_with_inf_in_either_pass(bad_pass):
    """An inf in the first or the second pass skips the whole step: theta restored, the momentum
    buffers untouched, BatchNorm statistics as after the first forward, the scale halved by
    update(); the next step runs. Control: without a scaler the same inf is a NonFiniteError (no
    silent NaN in the weights)."""
    X, y = _bn_data("1d")
    model = _bn_model("1d", 0.1).float()
    X = X.float()
    opt = SAM(model.parameters(), rho=0.5, lr=0.05, momentum=0.9)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 8)

    def closure_with(factor):
        def closure():
            opt.zero_grad()
            loss = F.cross_entropy(model(X), y) * factor()
            scaler.scale(loss).backward()
            return loss
        return closure
    opt.step(closure_with(_InfAt([])), scaler=scaler)          # a good step: momentum exists
    scaler.update()
    theta = flatten_params(model)
    buffers = [opt.base_optimizer.state[p]["momentum_buffer"].clone() for p in model.parameters()]
    stats = _stats(model)
    opt.step(closure_with(_InfAt([bad_pass])), scaler=scaler)
    scaler.update()
    assert torch.equal(flatten_params(model), theta)
    assert all(torch.equal(opt.base_optimizer.state[p]["momentum_buffer"], b) for p, b in zip(model.parameters(), buffers))
    assert int(_stats(model)["1.num_batches_tracked"]) == int(stats["1.num_batches_tracked"]) + 1
    assert opt.skipped_steps == 1 and opt.steps_taken == 1 and len(opt.monitor.history) == 1
    assert scaler.get_scale() == 2.0 ** 7
    opt.step(closure_with(_InfAt([])), scaler=scaler)
    scaler.update()
    assert opt.steps_taken == 2 and not torch.equal(flatten_params(model), theta)

    opt2 = SAM(model.parameters(), rho=0.5, lr=0.05)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    with pytest.raises(NonFiniteError, match="scaler="):
        opt2.step(closure_with(_InfAt([1])))


def test_bfloat16_autocast_on_cpu():
    """A SAM step under bfloat16 autocast (float32 weights) agrees with the float32 step to
    bfloat16 precision: |delta_bf16 - delta_32| <= 8 u ||delta_32||, u = 2^-8 (a few roundings of
    the inputs of each matmul, two gradient evaluations). Control: the plain step (rho = 0)
    differs from the SAM step by far more than that tolerance."""
    X, y = _data32(64)
    u = 2.0 ** -8

    def update(rho, dtype):
        model = _mlp32()
        theta0 = flatten_params(model)
        opt = SAM(model.parameters(), rho=rho, lr=0.5)
        ac = torch.autocast("cpu", dtype=torch.bfloat16) if dtype == "bf16" else None
        opt.step(_closure(opt, model, X, y, autocast=ac))
        assert all(p.dtype == torch.float32 for p in model.parameters())
        return flatten_params(model) - theta0
    want = update(1.0, "fp32")
    got = update(1.0, "bf16")
    tol = 8 * u * want.norm()
    assert (got - want).norm() <= tol
    assert (update(0.0, "fp32") - want).norm() > 10 * tol


@pytest.mark.gpu
def test_float16_autocast_with_scaler_on_cuda():
    """float16 autocast + GradScaler on CUDA: the step agrees with the float32 step to float16
    precision (8 u, u = 2^-11), steps the scaler skips leave theta unchanged."""
    dev = torch.device("cuda")
    X, y = (t.to(dev) for t in _data32(64))
    u = 2.0 ** -11

    def update(autocast, scaler):
        model = _mlp32().to(dev)
        theta0 = flatten_params(model)
        opt = SAM(model.parameters(), rho=1.0, lr=0.5)
        opt.step(_closure(opt, model, X, y, scaler, autocast), scaler=scaler)
        if scaler is not None:
            scaler.update()
        return flatten_params(model) - theta0, opt
    want, _ = update(None, None)
    got, opt = update(torch.autocast("cuda", dtype=torch.float16), torch.amp.GradScaler("cuda"))
    assert opt.skipped_steps == 0
    assert (got - want).norm() <= 8 * u * want.norm() * 4
    skipped, opt = update(torch.autocast("cuda", dtype=torch.float16),
                          torch.amp.GradScaler("cuda", init_scale=2.0 ** 40))   # overflows
    assert opt.skipped_steps == 1 and float(skipped.abs().max()) == 0.0


# ---------------------------------------------------------------- DDP

DDP_DEADLINE_S = 600   # a guard against a hung rank, not a speed goal (CI can be 10x slower)


def _ddp_worker(rank, world, init_file, out_dir):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP
    torch.set_num_threads(1)
    # a rank that never arrives (or a collective that never completes) is an error here, not a hang
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=DDP_DEADLINE_S / 2))
    try:
        X, y = _ddp_data()
        half = X.shape[0] // world
        Xr, yr = X[rank * half:(rank + 1) * half], y[rank * half:(rank + 1) * half]
        results = {}
        for name, synced, check in (("synced", True, True), ("no_sync", False, False),
                                    ("no_sync_checked", False, True)):
            model = DDP(_ddp_model())
            opt = SAM(model.parameters(), rho=0.7, lr=0.1, momentum=0.9, distributed=check)

            def closure(first=[True]):
                opt.zero_grad()
                ctx = model.no_sync() if (first[0] and not synced) else _null()
                with ctx:      # the forward too: DDP decides in the forward whether to sync
                    loss = F.cross_entropy(model(Xr), yr)
                    loss.backward()
                first[0] = not first[0]
                return loss
            try:
                for _ in range(3):
                    opt.step(closure)
                results[name] = {"theta": flatten_params(model.module),
                                 "history": opt.monitor.history}
            except SamVerifyError as exc:
                results[name] = {"error": str(exc)}
        torch.save(results, f"{out_dir}/rank{rank}.pt")
        dist.barrier()   # neither rank tears gloo down while the other still talks to it
    finally:
        dist.destroy_process_group()


def _ddp_data():
    g = torch.Generator().manual_seed(3)
    return torch.randn(16, 5, generator=g, dtype=torch.float64), torch.randint(0, 3, (16,), generator=g)


def _ddp_model():
    return build_mlp(5, 4, 1, 3, "tanh", seed=0).double()


def test_ddp_two_ranks_equal_single_process_on_the_whole_batch(tmp_path):
    """Two gloo ranks with half the batch each: the parameters, the gradient norm on every rank
    and the monitor's (rank-averaged) losses equal a single-process run on the concatenated
    batch, to float64 rounding. Controls: with the first backward under no_sync() each rank
    perturbs with its own gradient and the run differs; with distributed=True that is refused."""
    import torch.multiprocessing as mp
    # spawn, not fork: a forked rank inherits every lock that another thread of this long-lived
    # pytest process held at the fork (a thread pool, a logger, the import lock) and can wait on it
    # for ever; with fork both ranks hung past the deadline in two full-suite runs on quiet cores.
    # Spawned ranks import torch and this module afresh (seconds), then their own work is ~0.3 s
    workers = mp.start_processes(_ddp_worker, args=(2, str(tmp_path / "init"), str(tmp_path)),
                                 nprocs=2, join=False, start_method="spawn")
    for _ in range(DDP_DEADLINE_S):            # join with a deadline: a hung rank fails the test
        if workers.join(timeout=1):
            break
    else:
        for p in workers.processes:
            p.kill()
        pytest.fail(f"the DDP workers did not finish within {DDP_DEADLINE_S} s")
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in range(2)]
    X, y = _ddp_data()
    model = _ddp_model()
    opt = SAM(model.parameters(), rho=0.7, lr=0.1, momentum=0.9)
    for _ in range(3):
        opt.step(_closure(opt, model, X, y))
    want = flatten_params(model)
    tol = 64 * EPS64
    for r in ranks:
        assert torch.allclose(r["synced"]["theta"], want, rtol=tol, atol=tol)
        for a, b in zip(r["synced"]["history"], opt.monitor.history):
            assert a["grad_norm"] == pytest.approx(b["grad_norm"], rel=tol)
            assert a["loss"] == pytest.approx(b["loss"], rel=tol)
            assert a["loss_plus"] == pytest.approx(b["loss_plus"], rel=tol)
        assert not torch.allclose(r["no_sync"]["theta"], want, atol=1e-6)
        assert "not synchronized" in r["no_sync_checked"]["error"]
    assert [h["grad_norm"] for h in ranks[0]["synced"]["history"]] == \
        [h["grad_norm"] for h in ranks[1]["synced"]["history"]]


def test_distributed_without_process_group_is_refused():
    X, y = _data32()
    model = _mlp32()
    opt = SAM(model.parameters(), rho=0.5, lr=0.1, distributed=True)
    with pytest.raises(SamVerifyError, match="process group"):
        opt.step(_closure(opt, model, X, y))


# ---------------------------------------------------------------- ASAM and the normalization

def _perturbation(opt, model, X, y):
    theta = [p.detach().clone() for p in model.parameters()]
    loss = _closure(opt, model, X, y)()
    grads = [p.grad.clone() for p in model.parameters()]
    opt.first_step(loss=loss)
    e = [p.detach() - t for p, t in zip(model.parameters(), theta)]
    opt.zero_grad()
    opt.second_step(loss=_closure(opt, model, X, y)())
    return theta, grads, e


@pytest.mark.parametrize("eta", [0.0, 0.01])
def test_asam_perturbation_is_kwon_et_al_formula(eta):
    """ASAM's first step is e = rho T^2 g / ||T g|| with T = |w| + eta on the weights and T = 1 on
    biases (Kwon et al. 2021), computed here directly. Controls: it differs from SAM's e where the
    weights have unequal magnitudes, and equals SAM's when every |w| = 1 (T = I, eta = 0)."""
    X, y = _data32()
    X = X.double()
    rho = 0.3
    model = _mlp32().double()
    opt = SAM(adaptive_param_groups(model), rho=rho, lr=0.1, eta=eta, eps=0.0)
    theta, grads, e = _perturbation(opt, model, X, y)
    names = [n for n, _ in model.named_parameters()]
    T = [(t.abs() + eta) if not n.endswith("bias") else torch.ones_like(t) for n, t in zip(names, theta)]
    norm = torch.sqrt(sum(((t * g) ** 2).sum() for t, g in zip(T, grads)))
    want = [rho * t ** 2 * g / norm for t, g in zip(T, grads)]
    assert all(torch.allclose(a, b, rtol=64 * EPS64, atol=64 * EPS64 * rho) for a, b in zip(e, want))
    model_sam = _mlp32().double()
    _, _, e_sam = _perturbation(SAM(model_sam.parameters(), rho=rho, lr=0.1, eps=0.0), model_sam, X, y)
    assert max(float((a - b).abs().max()) for a, b in zip(e, e_sam)) > 1e-3 * rho

    unit = _mlp32().double()
    with torch.no_grad():
        for p in unit.parameters():
            p.copy_(torch.where(p >= 0, 1.0, -1.0))
    unit2 = copy.deepcopy(unit)
    asam = SAM(unit.parameters(), rho=rho, lr=0.1, adaptive=True, eps=0.0)
    _, _, e_unit = _perturbation(asam, unit, X, y)
    sam = SAM(unit2.parameters(), rho=rho, lr=0.1, eps=0.0)
    _, _, e_unit_sam = _perturbation(sam, unit2, X, y)
    assert all(torch.equal(a, b) for a, b in zip(e_unit, e_unit_sam))      # T = I exactly



def test_per_group_rho_scales_each_group_by_the_global_norm():
    """With a rho per group, e = rho_group g / (||g|| + eps), ||g|| over all groups (Foret et
    al.'s e for the group's share of the radius; rho = 0 leaves a group unperturbed), to float64
    rounding. Control: one rho for both groups perturbs the second group too."""
    X, y = _data32()
    X = X.double()
    model = _mlp32().double()
    first, second = list(model.parameters())[:2], list(model.parameters())[2:]
    opt = SAM([{"params": first, "rho": 0.3}, {"params": second, "rho": 0.0}], rho=0.1, lr=0.1)
    theta, grads, e = _perturbation(opt, model, X, y)
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    want = [0.3 * g / (norm + opt.eps) for g in grads[:2]] + [torch.zeros_like(g) for g in grads[2:]]
    assert all(torch.allclose(a, b, rtol=8 * EPS64, atol=8 * EPS64) for a, b in zip(e, want))
    control = _mlp32().double()
    _, _, e_one = _perturbation(SAM(control.parameters(), rho=0.3, lr=0.1), control, X, y)
    assert max(float(t.abs().max()) for t in e_one[2:]) > 1e-3


def test_rho_as_an_exact_string_is_that_number():
    """rho = "1/4" (the whitelist parser's exact rational) runs the step of rho = 0.25, also as a
    group's rho; "0" is a plain step. Control: rho = "1/3" ends elsewhere."""
    X, y = _data32()

    def run(rho, group_rho=None):
        model = _mlp32()
        params = model.parameters() if group_rho is None else [{"params": model.parameters(),
                                                                "rho": group_rho}]
        opt = SAM(params, rho=rho, lr=0.1)
        opt.step(_closure(opt, model, X, y))
        return flatten_params(model), opt
    want, _ = run(0.25)
    assert torch.equal(run("1/4")[0], want) and torch.equal(run(0.1, group_rho="1/4")[0], want)
    assert not torch.equal(run("1/3")[0], want)
    _, plain = run("0")
    assert plain.monitor.history == []                     # rho = 0: no SAM step recorded


def test_adaptive_param_groups_split_weights_from_biases_and_norm_layers():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.LayerNorm(4), nn.Linear(4, 2, bias=False))
    groups = adaptive_param_groups(model)
    weights = {id(p) for p in groups[0]["params"]}
    assert groups[0]["adaptive"] and not groups[1]["adaptive"]
    assert weights == {id(model[0].weight), id(model[3].weight)}
    assert len(groups[1]["params"]) == 5            # a bias, two BatchNorm and two LayerNorm params
    assert len(adaptive_param_groups(model, exclude_bias_and_norm=False)) == 1


def test_exact_normalization_vs_fixed_epsilon():
    """eps = 0 is Foret et al.'s normalization: ||e|| = rho even for a gradient of norm 1e-13;
    the default eps = 1e-12 (the wrappers') shrinks that perturbation to rho/11 (the control).
    A zero gradient with eps = 0 perturbs nothing and raises nothing."""
    rho = 0.5

    def perturbation_norm(eps, scale):
        w = nn.Parameter(torch.tensor([0.3, -0.4], dtype=torch.float64))
        opt = SAM([w], rho=rho, lr=0.1, eps=eps)
        (scale * w.sum()).backward()
        theta = w.detach().clone()
        opt.first_step(loss=0.0)
        n = float((w.detach() - theta).norm())
        opt.second_step(loss=0.0)
        return n
    g = 1e-13 / math.sqrt(2)                  # ||grad|| = 1e-13
    assert perturbation_norm(0.0, g) == pytest.approx(rho, rel=4 * EPS64)
    assert perturbation_norm(1e-12, g) == pytest.approx(rho / 11, rel=1e-12)
    assert perturbation_norm(0.0, 0.0) == 0.0


@pytest.mark.parametrize("kwargs,match", [
    (dict(norm_stats="never"), "norm_stats"), (dict(eps=-1.0), "eps"), (dict(eta=float("nan")), "eta"),
    (dict(probe_every=10), "probe_closure"), (dict(probe_every=-1, probe_closure=lambda: 0), "probe_every")])
def test_bad_options_are_refused(kwargs, match):
    with pytest.raises(SamVerifyError, match=match):
        SAM(_mlp32().parameters(), rho=0.5, lr=0.1, **kwargs)


def test_monitor_refuses_bad_settings_and_smooths_without_bias():
    with pytest.raises(SamVerifyError, match="smoothing"):
        HallucinationMonitor(smoothing=1.0)
    with pytest.raises(SamVerifyError, match="patience"):
        HallucinationMonitor(patience=0)
    mon = HallucinationMonitor()
    for k in range(5):                         # constant inputs: the bias-corrected EMA is exact
        mon.record(k, 2.0, 2.5, 0.4, 0.1)
    assert mon.last["smoothed_loss"] == pytest.approx(2.0, rel=1e-14)
    assert mon.last["smoothed_grad_ratio"] == pytest.approx(0.25, rel=1e-14)
    assert mon.last["smoothed_loss_gap"] == pytest.approx(0.5, rel=1e-13)


# ---------------------------------------------------------------- the monitor on minibatches

@pytest.fixture(scope="module")
def digits():
    return load_digits().subset(400)


def _minibatch_run(digits, rho, seed, switch_steps=0, steps=1000, batch=64, width=16):
    """SGD-SAM (lr 0.01, momentum 0.9) on minibatches of the digits MLP, float32."""
    X, y, _, _ = digits.tensors(dtype=torch.float32)
    model = build_mlp(64, width, 1, 10, "tanh", seed=seed)
    opt = SAM(model.parameters(), rho=rho, lr=0.01, momentum=0.9, switch_steps=switch_steps)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, X.shape[0], (batch,), generator=gen)
        opt.step(_closure(opt, model, X[idx], y[idx]))
    return opt.monitor


def test_monitor_on_minibatches_flags_the_large_rho_stall_only(digits):
    """On minibatches SAM-only at rho = 3 stalls at loss ~ ln 10 and the monitor raises
    `suspected`; with 15 % plain steps first (switching) and at rho = 0.5 it stays quiet. The
    stall is a plateau, not the full-batch signature: the smoothed GradRatio stays far above
    ratio_tol (the collapse regime, GradRatio >> 1), so the ratio rule alone — the monitor of
    full-batch runs — would not have fired (the control)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for seed in (0, 1):
            stalled = _minibatch_run(digits, 3.0, seed)
            assert stalled.suspected and stalled.suspected_kind == "plateau"
            assert stalled.last["smoothed_loss"] > 2.0
            assert min(h["smoothed_grad_ratio"] for h in stalled.history[stalled.suspected_at:]) \
                > 10 * stalled.ratio_tol
            switching = _minibatch_run(digits, 3.0, seed, switch_steps=150)
            assert not switching.suspected and switching.last["smoothed_loss"] < 1.0
            small = _minibatch_run(digits, 0.5, seed)
            assert not small.suspected and small.last["smoothed_loss"] < 0.2
    finally:
        torch.set_num_threads(threads)


def test_full_batch_probe(digits):
    """The probe measures the full-batch f(theta), f(theta+) and both gradient norms without moving
    theta or the BatchNorm statistics (checked against a direct computation); on a full-batch
    SAM-only run at rho = 3 the probes show the paper's signature (GradRatio -> 0 at loss ~ ln 10)
    and raise `suspected`; at rho = 0.5 they do not (the control)."""
    X, y, _, _ = digits.tensors(dtype=torch.float64)
    model = nn.Sequential(nn.Linear(64, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 10)).double()
    opt = SAM(model.parameters(), rho=0.5, lr=0.01)
    full = _closure(opt, model, X, y)
    theta, stats = flatten_params(model), _stats(model)
    got = opt.probe(full)
    assert torch.equal(flatten_params(model), theta)
    assert all(torch.equal(v, stats[k]) for k, v in _stats(model).items())
    ref = copy.deepcopy(model)
    loss = F.cross_entropy(ref(X), y)
    g = torch.autograd.grad(loss, list(ref.parameters()))
    gn = torch.sqrt(sum((t ** 2).sum() for t in g))
    with torch.no_grad():
        for p, t in zip(ref.parameters(), g):
            p.add_(0.5 * t / (gn + opt.eps))
    loss_plus = F.cross_entropy(ref(X), y)
    w = torch.autograd.grad(loss_plus, list(ref.parameters()))
    tol = 1e3 * EPS64
    assert got["loss"] == pytest.approx(loss.item(), rel=tol)
    assert got["loss_plus"] == pytest.approx(loss_plus.item(), rel=tol)
    assert got["gnorm"] == pytest.approx(float(gn), rel=tol)
    assert got["wnorm"] == pytest.approx(float(torch.sqrt(sum((t ** 2).sum() for t in w))), rel=tol)

    def probed_run(rho):
        m = build_mlp(64, 16, 1, 10, "tanh", seed=0).double()
        mon = HallucinationMonitor(ratio_tol=0.05, patience=10 ** 6)     # only the probes decide
        full_batch = _closure(m, m, X, y)            # m.zero_grad() zeroes what the optimizer holds
        o = SAM(m.parameters(), rho=rho, lr=0.01, momentum=0.9, monitor=mon,
                probe_closure=full_batch, probe_every=100)
        for _ in range(500):
            o.step(full_batch)
        return mon
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        stalled = probed_run(3.0)
        assert stalled.suspected and stalled.suspected_kind == "hallucination (probe)"
        assert [p["step"] for p in stalled.probes] == [100, 200, 300, 400, 500]
        assert stalled.probes[-1]["loss"] > 2.0 and stalled.probes[-1]["grad_ratio"] <= 0.05
        quiet = probed_run(0.5)
        assert not quiet.suspected and quiet.probes[-1]["loss"] < 1.0
    finally:
        torch.set_num_threads(threads)


def test_non_finite_second_pass_without_scaler_raises_with_theta_restored():
    """Without a scaler an inf in the second pass is a NonFiniteError, raised after theta is
    restored (the weights are not left at theta+, the base optimizer has not stepped)."""
    X, y = _data32()
    model = _mlp32()
    opt = SAM(model.parameters(), rho=0.5, lr=0.1)
    theta = flatten_params(model)
    factor = _InfAt([2])

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(model(X), y) * factor()
        loss.backward()
        return loss
    with pytest.raises(NonFiniteError):
        opt.step(closure)
    assert torch.equal(flatten_params(model), theta) and opt.steps_taken == 0
