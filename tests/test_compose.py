"""Compositions and warmup-shaped schedules against their formulas written out literally.

Oracles: the optax definitions of ``join_schedules``, ``linear_schedule``, ``cosine_decay_schedule`` and
``warmup_cosine_decay_schedule`` re-typed below from optax's source, ``mlx.optimizers.linear_schedule``,
the Transformer ("Noam") formula, Hugging Face's ``get_inverse_sqrt_schedule`` and the WSD cases.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlx_lrsched.base import Schedule, from_config
from mlx_lrsched.compose import Clip, Join, PerEpoch, Product, Scale
from mlx_lrsched.decay import Constant, CosineDecay, ExponentialDecay, MultiStepDecay, PolynomialDecay, StepDecay
from mlx_lrsched.warmup import WSD, InverseSqrt, Linear, Warmup

mx = pytest.importorskip("mlx.core")

MAX_STEP = 2**63 - 1


def both_backends(schedule: Schedule, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The schedule at ``steps`` on the NumPy reference and on MLX (uint64 steps, as the optimizer passes)."""
    reference = np.asarray(schedule(steps))
    mlx_values = np.array(schedule(mx.array(steps.astype(np.uint64))), dtype=np.float64)
    return reference, mlx_values


def assert_formula(schedule, formula, steps, rtol=1e-12, mlx_rtol=4e-6, atol=1e-300):
    """Both backends equal the literal ``formula`` (the reference to ``rtol``/``atol``; MLX float32 to
    ``mlx_rtol`` wherever the value is at least 1e-6 of the peak, the precision contract)."""
    steps = np.asarray(sorted(set(steps)), dtype=np.int64)
    expected = np.array([formula(int(t)) for t in steps], dtype=np.float64)
    reference, mlx_values = both_backends(schedule, steps)
    np.testing.assert_allclose(reference, expected, rtol=rtol, atol=atol)
    visible = expected >= 1e-6 * schedule.peak
    np.testing.assert_allclose(mlx_values[visible], expected[visible], rtol=mlx_rtol, atol=0)
    assert (mlx_values >= 0).all() and np.isfinite(mlx_values).all()


def around(*points: int) -> list[int]:
    """Each point and its neighbours (non-negative)."""
    return [p + d for p in points for d in (-1, 0, 1) if p + d >= 0]


# --- optax, re-typed literally from optax/schedules (_join.py, _schedule.py), NumPy for jnp ------------


def optax_linear_schedule(init_value, end_value, transition_steps, transition_begin=0):
    def schedule(count):
        if transition_steps <= 0:  # optax logs and returns a constant
            return init_value
        count = np.clip(count - transition_begin, 0, transition_steps)
        frac = 1 - count / transition_steps
        return (init_value - end_value) * (frac**1) + end_value

    return schedule


def optax_cosine_decay_schedule(init_value, decay_steps, alpha=0.0, exponent=1.0):
    def schedule(count):
        count = np.minimum(count, decay_steps)
        cosine_decay = 0.5 * (1 + np.cos(np.pi * count / decay_steps))
        decayed = (1 - alpha) * cosine_decay**exponent + alpha
        return init_value * decayed

    return schedule


def optax_join_schedules(schedules, boundaries):
    def schedule(step):
        output = schedules[0](step)
        for boundary, later in zip(boundaries, schedules[1:], strict=True):
            output = np.where(step < boundary, output, later(step - boundary))
        return output

    return schedule


def optax_warmup_cosine_decay_schedule(init_value, peak_value, warmup_steps, decay_steps, end_value=0.0):
    alpha = 0.0 if peak_value == 0.0 else end_value / peak_value
    schedules = [
        optax_linear_schedule(init_value=init_value, end_value=peak_value, transition_steps=warmup_steps),
        optax_cosine_decay_schedule(init_value=peak_value, decay_steps=decay_steps - warmup_steps, alpha=alpha),
    ]
    return optax_join_schedules(schedules, [warmup_steps])


# --- Warmup ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("init", "peak", "warmup", "total", "end"),
    [(0.0, 1e-3, 100, 1000, 0.0), (1e-5, 3e-4, 2000, 100_000, 1e-5), (0.0, 1.0, 1, 2, 0.0), (0.5, 1.0, 7, 50, 0.2)],
)
def test_warmup_cosine_is_optax_warmup_cosine_decay_schedule(init, peak, warmup, total, end):
    ours = Warmup(CosineDecay(peak, total - warmup, end), warmup, init_lr=init)
    optax = optax_warmup_cosine_decay_schedule(init, peak, warmup, total, end)
    steps = [*around(0, warmup // 2, warmup, (warmup + total) // 2, total), 10 * total]
    assert_formula(ours, lambda t: float(optax(t)), steps, rtol=1e-10)


def warmup_weight(shape: str, d: float) -> float:
    """Fraction of the way from init_lr to the target after d = t / W of the warmup."""
    return {"linear": d, "cos": (1 - math.cos(math.pi * d)) / 2, "sqrt": math.sqrt(d), "constant": 0.0}[shape]


@pytest.mark.parametrize("shape", ["linear", "cos", "sqrt", "constant"])
@pytest.mark.parametrize("init", [0.0, 0.02])
def test_warmup_ramps_to_the_inner_schedules_first_value(shape, init):
    warmup, lr0, k = 40, 0.1, 0.003
    inner = ExponentialDecay.from_rate(lr0, k=k)

    def formula(t):
        if t < warmup:
            return init + (lr0 - init) * warmup_weight(shape, t / warmup)
        return lr0 * math.exp(-k * (t - warmup))

    assert_formula(Warmup(inner, warmup, init_lr=init, shape=shape), formula, [*range(0, 45), 100, 1000, 10_000])


def test_warmup_inner_schedule_sees_steps_since_warmup_end():
    inner = StepDecay(1.0, step_size=10, gamma=0.5)
    steps = np.arange(0, 200)
    np.testing.assert_array_equal(Warmup(inner, 25)(steps + 25), inner(steps))


def test_zero_warmup_is_the_inner_schedule():
    inner = CosineDecay(1.0, 100, 0.1)
    steps = np.arange(0, 150)
    np.testing.assert_array_equal(Warmup(inner, 0, init_lr=0.5)(steps), inner(steps))


def test_warmup_longer_than_the_run_keeps_ramping():
    # warmup >= total steps: the run only ever sees the ramp towards the inner schedule's first value
    schedule = Warmup(CosineDecay(1.0, 10), 10**9)
    assert_formula(schedule, lambda t: min(t, 10**9) / 10**9 if t < 10**9 else 1.0, [0, 1, 1000, 10**9 - 1, 10**9])


def test_warmup_wraps_a_plain_learning_rate():
    assert_formula(Warmup(0.1, 10), lambda t: 0.1 * min(t, 10) / 10, range(0, 15))


# --- Join --------------------------------------------------------------------------------------------


def test_join_is_optax_join_schedules():
    parts = [Linear(0.0, 1.0, 10), CosineDecay(1.0, 50, 0.1), ExponentialDecay(0.1, 0.5, decay_steps=20)]
    boundaries = [10, 60]
    optax = optax_join_schedules(
        [
            optax_linear_schedule(0.0, 1.0, 10),
            optax_cosine_decay_schedule(1.0, 50, alpha=0.1),
            lambda count: 0.1 * 0.5 ** (count / 20),  # optax exponential_decay(0.1, 20, 0.5)
        ],
        boundaries,
    )
    steps = [*range(0, 80), 100, 1000]
    assert_formula(Join(parts, boundaries), lambda t: float(optax(t)), steps, rtol=1e-10)


def test_join_later_schedule_starts_at_its_step_zero_on_the_boundary():
    schedule = Join([Constant(0.5), StepDecay(1.0, step_size=3, gamma=0.5)], [7])
    values = schedule(np.array([6, 7, 9, 10, 13]))
    np.testing.assert_array_equal(values, [0.5, 1.0, 1.0, 0.5, 0.25])


def test_join_of_one_schedule_is_that_schedule():
    inner = CosineDecay(1.0, 30)
    steps = np.arange(0, 40)
    np.testing.assert_array_equal(Join([inner])(steps), inner(steps))


def test_join_boundary_at_zero_skips_the_first_schedule():
    assert_formula(Join([Constant(9.0), Linear(1.0, 0.0, 4)], [0]), lambda t: max(4 - t, 0) / 4, range(0, 6))


def test_join_boundaries_are_exact_at_step_1e9():
    boundary = 10**9 + 3
    schedule = Join([Constant(1.0), Constant(0.25)], [boundary])
    steps = np.array([boundary - 1, boundary, boundary + 1])
    reference, mlx_values = both_backends(schedule, steps)
    np.testing.assert_array_equal(reference, [1.0, 0.25, 0.25])
    np.testing.assert_array_equal(mlx_values, [1.0, 0.25, 0.25])


# --- Scale, Product, Clip ----------------------------------------------------------------------------


def test_scale_multiplies_by_the_factor():
    assert_formula(
        Scale(CosineDecay(1.0, 100), 3e-4),
        lambda t: 3e-4 * 0.5 * (1 + math.cos(math.pi * min(t, 100) / 100)),
        around(0, 50, 99, 100),
    )


def test_product_multiplies_values_pointwise():
    schedule = Product([StepDecay(1.0, step_size=10, gamma=0.5), CosineDecay(2.0, 100), 0.1])

    def formula(t):
        return 0.5 ** (t // 10) * 2.0 * 0.5 * (1 + math.cos(math.pi * min(t, 100) / 100)) * 0.1

    assert_formula(schedule, formula, [*around(0, 10, 50, 99), 100, 200])


@pytest.mark.parametrize(("min_lr", "max_lr"), [(0.1, 0.8), (0.0, 0.5), (0.3, None), (0.4, 0.4)])
def test_clip_bounds_the_schedule(min_lr, max_lr):
    def formula(t):
        value = 0.5 * (1 + math.cos(math.pi * min(t, 100) / 100))
        value = max(value, min_lr)
        return value if max_lr is None else min(value, max_lr)

    assert_formula(Clip(CosineDecay(1.0, 100), min_lr, max_lr), formula, [*range(0, 101, 5), 1000])


# --- Linear, InverseSqrt, WSD ------------------------------------------------------------------------


@pytest.mark.parametrize(("init", "end", "steps"), [(0.0, 1e-3, 100), (1.0, 0.0, 10**9), (0.2, 0.7, 1), (0.5, 0.5, 7)])
def test_linear_is_mlx_linear_schedule(init, end, steps):
    def mlx_linear_schedule(step):  # mlx.optimizers.linear_schedule, re-typed
        step = min(step, steps)
        return step * ((end - init) / steps) + init

    # the re-typed form cancels near a zero end (ours does not), hence the absolute tolerance
    steps_to_check = [*around(0, steps // 2, steps), 2 * steps + 5]
    assert_formula(Linear(init, end, steps), mlx_linear_schedule, steps_to_check, rtol=1e-9, atol=1e-15)


def test_linear_of_zero_steps_is_the_end_value():
    assert_formula(Linear(1.0, 0.25, 0), lambda t: 0.25, [0, 1, 10**9])


@pytest.mark.parametrize(("peak", "warmup"), [(1e-3, 4000), (1.0, 1), (0.02, 37)])
def test_inverse_sqrt_is_the_noam_formula(peak, warmup):
    # Vaswani et al. 5.3, scaled to reach `peak` at t = W: lr = peak * sqrt(W) * min(t**-0.5, t * W**-1.5)
    def noam(t):
        return 0.0 if t == 0 else peak * math.sqrt(warmup) * min(t**-0.5, t * warmup**-1.5)

    assert_formula(InverseSqrt(peak, warmup), noam, [*around(0, warmup // 2, warmup), 10**6, 10**9], rtol=1e-10)


def test_inverse_sqrt_without_warmup_counts_from_one():
    assert_formula(InverseSqrt(0.5, 0), lambda t: 0.5 / math.sqrt(t + 1), [0, 1, 2, 3, 99, 10**9], rtol=1e-10)


@pytest.mark.parametrize(("warmup", "timescale"), [(100, 10_000), (0, 10_000), (100, 1)])
def test_inverse_sqrt_timescale_is_hugging_face_get_inverse_sqrt_schedule(warmup, timescale):
    def lr_lambda(current_step):  # transformers.optimization._get_inverse_sqrt_schedule_lr_lambda, re-typed
        if current_step < warmup:
            return float(current_step) / float(max(1, warmup))
        shift = timescale - warmup
        return 1.0 / math.sqrt((current_step + shift) / timescale)

    schedule = InverseSqrt(2e-3, warmup, timescale=timescale)
    assert_formula(schedule, lambda t: 2e-3 * lr_lambda(t), [*around(0, warmup, 50), 10**5, 10**9], rtol=1e-10)


def wsd_formula(peak, warmup, stable, decay, shape, end=0.0, init=0.0):
    def formula(t):
        if t < warmup:
            return init + (peak - init) * t / warmup
        if t < warmup + stable:
            return peak
        if t >= warmup + stable + decay:
            return end
        d = (t - warmup - stable) / decay
        if shape == "linear":
            return peak - (peak - end) * d
        if shape == "cos":
            return end + (peak - end) * (1 + math.cos(math.pi * d)) / 2
        return end + (peak - end) * (1 - math.sqrt(d))  # "1-sqrt" cooldown (Hägele et al. 2024)

    return formula


@pytest.mark.parametrize("shape", ["linear", "cos", "sqrt"])
@pytest.mark.parametrize(
    ("peak", "warmup", "stable", "decay", "end", "init"),
    [(1e-3, 100, 1000, 200, 0.0, 0.0), (3e-4, 2000, 10**8, 10**7, 3e-5, 1e-6), (1.0, 1, 1, 1, 0.0, 0.0)],
)
def test_wsd_is_warmup_then_stable_then_decay(shape, peak, warmup, stable, decay, end, init):
    schedule = WSD(peak, warmup, stable, decay, decay_shape=shape, end_lr=end, init_lr=init)
    total = warmup + stable + decay
    steps = [*around(0, warmup // 2, warmup, warmup + stable, warmup + stable + decay // 2, total), 3 * total]
    assert_formula(schedule, wsd_formula(peak, warmup, stable, decay, shape, end, init), steps, rtol=1e-9)


# --- degenerate cases --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "formula"),
    [
        (WSD(1.0, 0, 0, 0, end_lr=0.1), lambda t: 0.1),
        (WSD(1.0, 5, 0, 0, end_lr=0.1), lambda t: t / 5 if t < 5 else 0.1),
        (WSD(1.0, 0, 3, 0, end_lr=0.1), lambda t: 1.0 if t < 3 else 0.1),
        (WSD(1.0, 0, 3, 1, end_lr=0.1), lambda t: 1.0 if t <= 3 else 0.1),
        (WSD(1.0, 2, 0, 4, decay_shape="cos"), wsd_formula(1.0, 2, 0, 4, "cos")),
        (WSD(0.0, 3, 3, 3), lambda t: 0.0),
        (Warmup(CosineDecay(1.0, 1), 1), lambda t: 1.0 if t == 1 else 0.0),
        (Warmup(Constant(0.0), 4, init_lr=0.2), lambda t: 0.2 * (4 - min(t, 4)) / 4),
        (InverseSqrt(0.0, 0), lambda t: 0.0),
        (Clip(ExponentialDecay(1.0, 0.5), 0.3, 0.3), lambda t: 0.3),
        (Linear(0.0, 0.0, 3), lambda t: 0.0),
        (Join([Linear(0.0, 1.0, 0), Linear(1.0, 0.0, 0)], [1]), lambda t: 1.0 if t == 0 else 0.0),
    ],
)
def test_degenerate_configurations_are_finite_and_sensible(schedule, formula):
    steps = [*range(0, 12), 10**9, MAX_STEP]
    assert_formula(schedule, formula, steps)


# --- precision and the step range --------------------------------------------------------------------

PRECISION_CASES = [
    Warmup(CosineDecay(1e-3, 10**9 - 2000, 1e-6), 2000),
    Warmup(ExponentialDecay(0.1, 0.99999), 10**5, init_lr=1e-4, shape="cos"),
    Join([Linear(0.0, 1.0, 10**6), PolynomialDecay(1.0, 0.0, 10**9, 2.0)], [10**6]),
    Product([CosineDecay(1.0, 10**9), ExponentialDecay(1.0, 0.999_999_9)]),
    Scale(Clip(CosineDecay(1.0, 10**9), 1e-4), 3e-4),
    Linear(1.0, 0.0, 10**9),
    InverseSqrt(1e-3, 10**4),
    WSD(1e-3, 10**4, 5 * 10**8, 4 * 10**8, decay_shape="sqrt", end_lr=1e-5),
    WSD(1e-3, 10**6, 10**8, 10**9, decay_shape="cos"),
    PerEpoch(Warmup(CosineDecay(1.0, 10**6), 10**3), 1000),
]


def log_steps() -> np.ndarray:
    return np.unique(np.concatenate([[0, 1, 2], np.geomspace(1, 1e9, 400).astype(np.int64)]))


@pytest.mark.parametrize("schedule", PRECISION_CASES, ids=lambda s: type(s).__name__)
def test_mlx_matches_the_float64_reference_up_to_step_1e9(schedule):
    steps = np.unique(np.concatenate([log_steps(), *(np.array(around(b)) for b in schedule.phase_boundaries)]))
    reference, mlx_values = both_backends(schedule, steps)
    visible = reference >= 1e-6 * schedule.peak
    np.testing.assert_allclose(mlx_values[visible], reference[visible], rtol=4e-6, atol=0)


@pytest.mark.parametrize("schedule", PRECISION_CASES, ids=lambda s: type(s).__name__)
def test_phase_boundaries_are_exact_in_float32(schedule):
    steps = np.array(schedule.phase_boundaries, dtype=np.int64)
    reference, mlx_values = both_backends(schedule, steps)
    np.testing.assert_array_equal(mlx_values, reference.astype(np.float32))


@pytest.mark.parametrize("schedule", PRECISION_CASES, ids=lambda s: type(s).__name__)
def test_every_step_up_to_2_63_is_finite_and_within_the_peak(schedule):
    steps = np.array([0, 1, 10**12, 10**18, MAX_STEP], dtype=np.int64)
    for values in both_backends(schedule, steps):
        assert np.isfinite(values).all() and (values >= 0).all()
        assert (values <= schedule.peak * (1 + 1e-7)).all()


@pytest.mark.parametrize("schedule", PRECISION_CASES, ids=lambda s: type(s).__name__)
def test_peak_bounds_every_value(schedule):
    values = schedule(np.unique(np.concatenate([log_steps(), schedule.phase_boundaries])))
    assert values.max() <= schedule.peak


def test_compiled_training_step_sees_the_composition():
    schedule = Join([Warmup(CosineDecay(1.0, 100), 10), Constant(0.05)], [110])
    compiled = mx.compile(lambda step: schedule(step))
    for step in [0, 5, 10, 60, 109, 110, 10**9]:
        expected = float(schedule(np.int64(step)))
        assert float(compiled(mx.array(step, dtype=mx.uint64))) == pytest.approx(expected, rel=4e-6, abs=1e-12)


# --- peak and phase boundaries of nested compositions ------------------------------------------------


def test_nested_phase_boundaries_are_shifted_where_the_child_sees_shifted_steps():
    schedule = Join(
        [Warmup(MultiStepDecay(1.0, [5, 30]), 10), WSD(0.5, 2, 3, 4), Scale(CosineDecay(1.0, 7), 0.1)],
        [20, 100],
    )
    # Warmup ends at 10, its MultiStep milestones 5 and 30 land at 15 and 40 (40 is past the boundary at
    # 20, never reached); WSD starts at 20: 22, 25, 29; the cosine starts at 100 and ends at 107.
    assert schedule.phase_boundaries == (10, 15, 20, 22, 25, 29, 100, 107)


def test_per_epoch_phase_boundaries_are_in_updates():
    assert PerEpoch(WSD(1.0, 1, 2, 3), steps_per_epoch=100).phase_boundaries == (100, 300, 600)


@pytest.mark.parametrize(
    ("schedule", "peak"),
    [
        (Warmup(CosineDecay(1e-3, 100), 10, init_lr=1e-5), 1e-3),
        (Warmup(Constant(0.1), 10, init_lr=0.3, shape="cos"), 0.3),
        (Join([Constant(0.1), Constant(0.4), Constant(0.2)], [5, 10]), 0.4),
        (Scale(Constant(2.0), 0.25), 0.5),
        (Product([Constant(2.0), Constant(0.25), CosineDecay(3.0, 5)]), 1.5),
        (Clip(Constant(2.0), 0.0, 1.0), 1.0),
        (Clip(Constant(0.01), 0.1), 0.1),
        (Linear(0.1, 0.9, 10), 0.9),
        (InverseSqrt(0.7, 10, init_lr=0.1), 0.7),
        (WSD(0.6, 10, 10, 10, end_lr=0.1), 0.6),
    ],
)
def test_peak_is_the_largest_value(schedule, peak):
    assert schedule.peak == pytest.approx(peak, rel=1e-15)
    assert schedule.curve(200).max() == pytest.approx(peak, rel=1e-12)


# --- construction: bad inputs and config round trips -------------------------------------------------


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: Warmup("cos", 10), TypeError, "Warmup: schedule must be a Schedule"),
        (lambda: Warmup(Constant(1.0), -1), ValueError, "Warmup: warmup_steps must be an integer in"),
        (lambda: Warmup(Constant(1.0), 1.5), TypeError, "Warmup: warmup_steps must be an integer"),
        (lambda: Warmup(Constant(1.0), 10, init_lr=-0.1), ValueError, "Warmup: init_lr must be a finite number"),
        (lambda: Warmup(Constant(1.0), 10, shape="exp"), ValueError, "Warmup: shape must be one of"),
        (lambda: Join([], []), ValueError, "Join: schedules must not be empty"),
        (lambda: Join(Constant(1.0), []), TypeError, "Join: schedules must be a list of schedules"),
        (lambda: Join([Constant(1.0), Constant(2.0)], []), ValueError, "Join: boundaries must not be empty"),
        (lambda: Join([Constant(1.0), Constant(2.0)], [5, 6]), ValueError, "Join: boundaries must have one entry"),
        (lambda: Join([Constant(1.0)] * 3, [6, 5]), ValueError, "Join: boundaries must be strictly increasing"),
        (lambda: Join([Constant(1.0), None], [5]), TypeError, r"Join: schedules\[1\] must be a Schedule"),
        (lambda: Join([Constant(1.0), Constant(1.0)], [-5]), ValueError, r"Join: boundaries\[0\] must be an integer"),
        (lambda: Scale(Constant(1.0), -2.0), ValueError, "Scale: factor must be a finite number"),
        (lambda: Scale(Constant(1.0), math.inf), ValueError, "Scale: factor must be a finite number"),
        (lambda: Product([]), ValueError, "Product: schedules must not be empty"),
        (lambda: Product([Constant(1.0), "x"]), TypeError, r"Product: schedules\[1\] must be a Schedule"),
        (lambda: Clip(Constant(1.0), -0.1), ValueError, "Clip: min_lr must be a finite number"),
        (lambda: Clip(Constant(1.0), 0.5, 0.1), ValueError, r"Clip: max_lr must be a finite number in \[0.5"),
        (lambda: Linear(-1.0, 0.0, 10), ValueError, "Linear: init_lr must be a finite number"),
        (lambda: Linear(1.0, math.nan, 10), ValueError, "Linear: end_lr must be a finite number"),
        (lambda: Linear(1.0, 0.0, -1), ValueError, "Linear: steps must be an integer in"),
        (lambda: InverseSqrt(-1.0, 10), ValueError, "InverseSqrt: peak_lr must be a finite number"),
        (lambda: InverseSqrt(1.0, 10.0), TypeError, "InverseSqrt: warmup_steps must be an integer"),
        (lambda: InverseSqrt(1.0, 10, timescale=0), ValueError, "InverseSqrt: timescale must be an integer in"),
        (lambda: WSD(1.0, -1, 10, 10), ValueError, "WSD: warmup_steps must be an integer in"),
        (lambda: WSD(1.0, 10, True, 10), TypeError, "WSD: stable_steps must be an integer"),
        (lambda: WSD(1.0, 10, 10, -3), ValueError, "WSD: decay_steps must be an integer in"),
        (lambda: WSD(1.0, 10, 10, 10, decay_shape="exp"), ValueError, "WSD: decay_shape must be one of"),
        (lambda: WSD(1.0, 10, 10, 10, end_lr=2.0), ValueError, r"WSD: end_lr must be a finite number in \[0, 1\]"),
        (lambda: WSD(1.0, 10, 10, 10, init_lr=1.5), ValueError, r"WSD: init_lr must be a finite number in \[0, 1\]"),
        (lambda: WSD(1.0, 2**62, 2**62, 0), ValueError, "WSD: warmup_steps \\+ stable_steps \\+ decay_steps"),
    ],
)
def test_bad_arguments_are_rejected_naming_the_parameter(build, error, message):
    with pytest.raises(error, match=message):
        build()


ROUND_TRIP_CASES = [
    Warmup(CosineDecay(1e-3, 1000, 1e-5), 100, init_lr=1e-6, shape="cos"),
    Join([Warmup(CosineDecay(1.0, 100), 10), Constant(0.05)], [110]),
    Join([Linear(0.0, 1.0, 5), WSD(1.0, 0, 10, 20, "sqrt", 0.1), InverseSqrt(0.1, 0, timescale=7)], [5, 35]),
    Product([Scale(Clip(ExponentialDecay(1.0, 0.5, 10), 0.1, 0.9), 0.3), StepDecay(1.0, 3)]),
    PerEpoch(Join([Warmup(0.1, 2), MultiStepDecay(0.1, [3, 6])], [2]), 50),
    Clip(Warmup(InverseSqrt(1.0, 20), 5, shape="constant"), 0.0, None),
    Linear(0.2, 0.7, 0),
]


@pytest.mark.parametrize("schedule", ROUND_TRIP_CASES, ids=lambda s: type(s).__name__)
def test_config_round_trip_rebuilds_an_equal_schedule(schedule):
    rebuilt = from_config(schedule.to_json())
    assert rebuilt == schedule
    assert rebuilt.to_config() == schedule.to_config()
    steps = np.arange(0, 300)
    np.testing.assert_array_equal(rebuilt(steps), schedule(steps))


def test_config_of_a_nested_composition_nests_child_configs():
    config = Join([Warmup(CosineDecay(1.0, 100), 10), Constant(0.05)], [110]).to_config()
    assert config == {
        "name": "Join",
        "schedules": [
            {
                "name": "Warmup",
                "schedule": {
                    "name": "CosineDecay",
                    "init_lr": 1.0,
                    "decay_steps": 100,
                    "end_lr": 0.0,
                    "exponent": 1.0,
                    "num_cycles": 0.5,
                },
                "warmup_steps": 10,
                "init_lr": 0.0,
                "shape": "linear",
                "overlay": False,
                "peak_lr": None,
            },
            {"name": "Constant", "lr": 0.05},
        ],
        "boundaries": [110],
    }


def test_a_decay_phase_that_ends_past_the_last_step_is_evaluated_without_overflow():
    # WSD's decay here starts at step 1,455,430,433,005 and would end past 2**63 - 1 (found by the CI profile).
    wsd = WSD(0.5, warmup_steps=0, stable_steps=1_455_430_432_994, decay_steps=9_223_370_581_424_342_803)
    schedule = Warmup(wsd, warmup_steps=11)
    decay_begin = 11 + 1_455_430_432_994
    steps = np.array([decay_begin, 2**62, MAX_STEP], dtype=np.int64)
    # the literal WSD formula: peak * (1 - d), d = (t - decay_begin) / decay_steps, with 1 - d in exact integers
    decay_steps = 9_223_370_581_424_342_803
    expected = [0.5 * (decay_steps - (t - decay_begin)) / decay_steps for t in steps.tolist()]
    np.testing.assert_allclose(schedule(steps), expected, rtol=1e-12)
    np.testing.assert_allclose(np.array(schedule(mx.array(steps.astype(np.uint64)))), expected, rtol=5e-7)
