"""Composition: the phase engine (``Join`` and its ramps), per-epoch evaluation and clipping.

``Join`` is the one phase engine: every piecewise schedule (warmups, WSD, inverse square root, 1-cycle,
the decay family's holds) is lowered to a ``Join`` of phases, most of them ramps between two values.
Nested joins are flattened into one list of phases, so a composition selects its phase once.
``Scale`` and ``Product`` live in :mod:`mlx_lrsched.base` with the rest of the algebra.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

from . import _check, _spec
from ._shapes import CURVE_SHAPES, TANH_BOUND, Curve
from ._xp import MAX_STEP, Array, Backend
from .base import Constant, Product, Scale, Schedule, lowered, phase_steps

__all__ = ["Clip", "Join", "PerEpoch", "Product", "Ramp", "Scale", "Shift"]


@dataclass(frozen=True)
class Ramp(Schedule):
    r"""From ``start`` to ``end`` over ``steps`` steps, then ``end``: ``lr = end + (start - end) · w(t / steps)``.

    .. math::
        \eta_u = \eta_e + (\eta_s - \eta_e)\, w\!\left(\frac{u + a}{n + a + b}\right), \qquad 0 \le u \le n

    and :math:`\eta_e` from :math:`u = n` on. :math:`w(x)`, the weight of the start, is the curve of
    ``shape`` (:class:`~mlx_lrsched._shapes.Curve`): ``linear`` :math:`1 - x`, ``cos``
    :math:`\tfrac12 (1 + \cos \pi x)`, ``sqrt`` :math:`1 - \sqrt x`, each as :math:`B(x^k)^e` with
    ``k_decay`` :math:`k` and ``exponent`` :math:`e`; or ``tanh``
    :math:`\tfrac12 (1 - \tanh(l (1 - x) + u x))` with ``lb`` :math:`l` and ``ub`` :math:`u`. ``lead``
    :math:`a` and ``trail`` :math:`b` place the phase's ends off the integer steps, as PyTorch's
    ``OneCycleLR`` does with its float phase ends; both are 0 for an ordinary ramp. The fraction is taken
    from whichever end has the smaller value, from exact integers, so that end is exact in float32.
    ``Linear``, ``CosineDecay`` and the phases of warmups and 1-cycle are ramps.

    Args:
        start: :math:`\eta_s`, the value at ``u = -a``.
        end: :math:`\eta_e`, the value at ``u = n + b``.
        steps: :math:`n \ge 0`.
        shape: ``"linear"``, ``"cos"``, ``"sqrt"`` or ``"tanh"``.
        lead: :math:`a \ge 0`.
        trail: :math:`b \ge 0`.
        exponent: :math:`e \in [10^{-3}, 10^3]` (optax's cosine ``exponent``; a polynomial's power).
        k_decay: :math:`k \in [10^{-3}, 10^3]` (timm's ``k_decay``).
        lb: :math:`l`, the start of the tanh curve (``shape="tanh"`` only).
        ub: :math:`u > l`, its end; both in :math:`[-20, 20]`.

    Examples:
        >>> import numpy as np
        >>> Ramp(1.0, 0.0, steps=4, shape="linear")(np.arange(6))
        array([1.  , 0.75, 0.5 , 0.25, 0.  , 0.  ])
        >>> Ramp(1.0, 0.0, steps=4, shape="cos", exponent=2.0)(np.arange(5)).round(6)  # optax's exponent
        array([1.      , 0.728553, 0.25    , 0.021447, 0.      ])
    """

    start: float = _spec.rate()
    end: float = _spec.rate()
    steps: int = _spec.steps()
    shape: str = _spec.choice("linear", CURVE_SHAPES, _spec.COS_ALIASES)
    lead: float = _spec.real(0.0, low=0.0, high=2.0**53)
    trail: float = _spec.real(0.0, low=0.0, high=2.0**53)
    exponent: float = _spec.real(1.0, low=1e-3, high=1e3)
    k_decay: float = _spec.real(1.0, low=1e-3, high=1e3)
    lb: float = _spec.real(-7.0, low=-TANH_BOUND, high=TANH_BOUND)
    ub: float = _spec.real(3.0, low=-TANH_BOUND, high=TANH_BOUND)

    def _validate(self) -> None:
        if self.steps + self.lead + self.trail > 0:  # a span of 0 is the constant end, never blended
            _check.float32_blend("Ramp", ("start", self.start), ("end", self.end))
        curve_rules("Ramp", self)
        if self.shape == "tanh" and (self.lead or self.trail):
            raise ValueError(f"Ramp: lead and trail must be 0 with shape='tanh', got {self.lead!r}, {self.trail!r}")

    def _curve(self) -> Curve:
        """The phase's curve (the weight of its start along the phase)."""
        return Curve(self.shape, self.exponent, self.k_decay, self.lb, self.ub)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        value = self.value(xp, t)
        return xp.full(t, value) if isinstance(value, float) else value

    def value(self, xp: Backend, t: Array, offset: int = 0, hold: bool = True) -> Array:
        """The ramp started at step ``offset``; ``hold=False`` leaves steps past its end to a later phase.

        Fractions are divided, not multiplied by an inverse: one rounding, and exactly 0 and 1 at the ends.
        """
        span = self.steps + self.lead + self.trail
        if (self.start == self.end and self.shape != "tanh") or span == 0:
            return self.end
        end_step = offset + self.steps
        if hold and end_step <= MAX_STEP:
            t = xp.minimum(t, end_step)
        elif hold:  # a phase that runs past the last step: nothing to hold
            t = xp.minimum(t, MAX_STEP)
        # offset + steps past 2**63 - 1 would overflow int64: subtract in two steps there
        units = t - offset if offset else t
        done = xp.to_float(units)  # the shift and the distance to the end in one integer op each
        left = xp.to_float(end_step - t if end_step <= MAX_STEP else self.steps - units)
        if self.lead:
            done = done + self.lead
        if self.trail:
            left = left + self.trail
        curve = self._curve()
        if not curve.plain:
            return curve.value(xp, self.start, self.end, done, left, float(span), units)
        # A plain curve's weight is shallow, which leaves room for a combination exact at both ends: one weight
        # w, from the low end, and high w + low (1 - w), where w is exactly 0 or 1 at the ends and 1 - w only
        # cancels where its term is small next to high w. (Curve.value's low + (high - low) w is a level less.)
        if self.start < self.end:
            high, low, w = self.end, self.start, curve.end_weight(xp, done, left, float(span))
        else:
            high, low, w = self.start, self.end, curve.start_weight(xp, done, left, float(span))
        return high * w if low == 0.0 else high * w + low * (1.0 - w)

    @property
    def peak(self) -> float:
        return max(self.start, self.end)

    def _scaled(self, factor: float) -> Schedule | None:
        return dataclasses.replace(self, start=self.start * factor, end=self.end * factor)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return (self.steps,) if self.steps else ()


def curve_rules(owner: str, schedule: Any) -> None:
    """The rules between a curve's fields: ``lb < ub``, and each parameter only with the shape it belongs to."""
    if schedule.shape == "tanh":
        if schedule.lb >= schedule.ub:
            raise ValueError(f"{owner}: lb must be below ub, got lb={schedule.lb!r}, ub={schedule.ub!r}")
        if schedule.exponent != 1.0 or schedule.k_decay != 1.0:
            raise ValueError(
                f"{owner}: exponent and k_decay apply to shapes 'linear', 'cos' and 'sqrt', not 'tanh'; got "
                f"exponent={schedule.exponent!r}, k_decay={schedule.k_decay!r}"
            )
    elif (schedule.lb, schedule.ub) != (-7.0, 3.0):
        raise ValueError(
            f"{owner}: lb and ub apply to shape='tanh' only, got shape={schedule.shape!r} with "
            f"lb={schedule.lb!r}, ub={schedule.ub!r}"
        )


@dataclass(frozen=True)
class Join(Schedule):
    r"""Run schedules one after another, each restarted at its own step 0 (optax ``join_schedules``):
    ``lr = f_i(t - b_(i-1))`` for ``b_(i-1) <= t < b_i``.

    .. math::
        \eta_t = f_i(t - b_{i-1}) \quad \text{for } b_{i-1} \le t < b_i, \qquad b_{-1} = 0,\ b_{n-1} = \infty

    Schedule :math:`f_i` sees the steps since the boundary where it takes over, so the value at a
    boundary :math:`b_{i-1}` is :math:`f_i(0)`; the last schedule runs forever (and holds its final value if
    it is finite). This is the phase engine of the package: nested joins (and every schedule that is
    written as one, such as warmups and 1-cycle) are flattened into a single list of phases.

    Args:
        schedules: the :math:`n \ge 1` schedules :math:`f_0, \dots, f_{n-1}` (numbers become ``Constant``).
        boundaries: :math:`n - 1` strictly increasing steps :math:`b_0 < \dots < b_{n-2}`, all :math:`\ge 0`.

    Examples:
        >>> import numpy as np
        >>> from mlx_lrsched.decay import Constant, CosineDecay
        >>> s = Join([Constant(0.5), CosineDecay(1.0, decay_steps=4)], boundaries=[10])
        >>> s(np.array([0, 9, 10, 12, 14, 99])).round(12)
        array([0.5, 0.5, 1. , 0.5, 0. , 0. ])

    References:
        optax ``join_schedules``.
    """

    schedules: tuple[Schedule, ...] = _spec.schedule_list()
    boundaries: tuple[int, ...] = ()

    def _validate(self) -> None:
        if len(self.schedules) == 1 and not self.boundaries:
            object.__setattr__(self, "boundaries", ())  # normalising, as the specs do
            return
        boundaries = _spec.Spec("steps", 0).check("Join", "boundaries", self.boundaries)
        if len(boundaries) != len(self.schedules) - 1:
            raise ValueError(
                f"Join: boundaries must have one entry fewer than schedules ({len(self.schedules) - 1}), "
                f"got {len(boundaries)}"
            )
        object.__setattr__(self, "boundaries", boundaries)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        starts, schedules = phases(self)
        ends = (*starts[1:], MAX_STEP + 1)
        pieces = [_piece(xp, *phase) for phase in zip(schedules, starts, ends, strict=True)]
        return xp.piecewise(t, starts, pieces)

    def _scaled(self, factor: float) -> Schedule | None:
        parts = [lowered(schedule)._scaled(factor) for schedule in self.schedules]
        if any(part is None for part in parts):
            return None
        return Join(tuple(part for part in parts if part is not None), self.boundaries)

    @property
    def peak(self) -> float:
        return max(schedule.peak for schedule in self.schedules)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        starts = (0, *self.boundaries)
        ends = (*self.boundaries, MAX_STEP + 1)
        inner = (
            start + step
            for schedule, start, end in zip(self.schedules, starts, ends, strict=True)
            for step in schedule.phase_boundaries
            if start + step < end
        )
        return phase_steps((*self.boundaries, *inner))


def _piece(xp: Backend, schedule: Schedule, start: int, end: int) -> Any:
    """The phase ``schedule`` on steps ``start .. end - 1``: a number for a constant (no graph at all)."""
    if isinstance(schedule, Constant):
        return schedule.lr
    if isinstance(schedule, Ramp):  # a ramp that lasts until the next phase needs no clamp: one level less
        hold = end - 1 - start > schedule.steps
        return lambda t: schedule.value(xp, t, start, hold=hold)
    if isinstance(schedule, Shift) and schedule.steps == start:  # a phase that keeps the global step
        return functools.partial(schedule.schedule.evaluate, xp)
    if start == 0:
        return functools.partial(schedule.evaluate, xp)
    # Before ``start`` the unsigned difference wraps around: those steps belong to an earlier phase and the
    # engine discards them (on NumPy a phase only ever sees its own steps).
    return lambda t: schedule.evaluate(xp, t - start)


def phases(join: Join) -> tuple[tuple[int, ...], tuple[Schedule, ...]]:
    """The join's phases with every nested join (or schedule written as one) inlined: starts and schedules."""
    return _phases(join) if join.stateful else _phases_pure(join)


@functools.lru_cache(maxsize=1024)
def _phases_pure(join: Join) -> tuple[tuple[int, ...], tuple[Schedule, ...]]:
    return _phases(join)


def _phases(join: Join) -> tuple[tuple[int, ...], tuple[Schedule, ...]]:
    starts: list[int] = []
    schedules: list[Schedule] = []
    ends = (*join.boundaries, MAX_STEP + 1)
    for begin, end, schedule in zip((0, *join.boundaries), ends, join.schedules, strict=True):
        inner = lowered(schedule)
        if isinstance(inner, Join):
            for offset, part in zip(*phases(inner), strict=True):
                if begin + offset < end:
                    starts.append(begin + offset)
                    schedules.append(part)
        else:
            starts.append(begin)
            schedules.append(schedule)
    return tuple(starts), tuple(schedules)


@dataclass(frozen=True)
class PerEpoch(Schedule):
    r"""Evaluate ``schedule`` at the epoch index, so per-epoch formulas run on an update counter:
    ``lr = f(floor(t / steps_per_epoch))``.

    .. math:: \eta_t = f\big(\lfloor t / E \rfloor\big)

    The optimizer counts updates; formulas such as Keras' per-epoch callbacks count epochs. With
    ``steps_per_epoch = E`` every update of epoch ``e`` gets ``schedule(e)``.

    Args:
        schedule: the per-epoch schedule :math:`f` (any :class:`Schedule`).
        steps_per_epoch: :math:`E \ge 1`, optimizer updates per epoch.

    Examples:
        >>> import numpy as np
        >>> from mlx_lrsched import ExponentialDecay
        >>> s = PerEpoch(ExponentialDecay.from_rate(1.0, k=0.5), steps_per_epoch=100)
        >>> s(np.array([0, 99, 100, 250])).round(6)
        array([1.      , 1.      , 0.606531, 0.367879])
    """

    schedule: Schedule = _spec.schedule()
    steps_per_epoch: int = _spec.steps(low=1)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        return self.schedule.evaluate(xp, t // self.steps_per_epoch)

    @property
    def peak(self) -> float:
        return self.schedule.peak

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return phase_steps(epoch * self.steps_per_epoch for epoch in self.schedule.phase_boundaries)


@dataclass(frozen=True)
class Clip(Schedule):
    r"""A schedule clipped into ``[min_lr, max_lr]``: ``lr = min(max(f(t), min_lr), max_lr)``.

    .. math:: \eta_t = \min\big(\max(f(t), \eta_{\min}),\ \eta_{\max}\big)

    With ``min_lr >= 0`` the result is never negative, so clipping also makes an opted-in signed
    schedule (the literal cyclic-exponential forms) safe to train with.

    Args:
        schedule: :math:`f`.
        min_lr: :math:`\eta_{\min} \ge 0`, the floor.
        max_lr: :math:`\eta_{\max} \ge \eta_{\min}`, the ceiling; ``None`` for none.

    Examples:
        >>> import numpy as np
        >>> from mlx_lrsched.decay import CosineDecay
        >>> Clip(CosineDecay(1.0, decay_steps=4), min_lr=0.1, max_lr=0.8)(np.array([0, 2, 4])).round(12)
        array([0.8, 0.5, 0.1])
    """

    schedule: Schedule = _spec.schedule()
    min_lr: float = _spec.rate(0.0)
    max_lr: float | None = _spec.rate(None, optional=True)

    def _validate(self) -> None:
        if self.max_lr is not None:
            _check.real("Clip", "max_lr", self.max_lr, low=self.min_lr, high=_check.FLOAT32_MAX)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        value = xp.maximum(self.schedule.evaluate(xp, t), self.min_lr)
        return value if self.max_lr is None else xp.minimum(value, self.max_lr)

    @property
    def peak(self) -> float:
        peak = max(self.schedule.peak, self.min_lr)
        return peak if self.max_lr is None else min(peak, self.max_lr)

    @property
    def signed(self) -> bool:
        return False

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return self.schedule.phase_boundaries


@dataclass(frozen=True)
class Shift(Schedule):
    r"""A schedule started ``steps`` steps into itself: ``lr = f(t + steps)``.

    .. math:: \eta_t = f(t + s)

    Starts a schedule part-way (a run resumed with a fresh step counter, a recipe that begins mid-schedule)
    and keeps a phase on the global step inside a :class:`Join`: ``Join([warmup, Shift(f, W)], [W])``
    warms up, then continues ``f`` at step ``W`` of its own (timm's ``warmup_prefix=False``), at no cost.
    Steps past ``2**63 - 1 - s`` see ``f``'s value at ``2**63 - 1``.

    Args:
        schedule: :math:`f`.
        steps: :math:`s \ge 0`.

    Examples:
        >>> import numpy as np
        >>> from mlx_lrsched.decay import StepDecay
        >>> Shift(StepDecay(1.0, step_size=2, gamma=0.5), steps=3)(np.arange(4))
        array([0.5  , 0.25 , 0.25 , 0.125])
    """

    schedule: Schedule = _spec.schedule()
    steps: int = _spec.steps()

    def evaluate(self, xp: Backend, t: Array) -> Array:
        if not self.steps:
            return self.schedule.evaluate(xp, t)
        return self.schedule.evaluate(xp, xp.minimum(t, MAX_STEP - self.steps) + self.steps)

    def _scaled(self, factor: float) -> Schedule | None:
        inner = lowered(self.schedule)._scaled(factor)
        return None if inner is None else Shift(inner, self.steps)

    @property
    def peak(self) -> float:
        """The peak of ``f`` (an upper bound: the steps before ``s`` are skipped)."""
        return self.schedule.peak

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return phase_steps(step - self.steps for step in self.schedule.phase_boundaries if step > self.steps)
