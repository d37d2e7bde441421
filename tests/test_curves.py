"""The annealing curves and the decay features peers use, against their formulas written out literally.

optax 0.2.8 ``optax/schedules/_schedule.py``: ``cosine_decay_schedule`` (lines 377-387, ``exponent``),
``polynomial_schedule`` (lines 140-145, ``transition_begin``); Hugging Face transformers 5.24.0
``optimization.py``: ``_get_cosine_schedule_with_warmup_lr_lambda`` (lines 134-140, ``num_cycles``) and the
"1-sqrt" warmup of ``_get_wsd_scheduler_lambda`` (lines 481-486); timm 1.0.31 ``tanh_lr.py:112`` (tanh).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import rel_err

from mlx_lrsched import CosineDecay, PolynomialDecay, Ramp

mx = pytest.importorskip("mlx.core")


def both(schedule, steps):
    return schedule(np.asarray(steps)), np.array(schedule(mx.array(np.asarray(steps), dtype=mx.uint64)), np.float64)


@pytest.mark.parametrize(("init", "steps", "alpha", "exponent"), [(1.0, 100, 0.0, 2.0), (0.3, 37, 0.1, 0.7)])
def test_cosine_exponent_is_optax_s(init, steps, alpha, exponent):
    def optax(count):  # cosine_decay_schedule's schedule(count)
        count = min(count, steps)
        cosine_decay = 0.5 * (1 + math.cos(math.pi * count / steps))
        return init * ((1 - alpha) * cosine_decay**exponent + alpha)

    schedule = CosineDecay(init, steps, end_lr=alpha * init, exponent=exponent)
    reference, product = both(schedule, np.arange(steps + 5))
    expected = np.array([optax(t) for t in range(steps + 5)])
    np.testing.assert_allclose(reference, expected, rtol=1e-12, atol=1e-16)
    assert rel_err(product, expected, 1e-6 * init) <= 5e-7 * max(1.0, exponent)


@pytest.mark.parametrize("num_cycles", [1.0, 1.5, 2.0, 0.3, 3.25])
def test_num_cycles_is_hugging_face_s_waves_held_at_the_end(num_cycles):
    total = 240

    def hf(step):  # lr_lambda after warmup: 0.5 * (1 + cos(pi * num_cycles * 2 * progress))
        progress = min(step, total) / total  # HF goes on past the end; we hold the last value
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)))

    schedule = CosineDecay(1.0, total, num_cycles=num_cycles)
    reference, product = both(schedule, np.arange(total + 10))
    expected = np.array([hf(t) for t in range(total + 10)])
    np.testing.assert_allclose(reference, expected, rtol=1e-11, atol=1e-15)
    assert rel_err(product, expected, 1e-6) <= 5e-7


def test_a_wave_keeps_its_relative_precision_next_to_its_zeros():
    # 3 waves over 1000 steps: zeros at t = (k + 1/2) * 1000 / 3, e.g. 166.67; at t = 167 the value is
    # cos^2(pi * 3 * 167 / 1000) = sin^2(pi / 2 * 2 / 1000 * ...) ~ 1.1e-5, exact from the integer distance
    schedule = CosineDecay(1.0, 1000, num_cycles=3.0)
    steps = np.arange(1001)
    expected = np.cos(np.pi * 3 * steps / 1000) ** 2
    reference, product = both(schedule, steps)
    np.testing.assert_allclose(reference, expected, rtol=1e-10, atol=1e-30)  # exactly 0 at t = 500, numpy: 3e-32
    assert rel_err(product, expected, 1e-7) <= 5e-7


def test_transition_begin_holds_then_decays_as_optax():
    def optax(count, begin=5, steps=100, init=1.0, end=0.01, power=2):  # polynomial_schedule
        count = min(max(count - begin, 0), steps)
        return (init - end) * (1 - count / steps) ** power + end

    schedule = PolynomialDecay(1.0, 0.01, decay_steps=100, power=2, transition_begin=5)
    reference, product = both(schedule, np.arange(120))
    expected = np.array([optax(t) for t in range(120)])
    np.testing.assert_allclose(reference, expected, rtol=1e-13)
    assert rel_err(product, expected) <= 5e-7
    np.testing.assert_allclose(reference[[0, 5, 6, 104, 105, 110]], [1, 1, 0.9803, 0.0101, 0.01, 0.01], atol=5e-5)


def test_the_one_minus_sqrt_warmup_is_hugging_face_s():
    warmup = Ramp(0.1, 1.0, steps=50, shape="linear", exponent=0.5)  # from min_lr_ratio 0.1 to 1
    steps = np.arange(60)
    progress = np.minimum(steps, 50) / 50
    expected = (1.0 - np.sqrt(1.0 - progress)) * (1.0 - 0.1) + 0.1  # factor * (1 - min_lr_ratio) + min_lr_ratio
    reference, product = both(warmup, steps)
    np.testing.assert_allclose(reference, expected, rtol=1e-13)
    assert rel_err(product, expected) <= 5e-7


def test_the_tanh_curve_is_timm_s_and_never_quite_reaches_its_ends():
    lb, ub = -7.0, 3.0
    ramp = Ramp(1.0, 0.1, steps=40, shape="tanh", lb=lb, ub=ub)
    steps = np.arange(41)
    tr = steps / 40
    expected = 0.1 + 0.5 * (1.0 - 0.1) * (1 - np.tanh(lb * (1.0 - tr) + ub * tr))
    reference, product = both(ramp, steps)
    np.testing.assert_allclose(reference, expected, rtol=1e-13)
    assert rel_err(product, expected) <= 5e-7
    assert reference[0] < 1.0 and reference[-1] > 0.1  # 0.99999925 and 0.10222536


@pytest.mark.parametrize("shape", ["linear", "cos", "sqrt"])
@pytest.mark.parametrize(("exponent", "k"), [(1.0, 2.0), (2.0, 1.0), (0.5, 0.5), (3.0, 1.5)])
def test_a_curve_with_a_power_is_b_of_x_to_the_k_to_the_e(shape, exponent, k):
    base = {"linear": lambda y: 1 - y, "cos": lambda y: 0.5 * (1 + np.cos(np.pi * y)), "sqrt": lambda y: 1 - np.sqrt(y)}
    for start, end in ((1.0, 0.01), (0.01, 1.0)):
        ramp = Ramp(start, end, steps=300, shape=shape, exponent=exponent, k_decay=k)
        steps = np.arange(305)
        x = np.minimum(steps, 300) / 300
        expected = end + (start - end) * base[shape](x**k) ** exponent
        reference, product = both(ramp, steps)
        np.testing.assert_allclose(reference, expected, rtol=1e-12, atol=1e-15)
        assert rel_err(product, expected, 1e-6) <= 4e-7 * max(1.0, exponent) * max(1.0, k)
