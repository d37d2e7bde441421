"""``from_hf``: Hugging Face's ``transformers.get_scheduler`` schedules (transformers 5.24.0) as mlx-lrsched schedules.

Each builder below takes what ``get_scheduler(name, optimizer, num_warmup_steps, num_training_steps,
scheduler_specific_kwargs)`` passes on for ``name``: ``lr`` (the optimizer's learning rate), the two step counts, and
the keyword arguments of the schedule function (``transformers/optimization.py``) with its defaults written out. It
returns the schedule whose step ``k`` is the rate after ``k`` scheduler steps. This module never imports transformers.
"""

from __future__ import annotations

import warnings
from typing import Any

from .. import _check
from .._shapes import rational
from ..base import Constant, Schedule
from ..compose import Join, Ramp, Shift
from ..decay import CosineDecay, PolynomialDecay
from ..restarts import CosineRestarts
from ..warmup import InverseSqrt
from ._translator import Translator, checked_rate, owner, unsupported
from .pytorch import plateau, resumed  # Hugging Face's schedulers are LambdaLRs

__all__ = ["TRANSLATOR", "from_hf"]

TRANSLATOR = Translator("Hugging Face", "from_hf")


def from_hf(
    name: str,
    /,
    lr: float,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    **scheduler_specific_kwargs: Any,
) -> Schedule:
    r"""The schedule that ``transformers.get_scheduler(name, ...)`` runs: ``lr(k)`` = its rate after ``k`` steps.

    .. math:: \eta_k = \eta \cdot \lambda_{\text{name}}(k), \qquad k = 0, 1, \dots

    ``name`` is a ``get_scheduler`` name (a ``SchedulerType`` or its string), ``lr`` the optimizer's learning rate,
    ``num_warmup_steps``, ``num_training_steps`` and ``scheduler_specific_kwargs`` what ``get_scheduler`` takes (the
    Trainer's ``lr_scheduler_kwargs``), with the schedule functions' defaults. Step ``k`` (the optimizer updates
    already applied) gives the rate after ``k`` scheduler steps: tested against transformers 5.24.0 stepped for
    real over whole runs, to 1e-6 relative on the NumPy backend and 4e-6 in MLX float32. ``get_scheduler``'s checks
    are kept (``num_warmup_steps`` is required by every name but ``constant``, ``reduce_lr_on_plateau`` and
    ``greedy``; ``num_training_steps`` by the decays). What each name becomes, after a linear warmup from 0 over
    ``num_warmup_steps`` steps (:class:`Ramp`):

    - ``linear``, ``polynomial`` (``lr_end``, ``power``): :class:`Ramp`, :class:`PolynomialDecay` to ``lr_end``;
      ``cosine``, ``cosine_with_min_lr`` (``min_lr`` or ``min_lr_rate``): :class:`CosineDecay` with ``num_cycles``
      waves over ``num_training_steps - num_warmup_steps`` steps; ``cosine_warmup_with_min_lr``: the same with
      Hugging Face's ``+1`` (the warmup reaches ``lr`` at step ``num_warmup_steps - 1``, from ``warmup_lr_rate *
      lr`` if given, and the cosine's progress is ``(k - W + 1) / (T - W)``); ``cosine_with_restarts``:
      :class:`CosineRestarts` with ``num_cycles`` cycles of ``(T - W) / num_cycles`` steps (possibly fractional),
      then 0.
    - ``constant``, ``constant_with_warmup``: :class:`Constant` (``get_scheduler`` passes these no other
      argument, so the others are refused); ``inverse_sqrt``: :class:`InverseSqrt` (``timescale`` defaults to
      ``num_warmup_steps or 10_000``); ``warmup_stable_decay``: warmup (``warmup_type`` ``"linear"``, ``"cosine"``,
      ``"1-sqrt"``: ``Ramp(..., "linear", exponent=0.5)``) from ``min_lr_ratio * lr``, ``num_stable_steps`` at ``lr``
      (or ``num_training_steps - num_warmup_steps - num_decay_steps``), then the decay (``decay_type``; ``"1-sqrt"``
      is ``Ramp(..., "sqrt")``, ``"cosine"`` takes ``num_cycles``) to ``min_lr_ratio * lr``, held.
    - ``reduce_lr_on_plateau``: :class:`ReduceOnPlateau` of ``lr`` with PyTorch's ``ReduceLROnPlateau`` arguments and
      defaults (call ``update(metric)`` where Hugging Face calls ``step(metric)``).
    - ``last_epoch`` (resuming): ``Shift(schedule, last_epoch + 1)``, since ``LambdaLR`` computes the resumed rate
      from ``last_epoch`` alone. Our schedules read the optimizer's own step, which a restored ``optimizer.state``
      carries: translate without ``last_epoch`` to resume.

    Deliberate differences: past ``num_training_steps`` a schedule holds its last value, where Hugging Face's
    ``cosine``, ``cosine_with_min_lr`` and ``cosine_warmup_with_min_lr`` follow their cosine back up (with
    ``num_training_steps <= num_warmup_steps`` its decay is one step long, and the waves start right after the
    warmup). Refused, with the reason: ``greedy`` (``GreedyLR`` raises and lowers the rate by the metric, clamped,
    with a smoothing window and resets: no schedule here holds that state), negative counts, rates and
    ``num_cycles``, ``polynomial`` with ``num_training_steps == num_warmup_steps`` (Hugging Face divides by zero),
    ``cosine_with_restarts`` cycles shorter than one step or a ``num_cycles`` that is no ratio of small integers (the
    cycles' length must be exact).

    Args:
        name: the ``get_scheduler`` name, e.g. ``"cosine"`` (unknown names get a suggestion).
        lr: the optimizer's learning rate (``optimizer.defaults["lr"]``).
        num_warmup_steps: the warmup's steps (``None``: not given).
        num_training_steps: the run's steps (``None``: not given).
        **scheduler_specific_kwargs: the schedule function's own arguments (``num_cycles``, ``lr_end``, ...).

    Returns:
        The equivalent :class:`~mlx_lrsched.Schedule`: NumPy float64 for NumPy steps, MLX float32 for MLX steps.

    Examples:
        >>> import numpy as np
        >>> s = from_hf("cosine", lr=1.0, num_warmup_steps=2, num_training_steps=5)
        >>> s(np.arange(8)).round(6)  # Hugging Face rises again after step 5: we hold
        array([0.  , 0.5 , 1.  , 0.75, 0.25, 0.  , 0.  , 0.  ])
        >>> from_hf("warmup_stable_decay", lr=1.0, num_warmup_steps=2, num_decay_steps=2, num_stable_steps=1,
        ...         decay_type="1-sqrt", min_lr_ratio=0.1)(np.arange(6)).round(6)
        array([0.1     , 0.55    , 1.      , 1.      , 0.363604, 0.1     ])

    References:
        transformers 5.24.0, ``transformers/optimization.py``,
        https://huggingface.co/docs/transformers/main_classes/optimizer_schedules
    """
    name = getattr(name, "value", name)  # a SchedulerType member
    steps = {"num_warmup_steps": num_warmup_steps, "num_training_steps": num_training_steps}
    return TRANSLATOR(name, {"lr": lr, **steps, **scheduler_specific_kwargs})


# ---------------------------------------------------------------------------------------------------------------------
# get_scheduler's checks and the shared pieces
# ---------------------------------------------------------------------------------------------------------------------


def _who(name: str) -> str:
    return owner("from_hf", name)


def _count(who: str, name: str, value: Any, required_by: str | None) -> int | None:
    """A step count; ``required_by`` names the schedule that needs it (``get_scheduler``'s check)."""
    if value is None:
        if required_by is not None:
            raise ValueError(f"{who}: {required_by} requires {name} (an integer >= 0), got None")
        return None
    return _check.integer(who, name, value)


def _warmup_steps(who: str, name: str, value: Any) -> int:
    steps = _count(who, "num_warmup_steps", value, name)
    assert steps is not None
    return steps


def _training_steps(who: str, name: str, value: Any) -> int:
    steps = _count(who, "num_training_steps", value, name)
    assert steps is not None
    return steps


def _cycles(who: str, value: Any) -> float:
    return _check.real(who, "num_cycles", value, low=0.0, high=2.0**20)


def _phases(phases: list[tuple[int, Schedule]], last: Schedule) -> Schedule:
    """Phases of ``(steps, schedule)``, then ``last`` for ever: a :class:`Join` without the empty phases."""
    schedules: list[Schedule] = []
    starts: list[int] = []
    begin = 0
    for steps, schedule in phases:
        if steps > 0:
            schedules.append(schedule)
            starts.append(begin)
            begin += steps
    if not schedules:
        return last
    return Join((*schedules, last), (*starts[1:], begin))


def _warmup(lr: float, steps: int) -> tuple[int, Schedule]:
    """Hugging Face's warmup: ``k / max(1, W)`` of the rate while ``k < W``."""
    return steps, Ramp(0.0, lr, steps, "linear")


def _min_rate(who: str, lr: float, min_lr: Any, min_lr_rate: Any) -> float:
    """``min_lr_rate``, or ``min_lr / lr`` (``optimizer.defaults["lr"]``): exactly one of the two."""
    if min_lr is not None and min_lr_rate is not None:
        raise ValueError(f"{who}: give one of min_lr and min_lr_rate, not both (got {min_lr!r} and {min_lr_rate!r})")
    if min_lr is not None:
        floor = checked_rate(who, "min_lr", min_lr)
        if lr == 0.0:
            raise ValueError(f"{who}: min_lr needs lr > 0 (Hugging Face divides min_lr by lr), got lr=0.0")
        return floor / lr
    if min_lr_rate is None:
        raise ValueError(f"{who}: one of min_lr and min_lr_rate is required (Hugging Face has no default)")
    return checked_rate(who, "min_lr_rate", min_lr_rate)


def _cosine(who: str, lr: float, end: float, steps: int, num_cycles: float) -> Schedule:
    """``end + (lr - end) * (1 + cos(2 pi c k / steps)) / 2`` for ``k <= steps``, held after."""
    if num_cycles == 0.0 or lr == end:  # cos(0) = 1: no decay
        return Constant(lr)
    try:
        return CosineDecay(lr, steps, end_lr=end, num_cycles=num_cycles)
    except ValueError as error:  # the waves' phase must be exact: CosineDecay's limits, in its words
        message = f"{who}: num_cycles={num_cycles!r} has no exact translation: {error}"
        raise ValueError(_check.shorten(message, 300)) from error


# ---------------------------------------------------------------------------------------------------------------------
# The names of get_scheduler
# ---------------------------------------------------------------------------------------------------------------------


@TRANSLATOR.register("constant")
def constant(lr: float, num_warmup_steps: int | None = None, num_training_steps: int | None = None) -> Schedule:
    who = _who("constant")
    for name, value in (("num_warmup_steps", num_warmup_steps), ("num_training_steps", num_training_steps)):
        _count(who, name, value, None)  # get_scheduler calls get_constant_schedule(optimizer): both unused
    return Constant(checked_rate(who, "lr", lr))


@TRANSLATOR.register("constant_with_warmup")
def constant_with_warmup(
    lr: float, num_warmup_steps: int | None = None, num_training_steps: int | None = None
) -> Schedule:
    who = _who("constant_with_warmup")
    lr = checked_rate(who, "lr", lr)
    warmup = _warmup_steps(who, "constant_with_warmup", num_warmup_steps)
    _count(who, "num_training_steps", num_training_steps, None)  # not used by Hugging Face either
    return _phases([_warmup(lr, warmup)], Constant(lr))


@TRANSLATOR.register("linear")
def linear(
    lr: float, num_warmup_steps: int | None = None, num_training_steps: int | None = None, last_epoch: int = -1
) -> Schedule:
    who = _who("linear")
    lr = checked_rate(who, "lr", lr)
    warmup = _warmup_steps(who, "linear", num_warmup_steps)
    total = _training_steps(who, "linear", num_training_steps)
    # max(0, (T - k) / max(1, T - W)): down to 0 at T, and 0 from the warmup's end on when T <= W
    decay = total - warmup
    phases = [_warmup(lr, warmup)] + ([(decay, Ramp(lr, 0.0, decay, "linear"))] if decay > 0 else [])
    schedule = _phases(phases, Constant(0.0))
    return resumed(who, last_epoch, schedule)


@TRANSLATOR.register("cosine")
def cosine(
    lr: float,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
) -> Schedule:
    who = _who("cosine")
    lr = checked_rate(who, "lr", lr)
    warmup = _warmup_steps(who, "cosine", num_warmup_steps)
    decay = max(1, _training_steps(who, "cosine", num_training_steps) - warmup)
    schedule = _phases([_warmup(lr, warmup)], _cosine(who, lr, 0.0, decay, _cycles(who, num_cycles)))
    return resumed(who, last_epoch, schedule)


@TRANSLATOR.register("cosine_with_restarts")
def cosine_with_restarts(
    lr: float,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    num_cycles: int = 1,
    last_epoch: int = -1,
) -> Schedule:
    who = _who("cosine_with_restarts")
    lr = checked_rate(who, "lr", lr)
    warmup = _warmup_steps(who, "cosine_with_restarts", num_warmup_steps)
    decay = max(1, _training_steps(who, "cosine_with_restarts", num_training_steps) - warmup)
    cycles = _cycles(who, num_cycles)
    if cycles > decay:
        raise ValueError(
            f"{who}: num_cycles must be at most num_training_steps - num_warmup_steps ({decay}), got {cycles!r}: "
            "cycles shorter than one step"
        )
    # cos(pi * ((c * p) % 1)) for progress p < 1: cycles of decay / c steps (a fraction when c does not divide it),
    # from the ratio c stands for (1.3 is 13 / 10), whose nearest float Restarts reads back as that ratio
    ratio = rational(cycles)
    if ratio.denominator > 2**20:
        raise ValueError(
            f"{who}: num_cycles must be a ratio of small integers (such as 3, 2.5 or 1.3) for cycles of an exact "
            f"length, got {cycles!r}"
        )
    restarts = Constant(lr) if cycles == 0.0 else CosineRestarts(lr, float(decay / ratio))
    schedule = _phases([_warmup(lr, warmup), (decay, restarts)], Constant(0.0))
    return resumed(who, last_epoch, schedule)


@TRANSLATOR.register("polynomial")
def polynomial(
    lr: float,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    lr_end: float = 1e-7,
    power: float = 1.0,
    last_epoch: int = -1,
) -> Schedule:
    who = _who("polynomial")
    lr = checked_rate(who, "lr", lr)
    warmup = _warmup_steps(who, "polynomial", num_warmup_steps)
    total = _training_steps(who, "polynomial", num_training_steps)
    lr_end = checked_rate(who, "lr_end", lr_end)
    if not lr > lr_end:
        raise ValueError(f"{who}: lr_end must be smaller than lr ({lr!r}), got {lr_end!r}")
    power = _check.real(who, "power", power, low=0.0, high=1e3, low_open=True)
    if total == warmup:
        raise ValueError(
            f"{who}: num_training_steps must differ from num_warmup_steps ({warmup}): Hugging Face divides by "
            "their difference at that step"
        )
    decay = total - warmup
    # (lr - lr_end) * (1 - (k - W) / (T - W)) ** power + lr_end up to T, lr_end after (from the warmup's end on
    # when T < W)
    phases = [_warmup(lr, warmup), (decay, PolynomialDecay(lr, lr_end, max(decay, 1), power))]
    return resumed(who, last_epoch, _phases(phases, Constant(lr_end)))


@TRANSLATOR.register("inverse_sqrt")
def inverse_sqrt(
    lr: float,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    timescale: int | None = None,
    last_epoch: int = -1,
) -> Schedule:
    who = _who("inverse_sqrt")
    lr = checked_rate(who, "lr", lr)
    warmup = _warmup_steps(who, "inverse_sqrt", num_warmup_steps)
    _count(who, "num_training_steps", num_training_steps, None)  # not used by Hugging Face either
    scale: Any = (warmup or 10_000) if timescale is None else timescale
    if isinstance(scale, float) and scale.is_integer():
        scale = int(scale)
    scale = _check.integer(who, "timescale", scale, low=1)
    # 1 / sqrt((k + timescale - W) / timescale) after the warmup
    return resumed(who, last_epoch, InverseSqrt(lr, warmup, timescale=scale))


@TRANSLATOR.register("reduce_lr_on_plateau")
def reduce_lr_on_plateau(
    lr: float,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    mode: str = "min",
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_lr: float = 0,
    eps: float = 1e-8,
) -> Schedule:
    who = _who("reduce_lr_on_plateau")
    # get_scheduler builds torch's ReduceLROnPlateau(optimizer, **scheduler_specific_kwargs), without the step counts
    for name, value in (("num_warmup_steps", num_warmup_steps), ("num_training_steps", num_training_steps)):
        _count(who, name, value, None)
    return plateau(who, lr, mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps)


@TRANSLATOR.register("cosine_with_min_lr")
def cosine_with_min_lr(
    lr: float,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
) -> Schedule:
    who = _who("cosine_with_min_lr")
    lr = checked_rate(who, "lr", lr)
    warmup = _warmup_steps(who, "cosine_with_min_lr", num_warmup_steps)
    decay = max(1, _training_steps(who, "cosine_with_min_lr", num_training_steps) - warmup)
    end = lr * _min_rate(who, lr, min_lr, min_lr_rate)
    schedule = _phases([_warmup(lr, warmup)], _cosine(who, lr, end, decay, _cycles(who, num_cycles)))
    return resumed(who, last_epoch, schedule)


@TRANSLATOR.register("cosine_warmup_with_min_lr")
def cosine_warmup_with_min_lr(
    lr: float,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
    warmup_lr_rate: float | None = None,
) -> Schedule:
    who = _who("cosine_warmup_with_min_lr")
    lr = checked_rate(who, "lr", lr)
    warmup = _warmup_steps(who, "cosine_warmup_with_min_lr", num_warmup_steps)
    decay = max(1, _training_steps(who, "cosine_warmup_with_min_lr", num_training_steps) - warmup)
    end = lr * _min_rate(who, lr, min_lr, min_lr_rate)
    if warmup_lr_rate is None:  # (k + 1) / W: reaches lr at k = W - 1
        ramp = Ramp(0.0, lr, warmup - 1, "linear", lead=1.0) if warmup else Constant(lr)
    else:  # rate + (1 - rate) * k / max(1, W - 1): from rate * lr at k = 0
        start = lr * checked_rate(who, "warmup_lr_rate", warmup_lr_rate)
        ramp = Ramp(start, lr, max(1, warmup - 1), "linear")
    # progress (k - W + 1) / (T - W): the cosine is one step in at the warmup's end
    cycles = _cycles(who, num_cycles)
    if cycles == 0.5:  # the half cosine started one step in is a cosine ramp with a lead of one step
        decay_phase: Schedule = Ramp(lr, end, decay - 1, "cos", lead=1.0)
    else:
        decay_phase = Shift(_cosine(who, lr, end, decay, cycles), 1)
    schedule = _phases([(warmup, ramp)], decay_phase)
    return resumed(who, last_epoch, schedule)


_WSD_TYPES = ("linear", "cosine", "1-sqrt")


@TRANSLATOR.register("warmup_stable_decay")
def warmup_stable_decay(
    lr: float,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    *,
    num_decay_steps: int,
    num_stable_steps: int | None = None,
    warmup_type: str = "linear",
    decay_type: str = "cosine",
    min_lr_ratio: float = 0,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
) -> Schedule:
    who = _who("warmup_stable_decay")
    lr = checked_rate(who, "lr", lr)
    warmup = _warmup_steps(who, "warmup_stable_decay", num_warmup_steps)
    decay = _check.integer(who, "num_decay_steps", num_decay_steps)
    total = _count(who, "num_training_steps", num_training_steps, None)
    stable = _count(who, "num_stable_steps", num_stable_steps, None)
    if total is None and stable is None:
        raise ValueError(f"{who}: give num_training_steps or num_stable_steps (Hugging Face needs one of the two)")
    if total is not None and stable is not None:
        warnings.warn(
            "Both num_training_steps and num_stable_steps are specified. num_stable_steps will be used.", stacklevel=4
        )
    if stable is None:
        assert total is not None
        stable = total - warmup - decay  # negative: the decay is already under way at the warmup's end
    warmup_type = _check.choice(who, "warmup_type", warmup_type, _WSD_TYPES)
    decay_type = _check.choice(who, "decay_type", decay_type, _WSD_TYPES)
    low = lr * checked_rate(who, "min_lr_ratio", min_lr_ratio)
    cycles = _cycles(who, num_cycles)
    # Both phases run between min_lr_ratio * lr and lr: factor * (1 - ratio) + ratio.
    warmup_ramp = {
        "linear": Ramp(low, lr, warmup, "linear"),
        "cosine": Ramp(low, lr, warmup, "cos"),  # (1 - cos(pi p)) / 2 of the way up
        "1-sqrt": Ramp(low, lr, warmup, "linear", exponent=0.5),  # 1 - sqrt(1 - p) of the way up
    }[warmup_type]
    decay_ramp = {
        "linear": Ramp(lr, low, decay, "linear"),
        "cosine": _cosine(who, lr, low, max(decay, 1), cycles),
        "1-sqrt": Ramp(lr, low, decay, "sqrt"),  # 1 - sqrt(p) of the way left
    }[decay_type]
    left = decay + min(stable, 0)  # a negative stable length skips into the decay
    if stable < 0 and left > 0:
        decay_ramp = Shift(decay_ramp, -stable)
    phases = [(warmup, warmup_ramp), (max(stable, 0), Constant(lr)), (left, decay_ramp)]
    return resumed(who, last_epoch, _phases(phases, Constant(low)))


@TRANSLATOR.register("greedy")
def greedy(
    lr: float,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    mode: str = "min",
    factor: float = 0.95,
    patience: int = 10,
    threshold: float = 1e-6,
    threshold_mode: str = "abs",
    cooldown: int = 0,
    warmup: int = 0,
    min_lr: float = 1e-3,
    max_lr: float = 1.0,
    eps: float = 1e-8,
    verbose: bool = False,
    smooth: bool = False,
    window_size: int = 50,
    reset_start: int = 500,
) -> Schedule:
    return unsupported(
        "from_hf",
        "greedy",
        "GreedyLR raises the rate on improvement and lowers it on plateaus, clamped to [min_lr, max_lr], with a "
        "smoothing window and resets; ReduceOnPlateau only lowers it (its state is a count of reductions), and no "
        "schedule here holds GreedyLR's state",
    )
