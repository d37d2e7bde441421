"""Step-input rules on every backend, for every schedule class (random valid configs from ``strategies.py``).

The rules (``mlx_lrsched/_xp.py``): Python and NumPy steps are checked eagerly, so a negative step or one
past ``2**63 - 1`` raises ``ValueError``; a float, bool, string or other non-integer raises ``TypeError``
(an integral float such as ``10.0`` too); a signed ``mx.array`` cannot be checked without a device sync, so
its negative entries are clamped to step 0. Huge steps stay finite, and phase boundaries near ``2**62`` are
exact on both backends.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import public_schedule_names, schedule_strategy

from mlx_lrsched._xp import MAX_STEP
from mlx_lrsched.base import Schedule
from mlx_lrsched.compose import Join, PerEpoch
from mlx_lrsched.cyclic import CosineRestarts, CyclicLR
from mlx_lrsched.decay import (
    Constant,
    CosineDecay,
    ExponentialDecay,
    MultiStepDecay,
    PiecewiseConstant,
    PolynomialDecay,
    StepDecay,
)
from mlx_lrsched.one_cycle import OneCycle
from mlx_lrsched.warmup import WSD, InverseSqrt, Linear, Warmup

mx = pytest.importorskip("mlx.core")

NAMES = public_schedule_names()
few = settings(max_examples=8, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

NEGATIVE = [-1, -(2**40), np.int64(-1), np.array([0, -1]), np.array([[5], [-3]], dtype=np.int32)]
TOO_LARGE = [MAX_STEP + 1, 2**64, np.array([2**63], dtype=np.uint64), np.uint64(2**64 - 1)]
NOT_INTEGER = [
    1.0,
    10.0,
    2.5,
    float("nan"),
    True,
    np.bool_(False),
    "3",
    None,
    [1, 2],
    np.float64(1.0),
    np.array([1.0]),
    np.array([True]),
    mx.array(1.0),
    mx.array([0.5], dtype=mx.float16),
    mx.array([True, False]),
]


@pytest.mark.parametrize("name", NAMES)
@few
@given(data=st.data())
def test_negative_python_and_numpy_steps_raise_value_error(name, data):
    schedule = data.draw(schedule_strategy(name))
    for step in NEGATIVE:
        with pytest.raises(ValueError, match=r"step must be in \[0, 2\*\*63 - 1\]"):
            schedule(step)


@pytest.mark.parametrize("name", NAMES)
@few
@given(data=st.data())
def test_steps_past_the_last_valid_step_raise_value_error(name, data):
    schedule = data.draw(schedule_strategy(name))
    for step in TOO_LARGE:
        with pytest.raises(ValueError, match="step must be in"):
            schedule(step)


@pytest.mark.parametrize("name", NAMES)
@few
@given(data=st.data())
def test_non_integer_steps_raise_type_error(name, data):
    schedule = data.draw(schedule_strategy(name))
    for step in NOT_INTEGER:
        with pytest.raises(TypeError, match="step must be an integer"):
            schedule(step)


@pytest.mark.parametrize("name", NAMES)
@few
@given(data=st.data())
def test_negative_signed_mlx_steps_take_the_value_at_step_zero(name, data):
    schedule = data.draw(schedule_strategy(name))
    at_zero = np.array(schedule(mx.array([0], dtype=mx.uint64)))[0]
    for dtype in (mx.int8, mx.int16, mx.int32, mx.int64):
        values = np.array(schedule(mx.array([-1, -100, 0], dtype=dtype)))
        np.testing.assert_array_equal(values, np.full(3, at_zero, dtype=np.float32))
    assert np.array(schedule(mx.array(-(2**62), dtype=mx.int64))) == at_zero


@pytest.mark.parametrize("name", NAMES)
@few
@given(data=st.data())
def test_the_largest_steps_are_finite_on_every_backend(name, data):
    schedule = data.draw(schedule_strategy(name))
    steps = [2**62 - 1, 2**62, MAX_STEP - 1, MAX_STEP]
    for values in (
        schedule(np.array(steps, dtype=np.int64)),
        schedule(np.array(steps, dtype=np.uint64)),
        np.array(schedule(mx.array(steps, dtype=mx.uint64))),
        np.array(schedule(mx.array(steps, dtype=mx.int64))),
        np.array([schedule(step).item() for step in steps]),
    ):
        assert np.isfinite(values).all(), values


@pytest.mark.parametrize("name", NAMES)
@few
@given(data=st.data())
def test_empty_step_arrays_give_empty_results(name, data):
    schedule = data.draw(schedule_strategy(name))
    assert schedule(np.array([], dtype=np.int64)).shape == (0,)
    assert schedule(mx.array([], dtype=mx.uint64)).shape == (0,)


# ----------------------------------------------------------------------- exact boundaries near 2**62

B = 2**62
"""A phase boundary past every float32 and float64 integer: exactness must come from integer arithmetic."""

BOUNDARIES = [
    # (schedule, step, exact value there)
    (StepDecay(1.0, step_size=2**61, gamma=0.5), B - 1, 0.5),
    (StepDecay(1.0, step_size=2**61, gamma=0.5), B, 0.25),
    (MultiStepDecay(1.0, milestones=[B], gamma=0.5), B - 1, 1.0),
    (MultiStepDecay(1.0, milestones=[B], gamma=0.5), B, 0.5),
    (PiecewiseConstant([B], [1.0, 0.5]), B, 1.0),
    (PiecewiseConstant([B], [1.0, 0.5]), B + 1, 0.5),
    (ExponentialDecay(1.0, 0.5, decay_steps=2**61, staircase=True), B - 1, 0.5),
    (ExponentialDecay(1.0, 0.5, decay_steps=2**61, staircase=True), B, 0.25),
    (ExponentialDecay(1.0, 0.5, decay_steps=1, transition_begin=B), B, 1.0),
    (ExponentialDecay(1.0, 0.5, decay_steps=1, transition_begin=B), B + 1, 0.5),
    (PolynomialDecay(1.0, 0.25, decay_steps=B), B, 0.25),
    (CosineDecay(1.0, decay_steps=B, end_lr=0.5), 0, 1.0),
    (CosineDecay(1.0, decay_steps=B, end_lr=0.5), B, 0.5),
    (CosineDecay(1.0, decay_steps=B, end_lr=0.5), MAX_STEP, 0.5),
    (Linear(0.0, 1.0, steps=B), B, 1.0),
    (Linear(0.0, 1.0, steps=B), B // 2, 0.5),
    (Warmup(Constant(0.5), warmup_steps=B), B - 2**40, 0.5 * (1 - 2**40 / B)),
    (Warmup(Constant(0.5), warmup_steps=B), B, 0.5),
    (Warmup(CosineDecay(1.0, 10), warmup_steps=B), B + 10, 0.0),
    (WSD(1.0, warmup_steps=2**61, stable_steps=2**61, decay_steps=2**61, end_lr=0.25), 2**61, 1.0),
    (WSD(1.0, warmup_steps=2**61, stable_steps=2**61, decay_steps=2**61, end_lr=0.25), B, 1.0),
    (WSD(1.0, warmup_steps=2**61, stable_steps=2**61, decay_steps=2**61, end_lr=0.25), B + 2**61, 0.25),
    (InverseSqrt(1.0, warmup_steps=B), B, 1.0),
    (InverseSqrt(1.0, warmup_steps=B), 0, 0.0),
    (Join([Constant(1.0), Linear(0.5, 0.0, 4)], boundaries=[B]), B - 1, 1.0),
    (Join([Constant(1.0), Linear(0.5, 0.0, 4)], boundaries=[B]), B, 0.5),
    (Join([Constant(1.0), Linear(0.5, 0.0, 4)], boundaries=[B]), B + 2, 0.25),
    (PerEpoch(StepDecay(1.0, step_size=1, gamma=0.5), steps_per_epoch=2**61), B - 1, 0.5),
    (PerEpoch(StepDecay(1.0, step_size=1, gamma=0.5), steps_per_epoch=2**61), B, 0.25),
    (CyclicLR(0.25, 1.0, step_size_up=2**61), 2**61, 1.0),
    (CyclicLR(0.25, 1.0, step_size_up=2**61), B, 0.25),
    (CyclicLR(0.0, 1.0, step_size_up=2**60, mode="triangular2"), B + 2**60, 0.25),
    (CosineRestarts(1.0, first_period_steps=2**61, end_lr=0.5), B, 1.0),
    (CosineRestarts(1.0, first_period_steps=2**60, t_mult=2, m_mul=0.5), 3 * 2**60, 0.25),
    (
        OneCycle(1.0, total_steps=2**53, pct_start=0.5, anneal="linear", div_factor=4.0, final_div_factor=2.0),
        2**53 - 1,
        0.125,
    ),
    (OneCycle(1.0, total_steps=2**53, pct_start=0.5, anneal="linear", div_factor=4.0, final_div_factor=2.0), B, 0.125),
]


@pytest.mark.parametrize(("schedule", "step", "expected"), BOUNDARIES, ids=lambda v: type(v).__name__)
def test_boundaries_near_two_to_the_62_are_exact_on_every_backend(schedule: Schedule, step: int, expected: float):
    assert schedule(np.int64(step)) == expected
    assert schedule(np.uint64(step)) == expected
    assert np.array(schedule(mx.array([step], dtype=mx.uint64)))[0] == np.float32(expected)
    assert np.array(schedule(mx.array([step], dtype=mx.int64)))[0] == np.float32(expected)
    assert schedule(step).item() == np.float32(expected)
