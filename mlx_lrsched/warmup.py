"""Warmup and the warmup-shaped schedules: Warmup, Linear, InverseSqrt (Noam) and WSD (warmup-stable-decay).

A phase of zero steps is skipped everywhere: its boundary step already takes the next phase's value, so
``warmup_steps=0`` or ``decay_steps=0`` never divides by zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _check, _spec
from ._shapes import WEIGHT_SHAPES, weight
from ._xp import MAX_STEP, Array, Backend
from .base import Constant, Schedule, lowered, phase_steps
from .compose import Join, Ramp, Shift

WARMUP_SHAPES = (*WEIGHT_SHAPES, "constant")


def _fits(owner: str, **lengths: int) -> None:
    """Raise if consecutive phases end past the last valid step."""
    if sum(lengths.values()) > MAX_STEP:
        names = " + ".join(lengths)
        raise ValueError(f"{owner}: {names} must be at most 2**63 - 1, got {sum(lengths.values())}")


@dataclass(frozen=True)
class Warmup(Schedule):
    r"""Warm up from ``init_lr`` to a schedule's value, then run the schedule (shifted by the warmup, or not).
    ``lr = init_lr + (target - init_lr) · w(t / W)`` while ``t < W``, then ``f(t - W)`` (``f(t)`` with ``overlay``).

    .. math::
        \eta_t = \begin{cases}
            \eta_{\text{init}}\, w_{\text{left}}(t / W) + \eta_{\text{target}}\, w_{\text{done}}(t / W) & t < W \\
            f(t - W) \ \ (\text{or } f(t) \text{ with } \texttt{overlay}) & t \ge W
        \end{cases}

    By default the wrapped schedule :math:`f` sees *shifted* steps: it starts at its own step 0 when the
    warmup ends, so ``Warmup(CosineDecay(peak, T - W, end), W, init)`` is optax's
    ``warmup_cosine_decay_schedule(init, peak, W, T, end)`` and the cosine still lasts ``T - W`` steps; the
    target is :math:`f(0)`. With ``overlay=True`` the warmup is laid *over* the first :math:`W` steps of
    :math:`f`, which keeps the global step (timm's default ``warmup_prefix=False``); the target is then
    :math:`f(W)`, where :math:`f` takes over (continuous, as timm's ``TanhLRScheduler``). ``peak_lr`` sets
    the target instead (timm's cosine warms up to the base rate and then drops to :math:`f(W)`; Keras'
    ``warmup_target``). The weights for ``shape`` are ``linear``: :math:`w_{\text{done}} = d`; ``cos``:
    :math:`\sin^2(\tfrac{\pi}{2} d)`; ``sqrt``: :math:`\sqrt d`; with :math:`w_{\text{left}} = 1 -
    w_{\text{done}}`; ``constant`` holds :math:`\eta_{\text{init}}` for the whole warmup. At step 0 the
    rate is ``init_lr`` (0 by default: the first update is a no-op, as in optax and Hugging Face).

    Args:
        schedule: :math:`f`, the schedule after warmup (a number becomes ``Constant``).
        warmup_steps: :math:`W \ge 0`; 0 is the schedule itself.
        init_lr: :math:`\eta_{\text{init}} \ge 0`, the rate at step 0.
        shape: one of ``"linear"``, ``"cos"``, ``"sqrt"``, ``"constant"``.
        overlay: keep :math:`f` on the global step (its first :math:`W` steps are replaced by the warmup).
        peak_lr: :math:`\eta_{\text{target}}`, the rate the warmup reaches at step :math:`W`; ``None``:
            where :math:`f` takes over, :math:`f(0)` (or :math:`f(W)` with ``overlay``).

    Examples:
        >>> import numpy as np
        >>> from mlx_lrsched.decay import CosineDecay
        >>> s = Warmup(CosineDecay(1.0, decay_steps=4), warmup_steps=4)
        >>> s(np.array([0, 2, 4, 6, 8])).round(12)
        array([0. , 0.5, 1. , 0.5, 0. ])
        >>> Warmup(CosineDecay(1.0, decay_steps=8), warmup_steps=4, overlay=True)(np.arange(0, 9, 2)).round(6)
        array([0.      , 0.25    , 0.5     , 0.146447, 0.      ])

    References:
        Goyal et al., *Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour*, 2017;
        optax ``warmup_cosine_decay_schedule``; timm ``warmup_prefix``.
    """

    schedule: Schedule = _spec.schedule()
    warmup_steps: int = _spec.steps()
    init_lr: float = _spec.rate(0.0)
    shape: str = _spec.choice("linear", WARMUP_SHAPES, _spec.COS_ALIASES)
    overlay: bool = _spec.flag(False)
    peak_lr: float | None = _spec.rate(None, optional=True)

    def _validate(self) -> None:
        if self.warmup_steps and self.shape != "constant":
            target = self._target()  # None for a feedback schedule: bounded by its peak
            target = self.schedule.peak if target is None else target
            name = (
                "peak_lr"
                if self.peak_lr is not None
                else f"the schedule's value at step {self._takeover} ({type(self.schedule).__name__})"
            )
            _check.float32_blend("Warmup", ("init_lr", self.init_lr), (name, target))

    @property
    def _takeover(self) -> int:
        """The step of the schedule at which it takes over from the warmup: ``W`` with ``overlay``, else 0."""
        return self.warmup_steps if self.overlay else 0

    def _target(self) -> float | None:
        """The rate the warmup reaches, or ``None`` where it is read in the graph (a feedback schedule)."""
        if self.peak_lr is not None:
            return self.peak_lr
        return _value_at(self.schedule, self._takeover)

    def _lower(self) -> Schedule:
        if self.warmup_steps == 0:
            return self.schedule
        after = Shift(self.schedule, self.warmup_steps) if self.overlay else self.schedule
        if self.shape == "constant":
            return Join((Constant(self.init_lr), after), (self.warmup_steps,))
        target = self._target()
        if target is None:  # the schedule's value changes in training: evaluated in the graph
            return self
        warmup = Ramp(self.init_lr, target, self.warmup_steps, self.shape)
        return Join((warmup, after), (self.warmup_steps,))

    def evaluate(self, xp: Backend, t: Array) -> Array:
        if lowered(self) is self:  # a stateful schedule: its value where it takes over is read in the graph
            since, takeover = xp.maximum(t, self.warmup_steps) - self.warmup_steps, self._takeover
            after = self.schedule.evaluate(xp, since + takeover if takeover else since)
            target = self.schedule.evaluate(xp, since * 0 + takeover)
            done = xp.to_float(xp.minimum(t, self.warmup_steps)) * (1.0 / self.warmup_steps)
            ramp = self.init_lr + (target - self.init_lr) * weight(xp, done, self.shape)
            return xp.where(t < self.warmup_steps, ramp, after)
        return super().evaluate(xp, t)

    @property
    def peak(self) -> float:
        return max(self.init_lr, self.schedule.peak, self.peak_lr or 0.0)

    @property
    def signed(self) -> bool:
        return self.schedule.signed

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        if self.warmup_steps == 0:
            return self.schedule.phase_boundaries
        inner = self.schedule.phase_boundaries
        later = (b for b in inner if b > self.warmup_steps) if self.overlay else (self.warmup_steps + b for b in inner)
        return phase_steps((self.warmup_steps, *later))


@dataclass(frozen=True)
class Linear(Schedule):
    r"""A straight line from ``init_lr`` to ``end_lr`` over ``steps`` steps, then ``end_lr``:
    ``lr = init_lr + (end_lr - init_lr) · min(t, steps) / steps``.

    .. math:: \eta_t = \eta_0 + (\eta_{\text{end}} - \eta_0)\, \frac{\min(t, T)}{T}

    ``mlx.optimizers.linear_schedule(init, end, steps)``; PyTorch ``LinearLR(start_factor, end_factor,
    total_iters)`` on base rate :math:`\eta` is ``Linear(eta * start_factor, eta * end_factor,
    total_iters)``. Evaluated as :math:`\eta_0 (1 - d) + \eta_{\text{end}} d` with both fractions from
    integers, so the value is exact at both ends in float32. ``steps=0`` is ``end_lr`` at every step.

    Args:
        init_lr: :math:`\eta_0 \ge 0`.
        end_lr: :math:`\eta_{\text{end}} \ge 0`.
        steps: :math:`T \ge 0`.

    Examples:
        >>> import numpy as np
        >>> Linear(0.0, 1.0, steps=4)(np.array([0, 1, 4, 9]))
        array([0.  , 0.25, 1.  , 1.  ])
    """

    init_lr: float = _spec.rate()
    end_lr: float = _spec.rate()
    steps: int = _spec.steps()

    def _validate(self) -> None:
        _check.float32_blend("Linear", ("init_lr", self.init_lr), ("end_lr", self.end_lr))

    def _lower(self) -> Schedule:
        return Ramp(self.init_lr, self.end_lr, self.steps, "linear")

    @property
    def peak(self) -> float:
        return max(self.init_lr, self.end_lr)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return (self.steps,) if self.steps else ()


@dataclass(frozen=True)
class InverseSqrt(Schedule):
    r"""Linear warmup to ``peak_lr``, then decay as the inverse square root of the step (Noam, T5):
    ``lr = peak_lr · sqrt(timescale / (t - W + timescale))`` after the ``W`` warmup steps.

    .. math::
        \eta_t = \begin{cases}
            \eta_{\text{init}} + (\eta_{\text{peak}} - \eta_{\text{init}})\, t / W & t < W \\
            \eta_{\text{peak}} \sqrt{\dfrac{\tau}{t - W + \tau}} & t \ge W
        \end{cases}

    With the default :math:`\tau = W` the decay is :math:`\eta_{\text{peak}} \sqrt{W / t}`, the Transformer
    ("Noam") schedule :math:`d^{-1/2} \min(t^{-1/2}, t\, W^{-3/2})` with peak
    :math:`\eta_{\text{peak}}` at :math:`t = W`. Step 0 is well defined: it is ``init_lr`` during a warmup,
    and with ``warmup_steps=0`` the default :math:`\tau = 1` gives :math:`\eta_{\text{peak}} / \sqrt{t + 1}`,
    the Noam form counted from 1. ``timescale`` is Hugging Face's ``get_inverse_sqrt_schedule`` parameter.

    Args:
        peak_lr: :math:`\eta_{\text{peak}} \ge 0`.
        warmup_steps: :math:`W \ge 0`.
        init_lr: :math:`\eta_{\text{init}} \ge 0`, the rate at step 0 of the warmup.
        timescale: :math:`\tau \ge 1`; ``None`` is :math:`\max(W, 1)`.

    Examples:
        >>> import numpy as np
        >>> InverseSqrt(1.0, warmup_steps=4)(np.array([0, 2, 4, 16, 64]))
        array([0.  , 0.5 , 1.  , 0.5 , 0.25])

    References:
        Vaswani et al., *Attention Is All You Need*, 2017 (section 5.3); Raffel et al., *Exploring the
        Limits of Transfer Learning with a Unified Text-to-Text Transformer* (T5), 2020.
    """

    peak_lr: float = _spec.rate()
    warmup_steps: int = _spec.steps()
    init_lr: float = _spec.rate(0.0)
    timescale: int | None = _spec.steps(None, low=1, optional=True)

    def _validate(self) -> None:
        if self.warmup_steps:
            _check.float32_blend("InverseSqrt", ("init_lr", self.init_lr), ("peak_lr", self.peak_lr))

    def _lower(self) -> Schedule:
        timescale = self.timescale if self.timescale is not None else max(self.warmup_steps, 1)
        decay = _InverseSqrtDecay(self.peak_lr, timescale)
        if self.warmup_steps == 0:
            return decay
        warmup = Ramp(self.init_lr, self.peak_lr, self.warmup_steps, "linear")
        return Join((warmup, decay), (self.warmup_steps,))

    @property
    def peak(self) -> float:
        return max(self.init_lr, self.peak_lr)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return (self.warmup_steps,) if self.warmup_steps else ()


@dataclass(frozen=True)
class WSD(Schedule):
    r"""Warmup-stable-decay: linear warmup, a long constant phase, then a short decay (LLM pretraining).
    ``lr = init_lr → peak_lr`` (linear, ``W`` steps), ``peak_lr`` (``S`` steps), ``peak_lr → end_lr`` (``D`` steps).

    .. math::
        \eta_t = \begin{cases}
            \eta_{\text{init}} + (\eta_{\text{peak}} - \eta_{\text{init}})\, t / W & t < W \\
            \eta_{\text{peak}} & W \le t < W + S \\
            \eta_{\text{peak}}\, w_{\text{left}}(d) + \eta_{\text{end}}\, w_{\text{done}}(d)
                & d = \min(t - W - S,\ D) / D
        \end{cases}

    ``decay_shape`` gives :math:`w_{\text{done}}(d)`: ``linear`` :math:`d`; ``cos``
    :math:`\sin^2(\tfrac{\pi}{2} d)` (half cosine); ``sqrt`` :math:`\sqrt d`, the "1-sqrt" cooldown of
    Hägele et al.; and :math:`w_{\text{left}} = 1 - w_{\text{done}}`. The rate holds ``end_lr`` after
    :math:`W + S + D` steps. Any phase may have 0 steps.

    Args:
        peak_lr: :math:`\eta_{\text{peak}} \ge 0`.
        warmup_steps: :math:`W \ge 0`.
        stable_steps: :math:`S \ge 0`.
        decay_steps: :math:`D \ge 0`.
        decay_shape: one of ``"linear"``, ``"cos"``, ``"sqrt"``.
        end_lr: :math:`0 \le \eta_{\text{end}} \le \eta_{\text{peak}}`.
        init_lr: :math:`0 \le \eta_{\text{init}} \le \eta_{\text{peak}}`, the rate at step 0.

    Examples:
        >>> import numpy as np
        >>> s = WSD(1.0, warmup_steps=2, stable_steps=3, decay_steps=4)
        >>> s(np.array([0, 1, 2, 4, 5, 7, 9, 99]))
        array([0. , 0.5, 1. , 1. , 1. , 0.5, 0. , 0. ])

    References:
        Hu et al., *MiniCPM: Unveiling the Potential of Small Language Models with Scalable Training
        Strategies*, 2024; Hägele et al., *Scaling Laws and Compute-Optimal Training Beyond Fixed Training
        Durations*, 2024.
    """

    peak_lr: float = _spec.rate()
    warmup_steps: int = _spec.steps()
    stable_steps: int = _spec.steps()
    decay_steps: int = _spec.steps()
    decay_shape: str = _spec.choice("linear", WEIGHT_SHAPES, _spec.COS_ALIASES)
    end_lr: float = _spec.rate(0.0)
    init_lr: float = _spec.rate(0.0)

    def _validate(self) -> None:
        _fits("WSD", warmup_steps=self.warmup_steps, stable_steps=self.stable_steps, decay_steps=self.decay_steps)
        for name in ("end_lr", "init_lr"):
            _check.real("WSD", name, getattr(self, name), low=0.0, high=self.peak_lr)
        if self.warmup_steps:
            _check.float32_blend("WSD", ("init_lr", self.init_lr), ("peak_lr", self.peak_lr))
        if self.decay_steps:
            _check.float32_blend("WSD", ("peak_lr", self.peak_lr), ("end_lr", self.end_lr))

    @property
    def total_steps(self) -> int:
        """:math:`W + S + D`, the first step that holds ``end_lr``."""
        return self.warmup_steps + self.stable_steps + self.decay_steps

    def _lower(self) -> Schedule:
        phases = (
            (self.warmup_steps, Ramp(self.init_lr, self.peak_lr, self.warmup_steps, "linear")),
            (self.stable_steps, Constant(self.peak_lr)),
            (self.decay_steps, Ramp(self.peak_lr, self.end_lr, self.decay_steps, self.decay_shape)),
        )
        schedules, boundaries, begin = [], [], 0
        for length, schedule in phases:
            if length:
                schedules.append(schedule)
                boundaries.append(begin)
                begin += length
        schedules.append(Constant(self.end_lr))
        boundaries.append(begin)
        return Join(tuple(schedules), tuple(boundaries[1:]))

    @property
    def peak(self) -> float:
        return self.peak_lr

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        warmup_end = self.warmup_steps
        decay_begin = warmup_end + self.stable_steps
        return phase_steps(b for b in (warmup_end, decay_begin, self.total_steps) if b > 0)


@dataclass(frozen=True)
class _InverseSqrtDecay(Schedule):
    """``peak_lr * sqrt(timescale / (t + timescale))``: the phase of :class:`InverseSqrt` after its warmup."""

    peak_lr: float
    timescale: int

    def evaluate(self, xp: Backend, t: Array) -> Array:
        # float before adding tau: t + tau can overflow int64 at the last valid step
        return self.peak_lr * xp.sqrt(self.timescale / (xp.to_float(t) + float(self.timescale)))

    @property
    def peak(self) -> float:
        return self.peak_lr


def _value_at(schedule: Schedule, step: int) -> float | None:
    """The schedule's value at ``step`` (float64), or ``None`` where it is not a constant of the config."""
    if schedule.stateful:
        return None
    value = float(np.asarray(schedule(np.array(step, dtype=np.int64))))
    return value if value >= 0.0 else None
