"""Hypothesis strategies: one per public schedule class, each drawing random *valid* configs.

:data:`STRATEGIES` maps every registered schedule name to a strategy factory. A factory takes the
strategy for nested schedule configs (ignored by leaves), so compositions nest to any depth:
:func:`configs` draws from every pure schedule up to a depth, :func:`config_strategy` from one class.
A config is what ``Schedule.to_config`` returns; :func:`schedule_strategy` builds it with ``from_config``.
``test_properties.py`` fails when a registered schedule has no entry here.

Values span what the validation accepts, not only what is typical: rates 0 or in [1e-6, 10] (smaller
positive rates are below what float32 holds next to a peak), factors anywhere in their interval, step
counts from 0 to near ``2**63``.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

import mlx_lrsched
from mlx_lrsched import base
from mlx_lrsched._xp import MAX_STEP

Config = dict[str, Any]
Strategy = st.SearchStrategy

# Import every module of the package so every schedule class is registered, including ones added later.
for _module in pkgutil.iter_modules(mlx_lrsched.__path__):
    if not _module.name.startswith("__"):
        importlib.import_module(f"mlx_lrsched.{_module.name}")

STATEFUL = frozenset({"ReduceOnPlateau", "GradNormScaled"})
"""Schedules whose value depends on state updated during training: not pure functions of the step."""

LR_MIN, LR_MAX = 1e-6, 10.0


def public_schedule_names() -> list[str]:
    """Every registered schedule defined by the package itself (test modules may register their own)."""
    return [name for name in base.schedule_names() if base.schedule_class(name).__module__.startswith("mlx_lrsched.")]


# ------------------------------------------------------------------------------------------- values


def lr(low: float = 0.0, high: float = LR_MAX) -> Strategy[float]:
    """A learning rate in ``[low, high]``: 0 (when allowed), the ends, or a float in ``[max(low, 1e-6), high]``."""
    choices: list[Strategy[float]] = [st.sampled_from(sorted({low, high}))]
    if high >= max(low, LR_MIN):
        choices.append(st.floats(max(low, LR_MIN), high, allow_subnormal=False))
    return st.one_of(choices)


def unit(*, exclude_min: bool = True, exclude_max: bool = False) -> Strategy[float]:
    """A factor in (0, 1] (or [0, 1], [0, 1), ...), with its ends and values next to them likely."""
    return st.floats(0.0, 1.0, exclude_min=exclude_min, exclude_max=exclude_max, allow_subnormal=False)


def count(low: int = 0, high: int = MAX_STEP) -> Strategy[int]:
    """A step count in ``[low, high]``: small, log-uniform up to ``high``, or anywhere."""
    small = st.integers(low, min(high, low + 64))
    log_uniform = st.integers(0, 62).flatmap(lambda e: st.integers(2**e, 2 ** (e + 1) - 1))
    return st.one_of(small, log_uniform.map(lambda v: min(max(v, low), high)), st.integers(low, high))


def increasing(low: int = 0, max_size: int = 4) -> Strategy[list[int]]:
    """A non-empty, strictly increasing list of steps >= ``low``."""
    return st.lists(count(low), min_size=1, max_size=max_size, unique=True).map(sorted)


def config(name: str, **fields: Any) -> Config:
    return {"name": name, **fields}


# ---------------------------------------------------------------------------------------- strategies

Factory = Callable[[Strategy[Config]], Strategy[Config]]


@dataclass(frozen=True)
class Entry:
    """How to draw one schedule class: ``factory(children)``; ``nests`` if it wraps drawn schedules."""

    factory: Factory
    nests: bool = False


STRATEGIES: dict[str, Entry] = {}


def register(name: str, *, nests: bool = False) -> Callable[[Factory], Factory]:
    def add(factory: Factory) -> Factory:
        STRATEGIES[name] = Entry(factory, nests)
        return factory

    return add


@register("Constant")
def _constant(children: Strategy[Config]) -> Strategy[Config]:
    return st.builds(lambda value: config("Constant", lr=value), lr())


@register("StepDecay")
def _step(children: Strategy[Config]) -> Strategy[Config]:
    return st.builds(
        lambda init, size, gamma: config("StepDecay", init_lr=init, step_size=size, gamma=gamma),
        lr(),
        count(1),
        unit(),
    )


@register("MultiStepDecay")
def _multistep(children: Strategy[Config]) -> Strategy[Config]:
    return st.builds(
        lambda init, milestones, gamma: config("MultiStepDecay", init_lr=init, milestones=milestones, gamma=gamma),
        lr(),
        increasing(),
        unit(),
    )


@register("PiecewiseConstant")
@st.composite
def _piecewise(draw: st.DrawFn, children: Strategy[Config]) -> Config:
    boundaries = draw(increasing())
    values = draw(st.lists(lr(), min_size=len(boundaries) + 1, max_size=len(boundaries) + 1))
    return config("PiecewiseConstant", boundaries=boundaries, values=values)


@register("ExponentialDecay")
@st.composite
def _exponential(draw: st.DrawFn, children: Strategy[Config]) -> Config:
    if draw(st.booleans()):  # decay, with an optional floor
        init = draw(lr())
        rate = draw(unit())
        end = draw(st.none() | lr(0.0, init))
    else:  # growth up to a ceiling
        init = draw(lr(LR_MIN))
        rate = draw(st.floats(1.0, 4.0, exclude_min=True))
        end = draw(lr(init))
    return config(
        "ExponentialDecay",
        init_lr=init,
        decay_rate=rate,
        decay_steps=draw(count(1)),
        staircase=draw(st.booleans()),
        transition_begin=draw(count()),
        end_lr=end,
    )


@register("InverseTimeDecay")
def _inverse_time(children: Strategy[Config]) -> Strategy[Config]:
    return st.builds(
        lambda init, rate, steps, staircase: config(
            "InverseTimeDecay", init_lr=init, decay_rate=rate, decay_steps=steps, staircase=staircase
        ),
        lr(),
        st.floats(0.0, 1e6, allow_subnormal=False),
        count(1),
        st.booleans(),
    )


@register("PolynomialDecay")
def _polynomial(children: Strategy[Config]) -> Strategy[Config]:
    return st.builds(
        lambda init, end, steps, power, cycle: config(
            "PolynomialDecay", init_lr=init, end_lr=end, decay_steps=steps, power=power, cycle=cycle
        ),
        lr(),
        lr(),
        count(1),
        st.sampled_from([0.5, 1.0, 2.0]) | st.floats(1e-3, 1e3),
        st.booleans(),
    )


@register("CosineDecay")
def _cosine(children: Strategy[Config]) -> Strategy[Config]:
    return st.builds(
        lambda init, steps, end: config("CosineDecay", init_lr=init, decay_steps=steps, end_lr=end),
        lr(),
        count(1),
        lr(),
    )


@register("Linear")
def _linear(children: Strategy[Config]) -> Strategy[Config]:
    return st.builds(lambda a, b, n: config("Linear", init_lr=a, end_lr=b, steps=n), lr(), lr(), count())


@register("InverseSqrt")
def _inverse_sqrt(children: Strategy[Config]) -> Strategy[Config]:
    return st.builds(
        lambda peak, warmup, init, timescale: config(
            "InverseSqrt", peak_lr=peak, warmup_steps=warmup, init_lr=init, timescale=timescale
        ),
        lr(),
        count(),
        lr(),
        st.none() | count(1),
    )


@register("WSD")
@st.composite
def _wsd(draw: st.DrawFn, children: Strategy[Config]) -> Config:
    peak = draw(lr())
    warmup = draw(count())
    stable = draw(count(0, MAX_STEP - warmup))
    decay = draw(count(0, MAX_STEP - warmup - stable))
    return config(
        "WSD",
        peak_lr=peak,
        warmup_steps=warmup,
        stable_steps=stable,
        decay_steps=decay,
        decay_shape=draw(st.sampled_from(["linear", "cos", "sqrt"])),
        end_lr=draw(lr(0.0, peak)),
        init_lr=draw(lr(0.0, peak)),
    )


@register("CyclicLR")
@st.composite
def _cyclic(draw: st.DrawFn, children: Strategy[Config]) -> Config:
    base_lr = draw(lr())
    return config(
        "CyclicLR",
        base_lr=base_lr,
        max_lr=draw(lr(base_lr)),
        step_size_up=draw(count(1, MAX_STEP // 2)),
        step_size_down=draw(st.none() | count(0, MAX_STEP // 2)),
        mode=draw(st.sampled_from(["triangular", "triangular2", "exp_range"])),
        gamma=draw(unit()),
        window=draw(st.sampled_from(["linear", "welch", "hann"])),
    )


@register("CyclicExponentialDecay")
@st.composite
def _cyclic_exponential(draw: st.DrawFn, children: Strategy[Config]) -> Config:
    init = draw(lr())
    modulation = draw(st.sampled_from(["raised_cosine", "signed_cosine"]))
    return config(
        "CyclicExponentialDecay",
        init_lr=init,
        decay_rate=draw(unit()),
        period_steps=draw(count(1, 2**60)),
        staircase=draw(st.booleans()),
        modulation=modulation,
        min_lr=0.0 if modulation == "signed_cosine" else draw(lr(0.0, init)),
    )


@register("CosineRestarts")
def _restarts(children: Strategy[Config]) -> Strategy[Config]:
    return st.builds(
        lambda init, first, mult, mul, end: config(
            "CosineRestarts", init_lr=init, first_period_steps=first, t_mult=mult, m_mul=mul, end_lr=end
        ),
        lr(),
        count(1),
        st.integers(1, 4) | st.integers(1, 2**31 - 1),
        unit(),
        lr(),
    )


@st.composite
def _one_cycle_config(draw: st.DrawFn) -> Config:
    three_phase = draw(st.booleans())
    return config(
        "OneCycle",
        max_lr=draw(lr()),
        total_steps=draw(count(1, 2**53)),
        pct_start=draw(st.floats(0.0, 0.5 if three_phase else 1.0) | st.sampled_from([0.0, 0.5])),
        anneal=draw(st.sampled_from(["cos", "linear"])),
        div_factor=draw(st.floats(1.0, 1e4) | st.just(1.0)),
        final_div_factor=draw(st.floats(1.0, 1e6) | st.just(1.0)),
        three_phase=three_phase,
    )


@register("OneCycle")
def _one_cycle(children: Strategy[Config]) -> Strategy[Config]:
    return _one_cycle_config()


@register("OneCycleMomentum")
@st.composite
def _one_cycle_momentum(draw: st.DrawFn, children: Strategy[Config]) -> Config:
    base_momentum = draw(lr(0.0, 1.0))
    return config(
        "OneCycleMomentum",
        schedule=draw(_one_cycle_config()),
        base_momentum=base_momentum,
        max_momentum=draw(lr(base_momentum, 1.0)),
    )


# ------------------------------------------------------------------------------------- compositions


@register("PerEpoch", nests=True)
def _per_epoch(children: Strategy[Config]) -> Strategy[Config]:
    return st.builds(lambda inner, n: config("PerEpoch", schedule=inner, steps_per_epoch=n), children, count(1))


@register("Join", nests=True)
@st.composite
def _join(draw: st.DrawFn, children: Strategy[Config]) -> Config:
    schedules = draw(st.lists(children, min_size=1, max_size=3))
    boundaries = draw(st.lists(count(), min_size=len(schedules) - 1, max_size=len(schedules) - 1, unique=True))
    return config("Join", schedules=schedules, boundaries=sorted(boundaries))


@register("Scale", nests=True)
def _scale(children: Strategy[Config]) -> Strategy[Config]:
    factors = st.sampled_from([0.0, 0.5, 1.0]) | st.floats(LR_MIN, 10.0)
    return st.builds(lambda inner, factor: config("Scale", schedule=inner, factor=factor), children, factors)


@register("Product", nests=True)
def _product(children: Strategy[Config]) -> Strategy[Config]:
    return st.builds(lambda factors: config("Product", schedules=factors), st.lists(children, min_size=1, max_size=3))


@register("Clip", nests=True)
@st.composite
def _clip(draw: st.DrawFn, children: Strategy[Config]) -> Config:
    min_lr = draw(lr())
    return config("Clip", schedule=draw(children), min_lr=min_lr, max_lr=draw(st.none() | lr(min_lr)))


@register("Warmup", nests=True)
def _warmup(children: Strategy[Config]) -> Strategy[Config]:
    return st.builds(
        lambda inner, steps, init, shape: config(
            "Warmup", schedule=inner, warmup_steps=steps, init_lr=init, shape=shape
        ),
        children,
        count(),
        lr(),
        st.sampled_from(["linear", "cos", "sqrt", "constant"]),
    )


@register("ReduceOnPlateau", nests=True)
@st.composite
def _plateau(draw: st.DrawFn, children: Strategy[Config]) -> Config:
    threshold_mode = draw(st.sampled_from(["rel", "abs"]))
    threshold = draw(unit(exclude_min=False, exclude_max=True) if threshold_mode == "rel" else st.floats(0.0, 1e3))
    return config(
        "ReduceOnPlateau",
        schedule=draw(children),
        factor=draw(unit(exclude_max=True)),
        patience=draw(st.integers(0, 5)),
        mode=draw(st.sampled_from(["min", "max"])),
        threshold=threshold,
        threshold_mode=threshold_mode,
        cooldown=draw(st.integers(0, 3)),
        min_lr=draw(lr()),
        eps=draw(st.sampled_from([0.0, 1e-8]) | st.floats(0.0, 1.0)),
    )


@register("GradNormScaled", nests=True)
def _grad_norm(children: Strategy[Config]) -> Strategy[Config]:
    return st.builds(
        lambda inner, floor, min_lr, norm: config(
            "GradNormScaled", schedule=inner, floor=floor, min_lr=min_lr, norm=norm
        ),
        children,
        unit(exclude_min=False),
        lr(),
        st.sampled_from(["l2", "l1", "inf"]),
    )


# ------------------------------------------------------------------------------------------- access


def pure_names() -> list[str]:
    """Every registered schedule that is a pure function of the step."""
    return [name for name in public_schedule_names() if name not in STATEFUL]


@functools.cache
def configs(depth: int = 2) -> Strategy[Config]:
    """A config of any pure schedule, compositions nested up to ``depth`` levels."""
    names = [name for name in sorted(STRATEGIES) if name not in STATEFUL]
    leaves = [STRATEGIES[name].factory(st.nothing()) for name in names if not STRATEGIES[name].nests]
    if depth <= 0:
        return st.one_of(leaves)
    children = configs(depth - 1)
    nested = [STRATEGIES[name].factory(children) for name in names if STRATEGIES[name].nests]
    return st.one_of(leaves + nested)


def config_strategy(name: str, depth: int = 2) -> Strategy[Config]:
    """A config of the schedule class ``name``; nested schedules go ``depth - 1`` levels deeper."""
    return STRATEGIES[name].factory(configs(depth - 1))


def schedule_strategy(name: str, depth: int = 2) -> Strategy[base.Schedule]:
    """A schedule of class ``name`` built with ``from_config`` from a random valid config."""
    return config_strategy(name, depth).map(base.from_config)


def any_schedule(depth: int = 2) -> Strategy[base.Schedule]:
    """Any pure schedule, compositions nested up to ``depth`` levels."""
    return configs(depth).map(base.from_config)
