"""Cost of one schedule call, ours vs the ``mlx.optimizers`` built-in doing the same thing.

For each pair the step is a scalar ``uint64`` ``mx.array``, as the optimizer passes it. Three costs:

* ``build``: graph construction only (the call, no evaluation): our Python dispatch plus one MLX op call per
  node;
* ``eager``: the call plus ``mx.eval(out)``, what an uncompiled training step pays;
* ``compiled``: ``mx.compile``\\ d once, then call plus ``mx.eval(out)``.

The table reports the median ratio ours / built-in over interleaved rounds with its IQR, and the number of
graph nodes each side builds (counted from ``mx.export_to_dot``), which is what the eager cost follows.
Goal: ratio <= 1.0.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable, Sequence
from typing import Any

import mlx.core as mx
import mlx.optimizers as optim

from mlx_lrsched import _xp
from mlx_lrsched.compose import Join
from mlx_lrsched.decay import CosineDecay, ExponentialDecay, StepDecay
from mlx_lrsched.warmup import Linear, Warmup

from . import _common

STEP = 5_000
"""The step every call sees: mid-schedule (past the warmup, inside the cosine)."""


def pairs() -> list[tuple[str, Callable[[Any], Any], Callable[[Any], Any]]]:
    """``(label, ours, built-in)``: the same schedule written both ways."""
    warmup, total = 1_000, 10_000
    return [
        ("exponential", ExponentialDecay(0.1, 0.9999), optim.exponential_decay(0.1, 0.9999)),
        ("cosine", CosineDecay(0.1, total), optim.cosine_decay(0.1, total)),
        ("cosine, end_lr > 0", CosineDecay(0.1, total, 0.001), optim.cosine_decay(0.1, total, 0.001)),
        (
            "warmup + cosine (Join)",
            Join((Linear(0.0, 0.1, warmup), CosineDecay(0.1, total - warmup)), (warmup,)),
            optim.join_schedules(
                [optim.linear_schedule(0.0, 0.1, warmup), optim.cosine_decay(0.1, total - warmup)], [warmup]
            ),
        ),
        (
            "warmup + cosine (Warmup)",
            Warmup(CosineDecay(0.1, total - warmup), warmup),
            optim.join_schedules(
                [optim.linear_schedule(0.0, 0.1, warmup), optim.cosine_decay(0.1, total - warmup)], [warmup]
            ),
        ),
        ("step decay", StepDecay(0.1, 1_000, 0.5), optim.step_decay(0.1, 0.5, 1_000)),
        ("linear", Linear(0.1, 0.0, total), optim.linear_schedule(0.1, 0.0, total)),
    ]


def graph_nodes(schedule: Callable[[Any], Any], step: Any) -> int:
    """How many primitive nodes the call adds to the graph (``mx.export_to_dot`` rectangles)."""
    buffer = io.StringIO()
    mx.export_to_dot(buffer, schedule(step))
    return buffer.getvalue().count("shape=rectangle")


def dispatch_seconds(schedule: Any, step: Any, repeat: int) -> float:
    """Seconds spent in our Python dispatch alone (``_xp.as_step`` + ``_xp.finish``), per call."""
    backend, steps = _xp.as_step(step)
    value = schedule.evaluate(backend, steps)
    samples = _common.interleaved(
        {"dispatch": lambda: _xp.finish(backend, value, _xp.as_step(step)[1])}, rounds=5, repeat=repeat
    )
    return min(samples["dispatch"])


def _evaluated(function: Callable[[Any], Any], step: Any) -> None:
    mx.eval(function(step))


def measure(quick: bool) -> list[dict[str, Any]]:
    """Time every pair; one result dict per pair."""
    rounds, repeat = (5, 100) if quick else (31, 300)
    step = mx.array(STEP, dtype=mx.uint64)
    results = []
    for label, ours, builtin in pairs():
        ours_value, builtin_value = float(ours(step).item()), float(builtin(step).item())
        if not math.isclose(ours_value, builtin_value, rel_tol=1e-3):
            raise AssertionError(f"{label}: ours {ours_value} and the built-in {builtin_value} disagree at step {STEP}")
        compiled = {"ours": mx.compile(ours), "builtin": mx.compile(builtin)}
        sides = {"ours": ours, "builtin": builtin}
        variants: dict[str, Callable[[], Any]] = {}
        for side, function in sides.items():
            variants[f"build/{side}"] = functools.partial(function, step)
            variants[f"eager/{side}"] = functools.partial(_evaluated, function, step)
            variants[f"compiled/{side}"] = functools.partial(_evaluated, compiled[side], step)
        samples = _common.interleaved(variants, rounds=rounds, repeat=repeat, warmup=1)
        row: dict[str, Any] = {
            "schedule": label,
            "nodes": {"ours": graph_nodes(ours, step), "builtin": graph_nodes(builtin, step)},
            "dispatch_us": dispatch_seconds(ours, step, repeat) * 1e6,
        }
        for mode in ("build", "eager", "compiled"):
            row[mode] = {
                "ours_us": _common.median(samples[f"{mode}/ours"]) * 1e6,
                "builtin_us": _common.median(samples[f"{mode}/builtin"]) * 1e6,
                "ratio": _common.paired_ratio(samples[f"{mode}/ours"], samples[f"{mode}/builtin"]),
            }
        results.append(row)
    return results


def table(results: Sequence[dict[str, Any]]) -> str:
    """The markdown table: per mode, ours and built-in in microseconds and their ratio [IQR]."""
    headers = ["schedule", "nodes ours / mlx"]
    for mode in ("build", "eager", "compiled"):
        headers += [f"{mode} ours / mlx (us)", f"{mode} ratio [IQR]"]
    headers.append("our dispatch (us)")
    rows = []
    for row in results:
        cells = [row["schedule"], f"{row['nodes']['ours']} / {row['nodes']['builtin']}"]
        for mode in ("build", "eager", "compiled"):
            cells += [
                f"{row[mode]['ours_us']:.1f} / {row[mode]['builtin_us']:.1f}",
                _common.format_ratio(row[mode]["ratio"], 2),
            ]
        cells.append(f"{row['dispatch_us']:.2f}")
        rows.append(cells)
    return _common.markdown_table(headers, rows)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the table, write ``eval_cost.json``; return the JSON payload."""
    args = _common.parser(__doc__.splitlines()[0]).parse_args(argv)
    results = measure(args.quick)
    title = f"Cost of one schedule call at step {STEP}: ours / mlx.optimizers (median ratio [IQR])"
    goal = "ratio ours / mlx.optimizers <= 1.0"
    return _common.report(args, "eval_cost", title, table(results), step=STEP, goal=goal, results=results)


if __name__ == "__main__":
    main()
