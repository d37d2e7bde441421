"""Every optional argument's default is the peer library's own default, read from the peer itself.

The torch oracles pass every argument explicitly, so a changed default (``patience`` 10 -> 5) passes them.
Here each peer is constructed with no optional argument and its defaults are read with
``inspect.signature`` and from the constructed object; ours is constructed the same way. Then both are run
with their defaults and compared value by value, so a default that changes behaviour fails twice.
Keras and optax are not installed here; their documented defaults are written out where ours follow them.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import mlx.core as mx
import mlx.optimizers as mlx_optim
import numpy as np
import pytest

from mlx_lrsched import (
    CosineDecay,
    CosineRestarts,
    CyclicLR,
    ExponentialDecay,
    InverseTimeDecay,
    MultiStepDecay,
    OneCycle,
    OneCycleMomentum,
    PolynomialDecay,
    ReduceOnPlateau,
    StepDecay,
)

torch = pytest.importorskip("torch", reason="the PyTorch peer needs torch (pip install 'mlx-lrsched[torch]')")
sched = torch.optim.lr_scheduler

LR = 0.1


def peer_default(cls: Any, name: str) -> Any:
    default = inspect.signature(cls).parameters[name].default
    assert default is not inspect.Parameter.empty, f"{cls.__name__}.{name} has no default"
    return default


def ours_default(cls: type, name: str) -> Any:
    default = inspect.signature(cls).parameters[name].default
    assert default is not inspect.Parameter.empty, f"{cls.__name__}.{name} has no default"
    return default


def torch_optimizer(momentum: float = 0.0) -> Any:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR, momentum=momentum)


def torch_lrs(scheduler: Any, optimizer: Any, steps: int) -> list[float]:
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


# ------------------------------------------------------------------------------------------ ReduceOnPlateau

PLATEAU_FIELDS = {  # ours -> torch's attribute
    "factor": "factor",
    "patience": "patience",
    "mode": "mode",
    "threshold": "threshold",
    "threshold_mode": "threshold_mode",
    "cooldown": "cooldown",
    "eps": "eps",
}


@pytest.mark.parametrize("field", [*PLATEAU_FIELDS, "min_lr"])
def test_plateau_defaults_are_torch_defaults(field: str) -> None:
    torch_name = PLATEAU_FIELDS.get(field, "min_lr")
    expected = peer_default(sched.ReduceLROnPlateau, torch_name)
    ours = ReduceOnPlateau(LR)
    assert ours_default(ReduceOnPlateau, field) == expected
    assert getattr(ours, field) == expected
    peer = sched.ReduceLROnPlateau(torch_optimizer())
    constructed = peer.min_lrs[0] if field == "min_lr" else getattr(peer, torch_name)
    assert getattr(ours, field) == constructed


def test_plateau_with_defaults_reduces_when_torch_does() -> None:
    """Defaults in behaviour: a long plateau, then tiny improvements around the default threshold."""
    peer_optimizer = torch_optimizer()
    peer = sched.ReduceLROnPlateau(peer_optimizer)
    ours = ReduceOnPlateau(LR)
    # 1.0, then 30 repeats (patience), then improvements by 5e-4 and 5e-5 relative (the threshold decides).
    metrics = [1.0] * 30 + [float(np.float32(1.0 - 5e-4 * k)) for k in range(1, 6)] + [0.9975] * 12
    metrics += [float(np.float32(0.9975 * (1 - 5e-5 * k))) for k in range(1, 14)]
    expected, got = [], []
    for metric in metrics:
        peer.step(metric)
        ours.update(metric)
        expected.append(peer_optimizer.param_groups[0]["lr"])
        got.append(float(ours(np.int64(0))))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert len(set(expected)) >= 3  # the sequence does exercise the defaults


# ------------------------------------------------------------------------------------------ OneCycle

ONE_CYCLE_FIELDS = {
    "pct_start": "pct_start",
    "anneal": "anneal_strategy",
    "div_factor": "div_factor",
    "final_div_factor": "final_div_factor",
    "three_phase": "three_phase",
}


@pytest.mark.parametrize("field", ONE_CYCLE_FIELDS)
def test_one_cycle_defaults_are_torch_defaults(field: str) -> None:
    assert ours_default(OneCycle, field) == peer_default(sched.OneCycleLR, ONE_CYCLE_FIELDS[field])


@pytest.mark.parametrize("field", ["base_momentum", "max_momentum"])
def test_one_cycle_momentum_defaults_are_torch_defaults(field: str) -> None:
    expected = peer_default(sched.OneCycleLR, field)
    assert ours_default(OneCycleMomentum, field) == expected
    assert getattr(OneCycleMomentum(OneCycle(1.0, 100)), field) == expected
    assert getattr(OneCycle(1.0, 100).momentum(), field) == expected


def test_one_cycle_with_defaults_follows_torch_rate_and_momentum() -> None:
    assert peer_default(sched.OneCycleLR, "cycle_momentum") is True
    total = 200
    optimizer = torch_optimizer(momentum=0.9)
    peer = sched.OneCycleLR(optimizer, max_lr=1.0, total_steps=total)
    rates, momenta = [], []
    for _ in range(total):
        rates.append(optimizer.param_groups[0]["lr"])
        momenta.append(optimizer.param_groups[0]["momentum"])
        optimizer.step()
        peer.step()
    lr = OneCycle(1.0, total)
    steps = np.arange(total)
    np.testing.assert_allclose(lr(steps), rates, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(OneCycleMomentum(lr)(steps), momenta, rtol=1e-9)
    np.testing.assert_allclose(lr.momentum()(steps), momenta, rtol=1e-9)


# ------------------------------------------------------------------------------------------ CyclicLR


@pytest.mark.parametrize(
    ("field", "torch_name"), [("step_size_down", "step_size_down"), ("mode", "mode"), ("gamma", "gamma")]
)
def test_cyclic_defaults_are_torch_defaults(field: str, torch_name: str) -> None:
    assert ours_default(CyclicLR, field) == peer_default(sched.CyclicLR, torch_name)


def test_cyclic_with_defaults_follows_torch() -> None:
    optimizer = torch_optimizer()
    peer = sched.CyclicLR(optimizer, base_lr=0.01, max_lr=0.1, step_size_up=7, cycle_momentum=False)
    expected = torch_lrs(peer, optimizer, 60)
    np.testing.assert_allclose(CyclicLR(0.01, 0.1, 7)(np.arange(60)), expected, rtol=1e-12)


# ------------------------------------------------------------------------------------------ decays


@pytest.mark.parametrize(
    ("ours", "field", "peer", "peer_field"),
    [
        (StepDecay, "gamma", sched.StepLR, "gamma"),
        (MultiStepDecay, "gamma", sched.MultiStepLR, "gamma"),
        (PolynomialDecay, "power", sched.PolynomialLR, "power"),
        (CosineRestarts, "t_mult", sched.CosineAnnealingWarmRestarts, "T_mult"),
        (CosineRestarts, "end_lr", sched.CosineAnnealingWarmRestarts, "eta_min"),
        (CosineDecay, "end_lr", sched.CosineAnnealingLR, "eta_min"),
        (CosineDecay, "end_lr", mlx_optim.cosine_decay, "end"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_decay_defaults_are_peer_defaults(ours: type, field: str, peer: Any, peer_field: str) -> None:
    assert ours_default(ours, field) == peer_default(peer, peer_field)


def test_step_decay_with_defaults_follows_torch() -> None:
    optimizer = torch_optimizer()
    expected = torch_lrs(sched.StepLR(optimizer, step_size=3), optimizer, 20)
    np.testing.assert_allclose(StepDecay(LR, 3)(np.arange(20)), expected, rtol=1e-12)


def test_multi_step_decay_with_defaults_follows_torch() -> None:
    optimizer = torch_optimizer()
    expected = torch_lrs(sched.MultiStepLR(optimizer, milestones=[3, 8]), optimizer, 12)
    np.testing.assert_allclose(MultiStepDecay(LR, (3, 8))(np.arange(12)), expected, rtol=1e-12)


def test_polynomial_decay_with_defaults_follows_torch() -> None:
    optimizer = torch_optimizer()
    peer = sched.PolynomialLR(optimizer)  # total_iters and power at their defaults too
    total = peer_default(sched.PolynomialLR, "total_iters")
    expected = torch_lrs(peer, optimizer, total + 3)
    np.testing.assert_allclose(PolynomialDecay(LR, 0.0, total)(np.arange(total + 3)), expected, rtol=1e-12)


def test_cosine_restarts_with_defaults_follows_torch() -> None:
    optimizer = torch_optimizer()
    expected = torch_lrs(sched.CosineAnnealingWarmRestarts(optimizer, T_0=5), optimizer, 23)
    np.testing.assert_allclose(CosineRestarts(LR, 5)(np.arange(23)), expected, rtol=1e-12, atol=1e-17)
    assert ours_default(CosineRestarts, "m_mul") == 1.0  # no decay between cycles, as in PyTorch


def test_mlx_cosine_decay_with_defaults_matches() -> None:
    steps = np.arange(0, 40)
    expected = [mlx_optim.cosine_decay(LR, 30)(mx.array(int(t))).item() for t in steps]
    np.testing.assert_allclose(CosineDecay(LR, 30)(steps), expected, rtol=1e-6, atol=1e-7 * LR)  # MLX float32


# Keras is not installed: its documented defaults (keras.optimizers.schedules, Keras 3).
KERAS_DEFAULTS = [
    (PolynomialDecay, "power", 1.0),  # PolynomialDecay(power=1.0)
    (PolynomialDecay, "cycle", False),  # PolynomialDecay(cycle=False)
    (ExponentialDecay, "staircase", False),  # ExponentialDecay(staircase=False)
    (InverseTimeDecay, "staircase", False),  # InverseTimeDecay(staircase=False)
    (ExponentialDecay, "transition_begin", 0),  # optax.exponential_decay(transition_begin=0)
    (ExponentialDecay, "end_lr", None),  # optax.exponential_decay(end_value=None)
    (ExponentialDecay, "decay_steps", 1),  # PyTorch ExponentialLR: one decay per step
]


@pytest.mark.parametrize(("ours", "field", "expected"), KERAS_DEFAULTS, ids=lambda v: getattr(v, "__name__", v))
def test_keras_and_optax_defaults(ours: type, field: str, expected: Any) -> None:
    assert ours_default(ours, field) == expected


def test_polynomial_default_power_is_linear() -> None:
    steps = np.arange(0, 12)
    np.testing.assert_allclose(PolynomialDecay(1.0, 0.0, 10)(steps), np.maximum(1.0 - steps / 10, 0.0), rtol=1e-12)


def test_exponential_decay_with_defaults_is_torch_exponential_lr() -> None:
    optimizer = torch_optimizer()
    expected = torch_lrs(sched.ExponentialLR(optimizer, gamma=0.9), optimizer, 30)
    np.testing.assert_allclose(ExponentialDecay(LR, 0.9)(np.arange(30)), expected, rtol=1e-12)
    assert math.isclose(float(InverseTimeDecay(1.0, 0.5)(np.int64(3))), 1.0 / (1.0 + 0.5 * 3), rel_tol=1e-12)
