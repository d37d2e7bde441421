"""Float32 precision: max relative error against a float64 reference, steps log-spaced up to 1e9.

For every schedule family (every registered schedule name, in one or more configurations) the MLX float32
value at ~1,000 log-spaced integer steps in ``[0, 1e9]`` is compared with the float64 value. Where
``mlx.optimizers`` has a built-in doing the same thing, the built-in is measured on the same steps against
the same reference. Following ``DESIGN.md``, steps where the reference is below 1e-6 of the schedule's peak
are not counted (a relative error of a value that is 0 in float32 says nothing). Goal: ours <= 1e-6.

The reference for our schedules is their own NumPy float64 backend (the formula is checked against
independent oracles in the tests; this measures the float32 *numerics*). The reference for each built-in
pair is the formula written out here in float64 NumPy, independently of both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np

from mlx_lrsched.base import Schedule, schedule_names
from mlx_lrsched.compose import Clip, Join, PerEpoch, Product, Ramp, Scale, Shift
from mlx_lrsched.cyclic import CosineRestarts, CyclicExponentialDecay, CyclicLR
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
from mlx_lrsched.feedback import GradNormScaled, ReduceOnPlateau
from mlx_lrsched.interpolate import PiecewiseInterpolate
from mlx_lrsched.noise import Noisy
from mlx_lrsched.one_cycle import OneCycle
from mlx_lrsched.restarts import Restarts
from mlx_lrsched.warmup import WSD, InverseSqrt, Linear, Warmup

from . import _common

MAX = 10**9
FLOOR = 1e-6
"""Steps where the reference is below ``FLOOR * peak`` are not counted."""


def log_steps(num: int) -> np.ndarray:
    """``num`` log-spaced integer steps in ``[1, 1e9]`` plus 0, 1, 2, unique and sorted."""
    steps: np.ndarray = np.unique(np.concatenate([[0, 1, 2], np.geomspace(1, MAX, num).astype(np.int64)]))
    return steps


def ours() -> list[tuple[str, Schedule]]:
    """One or more configurations of every schedule; lengths up to 1e9 so the whole range is exercised."""
    long = 10**9
    return [
        ("Constant", Constant(0.1)),
        ("StepDecay", StepDecay(0.1, 10**7, 0.5)),
        ("MultiStepDecay", MultiStepDecay(0.1, (10**3, 10**5, 10**7), 0.1)),
        ("PiecewiseConstant", PiecewiseConstant((10**4, 10**8), (0.1, 0.01, 0.001))),
        ("ExponentialDecay 0.99999/step", ExponentialDecay(0.1, 0.99999)),
        ("ExponentialDecay 0.9999999/step", ExponentialDecay(0.1, 0.9999999)),
        ("ExponentialDecay staircase", ExponentialDecay(0.1, 0.96, 10**6, staircase=True)),
        ("ExponentialDecay growth to end_lr", ExponentialDecay(1e-4, 1.00001, end_lr=0.1)),
        ("InverseTimeDecay", InverseTimeDecay(0.1, 0.5, 1_000)),
        ("PolynomialDecay power 2", PolynomialDecay(0.1, 1e-4, long, power=2.0)),
        ("PolynomialDecay cycle", PolynomialDecay(0.1, 1e-4, 10**6, cycle=True)),
        ("CosineDecay", CosineDecay(0.1, long)),
        ("CosineDecay end_lr", CosineDecay(0.1, long, 1e-3)),
        ("CyclicLR triangular", CyclicLR(1e-3, 0.1, 2_000)),
        ("CyclicLR triangular2", CyclicLR(1e-3, 0.1, 2_000, mode="triangular2")),
        ("CyclicLR exp_range hann", CyclicLR(1e-3, 0.1, 2_000, mode="exp_range", gamma=0.999999, window="hann")),
        ("CyclicExponentialDecay", CyclicExponentialDecay(0.1, 0.99, 10_000, min_lr=1e-4)),
        ("CosineRestarts t_mult=2", CosineRestarts(0.1, 1_000, t_mult=2, m_mul=0.9)),
        ("Restarts tanh (timm)", Restarts(0.1, 10**6, shape="tanh", end_lr=1e-4)),
        ("Restarts 1e6 / 3 steps (HF hard restarts)", Restarts(0.1, 10**6 / 3, end_lr=1e-4)),
        ("Restarts t_mult=1.5 (Keras)", Restarts(0.1, 1_000, t_mult=1.5, m_mul=0.9, m_mul_mode="amplitude")),
        ("CosineDecay num_cycles=1.5 (HF)", CosineDecay(0.1, long, num_cycles=1.5)),
        ("PiecewiseInterpolate", PiecewiseInterpolate((0, 10**4, 10**8, long), (1e-3, 0.1, 1e-2, 1e-4), "cos")),
        ("Shift(OneCycle)", Shift(OneCycle(0.1, long), 10**6)),
        ("CyclicMomentum exp_range", CyclicLR(1e-3, 0.1, 2_000, mode="exp_range", gamma=0.999999).momentum()),
        ("Noisy(CosineDecay)", Noisy(CosineDecay(0.1, long, 1e-3), start_step=10**3)),
        ("OneCycle cos", OneCycle(0.1, long)),
        ("OneCycle linear three_phase", OneCycle(0.1, long, pct_start=0.25, anneal="linear", three_phase=True)),
        ("OneCycleMomentum", OneCycle(0.1, long).momentum()),
        ("Warmup + CosineDecay", Warmup(CosineDecay(0.1, long - 10**4, 1e-4), 10**4)),
        ("Join Linear + CosineDecay", Join((Linear(0.0, 0.1, 10**4), CosineDecay(0.1, long, 1e-4)), (10**4,))),
        ("Linear", Linear(0.1, 1e-4, long)),
        ("Ramp cos", Ramp(0.1, 1e-4, long, shape="cos")),
        ("InverseSqrt", InverseSqrt(0.1, 10**4)),
        ("WSD", WSD(0.1, 10**4, 10**8, 10**8, decay_shape="sqrt", end_lr=1e-4)),
        ("Scale", Scale(CosineDecay(0.1, long), 0.3)),
        ("Product", Product((ExponentialDecay(1.0, 0.9999999), CosineDecay(0.1, long, 1e-3)))),
        ("Clip", Clip(ExponentialDecay(0.1, 0.99999), min_lr=1e-4)),
        ("PerEpoch", PerEpoch(ExponentialDecay(0.1, 0.99), 10_000)),
        ("ReduceOnPlateau", ReduceOnPlateau(CosineDecay(0.1, long))),
        ("GradNormScaled", GradNormScaled(CosineDecay(0.1, long))),
    ]


def builtins() -> list[tuple[str, Callable[[Any], Any], Callable[[np.ndarray], np.ndarray], Schedule]]:
    """``(label, mlx built-in, float64 formula, our equivalent)`` for each built-in we replace."""
    long, warmup = 10**9, 10**4

    def cosine64(t: np.ndarray, init: float, steps: int, end: float = 0.0) -> np.ndarray:
        values: np.ndarray = end + 0.5 * (init - end) * (1.0 + np.cos(np.pi * np.minimum(t, steps) / steps))
        return values

    def warmup_cosine64(t: np.ndarray) -> np.ndarray:
        linear = 0.1 * np.minimum(t, warmup) / warmup
        return np.where(t < warmup, linear, cosine64(np.maximum(t - warmup, 0), 0.1, long, 1e-4))

    return [
        (
            "exponential_decay(0.1, 0.99999)",
            optim.exponential_decay(0.1, 0.99999),
            lambda t: 0.1 * np.exp(t * math.log(0.99999)),
            ExponentialDecay(0.1, 0.99999),
        ),
        (
            "exponential_decay(0.1, 0.9999999)",
            optim.exponential_decay(0.1, 0.9999999),
            lambda t: 0.1 * np.exp(t * math.log(0.9999999)),
            ExponentialDecay(0.1, 0.9999999),
        ),
        (
            "step_decay(0.1, 0.5, 1e7)",
            optim.step_decay(0.1, 0.5, 10**7),
            lambda t: 0.1 * 0.5 ** (t // 10**7),
            StepDecay(0.1, 10**7, 0.5),
        ),
        (
            "cosine_decay(0.1, 1e9, 1e-3)",
            optim.cosine_decay(0.1, long, 1e-3),
            lambda t: cosine64(t, 0.1, long, 1e-3),
            CosineDecay(0.1, long, 1e-3),
        ),
        (
            "join_schedules(linear warmup, cosine)",
            optim.join_schedules(
                [optim.linear_schedule(0.0, 0.1, warmup), optim.cosine_decay(0.1, long, 1e-4)], [warmup]
            ),
            warmup_cosine64,
            Join((Linear(0.0, 0.1, warmup), CosineDecay(0.1, long, 1e-4)), (warmup,)),
        ),
        (
            "linear_schedule(0.1, 1e-4, 1e9)",
            optim.linear_schedule(0.1, 1e-4, long),
            lambda t: 0.1 + (1e-4 - 0.1) * np.minimum(t, long) / long,
            Linear(0.1, 1e-4, long),
        ),
    ]


def relative_error(actual: Any, reference: np.ndarray, peak: float) -> dict[str, Any]:
    """Max relative error of ``actual`` where ``|reference| >= FLOOR * peak``, and the step where it occurs."""
    actual = np.asarray(actual, dtype=np.float64)
    if not np.all(np.isfinite(actual)):
        return {"max": math.inf, "counted": int(actual.size)}
    mask = np.abs(reference) >= FLOOR * peak
    errors = np.abs(actual[mask] - reference[mask]) / np.abs(reference[mask])
    worst = int(np.argmax(errors))
    return {"max": float(errors[worst]), "counted": int(mask.sum()), "index": worst}


def measure(quick: bool) -> dict[str, Any]:
    """Errors of every configuration of ours, and of each built-in beside ours."""
    steps = log_steps(200 if quick else 2_000)
    mlx_steps = mx.array(steps.astype(np.uint64))
    rows = []
    for label, schedule in ours():
        reference = np.asarray(schedule(steps), dtype=np.float64)
        error = relative_error(np.array(schedule(mlx_steps)), reference, schedule.peak)
        rows.append({"schedule": label, "class": type(schedule).__name__, "ours": error["max"]})
    pairs = []
    for label, builtin, formula, equivalent in builtins():
        reference = formula(steps.astype(np.float64))
        peak = float(np.max(reference))
        pairs.append(
            {
                "builtin": label,
                "ours_schedule": repr(equivalent),
                "mlx": relative_error(np.array(builtin(mlx_steps)), reference, peak)["max"],
                "ours": relative_error(np.array(equivalent(mlx_steps)), reference, peak)["max"],
            }
        )
    covered = {row["class"] for row in rows}
    return {
        "steps": {"count": int(steps.size), "max": int(steps.max())},
        "schedules": rows,
        "builtins": pairs,
        "not_covered": [name for name in schedule_names() if name not in covered],
    }


def tables(results: dict[str, Any]) -> str:
    """Two markdown tables: the built-in pairs, then every schedule of ours."""
    pair_rows = [
        [pair["builtin"], f"{pair['mlx']:.1e}", f"{pair['ours']:.1e}", f"{pair['mlx'] / max(pair['ours'], 1e-12):.3g}x"]
        for pair in results["builtins"]
    ]
    ours_rows = [
        [row["schedule"], f"{row['ours']:.1e}", "yes" if row["ours"] <= 1e-6 else "NO"] for row in results["schedules"]
    ]
    text = _common.markdown_table(["mlx.optimizers built-in", "mlx error", "ours error", "mlx / ours"], pair_rows)
    text += "\n\n" + _common.markdown_table(
        ["schedule (ours, MLX float32)", "max relative error", "<= 1e-6"], ours_rows
    )
    if results["not_covered"]:
        text += f"\n\nNot covered: {', '.join(results['not_covered'])}"
    return text


def goals(payload: dict[str, Any]) -> list[dict[str, str]]:
    """The summary's goal row: every schedule's float32 error within 1e-6."""
    worst = max(payload["schedules"], key=lambda row: row["ours"])
    met = _common.YES if worst["ours"] <= 1e-6 and not payload["not_covered"] else _common.NO
    return [
        _common.goal(
            "float32 max relative error <= 1e-6, every schedule", f"worst {worst['schedule']} {worst['ours']:.1e}", met
        )
    ]


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the tables, write ``precision.json``; return the JSON payload."""
    args = _common.parser(__doc__.splitlines()[0]).parse_args(argv)
    results = measure(args.quick)
    count, top = results["steps"]["count"], results["steps"]["max"]
    title = f"Max relative error vs float64, {count} log-spaced steps in [0, {top:.0e}] (values >= 1e-6 of peak)"
    return _common.report(
        args, "precision", title, tables(results), goal="ours <= 1e-6 relative", floor=FLOOR, **results
    )


if __name__ == "__main__":
    main()
