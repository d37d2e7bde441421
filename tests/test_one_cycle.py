"""OneCycle and its momentum twin against seed 002's linear 1-cycle and PyTorch's phase formula written out."""

from __future__ import annotations

import json
import math
from typing import Any

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np
import pytest
from conftest import log_steps, rel_err
from mlx.utils import tree_map

from mlx_lrsched.base import Schedule, from_config
from mlx_lrsched.one_cycle import OneCycle, OneCycleMomentum

# ---------------------------------------------------------------------------------------------- oracles


def seed_one_cycle(t: int, lr_min: float, lr_max: float, t_max: int) -> float:
    """Seed 002's 1-cycle formula, both cases as written."""
    if t <= t_max / 2:
        return lr_min + t / (t_max / 2) * (lr_max - lr_min)
    return lr_max - (t - t_max / 2) / (t_max / 2) * (lr_max - lr_min)


def torch_formula(step: int, schedule: OneCycle, momentum: tuple[float, float] | None = None) -> float:
    """PyTorch OneCycleLR.get_lr's phase loop, transcribed (one parameter group)."""
    n, pct = schedule.total_steps, schedule.pct_start
    values = {"initial": schedule.max_lr / schedule.div_factor, "max": schedule.max_lr}
    values["min"] = values["initial"] / schedule.final_div_factor
    if momentum is not None:
        values = {"base": momentum[0], "max_m": momentum[1]}
    lr_keys = (
        [("initial", "max"), ("max", "initial"), ("initial", "min")]
        if schedule.three_phase
        else [("initial", "max"), ("max", "min")]
    )
    m_keys = (
        [("max_m", "base"), ("base", "max_m"), ("max_m", "max_m")]
        if schedule.three_phase
        else [("max_m", "base"), ("base", "max_m")]
    )
    ends = [float(pct * n) - 1, float(2 * pct * n) - 2, n - 1] if schedule.three_phase else [float(pct * n) - 1, n - 1]
    keys = m_keys if momentum is not None else lr_keys
    start_step = 0.0
    for i, end_step in enumerate(ends):
        if step <= end_step or i == len(ends) - 1:
            fraction = (step - start_step) / (end_step - start_step)
            start, end = values[keys[i][0]], values[keys[i][1]]
            if schedule.anneal == "cos":
                return end + (start - end) / 2.0 * (math.cos(math.pi * fraction) + 1)
            return (end - start) * fraction + start
        start_step = end_step
    raise AssertionError("unreachable")


def reference(schedule: Schedule, steps: Any) -> np.ndarray:
    return np.asarray(schedule(np.asarray(steps, dtype=np.int64)))


def float32(schedule: Schedule, steps: Any) -> np.ndarray:
    return np.asarray(schedule(mx.array(np.asarray(steps, dtype=np.uint64))), dtype=np.float64)


def random_one_cycles(seed: int, count: int) -> list[OneCycle]:
    rng = np.random.default_rng(seed)
    schedules = []
    while len(schedules) < count:
        three_phase = len(schedules) % 2 == 1
        n = int(rng.integers(1, 300))
        pct = float(rng.uniform(0.0, 0.5 if three_phase else 0.999))
        if pct * n == 1.0 or 2 * pct * n == 2.0:
            continue  # PyTorch's formula divides by zero there
        anneal = ["cos", "linear"][len(schedules) // 2 % 2]
        div, final = float(rng.uniform(1, 50)), float(10 ** rng.uniform(0, 4))
        schedules.append(OneCycle(float(rng.uniform(0.01, 1)), n, pct, anneal, div, final, three_phase))
    return schedules


SCHEDULES = [
    OneCycle(0.1, total_steps=10**9),
    OneCycle(0.1, total_steps=10**9 + 7, pct_start=0.25, anneal="linear", three_phase=True),
    OneCycle.from_epochs(3e-3, epochs=90, steps_per_epoch=11_111_111, final_div_factor=1e3),
    OneCycle.linear(1e-3, 0.1, t_max=1_000_000_000),
]
IDS = ["cos", "linear-three-phase", "from-epochs", "seed-linear"]

# ------------------------------------------------------------------------------------------- formulas


@pytest.mark.parametrize("t_max", [1, 2, 3, 10, 101, 1000])
def test_seed_linear_one_cycle_is_one_call(t_max: int) -> None:
    schedule = OneCycle.linear(0.01, 0.1, t_max)
    steps = np.arange(t_max + 1)
    expected = [seed_one_cycle(int(t), 0.01, 0.1, t_max) for t in steps]
    np.testing.assert_allclose(reference(schedule, steps), expected, rtol=1e-12)
    assert reference(schedule, [t_max + 1, 10**9]).tolist() == pytest.approx([0.01, 0.01], rel=1e-12)


def test_one_cycle_is_pytorch_phase_formula() -> None:
    for schedule in random_one_cycles(11, 60):
        steps = range(schedule.total_steps)
        expected = [torch_formula(t, schedule) for t in steps]
        # 1e-10: PyTorch's linear form start + (end - start) * pct cancels next to the end (ours does not)
        np.testing.assert_allclose(reference(schedule, steps), expected, rtol=1e-10, err_msg=repr(schedule))


def test_momentum_twin_is_pytorch_cycle_momentum_formula() -> None:
    for schedule in random_one_cycles(12, 60):
        steps = range(schedule.total_steps)
        expected = [torch_formula(t, schedule, momentum=(0.85, 0.95)) for t in steps]
        np.testing.assert_allclose(reference(schedule.momentum(), steps), expected, rtol=1e-12, err_msg=repr(schedule))


def test_default_one_cycle_by_hand() -> None:
    # N = 100, pct_start 0.3: the warmup ends at step 29 = 0.3 * 100 - 1, the run at step 99
    schedule = OneCycle(2.5, total_steps=100)
    values = reference(schedule, [0, 29, 99, 100])
    np.testing.assert_allclose(values, [0.1, 2.5, 0.1 / 1e4, 0.1 / 1e4], rtol=1e-12)
    assert schedule.phase_boundaries == (29, 99)
    assert OneCycle(2.5, 100, three_phase=True).phase_boundaries == (29, 58, 99)


def test_from_epochs_is_total_steps_epochs_times_steps_per_epoch() -> None:
    assert OneCycle.from_epochs(0.1, epochs=10, steps_per_epoch=100, pct_start=0.25) == OneCycle(0.1, 1000, 0.25)


def test_momentum_is_inverse_to_the_rate() -> None:
    lr = OneCycle(1.0, total_steps=200, anneal="linear", div_factor=10.0)
    momentum = lr.momentum(base_momentum=0.85, max_momentum=0.95)
    warmup = np.arange(0, 60)  # phase 1: both linear in the same fraction, in opposite directions
    rate_fraction = (reference(lr, warmup) - 0.1) / 0.9
    momentum_fraction = (0.95 - reference(momentum, warmup)) / 0.1
    np.testing.assert_allclose(momentum_fraction, rate_fraction, atol=1e-12)
    assert reference(momentum, [0, 59, 199, 10**6]).tolist() == pytest.approx([0.95, 0.85, 0.95, 0.95])
    assert momentum.peak == 0.95 and momentum.phase_boundaries == lr.phase_boundaries


def test_three_phase_momentum_stays_at_max_in_the_third_phase() -> None:
    momentum = OneCycle(1.0, total_steps=100, pct_start=0.3, three_phase=True).momentum(0.8, 0.9)
    np.testing.assert_allclose(reference(momentum, np.arange(59, 120)), 0.9, rtol=1e-15)


@pytest.mark.parametrize("schedule", [OneCycle(1.0, 50), OneCycle(1.0, 50, anneal="linear", three_phase=True)])
def test_value_holds_after_the_run(schedule: OneCycle) -> None:
    final = reference(schedule, [49])[0]
    assert final == pytest.approx(1.0 / 25 / 1e4, rel=1e-12)
    np.testing.assert_array_equal(reference(schedule, [50, 51, 10**9, 2**63 - 1]), final)
    np.testing.assert_array_equal(float32(schedule, [50, 10**9, 2**63 - 1]), np.float32(final))


def test_optimizer_updates_use_the_schedule_at_the_update_count() -> None:
    schedule = OneCycle(0.5, total_steps=20)
    model = nn.Linear(2, 1)
    optimizer = optim.SGD(learning_rate=schedule)
    grads = tree_map(mx.ones_like, model.parameters())
    used = []
    for _ in range(20):
        optimizer.update(model, grads)
        used.append(optimizer.learning_rate.item())
        assert optimizer.learning_rate.dtype == mx.float32
    np.testing.assert_allclose(used, reference(schedule, np.arange(20)), rtol=1e-6)


# ---------------------------------------------------------------------- precision, range, degenerates


@pytest.mark.parametrize("schedule", SCHEDULES, ids=IDS)
def test_float32_is_within_4e6_of_the_reference_up_to_1e9(schedule: OneCycle) -> None:
    edges = [b + d for b in schedule.phase_boundaries for d in (-1, 0, 1)]
    steps = np.unique(np.concatenate([log_steps(1e9, 2000), edges]))
    for s in (schedule, schedule.momentum()):
        assert rel_err(float32(s, steps), reference(s, steps), floor=1e-6 * s.peak) <= 4e-6


@pytest.mark.parametrize("schedule", SCHEDULES, ids=IDS)
def test_phase_ends_near_1e9_are_exact_on_both_backends(schedule: OneCycle) -> None:
    *inner, last = schedule.phase_boundaries
    steps = [b + d for b in inner for d in (-1, 0, 1)] + [last - 1, last]
    expected = [torch_formula(t, schedule) for t in steps]
    for values in (reference(schedule, steps), float32(schedule, steps)):
        assert rel_err(values, expected) <= 4e-6
        assert values[1] == pytest.approx(schedule.max_lr, rel=6e-8)  # the warmup's last step is the peak


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (OneCycle(1.0, total_steps=1), [1 / 25 / 1e4] * 3),  # the whole run is its last step
        (OneCycle(1.0, total_steps=1, three_phase=True), [1 / 25 / 1e4] * 3),
        (
            OneCycle(1.0, total_steps=10, pct_start=0.1),
            [1.0, *(4e-6 + (1 - 4e-6) * (1 + math.cos(math.pi * t / 9)) / 2 for t in (1, 2))],
        ),
        (OneCycle(1.0, total_steps=4, pct_start=0.0, anneal="linear", final_div_factor=1.0), [0.76, 0.52, 0.28]),
        (OneCycle(1.0, total_steps=3, pct_start=1.0, anneal="linear", div_factor=2.0), [0.5, 0.75, 1.0]),
        (
            OneCycle(1.0, total_steps=4, pct_start=0.5, anneal="linear", three_phase=True, final_div_factor=2.0),
            [0.04, 1.0, 0.04],
        ),
        (OneCycle(0.0, total_steps=5), [0.0] * 3),
        (OneCycle(0.3, total_steps=5, div_factor=1.0, final_div_factor=1.0), [0.3] * 3),
        (OneCycle.linear(0.2, 0.2, t_max=1), [0.2] * 3),
    ],
    ids=["N=1", "N=1-three-phase", "pct*N=1", "pct=0", "pct=1", "three-phase-pct=0.5", "max_lr=0", "flat", "seed-flat"],
)
def test_degenerate_configurations_give_finite_values(schedule: OneCycle, expected: list[float]) -> None:
    steps = np.arange(3)
    np.testing.assert_allclose(reference(schedule, steps), expected, rtol=1e-12)
    np.testing.assert_allclose(float32(schedule, steps), expected, rtol=1e-6)
    later = np.concatenate([np.arange(200), [10**9, 2**63 - 1]])
    for values in (reference(schedule, later), float32(schedule, later)):
        assert np.isfinite(values).all() and values.min() >= 0 and values.max() <= schedule.peak * (1 + 1e-6)


def test_three_phase_with_a_zero_length_mirror_is_finite() -> None:
    schedule = OneCycle(1.0, total_steps=2, pct_start=0.5, three_phase=True)  # pct * N = 1: two 0-length phases
    np.testing.assert_allclose(reference(schedule, [0, 1, 2]), [1.0, 1 / 25 / 1e4, 1 / 25 / 1e4], rtol=1e-12)


@pytest.mark.parametrize("schedule", [*SCHEDULES, *random_one_cycles(13, 20)], ids=repr)
def test_compiled_step_matches_eager_and_peak_bounds_every_step(schedule: OneCycle) -> None:
    compiled = mx.compile(lambda step: schedule(step))
    for step in (0, 1, schedule.phase_boundaries[0], 10**9):
        assert compiled(mx.array(step, dtype=mx.uint64)).item() == schedule(mx.array(step, dtype=mx.uint64)).item()
    assert reference(schedule, np.arange(min(schedule.total_steps, 5000))).max() <= schedule.peak


@pytest.mark.parametrize("schedule", [*SCHEDULES, OneCycle(0.1, 10).momentum(0.8, 0.99)], ids=repr)
def test_config_round_trip(schedule: Schedule) -> None:
    config = json.loads(schedule.to_json())
    rebuilt = from_config(config)
    assert rebuilt == schedule
    np.testing.assert_array_equal(reference(rebuilt, np.arange(50)), reference(schedule, np.arange(50)))
    if isinstance(schedule, OneCycleMomentum):
        assert config["schedule"]["name"] == "OneCycle"


# ---------------------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: OneCycle(-0.1, 100), ValueError, "OneCycle: max_lr"),
        (lambda: OneCycle(0.1, 0), ValueError, "OneCycle: total_steps"),
        (lambda: OneCycle(0.1, 100.0), TypeError, "OneCycle: total_steps"),
        (lambda: OneCycle(0.1, 100, pct_start=1.5), ValueError, "OneCycle: pct_start"),
        (lambda: OneCycle(0.1, 100, pct_start=-0.1), ValueError, "OneCycle: pct_start"),
        (
            lambda: OneCycle(0.1, 100, pct_start=0.6, three_phase=True),
            ValueError,
            "OneCycle: pct_start must be in [0, 0.5]",
        ),
        (lambda: OneCycle(0.1, 100, anneal="cosine"), ValueError, "OneCycle: anneal"),
        (lambda: OneCycle(0.1, 100, div_factor=0.5), ValueError, "OneCycle: div_factor"),
        (lambda: OneCycle(0.1, 100, final_div_factor=math.inf), ValueError, "OneCycle: final_div_factor"),
        (lambda: OneCycle(0.1, 100, three_phase="yes"), TypeError, "OneCycle: three_phase"),
        (lambda: OneCycle.from_epochs(0.1, 0, 10), ValueError, "OneCycle.from_epochs: epochs"),
        (lambda: OneCycle.from_epochs(0.1, 10, -1), ValueError, "OneCycle.from_epochs: steps_per_epoch"),
        (lambda: OneCycle.linear(0.0, 0.1, 100), ValueError, "OneCycle.linear: min_lr"),
        (lambda: OneCycle.linear(0.2, 0.1, 100), ValueError, "OneCycle.linear: max_lr"),
        (lambda: OneCycle.linear(0.01, 0.1, 0), ValueError, "OneCycle.linear: t_max"),
        (lambda: OneCycle(0.1, 100).momentum(base_momentum=1.2), ValueError, "OneCycleMomentum: base_momentum"),
        (lambda: OneCycle(0.1, 100).momentum(0.95, 0.85), ValueError, "OneCycleMomentum: max_momentum"),
        (lambda: OneCycleMomentum(0.1), TypeError, "OneCycleMomentum: schedule must be a OneCycle"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_are_rejected_naming_the_parameter(make: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match="^" + message.replace("[", r"\[").replace("]", r"\]")):
        make()
