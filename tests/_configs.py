"""A fixed, representative set of instances of every public pure schedule, shared by the kernel and vmap tests.

:data:`PURE_CONFIGS` maps each registered pure schedule name to a few instances that together reach every
branch of its MLX formula (modes, windows, shapes, staircase, floors, growth, nested compositions).
``test_kernels.py`` fails when a registered schedule has no entry here, so a new schedule must add one.
:func:`feedback_cases` builds the feedback schedules with state that differs from their initial state.
"""

from __future__ import annotations

from mlx_lrsched import (
    WSD,
    Clip,
    Constant,
    CosineDecay,
    CosineRestarts,
    CyclicExponentialDecay,
    CyclicLR,
    ExponentialDecay,
    GradNormScaled,
    InverseSqrt,
    InverseTimeDecay,
    Join,
    Linear,
    MultiStepDecay,
    Noisy,
    OneCycle,
    PerEpoch,
    PiecewiseConstant,
    PiecewiseInterpolate,
    PolynomialDecay,
    Product,
    Ramp,
    ReduceOnPlateau,
    Restarts,
    Scale,
    Schedule,
    Shift,
    StepDecay,
    Warmup,
)
from mlx_lrsched._xp import mx

_ONE_CYCLE = OneCycle(0.1, total_steps=10_000)

PURE_CONFIGS: dict[str, list[Schedule]] = {
    "Constant": [Constant(0.1)],
    "StepDecay": [StepDecay(0.1, step_size=1000, gamma=0.5)],
    "MultiStepDecay": [
        MultiStepDecay(0.1, milestones=[1000, 4000, 9000], gamma=0.3),
        MultiStepDecay(1.0, milestones=range(100, 3100, 100), gamma=0.9),  # more phases than a where chain holds
    ],
    "PiecewiseConstant": [PiecewiseConstant([1000, 4000, 10**9], [1.0, 0.5, 0.25, 0.125])],
    "ExponentialDecay": [
        ExponentialDecay(0.1, 0.999),
        ExponentialDecay(0.1, 0.5, decay_steps=1000, staircase=True, transition_begin=100, end_lr=1e-3),
        ExponentialDecay(0.1, 0.9, decay_steps=700, transition_begin=2000, end_lr=1e-2),
        ExponentialDecay(1e-4, 1.001, end_lr=0.1),  # growth up to a ceiling
    ],
    "InverseTimeDecay": [
        InverseTimeDecay(0.1, 0.5, decay_steps=1000),
        InverseTimeDecay(0.1, 1.0, decay_steps=1000, staircase=True),
    ],
    "PolynomialDecay": [
        PolynomialDecay(0.1, 1e-3, decay_steps=10_000, power=2.0),
        PolynomialDecay(0.1, 1e-3, decay_steps=10_000, power=2.0, transition_begin=500),
        PolynomialDecay(0.1, 1e-3, decay_steps=3000, power=0.5, cycle=True),
    ],
    "CosineDecay": [
        CosineDecay(0.1, decay_steps=10_000, end_lr=1e-4),
        CosineDecay(0.1, decay_steps=10_000, exponent=2.0),  # optax's exponent
        CosineDecay(0.1, decay_steps=9_500, end_lr=1e-5, num_cycles=1.5),  # Hugging Face's waves
    ],
    "Linear": [Linear(0.0, 0.1, steps=10_000)],
    "Ramp": [
        Ramp(0.0, 1.0, steps=10_000, shape="cos", lead=0.5, trail=0.25),
        Ramp(1.0, 0.1, steps=1000, shape="sqrt"),
        Ramp(1.0, 0.1, steps=1000, shape="tanh"),
        Ramp(1.0, 0.0, steps=1000, shape="cos", exponent=2.0, k_decay=0.5),
    ],
    "CyclicLR": [
        CyclicLR(0.01, 0.1, step_size_up=2000, step_size_down=1000, mode=mode, gamma=0.9999, window=window)
        for mode in ("triangular", "triangular2", "exp_range")
        for window in ("linear", "welch", "cos")
    ],
    "CyclicExponentialDecay": [
        CyclicExponentialDecay(0.1, 0.5, period_steps=1000, staircase=True, min_lr=1e-3),
        CyclicExponentialDecay(0.1, 0.5, period_steps=1000),
        CyclicExponentialDecay(0.1, 0.5, period_steps=1000, modulation="signed_cosine"),
    ],
    "CosineRestarts": [
        CosineRestarts(0.1, first_period_steps=1000, m_mul=0.5, end_lr=1e-3),
        CosineRestarts(0.1, first_period_steps=100, t_mult=2),
        CosineRestarts(0.1, first_period_steps=10, t_mult=3, m_mul=0.8, end_lr=1e-3),
        CosineRestarts(0.1, first_period_steps=1000, cycle_limit=3, k_decay=2.0, m_mul=0.8, m_mul_mode="amplitude"),
    ],
    "Restarts": [
        Restarts(0.1, first_period_steps=1000 / 3, end_lr=1e-3, cycle_limit=3),  # Hugging Face's hard restarts
        Restarts(0.1, first_period_steps=100, shape="tanh", lb=-6.0, ub=4.0),  # timm's TanhLRScheduler
        Restarts(0.1, first_period_steps=100, shape="linear", exponent=0.5, k_decay=1.5),  # timm's poly
        Restarts(0.1, first_period_steps=10, t_mult=1.5, m_mul=0.5, end_lr=1e-3, m_mul_mode="amplitude"),  # Keras
    ],
    "Shift": [Shift(OneCycle(0.1, total_steps=10_000), steps=2000)],
    "PiecewiseInterpolate": [
        PiecewiseInterpolate([0, 3000, 8500, 10_000], [0.004, 0.1, 0.004, 1e-5]),
        PiecewiseInterpolate([1000, 3000], [0.1, 0.001], shape="cos"),
    ],
    "CyclicMomentum": [
        CyclicLR(0.01, 0.1, step_size_up=2000, step_size_down=1000, mode=mode, gamma=0.9999, window=window).momentum()
        for mode, window in (("triangular", "linear"), ("triangular2", "welch"), ("exp_range", "cos"))
    ],
    "OneCycle": [
        _ONE_CYCLE,
        OneCycle(0.1, total_steps=10_000, pct_start=0.3, three_phase=True, pct_final=0.85, anneal="linear"),
        OneCycle(0.1, total_steps=10_000, pct_start=0.25, anneal="linear"),
        OneCycle(0.1, total_steps=10_000, pct_start=0.2, three_phase=True),
    ],
    "OneCycleMomentum": [
        _ONE_CYCLE.momentum(0.85, 0.95),
        OneCycle(0.1, total_steps=10_000, pct_start=0.2, anneal="linear", three_phase=True).momentum(),
    ],
    "Warmup": [
        Warmup(CosineDecay(0.1, decay_steps=9000), warmup_steps=1000),
        Warmup(ExponentialDecay(0.1, 0.999), warmup_steps=1000, init_lr=1e-3, shape="cos"),
        Warmup(CosineRestarts(0.1, 3000, cycle_limit=2), warmup_steps=500, overlay=True, peak_lr=0.1),  # timm
    ],
    "Join": [Join([Linear(0.0, 0.1, 1000), CosineDecay(0.1, 9000)], boundaries=[1000])],
    "Product": [Product([StepDecay(1.0, step_size=3000, gamma=0.5), CyclicLR(0.01, 0.1, step_size_up=500)])],
    "Scale": [Scale(_ONE_CYCLE, factor=0.5)],
    "Clip": [
        Clip(OneCycle(0.1, total_steps=10_000), min_lr=1e-3, max_lr=0.05),
        Clip(CyclicExponentialDecay(0.1, 0.5, 1000, modulation="signed_cosine"), min_lr=1e-3, max_lr=0.05),
    ],
    "PerEpoch": [PerEpoch(ExponentialDecay.from_rate(0.1, 0.05), steps_per_epoch=469)],
    "WSD": [
        WSD(0.1, warmup_steps=1000, stable_steps=3000, decay_steps=4000, decay_shape=shape, end_lr=1e-4, init_lr=1e-3)
        for shape in ("linear", "cos", "sqrt")
    ],
    "InverseSqrt": [
        InverseSqrt(0.1, warmup_steps=1000),
        InverseSqrt(0.1, warmup_steps=0, timescale=500),
    ],
    "Noisy": [
        Noisy(CosineDecay(0.1, decay_steps=10_000, end_lr=1e-4), start_step=100, end_step=9000),  # timm's defaults
        Noisy(CosineDecay(0.1, decay_steps=10_000), pct=0.5, distribution="uniform", seed=7, start_step=1000),
    ],
}
"""Every public pure schedule: a few instances reaching each branch of its MLX formula."""


def cases() -> list[tuple[str, int, Schedule]]:
    """``(name, index, schedule)`` for every instance of :data:`PURE_CONFIGS`."""
    return [(name, i, schedule) for name, schedules in PURE_CONFIGS.items() for i, schedule in enumerate(schedules)]


def case_id(name: str, index: int) -> str:
    return f"{name}-{index}"


def feedback_cases() -> list[tuple[str, Schedule]]:
    """``(id, schedule)`` for each feedback schedule, its state moved off the initial one (a reduction, a norm)."""
    plateau = ReduceOnPlateau(CosineDecay(0.1, decay_steps=10_000), factor=0.5, patience=0, min_lr=1e-4)
    for loss in (1.0, 1.0, 1.0):  # two evaluations without improvement: two reductions
        plateau.update(loss)
    assert plateau.num_reductions == 2
    scaled = GradNormScaled(OneCycle(0.1, total_steps=10_000), floor=0.2, min_lr=1e-4)
    scaled.state["grad_norm"] = mx.array(1.5, dtype=mx.float32)  # what apply_gradients records
    return [("ReduceOnPlateau-0", plateau), ("GradNormScaled-0", scaled)]
