"""``from_timm``: timm's learning-rate schedulers (``timm.scheduler``, timm 1.0.31) as mlx-lrsched schedules.

Each builder below takes ``lr`` (the optimizer's rate, timm's base value), then the parameters of a timm scheduler's
``__init__`` after ``optimizer``, with timm's defaults written out, then ``steps_per_epoch``. It builds timm's
``_get_lr(t)`` (with the noise of ``_add_noise(t)`` where asked for) on timm's ``t``, and counts ``t`` in epochs or
in updates, as ``t_in_epochs`` says.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections import Counter
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from .. import _check
from .._shapes import MAX_DENOMINATOR, TANH_BOUND, rational
from .._xp import MAX_STEP
from ..base import Constant, Product, Schedule
from ..compose import Join, PerEpoch, Ramp
from ..decay import ExponentialDecay, InverseTimeDecay, MultiStepDecay, StepDecay
from ..feedback import ReduceOnPlateau
from ..noise import Noisy
from ..restarts import Restarts
from ..warmup import InverseSqrt, Linear, Warmup
from ._translator import Translator, checked_rate, owner

__all__ = ["TRANSLATOR", "from_timm"]

TRANSLATOR = Translator("timm", "from_timm")

MAX_STEP_DENOMINATOR = 16
"""A fractional ``decay_t`` must be a ratio ``p / q`` with ``q`` at most this: the staircase is a product of ``q``
whole-period staircases (see :func:`_staircase`)."""


def from_timm(name: str, /, lr: float, steps_per_epoch: int | None = None, **kwargs: Any) -> Schedule:
    r"""The schedule that timm's scheduler ``name`` runs: ``from_timm("CosineLRScheduler", lr, t_initial=...)``.

    Step ``k`` of the result is ``scheduler._get_lr(k)`` with ``t_in_epochs=False`` (timm counts updates), and
    ``scheduler._get_lr(k // steps_per_epoch)`` with ``t_in_epochs=True`` (timm's default: it counts epochs, so
    ``steps_per_epoch``, the optimizer updates per epoch, is then required). ``lr`` is the optimizer's learning
    rate, timm's base value. Every argument of timm 1.0.31 is taken, with timm's defaults:

    .. math::
        \eta_k = \begin{cases}
            \eta_{\text{w}} + (\eta - \eta_{\text{w}})\, t / W & t < W \quad \text{(warmup\_t, warmup\_lr\_init)} \\
            f(t - W) \ \text{(warmup\_prefix)}, \ f(t) \ \text{otherwise} & t \ge W
        \end{cases}
        \qquad t = k \ \text{or}\ \lfloor k / E \rfloor

    * ``CosineLRScheduler``, ``TanhLRScheduler``, ``PolyLRScheduler``: :class:`~mlx_lrsched.Restarts` (cycles of
      ``t_initial * cycle_mul**n`` steps starting at ``lr * cycle_decay**n``, ``cycle_limit`` of them, then
      ``lr_min``; ``k_decay``, ``lb``/``ub``, ``power``) under a :class:`~mlx_lrsched.Warmup` that is laid over the
      cycles (``warmup_prefix=False``, timm's default here: ``overlay=True``) or shifts them. Cosine and poly warm
      up to ``lr``; tanh without ``warmup_prefix`` to its own value at ``warmup_t``, as timm.
    * ``StepLRScheduler``: ``lr * decay_rate ** (t // decay_t)``; a fractional ``decay_t`` (``2.4``, timm's
      EfficientNet recipe) must be a ratio ``p / q`` with ``q <= 16`` and is built as a product of ``q``
      staircases of ``p`` steps, equal to timm's float ``t // decay_t`` at every ``t`` below ``2**52 / q``.
    * ``MultiStepLRScheduler``: timm's ``bisect_right(decay_t, t + 1)``: milestone ``m`` takes effect at
      ``t = m - 1``, one step before PyTorch's ``MultiStepLR`` would (kept: it is timm's schedule).
    * ``WSDLRScheduler``: warmup, stable, then ``decay_fn`` over the last ``decay_t`` steps of ``t_initial``
      (``'linear'``, ``'1-sqrt'``, ``'cosine'``, ``'power'``); ``stable_fn='rsqrt'`` (or ``'power'`` with
      ``stable_power`` 0.5 or 1) with ``lr_min=0``. Refused, with the reason: ``decay_fn='exp'``, a callable
      ``decay_fn``, and a decaying stable phase with ``lr_min > 0`` (no exact composition here).
    * ``PlateauLRScheduler``: a :class:`~mlx_lrsched.ReduceOnPlateau` (``mode='max'`` by default, as timm) over
      the warmup, counted in epochs. Call ``update(metric)`` once per epoch *after* the warmup: timm ignores
      the metric while ``epoch <= warmup_t`` (and train.py never calls ``step(0)``, which sets ``warmup_lr_init``).
    * ``noise_range_t``, ``noise_pct``, ``noise_std``, ``noise_seed`` (and Plateau's ``noise_type``):
      :class:`~mlx_lrsched.noise.Noisy`, the same truncated-normal (or uniform) noise on the same steps, as a
      pure function of ``(noise_seed, t)``. timm draws it from a torch generator, so the values differ while
      the distribution is the same.

    Deliberate differences: cycle boundaries are exact (timm finds the cycle with a float
    ``math.log(x, cycle_mul)``, which puts some restarts one step late, e.g. ``cycle_mul=3, t_initial=1`` at
    ``t = 121``); step 0 is ``_get_lr(0)``, where timm's training loop uses the constructor's rate for the first
    update (they differ for ``TanhLRScheduler`` without warmup, ``1 - 8e-7`` of ``lr``, and for a
    ``MultiStepLRScheduler`` milestone ``<= 1``); the noise values (not their distribution); and, with noise on a
    ``PlateauLRScheduler``, ``lr_min`` bounds the noisy rate instead of the rate before its noise.

    Args:
        name: the timm class name: ``"CosineLRScheduler"``, ``"TanhLRScheduler"``, ``"StepLRScheduler"``,
            ``"MultiStepLRScheduler"``, ``"PolyLRScheduler"``, ``"WSDLRScheduler"`` or ``"PlateauLRScheduler"``,
            or its ``--sched`` name (``"cosine"``, ``"tanh"``, ``"step"``, ``"multistep"``, ``"poly"``, ``"wsd"``,
            ``"plateau"``), with the class's own argument names.
        lr: :math:`\eta \ge 0`, the optimizer's learning rate (timm's base value).
        steps_per_epoch: :math:`E \ge 1`, optimizer updates per epoch; required with ``t_in_epochs=True``
            (and for ``PlateauLRScheduler`` with a warmup or noise), unused otherwise.
        **kwargs: the scheduler's own arguments, as timm names them (``optimizer`` excepted).

    Returns:
        The schedule (a :class:`~mlx_lrsched.ReduceOnPlateau` for ``PlateauLRScheduler``).

    Examples:
        >>> import numpy as np
        >>> s = from_timm("CosineLRScheduler", 0.1, t_initial=4, cycle_limit=2, cycle_decay=0.5, t_in_epochs=False)
        >>> s(np.arange(10)).round(6)
        array([0.1     , 0.085355, 0.05    , 0.014645, 0.05    , 0.042678,
               0.025   , 0.007322, 0.      , 0.      ])
        >>> s = from_timm("MultiStepLRScheduler", 1.0, decay_t=[3], decay_rate=0.5, steps_per_epoch=2)
        >>> s(np.arange(6))  # epoch 2 already decays: timm's milestone 3 acts at t = 2
        array([1. , 1. , 1. , 1. , 0.5, 0.5])

    References:
        timm ``timm/scheduler/*.py`` (Wightman, *PyTorch Image Models*,
        https://github.com/huggingface/pytorch-image-models); Loshchilov & Hutter, *SGDR*,
        https://arxiv.org/abs/1608.03983; Hsueh et al., *Stochastic Gradient Descent with Hyperbolic-Tangent
        Decay*, https://arxiv.org/abs/1806.01593; Zhang & Li, *k-decay*, https://arxiv.org/abs/2004.05909;
        Hu et al., *MiniCPM* (WSD), https://arxiv.org/abs/2404.06395.
    """
    return TRANSLATOR(name, {"lr": lr, **kwargs, "steps_per_epoch": steps_per_epoch})


# ---------------------------------------------------------------------------------------------------------------------
# Argument checks, in timm's names
# ---------------------------------------------------------------------------------------------------------------------


def _refuse(who: str, name: str, value: Any, allowed: str) -> ValueError:
    return ValueError(_check.shorten(f"{who}: {name} must be {allowed}, got {_check.preview(value)}", 300))


def _whole(who: str, name: str, value: Any, low: float = 0, what: str = "steps") -> int:
    """An ``int`` or a float with a whole value (timm's counts are often computed in floats), at least ``low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        shown = _check.preview(value)
        raise TypeError(f"{who}: {name} must be a whole number of {what}, got {type(value).__name__} {shown}")
    if isinstance(value, numbers.Integral):
        number = int(value)
    elif math.isfinite(float(value)) and float(value).is_integer():
        number = int(float(value))
    else:
        raise _refuse(who, name, value, f"a whole number of {what} (timm's schedule moves on whole steps)")
    if number < low:
        raise _refuse(who, name, value, f"a whole number of {what} >= {low:g}")
    return number


def _cycle_mul(who: str, value: Any) -> float:
    cycle_mul = _check.real(who, "cycle_mul", value, low=1.0, high=2.0**31 - 1)
    if rational(cycle_mul).denominator > MAX_DENOMINATOR:  # Restarts would take the float's exact value
        raise _refuse(
            who,
            "cycle_mul",
            value,
            "a ratio of integers with a denominator of at most 2**20 (cycles are exact); round it",
        )
    return cycle_mul


def _noise_range(who: str, value: Any) -> tuple[int, int | None]:
    """timm's ``noise_range_t``: ``a`` is ``t >= a``, ``(a, b)`` is ``a <= t < b``; as whole steps."""

    def first_step(bound: Any, name: str) -> int:
        number = _check.real(who, name, bound)
        return min(max(math.ceil(number), 0), MAX_STEP + 1)

    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise _refuse(who, "noise_range_t", value, "a step or a list of two steps (start, end)")
        return first_step(value[0], "noise_range_t[0]"), first_step(value[1], "noise_range_t[1]")
    return first_step(value, "noise_range_t"), None


# ---------------------------------------------------------------------------------------------------------------------
# The pieces every scheduler shares: cycles, warmup, noise, epochs
# ---------------------------------------------------------------------------------------------------------------------


def _cycles(
    who: str,
    lr: float,
    t_initial: Any,
    lr_min: Any,
    cycle_mul: Any,
    cycle_decay: Any,
    cycle_limit: Any,
    **curve: Any,
) -> Schedule:
    """The cycles of cosine, tanh and poly: ``Restarts`` in timm's terms (``lr_min`` once ``cycle_limit`` ran out)."""
    t_initial = _whole(who, "t_initial", t_initial, low=1)
    lr_min = checked_rate(who, "lr_min", lr_min)
    cycle_mul = _cycle_mul(who, cycle_mul)
    cycle_decay = _check.real(who, "cycle_decay", cycle_decay)
    if not 0.0 < cycle_decay <= 1.0:
        raise _refuse(who, "cycle_decay", cycle_decay, "in (0, 1] (restarts that grow or vanish are not supported)")
    cycle_limit = _whole(who, "cycle_limit", cycle_limit, low=-math.inf, what="cycles")
    if cycle_limit <= 0:  # timm: i < cycle_limit never holds
        return Constant(lr_min)
    try:
        return Restarts(
            lr,
            t_initial,
            t_mult=cycle_mul,
            m_mul=cycle_decay,
            end_lr=lr_min,
            cycle_limit=cycle_limit if cycle_limit <= MAX_STEP else None,
            **curve,
        )
    except ValueError as error:  # a rule between fields, e.g. too many cycles of a non-integer cycle_mul
        message = f"{who}: {error} (t_mult is cycle_mul, first_period_steps t_initial)"
        raise ValueError(_check.shorten(message, 300)) from None


def _warmup(
    who: str, schedule: Schedule, warmup_t: Any, warmup_lr_init: Any, warmup_prefix: Any, peak_lr: float | None
) -> Schedule:
    """timm's linear warmup from ``warmup_lr_init``: before the schedule (prefix) or over its first steps."""
    warmup_t = _whole(who, "warmup_t", warmup_t)
    warmup_lr_init = checked_rate(who, "warmup_lr_init", warmup_lr_init)
    warmup_prefix = _check.flag(who, "warmup_prefix", warmup_prefix)
    if warmup_t == 0:
        return schedule
    return Warmup(schedule, warmup_t, init_lr=warmup_lr_init, overlay=not warmup_prefix, peak_lr=peak_lr)


def _noise(
    who: str,
    schedule: Schedule,
    noise_range_t: Any,
    noise_pct: Any,
    noise_std: Any,
    noise_seed: Any,
    noise_type: Any = "normal",
    first: int = 0,
) -> Schedule:
    """timm's ``_add_noise``: ``lr * (1 + noise)`` on the steps of ``noise_range_t`` (from ``first`` on)."""
    pct = _check.real(who, "noise_pct", noise_pct)
    if not 0.0 < pct < 1.0:
        raise _refuse(who, "noise_pct", noise_pct, "in (0, 1) (a noise of 100% or more can stop or reverse training)")
    std = _check.real(who, "noise_std", noise_std, low=0.0, high=1e6, low_open=True)
    seed = 42 if noise_seed is None else _check.integer(who, "noise_seed", noise_seed)
    if noise_type not in ("normal", "uniform"):
        raise _refuse(who, "noise_type", noise_type, "'normal' or 'uniform'")
    if noise_range_t is None:
        return schedule
    start, end = _noise_range(who, noise_range_t)
    start = max(start, first)
    if start > MAX_STEP or (end is not None and end <= start):  # timm never draws noise there
        return schedule
    end = None if end is not None and end > MAX_STEP else end
    return Noisy(schedule, pct, std, noise_type, seed, start, end)


def _epochs(who: str, schedule: Schedule, t_in_epochs: Any, steps_per_epoch: Any) -> Schedule:
    """timm's ``t``: the update count (``t_in_epochs=False``), or the epoch, ``k // steps_per_epoch``."""
    if steps_per_epoch is not None:
        steps_per_epoch = _check.integer(who, "steps_per_epoch", steps_per_epoch, low=1)
    if not _check.flag(who, "t_in_epochs", t_in_epochs):
        return schedule
    if steps_per_epoch is None:
        raise ValueError(
            f"{who}: t_in_epochs=True (timm's default) counts epochs: give steps_per_epoch, the optimizer updates "
            "per epoch (or pass t_in_epochs=False to count updates)"
        )
    return schedule if steps_per_epoch == 1 else PerEpoch(schedule, steps_per_epoch)


def _finish(
    who: str,
    schedule: Schedule,
    t_in_epochs: Any,
    steps_per_epoch: Any,
    noise_range_t: Any,
    noise_pct: Any,
    noise_std: Any,
    noise_seed: Any,
    initialize: Any,
) -> Schedule:
    _check.flag(who, "initialize", initialize)  # where timm reads the base value from: the values are the same
    noisy = _noise(who, schedule, noise_range_t, noise_pct, noise_std, noise_seed)
    return _epochs(who, noisy, t_in_epochs, steps_per_epoch)


# ---------------------------------------------------------------------------------------------------------------------
# Staircases
# ---------------------------------------------------------------------------------------------------------------------


def _staircase(who: str, lr: float, decay_t: Any, decay_rate: Any) -> Schedule:
    """``lr * decay_rate ** (t // decay_t)``, with timm's float ``//`` for a fractional ``decay_t``.

    Python's ``t // d`` is ``floor(t / D)`` for the exact value ``D`` of the float ``d`` while ``t < 2**52 D`` (beyond,
    its own rounding shows), so the ``k``-th drop is at step ``ceil(k D)``. For ``D`` within rounding of ``p / q``,
    drop ``q m + j`` is at ``m p + ceil(j D)`` until ``m q |D - p / q|`` reaches a step (beyond ``t = 2**53 / q``):
    the ``j``-th of ``q`` staircases of period ``p`` steps, and the rate is their product. Drops on the same step
    (``D < 1``) share a factor.
    """
    period = _check.real(who, "decay_t", decay_t, low=0.0, low_open=True)
    rate = _check.real(who, "decay_rate", decay_rate)
    if not 0.0 <= rate <= 1.0:
        raise _refuse(who, "decay_rate", decay_rate, "in [0, 1] (a growing staircase overflows)")
    exact = Fraction(period)
    if rate == 1.0 or lr == 0.0 or exact > MAX_STEP:  # nothing drops at any valid step
        return Constant(lr)
    if rate == 0.0:  # 0 ** 0 is 1: lr until the first drop, then 0
        return Join((Constant(lr), Constant(0.0)), (math.ceil(exact),))
    if exact.denominator == 1:
        return StepDecay(lr, int(exact), rate)
    ratio = exact.limit_denominator(MAX_STEP_DENOMINATOR)
    if float(ratio) != period or ratio.numerator > MAX_STEP:
        raise _refuse(
            who, "decay_t", decay_t, f"whole or a ratio p / q with q <= {MAX_STEP_DENOMINATOR} (2.4, 7.5); round it"
        )
    drops = Counter(math.ceil(j * exact) for j in range(1, ratio.denominator + 1))
    factors: list[Schedule] = []
    for index, (first_drop, count) in enumerate(sorted(drops.items())):
        scale = rate**count
        before = lr if index == 0 else 1.0
        stairs = ExponentialDecay(before * scale, scale, ratio.numerator, staircase=True)
        factors.append(Join((Constant(before), stairs), (first_drop,)))
    return factors[0] if len(factors) == 1 else Product(tuple(factors))


def _milestones(who: str, lr: float, decay_t: Any, decay_rate: Any) -> Schedule:
    """``lr * decay_rate ** bisect_right(decay_t, t + 1)``: milestone ``m`` drops at ``t = max(m - 1, 0)``."""
    milestones = _check.sequence(who, "decay_t", decay_t, "steps")
    values = [_check.real(who, f"decay_t[{i}]", m) for i, m in enumerate(milestones)]
    if values != sorted(values):
        raise _refuse(who, "decay_t", decay_t, "sorted (timm bisects it)")
    rate = _check.real(who, "decay_rate", decay_rate, low=0.0)
    drops = Counter(min(max(math.ceil(m) - 1, 0), MAX_STEP + 1) for m in values)
    drops.pop(MAX_STEP + 1, None)
    if rate == 1.0 or not drops or lr == 0.0:
        return Constant(lr)
    steps = sorted(drops)
    rates = [lr * rate**count for count in itertools.accumulate(drops[step] for step in steps)]
    if max(rates) > _check.FLOAT32_MAX:
        raise _refuse(who, "decay_rate", decay_rate, "small enough that every rate fits in float32")
    if 0.0 < rate < 1.0 and set(drops.values()) == {1} and steps[0] > 0:
        return MultiStepDecay(lr, tuple(steps), rate)
    if steps[0] == 0:
        return Join(tuple(Constant(value) for value in rates), tuple(steps[1:]))
    return Join((Constant(lr), *(Constant(value) for value in rates)), tuple(steps))


# ---------------------------------------------------------------------------------------------------------------------
# The schedulers: each builder's parameters are timm's (timm 1.0.31 timm/scheduler/*.py), defaults included
# ---------------------------------------------------------------------------------------------------------------------


@TRANSLATOR.register("CosineLRScheduler", "cosine")
def cosine_lr_scheduler(
    lr: float,
    t_initial: int,
    lr_min: float = 0.0,
    cycle_mul: float = 1.0,
    cycle_decay: float = 1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = False,
    t_in_epochs: bool = True,
    noise_range_t: Any = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    k_decay: float = 1.0,
    initialize: bool = True,
    steps_per_epoch: int | None = None,
) -> Schedule:
    who = owner("from_timm", "CosineLRScheduler")
    lr = checked_rate(who, "lr", lr)
    k_decay = _check.real(who, "k_decay", k_decay, low=0.0, high=1e3, low_open=True)
    cycles = _cycles(who, lr, t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, shape="cos", k_decay=k_decay)
    schedule = _warmup(who, cycles, warmup_t, warmup_lr_init, warmup_prefix, peak_lr=lr)
    return _finish(
        who, schedule, t_in_epochs, steps_per_epoch, noise_range_t, noise_pct, noise_std, noise_seed, initialize
    )


@TRANSLATOR.register("TanhLRScheduler", "tanh")
def tanh_lr_scheduler(
    lr: float,
    t_initial: int,
    lb: float = -7.0,
    ub: float = 3.0,
    lr_min: float = 0.0,
    cycle_mul: float = 1.0,
    cycle_decay: float = 1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = False,
    t_in_epochs: bool = True,
    noise_range_t: Any = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    initialize: bool = True,
    steps_per_epoch: int | None = None,
) -> Schedule:
    who = owner("from_timm", "TanhLRScheduler")
    lr = checked_rate(who, "lr", lr)
    _whole(who, "cycle_limit", cycle_limit, what="cycles")  # timm asserts cycle_limit >= 0 here
    lb = _check.real(who, "lb", lb, low=-TANH_BOUND, high=TANH_BOUND)
    ub = _check.real(who, "ub", ub, low=-TANH_BOUND, high=TANH_BOUND)
    if lb >= ub:
        raise ValueError(f"{who}: lb must be below ub, got lb={lb!r}, ub={ub!r}")
    cycles = _cycles(who, lr, t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, shape="tanh", lb=lb, ub=ub)
    # timm: the warmup reaches lr before a prefix, else the cycles' own value at warmup_t (peak_lr=None)
    prefix = _check.flag(who, "warmup_prefix", warmup_prefix)
    schedule = _warmup(who, cycles, warmup_t, warmup_lr_init, prefix, peak_lr=lr if prefix else None)
    return _finish(
        who, schedule, t_in_epochs, steps_per_epoch, noise_range_t, noise_pct, noise_std, noise_seed, initialize
    )


@TRANSLATOR.register("PolyLRScheduler", "poly")
def poly_lr_scheduler(
    lr: float,
    t_initial: int,
    power: float = 0.5,
    lr_min: float = 0.0,
    cycle_mul: float = 1.0,
    cycle_decay: float = 1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = False,
    t_in_epochs: bool = True,
    noise_range_t: Any = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    k_decay: float = 1.0,
    initialize: bool = True,
    steps_per_epoch: int | None = None,
) -> Schedule:
    who = owner("from_timm", "PolyLRScheduler")
    lr = checked_rate(who, "lr", lr)
    power = _check.real(who, "power", power, low=0.0, high=1e3, low_open=True)
    k_decay = _check.real(who, "k_decay", k_decay, low=0.0, high=1e3, low_open=True)
    curve = {"shape": "linear", "exponent": power, "k_decay": k_decay}  # (1 - x**k) ** power
    cycles = _cycles(who, lr, t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, **curve)
    schedule = _warmup(who, cycles, warmup_t, warmup_lr_init, warmup_prefix, peak_lr=lr)
    return _finish(
        who, schedule, t_in_epochs, steps_per_epoch, noise_range_t, noise_pct, noise_std, noise_seed, initialize
    )


@TRANSLATOR.register("StepLRScheduler", "step")
def step_lr_scheduler(
    lr: float,
    decay_t: float,
    decay_rate: float = 1.0,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = True,
    t_in_epochs: bool = True,
    noise_range_t: Any = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    initialize: bool = True,
    steps_per_epoch: int | None = None,
) -> Schedule:
    who = owner("from_timm", "StepLRScheduler")
    lr = checked_rate(who, "lr", lr)
    stairs = _staircase(who, lr, decay_t, decay_rate)
    schedule = _warmup(who, stairs, warmup_t, warmup_lr_init, warmup_prefix, peak_lr=lr)
    return _finish(
        who, schedule, t_in_epochs, steps_per_epoch, noise_range_t, noise_pct, noise_std, noise_seed, initialize
    )


@TRANSLATOR.register("MultiStepLRScheduler", "multistep")
def multi_step_lr_scheduler(
    lr: float,
    decay_t: list[int],
    decay_rate: float = 1.0,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = True,
    t_in_epochs: bool = True,
    noise_range_t: Any = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    initialize: bool = True,
    steps_per_epoch: int | None = None,
) -> Schedule:
    who = owner("from_timm", "MultiStepLRScheduler")
    lr = checked_rate(who, "lr", lr)
    stairs = _milestones(who, lr, decay_t, decay_rate)
    schedule = _warmup(who, stairs, warmup_t, warmup_lr_init, warmup_prefix, peak_lr=lr)
    return _finish(
        who, schedule, t_in_epochs, steps_per_epoch, noise_range_t, noise_pct, noise_std, noise_seed, initialize
    )


_WSD_DECAY_SHAPES = {"linear": "linear", "1-sqrt": "sqrt", "cosine": "cos", "power": "linear"}


@TRANSLATOR.register("WSDLRScheduler", "wsd")
def wsd_lr_scheduler(
    lr: float,
    t_initial: int,
    decay_t: int,
    lr_min: float = 0.0,
    stable_fn: str = "constant",
    stable_timescale: float | None = None,
    stable_power: float = 0.5,
    decay_fn: str | Callable[[float], float] = "1-sqrt",
    decay_power: float = 0.5,
    decay_ratio: float = 0.1,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    t_in_epochs: bool = True,
    noise_range_t: Any = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    initialize: bool = True,
    steps_per_epoch: int | None = None,
) -> Schedule:
    who = owner("from_timm", "WSDLRScheduler")
    lr = checked_rate(who, "lr", lr)
    # timm's own checks first (timm 1.0.31 wsd_lr.py:113-135), then what has no composition here
    t_initial = _whole(who, "t_initial", t_initial, low=1)
    decay_t = _whole(who, "decay_t", decay_t, low=1)
    if decay_t > t_initial:
        raise _refuse(who, "decay_t", decay_t, f"in (0, t_initial] w/ t_initial={t_initial}")
    lr_min = checked_rate(who, "lr_min", lr_min)
    if stable_fn not in ("constant", "rsqrt", "power"):
        raise _refuse(who, "stable_fn", stable_fn, "one of 'constant', 'rsqrt', 'power'")
    if not callable(decay_fn) and decay_fn not in ("linear", "1-sqrt", "cosine", "power", "exp"):
        raise _refuse(who, "decay_fn", decay_fn, "one of 'linear', '1-sqrt', 'cosine', 'power', 'exp' or a callable")
    _check.real(who, "decay_ratio", decay_ratio, low=0.0, high=1.0, low_open=True, high_open=True)
    decay_power = _check.real(who, "decay_power", decay_power, low=0.0, high=1e3, low_open=True)
    stable_power = _check.real(who, "stable_power", stable_power, low=0.0, low_open=True)
    warmup_t = _whole(who, "warmup_t", warmup_t)
    if callable(decay_fn) or decay_fn == "exp":
        why = "a callable" if callable(decay_fn) else "'exp' ((r**frac - r) / (1 - r))"
        raise ValueError(
            f"{who}: decay_fn={why} has no exact composition here; use 'linear', '1-sqrt', 'cosine' or 'power', "
            "or compose Warmup, Join and Ramp yourself"
        )
    shape = _WSD_DECAY_SHAPES[decay_fn]
    k_decay = decay_power if decay_fn == "power" else 1.0  # 1 - frac ** decay_power
    stable_begin = t_initial - decay_t

    def decay_phase(start: float, end: float) -> Schedule:
        ramp = Ramp(start, end, decay_t, shape, k_decay=k_decay)
        return ramp if stable_begin == 0 else Join((Constant(start), ramp), (stable_begin,))

    if stable_fn == "constant":
        main = decay_phase(max(lr, lr_min), lr_min)
    else:
        timescale = warmup_t if stable_timescale is None else _check.real(who, "stable_timescale", stable_timescale)
        if timescale <= 0:
            raise ValueError(
                f"{who}: stable_fn={stable_fn} requires a positive stable_timescale, it defaults to warmup_t "
                f"({warmup_t}), set it explicitly when there is no warmup"
            )
        power = 0.5 if stable_fn == "rsqrt" else stable_power
        if lr_min != 0.0 or power not in (0.5, 1.0) or not float(timescale).is_integer():
            raise ValueError(
                f"{who}: a decaying stable phase ((1 + t / stable_timescale) ** -power) is supported with lr_min=0, "
                f"power 0.5 or 1 and a whole stable_timescale; got lr_min={lr_min!r}, power={power!r}, "
                f"stable_timescale={timescale!r}"
            )
        whole = int(timescale)
        stable = InverseSqrt(lr, 0, timescale=whole) if power == 0.5 else InverseTimeDecay(lr, 1.0, whole)
        main = Product((stable, decay_phase(1.0, 0.0)))
    schedule = _warmup(who, main, warmup_t, warmup_lr_init, True, peak_lr=lr)
    return _finish(
        who, schedule, t_in_epochs, steps_per_epoch, noise_range_t, noise_pct, noise_std, noise_seed, initialize
    )


@TRANSLATOR.register("PlateauLRScheduler", "plateau")
def plateau_lr_scheduler(
    lr: float,
    decay_rate: float = 0.1,
    patience_t: int = 10,
    threshold: float = 1e-4,
    cooldown_t: int = 0,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    lr_min: float = 0.0,
    mode: str = "max",
    noise_range_t: Any = None,
    noise_type: str = "normal",
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int | None = None,
    initialize: bool = True,
    steps_per_epoch: int | None = None,
) -> Schedule:
    who = owner("from_timm", "PlateauLRScheduler")
    lr = checked_rate(who, "lr", lr)
    _check.flag(who, "initialize", initialize)
    factor = _check.real(who, "decay_rate", decay_rate, low=0.0, high=1.0, low_open=True, high_open=True)
    patience = _check.integer(who, "patience_t", patience_t)
    cooldown = _check.integer(who, "cooldown_t", cooldown_t)
    threshold = _check.real(who, "threshold", threshold, low=0.0, high=1.0, high_open=True)
    mode = _check.choice(who, "mode", mode, ("min", "max"))
    lr_min = checked_rate(who, "lr_min", lr_min)
    warmup_t = _whole(who, "warmup_t", warmup_t)
    warmup_lr_init = checked_rate(who, "warmup_lr_init", warmup_lr_init)
    # timm's step(epoch) warms up while epoch <= warmup_t and only adds noise after that
    base: Schedule = Linear(warmup_lr_init, lr, warmup_t) if warmup_t else Constant(lr)
    base = _noise(who, base, noise_range_t, noise_pct, noise_std, noise_seed, noise_type, first=warmup_t + 1)
    if base != Constant(lr):  # the rate moves from epoch to epoch: epochs must be counted in updates
        base = _epochs(who, base, True, steps_per_epoch)
    return ReduceOnPlateau(
        base, factor=factor, patience=patience, mode=mode, threshold=threshold, cooldown=cooldown, min_lr=lr_min
    )
