"""Cyclic schedules: cyclical learning rates (CLR) and cyclic exponential decay.

Cosine annealing with warm restarts lives in :mod:`mlx_lrsched.restarts`; ``CosineRestarts`` is re-exported
here, where 0.1.0 defined it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _check, _spec
from ._shapes import BOUNDARY_CYCLES, cos_weight, exp_decay
from ._xp import MAX_STEP, Array, Backend
from .base import Schedule, phase_steps
from .restarts import CosineRestarts

__all__ = ["BOUNDARY_CYCLES", "CosineRestarts", "CyclicExponentialDecay", "CyclicLR", "CyclicMomentum"]

CYCLIC_MODES = ("triangular", "triangular2", "exp_range")
CYCLIC_WINDOWS = ("linear", "welch", "cos")
MODULATIONS = ("cos", "signed_cosine")


@dataclass(frozen=True)
class CyclicLR(Schedule):
    r"""Smith's cyclical learning rate between ``base_lr`` and ``max_lr`` (PyTorch ``CyclicLR``):
    ``lr = base_lr + (max_lr - base_lr) · w(h) · scale``, ``h`` the triangle 0 → 1 → 0 over each cycle.

    .. math::
        \eta_t = \eta_b + (\eta_m - \eta_b)\, w(h_t)\, s_t, \qquad
        h_t = \begin{cases} p / U & p \le U \\ (U + D - p) / D & p > U \end{cases}, \quad
        p = t \bmod (U + D)

    :math:`h_t \in [0, 1]` is the triangle (0 at a cycle start, 1 at its peak :math:`p = U`), shaped by
    the window :math:`w`:

    * ``linear`` (Smith's triangle): :math:`w(h) = h`;
    * ``welch`` (parabolic): :math:`w(h) = 1 - (1 - h)^2 = h (2 - h)`;
    * ``cos`` (the Hann window, a raised cosine; ``"hann"`` is accepted):
      :math:`w(h) = \tfrac12 (1 - \cos \pi h) = \sin^2(\tfrac{\pi}{2} h)`;

    and scaled by the mode: ``triangular`` :math:`s_t = 1`; ``triangular2``
    :math:`s_t = 2^{-\lfloor t / (U + D) \rfloor}` (the amplitude halves every cycle); ``exp_range``
    :math:`s_t = \gamma^t`. The cycle index and :math:`p` are integers, exact at any step.

    With the ``linear`` window this is PyTorch's ``CyclicLR`` (``get_last_lr()`` after ``t`` calls to
    ``step()``) to 1e-15. Differences, all deliberate: step sizes are integers; ``step_size_up >= 1``
    (PyTorch divides by zero at 0); ``max_lr >= base_lr`` and ``gamma`` in (0, 1] (so the rate is
    bounded); no custom ``scale_fn``. With ``cycle_momentum`` the schedule carries PyTorch's momentum twin
    (:attr:`momentum_schedule`, a :class:`CyclicMomentum`); unlike PyTorch it is off by default.

    Args:
        base_lr: :math:`\eta_b \ge 0`, the rate at every cycle start.
        max_lr: :math:`\eta_m \ge \eta_b`, the peak of the first cycle.
        step_size_up: :math:`U \ge 1`, steps from a cycle start to its peak.
        step_size_down: :math:`D \ge 0`, steps from the peak back to the next cycle start
            (``None``: equal to ``step_size_up``; 0: a sawtooth).
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
        gamma: :math:`\gamma \in (0, 1]`, the per-step amplitude factor of ``exp_range``.
        window: ``"linear"``, ``"welch"`` or ``"cos"`` (``"hann"``).
        cycle_momentum: whether the schedule carries a momentum twin (PyTorch's ``cycle_momentum``).
        base_momentum: :math:`\beta_b \in [0, 1]`, the momentum at the rate's peaks.
        max_momentum: :math:`\beta_m \in [\beta_b, 1]`, the momentum at the cycle starts.

    Examples:
        >>> import numpy as np
        >>> CyclicLR(0.1, 0.5, step_size_up=2)(np.arange(6))
        array([0.1, 0.3, 0.5, 0.3, 0.1, 0.3])
        >>> CyclicLR(0.0, 1.0, step_size_up=2, mode="triangular2")(np.array([2, 6, 10]))
        array([1.  , 0.5 , 0.25])

    References:
        Smith, *Cyclical Learning Rates for Training Neural Networks*, WACV 2017,
        https://arxiv.org/abs/1506.01186
    """

    base_lr: float = _spec.rate()
    max_lr: float = _spec.rate()
    step_size_up: int = _spec.steps(low=1, high=MAX_STEP // 2)
    step_size_down: int | None = _spec.steps(None, high=MAX_STEP // 2, optional=True)
    mode: str = _spec.choice("triangular", CYCLIC_MODES)
    gamma: float = _spec.unit(1.0)
    window: str = _spec.choice("linear", CYCLIC_WINDOWS, _spec.COS_ALIASES)
    cycle_momentum: bool = _spec.flag(False)
    base_momentum: float = _spec.real(0.8, low=0.0, high=1.0)
    max_momentum: float = _spec.real(0.9, low=0.0, high=1.0)

    def _validate(self) -> None:
        if self.max_lr < self.base_lr:
            raise ValueError(f"CyclicLR: max_lr must be >= base_lr ({self.base_lr!r}), got {self.max_lr!r}")
        _check.float32_blend("CyclicLR", ("base_lr", self.base_lr), ("max_lr", self.max_lr))
        _check.real("CyclicLR", "max_momentum", self.max_momentum, low=self.base_momentum, high=1.0)

    def momentum(self, base_momentum: float | None = None, max_momentum: float | None = None) -> CyclicMomentum:
        """The momentum (or Adam ``beta1``) twin, low where the rate is high (PyTorch's ``cycle_momentum``).

        Args:
            base_momentum: the momentum at the rate's peaks (``None``: this schedule's ``base_momentum``).
            max_momentum: the momentum at the cycle starts (``None``: ``max_momentum``).
        """
        base = self.base_momentum if base_momentum is None else base_momentum
        return CyclicMomentum(self, base, self.max_momentum if max_momentum is None else max_momentum)

    @property
    def momentum_schedule(self) -> CyclicMomentum | None:
        """The momentum twin with this schedule's momenta, or ``None`` without ``cycle_momentum``."""
        return self.momentum() if self.cycle_momentum else None

    @property
    def cycle_steps(self) -> int:
        """Steps per cycle, :math:`U + D`."""
        return self.step_size_up + self._down

    @property
    def _down(self) -> int:
        return self.step_size_up if self.step_size_down is None else self.step_size_down

    def evaluate(self, xp: Backend, t: Array) -> Array:
        amplitude = self.max_lr - self.base_lr
        if self.mode == "triangular2":  # an exact power of two
            amplitude = self._halvings(xp, t) * amplitude
        elif self.mode == "exp_range":
            amplitude = exp_decay(xp, amplitude, t, math.log(self.gamma))
        return self.base_lr + amplitude * self.window_weight(xp, t)

    def window_weight(self, xp: Backend, t: Array, complement: bool = False) -> Array:
        """:math:`w(h_t)`, or :math:`1 - w(h_t)` with ``complement``, each exact from the integer position."""
        up, down = self.step_size_up, self._down
        position = t % (up + down)
        if complement:  # 1 - h from the distance to the peak: exact where w is near 1
            rising = xp.to_float(up - xp.minimum(position, up)) * (1.0 / up)
            falling = xp.to_float(xp.maximum(position, up) - up) * (1.0 / down) if down else rising
        else:
            rising = xp.to_float(position) * (1.0 / up)
            falling = xp.to_float(up + down - xp.maximum(position, up)) * (1.0 / down) if down else rising
        height = xp.where(position <= up, rising, falling) if down else rising
        if self.window == "welch":  # w = 1 - (1 - h)^2
            return height * height if complement else height * (2.0 - height)
        if self.window == "cos":  # symmetric: 1 - w(h) = w(1 - h)
            return cos_weight(xp, height)
        return height

    def _halvings(self, xp: Backend, t: Array) -> Array:
        """``triangular2``'s scale :math:`2^{-n}` for cycle :math:`n`, exact."""
        return xp.power(0.5, xp.to_float(xp.minimum(t // self.cycle_steps, 1100)))

    @property
    def peak(self) -> float:
        # The first rising edge holds the maximum: later steps repeat the window with a scale no larger.
        up = self.step_size_up
        top = up if self._down else up - 1  # a sawtooth drops before reaching its peak step
        candidates = {top}
        if self.mode == "exp_range" and self.gamma < 1.0:
            # w(t / U) * gamma**t is log-concave on [0, U]: its integer maximum is next to the continuous
            # one, t*, where d/dt log w(t / U) = -log(gamma).
            decay = -math.log(self.gamma)
            if self.window == "linear":
                best = 1.0 / decay
            elif self.window == "welch":
                b = 2.0 * decay * up + 2.0
                best = 4.0 * up / (b + math.sqrt(b * b - 8.0 * decay * up))
            else:
                best = 2.0 * up / math.pi * math.atan(math.pi / (decay * up))
            candidates |= {0, min(math.floor(best), top), min(math.ceil(best), top)}
        return float(np.max(self(np.array(sorted(candidates), dtype=np.int64))))

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        """Each cycle's peak and end, for the first :data:`BOUNDARY_CYCLES` cycles."""
        cycle, up = self.cycle_steps, self.step_size_up
        steps = {k * cycle + edge for k in range(BOUNDARY_CYCLES) for edge in (up, cycle)}
        return phase_steps(steps)


@dataclass(frozen=True)
class CyclicMomentum(Schedule):
    r"""The momentum that mirrors a :class:`CyclicLR` rate (PyTorch ``CyclicLR(cycle_momentum=True)``):
    ``momentum = max_momentum - (max_momentum - base_momentum) · w(h_t) · s_t``, over the rate's own cycle.

    .. math::
        \beta_t = \beta_m - (\beta_m - \beta_b)\, w(h_t)\, s_t
        = \beta_b + (\beta_m - \beta_b) \big((1 - s_t) + s_t (1 - w(h_t))\big)

    with the rate's window :math:`w(h_t)` and scale :math:`s_t` (see :class:`CyclicLR`): the momentum is
    ``max_momentum`` at every cycle start and lowest at the rate's peaks. It is evaluated in the second
    form, two non-negative terms from the exact integer position, so it keeps its relative precision even
    where it reaches 0. Build it with :meth:`CyclicLR.momentum`.

    Args:
        schedule: the :class:`CyclicLR` whose cycle it follows.
        base_momentum: :math:`\beta_b \in [0, 1]`, the momentum at the rate's peak.
        max_momentum: :math:`\beta_m \in [\beta_b, 1]`, the momentum at the cycle starts.

    Examples:
        >>> import numpy as np
        >>> CyclicLR(0.1, 0.5, step_size_up=2).momentum(0.8, 0.9)(np.arange(5)).round(12)
        array([0.9 , 0.85, 0.8 , 0.85, 0.9 ])

    References:
        Smith, *A disciplined approach to neural network hyper-parameters: Part 1*, 2018,
        https://arxiv.org/abs/1803.09820; PyTorch ``CyclicLR``.
    """

    schedule: CyclicLR = _spec.schedule()
    base_momentum: float = _spec.real(0.8, low=0.0, high=1.0)
    max_momentum: float = _spec.real(0.9, low=0.0, high=1.0)

    def _validate(self) -> None:
        if not isinstance(self.schedule, CyclicLR):
            raise TypeError(f"CyclicMomentum: schedule must be a CyclicLR, got {type(self.schedule).__name__}")
        _check.real("CyclicMomentum", "max_momentum", self.max_momentum, low=self.base_momentum, high=1.0)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        cyclic = self.schedule
        rest = cyclic.window_weight(xp, t, complement=True)  # 1 - w(h)
        if cyclic.mode == "triangular2":
            scale = cyclic._halvings(xp, t)
            rest = (1.0 - scale) + scale * rest
        elif cyclic.mode == "exp_range":
            log_gamma = math.log(cyclic.gamma)
            scale = exp_decay(xp, 1.0, t, log_gamma)
            rest = -xp.expm1(xp.to_float(t) * log_gamma) + scale * rest
        return self.base_momentum + (self.max_momentum - self.base_momentum) * rest

    @property
    def peak(self) -> float:
        return self.max_momentum

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return self.schedule.phase_boundaries


@dataclass(frozen=True)
class CyclicExponentialDecay(Schedule):
    r"""Exponential decay times a periodic modulation: ``lr = min_lr + (init_lr - min_lr) · rate^(t / T) · m(t mod T)``.

    .. math::
        \eta_t = \eta_{\min} + (\eta_0 - \eta_{\min})\, \rho^{\,p(t)}\, m(t \bmod T), \qquad
        p(t) = t / T \ \text{(or } \lfloor t / T \rfloor \text{ when staircase)}

    where :math:`\rho` is the decay per period. The modulation :math:`m` is

    * ``"cos"`` (default, the raised cosine; ``"raised_cosine"`` is accepted):
      :math:`m(p) = \tfrac12 (1 + \cos(2\pi p / T)) \in [0, 1]`, so the
      rate restarts at the decayed envelope every period and dips to :math:`\eta_{\min}` mid-period;
    * ``"signed_cosine"``: :math:`m(p) = \cos(2\pi p / T)`, **negative for half of every period**
      (gradient ascent). These are the two literal forms of the cyclic exponential decay (CED)
      write-ups, with :math:`\eta_{\min} = 0`:
      continuous :math:`\eta_0 e^{-kt}\cos(2\pi t/T)` is ``from_rate(eta0, k, T,
      modulation="signed_cosine")`` and per-cycle :math:`\eta_0 \rho^{\lfloor t/T \rfloor}
      \cos(2\pi (t \bmod T)/T)` is ``CyclicExponentialDecay(eta0, rho, T, staircase=True,
      modulation="signed_cosine")``. Only this option makes :attr:`signed` true.

    The cosine is evaluated from the exact integer distance :math:`r = \min(p, T - p)` to the
    nearest period edge, as :math:`\sin^2(\tfrac{\pi}{2} (T - 2r) / T)` and
    :math:`\sin(\tfrac{\pi}{2} (T - 4r) / T)`, which keeps float32's relative precision next to the
    zeros, where :math:`\cos` of a rounded angle does not.

    Args:
        init_lr: :math:`\eta_0 \ge 0`, the value at step 0.
        decay_rate: :math:`\rho \in (0, 1]`, the envelope's factor per period.
        period_steps: :math:`T \ge 1` (at most ``2**60``).
        staircase: decay once per period (the per-cycle form) instead of every step.
        modulation: ``"cos"`` (``"raised_cosine"``) or ``"signed_cosine"`` (goes negative).
        min_lr: :math:`\eta_{\min} \in [0, \eta_0]`, the floor of the raised cosine (0 for the signed one).

    Examples:
        >>> import numpy as np
        >>> s = CyclicExponentialDecay(1.0, decay_rate=0.5, period_steps=4, staircase=True)
        >>> s(np.arange(9))
        array([1.  , 0.5 , 0.  , 0.5 , 0.5 , 0.25, 0.  , 0.25, 0.25])
        >>> signed = CyclicExponentialDecay(1.0, 0.5, 4, staircase=True, modulation="signed_cosine")
        >>> signed(np.arange(4)).round(12), signed.signed
        (array([ 1.,  0., -1.,  0.]), True)
    """

    init_lr: float = _spec.rate()
    decay_rate: float = _spec.unit()
    period_steps: int = _spec.steps(low=1, high=2**60)
    staircase: bool = _spec.flag(False)
    modulation: str = _spec.choice("cos", MODULATIONS, _spec.COS_ALIASES)
    min_lr: float = _spec.rate(0.0)

    def _validate(self) -> None:
        owner = "CyclicExponentialDecay"
        _check.real(owner, "min_lr", self.min_lr, low=0.0, high=self.init_lr)
        _check.float32_blend(owner, ("min_lr", self.min_lr), ("init_lr", self.init_lr))
        if self.modulation == "signed_cosine" and self.min_lr != 0.0:
            raise ValueError(
                f"{owner}: min_lr must be 0 with modulation='signed_cosine' (no floor), got {self.min_lr!r}"
            )

    @classmethod
    def from_rate(cls, init_lr: float, k: float, period_steps: int, **kwargs: Any) -> CyclicExponentialDecay:
        r"""The continuous envelope :math:`\eta_0 e^{-k t}` (``decay_rate`` :math:`= e^{-kT}`).

        Args:
            init_lr: :math:`\eta_0`.
            k: :math:`k \ge 0`, the decay constant per step.
            period_steps: :math:`T`.
            **kwargs: the other arguments of :class:`CyclicExponentialDecay`.
        """
        owner = "CyclicExponentialDecay.from_rate"
        period_steps = _check.integer(owner, "period_steps", period_steps, low=1)
        return cls(init_lr, _check.decay_constant(owner, k, period_steps), period_steps, **kwargs)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        period = self.period_steps
        log_rate = math.log(self.decay_rate)
        height = self.init_lr - self.min_lr
        if self.staircase:
            envelope = exp_decay(xp, height, t // period, log_rate)
        else:
            envelope = exp_decay(xp, height, t, log_rate / period)
        position = t % period
        edge_distance = xp.minimum(position, period - position)  # r in [0, T / 2]
        if self.modulation == "cos":
            modulation = cos_weight(xp, xp.to_float(period - 2 * edge_distance), 1.0 / period)
            return self.min_lr + envelope * modulation
        quarter = 4 * edge_distance  # T - 4r is signed: take it from two saturating unsigned pieces
        above, below = period - xp.minimum(quarter, period), xp.maximum(quarter, period) - period
        numerator = xp.to_float(above) - xp.to_float(below)
        return envelope * xp.sin(numerator * (0.5 * math.pi / period))

    @property
    def peak(self) -> float:
        return self.init_lr

    @property
    def signed(self) -> bool:
        return self.modulation == "signed_cosine"

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        """The first :data:`BOUNDARY_CYCLES` period starts after step 0."""
        return phase_steps(k * self.period_steps for k in range(1, BOUNDARY_CYCLES + 1))
