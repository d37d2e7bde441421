"""Cost of one schedule call, ours vs the ``mlx.optimizers`` built-in doing the same thing.

For each pair the step is a scalar ``uint64`` ``mx.array``, as the optimizer passes it. The timed costs,
interleaved (each round times every variant of a pair once, in a rotated order):

* ``build``: graph construction only (the call, no evaluation): our Python dispatch plus the graph;
* ``eager``: the call plus ``mx.eval(out)``, called repeatedly as an uncompiled training loop does. Ours
  compiles its formula internally from its third call on (``mlx_lrsched._xp.COMPILE_AFTER``), which the
  untimed warm-up round has long passed, so this is the steady state of a training loop;
* ``compiled``: ``mx.compile``\\ d once, then call plus ``mx.eval(out)``.

Beside them, untimed by the rounds: the kernels of one compiled call (``kernels.count_kernels``), the graph
nodes of one warm eager call, and the one-off costs of a *new* schedule (a fresh compile cache): its first
eager call and its third, the one that compiles, against a call of a fresh built-in. Goal: ratio <= 1.0.
"""

from __future__ import annotations

import functools
import io
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import mlx.core as mx

from mlx_lrsched import _xp, base

from . import _common, _pairs, kernels

STEP = 5_000
"""The step every call sees: mid-schedule (past the warmup, inside the cosine)."""

MODES = ("build", "eager", "compiled")


def graph_nodes(schedule: Callable[[Any], Any], step: Any) -> int:
    """How many primitive nodes the call adds to the graph (``mx.export_to_dot`` rectangles)."""
    buffer = io.StringIO()
    mx.export_to_dot(buffer, schedule(step))
    return buffer.getvalue().count("shape=rectangle")


def _evaluated(function: Callable[[Any], Any], step: Any) -> None:
    mx.eval(function(step))


def _timed_eval(function: Callable[[Any], Any], step: Any) -> float:
    start = time.perf_counter()
    mx.eval(function(step))
    return time.perf_counter() - start


def first_calls(ours: Any, builtin: Callable[[Any], Any], step: Any, rounds: int) -> dict[str, float]:
    """Median seconds of a new schedule's first and third (compiling) eager calls, and of a built-in call.

    Each round gives ours a fresh compile cache (``_xp.COMPILED``) and clears the cache of lowered
    composites, so every round is a schedule never called before in this process. MLX keeps the kernels
    it has built, so the third call is the trace and compile of our formula, not a C++ build.
    """
    saved = _xp.COMPILED
    first, third, other = [], [], []
    try:
        for _ in range(rounds):
            _xp.COMPILED = _xp.CompiledFormulas()
            base.clear_lowered()
            first.append(_timed_eval(ours, step))
            _timed_eval(ours, step)
            third.append(_timed_eval(ours, step))
            other.append(_timed_eval(builtin, step))
    finally:
        _xp.COMPILED = saved
    return {
        "first_us": _common.median(first) * 1e6,
        "compile_us": _common.median(third) * 1e6,
        "builtin_us": _common.median(other) * 1e6,
    }


def measure(quick: bool) -> list[dict[str, Any]]:
    """Time every pair; one result dict per pair."""
    rounds, repeat = (5, 100) if quick else (31, 300)
    step = mx.array(STEP, dtype=mx.uint64)
    results = []
    for label, ours, builtin in _pairs.call_pairs():
        ours_value, builtin_value = float(ours(step).item()), float(builtin(step).item())
        if not math.isclose(ours_value, builtin_value, rel_tol=1e-3):
            raise AssertionError(f"{label}: ours {ours_value} and the built-in {builtin_value} disagree at step {STEP}")
        one_off = first_calls(ours, builtin, step, 3 if quick else 7)
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
            "kernels": {"ours": kernels.count_kernels(ours), "builtin": kernels.count_kernels(builtin)},
            "eager_nodes": {"ours": graph_nodes(ours, step), "builtin": graph_nodes(builtin, step)},
            "new_schedule": one_off,
        }
        for mode in MODES:
            row[mode] = {
                "ours_us": _common.median(samples[f"{mode}/ours"]) * 1e6,
                "builtin_us": _common.median(samples[f"{mode}/builtin"]) * 1e6,
                "ratio": _common.paired_ratio(samples[f"{mode}/ours"], samples[f"{mode}/builtin"]),
            }
        results.append(row)
    return results


def table(results: Sequence[dict[str, Any]]) -> str:
    """The markdown table: per mode, ours and built-in in microseconds and their ratio [IQR]."""
    headers = ["schedule", "kernels ours / mlx", "eager nodes ours / mlx"]
    for mode in MODES:
        headers += [f"{mode} ours / mlx (us)", f"{mode} ratio [IQR]"]
    headers.append("new schedule: 1st / 3rd (compiling) call / mlx call (us)")
    rows = []
    for row in results:
        cells = [
            row["schedule"],
            f"{row['kernels']['ours']} / {row['kernels']['builtin']}",
            f"{row['eager_nodes']['ours']} / {row['eager_nodes']['builtin']}",
        ]
        for mode in MODES:
            cells += [
                f"{row[mode]['ours_us']:.1f} / {row[mode]['builtin_us']:.1f}",
                _common.format_ratio(row[mode]["ratio"], 2),
            ]
        new = row["new_schedule"]
        cells.append(f"{new['first_us']:.0f} / {new['compile_us']:.0f} / {new['builtin_us']:.0f}")
        rows.append(cells)
    return _common.markdown_table(headers, rows) + f"\n\n{_pairs.ONE_CYCLE_NOTE}."


def goals(payload: dict[str, Any]) -> list[dict[str, str]]:
    """The summary's goal rows: one call costs at most the built-in's, eager and compiled."""
    rows = []
    for mode, how in (("eager", "called repeatedly, uncompiled"), ("compiled", "mx.compile")):
        ratios = {row["schedule"]: row[mode]["ratio"] for row in payload["results"]}
        worst = max(ratios, key=lambda label: ratios[label]["median"])
        misses = [label for label, ratio in ratios.items() if _common.verdict(ratio, 1.0) != _common.YES]
        measured = f"worst {worst} {_common.format_ratio(ratios[worst], 2)}"
        if misses:
            measured += f"; median above 1: {', '.join(misses)}"
        met = _common.overall([_common.verdict(ratio, 1.0) for ratio in ratios.values()])
        rows.append(_common.goal(f"one call ({how}) <= the mlx.optimizers built-in", measured, met))
    return rows


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the table, write ``eval_cost.json``; return the JSON payload."""
    args = _common.parser(__doc__.splitlines()[0]).parse_args(argv)
    results = measure(args.quick)
    title = f"Cost of one schedule call at step {STEP}: ours / mlx.optimizers (median ratio [IQR])"
    goal = "ratio ours / mlx.optimizers <= 1.0, eager and compiled"
    return _common.report(args, "eval_cost", title, table(results), step=STEP, goal=goal, results=results)


if __name__ == "__main__":
    main()
