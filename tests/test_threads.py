"""The thread policy (verify/nn/threads.py): the fastest measured count is chosen, an explicit count
wins, the setting is restored, and training and the check run under it."""
import pytest
import torch

from verify.nn import threads as tp


class FakeClock:
    """Advances by a cost that depends on torch's thread count when the workload runs."""

    def __init__(self, cost):
        self.t, self.cost = 0.0, cost

    def __call__(self):
        return self.t

    def work(self):
        self.t += self.cost[torch.get_num_threads()]


@pytest.mark.parametrize("cost, best", [({1: 1.0, 2: 3.0}, 1), ({1: 3.0, 2: 1.0}, 2)])
def test_choose_threads_takes_the_faster_count(cost, best):
    # both orders: a chooser that always said 1 (or 2) fails one of them
    clock = FakeClock(cost)
    n, med = tp.choose_threads(clock.work, (1, 2), repeats=3, clock=clock)
    assert n == best and med == {1: cost[1], 2: cost[2]}


def test_torch_threads_restores_and_explicit_count_wins(monkeypatch):
    before = torch.get_num_threads()
    with tp.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    monkeypatch.setenv(tp.ENV, "1")
    called = []
    assert tp.threads_for(("never measured",), lambda: called.append(1)) == 1 and not called
    assert tp.threads_for(("never measured",), lambda: called.append(1), threads=2) == 2
    monkeypatch.delenv(tp.ENV)
    with tp.torch_threads(2):
        n = tp.threads_for(("measured once",), lambda: called.append(1), repeats=1)
        assert n in (1, 2) and called
        k = len(called)
        assert tp.threads_for(("measured once",), lambda: called.append(1)) == n and len(called) == k
    assert "('measured once',)" in str(tp.policy_report())
    with tp.torch_threads(1):          # the current count is the ceiling: nothing to measure
        assert tp.threads_for(("at one thread",), lambda: called.append(1)) == 1
    assert len(called) == k


def test_training_and_check_run_under_the_policy(monkeypatch):
    from verify.ctx.torch import TorchContext
    from verify.nn import point_check as mc
    from verify.nn.data import load_digits
    from verify.nn.train import TrainConfig, train
    from verify.objectives.torch_model import mlp_objective
    seen = []
    real = tp.torch_threads

    def spy(n):
        seen.append(n)
        return real(n)
    monkeypatch.setenv(tp.ENV, "1")
    monkeypatch.setattr(tp, "torch_threads", spy)
    monkeypatch.setattr("verify.nn.train.torch_threads", spy)
    monkeypatch.setattr(mc, "torch_threads", spy)
    data = load_digits().subset(40)
    train(data, TrainConfig(rho=1.0, steps=2, seeds=(0,), width=3, device="cpu"), progress=False)
    obj, th = mlp_objective(data, 3, 1, "tanh", seed=0)
    pc = mc.check_point(obj, th, 1.0, ctx=TorchContext("cpu", "float64"), with_map=False,
                        sigma_budget=50)
    assert seen == [1, 1] and pc.extra["torch_threads"] == 1
