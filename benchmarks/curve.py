"""A whole learning-rate curve at once: ours vectorised (NumPy, MLX) vs stepping PyTorch's scheduler.

Plots, sweeps and checks want the learning rate at every step of a run. Ours is one vectorised call,
``schedule(np.arange(n))`` (NumPy float64) or ``schedule(mx.arange(n))`` (MLX float32, evaluated); PyTorch's
schedulers are stateful and must be stepped ``n - 1`` times on an optimizer (here a one-parameter ``SGD``,
reading ``get_last_lr()`` after each step). The curves are checked to agree. In ``--quick`` mode PyTorch is
stepped for fewer steps and its per-step cost is extrapolated to ``n``. PyTorch is optional: without it
only our timings are reported. Goal: >= 200x.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import mlx.core as mx
import numpy as np

from mlx_lrsched.base import Schedule
from mlx_lrsched.cyclic import CosineRestarts, CyclicLR
from mlx_lrsched.one_cycle import OneCycle

from . import _common

STEPS = 1_000_000


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


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the table, write ``curve.json``; return the JSON payload."""
    args = _common.parser(__doc__.splitlines()[0]).parse_args(argv)
    results = measure(args.quick)
    title = f"A {STEPS:,}-step learning-rate curve: ours vectorised vs stepping PyTorch's scheduler"
    return _common.report(args, "curve", title, table(results), goal="PyTorch time / ours >= 200", results=results)


if __name__ == "__main__":
    main()
