"""Shift, the overlaid warmup and PiecewiseInterpolate against their formulas written out literally.

timm 1.0.31 ``cosine_lr.py:97-101`` (``warmup_prefix=False``: the warmup ramps to the base rate, then the main
schedule continues at the global step) and ``tanh_lr.py:83-86`` (its overlaid warmup ramps to the main schedule's
value at ``warmup_t``); optax 0.2.8 ``_schedule.py:471-480`` (``piecewise_interpolate_schedule``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import rel_err

from mlx_lrsched import (
    CosineDecay,
    CosineRestarts,
    Join,
    OneCycle,
    PiecewiseInterpolate,
    Restarts,
    Shift,
    StepDecay,
    Warmup,
    from_config,
)
from mlx_lrsched._xp import MAX_STEP

mx = pytest.importorskip("mlx.core")


def both(schedule, steps):
    steps = np.asarray(steps, dtype=np.int64)
    return schedule(steps), np.array(schedule(mx.array(steps.astype(np.uint64))), np.float64)


def test_shift_starts_a_schedule_part_way():
    inner = OneCycle(0.1, total_steps=1000)
    shifted = Shift(inner, steps=300)
    steps = np.arange(0, 1200, 7)
    reference, product = both(shifted, steps)
    np.testing.assert_array_equal(reference, inner(steps + 300))
    np.testing.assert_array_equal(product, np.array(inner(mx.array(steps + 300, dtype=mx.uint64)), np.float64))
    assert shifted(np.int64(MAX_STEP)) == inner(np.int64(MAX_STEP))  # no overflow: the last step holds
    assert shifted.phase_boundaries == tuple(b - 300 for b in inner.phase_boundaries if b > 300)


def test_a_shift_inside_a_join_costs_nothing_and_keeps_the_global_step():
    cosine = CosineDecay(1.0, 100)
    joined = Join([0.5, Shift(cosine, 30)], [30])
    steps = np.arange(120)
    np.testing.assert_array_equal(joined(steps), np.where(steps < 30, 0.5, cosine(steps)))


def timm_cosine_overlay(t, lr=1.0, warmup_t=10, warmup_lr_init=0.01, t_initial=50, lr_min=0.001):
    if t < warmup_t:  # cosine_lr.py:97
        return warmup_lr_init + t * (lr - warmup_lr_init) / warmup_t
    t = min(t, t_initial)  # cycle_limit=1 holds lr_min after t_initial; at t_initial the cosine gives lr_min
    return lr_min + 0.5 * (lr - lr_min) * (1 + math.cos(math.pi * t / t_initial))


def test_an_overlaid_warmup_to_the_base_rate_is_timm_s_default():
    schedule = Warmup(CosineRestarts(1.0, 50, end_lr=0.001, cycle_limit=1), 10, 0.01, overlay=True, peak_lr=1.0)
    steps = np.arange(70)
    expected = np.array([timm_cosine_overlay(int(t)) for t in steps])
    reference, product = both(schedule, steps)
    np.testing.assert_allclose(reference, expected, rtol=1e-13)
    assert rel_err(product, expected) <= 5e-7
    assert reference[10] == CosineRestarts(1.0, 50, end_lr=0.001)(np.int64(10))  # the cosine at the global step


def test_an_overlaid_warmup_without_a_peak_meets_the_schedule_where_it_takes_over():
    tanh = Restarts(1.0, 40, shape="tanh", cycle_limit=1, end_lr=0.0)
    schedule = Warmup(tanh, 8, 0.0, overlay=True)
    w8 = float(tanh(np.int64(8)))  # tanh_lr.py:84: warmup_steps = (self._get_lr(warmup_t) - warmup_lr_init) / warmup_t
    steps = np.arange(20)
    expected = np.where(steps < 8, steps * w8 / 8, tanh(steps))
    np.testing.assert_allclose(schedule(steps), expected, rtol=1e-13)
    assert schedule._target() == w8 and schedule.phase_boundaries[0] == 8


def test_a_shifting_warmup_with_a_peak_ramps_to_the_peak():
    schedule = Warmup(StepDecay(0.5, 10, 0.5), 4, 0.0, peak_lr=1.0)
    np.testing.assert_allclose(schedule(np.array([0, 2, 3, 4, 14])), [0.0, 0.5, 0.75, 0.5, 0.25])
    assert schedule.peak == 1.0
    assert from_config(schedule.to_config()) == schedule


def optax_interpolate(count, kind, init, boundaries_and_scales):  # piecewise_interpolate_schedule
    boundaries, scales = zip(*sorted(boundaries_and_scales.items()), strict=True)
    bounds = np.array((0, *boundaries), dtype=float)
    values = np.cumprod(np.array((init, *scales)))
    sizes = np.maximum(bounds[1:] - bounds[:-1], 1)
    indicator = (bounds[:-1] <= count) & (count < bounds[1:])
    pct = (count - bounds[:-1]) / sizes
    if kind == "linear":
        interp = (values[1:] - values[:-1]) * pct + values[:-1]
    else:
        interp = values[1:] + (values[:-1] - values[1:]) / 2.0 * (np.cos(np.pi * pct) + 1)
    return float(indicator @ interp + (bounds[-1] <= count) * values[-1])


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_piecewise_interpolate_is_optax_s(kind):
    table = {30: 10.0, 70: 0.1, 100: 0.01}
    values = 0.01 * np.cumprod([1.0, *table.values()])
    schedule = PiecewiseInterpolate([0, *table], values, shape="linear" if kind == "linear" else "cos")
    steps = np.arange(120)
    expected = np.array([optax_interpolate(int(t), kind, 0.01, table) for t in steps])
    reference, product = both(schedule, steps)
    np.testing.assert_allclose(reference, expected, rtol=1e-12)
    assert rel_err(product, expected) <= 5e-7
    np.testing.assert_array_equal(reference[[0, 30, 70, 100, 119]], values[[0, 1, 2, 3, 3]])  # exact at every key


def test_piecewise_interpolate_holds_its_first_value_before_its_first_step():
    schedule = PiecewiseInterpolate([10, 20], [1.0, 3.0])
    np.testing.assert_allclose(schedule(np.array([0, 10, 15, 20, 99])), [1.0, 1.0, 2.0, 3.0, 3.0])
    assert schedule.phase_boundaries == (10, 20) and schedule.peak == 3.0
