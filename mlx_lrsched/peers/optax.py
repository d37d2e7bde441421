"""optax's schedules as mlx-lrsched schedules: ``from_optax("warmup_cosine_decay_schedule", init_value=0, ...)``.

Each builder below has the signature of the optax function of the same name (``optax.schedules.<name>``, optax
0.2.8: ``optax/schedules/_schedule.py`` and ``_join.py``), defaults included, and returns the schedule whose step
``k`` is optax's ``schedule(k)``. This module never imports optax: the package does not depend on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .. import _check
from .._xp import MAX_STEP
from ..base import Constant, Schedule
from ..compose import Join, Ramp
from ..decay import CosineDecay, ExponentialDecay, PiecewiseConstant, PolynomialDecay
from ..interpolate import PiecewiseInterpolate
from ..warmup import Warmup
from ._translator import Translator, checked_rate, owner

__all__ = ["from_optax"]

TRANSLATOR = Translator("optax", "from_optax")


def from_optax(name: str, /, **kwargs: Any) -> Schedule:
    r"""The schedule that optax's ``optax.schedules.<name>(**kwargs)`` runs: ``lr(k) = schedule(k)``.

    .. math:: \eta_k = \texttt{optax.schedules.}\mathit{name}(\texttt{**kwargs})(k), \qquad k = 0, 1, \dots

    ``name`` is the optax function and ``kwargs`` its own arguments, with optax's defaults. Step ``k`` (the
    optimizer updates already applied, as ``optax.inject_hyperparams`` counts them) gives optax's ``schedule(k)``
    computed with ``jax_enable_x64``: tested against optax 0.2.8 over whole runs, to 1e-6 relative on the NumPy
    backend and 4e-6 in MLX float32. What each name becomes:

    - ``constant_schedule``: :class:`~mlx_lrsched.Constant`; ``polynomial_schedule``, ``linear_schedule``,
      ``warmup_constant_schedule``: :class:`~mlx_lrsched.PolynomialDecay` (``transition_begin`` holds
      ``init_value`` first); ``exponential_decay``: :class:`~mlx_lrsched.ExponentialDecay` (``end_value`` is
      ``end_lr``); ``cosine_decay_schedule``: :class:`~mlx_lrsched.CosineDecay` with
      ``end_lr = alpha * init_value`` and ``exponent``.
    - ``piecewise_constant_schedule``: :class:`~mlx_lrsched.PiecewiseConstant` (a scale applies from its step
      ``b`` on: boundary ``b - 1`` in the Keras rule); ``piecewise_interpolate_schedule``,
      ``linear_onecycle_schedule`` (three phases, ``pct_final``) and ``cosine_onecycle_schedule``:
      :class:`~mlx_lrsched.PiecewiseInterpolate` at steps ``0, b1, b2, ...`` with values ``init_value`` times
      the running product of the scales, the onecycles' steps placed at optax's ``int(pct * transition_steps)``
      (two that round together keep the later scale, as optax's dict does).
    - ``warmup_cosine_decay_schedule``, ``warmup_exponential_decay_schedule``: :class:`~mlx_lrsched.Warmup` of
      the decay; ``sgdr_schedule``: a :class:`~mlx_lrsched.Join` of warmup cosines; ``join_schedules``:
      :class:`~mlx_lrsched.Join`, whose ``schedules`` are mlx-lrsched schedules (``from_optax(...)`` results) or
      ``(name, kwargs)`` pairs that ``from_optax`` translates (not Python callables: a schedule must compile).

    Deliberate differences, stated once. Refused, with a message that says what to write instead: what optax
    only logs and replaces (a negative ``transition_begin``, which optax treats as 0; ``exponential_decay``'s
    ``transition_steps <= 0`` or ``decay_rate == 0``, which optax turns into a constant), ``decay_rate > 1``
    without ``end_value`` (it grows without bound), negative rates, non-integer boundary keys, and
    ``join_schedules`` boundaries that do not increase or are not one fewer than the schedules (optax's ``zip``
    drops the extras). Followed, as optax documents it: ``transition_steps <= 0`` of ``polynomial_schedule`` and
    ``linear_schedule`` holds ``init_value`` (so ``warmup_constant_schedule(warmup_steps=0)`` holds
    ``init_value``), and a boundary key ``<= 0`` applies from step 0. Not copied: under ``jax.jit`` (and ``vmap``)
    XLA divides by a constant through its reciprocal, so optax's staircase ``exponential_decay`` drops a step late
    wherever ``count * (1 / transition_steps)`` rounds below a whole number (``transition_steps=49``: steps 49, 98,
    147, 196, ...), and its ``polynomial_schedule`` with ``power < 1`` ends at ``end_value + (init - end) *
    2e-16 ** power`` (3e-8 of ``init_value`` at ``power=0.47``); ours count in integers and end at ``end_value``.

    Args:
        name: the optax schedule function, e.g. ``"cosine_decay_schedule"`` (unknown names get a suggestion).
        **kwargs: its arguments by name, as optax takes them.

    Returns:
        The equivalent :class:`~mlx_lrsched.Schedule`: NumPy float64 for NumPy steps, MLX float32 for MLX steps.

    Examples:
        >>> import numpy as np
        >>> s = from_optax("warmup_cosine_decay_schedule", init_value=0.0, peak_value=1.0, warmup_steps=2,
        ...                decay_steps=6, exponent=2.0)
        >>> s
        Warmup(schedule=CosineDecay(init_lr=1.0, decay_steps=4, exponent=2.0), warmup_steps=2)
        >>> s(np.array([0, 1, 2, 3, 4, 6])).round(6)  # warmup, then the squared cosine
        array([0.      , 0.5     , 1.      , 0.728553, 0.25    , 0.      ])
        >>> from_optax("piecewise_constant_schedule", init_value=1.0, boundaries_and_scales={2: 0.5})(np.arange(4))
        array([1. , 1. , 0.5, 0.5])

    References:
        optax 0.2.8, ``optax/schedules/_schedule.py`` and ``optax/schedules/_join.py``,
        https://optax.readthedocs.io/en/latest/api/optimizer_schedules.html
    """
    return TRANSLATOR(name, kwargs)


def _who(name: str) -> str:
    return owner("from_optax", name)


def _begin(who: str, value: Any) -> int:
    begin = _check.integer(who, "transition_begin", value, low=-MAX_STEP)
    if begin < 0:
        raise ValueError(f"{who}: transition_begin must be >= 0, got {begin} (optax logs it and uses 0: pass 0)")
    return begin


def _fits(who: str, what: str, value: float) -> float:
    if value > _check.FLOAT32_MAX:
        raise ValueError(f"{who}: {what} is {value:g}, above float32's largest value {_check.FLOAT32_MAX:g}")
    return value


def _scales(who: str, boundaries_and_scales: Any) -> list[tuple[int, float]]:
    """optax's ``{step: scale}`` as sorted ``(step, scale)`` pairs: integer steps, scales >= 0."""
    if boundaries_and_scales is None:
        return []
    if not isinstance(boundaries_and_scales, Mapping):
        kind = type(boundaries_and_scales).__name__
        raise TypeError(f"{who}: boundaries_and_scales must be a dict {{step: scale}} or None, got {kind}")
    pairs = []
    for key, scale in boundaries_and_scales.items():
        step = _check.integer(who, "a boundaries_and_scales key", key, low=-MAX_STEP)
        pairs.append((step, checked_rate(who, f"boundaries_and_scales[{step}]", scale)))
    return sorted(pairs)


def _cumulative(who: str, init_value: float, pairs: list[tuple[int, float]]) -> list[float]:
    """``init_value`` times the running product of the scales, as optax multiplies them."""
    values = [init_value]
    for step, scale in pairs:
        values.append(_fits(who, f"the value from step {step} on", values[-1] * scale))
    return values


@TRANSLATOR.register("constant_schedule")
def _constant_schedule(value: float) -> Schedule:
    return Constant(checked_rate(_who("constant_schedule"), "value", value))


def _polynomial(
    who: str, init_value: float, end_value: float, power: float, transition_steps: int, transition_begin: int
) -> Schedule:
    init, end = checked_rate(who, "init_value", init_value), checked_rate(who, "end_value", end_value)
    power = _check.real(who, "power", power, low=0.0, high=1e3)
    steps = _check.integer(who, "transition_steps", transition_steps, low=-MAX_STEP)
    begin = _begin(who, transition_begin)
    if steps <= 0 or power == 0.0:  # optax: "the entire annealing process is disabled"; x ** 0 is 1, even 0 ** 0
        return Constant(init)
    return PolynomialDecay(init, end, steps, power=power, transition_begin=begin)


@TRANSLATOR.register("polynomial_schedule")
def _polynomial_schedule(
    init_value: float, end_value: float, power: float, transition_steps: int, transition_begin: int = 0
) -> Schedule:
    who = _who("polynomial_schedule")
    return _polynomial(who, init_value, end_value, power, transition_steps, transition_begin)


@TRANSLATOR.register("linear_schedule")
def _linear_schedule(init_value: float, end_value: float, transition_steps: int, transition_begin: int = 0) -> Schedule:
    return _polynomial(_who("linear_schedule"), init_value, end_value, 1.0, transition_steps, transition_begin)


@TRANSLATOR.register("piecewise_constant_schedule")
def _piecewise_constant_schedule(
    init_value: float, boundaries_and_scales: Mapping[int, float] | None = None
) -> Schedule:
    who = _who("piecewise_constant_schedule")
    pairs = _scales(who, boundaries_and_scales)
    values = _cumulative(who, checked_rate(who, "init_value", init_value), pairs)
    # A scale applies from its step on (count >= b); keys <= 0 already at step 0.
    applied = sum(1 for step, _ in pairs if step <= 0)
    starts = [step for step, _ in pairs[applied:]]
    if not starts:
        return Constant(values[-1])
    return PiecewiseConstant(tuple(step - 1 for step in starts), tuple(values[applied:]))


def _exponential(
    who: str,
    init_value: float,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int,
    staircase: bool,
    end_value: float | None,
) -> Schedule:
    init = checked_rate(who, "init_value", init_value)
    steps = _check.integer(who, "transition_steps", transition_steps, low=-MAX_STEP)
    if steps <= 0:
        raise ValueError(
            f"{who}: transition_steps must be >= 1, got {steps} (optax logs it and holds init_value: for that, "
            "use constant_schedule)"
        )
    rate = _check.real(who, "decay_rate", decay_rate, high=_check.FLOAT32_MAX)
    if rate <= 0.0:
        why = " (optax logs it and holds init_value: for that, use constant_schedule)" if rate == 0.0 else ""
        raise ValueError(f"{who}: decay_rate must be > 0, got {rate!r}{why}")
    begin = _begin(who, transition_begin)
    staircase = _check.flag(who, "staircase", staircase)
    end = None if end_value is None else checked_rate(who, "end_value", end_value)
    if rate > 1.0 and end is None:
        raise ValueError(
            f"{who}: decay_rate > 1 grows without bound; give end_value as its ceiling, got decay_rate={rate!r} "
            "with end_value=None"
        )
    # optax clips with max(value, end) when decay_rate < 1, else min(value, end): from step 0 when the bound
    # is already on the wrong side of init_value.
    if end is not None and (end >= init if rate < 1.0 else end <= init):
        return Constant(end)
    if rate == 1.0 or init == 0.0:
        return Constant(init)
    return ExponentialDecay(init, rate, steps, staircase=staircase, transition_begin=begin, end_lr=end)


@TRANSLATOR.register("exponential_decay")
def _exponential_decay(
    init_value: float,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: float | None = None,
) -> Schedule:
    who = _who("exponential_decay")
    return _exponential(who, init_value, transition_steps, decay_rate, transition_begin, staircase, end_value)


def _cosine(who: str, init_value: float, decay_steps: int, alpha: float, exponent: float) -> Schedule:
    init = checked_rate(who, "init_value", init_value)
    steps = _check.integer(who, "decay_steps", decay_steps, low=1)
    alpha = checked_rate(who, "alpha", alpha)
    exponent = _check.real(who, "exponent", exponent, low=0.0, high=1e3)
    end = _fits(who, "alpha * init_value", init * alpha)
    if exponent == 0.0:  # the cosine to the power 0 is 1 (even 0 ** 0 at the end)
        return Constant(init)
    return CosineDecay(init, steps, end_lr=end, exponent=exponent)


@TRANSLATOR.register("cosine_decay_schedule")
def _cosine_decay_schedule(init_value: float, decay_steps: int, alpha: float = 0.0, exponent: float = 1.0) -> Schedule:
    return _cosine(_who("cosine_decay_schedule"), init_value, decay_steps, alpha, exponent)


_INTERPOLATIONS = {"linear": "linear", "cosine": "cos"}


def _interpolate(who: str, interpolate_type: str, init_value: float, boundaries_and_scales: Any) -> Schedule:
    """optax's ``piecewise_interpolate_schedule``: segments between the steps ``0, b1, b2, ...``, then a hold.

    optax's segment ``i`` runs on ``bounds[i] <= count < bounds[i + 1]`` with ``bounds = (0, *sorted keys)``, so
    a first key ``<= 0`` empties the segment from 0 (optax's ``max(interval, 1)`` guards only such empty ones:
    integer keys never make a non-empty segment shorter than a step), and a segment that starts at a negative key
    is already part-way at step 0: a :class:`~mlx_lrsched.Ramp` with ``lead``.
    """
    shape = _INTERPOLATIONS[_check.choice(who, "interpolate_type", interpolate_type, tuple(_INTERPOLATIONS))]
    pairs = _scales(who, boundaries_and_scales)
    values = _cumulative(who, checked_rate(who, "init_value", init_value), pairs)
    bounds = [0, *(step for step, _ in pairs)]
    first = next((i for i in range(len(pairs)) if bounds[i + 1] > 0 and bounds[i] < bounds[i + 1]), None)
    if first is None:  # every key <= 0: the last value from step 0
        return Constant(values[-1])
    if bounds[first] >= 0:
        return PiecewiseInterpolate(tuple(bounds[first:]), tuple(values[first:]), shape)
    lead, end = -bounds[first], bounds[first + 1]
    head = Ramp(values[first], values[first + 1], end, shape, lead=float(lead))
    later = bounds[first + 1 :]
    tail: Schedule = Constant(values[-1])
    if len(later) > 1:
        tail = PiecewiseInterpolate(tuple(step - end for step in later), tuple(values[first + 1 :]), shape)
    return Join((head, tail), (end,))


@TRANSLATOR.register("piecewise_interpolate_schedule")
def _piecewise_interpolate_schedule(
    interpolate_type: str, init_value: float, boundaries_and_scales: Mapping[int, float] | None = None
) -> Schedule:
    return _interpolate(_who("piecewise_interpolate_schedule"), interpolate_type, init_value, boundaries_and_scales)


def _onecycle(
    who: str, transition_steps: int, peak_value: float, div_factor: float, final_div_factor: float
) -> tuple[int, float, float, float]:
    steps = _check.integer(who, "transition_steps", transition_steps, low=1)
    peak = checked_rate(who, "peak_value", peak_value)
    div = _check.positive(who, "div_factor", div_factor)
    final_div = _check.positive(who, "final_div_factor", final_div_factor)
    return steps, peak, div, final_div


def _onecycle_step(who: str, name: str, pct: Any, transition_steps: int) -> int:
    """optax's ``int(pct * transition_steps)``: truncated toward 0."""
    return int(_check.real(who, name, pct, low=-1e6, high=1e6) * transition_steps)


@TRANSLATOR.register("linear_onecycle_schedule")
def _linear_onecycle_schedule(
    transition_steps: int,
    peak_value: float,
    pct_start: float = 0.3,
    pct_final: float = 0.85,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
    who = _who("linear_onecycle_schedule")
    steps, peak, div, final_div = _onecycle(who, transition_steps, peak_value, div_factor, final_div_factor)
    scales = {  # a dict, as optax's: two steps that round together keep the later scale
        _onecycle_step(who, "pct_start", pct_start, steps): div,
        _onecycle_step(who, "pct_final", pct_final, steps): 1.0 / div,
        steps: 1.0 / final_div,
    }
    return _interpolate(who, "linear", peak / div, scales)


@TRANSLATOR.register("cosine_onecycle_schedule")
def _cosine_onecycle_schedule(
    transition_steps: int,
    peak_value: float,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
    who = _who("cosine_onecycle_schedule")
    steps, peak, div, final_div = _onecycle(who, transition_steps, peak_value, div_factor, final_div_factor)
    scales = {_onecycle_step(who, "pct_start", pct_start, steps): div, steps: 1.0 / (div * final_div)}
    return _interpolate(who, "cosine", peak / div, scales)


@TRANSLATOR.register("warmup_constant_schedule")
def _warmup_constant_schedule(init_value: float, peak_value: float, warmup_steps: int) -> Schedule:
    who = _who("warmup_constant_schedule")
    return _polynomial(who, init_value, peak_value, 1.0, _warmup_steps(who, warmup_steps), 0)


def _warmup_steps(who: str, value: Any) -> int:
    return _check.integer(who, "warmup_steps", value)


def _warmup(after: Schedule, warmup_steps: int, init: float, peak: float) -> Schedule:
    """optax's ``join_schedules([linear_schedule(init, peak, W), after], [W])``: a warmup to ``peak``, then
    ``after`` from its own step 0 (from step 0 when ``W`` is 0)."""
    if warmup_steps == 0:
        return after
    target = None if float(after(np.int64(0))) == peak else peak  # only said when ``after`` starts elsewhere
    return Warmup(after, warmup_steps, init_lr=init, peak_lr=target)


@TRANSLATOR.register("warmup_cosine_decay_schedule")
def _warmup_cosine_decay_schedule(
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    decay_steps: int,
    end_value: float = 0.0,
    exponent: float = 1.0,
) -> Schedule:
    who = _who("warmup_cosine_decay_schedule")
    init, peak = checked_rate(who, "init_value", init_value), checked_rate(who, "peak_value", peak_value)
    warmup = _warmup_steps(who, warmup_steps)
    total = _check.integer(who, "decay_steps", decay_steps, low=1)
    if total <= warmup:
        raise ValueError(
            f"{who}: decay_steps must exceed warmup_steps (it includes the warmup), got decay_steps={total}, "
            f"warmup_steps={warmup}"
        )
    alpha = 0.0 if peak == 0.0 else checked_rate(who, "end_value", end_value) / peak
    return _warmup(_cosine(who, peak, total - warmup, alpha, exponent), warmup, init, peak)


@TRANSLATOR.register("warmup_exponential_decay_schedule")
def _warmup_exponential_decay_schedule(
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: float | None = None,
) -> Schedule:
    who = _who("warmup_exponential_decay_schedule")
    init, peak = checked_rate(who, "init_value", init_value), checked_rate(who, "peak_value", peak_value)
    after = _exponential(who, peak, transition_steps, decay_rate, transition_begin, staircase, end_value)
    return _warmup(after, _warmup_steps(who, warmup_steps), init, peak)


@TRANSLATOR.register("sgdr_schedule")
def _sgdr_schedule(cosine_kwargs: Iterable[dict[str, Any]]) -> Schedule:
    who = _who("sgdr_schedule")
    if isinstance(cosine_kwargs, (str, bytes, Mapping)) or not isinstance(cosine_kwargs, Iterable):
        kind = type(cosine_kwargs).__name__
        raise TypeError(f"{who}: cosine_kwargs must be a list of warmup_cosine_decay_schedule kwargs, got {kind}")
    cycles: list[Schedule] = []
    starts = [0]
    for index, kwargs in enumerate(cosine_kwargs):
        if not isinstance(kwargs, Mapping):
            raise TypeError(f"{who}: cosine_kwargs[{index}] must be a dict, got {type(kwargs).__name__}")
        try:
            cycles.append(TRANSLATOR("warmup_cosine_decay_schedule", kwargs))
        except (TypeError, ValueError) as error:
            raise type(error)(_check.shorten(f"{who}: cosine_kwargs[{index}]: {error}", 300)) from None
        starts.append(starts[-1] + kwargs["decay_steps"])
    if not cycles:
        raise ValueError(f"{who}: cosine_kwargs must not be empty")
    return cycles[0] if len(cycles) == 1 else Join(tuple(cycles), tuple(starts[1:-1]))


def _joined(who: str, index: int, spec: Any) -> Schedule:
    if isinstance(spec, Schedule):
        return spec
    if isinstance(spec, Sequence) and not isinstance(spec, str) and len(spec) == 2 and isinstance(spec[1], Mapping):
        try:
            return from_optax(spec[0], **spec[1])
        except (TypeError, ValueError) as error:
            raise type(error)(_check.shorten(f"{who}: schedules[{index}]: {error}", 300)) from None
    raise TypeError(
        f"{who}: schedules[{index}] must be a Schedule (e.g. from_optax(...)) or a (name, kwargs) pair, got "
        f"{type(spec).__name__} {_check.preview(spec)}"
    )


@TRANSLATOR.register("join_schedules")
def _join_schedules(schedules: Sequence[Any], boundaries: Sequence[int]) -> Schedule:
    who = _who("join_schedules")
    parts = [_joined(who, i, spec) for i, spec in enumerate(_check.sequence(who, "schedules", schedules, "schedules"))]
    steps = _check.sequence(who, "boundaries", boundaries, "integers")
    if not parts or len(steps) != len(parts) - 1:
        raise ValueError(
            f"{who}: boundaries must have one entry fewer than schedules ({max(len(parts) - 1, 0)}), got "
            f"{len(steps)} for {len(parts)} schedules (optax's zip silently drops the extras)"
        )
    if not steps:
        return parts[0]
    return Join(tuple(parts), _check.increasing_steps(who, "boundaries", steps))
