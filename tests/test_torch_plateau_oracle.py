"""PyTorch oracle: ReduceOnPlateau follows torch.optim.lr_scheduler.ReduceLROnPlateau update by update."""

from __future__ import annotations

from typing import Any

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np
import pytest

from mlx_lrsched.feedback import ReduceOnPlateau

torch = pytest.importorskip("torch", reason="the PyTorch oracle needs torch (pip install 'mlx-lrsched[torch]')")

NUM_CASES = 120
NUM_UPDATES = 40


def random_case(seed: int) -> tuple[dict[str, Any], float, list[float]]:
    """A config covering every mode, threshold mode, cooldown, min_lr and eps, and a metric sequence.

    Metrics are a random walk with plateaus (repeated values), ties near the threshold, occasional NaN,
    rounded to float32 as the losses they stand for (and as ReduceOnPlateau stores ``best``).
    """
    rng = np.random.default_rng(seed)
    lr = float(10 ** rng.uniform(-3, 0))
    mode = ("min", "max")[seed % 2]
    threshold_mode = ("rel", "abs")[(seed // 2) % 2]
    config = {
        "factor": float(rng.choice([0.1, 0.5, rng.uniform(0.05, 0.95)])),
        "patience": int(rng.integers(0, 5)),
        "mode": mode,
        "threshold": float(rng.choice([0.0, 1e-4, rng.uniform(0, 0.05)])),
        "threshold_mode": threshold_mode,
        "cooldown": int(rng.integers(0, 4)),
        "min_lr": float(rng.choice([0.0, lr * rng.uniform(0.001, 0.5), lr * 2])),
        "eps": float(rng.choice([1e-8, lr * 0.05])),
    }
    drift = -1 if mode == "min" else 1
    steps = rng.normal(drift * 0.02, 0.05, NUM_UPDATES)
    steps[rng.random(NUM_UPDATES) < 0.3] = 0.0  # plateaus: exactly the same value again
    metrics = 1.0 + np.cumsum(steps)
    metrics[rng.random(NUM_UPDATES) < 0.03] = np.nan
    return config, lr, [float(np.float32(m)) for m in metrics]


def torch_run(config: dict[str, Any], lr: float, metrics: list[float]) -> tuple[list[float], list[tuple]]:
    """PyTorch's rate and (best, num_bad_epochs, cooldown_counter) after every update."""
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **config)
    rates, counters = [], []
    for metric in metrics:
        scheduler.step(metric)
        rates.append(optimizer.param_groups[0]["lr"])
        counters.append((scheduler.best, scheduler.num_bad_epochs, scheduler.cooldown_counter))
    return rates, counters


def torch_rates(config: dict[str, Any], lr: float, metrics: list[float]) -> list[float]:
    return torch_run(config, lr, metrics)[0]


def ours_run(config: dict[str, Any], lr: float, metrics: list[float]) -> tuple[list[float], list[bool]]:
    """Our NumPy-path rate and the flag ``update`` returned, after every update."""
    plateau = ReduceOnPlateau(lr, **config)
    flags = [plateau.update(metric) for metric in metrics[:1]]
    rates = [float(plateau(np.int64(0)))]
    for metric in metrics[1:]:
        flags.append(plateau.update(metric))
        rates.append(float(plateau(np.int64(0))))
    return rates, flags


def test_cases_cover_every_branch_and_ours_reduces_exactly_when_torch_does() -> None:
    """The cases reach every branch (in PyTorch's run), and our ``update`` reports a reduction exactly when
    PyTorch's rate changes, including the attempts that eps or min_lr turn into no change."""
    cases = [random_case(seed) for seed in range(NUM_CASES)]
    configs = [config for config, _, _ in cases]
    assert {(c["mode"], c["threshold_mode"]) for c in configs} == {
        ("min", "rel"),
        ("min", "abs"),
        ("max", "rel"),
        ("max", "abs"),
    }
    reductions, skipped, floored = [], 0, 0
    for config, lr, metrics in cases:
        rates, counters = torch_run(config, lr, metrics)
        changed = [b != a for a, b in zip([lr, *rates], rates, strict=False)]
        ours, flags = ours_run(config, lr, metrics)
        assert flags == changed, config
        np.testing.assert_allclose(ours, rates, rtol=1e-12, err_msg=str(config))
        reductions.append(sum(changed))
        # an attempt PyTorch made but did not apply: patience ran out, the rate stayed
        previous = [(None, 0, 0), *counters]
        for before, after, change in zip(previous, counters, changed, strict=False):
            (best_before, bad_before, cool_before), (best, bad, _) = before, after
            attempt = best == best_before and bad_before == config["patience"] and cool_before == 0 and bad == 0
            skipped += attempt and not change
        floored += config["min_lr"] > 0 and rates[-1] == config["min_lr"] and any(changed)
    assert sum(r > 0 for r in reductions) > NUM_CASES // 2 and max(reductions) >= 3
    assert any(c["cooldown"] > 0 for c, r in zip(configs, reductions, strict=True) if r > 1)
    assert skipped > 0 and floored > 0
    assert any(np.isnan(case[2]).any() for case in cases)


@pytest.mark.parametrize("seed", range(NUM_CASES))
def test_rate_after_every_update_matches_torch(seed: int) -> None:
    config, lr, metrics = random_case(seed)
    expected, expected_counters = torch_run(config, lr, metrics)
    plateau = ReduceOnPlateau(lr, **config)
    optimizer = plateau.attach(optim.SGD(learning_rate=plateau))
    parameters = {"w": mx.zeros(1)}
    reference, applied, counters = [], [], []
    for metric in metrics:
        plateau.update(metric)
        counters.append((plateau.best, plateau.num_bad_epochs, plateau.cooldown_counter))
        reference.append(float(plateau(np.int64(0))))  # NumPy float64 path
        parameters = optimizer.apply_gradients({"w": mx.zeros(1)}, parameters)
        applied.append(optimizer.learning_rate.item())  # the float32 rate the MLX optimizer used
    np.testing.assert_allclose(reference, expected, rtol=1e-12, err_msg=str(config))
    np.testing.assert_allclose(applied, expected, rtol=1e-6, err_msg=str(config))
    assert counters == expected_counters  # the state too, not only the rate it implies
