"""A whole learning-rate curve at once: ours vectorised (NumPy, MLX) vs stepping PyTorch's scheduler.

Plots, sweeps and checks want the learning rate at every step of a run. Ours is one vectorised call,
``schedule(np.arange(n))`` (NumPy float64) or ``schedule(mx.arange(n))`` (MLX float32, evaluated); PyTorch's
schedulers are stateful and must be stepped ``n - 1`` times on an optimizer (here a one-parameter ``SGD``,
reading ``get_last_lr()`` after each step). The curves are checked to agree. In ``--quick`` mode PyTorch is
stepped for fewer steps and its per-step cost is extrapolated to ``n``. PyTorch is optional: without it
only our timings are reported. Goal: >= 200x.

A second table sets our NumPy backend against the least a user could write: each schedule's formula
written literally in NumPy over the whole array (``lr * rate ** t``, a ``np.where`` of the 1-cycle's two
cosines, a ``np.log2`` cycle index for warm restarts with ``t_mult=2``, ...), checked to agree with ours.
Timed interleaved: ``schedule(np.arange(n))`` and ``schedule.curve(n)`` against the hand-written formula
on the same ``np.arange(n)``; ratio ours / hand-written, median [IQR] (goal <= 1.5). Then the peak memory
of ``schedule.curve(10**7)`` measured with ``tracemalloc``, as a ratio to the output's 80 MB (goal
<= 1.25), beside the hand-written formula's peak (its input excluded).
"""

from __future__ import annotations

import functools
import gc
import time
import tracemalloc
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import mlx.core as mx
import numpy as np

from mlx_lrsched.base import Schedule
from mlx_lrsched.cyclic import CosineRestarts, CyclicLR
from mlx_lrsched.decay import CosineDecay, ExponentialDecay, StepDecay
from mlx_lrsched.one_cycle import OneCycle
from mlx_lrsched.warmup import Warmup

from . import _common

STEPS = 1_000_000
MEMORY_STEPS = 10_000_000
NUMPY_GOAL = 1.5
MEMORY_GOAL = 1.25


def cases(steps: int) -> list[tuple[str, Schedule, Callable[[Any], Any]]]:
    """``(label, ours, PyTorch scheduler factory taking an optimizer)``: the same schedule both ways."""
    from torch.optim import lr_scheduler

    return [
        (
            "OneCycleLR",
            OneCycle(0.1, steps),
            lambda optimizer: lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=steps),
        ),
        (
            "CosineAnnealingWarmRestarts (T_mult=2)",
            CosineRestarts(0.1, 1_000, t_mult=2, end_lr=1e-4),
            lambda optimizer: lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=1_000, T_mult=2, eta_min=1e-4),
        ),
        (
            "CyclicLR (triangular)",
            CyclicLR(1e-3, 0.1, 2_000),
            lambda optimizer: lr_scheduler.CyclicLR(
                optimizer, base_lr=1e-3, max_lr=0.1, step_size_up=2_000, cycle_momentum=False
            ),
        ),
    ]


def torch_curve(factory: Callable[[Any], Any], steps: int) -> tuple[float, np.ndarray]:
    """Seconds to step a fresh PyTorch scheduler through ``steps`` values, and the values."""
    import torch

    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "lr_scheduler.step() before optimizer.step()": no training here
        start = time.perf_counter()
        scheduler = factory(optimizer)
        values = [scheduler.get_last_lr()[0]]
        for _ in range(steps - 1):
            scheduler.step()
            values.append(scheduler.get_last_lr()[0])
        seconds = time.perf_counter() - start
    return seconds, np.asarray(values)


def _evaluated(schedule: Schedule, steps: Any) -> None:
    mx.eval(schedule(steps))


def measure(quick: bool) -> list[dict[str, Any]]:
    """Time each case: ours NumPy and MLX (median of interleaved rounds), PyTorch (one pass)."""
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
    torch_steps = 20_000 if quick else STEPS
    numpy_steps = np.arange(STEPS, dtype=np.int64)
    mlx_steps = mx.arange(STEPS, dtype=mx.uint64)
    results = []
    for label, schedule, factory in cases(STEPS) if have_torch else _cases_without_torch():
        samples = _common.interleaved(
            {
                "numpy": functools.partial(schedule, numpy_steps),
                "mlx": functools.partial(_evaluated, schedule, mlx_steps),
            },
            rounds=3 if quick else 7,
            repeat=1,
        )
        row: dict[str, Any] = {
            "scheduler": label,
            "ours": repr(schedule),
            "steps": STEPS,
            "numpy_s": _common.median(samples["numpy"]),
            "mlx_s": _common.median(samples["mlx"]),
        }
        if factory is not None:
            seconds, values = torch_curve(factory, torch_steps)
            reference = schedule(numpy_steps[:torch_steps])
            row["torch_measured_steps"] = torch_steps
            row["torch_s"] = seconds * STEPS / torch_steps
            row["torch_extrapolated"] = torch_steps != STEPS
            row["max_rel_diff_vs_torch"] = float(np.max(np.abs(values - reference) / np.abs(reference)))
            row["speedup_numpy"] = row["torch_s"] / row["numpy_s"]
            row["speedup_mlx"] = row["torch_s"] / row["mlx_s"]
        results.append(row)
    return results


def _cases_without_torch() -> list[tuple[str, Schedule, None]]:
    return [
        ("OneCycleLR", OneCycle(0.1, STEPS), None),
        ("CosineAnnealingWarmRestarts (T_mult=2)", CosineRestarts(0.1, 1_000, t_mult=2, end_lr=1e-4), None),
        ("CyclicLR (triangular)", CyclicLR(1e-3, 0.1, 2_000), None),
    ]


def hand_written(n: int) -> list[tuple[str, Schedule, Callable[[np.ndarray], np.ndarray]]]:
    """``(label, ours, the same formula written literally in NumPy)`` for a run of ``n`` steps."""
    warmup, t0, size = 10_000, 1_000, 2_000
    high, low = 0.1, 0.1 / 25  # OneCycle(0.1, n): max_lr / div_factor, then / final_div_factor
    final, e1, e2 = low / 1e4, 0.3 * n - 1, n - 1

    def exponential(t: np.ndarray) -> np.ndarray:
        return 0.1 * 0.99999**t  # type: ignore[no-any-return]

    def step(t: np.ndarray) -> np.ndarray:
        return 0.1 * 0.5 ** (t // 1_000)  # type: ignore[no-any-return]

    def cosine(t: np.ndarray) -> np.ndarray:
        return 1e-4 + (0.1 - 1e-4) * 0.5 * (1 + np.cos(np.pi * np.minimum(t, n) / n))  # type: ignore[no-any-return]

    def warmup_cosine(t: np.ndarray) -> np.ndarray:
        decay = 0.05 * (1 + np.cos(np.pi * np.minimum(t - warmup, n - warmup) / (n - warmup)))
        return np.where(t < warmup, 0.1 * t / warmup, decay)

    def one_cycle(t: np.ndarray) -> np.ndarray:
        up = low + (high - low) * (1 - np.cos(np.pi * t / e1)) / 2
        down = final + (high - final) * (1 + np.cos(np.pi * (np.minimum(t, e2) - e1) / (e2 - e1))) / 2
        return np.where(t <= e1, up, down)

    def restarts(t: np.ndarray) -> np.ndarray:
        cycle = np.floor(np.log2(t / t0 + 1))
        start, length = t0 * (2**cycle - 1), t0 * 2**cycle
        return 1e-4 + (0.1 - 1e-4) * (1 + np.cos(np.pi * (t - start) / length)) / 2  # type: ignore[no-any-return]

    def cyclic(t: np.ndarray) -> np.ndarray:
        cycle = np.floor(1 + t / (2 * size))
        x = np.abs(t / size - 2 * cycle + 1)
        return 1e-3 + (0.1 - 1e-3) * np.maximum(0, 1 - x)  # type: ignore[no-any-return]

    return [
        ("exponential", ExponentialDecay(0.1, 0.99999), exponential),
        ("step decay", StepDecay(0.1, 1_000, 0.5), step),
        ("cosine", CosineDecay(0.1, n, 1e-4), cosine),
        ("warmup + cosine", Warmup(CosineDecay(0.1, n - warmup), warmup), warmup_cosine),
        ("1-cycle (cos)", OneCycle(0.1, n), one_cycle),
        ("SGDR (t_mult=2)", CosineRestarts(0.1, t0, t_mult=2, end_lr=1e-4), restarts),
        ("cyclic (triangular)", CyclicLR(1e-3, 0.1, size), cyclic),
    ]


def peak_ratio(compute: Callable[[Any], np.ndarray], make_input: Callable[[], Any]) -> float:
    """Peak traced memory of ``compute(make_input())`` over the size of its output, the input excluded."""
    gc.collect()
    tracemalloc.start()
    try:
        argument = make_input()
        tracemalloc.reset_peak()
        out = compute(argument)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak / out.nbytes


def measure_numpy(quick: bool) -> list[dict[str, Any]]:
    """Ours (call and ``curve``) against the hand-written formula: time ratios, agreement, peak memory."""
    n, rounds = (100_000, 5) if quick else (STEPS, 21)
    memory_steps = STEPS if quick else MEMORY_STEPS
    steps = np.arange(n)
    results = []
    for label, schedule, formula in hand_written(n):
        ours, reference = schedule(steps), formula(steps)
        difference = float(np.max(np.abs(ours - reference) / np.maximum(np.abs(reference), 1e-6 * schedule.peak)))
        if difference > 1e-6:
            raise AssertionError(f"{label}: ours and the hand-written formula differ by {difference:.1e}")
        samples = _common.interleaved(
            {
                "call": functools.partial(schedule, steps),
                "curve": functools.partial(schedule.curve, n),
                "hand": functools.partial(formula, steps),
            },
            rounds=rounds,
            repeat=1,
        )
        _, memory_schedule, memory_formula = next(case for case in hand_written(memory_steps) if case[0] == label)
        results.append(
            {
                "schedule": label,
                "ours": repr(schedule),
                "steps": n,
                "max_rel_diff": difference,
                "call_s": _common.median(samples["call"]),
                "curve_s": _common.median(samples["curve"]),
                "hand_s": _common.median(samples["hand"]),
                "call_ratio": _common.paired_ratio(samples["call"], samples["hand"]),
                "curve_ratio": _common.paired_ratio(samples["curve"], samples["hand"]),
                "memory_steps": memory_steps,
                "curve_peak_ratio": peak_ratio(memory_schedule.curve, functools.partial(int, memory_steps)),
                "hand_peak_ratio": peak_ratio(memory_formula, functools.partial(np.arange, memory_steps)),
            }
        )
    return results


def numpy_table(results: Sequence[dict[str, Any]]) -> str:
    """One row per schedule: the three times, the ratios to the hand-written formula, the peak memory."""
    n, memory_steps = results[0]["steps"], results[0]["memory_steps"]
    headers = [
        f"schedule ({n:.0e} steps)",
        "ours s(np.arange(n))",
        "ours s.curve(n)",
        "hand-written NumPy",
        "call / hand [IQR]",
        "curve / hand [IQR]",
        f"<= {NUMPY_GOAL}",
        f"peak memory of curve({memory_steps:.0e}) / output",
        f"<= {MEMORY_GOAL}",
        "hand-written peak / output",
    ]
    rows = []
    for row in results:
        worst = max(row["call_ratio"]["median"], row["curve_ratio"]["median"])
        rows.append(
            [
                row["schedule"],
                _common.format_time(row["call_s"]),
                _common.format_time(row["curve_s"]),
                _common.format_time(row["hand_s"]),
                _common.format_ratio(row["call_ratio"], 2),
                _common.format_ratio(row["curve_ratio"], 2),
                "yes" if worst <= NUMPY_GOAL else "NO",
                f"{row['curve_peak_ratio']:.3f}",
                "yes" if row["curve_peak_ratio"] <= MEMORY_GOAL else "NO",
                f"{row['hand_peak_ratio']:.2f}",
            ]
        )
    return _common.markdown_table(headers, rows)


def table(results: Sequence[dict[str, Any]]) -> str:
    """One row per scheduler: the three times, the two speedups and the agreement with PyTorch."""
    headers = [
        "schedule (1e6 steps)",
        "PyTorch stepped",
        "ours NumPy",
        "ours MLX",
        "speedup NumPy",
        "speedup MLX",
        "max rel. diff vs PyTorch",
    ]
    rows = []
    for row in results:
        torch_cell = "n/a (no torch)"
        if "torch_s" in row:
            torch_cell = _common.format_time(row["torch_s"])
            if row["torch_extrapolated"]:
                torch_cell += f" (from {row['torch_measured_steps']:,} steps)"
        rows.append(
            [
                row["scheduler"],
                torch_cell,
                _common.format_time(row["numpy_s"]),
                _common.format_time(row["mlx_s"]),
                f"{row['speedup_numpy']:,.0f}x" if "speedup_numpy" in row else "",
                f"{row['speedup_mlx']:,.0f}x" if "speedup_mlx" in row else "",
                f"{row['max_rel_diff_vs_torch']:.1e}" if "max_rel_diff_vs_torch" in row else "",
            ]
        )
    return _common.markdown_table(headers, rows)


def goals(payload: dict[str, Any]) -> list[dict[str, str]]:
    """The summary's goal rows: vs stepping PyTorch, vs hand-written NumPy, and the curve's peak memory."""
    rows = []
    stepped = [row for row in payload["results"] if "speedup_numpy" in row]
    if stepped:
        worst = min(stepped, key=lambda row: row["speedup_numpy"])
        rows.append(
            _common.goal(
                "a 1e6-step curve, ours NumPy >= 200x faster than stepping PyTorch",
                f"worst {worst['scheduler']} {worst['speedup_numpy']:,.0f}x",
                _common.YES if worst["speedup_numpy"] >= 200 else _common.NO,
            )
        )
    numpy_rows = payload["numpy"]
    ratios = {f"{row['schedule']} {kind}": row[f"{kind}_ratio"] for row in numpy_rows for kind in ("call", "curve")}
    worst_ratio = max(ratios, key=lambda label: ratios[label]["median"])
    rows.append(
        _common.goal(
            f"NumPy curve, ours / hand-written NumPy <= {NUMPY_GOAL}",
            f"worst {worst_ratio} {_common.format_ratio(ratios[worst_ratio], 2)}",
            _common.overall([_common.verdict(ratio, NUMPY_GOAL) for ratio in ratios.values()]),
        )
    )
    worst_memory = max(numpy_rows, key=lambda row: row["curve_peak_ratio"])
    rows.append(
        _common.goal(
            f"peak memory of curve({worst_memory['memory_steps']:.0e}) / output <= {MEMORY_GOAL}",
            f"worst {worst_memory['schedule']} {worst_memory['curve_peak_ratio']:.3f}",
            _common.YES if worst_memory["curve_peak_ratio"] <= MEMORY_GOAL else _common.NO,
        )
    )
    return rows


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the table, write ``curve.json``; return the JSON payload."""
    args = _common.parser(__doc__.splitlines()[0]).parse_args(argv)
    results = measure(args.quick)
    numpy_results = measure_numpy(args.quick)
    title = f"A {STEPS:,}-step learning-rate curve: ours vectorised vs stepping PyTorch's scheduler"
    markdown = (
        f"{table(results)}\n\nOur NumPy backend vs the same formula written by hand in NumPy "
        f"(time ratio median [IQR], goal <= {NUMPY_GOAL}; peak memory measured with tracemalloc, goal <= "
        f"{MEMORY_GOAL})\n\n{numpy_table(numpy_results)}"
    )
    goal = (
        f"PyTorch time / ours >= 200; ours / hand-written NumPy <= {NUMPY_GOAL}; curve peak / output <= {MEMORY_GOAL}"
    )
    return _common.report(args, "curve", title, markdown, goal=goal, results=results, numpy=numpy_results)


if __name__ == "__main__":
    main()
