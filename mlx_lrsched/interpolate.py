"""Piecewise interpolation: a rate given at a few steps and interpolated between them (optax's keyframes)."""

from __future__ import annotations

from dataclasses import dataclass

from . import _check, _spec
from ._shapes import ANNEAL_SHAPES
from .base import Constant, Schedule
from .compose import Join, Ramp

__all__ = ["PiecewiseInterpolate"]


@dataclass(frozen=True)
class PiecewiseInterpolate(Schedule):
    r"""A rate given at steps ``b_i`` and interpolated between them: ``lr = v_i + (v_(i+1) - v_i) · w(x)``.

    .. math::
        \eta_t = \begin{cases}
            v_0 & t \le b_0 \\
            v_i + (v_{i+1} - v_i)\, w\!\left(\dfrac{t - b_i}{b_{i+1} - b_i}\right) & b_i \le t \le b_{i+1} \\
            v_{n-1} & t \ge b_{n-1}
        \end{cases}

    with :math:`w(x) = x` (``linear``) or :math:`\tfrac12 (1 - \cos \pi x)` (``cos``). Each segment is a
    :class:`~mlx_lrsched.compose.Ramp`, exact at both of its ends. optax's
    ``piecewise_interpolate_schedule(type, init, {b: scale})`` is the values ``init`` times the running
    product of the scales, at ``0`` and the boundaries; its ``linear_onecycle_schedule`` (with
    ``pct_final``) and ``cosine_onecycle_schedule`` are built on it.

    Args:
        boundaries: strictly increasing steps :math:`b_0 < \dots < b_{n-1}`, all :math:`\ge 0`.
        values: the :math:`n` rates :math:`v_i \ge 0` at those steps.
        shape: ``"linear"`` or ``"cos"``.

    Examples:
        >>> import numpy as np
        >>> s = PiecewiseInterpolate([0, 4, 8], [1.0, 0.1, 0.001])  # optax's docstring example
        >>> s(np.arange(0, 11, 2)).round(6)
        array([1.    , 0.55  , 0.1   , 0.0505, 0.001 , 0.001 ])

    References:
        optax ``piecewise_interpolate_schedule``, ``linear_onecycle_schedule``, ``cosine_onecycle_schedule``.
    """

    boundaries: tuple[int, ...] = _spec.step_list()
    values: tuple[float, ...] = _spec.rate_list()
    shape: str = _spec.choice("linear", ANNEAL_SHAPES, _spec.COS_ALIASES)

    def _validate(self) -> None:
        if len(self.values) != len(self.boundaries):
            raise ValueError(
                f"PiecewiseInterpolate: values must have one entry per boundary ({len(self.boundaries)}), "
                f"got {len(self.values)}"
            )
        for i in range(1, len(self.values)):
            pair = (f"values[{i - 1}]", self.values[i - 1]), (f"values[{i}]", self.values[i])
            _check.float32_blend("PiecewiseInterpolate", *pair)

    def _lower(self) -> Schedule:
        schedules: list[Schedule] = []
        starts: list[int] = []
        if self.boundaries[0] > 0:
            schedules.append(Constant(self.values[0]))
            starts.append(0)
        pairs = zip(self.boundaries, self.boundaries[1:], self.values, self.values[1:], strict=False)
        for begin, end, start_value, end_value in pairs:
            schedules.append(Ramp(start_value, end_value, end - begin, self.shape))
            starts.append(begin)
        schedules.append(Constant(self.values[-1]))
        starts.append(self.boundaries[-1])
        return Join(tuple(schedules), tuple(starts[1:])) if len(schedules) > 1 else schedules[0]

    @property
    def peak(self) -> float:
        return max(self.values)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return tuple(b for b in self.boundaries if b > 0)
