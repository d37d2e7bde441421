"""Kernels per compiled call: every registered schedule, beside the ``mlx.optimizers`` built-in where one exists.

A schedule is compiled with ``mx.compile`` and called once on a scalar ``uint64`` step (what the optimizer
passes); the output's graph is exported with ``mx.export_to_dot`` and its primitive nodes (the dot file's
rectangles) are counted. A fully fused formula is one node, a ``Compiled...`` primitive; every extra node
is another kernel launch per training step. The graph is exported before it is evaluated, so counting
builds no kernel. :func:`count_kernels` is the counter, shared with the tests.
Goal (``DESIGN.md``): one kernel per compiled call, as ``mlx.optimizers``' built-ins achieve.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np

from mlx_lrsched.base import Constant, Product, Scale, schedule_names
from mlx_lrsched.compose import Clip, Join, PerEpoch, Ramp, Shift
from mlx_lrsched.cyclic import CosineRestarts, CyclicExponentialDecay, CyclicLR
from mlx_lrsched.decay import (
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

from . import _common, _pairs

STEP = 5_000
"""The step of the counted call (mid-schedule for every configuration below)."""

_RECTANGLE = re.compile(r'label ="([^"]*)", shape=rectangle')


def graph_labels(*outputs: Any) -> list[str]:
    """The primitive nodes of the (unevaluated) graph of ``outputs``, as labelled in ``mx.export_to_dot``."""
    buffer = io.StringIO()
    mx.export_to_dot(buffer, *outputs)
    return _RECTANGLE.findall(buffer.getvalue())


def kernel_labels(fn: Callable[[Any], Any], step: int = STEP) -> list[str]:
    """The primitive nodes of ``mx.compile(fn)(uint64 step)``: one per kernel the compiled call launches."""
    return graph_labels(mx.compile(fn)(mx.array(step, dtype=mx.uint64)))


def count_kernels(fn: Callable[[Any], Any], step: int = STEP) -> int:
    """Kernels one compiled call of ``fn`` launches: the primitive rectangles of its exported graph."""
    return len(kernel_labels(fn, step))


def cases() -> list[tuple[str, Any, Callable[[Any], Any] | None, str]]:
    """``(label, ours, built-in or None, built-in label)``: a representative configuration of every schedule.

    Composites get typical children (a cosine or an exponential decay). Every name in
    :func:`mlx_lrsched.schedule_names` appears at least once (checked by :func:`measure`).
    """
    total, warmup = _pairs.TOTAL, _pairs.WARMUP
    cosine = CosineDecay(0.1, total)
    return [
        ("Constant", Constant(0.1), None, "a float (no kernel)"),
        ("StepDecay", StepDecay(0.1, 1_000, 0.5), optim.step_decay(0.1, 0.5, 1_000), "step_decay"),
        ("MultiStepDecay (3 milestones)", MultiStepDecay(0.1, (3_000, 6_000, 9_000), 0.1), None, ""),
        ("PiecewiseConstant (3 values)", PiecewiseConstant((3_000, 7_000), (0.1, 0.01, 0.001)), None, ""),
        ("ExponentialDecay", ExponentialDecay(0.1, 0.9999), optim.exponential_decay(0.1, 0.9999), "exponential_decay"),
        ("ExponentialDecay staircase", ExponentialDecay(0.1, 0.96, 1_000, staircase=True), None, ""),
        ("InverseTimeDecay", InverseTimeDecay(0.1, 0.5, 1_000), None, ""),
        ("PolynomialDecay power 2", PolynomialDecay(0.1, 1e-4, total, power=2.0), None, ""),
        ("CosineDecay", cosine, optim.cosine_decay(0.1, total), "cosine_decay"),
        ("CosineDecay end_lr", CosineDecay(0.1, total, 1e-3), optim.cosine_decay(0.1, total, 1e-3), "cosine_decay"),
        ("Linear", Linear(0.1, 0.0, total), optim.linear_schedule(0.1, 0.0, total), "linear_schedule"),
        ("Ramp cos", Ramp(0.1, 1e-3, total, shape="cos"), optim.cosine_decay(0.1, total, 1e-3), "cosine_decay"),
        ("InverseSqrt", InverseSqrt(0.1, warmup), None, ""),
        ("WSD", WSD(0.1, warmup, 5_000, 4_000, decay_shape="sqrt"), None, ""),
        (
            "Warmup + CosineDecay",
            Warmup(CosineDecay(0.1, total - warmup), warmup),
            _pairs.mlx_warmup_cosine(0.1, warmup, total),
            "join_schedules(linear, cosine)",
        ),
        (
            "Join Linear + CosineDecay",
            Join((Linear(0.0, 0.1, warmup), CosineDecay(0.1, total - warmup)), (warmup,)),
            _pairs.mlx_warmup_cosine(0.1, warmup, total),
            "join_schedules(linear, cosine)",
        ),
        ("OneCycle", OneCycle(0.1, total), _pairs.mlx_one_cycle(0.1, total), "join_schedules(cosine up, cosine down)"),
        ("OneCycle linear three_phase", OneCycle(0.1, total, anneal="linear", three_phase=True), None, ""),
        ("OneCycleMomentum", OneCycle(0.1, total).momentum(), None, ""),
        ("CyclicLR triangular", CyclicLR(1e-3, 0.1, 2_000), None, ""),
        ("CyclicLR exp_range", CyclicLR(1e-3, 0.1, 2_000, mode="exp_range", gamma=0.9999), None, ""),
        ("CyclicExponentialDecay", CyclicExponentialDecay(0.1, 0.99, 1_000), None, ""),
        ("CosineRestarts t_mult=2", CosineRestarts(0.1, 1_000, t_mult=2, end_lr=1e-4), None, ""),
        ("Restarts tanh (timm)", Restarts(0.1, 1_000, shape="tanh", cycle_limit=3), None, ""),
        ("Restarts 1000/3 steps (HF hard restarts)", Restarts(0.1, 1_000 / 3, cycle_limit=3), None, ""),
        ("Restarts t_mult=1.5 (Keras)", Restarts(0.1, 1_000, t_mult=1.5, m_mul_mode="amplitude"), None, ""),
        ("CosineDecay num_cycles=1.5 (HF)", CosineDecay(0.1, total, num_cycles=1.5), None, ""),
        (
            "PiecewiseInterpolate (4 points)",
            PiecewiseInterpolate((0, 3_000, 8_500, total), (4e-3, 0.1, 4e-3, 1e-5)),
            None,
            "",
        ),
        ("Shift(OneCycle)", Shift(OneCycle(0.1, total), 2_000), None, ""),
        ("CyclicMomentum triangular", CyclicLR(1e-3, 0.1, 2_000).momentum(), None, ""),
        ("Noisy(CosineDecay)", Noisy(cosine), None, ""),
        ("Scale(CosineDecay)", Scale(cosine, 0.3), None, ""),
        ("Product(Exponential, Cosine)", Product((ExponentialDecay(1.0, 0.9999), cosine)), None, ""),
        ("Clip(ExponentialDecay)", Clip(ExponentialDecay(0.1, 0.9999), min_lr=1e-3), None, ""),
        ("PerEpoch(ExponentialDecay)", PerEpoch(ExponentialDecay(0.1, 0.99), 100), None, ""),
        ("ReduceOnPlateau(CosineDecay)", ReduceOnPlateau(cosine), None, ""),
        ("GradNormScaled(CosineDecay)", GradNormScaled(cosine), None, ""),
    ]


def measure() -> dict[str, Any]:
    """Kernels per compiled call of every case (ours and the built-in), and the names not covered."""
    step = mx.array(STEP, dtype=mx.uint64)
    rows = []
    for label, ours, builtin, builtin_label in cases():
        # The value is checked on the first, uncompiled call: counting never evaluates (no kernel is JIT-built).
        compiled_value = float(ours(step).item())
        reference = float(ours(np.int64(STEP)))
        if not math.isclose(compiled_value, reference, rel_tol=1e-5, abs_tol=1e-12):
            raise AssertionError(f"{label}: MLX {compiled_value} != float64 reference {reference} at step {STEP}")
        row: dict[str, Any] = {"schedule": label, "class": type(ours).__name__, "ours": count_kernels(ours)}
        row["ours_primitives"] = kernel_labels(ours)
        if builtin is not None:
            builtin_value = float(builtin(step).item())
            if not math.isclose(compiled_value, builtin_value, rel_tol=1e-3):
                raise AssertionError(f"{label}: ours {compiled_value} and {builtin_label} {builtin_value} disagree")
            row["builtin"] = builtin_label
            row["mlx"] = count_kernels(builtin)
        rows.append(row)
    covered = {row["class"] for row in rows}
    return {"results": rows, "not_covered": [name for name in schedule_names() if name not in covered]}


def table(results: Sequence[dict[str, Any]]) -> str:
    """One row per case: our kernels, the built-in's, and whether ours is one kernel."""
    rows = []
    for row in results:
        mlx_cell = f"{row['mlx']} ({row['builtin']})" if "mlx" in row else "-"
        rows.append([row["schedule"], row["ours"], mlx_cell, "yes" if row["ours"] <= 1 else "NO"])
    return _common.markdown_table(["schedule", "kernels ours", "kernels mlx.optimizers", "ours = 1"], rows)


def goals(payload: dict[str, Any]) -> list[dict[str, str]]:
    """The summary's goal rows: one kernel per call for every schedule; never more than the built-in."""
    rows = payload["results"]
    many = [f"{row['schedule']}: {row['ours']}" for row in rows if row["ours"] > 1]
    one = f"{len(rows) - len(many)} of {len(rows)} configurations at 1 kernel"
    paired = [row for row in rows if "mlx" in row]
    worse = [f"{row['schedule']}: {row['ours']} vs {row['mlx']}" for row in paired if row["ours"] > row["mlx"]]
    return [
        _common.goal(
            "one kernel per compiled call, every registered schedule",
            one
            + (f"; more: {', '.join(many)}" if many else "")
            + (f"; not covered: {', '.join(payload['not_covered'])}" if payload["not_covered"] else ""),
            _common.NO if many or payload["not_covered"] else _common.YES,
        ),
        _common.goal(
            "kernels per compiled call <= the mlx.optimizers built-in",
            f"{len(paired) - len(worse)} of {len(paired)} pairs" + (f"; more: {', '.join(worse)}" if worse else ""),
            _common.NO if worse else _common.YES,
        ),
    ]


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Count, print the table, write ``kernels.json``; return the JSON payload."""
    args = _common.parser(__doc__.splitlines()[0]).parse_args(argv)
    results = measure()
    markdown = table(results["results"])
    if results["not_covered"]:
        markdown += f"\n\nNot covered: {', '.join(results['not_covered'])}"
    markdown += f"\n\n{_pairs.ONE_CYCLE_NOTE}."
    title = f"Kernels per compiled call at step {STEP} (mx.export_to_dot primitives)"
    return _common.report(args, "kernels", title, markdown, step=STEP, goal="ours == 1 kernel per call", **results)


if __name__ == "__main__":
    main()
