"""Composition: schedules built from other schedules."""

from __future__ import annotations

from dataclasses import dataclass

from . import _check
from ._xp import Array, Backend
from .base import Schedule, normalise


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
