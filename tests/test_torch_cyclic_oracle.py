"""PyTorch oracle: CyclicLR, CosineAnnealingWarmRestarts and OneCycleLR (with momentum), stepped for real.

Each test draws random configurations from a seeded RNG, steps the torch scheduler on a dummy parameter over
the whole run (value at step ``t`` = ``get_last_lr()`` after ``t`` calls to ``scheduler.step()``), and
compares every step with ours: float64 reference within 1e-6 relative, MLX float32 within 1e-5 relative
(where the value is at least 1e-6 of the peak, the precision contract of DESIGN.md).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import mlx.core as mx
import numpy as np
import pytest
from conftest import rel_err

from mlx_lrsched.cyclic import CosineRestarts, CyclicLR
from mlx_lrsched.one_cycle import OneCycle

torch = pytest.importorskip("torch", reason="the PyTorch oracle needs torch (pip install torch==2.13.0)")

CONFIGS = 120
REFERENCE_TOL = 1e-6
FLOAT32_TOL = 1e-5


def torch_run(make_scheduler: Callable[[Any], Any], steps: int, lr: float = 0.1) -> dict[str, np.ndarray]:
    """``param_groups[0]``'s ``lr`` and ``momentum`` after 0, 1, ..., ``steps - 1`` calls to ``scheduler.step()``."""
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr, momentum=0.9)
    scheduler = make_scheduler(optimizer)
    group = optimizer.param_groups[0]
    values = [(group["lr"], group["momentum"])]
    for _ in range(steps - 1):
        optimizer.step()
        scheduler.step()
        values.append((group["lr"], group["momentum"]))
    lrs, momenta = np.asarray(values, dtype=np.float64).T
    return {"lr": lrs, "momentum": momenta}


def assert_matches(schedule: Any, expected: np.ndarray, config: Any) -> None:
    steps = np.arange(expected.size, dtype=np.int64)
    reference = schedule(steps)
    float32 = np.asarray(schedule(mx.array(steps.astype(np.uint64))), dtype=np.float64)
    assert rel_err(reference, expected) <= REFERENCE_TOL, config
    # float32 is relative where the value is at least 1e-6 of the peak (DESIGN.md; triangular2's amplitude
    # 2**-170 is not a float32), and within 1e-5 of the peak everywhere.
    assert rel_err(float32, expected, floor=1e-6 * schedule.peak) <= FLOAT32_TOL, config
    assert np.max(np.abs(float32 - expected)) <= FLOAT32_TOL * schedule.peak, config


def cyclic_configs(mode: str) -> Iterator[dict[str, Any]]:
    rng = np.random.default_rng(["triangular", "triangular2", "exp_range"].index(mode))
    for i in range(CONFIGS):
        base_lr = 0.0 if i % 5 == 0 else float(rng.uniform(1e-4, 0.1))
        yield {
            "base_lr": base_lr,
            "max_lr": base_lr + float(rng.uniform(0.01, 1.0)),
            "step_size_up": int(rng.integers(1, 40)),
            "step_size_down": [None, 0, int(rng.integers(1, 40))][i % 3],
            "mode": mode,
            "gamma": float(rng.uniform(0.97, 1.0)),
        }


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclic_lr_matches_torch_every_step(mode: str) -> None:
    rng = np.random.default_rng(4001)
    for config in cyclic_configs(mode):
        steps = int(rng.integers(20, 400))
        expected = torch_run(lambda opt, kw=config: torch.optim.lr_scheduler.CyclicLR(opt, **kw), steps)
        assert_matches(CyclicLR(**config), expected["lr"], config)


def test_cosine_restarts_matches_torch_every_step() -> None:
    rng = np.random.default_rng(4002)
    for _ in range(CONFIGS):
        init_lr = float(rng.uniform(0.01, 1.0))
        first, t_mult = int(rng.integers(1, 30)), int(rng.integers(1, 4))
        end_lr = float(rng.choice([0.0, rng.uniform(0.0, 0.01)]))
        steps = int(rng.integers(20, 400))

        def make(opt: Any, first: int = first, t_mult: int = t_mult, end_lr: float = end_lr) -> Any:
            return torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, first, t_mult, end_lr)

        expected = torch_run(make, steps, lr=init_lr)["lr"]  # torch's eta_max is the optimizer's lr
        assert_matches(CosineRestarts(init_lr, first, t_mult, end_lr=end_lr), expected, (init_lr, first, t_mult))


def one_cycle_configs(seed: int, anneal: str, three_phase: bool) -> Iterator[dict[str, Any]]:
    """Random torch-valid configurations (PyTorch divides by zero when a phase has length 0)."""
    rng = np.random.default_rng(seed)
    made = 0
    while made < CONFIGS:
        total_steps = int(rng.integers(1, 6)) if made % 10 == 0 else int(rng.integers(20, 400))
        config = {
            "max_lr": float(rng.uniform(0.01, 1.0)),
            "total_steps": total_steps,
            "pct_start": float(rng.uniform(0.0, 0.5 if three_phase else 1.0)),
            "anneal_strategy": anneal,
            "div_factor": float(rng.uniform(1.0, 50.0)),
            "final_div_factor": float(10 ** rng.uniform(0.0, 4.0)),
            "three_phase": three_phase,
            "base_momentum": float(rng.uniform(0.8, 0.9)),
            "max_momentum": float(rng.uniform(0.9, 0.99)),
        }
        ends = [config["pct_start"] * total_steps - 1, 2 * config["pct_start"] * total_steps - 2]
        if any(end == 0.0 for end in ends) or config["pct_start"] == 1.0:
            continue  # torch: ZeroDivisionError
        made += 1
        yield config


def ours_one_cycle(config: dict[str, Any]) -> OneCycle:
    return OneCycle(
        config["max_lr"],
        config["total_steps"],
        config["pct_start"],
        config["anneal_strategy"],
        config["div_factor"],
        config["final_div_factor"],
        config["three_phase"],
    )


def torch_one_cycle(config: dict[str, Any]) -> Callable[[Any], Any]:
    return lambda opt: torch.optim.lr_scheduler.OneCycleLR(opt, cycle_momentum=True, **config)


@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_one_cycle_and_its_momentum_match_torch_every_step(anneal: str, three_phase: bool) -> None:
    for config in one_cycle_configs(4003 + 2 * three_phase + (anneal == "linear"), anneal, three_phase):
        expected = torch_run(torch_one_cycle(config), config["total_steps"])
        schedule = ours_one_cycle(config)
        assert_matches(schedule, expected["lr"], config)
        assert_matches(schedule.momentum(config["base_momentum"], config["max_momentum"]), expected["momentum"], config)


@pytest.mark.slow
def test_one_cycle_matches_torch_on_long_runs() -> None:
    for config in itertools.islice(one_cycle_configs(4005, "cos", False), 10):
        config["total_steps"] += 20_000
        expected = torch_run(torch_one_cycle(config), config["total_steps"])
        assert_matches(ours_one_cycle(config), expected["lr"], config)


@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_one_cycle_holds_its_final_value_where_torch_extrapolates(anneal: str) -> None:
    config = {"max_lr": 1.0, "total_steps": 10, "pct_start": 0.3, "anneal_strategy": anneal}
    torch_values = torch_run(lambda opt: torch.optim.lr_scheduler.OneCycleLR(opt, **config), 11)["lr"]
    ours = ours_one_cycle({**config, "div_factor": 25.0, "final_div_factor": 1e4, "three_phase": False})
    final = 1.0 / 25.0 / 1e4
    assert math.isclose(torch_values[9], final, rel_tol=1e-9)
    assert not math.isclose(torch_values[10], final, rel_tol=1e-3)  # torch's step N: the last phase extrapolated
    assert ours(np.array([9, 10, 10**9])).tolist() == pytest.approx([final] * 3, rel=1e-12)


def test_one_cycle_zero_length_warmup_is_max_lr_where_torch_divides_by_zero() -> None:
    with pytest.raises(ZeroDivisionError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch_run(lambda opt: torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.1), 2)
    assert float(OneCycle(1.0, 10, pct_start=0.1)(np.int64(0))) == 1.0
