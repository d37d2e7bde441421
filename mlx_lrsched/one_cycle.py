"""The 1cycle policy (PyTorch ``OneCycleLR``, and the symmetric linear 1-cycle) and its momentum twin."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from . import _check, _spec
from ._shapes import ANNEAL_SHAPES
from .base import Constant, Schedule
from .compose import Join, Ramp


@dataclass(frozen=True)
class OneCycle(Schedule):
    r"""The 1cycle policy: warm up to ``max_lr``, then anneal far below the start (PyTorch ``OneCycleLR``).
    ``lr = max_lr / div_factor → max_lr → max_lr / (div_factor · final_div_factor)``, cosine or linear.

    .. math::
        \eta_t = \operatorname{anneal}\!\left(a_k, b_k, \frac{t - e_{k-1}}{e_k - e_{k-1}}\right)
        \quad \text{for the first phase } k \text{ with } t \le e_k, \qquad e_0 = 0

    with PyTorch's phase ends :math:`e_1 = \rho N - 1`, :math:`e_2 = N - 1` and rates
    :math:`\eta_{\max}/\delta \to \eta_{\max} \to \eta_{\max}/(\delta \phi)`; with ``three_phase``,
    :math:`e_2 = \rho_f N - 2` (:math:`\rho_f`, ``pct_final``, is :math:`2 \rho` by default, PyTorch's mirror
    of the warmup), :math:`e_3 = N - 1` and :math:`\eta_{\max}/\delta \to \eta_{\max} \to
    \eta_{\max}/\delta \to \eta_{\max}/(\delta\phi)`. Here :math:`N` is ``total_steps``, :math:`\rho`
    ``pct_start``, :math:`\delta` ``div_factor`` and :math:`\phi` ``final_div_factor``.
    ``anneal(a, b, x)`` is :math:`a + (b - a) x` (``linear``) or :math:`b + \tfrac12 (a - b)(1 + \cos \pi x)`
    (``cos``). Phase membership and the integer part of every fraction are exact integers.

    Step :math:`t` (updates already applied) gets PyTorch's ``get_last_lr()`` after :math:`t` calls to
    ``scheduler.step()``, for :math:`0 \le t < N`, to 1e-15. Differences, all deliberate:

    * for :math:`t \ge N - 1` the rate holds its final value; PyTorch extrapolates the last phase at
      :math:`t = N` (a value no update uses, negative for ``linear``) and raises beyond;
    * when :math:`\rho N = 1` the first phase has length 0; PyTorch divides by zero, here step 0 is
      its end, ``max_lr``; ``pct_start`` 0 or 1 is allowed as in PyTorch;
    * ``three_phase`` needs :math:`\rho \le 0.5` (PyTorch never reaches the third phase otherwise);
    * ``div_factor`` and ``final_div_factor`` are at least 1, so the rate never exceeds ``max_lr``.

    ``cycle_momentum``, ``base_momentum`` and ``max_momentum`` are PyTorch's: the schedule carries its
    momentum twin (:attr:`momentum_schedule`, a :class:`OneCycleMomentum`), which
    :func:`~mlx_lrsched.hyper.apply_schedule` puts on the optimizer's momentum or ``betas[0]``.

    Args:
        max_lr: :math:`\eta_{\max} \ge 0`, the peak.
        total_steps: :math:`N \ge 1`, the updates in the run (see :meth:`from_epochs`).
        pct_start: :math:`\rho \in [0, 1]`, the fraction of the run spent warming up.
        anneal: ``"cos"`` or ``"linear"`` (PyTorch's ``anneal_strategy``).
        div_factor: :math:`\delta \ge 1`, the start is :math:`\eta_{\max} / \delta`.
        final_div_factor: :math:`\phi \ge 1`, the end is :math:`\eta_{\max} / (\delta \phi)`.
        three_phase: anneal back to the start symmetrically, then to the end (the paper's version).
        pct_final: :math:`\rho_f \in [\rho, 1]`, where the three-phase run is back at the start
            (``None``: :math:`2 \rho`, PyTorch); optax's ``linear_onecycle_schedule(pct_final=...)``.
        cycle_momentum: whether the schedule carries a momentum twin (PyTorch's default: yes).
        base_momentum: :math:`\beta_{\text{base}} \in [0, 1]`, the momentum at the rate's peak.
        max_momentum: :math:`\beta_{\max} \in [\beta_{\text{base}}, 1]`, the momentum at the start and end.

    Examples:
        >>> import numpy as np
        >>> s = OneCycle(1.0, total_steps=5, pct_start=0.6, anneal="linear", div_factor=10, final_div_factor=10)
        >>> s(np.arange(7))
        array([0.1  , 0.55 , 1.   , 0.505, 0.01 , 0.01 , 0.01 ])
        >>> OneCycle.linear(0.1, 1.0, 4)(np.arange(6))  # lr_min -> lr_max -> lr_min over t_max = 4
        array([0.1 , 0.55, 1.  , 0.55, 0.1 , 0.1 ])

    References:
        Smith & Topin, *Super-Convergence: Very Fast Training of Neural Networks Using Large Learning
        Rates*, 2017, https://arxiv.org/abs/1708.07120
    """

    max_lr: float = _spec.rate()
    total_steps: int = _spec.steps(low=1, high=2**53)
    pct_start: float = _spec.real(0.3, low=0.0, high=1.0)
    anneal: str = _spec.choice("cos", ANNEAL_SHAPES, _spec.COS_ALIASES)
    div_factor: float = _spec.real(25.0, low=1.0)
    final_div_factor: float = _spec.real(1e4, low=1.0)
    three_phase: bool = _spec.flag(False)
    pct_final: float | None = _spec.real(None, low=0.0, high=1.0, optional=True)
    cycle_momentum: bool = _spec.flag(True)
    base_momentum: float = _spec.real(0.85, low=0.0, high=1.0)
    max_momentum: float = _spec.real(0.95, low=0.0, high=1.0)

    def _validate(self) -> None:
        if self.pct_final is not None:
            if not self.three_phase:
                raise ValueError(f"OneCycle: pct_final applies with three_phase=True, got pct_final={self.pct_final!r}")
            _check.real("OneCycle", "pct_final", self.pct_final, low=self.pct_start, high=1.0)
        elif self.three_phase and self.pct_start > 0.5:
            raise ValueError(
                "OneCycle: pct_start must be in [0, 0.5] with three_phase=True (the warmup and its mirror "
                f"take 2 * pct_start of the run), got {self.pct_start!r}"
            )
        _check.real("OneCycle", "max_momentum", self.max_momentum, low=self.base_momentum, high=1.0)
        start = ("max_lr / div_factor", self.max_lr / self.div_factor)
        end = ("max_lr / (div_factor * final_div_factor)", start[1] / self.final_div_factor)
        _check.float32_blend("OneCycle", start, ("max_lr", self.max_lr))
        _check.float32_blend("OneCycle", ("max_lr", self.max_lr), end)
        if self.three_phase:
            _check.float32_blend("OneCycle", start, end)

    @classmethod
    def from_epochs(cls, max_lr: float, epochs: int, steps_per_epoch: int, **kwargs: Any) -> OneCycle:
        """PyTorch's other spelling: ``total_steps = epochs * steps_per_epoch``.

        Args:
            max_lr: the peak.
            epochs: :math:`\\ge 1`.
            steps_per_epoch: optimizer updates per epoch, :math:`\\ge 1`.
            **kwargs: the other arguments of :class:`OneCycle`.
        """
        owner = "OneCycle.from_epochs"
        epochs = _check.integer(owner, "epochs", epochs, low=1)
        steps_per_epoch = _check.integer(owner, "steps_per_epoch", steps_per_epoch, low=1)
        limit = 2**53  # OneCycle's total_steps bound
        if epochs * steps_per_epoch > limit:
            raise ValueError(
                f"{owner}: epochs * steps_per_epoch must be at most 2**53, got epochs={epochs} * "
                f"steps_per_epoch={steps_per_epoch} = {epochs * steps_per_epoch}"
            )
        return cls(max_lr, epochs * steps_per_epoch, **kwargs)

    @classmethod
    def linear(cls, min_lr: float, max_lr: float, t_max: int) -> OneCycle:
        r"""The symmetric linear 1-cycle: ``min_lr`` to ``max_lr`` over the first half, back over the second.

        .. math::
            \eta_t = \begin{cases}
            \eta_{\min} + \frac{t}{t_{\max}/2} (\eta_{\max} - \eta_{\min}) & t \le t_{\max}/2 \\
            \eta_{\max} - \frac{t - t_{\max}/2}{t_{\max}/2} (\eta_{\max} - \eta_{\min}) & t > t_{\max}/2
            \end{cases}

        and :math:`\eta_{\min}` after :math:`t_{\max}`: a linear :class:`OneCycle` with
        ``total_steps = t_max + 1`` (its last phase ends at step :math:`t_{\max}`), ``final_div_factor=1``
        and ``pct_start`` placing the peak at :math:`t_{\max}/2`.

        Args:
            min_lr: :math:`\eta_{\min} > 0` (it sets ``div_factor = max_lr / min_lr``).
            max_lr: :math:`\eta_{\max} \ge \eta_{\min}`.
            t_max: :math:`t_{\max} \ge 1`, the step at which the rate is back at ``min_lr``.
        """
        owner = "OneCycle.linear"
        min_lr = _check.positive(owner, "min_lr", min_lr)
        max_lr = _check.real(owner, "max_lr", max_lr, low=min_lr)
        t_max = _check.integer(owner, "t_max", t_max, low=1, high=2**53 - 1)
        if not math.isfinite(max_lr / min_lr):
            raise ValueError(f"{owner}: min_lr={min_lr!r} is too small next to max_lr={max_lr!r} (ratio overflows)")
        pct_start = (t_max + 2) / (2 * (t_max + 1))  # PyTorch's peak step pct_start * N - 1 = t_max / 2
        return cls(max_lr, t_max + 1, pct_start, "linear", div_factor=max_lr / min_lr, final_div_factor=1.0)

    def momentum(self, base_momentum: float | None = None, max_momentum: float | None = None) -> OneCycleMomentum:
        """The momentum (or Adam ``beta1``) twin, inverse to the rate (PyTorch's ``cycle_momentum``).

        Args:
            base_momentum: the momentum at the rate's peak (``None``: this schedule's ``base_momentum``).
            max_momentum: the momentum at the start and end of the cycle (``None``: ``max_momentum``).
        """
        base = self.base_momentum if base_momentum is None else base_momentum
        return OneCycleMomentum(self, base, self.max_momentum if max_momentum is None else max_momentum)

    @property
    def momentum_schedule(self) -> OneCycleMomentum | None:
        """The momentum twin with this schedule's momenta, or ``None`` without ``cycle_momentum``."""
        return self.momentum() if self.cycle_momentum else None

    def _lower(self) -> Schedule:
        start = self.max_lr / self.div_factor
        return _phases(self, {"start": start, "max": self.max_lr, "end": start / self.final_div_factor})

    @property
    def peak(self) -> float:
        return self.max_lr

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        """The last step of each phase: the peak, (the mirror's end,) and ``total_steps - 1``."""
        return _phase_ends(self)


@dataclass(frozen=True)
class OneCycleMomentum(Schedule):
    r"""The momentum that mirrors a :class:`OneCycle` rate (PyTorch ``OneCycleLR(cycle_momentum=True)``):
    ``momentum = max_momentum → base_momentum → max_momentum``, over the rate's phases.

    .. math:: \beta_t = \operatorname{anneal}\!\left(c_k, d_k, x_k(t)\right)

    over the same phases and fractions :math:`x_k(t)` as the rate, moving
    ``max_momentum -> base_momentum -> max_momentum`` (three-phase: ``max -> base -> max -> max``):
    low momentum while the rate is high. Holds its final value after the run. Build it with
    :meth:`OneCycle.momentum`.

    Args:
        schedule: the :class:`OneCycle` whose phases it follows.
        base_momentum: :math:`\beta_{\text{base}} \in [0, 1]`, the momentum at the rate's peak.
        max_momentum: :math:`\beta_{\max} \in [\beta_{\text{base}}, 1]`, the momentum at the start and end.

    Examples:
        >>> import numpy as np
        >>> lr = OneCycle(1.0, total_steps=5, pct_start=0.6, anneal="linear")
        >>> lr.momentum(0.85, 0.95)(np.arange(6)).round(6)
        array([0.95, 0.9 , 0.85, 0.9 , 0.95, 0.95])

    References:
        Smith, *A disciplined approach to neural network hyper-parameters: Part 1*, 2018,
        https://arxiv.org/abs/1803.09820
    """

    schedule: OneCycle = _spec.schedule()
    base_momentum: float = _spec.real(0.85, low=0.0, high=1.0)
    max_momentum: float = _spec.real(0.95, low=0.0, high=1.0)

    def _validate(self) -> None:
        if not isinstance(self.schedule, OneCycle):
            raise TypeError(f"OneCycleMomentum: schedule must be a OneCycle, got {type(self.schedule).__name__}")
        _check.real("OneCycleMomentum", "max_momentum", self.max_momentum, low=self.base_momentum, high=1.0)

    def _lower(self) -> Schedule:
        # Inverse to the rate; in three-phase runs the momentum stays at max_momentum in the last phase.
        values = {"start": self.max_momentum, "max": self.base_momentum, "end": self.max_momentum}
        return _phases(self.schedule, values)

    @property
    def peak(self) -> float:
        return self.max_momentum

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return self.schedule.phase_boundaries


def _phase_plan(cycle: OneCycle) -> list[tuple[int, int, float, float, str, str]]:
    """PyTorch's phases as ``(first, last, begin, finish, start_key, end_key)``: the integer steps
    ``first..last`` move from ``start`` to ``end`` as ``(t - begin) / (finish - begin)`` goes from 0 to 1
    (``begin`` and ``finish`` are PyTorch's float phase ends, computed exactly as it does). Empty phases
    are left out."""
    steps = cycle.total_steps
    ends: list[tuple[float, str, str]] = [(float(cycle.pct_start * steps) - 1, "start", "max")]
    if cycle.three_phase:
        mirror = 2 * cycle.pct_start if cycle.pct_final is None else cycle.pct_final
        ends += [(float(mirror * steps) - 2, "max", "start"), (steps - 1, "start", "end")]
    else:
        ends += [(steps - 1, "max", "end")]
    plan, covered, begin = [], -1, 0.0
    for finish, start_key, end_key in ends:
        last = min(math.floor(finish), steps - 1)
        if covered < last:
            plan.append((covered + 1, last, begin, finish, start_key, end_key))
            covered = last
        begin = finish
    return plan


def _phase_ends(cycle: OneCycle) -> tuple[int, ...]:
    return tuple(last for _, last, *_ in _phase_plan(cycle))


def _phases(cycle: OneCycle, values: dict[str, float]) -> Schedule:
    """The 1-cycle as a :class:`Join` of ramps between ``values``; the last phase holds its end."""
    schedules: list[Schedule] = []
    for first, last, begin, finish, start_key, end_key in _phase_plan(cycle):
        if finish == begin:  # a phase of length 0 (step 0 when pct_start * N == 1) sits at its end
            schedules.append(Constant(values[end_key]))
            continue
        lead, trail = first - begin, finish - last
        schedules.append(Ramp(values[start_key], values[end_key], last - first, cycle.anneal, lead, trail))
    boundaries = tuple(first for first, *_ in _phase_plan(cycle)[1:])
    return Join(tuple(schedules), boundaries) if boundaries else schedules[0]
