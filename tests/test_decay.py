"""The decay family against its formulas written out literally (seed forms, Keras, hand-computed points)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlx_lrsched import (
    Constant,
    CosineDecay,
    ExponentialDecay,
    InverseTimeDecay,
    MultiStepDecay,
    PerEpoch,
    PiecewiseConstant,
    PolynomialDecay,
    StepDecay,
)

mx = pytest.importorskip("mlx.core")

STEPS = np.array([0, 1, 2, 9, 10, 11, 99, 100, 101, 999, 1000, 1001, 12_345, 99_999, 100_000, 1_000_000])


def both_backends(schedule, steps=STEPS):
    """The schedule at ``steps`` on the NumPy reference and on MLX (as float64 for comparison)."""
    reference = schedule(steps)
    mlx_values = np.array(schedule(mx.array(steps, dtype=mx.uint64)), dtype=np.float64)
    return reference, mlx_values


def assert_formula(schedule, formula, steps=STEPS, mlx_rtol=2e-6, rtol=1e-12):
    """Both backends equal the literal ``formula``: the reference to ``rtol``, MLX float32 to ``mlx_rtol``
    wherever the value is at least 1e-6 of the peak (below that float32 may underflow to 0)."""
    expected = np.array([formula(int(t)) for t in steps], dtype=np.float64)
    reference, mlx_values = both_backends(schedule, steps)
    np.testing.assert_allclose(reference, expected, rtol=rtol, atol=0)
    visible = expected >= 1e-6 * schedule.peak
    np.testing.assert_allclose(mlx_values[visible], expected[visible], rtol=mlx_rtol, atol=0)
    assert (mlx_values >= 0).all()


def test_constant_is_the_same_everywhere():
    assert_formula(Constant(0.03), lambda t: 0.03)


@pytest.mark.parametrize(("step_size", "gamma"), [(1, 0.5), (10, 0.5), (1000, 0.96), (7, 1.0)])
def test_step_decay_is_seed_001_formula(step_size, gamma):
    # seed 001: lr = lr_initial * drop_rate ** floor(epoch / step_size)
    assert_formula(StepDecay(0.1, step_size, gamma), lambda t: 0.1 * gamma ** math.floor(t / step_size))


def test_step_decay_holds_within_period():
    values = StepDecay(1.0, step_size=10, gamma=0.5)(np.arange(30))
    assert (values[:10] == 1.0).all() and (values[10:20] == 0.5).all() and (values[20:] == 0.25).all()


def test_multistep_decay_counts_milestones_passed():
    milestones = [30, 80, 81]
    assert_formula(
        MultiStepDecay(0.5, milestones, gamma=0.2),
        lambda t: 0.5 * 0.2 ** sum(t >= m for m in milestones),
        steps=np.array([0, 29, 30, 79, 80, 81, 82, 10**9]),
    )


def test_piecewise_constant_uses_keras_boundary_convention():
    # Keras PiecewiseConstantDecay: values[0] for t <= b0, values[1] for b0 < t <= b1, ...
    boundaries, values = [100, 200], [1.0, 0.5, 0.1]

    def keras(t):
        if t <= 100:
            return 1.0
        return 0.5 if t <= 200 else 0.1

    assert_formula(
        PiecewiseConstant(boundaries, values), keras, steps=np.array([0, 99, 100, 101, 199, 200, 201, 10**9])
    )


@pytest.mark.parametrize("k", [1e-7, 1e-3, 0.05, 0.5])
def test_exponential_from_rate_is_seed_continuous_form(k):
    # seeds 000/001/002/003: lr_t = lr_0 * exp(-k * t). from_rate stores decay_rate = exp(-k), rounded once
    # in float64, so the reference carries a relative error of about t * 1e-16 (5e-11 at t = 1e6, k = 1e-7).
    assert_formula(ExponentialDecay.from_rate(2.0, k), lambda t: 2.0 * math.exp(-k * t), rtol=1e-10)


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay_is_keras_formula(staircase):
    def keras(t):
        p = t / 1000
        return 0.1 * 0.96 ** (math.floor(p) if staircase else p)

    assert_formula(ExponentialDecay(0.1, 0.96, decay_steps=1000, staircase=staircase), keras)


def test_seed_001_keras_schedule_after_15_mnist_epochs():
    # seed 001 trains 15 epochs of MNIST (60,000 images, Keras' default batch 32 -> 1875 updates an epoch), so
    # the schedule stands at update 28,125: 0.1 * 0.96 ** 28. The seed prints 0.031885575503110886, which is
    # TensorFlow's float32 result (0.96 is 0.95999998 in float32): 6.1e-7 below the exact value.
    schedule = ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.96, staircase=True)
    exact = 0.1 * 0.96**28
    assert float(schedule(np.int64(15 * 1875))) == pytest.approx(exact, rel=1e-15)
    assert float(schedule(15 * 1875)) == pytest.approx(exact, rel=2e-7)
    assert float(schedule(15 * 1875)) == pytest.approx(0.031885575503110886, rel=1e-6)


def test_exponential_decay_optax_transition_begin_and_end_value():
    def optax(t):  # optax.exponential_decay(0.1, 100, 0.5, transition_begin=50, end_value=0.02)
        return max(0.1 * 0.5 ** (max(t - 50, 0) / 100), 0.02)

    assert_formula(
        ExponentialDecay(0.1, 0.5, decay_steps=100, transition_begin=50, end_lr=0.02),
        optax,
        steps=np.array([0, 49, 50, 51, 150, 250, 282, 1000, 10**9]),
    )


def test_exponential_growth_is_capped_by_end_lr():
    schedule = ExponentialDecay(0.01, 2.0, decay_steps=10, end_lr=1.0)
    assert_formula(schedule, lambda t: min(0.01 * 2.0 ** min(t / 10, 100), 1.0), steps=np.array([0, 10, 66, 67, 10**9]))


@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_decay_is_keras_formula(staircase):
    def keras(t):
        p = t / 100
        return 0.5 / (1 + 0.3 * (math.floor(p) if staircase else p))

    assert_formula(InverseTimeDecay(0.5, 0.3, decay_steps=100, staircase=staircase), keras)


def test_inverse_time_decay_seed_form():
    # seeds 001/003: lr = lr_initial / (1 + decay * epoch)
    assert_formula(InverseTimeDecay(1.0, 0.01), lambda t: 1.0 / (1 + 0.01 * t))


@pytest.mark.parametrize("power", [0.5, 1.0, 2.0, 3.7])
def test_polynomial_decay_is_keras_formula(power):
    def keras(t):
        t = min(t, 1000)
        return (0.1 - 0.001) * (1 - t / 1000) ** power + 0.001

    assert_formula(PolynomialDecay(0.1, 0.001, 1000, power=power), keras)


def test_polynomial_decay_seed_form_reaches_zero():
    # seeds 001/003: lr = lr_initial * (1 - epoch / max_epoch) ** power
    assert_formula(
        PolynomialDecay(1.0, 0.0, 100, power=2.0), lambda t: (1 - min(t, 100) / 100) ** 2, steps=np.arange(0, 120)
    )


def test_polynomial_decay_cycle_uses_keras_semantics():
    def keras(t):
        decay_steps = 100 * (math.ceil(t / 100) if t > 0 else 1)
        return (1.0 - 0.1) * (1 - t / decay_steps) ** 2.0 + 0.1

    assert_formula(
        PolynomialDecay(1.0, 0.1, 100, power=2.0, cycle=True), keras, steps=np.array([0, 1, 99, 100, 101, 250, 10**9])
    )


@pytest.mark.parametrize("end_lr", [0.0, 0.001])
def test_cosine_decay_is_seed_003_formula(end_lr):
    # seed 003: eta_min + (eta_max - eta_min) * (1 + cos(t * pi / max_epochs)) / 2, held at eta_min afterwards
    def literal(t):
        return end_lr + 0.5 * (0.1 - end_lr) * (1 + math.cos(min(t, 1000) * math.pi / 1000))

    # The literal 1 + cos(.) cancels near the end: in float64 it is itself 1e-11 off there (ours is exact).
    assert_formula(CosineDecay(0.1, 1000, end_lr=end_lr), literal, mlx_rtol=3e-6, rtol=1e-9)


def test_cosine_decay_hand_computed_points():
    values = CosineDecay(1.0, 4)(np.array([0, 1, 2, 3, 4]))
    np.testing.assert_allclose(values, [1.0, (2 + math.sqrt(2)) / 4, 0.5, (2 - math.sqrt(2)) / 4, 0.0], atol=1e-15)


def test_per_epoch_evaluates_inner_schedule_at_epoch_index():
    inner = ExponentialDecay.from_rate(0.1, 0.05)
    assert_formula(PerEpoch(inner, 469), lambda t: 0.1 * math.exp(-0.05 * (t // 469)))


def test_per_epoch_wraps_a_plain_learning_rate_as_constant():
    assert PerEpoch(0.3, 10) == PerEpoch(Constant(0.3), 10)
