"""CyclicLR, CyclicExponentialDecay and CosineRestarts against formulas written out literally."""

from __future__ import annotations

import json
import math
from typing import Any

import mlx.core as mx
import numpy as np
import pytest
from conftest import log_steps, rel_err

from mlx_lrsched.base import Schedule, from_config
from mlx_lrsched.cyclic import BOUNDARY_CYCLES, CosineRestarts, CyclicExponentialDecay, CyclicLR

# ---------------------------------------------------------------------------------------------- oracles


def clr_literal(t: int, base: float, top: float, up: int, down: int, mode: str, gamma: float, window: str) -> float:
    """PyTorch's CyclicLR formula (its ``cycle`` and ``x``, from integers), with seed 003's windows on its triangle."""
    cycle = t // (up + down) + 1  # floor(1 + t / total)
    x = (t % (up + down)) / (up + down)  # 1 + t / total - cycle
    ratio = up / (up + down)
    h = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
    w = {"linear": h, "welch": 1 - (1 - h) ** 2, "hann": (1 - math.cos(math.pi * h)) / 2}[window]
    scales = {"triangular": lambda: 1.0, "triangular2": lambda: 0.5 ** (cycle - 1), "exp_range": lambda: gamma**t}
    scale = scales[mode]()
    return base + (top - base) * w * scale


def sgdr_literal(t: int, init_lr: float, first: int, t_mult: int, m_mul: float, end_lr: float) -> float:
    """Walk the cycles with Python integers: cycle n has length first * t_mult**n and peak init_lr * m_mul**n."""
    n, start, length = 0, 0, first
    while t >= start + length:
        start, length, n = start + length, length * t_mult, n + 1
    return end_lr + (init_lr * m_mul**n - end_lr) * (1 + math.cos(math.pi * (t - start) / length)) / 2


def seed_continuous(t: int, lr0: float, k: float, period: int) -> float:
    """Seed 002, continuous form: lr0 * exp(-k t) * cos(2 pi t / T)."""
    return lr0 * math.exp(-k * t) * math.cos(2 * math.pi * t / period)


def seed_per_cycle(epoch: int, lr_init: float = 0.1, decay_rate: float = 0.96, cycle_length: int = 10) -> float:
    """Seed 002's ``cyclic_exponential_decay``, verbatim."""
    cycle = math.floor(epoch / cycle_length)
    return lr_init * (decay_rate**cycle) * math.cos((2 * math.pi * (epoch % cycle_length)) / cycle_length)


def reference(schedule: Schedule, steps: Any) -> np.ndarray:
    return np.asarray(schedule(np.asarray(steps, dtype=np.int64)))


def float32(schedule: Schedule, steps: Any) -> np.ndarray:
    return np.asarray(schedule(mx.array(np.asarray(steps, dtype=np.uint64))), dtype=np.float64)


SCHEDULES = [
    CyclicLR(0.01, 0.1, step_size_up=2000),
    CyclicLR(0.0, 0.1, step_size_up=300, step_size_down=700, mode="triangular2", window="hann"),
    CyclicLR(1e-3, 0.1, step_size_up=1000, mode="exp_range", gamma=0.999999, window="welch"),
    CyclicLR(0.0, 0.1, step_size_up=7, step_size_down=0, window="welch"),
    CyclicExponentialDecay(0.1, 0.99999, period_steps=1000),
    CyclicExponentialDecay(0.1, 0.9, period_steps=3_000_001, staircase=True, min_lr=1e-4),
    CyclicExponentialDecay.from_rate(0.1, 1e-8, period_steps=4_000_000, modulation="signed_cosine"),
    CyclicExponentialDecay(0.1, 0.999, period_steps=777, staircase=True, modulation="signed_cosine"),
    CosineRestarts(0.1, first_period_steps=1000),
    CosineRestarts(0.1, first_period_steps=1, t_mult=2, m_mul=0.99, end_lr=1e-5),
    CosineRestarts(0.1, first_period_steps=7, t_mult=3),
]
IDS = [repr(s)[:60] for s in SCHEDULES]

# -------------------------------------------------------------------------------------------- CyclicLR


@pytest.mark.parametrize("window", ["linear", "welch", "hann"])
@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
@pytest.mark.parametrize(("up", "down"), [(5, None), (3, 8), (1, 1), (4, 0)])
def test_cyclic_lr_is_the_literal_formula(mode: str, window: str, up: int, down: int | None) -> None:
    schedule = CyclicLR(0.05, 0.8, up, down, mode=mode, gamma=0.99, window=window)
    steps = np.arange(200)
    expected = [clr_literal(int(t), 0.05, 0.8, up, up if down is None else down, mode, 0.99, window) for t in steps]
    np.testing.assert_allclose(reference(schedule, steps), expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("window", "quarter", "half"),
    [("linear", 0.25, 0.5), ("welch", 0.4375, 0.75), ("hann", (1 - math.sqrt(0.5)) / 2, 0.5)],
)
def test_cyclic_lr_windows_by_hand(window: str, quarter: float, half: float) -> None:
    # U = 4: step 1 is a quarter of the way up, step 2 halfway, step 4 the peak, step 6 halfway down.
    values = reference(CyclicLR(0.0, 1.0, step_size_up=4, window=window), [0, 1, 2, 4, 6, 8])
    np.testing.assert_allclose(values, [0.0, quarter, half, 1.0, half, 0.0], atol=1e-15)


def test_cyclic_lr_sawtooth_drops_to_base_after_rising() -> None:
    values = reference(CyclicLR(0.1, 0.5, step_size_up=4, step_size_down=0), range(9))
    np.testing.assert_allclose(values, [0.1, 0.2, 0.3, 0.4, 0.1, 0.2, 0.3, 0.4, 0.1])


def test_triangular2_halves_the_amplitude_every_cycle() -> None:
    peaks = reference(CyclicLR(0.1, 0.9, step_size_up=3, mode="triangular2"), [3, 9, 15, 21])
    np.testing.assert_allclose(peaks, [0.9, 0.5, 0.3, 0.2])


# ------------------------------------------------------------------------------ CyclicExponentialDecay


def test_seed_continuous_form_is_reachable_literally() -> None:
    schedule = CyclicExponentialDecay.from_rate(0.1, k=0.01, period_steps=10, modulation="signed_cosine")
    steps = range(300)
    expected = [seed_continuous(t, 0.1, 0.01, 10) for t in steps]
    np.testing.assert_allclose(reference(schedule, steps), expected, rtol=1e-12, atol=1e-16)
    assert schedule.signed and min(expected) < 0


def test_seed_per_cycle_form_is_reachable_literally() -> None:
    schedule = CyclicExponentialDecay(0.1, 0.96, period_steps=10, staircase=True, modulation="signed_cosine")
    steps = range(100)  # the seed's loop
    np.testing.assert_allclose(reference(schedule, steps), [seed_per_cycle(t) for t in steps], rtol=1e-12, atol=1e-16)
    assert schedule.signed


@pytest.mark.parametrize("staircase", [False, True])
def test_default_modulation_is_the_raised_cosine_above_min_lr(staircase: bool) -> None:
    schedule = CyclicExponentialDecay(0.1, 0.8, period_steps=12, staircase=staircase, min_lr=0.01)
    steps = np.arange(240)
    periods = steps // 12 if staircase else steps / 12
    expected = 0.01 + 0.09 * 0.8**periods * (1 + np.cos(2 * np.pi * steps / 12)) / 2
    values = reference(schedule, steps)
    np.testing.assert_allclose(values, expected, rtol=1e-12)
    assert values.min() >= 0.01 and values.max() == 0.1 and not schedule.signed


def test_signed_form_keeps_relative_precision_next_to_its_zeros() -> None:
    period = 4_000_000  # zeros at steps 1e6 and 3e6, where a float32 cos(2 pi t / T) is 6e-2 off at 1e-6 of the peak
    schedule = CyclicExponentialDecay(1.0, 1.0, period_steps=period, modulation="signed_cosine")
    steps = np.array([10**6 + d for d in (-300, -30, -3, -1, 1, 3, 30, 300)] + [3 * 10**6 - 2, 3 * 10**6 + 2])
    exact = np.array([math.sin(math.pi / 2 * (period - 4 * min(t, period - t)) / period) for t in steps.tolist()])
    assert rel_err(float32(schedule, steps), exact) <= 4e-6
    assert float(schedule(np.int64(10**6))) == 0.0


# --------------------------------------------------------------------------------------- CosineRestarts


@pytest.mark.parametrize("t_mult", [1, 2, 3])
@pytest.mark.parametrize(("m_mul", "end_lr"), [(1.0, 0.0), (0.7, 0.0), (0.9, 0.02)])
def test_cosine_restarts_is_sgdr(t_mult: int, m_mul: float, end_lr: float) -> None:
    schedule = CosineRestarts(0.5, first_period_steps=5, t_mult=t_mult, m_mul=m_mul, end_lr=end_lr)
    steps = range(400)
    expected = [sgdr_literal(t, 0.5, 5, t_mult, m_mul, end_lr) for t in steps]
    np.testing.assert_allclose(reference(schedule, steps), expected, rtol=1e-12, atol=1e-17)


def test_cosine_restarts_by_hand() -> None:
    # cycles [0, 2), [2, 6): restart at 2 to half the first peak; step 4 is the second cycle's midpoint
    values = reference(CosineRestarts(1.0, first_period_steps=2, t_mult=2, m_mul=0.5), [0, 1, 2, 4, 6])
    np.testing.assert_allclose(values, [1.0, 0.5, 0.5, 0.25, 0.25], atol=1e-15)


# ----------------------------------------------------------------------------- exactness at step 1e9


@pytest.mark.parametrize(
    ("schedule", "boundary"),
    [
        (CosineRestarts(0.1, first_period_steps=1, t_mult=2), 2**30 - 1),  # cycle 30 starts at 1_073_741_823
        (CosineRestarts(0.1, first_period_steps=7, t_mult=3, m_mul=0.999), 7 * (3**18 - 1) // 2),  # 1_355_420_487
        (CosineRestarts(0.1, first_period_steps=1000), 10**9),
        (CyclicLR(0.01, 0.1, step_size_up=400, step_size_down=600), 10**9),
        (CyclicExponentialDecay(0.1, 0.99999, period_steps=1000), 10**9),
    ],
    ids=["sgdr-t_mult2", "sgdr-t_mult3", "sgdr", "clr", "ced"],
)
def test_cycle_boundary_near_1e9_is_exact_on_both_backends(schedule: Schedule, boundary: int) -> None:
    steps = [boundary - 1, boundary, boundary + 1]
    expected = {
        CosineRestarts: lambda t: sgdr_literal(
            t, 0.1, schedule.first_period_steps, schedule.t_mult, schedule.m_mul, 0.0
        ),
        CyclicLR: lambda t: clr_literal(t, 0.01, 0.1, 400, 600, "triangular", 1.0, "linear"),
        CyclicExponentialDecay: lambda t: (
            0.1 * 0.99999 ** (t / 1000) * (1 + math.cos(2 * math.pi * (t % 1000) / 1000)) / 2
        ),
    }[type(schedule)]
    literal = np.array([expected(t) for t in steps])
    assert rel_err(reference(schedule, steps), literal) <= 1e-9
    assert rel_err(float32(schedule, steps), literal) <= 4e-6
    # the boundary itself is in the right place on both backends: a restart (local maximum) or, for
    # CyclicLR, a cycle start at base_lr (local minimum)
    sign = -1.0 if isinstance(schedule, CyclicLR) else 1.0
    for values in (reference(schedule, steps), float32(schedule, steps)):
        assert sign * values[1] > sign * values[0] and sign * values[1] >= sign * values[2]


# ---------------------------------------------------------------------- precision, range, degenerates


@pytest.mark.parametrize("schedule", SCHEDULES, ids=IDS)
def test_float32_is_within_4e6_of_the_reference_up_to_1e9(schedule: Schedule) -> None:
    steps = np.unique(np.concatenate([log_steps(1e9, 2000), np.array(schedule.phase_boundaries[:20])]))
    ref = reference(schedule, steps)
    assert rel_err(float32(schedule, steps), ref, floor=1e-6 * schedule.peak) <= 4e-6


@pytest.mark.parametrize("schedule", SCHEDULES, ids=IDS)
def test_values_are_finite_bounded_by_peak_and_signed_only_by_opt_in(schedule: Schedule) -> None:
    steps = np.concatenate([np.arange(5000), log_steps(2.0**62, 500), [2**63 - 1]])
    for values in (reference(schedule, steps), float32(schedule, steps)):
        assert np.isfinite(values).all()
        assert values.max() <= schedule.peak * (1 + 1e-6)
        assert (values.min() >= 0) != schedule.signed


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (CyclicLR(0.1, 0.1, step_size_up=1), [0.1] * 6),  # base_lr == max_lr
        (CyclicLR(0.0, 1.0, step_size_up=1), [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]),
        (CyclicLR(0.0, 1.0, step_size_up=1, step_size_down=0), [0.0] * 6),  # period 1: always the cycle start
        (CyclicLR(0.2, 1.0, step_size_up=1, step_size_down=0, mode="exp_range", gamma=0.5), [0.2] * 6),
        (CyclicExponentialDecay(1.0, 0.5, period_steps=1), [1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125]),
        (
            CyclicExponentialDecay(1.0, 0.5, period_steps=1, modulation="signed_cosine"),
            [1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125],
        ),
        (CyclicExponentialDecay(0.3, 1.0, period_steps=2, min_lr=0.3), [0.3] * 6),
        (CosineRestarts(1.0, first_period_steps=1), [1.0] * 6),
        (CosineRestarts(1.0, first_period_steps=1, m_mul=0.5), [1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125]),
        (CosineRestarts(0.0, first_period_steps=3, end_lr=0.0), [0.0] * 6),
    ],
)
def test_degenerate_configurations_give_finite_values(schedule: Schedule, expected: list[float]) -> None:
    steps = np.arange(6)
    np.testing.assert_allclose(reference(schedule, steps), expected, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(float32(schedule, steps), expected, rtol=1e-6, atol=1e-12)


def test_peak_is_the_maximum_over_all_steps() -> None:
    rng = np.random.default_rng(7)
    for i in range(300):
        up, down = int(rng.integers(1, 200)), [0, int(rng.integers(1, 200))][i % 2]
        gamma = float(1 - 10 ** rng.uniform(-5, -0.5))
        schedule = CyclicLR(
            0.01, 1.0, up, down, mode="exp_range", gamma=gamma, window=["linear", "welch", "hann"][i % 3]
        )
        assert schedule.peak == pytest.approx(schedule.curve(up + down + 2).max(), rel=1e-15)
    for schedule in SCHEDULES:
        assert schedule.peak >= reference(schedule, np.arange(5000)).max()


def test_phase_boundaries_are_the_first_cycle_peaks_and_ends() -> None:
    clr = CyclicLR(0.0, 1.0, step_size_up=2, step_size_down=3).phase_boundaries
    assert clr[:5] == (2, 5, 7, 10, 12) and len(clr) == 2 * BOUNDARY_CYCLES
    sgdr = CosineRestarts(1.0, first_period_steps=2, t_mult=2).phase_boundaries
    assert sgdr[:4] == (2, 6, 14, 30) and len(sgdr) == min(BOUNDARY_CYCLES, 62)  # 2 * (2**62 - 1) is the last
    ced = CyclicExponentialDecay(1.0, 0.5, period_steps=10).phase_boundaries
    assert ced[:3] == (10, 20, 30) and len(ced) == BOUNDARY_CYCLES


@pytest.mark.parametrize("schedule", SCHEDULES, ids=IDS)
def test_compiled_step_matches_eager(schedule: Schedule) -> None:
    compiled = mx.compile(lambda step: schedule(step))
    for step in (0, 1, 12_345, 10**9):
        eager = schedule(mx.array(step, dtype=mx.uint64))
        assert compiled(mx.array(step, dtype=mx.uint64)).item() == eager.item()
        assert eager.dtype == mx.float32


@pytest.mark.parametrize("schedule", SCHEDULES, ids=IDS)
def test_config_round_trip(schedule: Schedule) -> None:
    rebuilt = from_config(json.loads(schedule.to_json()))
    assert rebuilt == schedule
    steps = np.arange(100)
    np.testing.assert_array_equal(reference(rebuilt, steps), reference(schedule, steps))


# ---------------------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: CyclicLR(-0.1, 1.0, 10), ValueError, "CyclicLR: base_lr"),
        (lambda: CyclicLR(0.5, 0.1, 10), ValueError, "CyclicLR: max_lr must be >= base_lr"),
        (lambda: CyclicLR(0.1, math.inf, 10), ValueError, "CyclicLR: max_lr"),
        (lambda: CyclicLR(0.1, 1.0, 0), ValueError, "CyclicLR: step_size_up"),
        (lambda: CyclicLR(0.1, 1.0, 2.5), TypeError, "CyclicLR: step_size_up"),
        (lambda: CyclicLR(0.1, 1.0, 10, -1), ValueError, "CyclicLR: step_size_down"),
        (lambda: CyclicLR(0.1, 1.0, 10, mode="triangle"), ValueError, "CyclicLR: mode"),
        (lambda: CyclicLR(0.1, 1.0, 10, mode="exp_range", gamma=1.5), ValueError, "CyclicLR: gamma"),
        (lambda: CyclicLR(0.1, 1.0, 10, gamma=0.0), ValueError, "CyclicLR: gamma"),
        (lambda: CyclicLR(0.1, 1.0, 10, window="cosine"), ValueError, "CyclicLR: window"),
        (lambda: CyclicLR("0.1", 1.0, 10), TypeError, "CyclicLR: base_lr"),
        (lambda: CyclicExponentialDecay(-1.0, 0.9, 10), ValueError, "CyclicExponentialDecay: init_lr"),
        (lambda: CyclicExponentialDecay(0.1, 1.1, 10), ValueError, "CyclicExponentialDecay: decay_rate"),
        (lambda: CyclicExponentialDecay(0.1, 0.0, 10), ValueError, "CyclicExponentialDecay: decay_rate"),
        (lambda: CyclicExponentialDecay(0.1, 0.9, 0), ValueError, "CyclicExponentialDecay: period_steps"),
        (lambda: CyclicExponentialDecay(0.1, 0.9, 2**61), ValueError, "CyclicExponentialDecay: period_steps"),
        (lambda: CyclicExponentialDecay(0.1, 0.9, 10, staircase=1), TypeError, "CyclicExponentialDecay: staircase"),
        (
            lambda: CyclicExponentialDecay(0.1, 0.9, 10, modulation="square"),
            ValueError,
            "CyclicExponentialDecay: modulation",
        ),
        (lambda: CyclicExponentialDecay(0.1, 0.9, 10, min_lr=0.2), ValueError, "CyclicExponentialDecay: min_lr"),
        (
            lambda: CyclicExponentialDecay(0.1, 0.9, 10, modulation="signed_cosine", min_lr=0.01),
            ValueError,
            "CyclicExponentialDecay: min_lr must be 0 with modulation='signed_cosine'",
        ),
        (lambda: CyclicExponentialDecay.from_rate(0.1, -1.0, 10), ValueError, "CyclicExponentialDecay.from_rate: k"),
        (lambda: CosineRestarts(-0.1, 10), ValueError, "CosineRestarts: init_lr"),
        (lambda: CosineRestarts(0.1, 0), ValueError, "CosineRestarts: first_period_steps"),
        (lambda: CosineRestarts(0.1, 10, t_mult=0), ValueError, "CosineRestarts: t_mult"),
        (lambda: CosineRestarts(0.1, 10, t_mult="2"), TypeError, "CosineRestarts: t_mult"),
        (lambda: CosineRestarts(0.1, 0.5), ValueError, "CosineRestarts: first_period_steps"),
        (lambda: CosineRestarts(0.1, 10, t_mult=1.0000001), ValueError, "CosineRestarts: t_mult=1.0000001"),
        (lambda: CosineRestarts(0.1, 10, m_mul=1.5), ValueError, "CosineRestarts: m_mul"),
        (lambda: CosineRestarts(0.1, 10, m_mul=0.0), ValueError, "CosineRestarts: m_mul"),
        (lambda: CosineRestarts(0.1, 10, end_lr=-1e-3), ValueError, "CosineRestarts: end_lr"),
        (lambda: CosineRestarts(0.1, 10, end_lr=math.nan), ValueError, "CosineRestarts: end_lr"),
    ],
)
def test_bad_arguments_are_rejected_naming_the_parameter(make: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=f"^{message}".replace("(", r"\(").replace(")", r"\)")):
        make()
