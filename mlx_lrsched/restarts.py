"""Annealing with warm restarts: cycles of cosine (SGDR), tanh or polynomial annealing, growing by any factor.

A cycle's place is found exactly at every step: whole-step cycles with integer arithmetic (``//`` and ``%``,
or the exact geometric cycles of :func:`~mlx_lrsched._shapes.geometric_cycles`), cycles of a fractional
length from exact rationals (``1000 / 3`` steps: ``(3 t) // 1000``), and cycles that grow by a non-integer
factor (timm's ``cycle_mul=1.5``, Keras' ``t_mul=1.5``) from a host table of their exact starts, built with
Python's fractions.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np

from . import _check, _spec
from ._shapes import BOUNDARY_CYCLES, CURVE_SHAPES, TANH_BOUND, Curve, exp_decay, geometric_cycles, rational
from ._xp import MAX_STEP, Array, Backend, mx
from .base import Constant, Schedule, lowered, phase_steps
from .compose import Join, curve_rules

__all__ = ["CosineRestarts", "Restarts"]

M_MUL_MODES = ("peak", "amplitude")
MAX_TABLE_CYCLES = 2**16
"""Cycles a table of non-integer growth may hold (``t_mult=1.0007`` with one-step first cycles reaches it)."""


class _Table(NamedTuple):
    """Cycles of a non-integer length, one row each: the integer steps ``first..last`` of cycle ``n`` lie at
    ``lead + (t - first)`` of its ``span`` steps, with ``trail + (last - t)`` steps to go."""

    first: np.ndarray
    last: np.ndarray
    lead: np.ndarray
    trail: np.ndarray
    span: np.ndarray


@functools.lru_cache(maxsize=256)
def _table(first_length: Fraction, mult: Fraction, cycles: int | None) -> _Table:
    """The exact cycle starts :math:`S_n = T_0 (m^n - 1) / (m - 1)` for every cycle that starts at a valid step
    (or the first ``cycles``), in exact rational arithmetic: which step belongs to which cycle never rounds."""
    rows: list[tuple[int, int, float, float, float]] = []
    start, length = Fraction(0), first_length
    while start <= MAX_STEP and (cycles is None or len(rows) < cycles):
        end = start + length
        first, after = math.ceil(start), math.ceil(end)
        rows.append((first, min(after - 1, MAX_STEP), float(first - start), float(end - (after - 1)), float(length)))
        start, length = end, length * mult
    first_steps, last_steps, lead, trail, span = zip(*rows, strict=True)
    return _Table(
        np.array(first_steps, dtype=np.int64),
        np.array(last_steps, dtype=np.int64),
        np.array(lead, dtype=np.float64),
        np.array(trail, dtype=np.float64),
        np.array(span, dtype=np.float64),
    )


def _table_size(first_length: Fraction, mult: Fraction, cycles: int | None) -> int:
    """How many rows :func:`_table` would build (in floats: only the count matters)."""
    if cycles is not None and cycles <= MAX_TABLE_CYCLES:
        return cycles
    growth = float(mult)
    if growth == 1.0:
        return MAX_TABLE_CYCLES + 1
    # cycle n starts at T0 (m**n - 1) / (m - 1): solve for the start that passes 2**63
    return math.floor(math.log1p(MAX_STEP * (growth - 1.0) / float(first_length)) / math.log(growth)) + 1


def _cycle_kind(schedule: Any) -> str:
    """How cycles are found: ``periodic`` (``t_mult == 1``), ``geometric`` (whole lengths) or ``table``."""
    if schedule.t_mult == 1.0:
        return "periodic"
    if float(schedule.t_mult).is_integer() and isinstance(schedule.first_period_steps, int):
        return "geometric"
    return "table"


def _restart_rules(owner: str, schedule: Any) -> None:
    """The rules between the fields of a restarting schedule (``Restarts``, ``CosineRestarts``)."""
    _check.float32_blend(owner, ("init_lr", schedule.init_lr), ("end_lr", schedule.end_lr))
    period = rational(schedule.first_period_steps)
    if period.denominator > 1 and period.numerator * period.denominator >= 2**62:
        raise ValueError(
            f"{owner}: first_period_steps={schedule.first_period_steps!r} is too fine a fraction for exact cycles "
            "(numerator * denominator must stay below 2**62); round it"
        )
    mult = rational(schedule.t_mult)
    if _cycle_kind(schedule) == "table" and _table_size(period, mult, schedule.cycle_limit) > MAX_TABLE_CYCLES:
        raise ValueError(
            f"{owner}: t_mult={schedule.t_mult!r} with first_period_steps={schedule.first_period_steps!r} starts "
            f"more than {MAX_TABLE_CYCLES} cycles below step 2**63; give a cycle_limit or a larger or whole t_mult"
        )


@functools.lru_cache(maxsize=64)
def _device_table(first_length: Fraction, mult: Fraction, cycles: int | None) -> _Table:
    """:func:`_table` as MLX arrays (float32 fractions, int64 steps), made once."""
    table = _table(first_length, mult, cycles)
    return _Table(*(mx.array(column.astype(np.float32) if column.dtype == np.float64 else column) for column in table))


@dataclass(frozen=True)
class Restarts(Schedule):
    r"""Annealing with warm restarts in any shape: ``lr = end_lr + (peak_n - end_lr) · w(x)`` in cycle ``n``.

    .. math::
        \eta_t = \eta_{\text{end}} + (\hat\eta_n - \eta_{\text{end}})\, w\!\left(\frac{t - S_n}{T_0 m^n}\right),
        \qquad S_n = T_0 \frac{m^n - 1}{m - 1} \le t < S_{n+1}

    (:math:`S_n = n T_0` when :math:`m = 1`). Cycle :math:`n` lasts :math:`T_0 m^n` steps and starts at
    :math:`\hat\eta_n = \eta_0 \mu^n` (``m_mul_mode="peak"``: PyTorch, timm) or
    :math:`\hat\eta_n = \eta_{\text{end}} + (\eta_0 - \eta_{\text{end}}) \mu^n` (``"amplitude"``: Keras'
    ``CosineDecayRestarts``, whose restarts stay above its floor ``alpha``). :math:`w`, the weight of the
    cycle's start, is the curve of ``shape``: :math:`B(x^k)^e` with :math:`B(y)` equal to
    :math:`\tfrac12 (1 + \cos \pi y)` (``cos``), :math:`1 - y` (``linear``: timm's polynomial cycles, with
    ``exponent`` their ``power``) or :math:`1 - \sqrt y` (``sqrt``), :math:`k` the ``k_decay`` and :math:`e` the
    ``exponent``; or :math:`\tfrac12 (1 - \tanh(l (1 - x) + u x))` (``tanh``: timm's ``TanhLRScheduler``,
    with ``lb`` :math:`l` and ``ub`` :math:`u`). After ``cycle_limit``
    cycles the rate holds :math:`\eta_{\text{end}}` (timm's ``cycle_limit``).

    Which step belongs to which cycle is exact at every step, also for a fractional first cycle (``1000 / 3``
    steps, read as the fraction nearest to the float with a denominator of at most :math:`2^{20}`) and a
    non-integer :math:`m`: their cycle starts come from a host table built with exact rationals, which
    compiles to several kernels (a gather per lookup) instead of one. Where timm and Keras compute the cycle
    index in floating point (``math.log(x, cycle_mul)``), some of their restarts fall one step late
    (``cycle_mul=3``: step 121 of ``t_initial=1``); here they do not.

    Args:
        init_lr: :math:`\eta_0 \ge 0`, the start of the first cycle.
        first_period_steps: :math:`T_0 \ge 1`, the length of the first cycle (need not be whole).
        t_mult: :math:`m \in [1, 2^{31})`, each cycle is :math:`m` times longer than the last.
        m_mul: :math:`\mu \in (0, 1]`, the factor on each restart (see ``m_mul_mode``).
        end_lr: :math:`\eta_{\text{end}} \ge 0`, what every cycle anneals towards.
        cycle_limit: the number of cycles before the rate holds ``end_lr`` (``None``: no limit).
        m_mul_mode: ``"peak"`` (the start is :math:`\eta_0 \mu^n`) or ``"amplitude"`` (the distance above
            ``end_lr`` shrinks by :math:`\mu^n`).
        shape: ``"cos"``, ``"linear"``, ``"sqrt"`` or ``"tanh"``.
        exponent: :math:`e \in [10^{-3}, 10^3]`.
        k_decay: :math:`k \in [10^{-3}, 10^3]`.
        lb: :math:`l`, the tanh curve's start (``shape="tanh"`` only), in :math:`[-20, 20]`.
        ub: :math:`u > l`, its end.

    Examples:
        >>> import numpy as np
        >>> s = Restarts(1.0, first_period_steps=4, shape="linear", cycle_limit=2)
        >>> s(np.arange(10))
        array([1.  , 0.75, 0.5 , 0.25, 1.  , 0.75, 0.5 , 0.25, 0.  , 0.  ])
        >>> keras = Restarts(1.0, 2, t_mult=1.5, m_mul=0.5, end_lr=0.2, m_mul_mode="amplitude")
        >>> keras(np.array([0, 2, 5])).round(6)  # cycles [0, 2), [2, 5), [5, 9.5): restarts at 1, 0.6, 0.4
        array([1. , 0.6, 0.4])

    References:
        Loshchilov & Hutter, *SGDR: Stochastic Gradient Descent with Warm Restarts*, ICLR 2017,
        https://arxiv.org/abs/1608.03983; timm ``CosineLRScheduler``, ``TanhLRScheduler``,
        ``PolyLRScheduler``; Keras ``CosineDecayRestarts``; Zhang & Li, *k-decay*, https://arxiv.org/abs/2004.05909
    """

    init_lr: float = _spec.rate()
    first_period_steps: float = _spec.length()
    t_mult: float = _spec.real(1.0, low=1.0, high=2.0**31 - 1)
    m_mul: float = _spec.unit(1.0)
    end_lr: float = _spec.rate(0.0)
    cycle_limit: int | None = _spec.steps(None, low=1, optional=True)
    m_mul_mode: str = _spec.choice("peak", M_MUL_MODES)
    shape: str = _spec.choice("cos", CURVE_SHAPES, _spec.COS_ALIASES)
    exponent: float = _spec.real(1.0, low=1e-3, high=1e3)
    k_decay: float = _spec.real(1.0, low=1e-3, high=1e3)
    lb: float = _spec.real(-7.0, low=-TANH_BOUND, high=TANH_BOUND)
    ub: float = _spec.real(3.0, low=-TANH_BOUND, high=TANH_BOUND)

    def _validate(self) -> None:
        _restart_rules("Restarts", self)
        curve_rules("Restarts", self)

    @property
    def _kind(self) -> str:
        return _cycle_kind(self)

    def _curve(self) -> Curve:
        """The curve of each cycle (the weight of its start along the cycle)."""
        return Curve(self.shape, self.exponent, self.k_decay, self.lb, self.ub)

    def _lower(self) -> Schedule:
        if self.cycle_limit is None:
            return self
        unlimited = dataclasses.replace(self, cycle_limit=None)
        end = self.cycle_start(self.cycle_limit)
        if end > MAX_STEP:
            return unlimited
        return Join((_Cycles(unlimited, self.cycle_limit), Constant(self.end_lr)), (end,))

    def cycle_start(self, cycle: int) -> int:
        """The first step of cycle ``cycle`` (counting from 0), exact; past ``2**63 - 1`` if it never starts."""
        period, mult = rational(self.first_period_steps), rational(self.t_mult)
        if mult == 1:
            return math.ceil(period * cycle)
        if self._kind == "geometric":  # cycle 64 starts past 2**63 - 1 whatever the factor (>= 2)
            growth = int(mult)
            return int(int(period) * (growth ** min(cycle, 64) - 1) // (growth - 1))
        table = _table(period, mult, None if self.cycle_limit is None else self.cycle_limit + 1)
        return int(table.first[cycle]) if cycle < len(table.first) else int(MAX_STEP + 1)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        equivalent = lowered(self)
        if equivalent is not self:
            return equivalent.evaluate(xp, t)
        return _Cycles(self, None).evaluate(xp, t)

    @property
    def peak(self) -> float:
        return max(self.init_lr, self.end_lr)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        """The first :data:`~mlx_lrsched._shapes.BOUNDARY_CYCLES` restarts (cycle starts after step 0)."""
        last = BOUNDARY_CYCLES + 1 if self.cycle_limit is None else min(self.cycle_limit, BOUNDARY_CYCLES + 1)
        return phase_steps(self.cycle_start(cycle) for cycle in range(1, last + 1))


@dataclass(frozen=True)
class _Cycles(Schedule):
    """The cycles of a :class:`Restarts` without its limit; with ``cycles`` given, only the first ``cycles``
    are ever evaluated (a :class:`~mlx_lrsched.compose.Join` holds ``end_lr`` after them)."""

    schedule: Restarts
    cycles: int | None

    def evaluate(self, xp: Backend, t: Array) -> Array:
        s = self.schedule
        if s.init_lr == s.end_lr and (s.m_mul == 1.0 or s.m_mul_mode == "amplitude"):
            return xp.full(t, s.end_lr)  # every cycle anneals a value to itself
        index, done, left, span, units = self._position(xp, t)
        start: Any = s.init_lr
        if s.m_mul != 1.0:
            log_mul = math.log(s.m_mul)
            start = exp_decay(xp, s.init_lr, index, log_mul)
            if s.m_mul_mode == "amplitude" and s.end_lr:
                # end + (init - end) mu**n as two positive terms: no cancellation when the start is small
                start = start - s.end_lr * xp.expm1(xp.to_float(index) * log_mul)
        return s._curve().value(xp, start, s.end_lr, done, left, span, units)

    def _position(self, xp: Backend, t: Array) -> tuple[Array, Array, Array, Array | float, Array | None]:
        """Cycle index (integer), steps done and left (floats from exact integers), the cycle's length, and the
        integer steps done when every cycle has the same length (an exact tanh needs them)."""
        s = self.schedule
        period = rational(s.first_period_steps)
        numerator, denominator = period.numerator, period.denominator
        if s._kind == "periodic":
            if denominator == 1:
                index, position = t // numerator, t % numerator
            else:  # in units of 1 / denominator steps: (q t) // p and (q t) % p, without overflowing q t
                scaled = denominator * (t % numerator)
                index = denominator * (t // numerator) + scaled // numerator
                position = scaled % numerator
            done, left = xp.to_float(position), xp.to_float(numerator - position)
            return index, done, left, float(numerator), position
        if s._kind == "geometric":
            index, steps_left, length = geometric_cycles(xp, t, numerator, int(s.t_mult))
            return index, xp.to_float(length - steps_left), xp.to_float(steps_left), xp.to_float(length), None
        table = _table(period, rational(s.t_mult), self.cycles)
        if xp.name == "numpy":
            index = np.searchsorted(table.first, t, side="right") - 1
            rows: Any = table
        else:
            t = t.astype(mx.int64)
            rows = _device_table(period, rational(s.t_mult), self.cycles)
            # a float estimate of the index, one off at most next to a cycle start, then corrected exactly
            slope = (s.t_mult - 1.0) / s.first_period_steps
            estimate = xp.log1p(xp.to_float(t) * slope) * (1.0 / math.log(s.t_mult))
            guess = xp.minimum(xp.to_int(estimate, xp.int64), len(table.first) - 1)
            index = guess - xp.to_int(t < mx.take(rows.first, guess), xp.int64)
            index = index + xp.to_int(t > mx.take(rows.last, guess), xp.int64)
            index = xp.maximum(xp.minimum(index, len(table.first) - 1), 0)

        def take(column: Array) -> Array:
            return column[index] if xp.name == "numpy" else mx.take(column, index)

        done = xp.to_float(t - take(rows.first)) + take(rows.lead)
        left = xp.to_float(take(rows.last) - t) + take(rows.trail)
        return index, done, left, take(rows.span), None

    @property
    def peak(self) -> float:
        return self.schedule.peak


@dataclass(frozen=True)
class CosineRestarts(Schedule):
    r"""Cosine annealing with warm restarts, SGDR (PyTorch ``CosineAnnealingWarmRestarts``):
    ``lr = end_lr + (init_lr · m_mul^n - end_lr) · (1 + cos(π x^k)) / 2`` at the fraction ``x`` of cycle ``n``.

    .. math::
        \eta_t = \eta_{\text{end}} + \tfrac12 \big(\eta_0 \mu^{n} - \eta_{\text{end}}\big)
        \left(1 + \cos \pi x^k\right), \qquad
        x = \frac{t - S_n}{T_0 m^{n}}, \quad S_n = T_0 \frac{m^{n} - 1}{m - 1} \le t < S_{n+1}

    Cycle :math:`n` lasts :math:`T_0 m^n` steps (:math:`T_0` every cycle when :math:`m = 1`) and
    starts at :math:`\eta_0 \mu^n`. The cycle index :math:`n` and the position in the cycle are exact at any
    step. With :math:`\mu = k = 1` and an integer :math:`m` this is PyTorch's
    ``CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)`` stepped once per update, to 1e-15; ``cycle_limit``,
    ``k_decay`` and a non-integer ``t_mult`` are timm's ``CosineLRScheduler``; ``m_mul_mode="amplitude"``
    with ``end_lr = alpha * init_lr`` is Keras' ``CosineDecayRestarts`` (each restart at
    :math:`\eta_{\text{end}} + (\eta_0 - \eta_{\text{end}}) \mu^n`). A :class:`Restarts` with
    ``shape="cos"``, which it is evaluated as.

    Args:
        init_lr: :math:`\eta_0 \ge 0`, the first cycle's start.
        first_period_steps: :math:`T_0 \ge 1`, the first cycle's length (need not be whole).
        t_mult: :math:`m \ge 1`, the factor by which each cycle is longer than the last.
        m_mul: :math:`\mu \in (0, 1]`, the factor by which each restart is lower than the last.
        end_lr: :math:`\eta_{\text{end}} \ge 0`, the value every cycle anneals towards.
        cycle_limit: cycles before the rate holds ``end_lr`` (``None``: no limit).
        k_decay: :math:`k \in [10^{-3}, 10^3]` (timm's k-decay; 1 is the plain cosine).
        m_mul_mode: ``"peak"`` or ``"amplitude"`` (Keras), see :class:`Restarts`.

    Examples:
        >>> import numpy as np
        >>> s = CosineRestarts(1.0, first_period_steps=2, t_mult=2, m_mul=0.5)
        >>> s(np.arange(8)).round(6)  # cycles [0, 2), [2, 6), [6, 14)
        array([1.      , 0.5     , 0.5     , 0.426777, 0.25    , 0.073223,
               0.25    , 0.240485])

    References:
        Loshchilov & Hutter, *SGDR: Stochastic Gradient Descent with Warm Restarts*, ICLR 2017,
        https://arxiv.org/abs/1608.03983
    """

    init_lr: float = _spec.rate()
    first_period_steps: float = _spec.length()
    t_mult: float = _spec.real(1.0, low=1.0, high=2.0**31 - 1)
    m_mul: float = _spec.unit(1.0)
    end_lr: float = _spec.rate(0.0)
    cycle_limit: int | None = _spec.steps(None, low=1, optional=True)
    k_decay: float = _spec.real(1.0, low=1e-3, high=1e3)
    m_mul_mode: str = _spec.choice("peak", M_MUL_MODES)

    def _validate(self) -> None:
        _restart_rules("CosineRestarts", self)

    def _lower(self) -> Schedule:
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return Restarts(**fields, shape="cos")

    @property
    def peak(self) -> float:
        return max(self.init_lr, self.end_lr)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        """The first :data:`~mlx_lrsched._shapes.BOUNDARY_CYCLES` restarts (cycle starts after step 0)."""
        return lowered(self).phase_boundaries
