"""Decay schedules: constant, step, multi-step, piecewise constant, exponential, inverse time,
polynomial and cosine."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from . import _check
from ._shapes import anneal, elapsed, exp_decay, power_weights, shifted
from ._xp import MAX_STEP, Array, Backend
from .base import Schedule, normalise


@dataclass(frozen=True)
class Constant(Schedule):
    r"""A learning rate that never changes.

    .. math:: \eta_t = \eta

    Args:
        lr: the learning rate :math:`\eta \ge 0`.

    Examples:
        >>> import numpy as np
        >>> Constant(0.1)(np.arange(3))
        array([0.1, 0.1, 0.1])
    """

    lr: float

    def __post_init__(self) -> None:
        normalise(self, lr=_check.non_negative("Constant", "lr", self.lr))

    def evaluate(self, xp: Backend, t: Array) -> Array:
        return xp.full(t, self.lr)

    @property
    def peak(self) -> float:
        return self.lr


@dataclass(frozen=True)
class StepDecay(Schedule):
    r"""Multiply the rate by ``gamma`` every ``step_size`` steps (PyTorch ``StepLR``, seed 001).

    .. math:: \eta_t = \eta_0 \, \gamma^{\lfloor t / s \rfloor}

    Args:
        init_lr: :math:`\eta_0 \ge 0`.
        step_size: :math:`s \ge 1`, steps between two drops.
        gamma: :math:`\gamma \in (0, 1]`, the factor applied at each drop.

    Examples:
        >>> import numpy as np
        >>> StepDecay(1.0, step_size=10, gamma=0.5)(np.array([0, 9, 10, 25]))
        array([1.  , 1.  , 0.5 , 0.25])
    """

    init_lr: float
    step_size: int
    gamma: float = 0.1

    def __post_init__(self) -> None:
        owner = "StepDecay"
        normalise(
            self,
            init_lr=_check.non_negative(owner, "init_lr", self.init_lr),
            step_size=_check.integer(owner, "step_size", self.step_size, low=1),
            gamma=_check.real(owner, "gamma", self.gamma, low=0.0, high=1.0, low_open=True),
        )

    def evaluate(self, xp: Backend, t: Array) -> Array:
        return exp_decay(xp, self.init_lr, t // self.step_size, math.log(self.gamma))

    @property
    def peak(self) -> float:
        return self.init_lr


@dataclass(frozen=True)
class MultiStepDecay(Schedule):
    r"""Multiply the rate by ``gamma`` at each milestone (PyTorch ``MultiStepLR``).

    .. math:: \eta_t = \eta_0 \, \gamma^{\#\{i \,:\, m_i \le t\}}

    Args:
        init_lr: :math:`\eta_0 \ge 0`.
        milestones: strictly increasing steps :math:`m_i \ge 0` at which the rate drops.
        gamma: :math:`\gamma \in (0, 1]`.

    Examples:
        >>> import numpy as np
        >>> MultiStepDecay(1.0, milestones=[3, 5], gamma=0.1)(np.array([2, 3, 4, 5]))
        array([1.  , 0.1 , 0.1 , 0.01])
    """

    init_lr: float
    milestones: tuple[int, ...]
    gamma: float = 0.1

    def __post_init__(self) -> None:
        owner = "MultiStepDecay"
        normalise(
            self,
            init_lr=_check.non_negative(owner, "init_lr", self.init_lr),
            milestones=_check.increasing_steps(owner, "milestones", self.milestones),
            gamma=_check.real(owner, "gamma", self.gamma, low=0.0, high=1.0, low_open=True),
        )

    def evaluate(self, xp: Backend, t: Array) -> Array:
        value = xp.full(t, self.init_lr)
        for drops, milestone in enumerate(self.milestones, start=1):
            value = xp.where(t >= milestone, self.init_lr * self.gamma**drops, value)
        return value

    @property
    def peak(self) -> float:
        return self.init_lr

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return self.milestones


@dataclass(frozen=True)
class PiecewiseConstant(Schedule):
    r"""Constant values between boundaries (Keras ``PiecewiseConstantDecay``).

    .. math::
        \eta_t = \begin{cases} v_0 & t \le b_0 \\ v_i & b_{i-1} < t \le b_i \\ v_n & t > b_{n-1} \end{cases}

    A boundary step still takes the value before it, as in Keras.

    Args:
        boundaries: strictly increasing steps :math:`b_0 < \dots < b_{n-1}`, all :math:`\ge 0`.
        values: the :math:`n + 1` learning rates :math:`v_i \ge 0`.

    Examples:
        >>> import numpy as np
        >>> PiecewiseConstant([10, 20], [1.0, 0.5, 0.1])(np.array([10, 11, 20, 21]))
        array([1. , 0.5, 0.5, 0.1])
    """

    boundaries: tuple[int, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        owner = "PiecewiseConstant"
        boundaries = _check.increasing_steps(owner, "boundaries", self.boundaries)
        rates = _check.sequence(owner, "values", self.values, "learning rates")
        values = tuple(_check.non_negative(owner, f"values[{i}]", v) for i, v in enumerate(rates))
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                f"{owner}: values must have one more entry than boundaries ({len(boundaries) + 1}), got {len(values)}"
            )
        normalise(self, boundaries=boundaries, values=values)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        value = xp.full(t, self.values[0])
        for boundary, later in zip(self.boundaries, self.values[1:], strict=True):
            value = xp.where(t > boundary, later, value)
        return value

    @property
    def peak(self) -> float:
        return max(self.values)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return tuple(b + 1 for b in self.boundaries)


@dataclass(frozen=True)
class ExponentialDecay(Schedule):
    r"""Exponential decay with Keras/optax semantics (seed forms via :meth:`from_rate`).

    .. math::
        \eta_t = \operatorname{clip}\!\big(\eta_0 \, \rho^{\,p(t)},\ \eta_{\text{end}}\big), \qquad
        p(t) = \frac{\max(t - t_0, 0)}{T}\ \text{(or its floor when staircase)}

    where :math:`\rho` is ``decay_rate``, :math:`T` ``decay_steps``, :math:`t_0` ``transition_begin``
    and the clip bounds the value below by :math:`\eta_{\text{end}}` when :math:`\rho < 1` (above when
    :math:`\rho > 1`). ``ExponentialDecay(0.1, 0.96, decay_steps=1000, staircase=True)`` is Keras'
    ``ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.96, staircase=True)`` (seed 001).

    :math:`\rho^{p}` is computed as :math:`\exp(p \log \rho)` with :math:`\log\rho` in float64 on the
    host, so float32 results stay within 1e-6 of float64 where ``mlx.optimizers.exponential_decay``
    (a float32 ``rate ** step``) drifts by 1e-2 and more.

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

    init_lr: float
    decay_rate: float
    decay_steps: int = 1
    staircase: bool = False
    transition_begin: int = 0
    end_lr: float | None = None

    def __post_init__(self) -> None:
        owner = "ExponentialDecay"
        init_lr = _check.non_negative(owner, "init_lr", self.init_lr)
        decay_rate = _check.positive(owner, "decay_rate", self.decay_rate)
        end_lr = None if self.end_lr is None else _check.non_negative(owner, "end_lr", self.end_lr)
        if decay_rate > 1.0:
            if end_lr is None:
                raise ValueError(
                    f"{owner}: decay_rate > 1 grows without bound; give end_lr as the ceiling, "
                    f"got decay_rate={decay_rate!r} with end_lr=None"
                )
            if init_lr == 0.0 or end_lr < init_lr:
                raise ValueError(f"{owner}: with decay_rate > 1, end_lr must be >= init_lr > 0, got {end_lr!r}")
        elif end_lr is not None and end_lr > init_lr:
            raise ValueError(f"{owner}: with decay_rate <= 1, end_lr must be <= init_lr ({init_lr}), got {end_lr!r}")
        normalise(
            self,
            init_lr=init_lr,
            decay_rate=decay_rate,
            decay_steps=_check.integer(owner, "decay_steps", self.decay_steps, low=1),
            staircase=_check.flag(owner, "staircase", self.staircase),
            transition_begin=_check.integer(owner, "transition_begin", self.transition_begin),
            end_lr=end_lr,
        )

    @classmethod
    def from_rate(cls, init_lr: float, k: float, **kwargs: Any) -> ExponentialDecay:
        r"""The seeds' continuous form :math:`\eta_t = \eta_0 e^{-k t}` (``decay_rate = e^{-k}``).

        Args:
            init_lr: :math:`\eta_0`.
            k: :math:`k \ge 0`, the decay constant per step (per ``decay_steps`` if given).
            **kwargs: the other arguments of :class:`ExponentialDecay`.
        """
        return cls(init_lr, _check.decay_constant("ExponentialDecay.from_rate", k), **kwargs)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        count = shifted(xp, t, self.transition_begin)
        log_rate = math.log(self.decay_rate)
        if self.staircase:
            units = count // self.decay_steps
        else:
            units, log_rate = count, log_rate / self.decay_steps
        if self.end_lr is None:
            return exp_decay(xp, self.init_lr, units, log_rate)
        if self.decay_rate > 1.0:  # cap the exponent too, so growth never overflows to inf
            cap = min(math.ceil(math.log(self.end_lr / self.init_lr) / log_rate), MAX_STEP)
            grown = exp_decay(xp, self.init_lr, xp.minimum(units, cap), log_rate, max_units=cap)
            return xp.minimum(grown, self.end_lr)
        return xp.maximum(exp_decay(xp, self.init_lr, units, log_rate), self.end_lr)

    @property
    def peak(self) -> float:
        return self.init_lr if self.decay_rate <= 1.0 or self.end_lr is None else self.end_lr

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return (self.transition_begin,) if self.transition_begin else ()


@dataclass(frozen=True)
class InverseTimeDecay(Schedule):
    r"""Inverse time decay (Keras ``InverseTimeDecay``, seed 001).

    .. math:: \eta_t = \frac{\eta_0}{1 + \alpha\, p(t)}, \qquad p(t) = t / T \ \text{(or its floor when staircase)}

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

    init_lr: float
    decay_rate: float
    decay_steps: int = 1
    staircase: bool = False

    def __post_init__(self) -> None:
        owner = "InverseTimeDecay"
        normalise(
            self,
            init_lr=_check.non_negative(owner, "init_lr", self.init_lr),
            decay_rate=_check.non_negative(owner, "decay_rate", self.decay_rate),
            decay_steps=_check.integer(owner, "decay_steps", self.decay_steps, low=1),
            staircase=_check.flag(owner, "staircase", self.staircase),
        )

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
    r"""Polynomial decay from ``init_lr`` to ``end_lr`` (Keras ``PolynomialDecay``).

    .. math::
        \eta_t = (\eta_0 - \eta_{\text{end}}) \left(1 - \frac{\min(t, T)}{T}\right)^{p} + \eta_{\text{end}}

    With ``cycle=True``, :math:`T` is replaced by :math:`T \lceil t / T \rceil` (and by :math:`T` at
    :math:`t = 0`), so the decay restarts from a lower height after every period, as in Keras.

    Args:
        init_lr: :math:`\eta_0 \ge 0`.
        end_lr: :math:`\eta_{\text{end}} \ge 0`.
        decay_steps: :math:`T \ge 1`.
        power: :math:`p \in (0, 1000]` (1 is linear; PyTorch ``PolynomialLR`` is ``end_lr=0``).
        cycle: restart the decay every period (Keras semantics).

    Examples:
        >>> import numpy as np
        >>> PolynomialDecay(1.0, 0.0, decay_steps=4, power=2.0)(np.array([0, 1, 2, 4, 5]))
        array([1.    , 0.5625, 0.25  , 0.    , 0.    ])
    """

    init_lr: float
    end_lr: float
    decay_steps: int
    power: float = 1.0
    cycle: bool = False

    def __post_init__(self) -> None:
        owner = "PolynomialDecay"
        normalise(
            self,
            init_lr=_check.non_negative(owner, "init_lr", self.init_lr),
            end_lr=_check.non_negative(owner, "end_lr", self.end_lr),
            decay_steps=_check.integer(owner, "decay_steps", self.decay_steps, low=1),
            power=_check.real(owner, "power", self.power, low=0.0, high=1e3, low_open=True),
            cycle=_check.flag(owner, "cycle", self.cycle),
        )

    def evaluate(self, xp: Backend, t: Array) -> Array:
        if self.cycle:
            # The period ends at T * ceil(t / T) (at T when t = 0, as Keras). Its distance from t comes from
            # t % T, and the length is summed in float: T * ceil(t / T) overflows int64 near step 2**63.
            left = xp.where(t == 0, self.decay_steps, (self.decay_steps - t % self.decay_steps) % self.decay_steps)
            # both weights to full precision: end + (init - end) * w_left cancels when w_left is near 1
            w_left, w_done = power_weights(xp, xp.to_float(t), xp.to_float(left), self.power)
            return self.init_lr * w_left + self.end_lr * w_done
        done = elapsed(xp, t, 0, self.decay_steps)
        if self.power == 1.0:
            return anneal(xp, self.init_lr, self.end_lr, done, self.decay_steps)
        w_left, w_done = power_weights(xp, xp.to_float(done), xp.to_float(self.decay_steps - done), self.power)
        return self.init_lr * w_left + self.end_lr * w_done

    @property
    def peak(self) -> float:
        return max(self.init_lr, self.end_lr)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return () if self.cycle else (self.decay_steps,)


@dataclass(frozen=True)
class CosineDecay(Schedule):
    r"""Half-cosine annealing from ``init_lr`` to ``end_lr`` (SGDR without restarts, seed 003).

    .. math::
        \eta_t = \eta_{\text{end}} + \tfrac12 (\eta_0 - \eta_{\text{end}})
        \left(1 + \cos\frac{\pi \min(t, T)}{T}\right)

    Evaluated as :math:`\eta_0 \sin^2(\tfrac{\pi}{2} r) + \eta_{\text{end}} \sin^2(\tfrac{\pi}{2} d)`
    with :math:`d = \min(t,T)/T` and :math:`r = 1 - d` taken from integers, which is the same value
    without float32's cancellation in :math:`1 + \cos` near the end.

    Args:
        init_lr: :math:`\eta_0 \ge 0`.
        decay_steps: :math:`T \ge 1`.
        end_lr: :math:`\eta_{\text{end}} \ge 0`.

    Examples:
        >>> import numpy as np
        >>> CosineDecay(1.0, decay_steps=4)(np.array([0, 2, 4, 9])).round(12)
        array([1. , 0.5, 0. , 0. ])

    References:
        Loshchilov & Hutter, *SGDR: Stochastic Gradient Descent with Warm Restarts*, 2017.
    """

    init_lr: float
    decay_steps: int
    end_lr: float = 0.0

    def __post_init__(self) -> None:
        owner = "CosineDecay"
        normalise(
            self,
            init_lr=_check.non_negative(owner, "init_lr", self.init_lr),
            decay_steps=_check.integer(owner, "decay_steps", self.decay_steps, low=1),
            end_lr=_check.non_negative(owner, "end_lr", self.end_lr),
        )

    def evaluate(self, xp: Backend, t: Array) -> Array:
        done = elapsed(xp, t, 0, self.decay_steps)
        return anneal(xp, self.init_lr, self.end_lr, done, self.decay_steps, "cos")

    @property
    def peak(self) -> float:
        return max(self.init_lr, self.end_lr)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return (self.decay_steps,)
