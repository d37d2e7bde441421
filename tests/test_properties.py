"""Properties every pure schedule holds for random valid configs at random steps, on every backend.

Configs come from the strategy registry in ``strategies.py`` (nested compositions included); steps span
``[0, 2**63)`` with extra weight next to each schedule's phase boundaries. Every schedule class gets its own
run, so every class is drawn: a few examples each by default (``quick``), the profile's count in the
``slow`` run (CI, with the ``ci`` Hypothesis profile).

Properties:

1. finite everywhere;
2. ``>= 0`` unless the schedule is ``signed`` (then ``|value| <= peak``);
3. ``<= peak`` (float32 may round up by ``1e-6`` relative);
4. MLX float32 within 5e-7 relative of the NumPy float64 reference where that is >= 1e-6 of the peak;
5. every step representation (NumPy int64/uint64, MLX uint64/int64/int32, Python int) gives the
   same value as the others of its backend, bit for bit, with the step's shape;
6. monotone within each phase where the schedule is monotone;
7. periodic schedules repeat exactly, on both backends.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pytest
from conftest import log_steps
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import (
    STATEFUL,
    STRATEGIES,
    config_strategy,
    public_schedule_names,
    pure_names,
    schedule_strategy,
)

from mlx_lrsched import base
from mlx_lrsched._shapes import rational
from mlx_lrsched._xp import MAX_STEP
from mlx_lrsched.compose import Clip, Join, PerEpoch, Ramp, Scale, Shift
from mlx_lrsched.cyclic import CosineRestarts, CyclicExponentialDecay, CyclicLR, CyclicMomentum
from mlx_lrsched.decay import (
    Constant,
    CosineDecay,
    ExponentialDecay,
    InverseTimeDecay,
    MultiStepDecay,
    PiecewiseConstant,
    PolynomialDecay,
    StepDecay,
)
from mlx_lrsched.interpolate import PiecewiseInterpolate
from mlx_lrsched.noise import Noisy
from mlx_lrsched.one_cycle import OneCycle, OneCycleMomentum
from mlx_lrsched.restarts import Restarts
from mlx_lrsched.warmup import WSD, InverseSqrt, Linear, Warmup

mx = pytest.importorskip("mlx.core")

PURE = pure_names()
RELATIVE_TOLERANCE = 5e-7  # DESIGN.md's precision target
NOISE_FACTOR_TOLERANCE = 3e-7
"""Noisy's float32 factor ``1 + n`` (tests/test_noise.py): a noisy schedule is a product, whose errors add."""


def tolerance(schedule: base.Schedule) -> float:
    """The precision target, plus the noise factor's own error for each Noisy layer of a composition."""
    layers = sum(isinstance(node, Noisy) for node in formula_parts(schedule))
    return RELATIVE_TOLERANCE + layers * NOISE_FACTOR_TOLERANCE


FLOOR = 1e-6  # of the peak: below it the relative comparison is not required
ROUNDING = {"numpy": 1e-12, "mlx": 1e-6}

hypothesis_settings = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def test_every_registered_schedule_has_a_strategy():
    missing = sorted(set(public_schedule_names()) - set(STRATEGIES))
    assert not missing, f"no Hypothesis strategy in tests/strategies.py for {missing}"
    assert set(STRATEGIES) <= set(public_schedule_names()), "a strategy for a schedule that no longer exists"
    assert set(STRATEGIES) >= STATEFUL


# ------------------------------------------------------------------------------------------ steps


def _near(points: Sequence[int], spread: int = 2) -> list[int]:
    return sorted({p + d for p in points for d in range(-spread, spread + 1) if 0 <= p + d <= MAX_STEP})


@st.composite
def steps_for(draw: st.DrawFn, schedule: base.Schedule, max_size: int = 12) -> list[int]:
    """Sorted unique steps in [0, 2**63): random, log-uniform, small, the extremes and next to boundaries."""
    anywhere = st.integers(0, MAX_STEP)
    log_uniform = st.integers(0, 62).flatmap(lambda e: st.integers(2**e, 2 ** (e + 1) - 1))
    special = st.sampled_from([0, 1, 2, 2**24, 2**31 - 1, 2**31, 2**53 + 1, 2**62, MAX_STEP - 1, MAX_STEP])
    sources = [anywhere, log_uniform, st.integers(0, 1000), special]
    boundaries = _near(schedule.phase_boundaries[:16])
    if boundaries:
        sources.append(st.sampled_from(boundaries))
    steps = draw(st.lists(st.one_of(sources), min_size=1, max_size=max_size))
    return sorted(set(steps))


# ---------------------------------------------------------------------------------------- helpers


def reference(schedule: base.Schedule, steps: Sequence[int]) -> np.ndarray:
    return np.asarray(schedule(np.array(steps, dtype=np.int64)), dtype=np.float64)


def product(schedule: base.Schedule, steps: Sequence[int]) -> np.ndarray:
    return np.array(schedule(mx.array(steps, dtype=mx.uint64)), dtype=np.float64)


def relative_error(actual: np.ndarray, expected: np.ndarray, floor: float) -> np.ndarray:
    mask = np.abs(expected) >= floor
    denominator = np.where(expected == 0, 1.0, np.abs(expected))
    return np.where(mask, np.abs(actual - expected) / denominator, 0.0)


def assert_in_range(schedule: base.Schedule, values: np.ndarray, backend: str, steps: Sequence[int]) -> None:
    """Properties 1-3."""
    bad = ~np.isfinite(values)
    assert not bad.any(), f"{backend}: non-finite value at steps {np.array(steps)[bad]}: {values[bad]}"
    if not schedule.signed:
        negative = values < 0
        assert not negative.any(), f"{backend}: negative value at steps {np.array(steps)[negative]}: {values[negative]}"
    bound = schedule.peak * (1 + ROUNDING[backend])
    above = np.abs(values) > bound
    assert not above.any(), (
        f"{backend}: above peak {schedule.peak!r} at steps {np.array(steps)[above]}: {values[above]}"
    )


def assert_contract(schedule: base.Schedule, steps: list[int]) -> None:
    """Properties 1-4 on both backends."""
    expected = reference(schedule, steps)
    actual = product(schedule, steps)
    assert_in_range(schedule, expected, "numpy", steps)
    assert_in_range(schedule, actual, "mlx", steps)
    # Below float32's smallest normal number (1.2e-38) float32 cannot hold the value at all: a schedule whose
    # whole range lies there (exp_range with gamma = 1e-308) is compared only above it.
    errors = relative_error(actual, expected, max(FLOOR * schedule.peak, float(np.finfo(np.float32).tiny)))
    worst = int(np.argmax(errors))
    assert errors[worst] <= tolerance(schedule), (
        f"MLX {actual[worst]!r} vs NumPy {expected[worst]!r} at step {steps[worst]}: relative {errors[worst]:.3g}"
    )


def assert_representations_agree(schedule: base.Schedule, steps: list[int]) -> None:
    """Property 5."""
    as_int64 = schedule(np.array(steps, dtype=np.int64))
    as_uint64 = schedule(np.array(steps, dtype=np.uint64))
    assert as_int64.dtype == as_uint64.dtype == np.float64 and as_int64.shape == (len(steps),)
    np.testing.assert_array_equal(as_uint64, as_int64)
    scalar = schedule(np.uint64(steps[0]))
    assert isinstance(scalar, np.float64) and scalar == as_int64[0]

    mlx_uint64 = schedule(mx.array(steps, dtype=mx.uint64))
    assert mlx_uint64.dtype == mx.float32 and mlx_uint64.shape == (len(steps),)
    expected = np.array(mlx_uint64)
    np.testing.assert_array_equal(np.array(schedule(mx.array(steps, dtype=mx.int64))), expected)
    small = [i for i, step in enumerate(steps) if step < 2**31]
    if small:
        as_int32 = schedule(mx.array([steps[i] for i in small], dtype=mx.int32))
        np.testing.assert_array_equal(np.array(as_int32), expected[small])
    matrix = schedule(mx.array(steps, dtype=mx.uint64).reshape(1, -1))
    assert matrix.shape == (1, len(steps))
    for i in (0, len(steps) - 1):
        python = schedule(steps[i])
        assert isinstance(python, mx.array) and python.dtype == mx.float32 and python.shape == ()
        assert python.item() == expected[i], f"Python int step {steps[i]}: {python.item()!r} != {expected[i]!r}"


# -------------------------------------------------------------------------------------- monotone


Segment = tuple[int, int, int]
"""``(first, last, direction)``: on steps ``first..last`` the schedule never decreases (+1) or increases (-1)."""


def _towards(start: float, end: float) -> int:
    return 1 if end >= start else -1


def monotone_segments(schedule: base.Schedule) -> list[Segment]:
    """Step ranges where ``schedule`` is monotone by construction (empty when nothing is claimed)."""
    whole = (0, MAX_STEP)
    s = schedule
    if isinstance(s, Constant):
        return [(*whole, -1)]
    if isinstance(s, (StepDecay, MultiStepDecay, InverseTimeDecay)):
        return [(*whole, -1)]
    if isinstance(s, ExponentialDecay):
        return [(*whole, -1 if s.decay_rate <= 1.0 else 1)]
    if isinstance(s, PiecewiseConstant):
        values = list(s.values)
        if values == sorted(values):
            return [(*whole, 1)]
        if values == sorted(values, reverse=True):
            return [(*whole, -1)]
        return []
    if isinstance(s, (PolynomialDecay, CosineDecay)):
        if (isinstance(s, PolynomialDecay) and s.cycle) or (isinstance(s, CosineDecay) and s.num_cycles != 0.5):
            return []
        return [(*whole, _towards(s.init_lr, s.end_lr))]
    if isinstance(s, PiecewiseInterpolate):
        values = list(s.values)
        return [(*whole, 1)] if values == sorted(values) else [(*whole, -1)] if values == sorted(values)[::-1] else []
    if isinstance(s, Linear):
        return [(*whole, _towards(s.init_lr, s.end_lr))]
    if isinstance(s, Ramp):
        return [(*whole, _towards(s.start, s.end))]
    if isinstance(s, InverseSqrt):
        return [(0, s.warmup_steps, _towards(s.init_lr, s.peak_lr)), (s.warmup_steps, MAX_STEP, -1)]
    if isinstance(s, WSD):
        if s.stable_steps + s.decay_steps == 0:  # no phase after the warmup: step W already holds end_lr
            return [(0, max(s.warmup_steps - 1, 0), 1), (s.warmup_steps, MAX_STEP, -1)]
        return [(0, s.warmup_steps, 1), (s.warmup_steps, MAX_STEP, -1)]
    if isinstance(s, (OneCycle, OneCycleMomentum)):
        cycle = s if isinstance(s, OneCycle) else s.schedule
        # the last step of the warmup (PyTorch's float phase end); the step after it is already annealing
        top = min(max(math.floor(float(cycle.pct_start * cycle.total_steps) - 1), 0), cycle.total_steps - 1)
        rate = [(0, top, 1), (top + 1, MAX_STEP, -1)]
        return rate if isinstance(s, OneCycle) else [(first, last, -direction) for first, last, direction in rate]
    if isinstance(s, (CyclicLR, CyclicMomentum)) and (s if isinstance(s, CyclicLR) else s.schedule).mode != "exp_range":
        # the first cycle: up to the peak and back down (the momentum: down and back up)
        cyclic = s if isinstance(s, CyclicLR) else s.schedule
        sign = 1 if isinstance(s, CyclicLR) else -1
        if cyclic.cycle_steps == cyclic.step_size_up:  # a sawtooth: it drops at the end of the cycle
            return [(0, cyclic.step_size_up - 1, sign)]
        return [(0, cyclic.step_size_up, sign), (cyclic.step_size_up, cyclic.cycle_steps, -sign)]
    if isinstance(s, (CosineRestarts, Restarts)):  # the first cycle, whole or not
        first = math.ceil(s.first_period_steps) - 1
        return [(0, first, _towards(s.init_lr, s.end_lr))]
    if isinstance(s, Warmup) and s.warmup_steps > 0:
        # up to the target; with peak_lr the schedule may take over at step W from elsewhere
        last = s.warmup_steps - 1 if s.peak_lr is not None else s.warmup_steps
        return [(0, last, _towards(s.init_lr, s._target()))]
    if isinstance(s, Shift):
        return [(max(a - s.steps, 0), b - s.steps, d) for a, b, d in monotone_segments(s.schedule) if b >= s.steps]
    if isinstance(s, (Scale, PerEpoch, Clip)):
        inner = monotone_segments(s.schedule)
        if isinstance(s, PerEpoch):
            epoch = s.steps_per_epoch
            inner = [
                (a * epoch, min(b * epoch + epoch - 1, MAX_STEP), d) for a, b, d in inner if a <= MAX_STEP // epoch
            ]
        return inner
    return []


def assert_monotone(schedule: base.Schedule, segment: Segment, steps: list[int]) -> None:
    first, last, direction = segment
    inside = sorted({first, last, *(step for step in steps if first <= step <= last)})
    for backend, values in (("numpy", reference(schedule, inside)), ("mlx", product(schedule, inside))):
        slack = ROUNDING[backend] * 4 * max(schedule.peak, 1e-300)
        steps_moved = np.diff(values) * direction
        wrong = steps_moved < -slack
        assert not wrong.any(), (
            f"{backend}: not {'non-decreasing' if direction > 0 else 'non-increasing'} on [{first}, {last}]: "
            f"steps {np.array(inside)[:-1][wrong]} -> values {values[:-1][wrong]} then {values[1:][wrong]}"
        )


# -------------------------------------------------------------------------------------- periodic


def period_of(schedule: base.Schedule) -> int | None:
    """The exact period of a periodic schedule, or None."""
    s = schedule
    if isinstance(s, Constant):
        return 1
    if isinstance(s, CyclicLR) and s.mode == "triangular":
        return s.cycle_steps
    if isinstance(s, (CosineRestarts, Restarts)) and s.t_mult == 1 and s.m_mul == 1.0 and s.cycle_limit is None:
        return rational(s.first_period_steps).numerator  # a period of p / q steps repeats every p steps
    if isinstance(s, CyclicExponentialDecay) and s.decay_rate == 1.0:
        return s.period_steps
    if isinstance(s, (Scale, Clip)):
        return period_of(s.schedule)
    if isinstance(s, PerEpoch):
        inner = period_of(s.schedule)
        return None if inner is None else inner * s.steps_per_epoch
    return None


def assert_periodic(schedule: base.Schedule, period: int, steps: list[int]) -> None:
    for shift in (period, 2 * period):
        starts = [step for step in {0, *steps} if step <= MAX_STEP - shift]
        if not starts:
            continue
        later = [step + shift for step in starts]
        np.testing.assert_array_equal(reference(schedule, later), reference(schedule, starts))
        np.testing.assert_array_equal(product(schedule, later), product(schedule, starts))


# ------------------------------------------------------------------------------------ known package bugs


def _steep_curve(node: base.Schedule) -> bool:
    """A curve raised to a power (optax's ``exponent``, timm's ``k_decay``) steep enough to amplify float32's
    rounding of its fraction past 5e-7: any power on the cosine, a power above 2 on the others."""
    if not isinstance(node, (Ramp, Restarts, CosineDecay, CosineRestarts)):
        return False
    shape = "cos" if isinstance(node, (CosineDecay, CosineRestarts)) else node.shape
    exponent, k = getattr(node, "exponent", 1.0), getattr(node, "k_decay", 1.0)
    if shape == "cos":
        return exponent != 1.0 or k != 1.0
    return shape != "tanh" and exponent * max(k, 1.0) > 2.0


def curve_bound(node: base.Schedule) -> float:
    """The documented precision of a curve with a power: the power times float32's error in its fraction."""
    exponent, k = getattr(node, "exponent", 1.0), getattr(node, "k_decay", 1.0)
    return 4e-7 * max(1.0, exponent) * max(1.0, k)


KNOWN_ISSUES: dict[str, tuple[Callable[[base.Schedule], bool], str]] = {
    "curve with a power": (
        _steep_curve,
        "B(x**k)**e amplifies float32's ~1e-7 error in the fraction x by e * k: 6.9e-7 relative for the cosine "
        "at e <= 2, 2.6e-6 at e <= 8 (test_a_curve_with_a_power_is_within_its_documented_bound)",
    ),
    "tanh on growing cycles": (
        lambda node: isinstance(node, Restarts) and node.shape == "tanh" and node.t_mult != 1.0,
        "exp(2 (lb (1 - x) + ub x)) on a cycle whose length changes is a float32 exp of a rounded argument: up to "
        "7.5e-6 relative at lb, ub = -19.5, 4.1 (test_tanh_on_growing_cycles_is_within_its_documented_bound)",
    ),
    "PolynomialDecay power > 6": (
        lambda node: isinstance(node, PolynomialDecay) and node.power > 6.0,
        "r ** p in float32 loses precision as p grows: 5.3e-7 relative at p = 8, 2e-6 at p = 12 where the value "
        "is a few 1e-6 of the peak (test_polynomial_decay_with_a_large_power_meets_the_precision_target)",
    ),
}
"""Reported package bugs: name -> (a predicate on one node of a schedule, the bug). The property tests set aside
schedules containing such a node (``assume``), so every other example still counts; each bug has a strict xfail
regression test below, which flips when the bug is fixed: then delete its entry here."""


def formula_parts(schedule: base.Schedule) -> Iterator[base.Schedule]:
    """The schedule, what it is lowered to, and every schedule nested in either: what its formula is made of."""
    yield schedule
    equivalent = base.lowered(schedule)
    if equivalent is not schedule:
        yield from formula_parts(equivalent)
    for child in schedule.children():
        yield from formula_parts(child)


def known_issue(schedule: base.Schedule) -> str | None:
    """The name of a reported package bug that ``schedule`` runs into, if any."""
    for name, (affects, _) in KNOWN_ISSUES.items():
        if any(affects(part) for part in formula_parts(schedule)):
            return name
    return None


# ------------------------------------------------------------------------------ one run per schedule class

QUICK_EXAMPLES = max(5, settings.default.max_examples // 4)
RUNS = [
    pytest.param(QUICK_EXAMPLES, id="quick"),
    pytest.param(settings.default.max_examples, id="full", marks=pytest.mark.slow),
]
"""Every class gets its own run: a few examples each by default, the profile's count in the slow (CI) run."""

MONOTONE = [name for name in PURE if name not in {"Join", "Product", "CyclicExponentialDecay", "Noisy"}]


@pytest.mark.parametrize("examples", RUNS)
@pytest.mark.parametrize("name", PURE)
def test_contract_holds_for_each_schedule_class(name, examples):
    @settings(hypothesis_settings, max_examples=examples)
    @given(data=st.data(), schedule=schedule_strategy(name))
    def check(data, schedule):
        assume(known_issue(schedule) is None)
        steps = data.draw(steps_for(schedule))
        assert_contract(schedule, steps)
        assert_representations_agree(schedule, steps[:6])

    check()


@pytest.mark.parametrize("examples", RUNS)
@pytest.mark.parametrize("name", MONOTONE)
def test_monotone_phases_hold_for_each_schedule_class(name, examples):
    @settings(hypothesis_settings, max_examples=examples)
    @given(data=st.data(), schedule=schedule_strategy(name, depth=1))
    def check(data, schedule):
        # the known issues are of precision (5e-7), not of direction: the monotone slack is 4e-6 of the peak
        segments = monotone_segments(schedule)
        assume(segments)
        assert_monotone(schedule, data.draw(st.sampled_from(segments)), data.draw(steps_for(schedule, max_size=24)))

    check()


PERIODIC_LEAVES = {
    "Constant": config_strategy("Constant"),
    "CyclicLR": config_strategy("CyclicLR").map(lambda c: {**c, "mode": "triangular"}),
    "CosineRestarts": config_strategy("CosineRestarts").map(
        lambda c: {**c, "t_mult": 1, "m_mul": 1.0, "cycle_limit": None}
    ),
    "Restarts": config_strategy("Restarts").map(lambda c: {**c, "t_mult": 1, "m_mul": 1.0, "cycle_limit": None}),
    "CyclicExponentialDecay": config_strategy("CyclicExponentialDecay").map(lambda c: {**c, "decay_rate": 1.0}),
}
_periodic_leaf = st.one_of(list(PERIODIC_LEAVES.values()))
PERIODIC = {
    **PERIODIC_LEAVES,
    **{name: STRATEGIES[name].factory(_periodic_leaf) for name in ("Scale", "Clip", "PerEpoch")},
}
"""Configs of schedules that are periodic by construction (period given by :func:`period_of`)."""


def periodic_cases(names: Sequence[str] = tuple(PERIODIC)) -> st.SearchStrategy[tuple[base.Schedule, int]]:
    def with_period(config: dict[str, object]) -> tuple[base.Schedule, int]:
        schedule = base.from_config(config)
        period = period_of(schedule)
        assert period is not None, f"{schedule!r} is built periodic but period_of finds no period"
        return schedule, period

    return st.one_of([PERIODIC[name] for name in names]).map(with_period)


@pytest.mark.parametrize("examples", RUNS)
@pytest.mark.parametrize("name", sorted(PERIODIC))
def test_periodic_schedules_repeat_exactly_for_each_class(name, examples):
    @settings(hypothesis_settings, max_examples=examples)
    @given(data=st.data(), case=periodic_cases([name]))
    def check(data, case):
        schedule, period = case
        assume(known_issue(schedule) is None)
        assert_periodic(schedule, period, data.draw(steps_for(schedule)))

    check()


# ---------------------------------------------------------------- the oracles of the properties above


def test_monotone_check_catches_a_non_monotone_schedule():
    bumpy = PiecewiseConstant([10, 20], [1.0, 0.5, 0.8])
    assert monotone_segments(bumpy) == []
    with pytest.raises(AssertionError, match="non-increasing"):
        assert_monotone(bumpy, (0, MAX_STEP, -1), [5, 15, 25])


def test_periodic_check_catches_a_wrong_period():
    with pytest.raises(AssertionError):
        assert_periodic(CyclicLR(0.1, 1.0, step_size_up=4), 7, [0, 1, 2, 3])


def test_periods_and_segments_are_claimed_where_the_formula_says():
    assert period_of(CyclicLR(0.1, 1.0, 3, 5)) == 8
    assert period_of(CyclicLR(0.1, 1.0, 3, mode="triangular2")) is None
    assert period_of(CosineRestarts(1.0, 7, t_mult=2)) is None
    assert period_of(PerEpoch(CosineRestarts(1.0, 7), 3)) == 21
    assert monotone_segments(WSD(1.0, 5, 10, 20)) == [(0, 5, 1), (5, MAX_STEP, -1)]
    assert monotone_segments(PerEpoch(Linear(1.0, 0.0, 4), 10)) == [(0, MAX_STEP, -1)]
    assert math.isclose(CyclicLR(0.0, 1.0, 2)(np.int64(2)), 1.0)


# ------------------------------------------------------------- regressions the properties found (minimal)


@pytest.mark.parametrize(
    "schedule",
    [
        PolynomialDecay(0.0, 1.0, decay_steps=5, power=0.03125, cycle=True),  # rising cycle: 1 - r**p cancelled
        PolynomialDecay(0.0, 10.0, decay_steps=1000, power=1e-3, cycle=True),
        PolynomialDecay(5.0, 0.0, decay_steps=697_216_471_201_129_793, power=67.0),  # r**p with r rounded
        PolynomialDecay(0.0, 1.0, decay_steps=2**62, power=1e-3),
    ],
    ids=repr,
)
def test_polynomial_decay_matches_the_reference_for_extreme_powers(schedule):
    assert_contract(schedule, [0, 1, 2, 3, 999, 1000, 1001, 123_456_789, 2**40, 2**61, 2**62 - 1, 2**62, MAX_STEP])


@pytest.mark.parametrize(
    "schedule",
    [
        ExponentialDecay(1e-6, 1.0000000000000002, decay_steps=4096, end_lr=1e-6),
        ExponentialDecay(0.1, 0.9999999999999999, decay_steps=2**20),
        CyclicExponentialDecay(0.1, 0.9999999999999999, period_steps=2**40),
        CosineRestarts(1.0, first_period_steps=1, t_mult=2, m_mul=0.9999999999999999),
    ],
    ids=repr,
)
def test_rates_next_to_one_evaluate_on_mlx(schedule):
    # exp_decay's block of 0.5 / |log rate| units overflows the step dtype when the log rate is ~1e-16 / T.
    assert_contract(schedule, [0, 1, 1000, 2**40, MAX_STEP])


@pytest.mark.xfail(strict=True, reason=KNOWN_ISSUES["PolynomialDecay power > 6"][1])
def test_polynomial_decay_with_a_large_power_meets_the_precision_target():
    # (341 / 997) ** 12 = 2.5627760e-6 of the peak; MLX gives 2.5627812e-6 (2.0e-6 relative)
    assert_contract(PolynomialDecay(1.0, 0.0, decay_steps=997, power=12.0), [0, 1, 655, 656, 657])


@pytest.mark.xfail(strict=True, reason=KNOWN_ISSUES["curve with a power"][1])
def test_a_cosine_with_an_exponent_meets_the_precision_target():
    assert_contract(CosineDecay(1.0, decay_steps=1_095_810, end_lr=0.01, exponent=9.8), log_steps(1_095_810, 3000))


@pytest.mark.parametrize("examples", RUNS)
def test_a_curve_with_a_power_is_within_its_documented_bound(examples):
    curves = st.one_of(schedule_strategy(name, depth=1) for name in ("Ramp", "Restarts", "CosineDecay"))

    @settings(hypothesis_settings, max_examples=examples)
    @given(data=st.data(), schedule=curves.filter(_steep_curve))
    def check(data, schedule):
        steps = data.draw(steps_for(schedule))
        expected, actual = reference(schedule, steps), product(schedule, steps)
        floor = max(FLOOR * schedule.peak, float(np.finfo(np.float32).tiny))
        assert relative_error(actual, expected, floor).max() <= curve_bound(schedule)

    check()


def test_tanh_on_growing_cycles_is_within_its_documented_bound():
    for lb, ub in ((-7.0, 3.0), (-19.5, 4.1), (-20.0, 20.0), (0.5, 1.0)):
        schedule = Restarts(1.0, 37, t_mult=3.0, end_lr=0.01, shape="tanh", lb=lb, ub=ub)
        steps = log_steps(1e9, 4000)
        errors = relative_error(product(schedule, steps), reference(schedule, steps), FLOOR)
        assert errors.max() <= 1e-5, (lb, ub, errors.max())


def test_exponential_growth_with_its_ceiling_past_the_last_step_evaluates():
    schedule = ExponentialDecay(1.0, 10.0, transition_begin=MAX_STEP, end_lr=2.0)
    assert_contract(schedule, [0, 1, MAX_STEP])


def test_known_issues_are_recognised_inside_compositions():
    inner = PolynomialDecay(1.0, 0.0, decay_steps=73, power=1000.0)
    assert known_issue(Join([Constant(0.0), Clip(inner)], [5])) == "PolynomialDecay power > 6"
    assert known_issue(Warmup(Scale(inner, 0.5), 3)) == "PolynomialDecay power > 6"
    assert known_issue(PolynomialDecay(1.0, 0.0, decay_steps=73, power=6.0)) is None
    # fixed since: growth past 2**63 and a Join phase outlasting its ramp (their regression tests are below)
    growth = ExponentialDecay(1.0, 10.0, transition_begin=MAX_STEP, end_lr=2.0)
    assert known_issue(PerEpoch(growth, 3)) is None
    assert known_issue(Scale(Join([OneCycle(1.0, total_steps=4, anneal="linear"), Constant(0.5)], [6]), 0.5)) is None


@pytest.mark.parametrize(
    ("schedule", "held"),
    [
        (Join([Ramp(0.0, 1.0, steps=4, shape="cos"), Constant(0.5)], [6]), 1.0),
        (Join([OneCycle(1.0, total_steps=4, anneal="linear"), Constant(0.5)], [6]), 4e-6),
        (Join([OneCycle(0.0, 2, 0.5, "linear", 1.0, 1.0).momentum(0.0, 0.5), Constant(0.0)], [3]), 0.5),
    ],
    ids=["cos-ramp", "one-cycle", "one-cycle-momentum"],
)
def test_a_join_phase_longer_than_its_schedule_holds_its_last_value(schedule, held):
    # Found by the CI-profile run: steps 4 and 5 of the 1-cycle give -0.357, -0.714 on NumPy and 6.6e18 on MLX.
    first = schedule.schedules[0]
    end = schedule.boundaries[0]
    steps = list(range(end))
    np.testing.assert_allclose(reference(schedule, steps), reference(first, steps), rtol=1e-12)
    assert reference(schedule, [end - 1])[0] == pytest.approx(held, rel=1e-9)
    assert_contract(schedule, [*steps, end, end + 1])
