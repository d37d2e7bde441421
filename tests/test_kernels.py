"""Every schedule compiles to one fused kernel, as ``mlx.optimizers``' built-in schedules do (DESIGN.md).

A compiled call is exported with ``mx.export_to_dot`` before it is evaluated, so no kernel is JIT-built:
each primitive left in the graph is a rectangle, and a fused formula is one ``Compiled...`` rectangle. The
step is the optimizer's ``uint64``. The configs are the fixed, representative instances of
``_configs.PURE_CONFIGS``; known exceptions are strict xfails carrying the measured count, so a fix flips them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _configs import PURE_CONFIGS, case_id, cases
from strategies import STATEFUL, pure_names

from mlx_lrsched import (
    Constant,
    CosineDecay,
    ExponentialDecay,
    GradNormScaled,
    OneCycle,
    ReduceOnPlateau,
    Scale,
    Schedule,
)

mx = pytest.importorskip("mlx.core")
optim = pytest.importorskip("mlx.optimizers")

MLX_VERSION = mx.__version__

KNOWN_EXTRA_KERNELS = {
    "CosineRestarts-1": 5,
    "CosineRestarts-2": 5,
    "CosineRestarts-3": 2,
    "Restarts-2": 2,
    "Restarts-3": 18,
    "Ramp-3": 7,
    "Shift-0": 2,
    "CyclicMomentum-2": 4,
    "MultiStepDecay-1": 28,
    "Clip-0": 2,
    "Clip-1": 3,
    "Noisy-0": 2,
    "Noisy-1": 2,
}
"""Configs measured (MLX 0.32.4, ``uint64`` step) to compile to more kernels than one: case id -> count."""

WHY = {
    "CosineRestarts": "t_mult > 1 (an exact integer cycle index) or k_decay: deeper than MLX's fusion depth of 11",
    "Restarts": "k_decay (-expm1(k log1p(-r))) is deeper than MLX fuses; a non-integer t_mult gathers cycle starts "
    "from a host table (7 gathers)",
    "Ramp": "k_decay < 1 takes log x and log1p(-r), both exact, and the exponent both weights: 7 levels more",
    "Shift": "Shift's clamp and add on top of a 1-cycle, already at MLX's fusion depth of 11 (inside a Join: free)",
    "CyclicMomentum": "exp_range momentum: gamma**t and 1 - gamma**t, both exact, beside the window's complement",
    "MultiStepDecay": "over _xp.LOOKUP_PIECES (24) constant phases: a binary search with gathers from a host table",
    "Clip": "Clip's max and min on top of a formula at MLX's fusion depth of 11 (1-cycle, signed CED) split it",
    "Noisy": "the noise's hash, 7 levels, and its range or the uniform's float: the step's first multiply splits off",
}

SCALED_EXTRA_KERNELS = {
    "PolynomialDecay-2": 2,
    "CosineDecay-2": 2,
    "Ramp-3": 7,
    "CosineRestarts-3": 2,
    "Restarts-0": 2,
    "Restarts-2": 2,
    "Restarts-3": 18,
    "Shift-0": 2,
    "CyclicMomentum-1": 2,
    "CyclicMomentum-2": 5,
    "CyclicLR-2": 2,
    "CyclicLR-5": 2,
    "CyclicLR-8": 2,
    "CyclicExponentialDecay-0": 2,
    "CyclicExponentialDecay-1": 2,
    "CyclicExponentialDecay-2": 2,
    "CosineRestarts-1": 5,
    "CosineRestarts-2": 6,
    "MultiStepDecay-1": 29,
    "Noisy-0": 2,
    "Noisy-1": 2,
}
"""Leaf configs whose formula has no depth left for one more multiply (``Scale``): case id -> measured count."""

WRAPPERS = frozenset({"Clip", "Join", "PerEpoch", "Product", "Scale", "Warmup"})


def kernels(output: mx.array, directory: Path) -> list[str]:
    """The primitives (kernels) left in the graph of ``output``, by label; a fused formula is one ``Compiled...``."""
    path = directory / "graph.dot"
    mx.export_to_dot(str(path), output)
    return re.findall(r'label ="([^"]*)", shape=rectangle', path.read_text())


def compiled_kernels(schedule: Schedule, directory: Path) -> list[str]:
    formula = mx.compile(lambda step: schedule(step))
    return kernels(formula(mx.array(5000, dtype=mx.uint64)), directory)


def _params(extra: dict[str, int], why: dict[str, str] | None = None) -> list[object]:
    params = []
    for name, index, schedule in cases():
        ident = case_id(name, index)
        marks = []
        if ident in extra:
            reason = f"{extra[ident]} kernels (measured on MLX 0.32.4; this is {MLX_VERSION})"
            if why is not None:
                reason += f": {why[name]}"
            marks.append(pytest.mark.xfail(strict=True, reason=reason))
        params.append(pytest.param(name, schedule, id=ident, marks=marks))
    return params


def test_every_registered_schedule_has_a_kernel_config():
    missing = sorted(set(pure_names()) - set(PURE_CONFIGS))
    assert not missing, f"no representative config in tests/_configs.py for {missing}"
    assert set(PURE_CONFIGS) <= set(pure_names()), "a config for a schedule that no longer exists"
    assert all(PURE_CONFIGS.values()), "a schedule with an empty config list"
    assert {type(s).__name__ for s in FEEDBACK_BASES} <= set(PURE_CONFIGS)
    assert set(FEEDBACK) == STATEFUL, "every feedback schedule needs a kernel check below"


@pytest.mark.parametrize(("name", "schedule"), _params(KNOWN_EXTRA_KERNELS, WHY))
def test_compiled_schedule_is_one_kernel(name, schedule, tmp_path):
    found = compiled_kernels(schedule, tmp_path)
    if name == "Constant":  # a constant may fold away entirely
        assert len(found) <= 1, found
    else:
        assert len(found) == 1, f"{len(found)} kernels: {found}"


@pytest.mark.parametrize(
    ("name", "schedule"),
    [param for param in _params(SCALED_EXTRA_KERNELS) if param.values[0] not in WRAPPERS],
)
def test_one_more_multiply_still_fuses(name, schedule, tmp_path):
    # Compositions add elementwise ops on top of a formula (Scale one multiply, Clip a max and a min); a formula
    # already at MLX's fusion depth of 11 is split into several kernels by any of them.
    found = compiled_kernels(Scale(schedule, 0.5), tmp_path)
    assert len(found) == 1, f"{len(found)} kernels: {found}"


# ------------------------------------------------------------------------------------- feedback schedules

FEEDBACK = {
    "ReduceOnPlateau": lambda base: ReduceOnPlateau(base, factor=0.5, patience=1, min_lr=1e-4),
    "GradNormScaled": lambda base: GradNormScaled(base, floor=0.2, min_lr=1e-4),
}
FEEDBACK_BASES = [
    Constant(0.1),
    CosineDecay(0.1, decay_steps=10_000),
    ExponentialDecay(0.1, 0.999),
    OneCycle(0.1, total_steps=10_000),
]
FEEDBACK_EXTRA_KERNELS = {("ReduceOnPlateau", "OneCycle"): 2, ("GradNormScaled", "OneCycle"): 2}
"""Measured on MLX 0.32.4: the multiplier and its ``min_lr`` clamp on the 1-cycle's where chain are too deep."""


def _feedback_params() -> list[object]:
    params = []
    for kind in FEEDBACK:
        for base in FEEDBACK_BASES:
            base_name = type(base).__name__
            extra = FEEDBACK_EXTRA_KERNELS.get((kind, base_name))
            marks = (
                [pytest.mark.xfail(strict=True, reason=f"{extra} kernels (measured on MLX 0.32.4)")] if extra else []
            )
            params.append(pytest.param(kind, base, id=f"{kind}-{base_name}", marks=marks))
    return params


@pytest.mark.parametrize(("kind", "base"), _feedback_params())
def test_feedback_schedule_adds_no_kernel_to_its_base_formula(kind, base, tmp_path):
    schedule = FEEDBACK[kind](base)
    optimizer = schedule.attach(optim.SGD(learning_rate=schedule))
    state = [optimizer.state]  # the state arrays are inputs of the compiled step, never baked-in constants
    formula = mx.compile(lambda step: schedule(step), inputs=state, outputs=state)
    found = kernels(formula(mx.array(5000, dtype=mx.uint64)), tmp_path)
    assert len(compiled_kernels(base, tmp_path)) == 1
    assert len(found) == 1, f"{len(found)} kernels: {found}"


# ---------------------------------------------------------------------------------- the counter's oracle


def test_kernel_count_sees_an_unfused_graph(tmp_path):
    table = mx.array([1.0, 0.5, 0.25])
    formula = mx.compile(lambda step: mx.take(table, (step % 3).astype(mx.int32)) * 2.0)
    assert len(kernels(formula(mx.array(5000, dtype=mx.uint64)), tmp_path)) >= 2
    fused = mx.compile(lambda step: step.astype(mx.float32) * 2.0 + 1.0)
    assert len(kernels(fused(mx.array(5000, dtype=mx.uint64)), tmp_path)) == 1
