"""Restarts and CosineRestarts against the cycle formulas written out literally, with an exact cycle index.

The oracle is the formula of timm's ``CosineLRScheduler``/``TanhLRScheduler``/``PolyLRScheduler._get_lr``
(timm 1.0.31, ``timm/scheduler/cosine_lr.py:97-123``, ``tanh_lr.py:95-120``, ``poly_lr.py:97-122``) and of Keras'
``CosineDecayRestarts.__call__`` (keras 3.15.1, ``learning_rate_schedule.py:845-900``), in float64, except for the
cycle index: timm and Keras take it as ``floor(log(1 - t / T0 * (1 - m)) / log(m))`` in floating point, which puts
some restarts one step late; the oracle finds it with exact rationals (``fractions.Fraction``), as the schedule does.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from conftest import rel_err

from mlx_lrsched import CosineRestarts, Restarts, from_config
from mlx_lrsched._xp import MAX_STEP

mx = pytest.importorskip("mlx.core")


def exact_cycle(t: int, first: float, mult: float) -> tuple[int, float, float]:
    """Cycle index, position in the cycle and the cycle's length at step ``t``, from exact rationals."""
    first_q = Fraction(first).limit_denominator(2**20)
    mult_q = Fraction(mult).limit_denominator(2**20)
    start, length, index = Fraction(0), first_q, 0
    while start + length <= t:
        start, length, index = start + length, length * mult_q, index + 1
    return index, float(t - start), float(length)


def literal(t: int, s: Restarts) -> float:
    """timm's ``_get_lr`` (any shape) and Keras' amplitude restarts, written out, with the exact cycle index."""
    i, t_curr, t_i = exact_cycle(t, s.first_period_steps, s.t_mult)
    if s.cycle_limit is not None and i >= s.cycle_limit:
        return s.end_lr  # timm: lrs = [self.lr_min ...]
    gamma = s.m_mul**i
    if s.m_mul_mode == "peak":
        lr_max = s.init_lr * gamma  # timm: lr_max_values = [v * gamma for v in self.base_values]
    else:
        lr_max = s.end_lr + (s.init_lr - s.end_lr) * gamma  # Keras: init * (alpha + (1 - alpha) * m_fac)
    lr_min, k = s.end_lr, s.k_decay
    if s.shape == "cos":  # timm cosine_lr.py:115 (with optax's exponent on the cosine factor)
        return lr_min + (lr_max - lr_min) * (0.5 * (1 + math.cos(math.pi * t_curr**k / t_i**k))) ** s.exponent
    if s.shape == "tanh":  # timm tanh_lr.py:112
        tr = t_curr / t_i
        return lr_min + 0.5 * (lr_max - lr_min) * (1 - math.tanh(s.lb * (1.0 - tr) + s.ub * tr))
    if s.shape == "linear":  # timm poly_lr.py:115, power = exponent
        return lr_min + (lr_max - lr_min) * (1 - t_curr**k / t_i**k) ** s.exponent
    return lr_min + (lr_max - lr_min) * (1 - math.sqrt(t_curr**k / t_i**k)) ** s.exponent


CASES = [
    Restarts(0.1, 10),
    Restarts(0.1, 10, t_mult=2, m_mul=0.5, end_lr=1e-3),
    Restarts(0.1, 7, t_mult=3, cycle_limit=4, k_decay=2.0),
    Restarts(0.1, 5, t_mult=1.5, m_mul=0.8, end_lr=0.01, m_mul_mode="amplitude"),  # Keras, t_mul=1.5
    Restarts(0.1, 3.7, t_mult=1.1, end_lr=1e-4),
    Restarts(0.1, 1000 / 3, cycle_limit=3),  # Hugging Face's hard restarts over 1000 steps, num_cycles=3
    Restarts(1.0, 20, shape="tanh", cycle_limit=2, end_lr=0.05),  # timm TanhLRScheduler
    Restarts(1.0, 20, shape="tanh", lb=-3.0, ub=8.0, t_mult=1.0),
    Restarts(1.0, 25, shape="linear", exponent=0.5, cycle_limit=3, m_mul=0.9),  # timm PolyLRScheduler
    Restarts(1.0, 25, shape="linear", exponent=2.0, k_decay=1.5, end_lr=0.01),
    Restarts(1.0, 25, shape="sqrt", end_lr=0.01, t_mult=2),
    Restarts(1.0, 16, shape="cos", exponent=2.0, m_mul=0.7, m_mul_mode="amplitude", end_lr=0.2),
]


@pytest.mark.parametrize("schedule", CASES, ids=repr)
def test_every_step_of_a_run_matches_the_literal_formula(schedule):
    steps = np.arange(0, 700)
    expected = np.array([literal(int(t), schedule) for t in steps])
    np.testing.assert_allclose(schedule(steps), expected, rtol=1e-12, atol=1e-15)
    floor = 1e-6 * schedule.peak
    assert rel_err(np.array(schedule(mx.array(steps, dtype=mx.uint64))), expected, floor) <= 4e-6


def test_a_restart_lands_on_its_exact_step_where_a_float_log_puts_it_one_step_late():
    # timm's index: math.log(1 - 121 * (1 - 3), 3) = math.log(243, 3) = 4.999999999999999, so timm's step 121 is
    # the last step of cycle 4 (lr_min). Cycles of 1, 3, 9, 27, 81 steps: cycle 5 starts at 1 + 3 + 9 + 27 + 81 = 121.
    assert math.floor(math.log(1 - 121 / 1 * (1 - 3.0), 3.0)) == 4
    schedule = CosineRestarts(1.0, first_period_steps=1, t_mult=3)
    last_of_cycle_4 = CosineRestarts(1.0, 81)(np.int64(80))  # 3.8e-4
    np.testing.assert_array_equal(schedule(np.array([120, 121])), [last_of_cycle_4, 1.0])
    values = np.array(schedule(mx.array([120, 121], dtype=mx.uint64)))
    assert values[1] == 1.0 and values[0] < 1e-3


def test_keras_restarts_peak_above_the_floor():
    # Keras CosineDecayRestarts(1.0, 10, t_mul=2, m_mul=0.5, alpha=0.1) restarts at 1 * (0.1 + 0.9 * 0.5**n): 1, 0.55,
    # 0.325 at steps 0, 10, 30; the peak mode (PyTorch, timm) restarts at 0.5**n: 0.5 at step 10, 2.3e-2 below... 0.55
    keras = CosineRestarts(1.0, 10, t_mult=2, m_mul=0.5, end_lr=0.1, m_mul_mode="amplitude")
    np.testing.assert_allclose(keras(np.array([0, 10, 30, 70])), [1.0, 0.55, 0.325, 0.2125], rtol=1e-15)
    peak = CosineRestarts(1.0, 10, t_mult=2, m_mul=0.5, end_lr=0.1)
    np.testing.assert_allclose(peak(np.array([0, 10, 30])), [1.0, 0.5, 0.25], rtol=1e-15)


def test_a_fractional_period_restarts_where_the_rational_says():
    # Hugging Face's hard restarts: 0.5 * (1 + cos(pi * ((num_cycles * progress) % 1))) with progress = t / 1000 and
    # num_cycles = 3 (optimization.py:185); the cycle containing t is floor(3 t / 1000), exactly.
    schedule = Restarts(1.0, 1000 / 3)
    steps = np.arange(1001)
    fraction = (3 * steps % 1000) / 1000
    np.testing.assert_allclose(schedule(steps), 0.5 * (1 + np.cos(np.pi * fraction)), rtol=1e-12, atol=1e-15)
    assert schedule(np.int64(334)) > 0.99 > schedule(np.int64(333))  # 3 * 334 = 1002: a new cycle


def test_the_cycle_limit_holds_the_end_value_from_the_limit_s_first_step():
    schedule = Restarts(1.0, 4, t_mult=2, end_lr=0.1, cycle_limit=2)  # cycles [0, 4), [4, 12); then 0.1
    assert schedule.cycle_start(2) == 12
    values = schedule(np.array([11, 12, 13, MAX_STEP]))
    assert values[0] > 0.1 and list(values[1:]) == [0.1, 0.1, 0.1]
    np.testing.assert_array_equal(np.array(schedule(mx.array([12, MAX_STEP], dtype=mx.uint64))), np.float32(0.1))


@pytest.mark.parametrize("mult", [1.5, 2.0, 2.5, 1.1])
def test_cycle_starts_are_exact_up_to_the_last_step(mult):
    # cycle n starts at the first step t >= S_n = 3 (m**n - 1) / (m - 1): the rate jumps up there and only there
    schedule = Restarts(1.0, 3, t_mult=mult)
    starts = [schedule.cycle_start(n) for n in range(1, 500) if schedule.cycle_start(n) <= MAX_STEP]
    assert starts == [exact_start(n, 3, mult) for n in range(1, len(starts) + 1)]
    steps = np.array(sorted({s + d for s in starts for d in (-1, 0)}), dtype=np.int64)
    for values in (schedule(steps), np.array(schedule(mx.array(steps.astype(np.uint64))), dtype=np.float64)):
        jumps = steps[1:][np.diff(values) > 0.1]
        np.testing.assert_array_equal(jumps, starts)


def exact_start(n: int, first: float, mult: float) -> int:
    """ceil(T0 (m**n - 1) / (m - 1)) in exact rationals."""
    m = Fraction(mult).limit_denominator(2**20)
    return math.ceil(Fraction(first) * (m**n - 1) / (m - 1))


def test_too_many_cycles_for_a_table_are_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"Restarts: t_mult=1\.0001 .* give a cycle_limit or a larger or whole t_mult"):
        Restarts(1.0, 1, t_mult=1.0001)
    assert Restarts(1.0, 1, t_mult=1.0001, cycle_limit=1000).cycle_start(1000) > 1000


def test_cosine_restarts_is_restarts_with_a_cosine():
    fields = {"init_lr": 0.1, "first_period_steps": 9, "t_mult": 2.0, "m_mul": 0.7, "end_lr": 0.01, "k_decay": 1.5}
    steps = np.arange(500)
    np.testing.assert_array_equal(CosineRestarts(**fields)(steps), Restarts(**fields, shape="cos")(steps))
    assert from_config(CosineRestarts(**fields, cycle_limit=3).to_config()) == CosineRestarts(**fields, cycle_limit=3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"shape": "cos", "lb": -5.0}, "Restarts: lb and ub apply to shape='tanh' only"),
        ({"shape": "tanh", "lb": 3.0, "ub": 3.0}, "Restarts: lb must be below ub"),
        ({"shape": "tanh", "exponent": 2.0}, "Restarts: exponent and k_decay apply to shapes"),
        ({"first_period_steps": 2**42 + 1 / 3}, "Restarts: first_period_steps=4398046511104.333 is too fine"),
    ],
)
def test_curve_parameters_only_with_their_shape(kwargs, message):
    with pytest.raises(ValueError, match=f"^{message}"):
        Restarts(**{"init_lr": 1.0, "first_period_steps": 10, **kwargs})
