"""The decay family and ``Linear`` against PyTorch's ``torch.optim.lr_scheduler``, step by step.

Each test draws 100 seeded random configurations, steps the PyTorch scheduler on a dummy parameter over
the whole run (``optimizer.step()`` then ``scheduler.step()``, as in training) and compares the rate of
every update with ours: max relative error <= 1e-6 for the NumPy float64 reference and <= 1e-5 for MLX
float32. Step ``i`` is the rate used by update ``i``: PyTorch's ``param_groups[0]["lr"]`` after ``i``
scheduler steps.

Intentional differences, not compared:

* ``CosineAnnealingLR`` is compared up to ``T_max`` only. Past it PyTorch's recursive form keeps
  following the cosine back up (period ``2 * T_max``); ``CosineDecay`` holds ``eta_min``, as optax,
  Keras and ``mlx.optimizers.cosine_decay`` do. Restarts are ``CosineRestarts``.
* PyTorch computes most of these recursively (``lr *= factor``) and accumulates rounding; ours are
  closed forms. Where a rate reaches exactly 0 (the end of a linear or polynomial decay to 0), PyTorch's
  recursion leaves a residue of up to ~1e-16 of the initial rate instead (of either sign); errors are
  measured against a floor of 1e-9 of the initial rate so such a residue counts as absolute, not relative,
  error. The generated configurations keep every other rate above that floor.
* Past its end a finite PyTorch schedule holds its last value, as ours do, so runs extend past the end.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from mlx_lrsched.base import Schedule
from mlx_lrsched.decay import CosineDecay, ExponentialDecay, MultiStepDecay, PolynomialDecay, StepDecay
from mlx_lrsched.warmup import Linear

torch = pytest.importorskip(
    "torch", reason="the PyTorch oracle tests need torch: pip install torch==2.13.0 (the CPU wheel)"
)
mx = pytest.importorskip("mlx.core")

CONFIGS = 100
REFERENCE_RTOL = 1e-6
MLX_RTOL = 1e-5
FLOOR = 1e-9
"""Errors are relative to ``max(|torch rate|, FLOOR * initial rate)``; no generated nonzero rate is below it."""


def torch_rates(make_scheduler: Callable, base_lr: float, num_steps: int) -> np.ndarray:
    """The rate of each of ``num_steps`` updates under the PyTorch scheduler."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=base_lr)
    scheduler = make_scheduler(optimizer)
    rates = [optimizer.param_groups[0]["lr"]]
    for _ in range(num_steps - 1):
        optimizer.step()
        scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    return np.array(rates, dtype=np.float64)


def max_rel_err(actual: np.ndarray, expected: np.ndarray, scale: float) -> float:
    """Max of ``|actual - expected| / max(|expected|, FLOOR * scale)``."""
    denominator = np.maximum(np.abs(expected), FLOOR * scale)
    return float(np.max(np.abs(np.asarray(actual, dtype=np.float64) - expected) / denominator))


def check_against_torch(draw: Callable[[np.random.Generator], tuple[Schedule, Callable, float, int]], seed: int):
    """Compare ``CONFIGS`` random configurations; report the worst one if any is out of tolerance."""
    rng = np.random.default_rng(seed)
    worst_reference, worst_mlx = (0.0, None), (0.0, None)
    for _ in range(CONFIGS):
        ours, make_scheduler, base_lr, num_steps = draw(rng)
        expected = torch_rates(make_scheduler, base_lr, num_steps)
        steps = np.arange(num_steps, dtype=np.int64)
        reference_err = max_rel_err(ours(steps), expected, base_lr)
        mlx_err = max_rel_err(np.array(ours(mx.array(steps.astype(np.uint64)))), expected, base_lr)
        worst_reference = max(worst_reference, (reference_err, ours), key=lambda pair: pair[0])
        worst_mlx = max(worst_mlx, (mlx_err, ours), key=lambda pair: pair[0])
    assert worst_reference[0] <= REFERENCE_RTOL, (
        f"float64 reference off by {worst_reference[0]:.3g}: {worst_reference[1]}"
    )
    assert worst_mlx[0] <= MLX_RTOL, f"MLX float32 off by {worst_mlx[0]:.3g}: {worst_mlx[1]}"


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def factor_for(rng: np.random.Generator, drops: int) -> float:
    """A decay factor in (0, 1] whose ``drops``-th power stays above ``FLOOR`` (1.0 one time in ten)."""
    if rng.random() < 0.1:
        return 1.0
    return float(math.exp(rng.uniform(0.0, 1.0) * math.log(FLOOR) / max(drops, 1)))


def test_exponential_decay_is_torch_exponential_lr():
    def draw(rng):
        base_lr, num_steps = log_uniform(rng, 1e-5, 1.0), int(rng.integers(1, 400))
        gamma = factor_for(rng, num_steps - 1)
        ours = ExponentialDecay(base_lr, gamma)
        return ours, lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=gamma), base_lr, num_steps

    check_against_torch(draw, seed=1)


def test_step_decay_is_torch_step_lr():
    def draw(rng):
        base_lr, num_steps, step_size = log_uniform(rng, 1e-5, 1.0), int(rng.integers(1, 400)), int(rng.integers(1, 60))
        gamma = factor_for(rng, (num_steps - 1) // step_size)
        ours = StepDecay(base_lr, step_size, gamma)
        make = lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)  # noqa: E731
        return ours, make, base_lr, num_steps

    check_against_torch(draw, seed=2)


def test_multistep_decay_is_torch_multistep_lr():
    def draw(rng):
        base_lr, num_steps = log_uniform(rng, 1e-5, 1.0), int(rng.integers(1, 400))
        # milestones may include step 0 and steps past the end of the run
        count = int(rng.integers(1, 8))
        milestones = sorted(int(m) for m in rng.choice(num_steps + 20, size=min(count, num_steps + 20), replace=False))
        gamma = factor_for(rng, len(milestones))
        ours = MultiStepDecay(base_lr, milestones, gamma)
        make = lambda opt: torch.optim.lr_scheduler.MultiStepLR(opt, milestones=milestones, gamma=gamma)  # noqa: E731
        return ours, make, base_lr, num_steps

    check_against_torch(draw, seed=3)


def test_cosine_decay_is_torch_cosine_annealing_lr_up_to_t_max():
    def draw(rng):
        base_lr, t_max = log_uniform(rng, 1e-5, 1.0), int(rng.integers(1, 400))
        eta_min = 0.0 if rng.random() < 0.5 else base_lr * float(rng.uniform(0.0, 1.0))
        ours = CosineDecay(base_lr, t_max, eta_min)
        make = lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t_max, eta_min=eta_min)  # noqa: E731
        return ours, make, base_lr, t_max + 1  # steps 0 .. T_max: PyTorch turns back up after T_max

    check_against_torch(draw, seed=4)


def test_polynomial_decay_is_torch_polynomial_lr():
    def draw(rng):
        base_lr, total_iters = log_uniform(rng, 1e-5, 1.0), int(rng.integers(1, 300))
        power = 1.0 if rng.random() < 0.2 else float(rng.uniform(0.3, 4.0))
        ours = PolynomialDecay(base_lr, 0.0, total_iters, power)
        make = lambda opt: torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=total_iters, power=power)  # noqa: E731
        return ours, make, base_lr, total_iters + int(rng.integers(1, 50))

    check_against_torch(draw, seed=5)


def test_linear_is_torch_linear_lr():
    def draw(rng):
        base_lr, total_iters = log_uniform(rng, 1e-5, 1.0), int(rng.integers(1, 300))
        start_factor = float(rng.uniform(0.01, 1.0))
        end_factor = 0.0 if rng.random() < 0.2 else float(rng.uniform(0.0, 1.0))
        ours = Linear(base_lr * start_factor, base_lr * end_factor, total_iters)

        def make(opt):
            return torch.optim.lr_scheduler.LinearLR(
                opt, start_factor=start_factor, end_factor=end_factor, total_iters=total_iters
            )

        return ours, make, base_lr, total_iters + int(rng.integers(1, 50))

    check_against_torch(draw, seed=6)
