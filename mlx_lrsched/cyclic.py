"""Cyclic schedules: cyclical learning rates (CLR), cyclic exponential decay and cosine annealing with restarts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _check, _spec
from ._shapes import blend, cos_weight, cycle_starts, exp_decay, geometric_cycles
from ._xp import MAX_STEP, Array, Backend
from .base import Schedule, phase_steps

BOUNDARY_CYCLES = 64
"""How many cycles ``phase_boundaries`` lists for the infinite cyclic schedules (enough for any plot)."""

CYCLIC_MODES = ("triangular", "triangular2", "exp_range")
CYCLIC_WINDOWS = ("linear", "welch", "cos")
MODULATIONS = ("cos", "signed_cosine")


@dataclass(frozen=True)
class CyclicLR(Schedule):
    r"""Smith's cyclical learning rate between ``base_lr`` and ``max_lr`` (PyTorch ``CyclicLR``).

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
    bounded); no custom ``scale_fn`` and no momentum cycling.

    Args:
        base_lr: :math:`\eta_b \ge 0`, the rate at every cycle start.
        max_lr: :math:`\eta_m \ge \eta_b`, the peak of the first cycle.
        step_size_up: :math:`U \ge 1`, steps from a cycle start to its peak.
        step_size_down: :math:`D \ge 0`, steps from the peak back to the next cycle start
            (``None``: equal to ``step_size_up``; 0: a sawtooth).
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
        gamma: :math:`\gamma \in (0, 1]`, the per-step amplitude factor of ``exp_range``.
        window: ``"linear"``, ``"welch"`` or ``"cos"`` (``"hann"``).

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

    def _validate(self) -> None:
        if self.max_lr < self.base_lr:
            raise ValueError(f"CyclicLR: max_lr must be >= base_lr ({self.base_lr!r}), got {self.max_lr!r}")
        _check.float32_blend("CyclicLR", ("base_lr", self.base_lr), ("max_lr", self.max_lr))

    @property
    def cycle_steps(self) -> int:
        """Steps per cycle, :math:`U + D`."""
        return self.step_size_up + self._down

    @property
    def _down(self) -> int:
        return self.step_size_up if self.step_size_down is None else self.step_size_down

    def evaluate(self, xp: Backend, t: Array) -> Array:
        up, down = self.step_size_up, self._down
        position = t % (up + down)
        rising = xp.to_float(position) * (1.0 / up)
        if down:
            falling = xp.to_float(up + down - xp.maximum(position, up)) * (1.0 / down)
            height = xp.where(position <= up, rising, falling)
        else:
            height = rising
        if self.window == "welch":
            height = height * (2.0 - height)
        elif self.window == "cos":
            height = cos_weight(xp, height)
        amplitude = self.max_lr - self.base_lr
        if self.mode == "triangular2":  # an exact power of two
            amplitude = xp.power(0.5, xp.to_float(xp.minimum(t // (up + down), 1100))) * amplitude
        elif self.mode == "exp_range":
            amplitude = exp_decay(xp, amplitude, t, math.log(self.gamma))
        return self.base_lr + amplitude * height

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


@dataclass(frozen=True)
class CosineRestarts(Schedule):
    r"""Cosine annealing with warm restarts, SGDR (PyTorch ``CosineAnnealingWarmRestarts``).

    .. math::
        \eta_t = \eta_{\text{end}} + \tfrac12 \big(\eta_0 \mu^{n} - \eta_{\text{end}}\big)
        \left(1 + \cos \frac{\pi\, p}{T_0 m^{n}}\right), \qquad
        t = T_0 \frac{m^{n} - 1}{m - 1} + p,\ \ 0 \le p < T_0 m^{n}

    Cycle :math:`n` lasts :math:`T_0 m^n` steps (:math:`T_0` every cycle when :math:`m = 1`) and
    starts at :math:`\eta_0 \mu^n`. The cycle index :math:`n` and the position :math:`p` are exact
    integers at any step: a float estimate of :math:`n` is corrected against the exact integer
    cycle starts. With :math:`\mu = 1` this is PyTorch's ``CosineAnnealingWarmRestarts(T_0, T_mult,
    eta_min)`` stepped once per update, to 1e-15; :math:`\mu` is Keras ``CosineDecayRestarts``'
    ``m_mul``. Like PyTorch, :math:`m` is an integer (cycle lengths stay whole steps).

    Args:
        init_lr: :math:`\eta_0 \ge 0`, the first cycle's start.
        first_period_steps: :math:`T_0 \ge 1`, the first cycle's length.
        t_mult: :math:`m \ge 1` (integer), the factor by which each cycle is longer than the last.
        m_mul: :math:`\mu \in (0, 1]`, the factor by which each restart is lower than the last.
        end_lr: :math:`\eta_{\text{end}} \ge 0`, the value every cycle anneals towards.

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
    first_period_steps: int = _spec.steps(low=1)
    t_mult: int = _spec.steps(1, low=1, high=2**31 - 1)
    m_mul: float = _spec.unit(1.0)
    end_lr: float = _spec.rate(0.0)

    def _validate(self) -> None:
        _check.float32_blend("CosineRestarts", ("init_lr", self.init_lr), ("end_lr", self.end_lr))

    def evaluate(self, xp: Backend, t: Array) -> Array:
        if self.init_lr == self.end_lr and self.m_mul == 1.0:  # every cycle anneals a value to itself
            return xp.full(t, self.init_lr)
        index, left, length = geometric_cycles(xp, t, self.first_period_steps, self.t_mult)
        start: Any = self.init_lr
        if self.m_mul != 1.0:
            start = exp_decay(xp, self.init_lr, index, math.log(self.m_mul))
        return blend(xp, start, self.end_lr, left, length, "cos")

    @property
    def peak(self) -> float:
        return max(self.init_lr, self.end_lr)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        """The first :data:`BOUNDARY_CYCLES` restarts (cycle starts after step 0)."""
        return tuple(start for start, _ in cycle_starts(self.first_period_steps, self.t_mult, BOUNDARY_CYCLES + 1))[1:]
