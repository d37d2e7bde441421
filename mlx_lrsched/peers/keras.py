"""Keras' learning-rate schedules as mlx-lrsched schedules: ``from_keras("CosineDecay", initial_learning_rate=...)``.

Each builder below has the signature of the ``keras.optimizers.schedules`` class of the same name (Keras 3.15.1,
``keras/src/optimizers/schedules/learning_rate_schedule.py``), defaults included, and returns the schedule whose
step ``k`` is Keras' ``schedule(k)``. This module never imports Keras: the package does not depend on it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from .. import _check
from .._xp import MAX_STEP
from ..base import Constant, Schedule
from ..decay import CosineDecay, ExponentialDecay, InverseTimeDecay, PiecewiseConstant, PolynomialDecay
from ..restarts import CosineRestarts
from ..warmup import Warmup
from ._translator import Translator, checked_rate, owner

__all__ = ["from_keras"]

TRANSLATOR = Translator("Keras", "from_keras")


def from_keras(name: str, /, **kwargs: Any) -> Schedule:
    r"""The schedule that Keras' ``keras.optimizers.schedules.<name>(**kwargs)`` runs: ``lr(k) = schedule(k)``.

    .. math:: \eta_k = \texttt{keras.optimizers.schedules.}\mathit{name}(\texttt{**kwargs})(k), \qquad k = 0, 1, \dots

    ``name`` is the Keras class and ``kwargs`` its own arguments, with Keras' defaults (``name=``, the display
    name, is accepted and ignored). Step ``k`` (the optimizer's ``iterations``: updates already applied) gives
    Keras' ``schedule(k)`` computed in float64: tested against Keras 3.15.1 over whole runs, to 1e-6 relative on
    the NumPy backend and 4e-6 in MLX float32. What each class becomes:

    - ``ExponentialDecay``, ``InverseTimeDecay``, ``PolynomialDecay`` (``cycle``), ``PiecewiseConstantDecay``:
      the native class of the same formula (:class:`~mlx_lrsched.ExponentialDecay`,
      :class:`~mlx_lrsched.InverseTimeDecay`, :class:`~mlx_lrsched.PolynomialDecay`,
      :class:`~mlx_lrsched.PiecewiseConstant`: a boundary step keeps the value before it).
    - ``CosineDecay``: :class:`~mlx_lrsched.CosineDecay` to ``alpha * initial_learning_rate``; with
      ``warmup_target`` a :class:`~mlx_lrsched.Warmup` over ``warmup_steps`` from ``initial_learning_rate`` to
      ``warmup_target``, then the cosine from ``warmup_target`` to ``alpha * warmup_target`` over
      ``decay_steps`` more steps.
    - ``CosineDecayRestarts``: :class:`~mlx_lrsched.CosineRestarts` with ``end_lr = alpha * initial_learning_rate`` and
      ``m_mul_mode="amplitude"``: restart ``n`` peaks at ``init * (alpha + (1 - alpha) * m_mul ** n)``, as Keras;
      any ``t_mul >= 1`` (a non-integer one takes a host table of exact cycle starts: several kernels).

    Deliberate differences: Keras finds a restart's cycle with a float ``log`` and floors in float32 (its
    ``ops.floor``), so at large steps some of its restarts (and ``staircase`` drops) come early
    (``CosineDecayRestarts(first_decay_steps=1, t_mul=2)`` starts cycle 23 at step 8388602, five steps before
    8388607); ours are exact at every step. ``ExponentialDecay`` with ``decay_rate > 1`` grows until float32's
    largest value and holds it (Keras' float32 reaches ``inf``). Refused with a message: negative rates,
    ``decay_steps`` that are not whole numbers of steps, ``t_mul < 1`` (Keras gives NaN past the finite total
    length), ``m_mul > 1``, and boundaries that decrease. Followed as Keras does it: float boundaries are
    truncated to steps (Keras casts them to the step's integer dtype), ``warmup_steps`` is ignored without
    ``warmup_target``, and ``m_mul=0`` keeps ``alpha * initial_learning_rate`` after the first cycle.

    Args:
        name: the Keras schedule class, e.g. ``"CosineDecayRestarts"`` (unknown names get a suggestion).
        **kwargs: its constructor's arguments by name, as Keras takes them.

    Returns:
        The equivalent :class:`~mlx_lrsched.Schedule`: NumPy float64 for NumPy steps, MLX float32 for MLX steps.

    Examples:
        >>> import numpy as np
        >>> s = from_keras("CosineDecayRestarts", initial_learning_rate=1.0, first_decay_steps=2, m_mul=0.5,
        ...                alpha=0.2)
        >>> s
        CosineRestarts(init_lr=1.0, first_period_steps=2, t_mult=2.0, m_mul=0.5, end_lr=0.2, m_mul_mode='amplitude')
        >>> s(np.array([0, 2, 6])).round(6)  # restarts at 0.2 + 0.8 * 0.5**n
        array([1. , 0.6, 0.4])
        >>> from_keras("CosineDecay", initial_learning_rate=0.0, decay_steps=4, warmup_target=1.0,
        ...            warmup_steps=2)(np.array([0, 1, 2, 3, 4, 6])).round(6)
        array([0.      , 0.5     , 1.      , 0.853553, 0.5     , 0.      ])

    References:
        Keras 3.15.1, ``keras/src/optimizers/schedules/learning_rate_schedule.py``,
        https://keras.io/api/optimizers/learning_rate_schedules/
    """
    return TRANSLATOR(name, kwargs)


def _who(name: str) -> str:
    return owner("from_keras", name)


def _decay_steps(who: str, value: Any) -> int:
    return _check.integer(who, "decay_steps", value, low=1)


def _name(who: str, value: Any) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{who}: name must be a string (Keras' display name), got {type(value).__name__}")


@TRANSLATOR.register("ExponentialDecay")
def _exponential_decay(
    initial_learning_rate: float,
    decay_steps: int,
    decay_rate: float,
    staircase: bool = False,
    name: str = "ExponentialDecay",
) -> Schedule:
    who = _who("ExponentialDecay")
    _name(who, name)
    init, steps = checked_rate(who, "initial_learning_rate", initial_learning_rate), _decay_steps(who, decay_steps)
    rate, staircase = checked_rate(who, "decay_rate", decay_rate), _check.flag(who, "staircase", staircase)
    if rate == 0.0:  # 0 ** 0 is 1: the initial rate while the exponent is 0, then 0
        return PiecewiseConstant((steps - 1 if staircase else 0,), (init, 0.0))
    if rate > 1.0:
        if init == 0.0:
            return Constant(0.0)
        return ExponentialDecay(init, rate, steps, staircase=staircase, end_lr=_check.FLOAT32_MAX)
    return ExponentialDecay(init, rate, steps, staircase=staircase)


@TRANSLATOR.register("PiecewiseConstantDecay")
def _piecewise_constant_decay(
    boundaries: Sequence[int], values: Sequence[float], name: str = "PiecewiseConstant"
) -> Schedule:
    who = _who("PiecewiseConstantDecay")
    _name(who, name)
    bounds = _check.sequence(who, "boundaries", boundaries, "steps")
    given = _check.sequence(who, "values", values, "numbers")
    rates = [checked_rate(who, f"values[{i}]", v) for i, v in enumerate(given)]
    if len(bounds) != len(rates) - 1:
        raise ValueError(
            f"{who}: values must have one more entry than boundaries ({len(bounds) + 1}), got {len(rates)}"
        )
    if not bounds:
        raise ValueError(f"{who}: boundaries must not be empty (Keras reads boundaries[0])")
    # Keras casts the boundaries to the step's integer dtype: a float one is truncated toward 0.
    steps = [
        math.trunc(_check.real(who, f"boundaries[{i}]", b, low=-MAX_STEP, high=MAX_STEP)) for i, b in enumerate(bounds)
    ]
    if any(later < earlier for earlier, later in itertools.pairwise(steps)):
        raise ValueError(f"{who}: boundaries must be increasing, got {_check.preview(list(bounds))}")
    # values[i] holds on (boundaries[i-1], boundaries[i]]: drop the intervals that hold no step >= 0.
    kept = [i for i in range(len(rates)) if i == len(steps) or (steps[i] >= 0 and (i == 0 or steps[i] > steps[i - 1]))]
    kept_steps = [steps[i] for i in kept[:-1]]
    if not kept_steps:
        return Constant(rates[kept[-1]])
    return PiecewiseConstant(tuple(kept_steps), tuple(rates[i] for i in kept))


@TRANSLATOR.register("PolynomialDecay")
def _polynomial_decay(
    initial_learning_rate: float,
    decay_steps: int,
    end_learning_rate: float = 0.0001,
    power: float = 1.0,
    cycle: bool = False,
    name: str = "PolynomialDecay",
) -> Schedule:
    who = _who("PolynomialDecay")
    _name(who, name)
    init, steps = checked_rate(who, "initial_learning_rate", initial_learning_rate), _decay_steps(who, decay_steps)
    end = checked_rate(who, "end_learning_rate", end_learning_rate)
    power = _check.real(who, "power", power, low=0.0, high=1e3)
    cycle = _check.flag(who, "cycle", cycle)
    if power == 0.0:  # (1 - p) ** 0 is 1, even at p = 1
        return Constant(init)
    return PolynomialDecay(init, end, steps, power=power, cycle=cycle)


@TRANSLATOR.register("InverseTimeDecay")
def _inverse_time_decay(
    initial_learning_rate: float,
    decay_steps: int,
    decay_rate: float,
    staircase: bool = False,
    name: str = "InverseTimeDecay",
) -> Schedule:
    who = _who("InverseTimeDecay")
    _name(who, name)
    init, steps = checked_rate(who, "initial_learning_rate", initial_learning_rate), _decay_steps(who, decay_steps)
    rate, staircase = checked_rate(who, "decay_rate", decay_rate), _check.flag(who, "staircase", staircase)
    return InverseTimeDecay(init, rate, steps, staircase=staircase)


@TRANSLATOR.register("CosineDecay")
def _cosine_decay(
    initial_learning_rate: float,
    decay_steps: int,
    alpha: float = 0.0,
    name: str = "CosineDecay",
    warmup_target: float | None = None,
    warmup_steps: int = 0,
) -> Schedule:
    who = _who("CosineDecay")
    _name(who, name)
    init, steps = checked_rate(who, "initial_learning_rate", initial_learning_rate), _decay_steps(who, decay_steps)
    alpha, warmup = checked_rate(who, "alpha", alpha), _check.integer(who, "warmup_steps", warmup_steps)
    if warmup_target is None:  # Keras skips the warmup, whatever warmup_steps says
        return CosineDecay(init, steps, end_lr=_floor(who, init, alpha))
    target = checked_rate(who, "warmup_target", warmup_target)
    return Warmup(CosineDecay(target, steps, end_lr=_floor(who, target, alpha)), warmup, init_lr=init)


def _floor(who: str, value: float, alpha: float) -> float:
    floor = value * alpha
    if floor > _check.FLOAT32_MAX:
        raise ValueError(f"{who}: alpha times the rate is {floor:g}, above float32's largest value")
    return floor


@TRANSLATOR.register("CosineDecayRestarts")
def _cosine_decay_restarts(
    initial_learning_rate: float,
    first_decay_steps: float,
    t_mul: float = 2.0,
    m_mul: float = 1.0,
    alpha: float = 0.0,
    name: str = "SGDRDecay",
) -> Schedule:
    who = _who("CosineDecayRestarts")
    _name(who, name)
    init = checked_rate(who, "initial_learning_rate", initial_learning_rate)
    first = _check.real(who, "first_decay_steps", first_decay_steps, low=1.0, high=MAX_STEP, high_open=True)
    t_mul = _check.real(who, "t_mul", t_mul, low=1.0, high=2.0**31 - 1)
    m_mul = _check.real(who, "m_mul", m_mul, low=0.0, high=1.0)
    end = _floor(who, init, checked_rate(who, "alpha", alpha))
    period = int(first) if first.is_integer() else first
    try:
        if m_mul == 0.0:  # 0 ** 0 is 1 in the first cycle, 0 after it: alpha * initial_learning_rate from then on
            return CosineRestarts(init, period, t_mult=t_mul, end_lr=end, cycle_limit=1)
        return CosineRestarts(init, period, t_mult=t_mul, m_mul=m_mul, end_lr=end, m_mul_mode="amplitude")
    except ValueError as error:  # too many cycles (or too fine a period) for an exact table of cycle starts
        cycles = f"t_mul={t_mul!r} with first_decay_steps={first_decay_steps!r}"
        raise ValueError(_check.shorten(f"{who}: no exact cycles for {cycles} ({error})", 300)) from None
