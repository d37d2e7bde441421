"""Decay schedules: step, multi-step, piecewise constant, exponential, inverse time, polynomial and cosine.

``Constant`` lives in :mod:`mlx_lrsched.base` and is re-exported here.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from . import _check, _spec
from ._shapes import Curve, exp_decay, power_decay
from ._xp import MAX_STEP, Array, Backend
from .base import Constant, Schedule, lowered, phase_steps
from .compose import Join, Ramp

__all__ = [
    "Constant",
    "CosineDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "MultiStepDecay",
    "PiecewiseConstant",
    "PolynomialDecay",
    "StepDecay",
]


@dataclass(frozen=True)
class ExponentialDecay(Schedule):
    r"""Exponential decay (Keras/optax): ``lr = init_lr · decay_rate^((t - transition_begin) / decay_steps)``.

    .. math::
        \eta_t = \operatorname{clip}\!\big(\eta_0 \, \rho^{\,p(t)},\ \eta_{\text{end}}\big), \qquad
        p(t) = \frac{\max(t - t_0, 0)}{T}\ \text{(or its floor when staircase)}

    where :math:`\rho` is ``decay_rate``, :math:`T` ``decay_steps``, :math:`t_0` ``transition_begin``
    and the clip bounds the value below by :math:`\eta_{\text{end}}` when :math:`\rho < 1` (above when
    :math:`\rho > 1`). ``ExponentialDecay(0.1, 0.96, decay_steps=1000, staircase=True)`` is Keras'
    ``ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.96, staircase=True)``; :meth:`from_rate` is the
    continuous form :math:`\eta_0 e^{-kt}`.

    :math:`\rho^{p}` is never a float32 power: the exponent is split exactly into a power of two and a
    fraction below one (see ``docs/architecture.md``), so float32 results stay within 2e-7 of float64
    where ``mlx.optimizers.exponential_decay`` (a float32 ``rate ** step``) drifts by 1e-2 and more.

    Args:
        init_lr: :math:`\eta_0 \ge 0` (> 0 when the rate grows).
        decay_rate: :math:`\rho > 0`; :math:`\rho > 1` (growth) needs ``end_lr`` as its ceiling.
        decay_steps: :math:`T \ge 1`.
        staircase: decay in discrete jumps every ``decay_steps`` steps.
        transition_begin: :math:`t_0 \ge 0`, steps to hold ``init_lr`` before decaying (optax).
        end_lr: optional floor (or ceiling for growth), as optax's ``end_value``.

    Examples:
        >>> import numpy as np
        >>> s = ExponentialDecay(0.1, 0.96, decay_steps=1000, staircase=True)
        >>> s(np.array([0, 999, 1000, 28000])).round(6)
        array([0.1     , 0.1     , 0.096   , 0.031886])
        >>> round(float(ExponentialDecay.from_rate(0.1, k=0.001)(np.int64(1000))), 12)  # 0.1 * exp(-1)
        0.036787944117

    References:
        Keras ``ExponentialDecay``; optax ``exponential_decay``.
    """

    init_lr: float = _spec.rate()
    decay_rate: float = _spec.rate(positive=True)
    decay_steps: int = _spec.steps(1, low=1)
    staircase: bool = _spec.flag(False)
    transition_begin: int = _spec.steps(0)
    end_lr: float | None = _spec.rate(None, optional=True)

    def _validate(self) -> None:
        init_lr, end_lr = self.init_lr, self.end_lr
        if self.decay_rate > 1.0:
            if end_lr is None:
                raise ValueError(
                    "ExponentialDecay: decay_rate > 1 grows without bound; give end_lr as the ceiling, "
                    f"got decay_rate={self.decay_rate!r} with end_lr=None"
                )
            if init_lr == 0.0 or end_lr < init_lr:
                raise ValueError(
                    f"ExponentialDecay: with decay_rate > 1, end_lr must be >= init_lr > 0, got {end_lr!r}"
                )
        elif end_lr is not None and end_lr > init_lr:
            raise ValueError(
                f"ExponentialDecay: with decay_rate <= 1, end_lr must be <= init_lr ({init_lr}), got {end_lr!r}"
            )

    @classmethod
    def from_rate(cls, init_lr: float, k: float, **kwargs: Any) -> ExponentialDecay:
        r"""The continuous form :math:`\eta_t = \eta_0 e^{-k t}` (``decay_rate = e^{-k}``).

        Args:
            init_lr: :math:`\eta_0`.
            k: :math:`k \ge 0`, the decay constant per step (per ``decay_steps`` if given).
            **kwargs: the other arguments of :class:`ExponentialDecay`.
        """
        return cls(init_lr, _check.decay_constant("ExponentialDecay.from_rate", k), **kwargs)

    def _lower(self) -> Schedule:
        end_step = _reaches_end(self)
        if end_step == 0:  # end_lr == init_lr: nothing to decay
            return Constant(self.init_lr)
        decay = _Power(self.init_lr, self.decay_rate, self.decay_steps, self.staircase, end_step)
        schedules: list[Schedule] = [decay]
        boundaries: list[int] = []
        if self.transition_begin:
            schedules.insert(0, Constant(self.init_lr))
            boundaries.append(self.transition_begin)
        if end_step is not None:
            assert self.end_lr is not None
            schedules.append(Constant(self.end_lr))
            boundaries.append(self.transition_begin + end_step)
        return Join(tuple(schedules), tuple(boundaries)) if boundaries else decay

    @property
    def peak(self) -> float:
        return self.init_lr if self.decay_rate <= 1.0 or self.end_lr is None else self.end_lr

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return (self.transition_begin,) if self.transition_begin else ()


@functools.lru_cache(maxsize=1024)
def _reaches_end(schedule: ExponentialDecay) -> int | None:
    """Steps after ``transition_begin`` from which the decay holds ``end_lr``, or ``None`` if it never does."""
    end_lr = schedule.end_lr
    if end_lr is None or end_lr == 0.0 or schedule.decay_rate == 1.0:
        return None
    log_rate = math.log(schedule.decay_rate)
    units = math.log(end_lr / schedule.init_lr) / log_rate  # >= 0: the decay (or growth) still ahead

    def reached(unit_count: float) -> bool:
        value = schedule.init_lr * math.exp(unit_count * log_rate)
        return value <= end_lr if log_rate < 0 else value >= end_lr

    if schedule.staircase:
        count = max(math.ceil(units) - 1, 0)
        while not reached(count):
            count += 1
        step = count * schedule.decay_steps
    else:
        step = max(math.ceil(units * schedule.decay_steps) - 2, 0)
        while not reached(step / schedule.decay_steps):
            step += 1
    return step if schedule.transition_begin + step <= MAX_STEP else None


@dataclass(frozen=True)
class _Power(Schedule):
    """``init_lr * decay_rate ** (t / decay_steps)`` (or its floor), exact in float32: one phase of ExponentialDecay.

    ``end_step`` is where a later phase takes over (``None``: the decay runs forever and is clamped where
    it reaches 0); the fixed-point exponent only has to be exact up to there.
    """

    init_lr: float
    decay_rate: float
    decay_steps: int
    staircase: bool
    end_step: int | None

    def evaluate(self, xp: Backend, t: Array) -> Array:
        log_rate = math.log(self.decay_rate)
        bound = self.end_step
        if bound is None and self.decay_rate > 1.0:  # a ceiling past the last step: grows until then
            bound = MAX_STEP
        if self.staircase:
            units = t // self.decay_steps if self.decay_steps > 1 else t
            bound = None if bound is None else bound // self.decay_steps
        else:
            units, log_rate = t, log_rate / self.decay_steps
        return exp_decay(xp, self.init_lr, units, log_rate, bound)

    def _scaled(self, factor: float) -> Schedule | None:
        return _Power(self.init_lr * factor, self.decay_rate, self.decay_steps, self.staircase, self.end_step)

    @property
    def peak(self) -> float:
        return self.init_lr


@dataclass(frozen=True)
class StepDecay(Schedule):
    r"""Multiply the rate by ``gamma`` every ``step_size`` steps: ``lr = init_lr · gamma^floor(t / step_size)``.

    .. math:: \eta_t = \eta_0 \, \gamma^{\lfloor t / s \rfloor}

    PyTorch ``StepLR``; the staircase :class:`ExponentialDecay`, which it is evaluated as.

    Args:
        init_lr: :math:`\eta_0 \ge 0`.
        step_size: :math:`s \ge 1`, steps between two drops.
        gamma: :math:`\gamma \in (0, 1]`, the factor applied at each drop.

    Examples:
        >>> import numpy as np
        >>> StepDecay(1.0, step_size=10, gamma=0.5)(np.array([0, 9, 10, 25]))
        array([1.  , 1.  , 0.5 , 0.25])
    """

    init_lr: float = _spec.rate()
    step_size: int = _spec.steps(low=1)
    gamma: float = _spec.unit(0.1)

    def _lower(self) -> Schedule:
        return ExponentialDecay(self.init_lr, self.gamma, self.step_size, staircase=True)

    @property
    def peak(self) -> float:
        return self.init_lr


@dataclass(frozen=True)
class MultiStepDecay(Schedule):
    r"""Multiply the rate by ``gamma`` at each milestone: ``lr = init_lr · gamma^(milestones passed)``.

    .. math:: \eta_t = \eta_0 \, \gamma^{\#\{i \,:\, m_i \le t\}}

    PyTorch ``MultiStepLR``: constant phases of the phase engine (``Backend.piecewise``).

    Args:
        init_lr: :math:`\eta_0 \ge 0`.
        milestones: strictly increasing steps :math:`m_i \ge 0` at which the rate drops.
        gamma: :math:`\gamma \in (0, 1]`.

    Examples:
        >>> import numpy as np
        >>> MultiStepDecay(1.0, milestones=[3, 5], gamma=0.1)(np.array([2, 3, 4, 5]))
        array([1.  , 0.1 , 0.1 , 0.01])
    """

    init_lr: float = _spec.rate()
    milestones: tuple[int, ...] = _spec.step_list()
    gamma: float = _spec.unit(0.1)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        values = [self.init_lr * self.gamma**drops for drops in range(len(self.milestones) + 1)]
        return xp.piecewise(t, (0, *self.milestones), values)

    @property
    def peak(self) -> float:
        return self.init_lr

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return self.milestones


@dataclass(frozen=True)
class PiecewiseConstant(Schedule):
    r"""Constant values between boundaries: ``lr = values[i]`` for ``boundaries[i-1] < t <= boundaries[i]``.

    .. math::
        \eta_t = \begin{cases} v_0 & t \le b_0 \\ v_i & b_{i-1} < t \le b_i \\ v_n & t > b_{n-1} \end{cases}

    A boundary step still takes the value before it, as in Keras ``PiecewiseConstantDecay``.

    Args:
        boundaries: strictly increasing steps :math:`b_0 < \dots < b_{n-1}`, all :math:`\ge 0`.
        values: the :math:`n + 1` learning rates :math:`v_i \ge 0`.

    Examples:
        >>> import numpy as np
        >>> PiecewiseConstant([10, 20], [1.0, 0.5, 0.1])(np.array([10, 11, 20, 21]))
        array([1. , 0.5, 0.5, 0.1])
    """

    boundaries: tuple[int, ...] = _spec.step_list()
    values: tuple[float, ...] = _spec.rate_list()

    def _validate(self) -> None:
        if len(self.values) != len(self.boundaries) + 1:
            raise ValueError(
                f"PiecewiseConstant: values must have one more entry than boundaries ({len(self.boundaries) + 1}), "
                f"got {len(self.values)}"
            )

    def evaluate(self, xp: Backend, t: Array) -> Array:
        starts = [b + 1 for b in self.boundaries if b < MAX_STEP]  # a value after 2**63 - 1 is never used
        return xp.piecewise(t, (0, *starts), self.values[: len(starts) + 1])

    @property
    def peak(self) -> float:
        return max(self.values)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return tuple(b + 1 for b in self.boundaries if b < MAX_STEP)


@dataclass(frozen=True)
class InverseTimeDecay(Schedule):
    r"""Inverse time decay: ``lr = init_lr / (1 + decay_rate · t / decay_steps)``.

    .. math:: \eta_t = \frac{\eta_0}{1 + \alpha\, p(t)}, \qquad p(t) = t / T \ \text{(or its floor when staircase)}

    Keras ``InverseTimeDecay``; the staircase count is an exact integer.

    Args:
        init_lr: :math:`\eta_0 \ge 0`.
        decay_rate: :math:`\alpha \ge 0`.
        decay_steps: :math:`T \ge 1`.
        staircase: decay in discrete jumps every ``decay_steps`` steps.

    Examples:
        >>> import numpy as np
        >>> InverseTimeDecay(1.0, decay_rate=0.5, decay_steps=10)(np.array([0, 10, 20]))
        array([1.        , 0.66666667, 0.5       ])
    """

    init_lr: float = _spec.rate()
    decay_rate: float = _spec.rate()
    decay_steps: int = _spec.steps(1, low=1)
    staircase: bool = _spec.flag(False)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        if self.staircase:
            progress = xp.to_float(t // self.decay_steps) * self.decay_rate
        else:
            progress = xp.to_float(t) * (self.decay_rate / self.decay_steps)
        return self.init_lr / (1.0 + progress)

    @property
    def peak(self) -> float:
        return self.init_lr


@dataclass(frozen=True)
class PolynomialDecay(Schedule):
    r"""Polynomial decay: ``lr = (init_lr - end_lr) · (1 - t / decay_steps)^power + end_lr``.

    .. math::
        \eta_t = (\eta_0 - \eta_{\text{end}}) \left(1 - \frac{\min(t, T)}{T}\right)^{p} + \eta_{\text{end}}

    With ``cycle=True``, :math:`T` is replaced by :math:`T \lceil t / T \rceil` (and by :math:`T` at
    :math:`t = 0`), so the decay restarts from a lower height after every period, as in Keras
    ``PolynomialDecay``. ``power=1`` without cycling is a :class:`~mlx_lrsched.compose.Ramp`. With
    ``transition_begin`` :math:`B`, the rate holds :math:`\eta_0` for :math:`B` steps and then decays as
    above in :math:`t - B` (optax ``polynomial_schedule``).

    Args:
        init_lr: :math:`\eta_0 \ge 0`.
        end_lr: :math:`\eta_{\text{end}} \ge 0`.
        decay_steps: :math:`T \ge 1`.
        power: :math:`p \in (0, 1000]` (1 is linear; PyTorch ``PolynomialLR`` is ``end_lr=0``).
        cycle: restart the decay every period (Keras semantics).
        transition_begin: :math:`B \ge 0`, steps to hold ``init_lr`` first (optax).

    Examples:
        >>> import numpy as np
        >>> PolynomialDecay(1.0, 0.0, decay_steps=4, power=2.0)(np.array([0, 1, 2, 4, 5]))
        array([1.    , 0.5625, 0.25  , 0.    , 0.    ])
    """

    init_lr: float = _spec.rate()
    end_lr: float = _spec.rate()
    decay_steps: int = _spec.steps(low=1)
    power: float = _spec.real(1.0, low=0.0, high=1e3, low_open=True)
    cycle: bool = _spec.flag(False)
    transition_begin: int = _spec.steps(0)

    def _validate(self) -> None:
        _check.float32_blend("PolynomialDecay", ("init_lr", self.init_lr), ("end_lr", self.end_lr))

    def _lower(self) -> Schedule:
        if self.transition_begin:
            decay = dataclasses.replace(self, transition_begin=0)
            return Join((Constant(self.init_lr), decay), (self.transition_begin,))
        if self.power == 1.0 and not self.cycle:
            return Ramp(self.init_lr, self.end_lr, self.decay_steps, "linear")
        return self

    def evaluate(self, xp: Backend, t: Array) -> Array:
        equivalent = lowered(self)
        if equivalent is not self:
            return equivalent.evaluate(xp, t)
        period = self.decay_steps
        if self.cycle:
            # The period ends at T * ceil(t / T) (at T when t = 0, as Keras). Its distance from t comes from
            # t % T, and the length is summed in float: T * ceil(t / T) overflows int64 near step 2**63.
            left = xp.where(t == 0, period, (period - t % period) % period)
            done, left_float = xp.to_float(t), xp.to_float(left)
            return power_decay(xp, self.init_lr, self.end_lr, done, left_float, done + left_float, self.power)
        done = xp.minimum(t, period)
        left = xp.to_float(period - done)
        return power_decay(xp, self.init_lr, self.end_lr, xp.to_float(done), left, float(period), self.power)

    @property
    def peak(self) -> float:
        return max(self.init_lr, self.end_lr)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        begin = self.transition_begin
        decay = () if self.cycle else (self.decay_steps,)
        return phase_steps((begin, *(begin + step for step in decay)) if begin else decay)


@dataclass(frozen=True)
class CosineDecay(Schedule):
    r"""Half-cosine annealing: ``lr = end_lr + (init_lr - end_lr) · ((1 + cos(π t / decay_steps)) / 2)^exponent``.

    .. math::
        \eta_t = \eta_{\text{end}} + (\eta_0 - \eta_{\text{end}})
        \left(\frac{1 + \cos (2 \pi c \min(t, T) / T)}{2}\right)^{e}

    With the defaults :math:`c = 1/2` (``num_cycles``) and :math:`e = 1` (``exponent``) this is the
    half cosine from :math:`\eta_0` to :math:`\eta_{\text{end}}` (PyTorch ``CosineAnnealingLR``,
    ``mlx.optimizers.cosine_decay``); ``exponent`` is optax's ``cosine_decay_schedule(exponent=...)``, and
    ``num_cycles`` Hugging Face's ``get_cosine_schedule_with_warmup(num_cycles=...)``: :math:`c` waves over
    the run, ending at :math:`\eta_0` for a whole :math:`c`. The value holds :math:`\eta_T` after
    :math:`T` steps (where Hugging Face's waves go on). Evaluated as :math:`\eta_{\text{end}} +
    (\eta_0 - \eta_{\text{end}}) \sin^2(\tfrac{\pi}{2} r)` with :math:`r` the distance to the nearest zero
    of the wave, an exact rational of the step, which is the same value without float32's cancellation in
    :math:`1 + \cos` near the zeros: for ``num_cycles=0.5`` a cosine :class:`~mlx_lrsched.compose.Ramp`.

    Args:
        init_lr: :math:`\eta_0 \ge 0`.
        decay_steps: :math:`T \ge 1`.
        end_lr: :math:`\eta_{\text{end}} \ge 0`.
        exponent: :math:`e \in [10^{-3}, 10^3]`.
        num_cycles: :math:`c \in (0, 2^{20}]`, the number of cosine waves over :math:`T` steps (a fraction
            is taken as the nearest ratio of small integers).

    Examples:
        >>> import numpy as np
        >>> CosineDecay(1.0, decay_steps=4)(np.array([0, 2, 4, 9])).round(12)
        array([1. , 0.5, 0. , 0. ])
        >>> CosineDecay(1.0, decay_steps=4, num_cycles=1.0)(np.arange(6)).round(12)  # down and back up
        array([1. , 0.5, 0. , 0.5, 1. , 1. ])

    References:
        Loshchilov & Hutter, *SGDR: Stochastic Gradient Descent with Warm Restarts*, 2017;
        PyTorch ``CosineAnnealingLR``; ``mlx.optimizers.cosine_decay``; optax ``cosine_decay_schedule``;
        Hugging Face ``get_cosine_schedule_with_warmup``.
    """

    init_lr: float = _spec.rate()
    decay_steps: int = _spec.steps(low=1)
    end_lr: float = _spec.rate(0.0)
    exponent: float = _spec.real(1.0, low=1e-3, high=1e3)
    num_cycles: float = _spec.real(0.5, low=0.0, high=2.0**20, low_open=True)

    def _validate(self) -> None:
        _check.float32_blend("CosineDecay", ("init_lr", self.init_lr), ("end_lr", self.end_lr))
        if self.num_cycles != 0.5:
            half_waves = self._half_waves
            if (
                half_waves.numerator * self.decay_steps >= 2**62
                or 2 * half_waves.denominator * self.decay_steps >= 2**62
            ):
                raise ValueError(
                    f"CosineDecay: num_cycles * decay_steps must stay below 2**61 for exact waves, got "
                    f"num_cycles={self.num_cycles!r}, decay_steps={self.decay_steps}"
                )

    @property
    def _half_waves(self) -> Fraction:
        """:math:`2c` as a fraction :math:`a / b` small enough for ``a * T`` and ``2 b T`` to stay integers."""
        # the nearest such fraction (not the float's exact value): a phase off by ~1e-12 of a wave, not by a step
        return Fraction(2.0 * self.num_cycles).limit_denominator(max(1, min(2**20, 2**61 // self.decay_steps)))

    def _lower(self) -> Schedule:
        if self.num_cycles == 0.5:
            return Ramp(self.init_lr, self.end_lr, self.decay_steps, "cos", exponent=self.exponent)
        return self

    def evaluate(self, xp: Backend, t: Array) -> Array:
        equivalent = lowered(self)
        if equivalent is not self:
            return equivalent.evaluate(xp, t)
        # The wave (1 + cos(pi a t / (b T))) / 2 is 0 where a t = b T (mod 2 b T); its weight is sin^2 of the
        # exact integer distance to that zero, so it keeps its relative precision next to every zero.
        half_waves = self._half_waves
        a, span = half_waves.numerator, half_waves.denominator * self.decay_steps
        phase = (a * xp.minimum(t, self.decay_steps)) % (2 * span)
        to_zero = xp.maximum(phase, span) - xp.minimum(phase, span)  # |phase - span| without a signed type
        curve = Curve("cos", self.exponent)
        done, left = xp.to_float(span - to_zero), xp.to_float(to_zero)
        return curve.value(xp, self.init_lr, self.end_lr, done, left, float(span))

    @property
    def peak(self) -> float:
        return max(self.init_lr, self.end_lr)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return (self.decay_steps,)
