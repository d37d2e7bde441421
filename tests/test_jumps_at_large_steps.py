"""Where every jump lands at large steps: near 1e9, 2**53 + k and 2**62, on both backends.

Each case is a schedule, the integer steps around each of its jumps and phase ends, and the expected values
computed here in Python from integers (``//`` and ``%`` on Python ints, exact at any size; floats only for
the fraction inside a cycle). The MLX backend gets the optimizer's own ``uint64`` steps. Besides the
values, the steps where the rate jumps (changes by more than 1e-3 of the peak from the step before) must be
exactly the expected ones: a float32 ``t / T`` floored, or a cycle index one too low, moves them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import mlx.core as mx
import numpy as np
import pytest

from mlx_lrsched import (
    WSD,
    Constant,
    CosineRestarts,
    CyclicExponentialDecay,
    CyclicLR,
    ExponentialDecay,
    InverseTimeDecay,
    MultiStepDecay,
    OneCycle,
    PiecewiseConstant,
    Schedule,
    StepDecay,
    Warmup,
)

LAST = 2**63 - 1
TARGETS = {"1e9": 10**9 + 7, "2^53": 2**53 + 5, "2^62": 2**62 + 3}


@dataclass
class Case:
    schedule: Schedule
    expected: Callable[[int], float]
    jumps: list[int]  # steps t whose value differs from step t - 1's by more than 1e-3 of the peak
    extra: tuple[int, ...] = ()  # further steps to check (phase ends of continuous schedules)
    peak: float = 1.0
    around_jumps: bool = True  # check the steps around each jump too (not only around ``extra``)

    def steps(self) -> list[int]:
        centres = (*self.jumps, *self.extra) if self.around_jumps else self.extra
        near = {t + d for t in centres for d in (-2, -1, 0, 1)}
        return sorted(t for t in near if 0 <= t <= LAST)


def half_cos(position: int, length: int) -> float:
    """(1 + cos(pi p / L)) / 2 written as sin^2 of the distance to the end: accurate next to the zero."""
    return math.sin(math.pi / 2 * (length - position) / length) ** 2


def jumps_in(steps: list[int], values: np.ndarray, peak: float) -> list[int]:
    return [
        b
        for (a, b), (va, vb) in zip(itertools.pairwise(steps), itertools.pairwise(values), strict=True)
        if b == a + 1 and abs(vb - va) > 1e-3 * peak
    ]


# ------------------------------------------------------------------------------------------ the cases


def step_decay(target: int) -> Case:
    size = target // 3
    return Case(StepDecay(1.0, size, 0.5), lambda t: 0.5 ** (t // size), [size, 2 * size, 3 * size])


def exponential_staircase(target: int) -> Case:
    size, begin = target // 4, target // 4 - 1
    jumps = [begin + k * size for k in (1, 2, 3)]
    schedule = ExponentialDecay(1.0, 0.5, size, staircase=True, transition_begin=begin)
    return Case(schedule, lambda t: 0.5 ** (max(t - begin, 0) // size), jumps)


def inverse_time_staircase(target: int) -> Case:
    size = target // 3
    schedule = InverseTimeDecay(1.0, 1.0, size, staircase=True)
    return Case(schedule, lambda t: 1.0 / (1 + t // size), [size, 2 * size, 3 * size])


def multi_step(target: int) -> Case:
    milestones = (target // 2, target - 1, target, target + 2)
    schedule = MultiStepDecay(1.0, milestones, 0.5)
    return Case(schedule, lambda t: 0.5 ** sum(t >= m for m in milestones), list(milestones))


def multi_step_to_the_last_step() -> Case:
    milestones = (10**9, 2**53 + 1, 2**62 + 1, LAST)
    schedule = MultiStepDecay(1.0, milestones, 0.5)
    return Case(schedule, lambda t: 0.5 ** sum(t >= m for m in milestones), list(milestones))


def piecewise(target: int) -> Case:
    boundaries = (target // 2, target - 1, target, target + 2)
    values = (1.0, 0.5, 0.25, 0.125, 0.0625)
    schedule = PiecewiseConstant(boundaries, values)
    return Case(schedule, lambda t: values[sum(t > b for b in boundaries)], [b + 1 for b in boundaries])


def piecewise_to_the_last_step() -> Case:
    boundaries = (10**9, 2**53 + 1, 2**62 + 1, LAST - 1)
    values = (1.0, 0.5, 0.25, 0.125, 0.0625)
    schedule = PiecewiseConstant(boundaries, values)
    return Case(schedule, lambda t: values[sum(t > b for b in boundaries)], [b + 1 for b in boundaries])


def triangular2_sawtooth(target: int) -> Case:
    up = target // 3
    schedule = CyclicLR(0.0, 1.0, up, step_size_down=0, mode="triangular2")
    return Case(schedule, lambda t: (t % up) / up * 0.5 ** (t // up), [up, 2 * up, 3 * up])


def triangular2_triangle(target: int) -> Case:
    up = target // 6
    cycle = 2 * up

    def expected(t: int) -> float:
        p = t % cycle
        return 0.1 + 0.9 * (p if p <= up else cycle - p) / up * 0.5 ** (t // cycle)

    edges = [k * cycle + e for k in range(4) for e in (0, up) if k * cycle + e <= LAST]
    return Case(CyclicLR(0.1, 1.0, up, mode="triangular2"), expected, [], tuple(edges))


def cyclic_exponential_staircase(target: int) -> Case:
    period = min(target // 4, 2**60)

    def expected(t: int) -> float:
        r = min(t % period, period - t % period)
        return 0.5 ** (t // period) * half_cos(2 * r, period)

    jumps = [k * period for k in range(1, 5)]
    return Case(CyclicExponentialDecay(1.0, 0.5, period, staircase=True), expected, jumps)


def restart_starts(first: int, mult: int, count: int) -> list[int]:
    """Every cycle start up to 2**63 - 1 (the first ``count`` when t_mult is 1 and there are more)."""
    starts, length, start = [], first, 0
    while start <= LAST and (mult > 1 or len(starts) < count):
        starts.append(start)
        start, length = start + length, length * mult
    return starts


def cosine_restarts(first: int, mult: int, m_mul: float = 1.0, count: int = 100) -> Case:
    starts = restart_starts(first, mult, count)

    def expected(t: int) -> float:
        if mult == 1:
            index, start = t // first, t // first * first
        else:
            index = max(i for i, s in enumerate(starts) if s <= t)
            start = starts[index]
        return 0.05 + (m_mul**index - 0.05) * half_cos(t - start, first * mult**index)

    schedule = CosineRestarts(1.0, first, t_mult=mult, m_mul=m_mul, end_lr=0.05)
    case = Case(schedule, expected, [], tuple(starts), around_jumps=False)
    # Short cycles change a lot from step to step: here the jumps are read off the expected values.
    steps = case.steps()
    case.jumps = jumps_in(steps, np.array([expected(t) for t in steps]), 1.0)
    assert set(starts[1:]) <= set(case.jumps) or (m_mul == 1.0 and first == 1)
    return case


def one_cycle(total: int, three_phase: bool, anneal: str) -> Case:
    """PyTorch's OneCycleLR get_lr, literally (its float phase ends), held at the end after ``total``."""
    peak, pct = 1.0, 0.3
    initial, final = peak / 25.0, peak / 25.0 / 1e4
    if three_phase:
        phases = [(float(pct * total) - 1, initial, peak), (float(2 * pct * total) - 2, peak, initial)]
        phases.append((total - 1, initial, final))
    else:
        phases = [(float(pct * total) - 1, initial, peak), (total - 1, peak, final)]

    def anneal_fn(start: float, end: float, x: float) -> float:
        if anneal == "linear":
            return (end - start) * x + start
        return end + (start - end) / 2.0 * (math.cos(math.pi * x) + 1)

    def expected(t: int) -> float:
        t = min(t, total - 1)
        begin = 0.0
        for i, (finish, start, end) in enumerate(phases):
            if t <= finish or i == len(phases) - 1:
                return anneal_fn(start, end, (t - begin) / (finish - begin))
            begin = finish
        raise AssertionError

    ends = tuple(math.floor(finish) for finish, _, _ in phases)
    schedule = OneCycle(peak, total, pct_start=pct, anneal=anneal, three_phase=three_phase)
    return Case(schedule, expected, [], (0, *ends, total, LAST))


def wsd(target: int) -> Case:
    warmup = target // 2
    stable = target - warmup - 1

    def expected(t: int) -> float:
        if t < warmup:
            return 0.5 + 0.5 * t / warmup
        return 1.0 if t < warmup + stable + 1 else 0.1

    schedule = WSD(1.0, warmup, stable, 1, end_lr=0.1, init_lr=0.5)
    return Case(schedule, expected, [warmup + stable + 1], (warmup, warmup + stable))


def warmup_constant(target: int) -> Case:
    warmup, size = target // 2, target // 6
    schedule = Warmup(StepDecay(1.0, size, 0.5), warmup, init_lr=0.125, shape="constant")

    def expected(t: int) -> float:
        return 0.125 if t < warmup else 0.5 ** ((t - warmup) // size)

    return Case(schedule, expected, [warmup + k * size for k in range(4) if warmup + k * size <= LAST])


def warmup_linear(target: int) -> Case:
    warmup = target

    def expected(t: int) -> float:
        return 0.25 * (1 - t / warmup) + t / warmup if t < warmup else 1.0

    return Case(Warmup(Constant(1.0), warmup, init_lr=0.25), expected, [], (warmup,))


CASES: dict[str, Case] = {}
for label, target in TARGETS.items():
    for make in (
        step_decay,
        exponential_staircase,
        inverse_time_staircase,
        multi_step,
        piecewise,
        triangular2_sawtooth,
        triangular2_triangle,
        cyclic_exponential_staircase,
        wsd,
        warmup_constant,
        warmup_linear,
    ):
        CASES[f"{make.__name__}-{label}"] = make(target)
    CASES[f"cosine_restarts_t_mult_1-{label}"] = cosine_restarts(target // 3, 1, 0.5, count=5)
# OneCycle's total_steps is at most 2**53 (PyTorch's float phase ends): runs of 1e9 steps and of 2**53.
for total in (10**9 + 7, 2**53 - 3, 2**53):
    for three_phase in (False, True):
        for anneal in ("cos", "linear"):
            CASES[f"one_cycle_{'3' if three_phase else '2'}_{anneal}-{total}"] = one_cycle(total, three_phase, anneal)
CASES["multi_step_to_the_last_step"] = multi_step_to_the_last_step()
CASES["piecewise_to_the_last_step"] = piecewise_to_the_last_step()
# Every cycle start up to 2**63 - 1 (not the first 16): t_mult 1 with long cycles, 2 and 3 from short ones.
CASES["cosine_restarts_t_mult_1-every_start"] = cosine_restarts(2**57 + 3, 1)
for first in (1, 3, 7, 10**9 // 15, 2**53 + 5):
    CASES[f"cosine_restarts_t_mult_2-first_{first}-every_start"] = cosine_restarts(first, 2)
for first in (1, 2, 5, 10**9 // 13, 2**53 + 5):
    CASES[f"cosine_restarts_t_mult_3-first_{first}-every_start"] = cosine_restarts(first, 3)
CASES["cosine_restarts_t_mult_2_m_mul-every_start"] = cosine_restarts(3, 2, 0.8)


@pytest.mark.parametrize("name", CASES)
def test_every_case_has_its_jumps_in_its_expected_values(name: str) -> None:
    """The cases themselves: the expected values jump exactly at the listed steps (and nowhere else checked)."""
    case = CASES[name]
    steps = case.steps()
    expected = np.array([case.expected(t) for t in steps])
    assert jumps_in(steps, expected, case.peak) == sorted(case.jumps)
    if "every_start" in name:  # the starts listed are all of them: the next one is past 2**63 - 1
        first, mult = case.schedule.first_period_steps, case.schedule.t_mult
        assert case.extra[-1] + first * mult ** (len(case.extra) - 1) > LAST and len(case.extra) >= 5


@pytest.mark.parametrize("name", CASES)
def test_numpy_reference_jumps_at_the_exact_steps(name: str) -> None:
    case = CASES[name]
    steps = case.steps()
    expected = np.array([case.expected(t) for t in steps])
    got = case.schedule(np.array(steps, dtype=np.int64))
    assert got.dtype == np.float64
    np.testing.assert_allclose(
        got, expected, rtol=1e-9, atol=1e-12 * case.peak, err_msg=str(list(zip(steps, got, strict=True)))
    )
    assert jumps_in(steps, got, case.peak) == sorted(case.jumps)


@pytest.mark.parametrize("name", CASES)
def test_mlx_uint64_steps_jump_at_the_exact_steps(name: str) -> None:
    case = CASES[name]
    steps = case.steps()
    expected = np.array([case.expected(t) for t in steps])
    out = case.schedule(mx.array(np.array(steps, dtype=np.uint64)))
    assert out.dtype == mx.float32 and out.shape == (len(steps),)
    got = np.array(out, dtype=np.float64)
    np.testing.assert_allclose(
        got, expected, rtol=2e-6, atol=1e-6 * case.peak, err_msg=str(list(zip(steps, got, strict=True)))
    )
    assert jumps_in(steps, got, case.peak) == sorted(case.jumps)
