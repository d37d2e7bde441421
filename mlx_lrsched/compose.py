"""Composition: schedules built from other schedules (per-epoch, sequence, product, scale, clip).

Warmup, warmup-stable-decay, inverse square root and the linear ramp live in :mod:`mlx_lrsched.warmup`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import _check
from ._shapes import phase_steps, shifted
from ._xp import MAX_STEP, Array, Backend
from .base import Schedule, normalise


def _schedules(owner: str, name: str, values: Any) -> tuple[Schedule, ...]:
    """A non-empty tuple of schedules (plain numbers become ``Constant``)."""
    if isinstance(values, (str, bytes, Schedule)) or not isinstance(values, Sequence):
        raise TypeError(f"{owner}: {name} must be a list of schedules, got {type(values).__name__} {values!r}")
    if not values:
        raise ValueError(f"{owner}: {name} must not be empty")
    return tuple(_check.schedule(owner, f"{name}[{i}]", value) for i, value in enumerate(values))


@dataclass(frozen=True)
class PerEpoch(Schedule):
    r"""Evaluate ``schedule`` at the epoch index, so per-epoch formulas run on an update counter.

    .. math:: \eta_t = f\big(\lfloor t / E \rfloor\big)

    The optimizer counts updates; seed formulas such as Keras' per-epoch callbacks count epochs. With
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

    schedule: Schedule
    steps_per_epoch: int

    def __post_init__(self) -> None:
        normalise(
            self,
            schedule=_check.schedule("PerEpoch", "schedule", self.schedule),
            steps_per_epoch=_check.integer("PerEpoch", "steps_per_epoch", self.steps_per_epoch, low=1),
        )

    def evaluate(self, xp: Backend, t: Array) -> Array:
        return self.schedule.evaluate(xp, t // self.steps_per_epoch)

    @property
    def peak(self) -> float:
        return self.schedule.peak

    @property
    def signed(self) -> bool:
        return self.schedule.signed

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return phase_steps(epoch * self.steps_per_epoch for epoch in self.schedule.phase_boundaries)


@dataclass(frozen=True)
class Join(Schedule):
    r"""Run schedules one after another, each restarted at its own step 0 (optax ``join_schedules``).

    .. math::
        \eta_t = f_i(t - b_{i-1}) \quad \text{for } b_{i-1} \le t < b_i, \qquad b_{-1} = 0,\ b_{n-1} = \infty

    Schedule :math:`f_i` sees the steps since the boundary where it takes over, so the value at a
    boundary :math:`b_{i-1}` is :math:`f_i(0)`; the last schedule runs forever (and holds its final value if
    it is finite).

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

    schedules: tuple[Schedule, ...]
    boundaries: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        owner = "Join"
        schedules = _schedules(owner, "schedules", self.schedules)
        if len(schedules) == 1 and isinstance(self.boundaries, Sequence) and len(self.boundaries) == 0:
            boundaries: tuple[int, ...] = ()
        else:
            boundaries = _check.increasing_steps(owner, "boundaries", self.boundaries)
        if len(boundaries) != len(schedules) - 1:
            raise ValueError(
                f"{owner}: boundaries must have one entry fewer than schedules ({len(schedules) - 1}), "
                f"got {len(boundaries)}"
            )
        normalise(self, schedules=schedules, boundaries=boundaries)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        value = self.schedules[0].evaluate(xp, t)
        for boundary, later in zip(self.boundaries, self.schedules[1:], strict=True):
            value = xp.where(t < boundary, value, later.evaluate(xp, shifted(xp, t, boundary)))
        return value

    @property
    def peak(self) -> float:
        return max(schedule.peak for schedule in self.schedules)

    @property
    def signed(self) -> bool:
        return any(schedule.signed for schedule in self.schedules)

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


@dataclass(frozen=True)
class Scale(Schedule):
    r"""A schedule multiplied by a constant factor.

    .. math:: \eta_t = c \, f(t)

    Args:
        schedule: :math:`f`.
        factor: :math:`c \ge 0`.

    Examples:
        >>> import numpy as np
        >>> from mlx_lrsched.decay import StepDecay
        >>> Scale(StepDecay(1.0, step_size=2, gamma=0.5), factor=0.1)(np.array([0, 2, 4]))
        array([0.1  , 0.05 , 0.025])
    """

    schedule: Schedule
    factor: float

    def __post_init__(self) -> None:
        normalise(
            self,
            schedule=_check.schedule("Scale", "schedule", self.schedule),
            factor=_check.non_negative("Scale", "factor", self.factor),
        )
        _check.float32_peak("Scale", self.peak)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        return self.factor * self.schedule.evaluate(xp, t)

    @property
    def peak(self) -> float:
        return self.factor * self.schedule.peak

    @property
    def signed(self) -> bool:
        return self.schedule.signed

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return self.schedule.phase_boundaries


@dataclass(frozen=True)
class Product(Schedule):
    r"""The pointwise product of schedules (e.g. a decay times a cyclic multiplier).

    .. math:: \eta_t = \prod_i f_i(t)

    Args:
        schedules: the :math:`n \ge 1` factors :math:`f_i` (numbers become ``Constant``).

    Examples:
        >>> import numpy as np
        >>> from mlx_lrsched.decay import CosineDecay, StepDecay
        >>> s = Product([StepDecay(1.0, step_size=2, gamma=0.5), CosineDecay(1.0, decay_steps=4)])
        >>> s(np.array([0, 2, 4])).round(12)
        array([1.  , 0.25, 0.  ])
    """

    schedules: tuple[Schedule, ...]

    def __post_init__(self) -> None:
        normalise(self, schedules=_schedules("Product", "schedules", self.schedules))
        _check.float32_peak("Product", self.peak)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        value = self.schedules[0].evaluate(xp, t)
        for factor in self.schedules[1:]:
            value = value * factor.evaluate(xp, t)
        return value

    @property
    def peak(self) -> float:
        """The product of the factors' peaks: an upper bound, attained only if they peak together."""
        return math.prod(schedule.peak for schedule in self.schedules)

    @property
    def signed(self) -> bool:
        return any(schedule.signed for schedule in self.schedules)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return phase_steps(step for schedule in self.schedules for step in schedule.phase_boundaries)


@dataclass(frozen=True)
class Clip(Schedule):
    r"""A schedule clipped into ``[min_lr, max_lr]``.

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

    schedule: Schedule
    min_lr: float = 0.0
    max_lr: float | None = None

    def __post_init__(self) -> None:
        owner = "Clip"
        min_lr = _check.non_negative(owner, "min_lr", self.min_lr)
        max_lr = None if self.max_lr is None else _check.real(owner, "max_lr", self.max_lr, low=min_lr)
        normalise(self, schedule=_check.schedule(owner, "schedule", self.schedule), min_lr=min_lr, max_lr=max_lr)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        value = xp.maximum(self.schedule.evaluate(xp, t), self.min_lr)
        return value if self.max_lr is None else xp.minimum(value, self.max_lr)

    @property
    def peak(self) -> float:
        peak = max(self.schedule.peak, self.min_lr)
        return peak if self.max_lr is None else min(peak, self.max_lr)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return self.schedule.phase_boundaries
