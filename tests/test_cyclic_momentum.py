"""The momentum twins (CyclicLR's, OneCycle's) against PyTorch stepped for real, and ``apply_schedule``.

PyTorch 2.13 ``CyclicLR.get_lr`` sets ``momentum = max_momentum - (max_momentum - base_momentum) * x * scale``
on every step (``torch/optim/lr_scheduler.py``, the ``cycle_momentum`` branch); the test steps it on an SGD
optimizer with momentum and reads ``param_groups[0]["momentum"]`` after each ``scheduler.step()``.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import rel_err
from test_torch_cyclic_oracle import torch_run

from mlx_lrsched import CyclicLR, CyclicMomentum, OneCycle, ReduceOnPlateau, apply_schedule, from_config

mx = pytest.importorskip("mlx.core")
optim = pytest.importorskip("mlx.optimizers")
torch = pytest.importorskip("torch", reason="the PyTorch oracle needs torch (pip install torch==2.13.0)")


def both(schedule, steps):
    return schedule(steps), np.array(schedule(mx.array(steps.astype(np.uint64))), np.float64)


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
@pytest.mark.parametrize("seed", range(8))
def test_cyclic_momentum_is_pytorch_s(mode, seed):
    rng = np.random.default_rng(seed)
    up, down = int(rng.integers(1, 40)), int(rng.integers(0, 40))
    base_m, max_m = sorted(rng.uniform(0.0, 1.0, 2))
    if seed == 0:
        base_m = 0.0  # momentum 0 at the peaks: still exact relative to its own value
    gamma = float(rng.uniform(0.95, 1.0))
    momenta = {"cycle_momentum": True, "base_momentum": base_m, "max_momentum": max_m}
    schedule = CyclicLR(0.01, 0.1, up, down, mode=mode, gamma=gamma, **momenta)
    run = torch_run(
        lambda opt: torch.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, up, down or None, mode, gamma, **momenta),
        steps=3 * (up + (down or up)) + 5,
    )
    if down == 0:
        return  # PyTorch reads step_size_down=0 as None (equal to up); ours is a sawtooth, tested elsewhere
    momentum = schedule.momentum_schedule
    assert isinstance(momentum, CyclicMomentum)
    steps = np.arange(run["momentum"].size)
    reference, product = both(momentum, steps)
    assert rel_err(reference, run["momentum"], floor=1e-9 * max_m) <= 1e-12  # PyTorch: 1e-17 where it is 0
    assert np.max(np.abs(reference - run["momentum"])) <= 1e-14
    assert rel_err(product, run["momentum"], floor=1e-6 * max_m) <= 5e-7


def test_momentum_schedule_is_none_unless_asked():
    assert CyclicLR(0.01, 0.1, 5).momentum_schedule is None
    assert OneCycle(0.1, 100, cycle_momentum=False).momentum_schedule is None
    one_cycle = OneCycle(0.1, 100, base_momentum=0.8, max_momentum=0.9)
    assert one_cycle.momentum_schedule == one_cycle.momentum(0.8, 0.9)
    assert from_config(one_cycle.to_config()).momentum_schedule == one_cycle.momentum_schedule


@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_pct_final_moves_the_end_of_the_mirror_phase(anneal):
    # PyTorch's three phases end at pct_start * N - 1, 2 * pct_start * N - 2 and N - 1 (OneCycleLR.__init__); with
    # pct_final the second ends at pct_final * N - 2. pct_final = 2 * pct_start is PyTorch's own schedule.
    n = 200
    same = OneCycle(1.0, n, pct_start=0.25, anneal=anneal, three_phase=True, pct_final=0.5)
    steps = np.arange(n + 3)
    np.testing.assert_array_equal(same(steps), OneCycle(1.0, n, 0.25, anneal=anneal, three_phase=True)(steps))
    moved = OneCycle(1.0, n, pct_start=0.25, anneal=anneal, three_phase=True, pct_final=0.85, div_factor=10)
    values = moved(steps)
    assert values[49] == 1.0 and values[168] == pytest.approx(0.1, rel=1e-12)  # 0.85 * 200 - 2 = 168
    assert moved.phase_boundaries == (49, 168, 199)
    np.testing.assert_allclose(values[49:169], 1.0 - 0.9 * _anneal(np.arange(120) / 119, anneal), rtol=1e-12)


def _anneal(fraction, anneal):
    return fraction if anneal == "linear" else 0.5 * (1 - np.cos(np.pi * fraction))


def test_apply_schedule_sets_the_rate_the_momentum_and_the_state():
    cyclic = CyclicLR(0.01, 0.1, step_size_up=4, cycle_momentum=True)
    optimizer = apply_schedule(optim.SGD(learning_rate=0.0, momentum=0.5), cyclic)
    params = {"w": mx.array([1.0])}
    seen = []
    for _ in range(5):
        params = optimizer.apply_gradients({"w": mx.array([1.0])}, params)
        seen.append((optimizer.learning_rate.item(), optimizer.state["momentum"].item()))
    lrs, momenta = np.array(seen).T
    steps = np.arange(5)
    np.testing.assert_allclose(lrs, cyclic(steps), rtol=1e-6)
    np.testing.assert_allclose(momenta, cyclic.momentum()(steps), rtol=1e-6)

    plateau = ReduceOnPlateau(0.1, patience=0)
    optimizer = apply_schedule(optim.Adam(learning_rate=0.0), plateau)
    assert "reduce_on_plateau" in optimizer.state  # attached: its state is the optimizer's


def test_apply_schedule_refuses_a_momentum_the_optimizer_lacks_before_changing_it():
    optimizer = optim.RMSprop(learning_rate=0.5)
    with pytest.raises(TypeError, match="apply_schedule: RMSprop has neither `momentum` nor `betas`"):
        apply_schedule(optimizer, OneCycle(0.1, 100))
    assert optimizer.learning_rate.item() == 0.5
