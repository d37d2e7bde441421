"""``from_torch``: PyTorch's learning-rate schedulers (``torch.optim.lr_scheduler``, PyTorch 2.13.0) as schedules.

Each builder below has the parameters of a PyTorch scheduler's ``__init__`` without ``optimizer``, with PyTorch's
defaults written out, and ``lr``, the optimizer's initial learning rate. It returns the schedule whose step ``k``
is the rate after ``k`` calls of ``scheduler.step()``. This module never imports torch.
"""

from __future__ import annotations

import itertools
import numbers
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from .. import _check
from ..base import Constant, Product, Schedule
from ..compose import Join, Shift
from ..cyclic import CyclicLR
from ..decay import CosineDecay, ExponentialDecay, MultiStepDecay, PolynomialDecay, StepDecay
from ..feedback import ReduceOnPlateau
from ..one_cycle import OneCycle
from ..restarts import CosineRestarts
from ..warmup import Linear
from ._translator import Translator, owner, unsupported

__all__ = ["TRANSLATOR", "from_torch"]

TRANSLATOR = Translator("PyTorch", "from_torch")

FLOAT32_MAX = _check.FLOAT32_MAX


def from_torch(name: str, /, **kwargs: Any) -> Schedule:
    r"""The schedule that PyTorch's ``torch.optim.lr_scheduler.<name>`` runs: ``lr(k)`` = its rate after ``k`` steps.

    .. math:: \eta_k = \text{the rate after } k \text{ calls of } \texttt{scheduler.step()}, \qquad k = 0, 1, \dots

    ``name`` is the PyTorch class and ``kwargs`` its arguments by name, with PyTorch's defaults, without
    ``optimizer``: ``lr`` is the optimizer's initial learning rate (``OneCycleLR`` and ``CyclicLR`` replace it, as
    PyTorch does, and need none). Step ``k`` (the optimizer updates already applied) gives PyTorch's rate after
    ``k`` calls of ``scheduler.step()``: tested against PyTorch 2.13.0 stepped for real over whole runs, to 1e-6
    relative on the NumPy backend and 4e-6 in MLX float32. What each name becomes:

    - ``StepLR``, ``ExponentialLR``: :class:`StepDecay`, :class:`ExponentialDecay` (``gamma > 1`` grows until
      float32's largest value and holds it); ``MultiStepLR``: :class:`MultiStepDecay` (a repeated milestone
      multiplies by ``gamma`` once per entry, milestone 0 applies at step 0); ``ConstantLR``, ``LinearLR``: a
      :class:`Join` of constants, :class:`Linear` (``total_iters=0`` keeps the factor for ever, as PyTorch's
      recursion does); ``PolynomialLR``: :class:`PolynomialDecay`; ``CosineAnnealingLR``: :class:`CosineDecay`;
      ``CosineAnnealingWarmRestarts``: :class:`CosineRestarts`; ``ReduceLROnPlateau``: :class:`ReduceOnPlateau`
      of ``lr`` (call ``update(metric)`` where PyTorch calls ``step(metric)``; metrics are compared in float32).
    - ``CyclicLR``, ``OneCycleLR``: :class:`CyclicLR`, :class:`OneCycle`; with ``cycle_momentum=True``
      (PyTorch's default) the result carries PyTorch's momentum as ``.momentum_schedule``, which
      :func:`~mlx_lrsched.apply_schedule` puts on the optimizer's momentum or ``betas[0]``.
    - ``SequentialLR``: a :class:`Join`: part ``i`` restarts at its own step 0 at ``milestones[i - 1]``, as
      PyTorch's ``step()`` does. ``schedulers`` are ``(name, kwargs)`` pairs, translated here with PyTorch's
      base rates (parts share the one optimizer: give ``lr`` once, to ``SequentialLR``; a ``CyclicLR`` or
      ``OneCycleLR`` part resets the ``initial_lr`` later parts start from, as in PyTorch), or already translated
      schedules, used as they are.
    - ``ChainedScheduler``: the :class:`Product` of its parts' factors. ``schedulers`` are ``(name, kwargs)``
      pairs only, of the classes whose update multiplies the current rate by a factor that does not depend on it
      (``StepLR``, ``MultiStepLR``, ``ConstantLR``, ``LinearLR``, ``ExponentialLR``, ``PolynomialLR``,
      ``CosineAnnealingLR`` with ``eta_min=0``, ``ChainedScheduler``); the others set the rate outright and are
      refused, with the reason.
    - ``last_epoch`` (PyTorch's resume) other than -1: ``Shift(schedule, last_epoch + 1)`` for ``CyclicLR`` and
      ``OneCycleLR`` without momentum, whose resumed rates PyTorch computes from ``last_epoch`` alone; refused for
      the others, whose resumed rates continue from the optimizer's restored lr. Our schedules read the optimizer's
      own step, which a restored ``optimizer.state`` carries: translate without ``last_epoch`` to resume.

    Deliberate differences: past its end a schedule holds its last value, where PyTorch's ``CosineAnnealingLR``
    follows the cosine back up (period ``2 * T_max``) and ``OneCycleLR`` extrapolates at ``total_steps``, then
    raises. Refused with a message that says how to build the same thing: ``LambdaLR``, ``MultiplicativeLR`` and
    a custom ``scale_fn`` (Python functions cannot run in a compiled step), ``CyclicLR`` step sizes that are not
    whole numbers, values PyTorch divides by zero on, ``max_lr < base_lr``, momenta outside ``[0, 1]``,
    per-parameter-group lists (translate each group's values on their own).

    Args:
        name: the PyTorch class, e.g. ``"OneCycleLR"`` (unknown names get a suggestion).
        **kwargs: its arguments by name, as PyTorch takes them, and ``lr``.

    Returns:
        The equivalent :class:`~mlx_lrsched.Schedule`: NumPy float64 for NumPy steps, MLX float32 for MLX steps.

    Examples:
        >>> import numpy as np
        >>> from_torch("StepLR", lr=0.1, step_size=2, gamma=0.5)(np.arange(5))
        array([0.1  , 0.1  , 0.05 , 0.05 , 0.025])
        >>> s = from_torch("SequentialLR", lr=1.0, milestones=[2], schedulers=[
        ...     ("LinearLR", {"start_factor": 0.5, "total_iters": 2}), ("ExponentialLR", {"gamma": 0.5})])
        >>> s(np.arange(5))  # the warmup, then the decay from its own step 0 at the milestone
        array([0.5 , 0.75, 1.  , 0.5 , 0.25])
        >>> one_cycle = from_torch("OneCycleLR", max_lr=1.0, total_steps=4, pct_start=0.5, anneal_strategy="linear",
        ...                        div_factor=10.0, final_div_factor=10.0)
        >>> one_cycle(np.arange(4)), one_cycle.momentum_schedule(np.arange(4)).round(6)  # momentum: PyTorch's too
        (array([0.1  , 1.   , 0.505, 0.01 ]), array([0.95, 0.85, 0.9 , 0.95]))

    References:
        PyTorch 2.13.0, ``torch/optim/lr_scheduler.py``,
        https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate
    """
    return TRANSLATOR(name, kwargs)


# ---------------------------------------------------------------------------------------------------------------------
# Shared checks
# ---------------------------------------------------------------------------------------------------------------------


def _who(name: str) -> str:
    return owner("from_torch", name)


def _lr(who: str, lr: Any, what: str = "lr") -> float:
    if lr is None:
        raise ValueError(f"{who}: {what} is required: the optimizer's initial learning rate")
    return _check.non_negative(who, what, lr)


def _scalar(who: str, name: str, value: Any) -> Any:
    """PyTorch takes one value per parameter group as a list; a schedule is one group's."""
    if isinstance(value, (list, tuple)):
        raise ValueError(
            f"{who}: {name} must be one number, got a list {_check.preview(value)}: a schedule drives one parameter "
            "group; translate each group's values separately"
        )
    return value


def _fresh(who: str, last_epoch: Any) -> None:
    """Refuse a resume whose rates PyTorch continues from the optimizer's restored lr (a translation cannot see it)."""
    start = _check.integer(who, "last_epoch", last_epoch, low=-1)
    if start != -1:
        raise ValueError(
            f"{who}: last_epoch must be -1, got {start}: PyTorch resumes this scheduler from the optimizer's "
            "restored lr; our schedules read the optimizer's step, which a restored optimizer.state carries (to "
            "start a fresh counter part-way, wrap the translation in Shift(schedule, steps))"
        )


def resumed(who: str, last_epoch: Any, schedule: Schedule) -> Schedule:
    """PyTorch's resume of a scheduler that computes its rate from ``last_epoch`` alone (``LambdaLR(last_epoch=N)``
    and the closed forms): the constructor's step moves it to ``N + 1``, so the rate is the schedule's at ``N + 1``."""
    start = _check.integer(who, "last_epoch", last_epoch, low=-1)
    if start == -1:
        return schedule
    if schedule.momentum_schedule is not None:
        raise ValueError(
            f"{who}: last_epoch={start} with cycle_momentum=True: a shifted schedule carries no momentum; pass "
            f"cycle_momentum=False and schedule_momentum(optimizer, Shift(momentum, {start + 1})) yourself"
        )
    return Shift(schedule, start + 1)


def _whole(who: str, name: str, value: Any, low: int = 0) -> int:
    """A whole number of steps: an int, or a float with no fraction (PyTorch converts step sizes to float)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _check.integer(who, name, value, low=low)


def _momenta(who: str, cycle_momentum: Any, base_momentum: Any, max_momentum: Any) -> tuple[bool, float, float]:
    cycle = _check.flag(who, "cycle_momentum", cycle_momentum)
    if not cycle:  # PyTorch reads neither momentum then
        return False, 0.0, 1.0
    base = _check.real(who, "base_momentum", _scalar(who, "base_momentum", base_momentum), low=0.0, high=1.0)
    top = _check.real(who, "max_momentum", _scalar(who, "max_momentum", max_momentum), low=base, high=1.0)
    return True, base, top


def _growth(lr: float, gamma: float, every: int) -> Schedule:
    """``lr * gamma ** (k // every)`` for ``gamma > 1``: it grows until float32's largest value, then holds it."""
    if lr == 0.0:
        return Constant(0.0)
    return ExponentialDecay(lr, gamma, every, staircase=every > 1, end_lr=FLOAT32_MAX)


def _gamma(who: str, gamma: Any) -> float:
    return _check.real(who, "gamma", gamma, low=0.0, high=FLOAT32_MAX, low_open=True)


def _joined(phases: list[tuple[int, Schedule]]) -> Schedule:
    """Phases ``(start, schedule)`` with increasing starts, the first at 0, as one schedule."""
    if len(phases) == 1:
        return phases[0][1]
    return Join(tuple(schedule for _, schedule in phases), tuple(start for start, _ in phases[1:]))


# ---------------------------------------------------------------------------------------------------------------------
# The chainable schedulers: PyTorch multiplies the group's current rate by a factor at each step
# ---------------------------------------------------------------------------------------------------------------------


@TRANSLATOR.register("StepLR")
def step_lr(lr: float, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> Schedule:
    who = _who("StepLR")
    lr, gamma = _lr(who, lr), _gamma(who, gamma)
    step_size = _check.integer(who, "step_size", step_size, low=1)
    _fresh(who, last_epoch)
    if gamma > 1.0:
        return _growth(lr, gamma, step_size)
    return StepDecay(lr, step_size, gamma)


@TRANSLATOR.register("MultiStepLR")
def multi_step_lr(lr: float, milestones: list[int], gamma: float = 0.1, last_epoch: int = -1) -> Schedule:
    who = _who("MultiStepLR")
    lr, gamma = _lr(who, lr), _gamma(who, gamma)
    entries = _check.sequence(who, "milestones", milestones, "integers")
    # PyTorch counts the milestones (collections.Counter): a repeated one multiplies by gamma ** count.
    counts = Counter(_check.integer(who, f"milestones[{i}]", m) for i, m in enumerate(entries))
    _fresh(who, last_epoch)
    steps = sorted(counts)
    if gamma <= 1.0 and steps and all(count == 1 for count in counts.values()):
        return MultiStepDecay(lr, tuple(steps), gamma)
    drops = list(itertools.accumulate(counts[step] for step in steps))
    values = [lr, *(lr * gamma**drop for drop in drops)]
    if values[-1] > FLOAT32_MAX:
        raise ValueError(f"{who}: lr * gamma ** {drops[-1]} is {values[-1]:g}, above float32's largest value")
    phases: list[tuple[int, Schedule]] = [(0, Constant(values[0]))]
    phases += [(step, Constant(value)) for step, value in zip(steps, values[1:], strict=True)]
    if len(phases) > 1 and phases[1][0] == 0:  # milestone 0 applies at step 0
        phases = [(0, phases[1][1]), *phases[2:]]
    return _joined(phases)


@TRANSLATOR.register("ConstantLR")
def constant_lr(lr: float, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1) -> Schedule:
    who = _who("ConstantLR")
    lr = _lr(who, lr)
    factor = _check.real(who, "factor", factor, low=0.0, high=1.0)
    total_iters = _check.integer(who, "total_iters", total_iters)
    _fresh(who, last_epoch)
    if total_iters == 0:  # the constructor's step scales by factor, and no step ever reaches total_iters again
        return Constant(lr * factor)
    if factor == 0.0:
        raise ValueError(f"{who}: factor must be > 0 with total_iters > 0 (PyTorch divides by it at total_iters)")
    return Join((Constant(lr * factor), Constant(lr)), (total_iters,))


@TRANSLATOR.register("LinearLR")
def linear_lr(
    lr: float, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1
) -> Schedule:
    who = _who("LinearLR")
    lr = _lr(who, lr)
    start = _check.real(who, "start_factor", start_factor, low=0.0, high=1.0, low_open=True)
    end = _check.real(who, "end_factor", end_factor, low=0.0, high=1.0)
    total_iters = _check.integer(who, "total_iters", total_iters)
    _fresh(who, last_epoch)
    if total_iters == 0:  # the constructor's step applies start_factor; later steps never change the rate
        return Constant(lr * start)
    return Linear(lr * start, lr * end, total_iters)


@TRANSLATOR.register("ExponentialLR")
def exponential_lr(lr: float, gamma: float, last_epoch: int = -1) -> Schedule:
    who = _who("ExponentialLR")
    lr, gamma = _lr(who, lr), _gamma(who, gamma)
    _fresh(who, last_epoch)
    if gamma > 1.0:
        return _growth(lr, gamma, 1)
    return ExponentialDecay(lr, gamma)


@TRANSLATOR.register("PolynomialLR")
def polynomial_lr(lr: float, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1) -> Schedule:
    who = _who("PolynomialLR")
    lr = _lr(who, lr)
    total_iters = _check.integer(who, "total_iters", total_iters)
    power = _check.real(who, "power", power, low=0.0, high=1e3)
    _fresh(who, last_epoch)
    if total_iters == 0 or power == 0.0:  # PyTorch's recursion never moves the rate (0 ** 0 is 1)
        return Constant(lr)
    return PolynomialDecay(lr, 0.0, total_iters, power)


@TRANSLATOR.register("CosineAnnealingLR")
def cosine_annealing_lr(lr: float, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> Schedule:
    who = _who("CosineAnnealingLR")
    lr = _lr(who, lr)
    t_max = _check.integer(who, "T_max", T_max, low=1)
    eta_min = _check.non_negative(who, "eta_min", eta_min)
    _fresh(who, last_epoch)
    return CosineDecay(lr, t_max, end_lr=eta_min)


# ---------------------------------------------------------------------------------------------------------------------
# The schedulers that set the rate from their own values
# ---------------------------------------------------------------------------------------------------------------------


@TRANSLATOR.register("CosineAnnealingWarmRestarts")
def cosine_annealing_warm_restarts(
    lr: float,
    T_0: int,
    T_mult: int = 1,
    eta_min: float = 0.0,
    last_epoch: int = -1,
) -> Schedule:
    who = _who("CosineAnnealingWarmRestarts")
    lr = _lr(who, lr)
    t_0 = _check.integer(who, "T_0", T_0, low=1)
    t_mult = _check.integer(who, "T_mult", T_mult, low=1, high=2**31 - 2)
    eta_min = _check.non_negative(who, "eta_min", eta_min)
    _fresh(who, last_epoch)
    return CosineRestarts(lr, t_0, t_mult=t_mult, end_lr=eta_min)


@TRANSLATOR.register("CyclicLR")
def cyclic_lr(
    base_lr: float,
    max_lr: float,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    scale_fn: Callable[[float], float] | None = None,
    scale_mode: str = "cycle",
    cycle_momentum: bool = True,
    base_momentum: float = 0.8,
    max_momentum: float = 0.9,
    last_epoch: int = -1,
    lr: float | None = None,
) -> Schedule:
    who = _who("CyclicLR")
    if lr is not None:  # PyTorch sets the optimizer's rate to base_lr: lr is not used
        _lr(who, lr)
    if scale_fn is not None:
        raise ValueError(
            f"{who}: scale_fn is a Python function, which cannot run in a compiled step; with base_lr=0 the same "
            "rate is Product([CyclicLR(0.0, max_lr, step_size_up, ...), s]), s your scale as a schedule of the step "
            "(scale_mode='iterations') or PerEpoch(f, cycle_steps) of the cycle ('cycle')"
        )
    base = _check.non_negative(who, "base_lr", _scalar(who, "base_lr", base_lr))
    top = _check.non_negative(who, "max_lr", _scalar(who, "max_lr", max_lr))
    if top < base:
        raise ValueError(f"{who}: max_lr must be >= base_lr ({base!r}), got {top!r}: an inverted cycle is not offered")
    sizes = {"step_size_up": step_size_up, "step_size_down": step_size_down}
    for name, size in sizes.items():
        if isinstance(size, numbers.Real) and not isinstance(size, (bool, numbers.Integral)) and size % 1:
            raise ValueError(
                f"{who}: {name} must be a whole number of steps (a cycle's place is exact integer arithmetic), got "
                f"{size!r}; round it, or write a finite run out as a Join of Ramps (Ramp takes fractional ends)"
            )
    up = _whole(who, "step_size_up", step_size_up, low=1)
    down = None if step_size_down is None else _whole(who, "step_size_down", step_size_down)
    mode = _check.choice(who, "mode", mode, ("triangular", "triangular2", "exp_range"))
    _check.choice(who, "scale_mode", scale_mode, ("cycle", "iterations"))  # the built-in modes set their own
    gamma = _check.real(who, "gamma", gamma, low=0.0, high=1.0, low_open=True) if mode == "exp_range" else 1.0
    cycle, base_momentum, max_momentum = _momenta(who, cycle_momentum, base_momentum, max_momentum)
    schedule = CyclicLR(
        base, top, up, down, mode, gamma, cycle_momentum=cycle, base_momentum=base_momentum, max_momentum=max_momentum
    )
    return resumed(who, last_epoch, schedule)


@TRANSLATOR.register("OneCycleLR")
def one_cycle_lr(
    max_lr: float,
    total_steps: int | None = None,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    cycle_momentum: bool = True,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
    last_epoch: int = -1,
    lr: float | None = None,
) -> Schedule:
    who = _who("OneCycleLR")
    if lr is not None:  # PyTorch sets the optimizer's rate to max_lr / div_factor: lr is not used
        _lr(who, lr)
    top = _check.non_negative(who, "max_lr", _scalar(who, "max_lr", max_lr))
    if total_steps is not None:
        total = _check.integer(who, "total_steps", total_steps, low=1, high=2**53)
    elif epochs is not None and steps_per_epoch is not None:
        epochs = _check.integer(who, "epochs", epochs, low=1)
        steps_per_epoch = _check.integer(who, "steps_per_epoch", steps_per_epoch, low=1)
        total = _check.integer(who, "epochs * steps_per_epoch", epochs * steps_per_epoch, high=2**53)
    else:
        raise ValueError(f"{who}: give total_steps, or epochs and steps_per_epoch (PyTorch needs one of the two)")
    pct_start = _check.real(who, "pct_start", pct_start, low=0.0, high=1.0)
    anneal = _check.choice(who, "anneal_strategy", anneal_strategy, ("cos", "linear"))
    three_phase = _check.flag(who, "three_phase", three_phase)
    if three_phase and pct_start > 0.5:
        raise ValueError(
            f"{who}: pct_start must be in [0, 0.5] with three_phase=True, got {pct_start!r}: PyTorch's second phase "
            "would end past total_steps, so its run never reaches the third"
        )
    for name, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
        _check.real(who, name, value, low=1.0, high=FLOAT32_MAX)
    cycle, base_momentum, max_momentum = _momenta(who, cycle_momentum, base_momentum, max_momentum)
    schedule = OneCycle(
        top,
        total,
        pct_start,
        anneal,
        float(div_factor),
        float(final_div_factor),
        three_phase,
        cycle_momentum=cycle,
        base_momentum=base_momentum,
        max_momentum=max_momentum,
    )
    return resumed(who, last_epoch, schedule)


@TRANSLATOR.register("ReduceLROnPlateau")
def reduce_lr_on_plateau(
    lr: float,
    mode: str = "min",
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_lr: float = 0,
    eps: float = 1e-8,
) -> Schedule:
    who = _who("ReduceLROnPlateau")
    return plateau(who, lr, mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps)


def plateau(
    who: str,
    lr: Any,
    mode: Any,
    factor: Any,
    patience: Any,
    threshold: Any,
    threshold_mode: Any,
    cooldown: Any,
    min_lr: Any,
    eps: Any,
) -> ReduceOnPlateau:
    """PyTorch's ``ReduceLROnPlateau`` on a constant ``lr`` (Hugging Face's ``reduce_lr_on_plateau`` builds it too)."""
    lr = _lr(who, lr)
    mode = _check.choice(who, "mode", mode, ("min", "max"))
    factor = _check.real(who, "factor", factor, low=0.0, high=1.0, low_open=True, high_open=True)
    threshold_mode = _check.choice(who, "threshold_mode", threshold_mode, ("rel", "abs"))
    high_open = threshold_mode == "rel"  # 1 - threshold must stay a positive factor
    threshold = _check.real(
        who, "threshold", threshold, low=0.0, high=1.0 if high_open else FLOAT32_MAX, high_open=high_open
    )
    return ReduceOnPlateau(
        lr,
        factor=factor,
        patience=_check.integer(who, "patience", patience),
        mode=mode,
        threshold=threshold,
        threshold_mode=threshold_mode,
        cooldown=_check.integer(who, "cooldown", cooldown),
        min_lr=_check.non_negative(who, "min_lr", _scalar(who, "min_lr", min_lr)),
        eps=_check.non_negative(who, "eps", eps),
    )


@TRANSLATOR.register("LambdaLR")
def lambda_lr(lr_lambda: Callable[[int], float], last_epoch: int = -1, lr: float | None = None) -> Schedule:
    return unsupported(
        "from_torch",
        "LambdaLR",
        "lr_lambda is a Python function, which cannot run in a compiled step; write lr * lr_lambda(k) as a schedule "
        "of our own: Scale(s, lr) with s built from Join, Ramp, Constant, ExponentialDecay, Product, ...",
    )


@TRANSLATOR.register("MultiplicativeLR")
def multiplicative_lr(lr_lambda: Callable[[int], float], last_epoch: int = -1, lr: float | None = None) -> Schedule:
    return unsupported(
        "from_torch",
        "MultiplicativeLR",
        "lr_lambda is a Python function, which cannot run in a compiled step; lr times the product of "
        "lr_lambda(1..k) is ExponentialDecay(lr, g) for a constant factor g, otherwise a schedule of our own "
        "(Join, Product, Scale, MultiStepDecay, ...)",
    )


# ---------------------------------------------------------------------------------------------------------------------
# Compositions: SequentialLR and ChainedScheduler
# ---------------------------------------------------------------------------------------------------------------------

SEQUENCE_PARTS = (
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "OneCycleLR",
)
"""What ``SequentialLR`` restarts correctly at a milestone: a scheduler with a closed form at step 0 (or ``get_lr`` of
its own values). A ``SequentialLR`` or ``ChainedScheduler`` part has neither (PyTorch raises
``NotImplementedError`` when it reaches it); ``ReduceLROnPlateau`` is refused by PyTorch itself."""

CHAIN_PARTS = (
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "ChainedScheduler",
)
"""The schedulers whose ``step()`` multiplies the group's current rate by a factor that does not depend on it, so
a chain of them is the product of their factors. ``CosineAnnealingLR`` qualifies with ``eta_min=0`` only (its update
is ``(lr - eta_min) * r + eta_min``)."""

_SETS_BASE = ("CyclicLR", "OneCycleLR")
"""Parts whose constructor changes the group's ``initial_lr``, the base rate of the parts built after them."""


def _pair(who: str, where: str, entry: Any) -> tuple[str, dict[str, Any]]:
    """A ``(name, kwargs)`` part; its ``lr`` is its parent's (PyTorch's parts share one optimizer)."""
    if (
        not isinstance(entry, (tuple, list))
        or len(entry) != 2
        or not isinstance(entry[0], str)
        or not isinstance(entry[1], Mapping)
    ):
        raise TypeError(
            f"{who}: {where} must be a (name, kwargs) pair such as ('LinearLR', {{'total_iters': 5}}), got "
            f"{type(entry).__name__} {_check.preview(entry)}"
        )
    name, kwargs = entry
    for key in ("lr", "last_epoch"):
        if key in kwargs:
            why = "give lr once, to the parent: its parts share one optimizer" if key == "lr" else "parts start fresh"
            raise ValueError(f"{who}: {where} must not set {key!r} ({why})")
    TRANSLATOR.builder(name)  # an unknown name, with a suggestion
    return name, dict(kwargs)


def _default(name: str, argument: str, kwargs: Mapping[str, Any]) -> Any:
    return kwargs.get(argument, TRANSLATOR.signature(name).parameters[argument].default)


@TRANSLATOR.register("SequentialLR")
def sequential_lr(
    schedulers: list[Any], milestones: list[int], last_epoch: int = -1, lr: float | None = None
) -> Schedule:
    who = _who("SequentialLR")
    if _check.integer(who, "last_epoch", last_epoch, low=-1) != -1:
        raise ValueError(
            f"{who}: last_epoch must be -1, got {last_epoch}: PyTorch's SequentialLR restarts its step-0 part "
            "whatever last_epoch says; our schedules read the optimizer's step, which a restored optimizer.state "
            "carries"
        )
    entries = _check.sequence(who, "schedulers", schedulers, "(name, kwargs) pairs or schedules")
    if not entries:
        raise ValueError(f"{who}: schedulers must not be empty")
    bounds = [
        _check.integer(who, f"milestones[{i}]", m)
        for i, m in enumerate(_check.sequence(who, "milestones", milestones, "integers"))
    ]
    if len(bounds) != len(entries) - 1:
        raise ValueError(
            f"{who}: milestones must have one entry fewer than schedulers ({len(entries) - 1}), got {len(bounds)}"
        )
    if bounds != sorted(bounds):
        raise ValueError(f"{who}: milestones must be in increasing order (PyTorch bisects them), got {bounds}")

    # Build in PyTorch's construction order, tracking the group's initial_lr: the base rate of each chainable part.
    initial: float | None = None
    built: list[Schedule | tuple[str, dict[str, Any], float]] = []
    one_cycles = 0
    for index, entry in enumerate(entries):
        where = f"schedulers[{index}]"
        if isinstance(entry, Schedule):
            part: Schedule | tuple[str, dict[str, Any], float] = entry
        else:
            name, kwargs = _pair(who, where, entry)
            if name not in SEQUENCE_PARTS:
                raise ValueError(f"{who}: {where} is a {name}, which {_sequence_refusal(name)}")
            if name in _SETS_BASE:
                part = TRANSLATOR(name, kwargs)
                if isinstance(part, CyclicLR) and initial is None:
                    initial = part.base_lr  # CyclicLR sets the group's lr to base_lr before LRScheduler reads it
                elif isinstance(part, OneCycle):
                    one_cycles += 1
                    initial = part.max_lr / part.div_factor  # OneCycleLR overwrites the group's initial_lr
            else:
                initial = _lr(who, lr) if initial is None else initial
                part = (name, kwargs, initial)
        if isinstance(part, Schedule) and part.momentum_schedule is not None:
            raise ValueError(
                f"{who}: {where} cycles the momentum (cycle_momentum=True, PyTorch's default); a sequence carries "
                "no momentum schedule: pass cycle_momentum=False (and schedule_momentum(optimizer, ...) yourself)"
            )
        built.append(part)
    if one_cycles > 1:
        raise ValueError(
            f"{who}: at most one OneCycleLR part: PyTorch's OneCycleLRs share the group's initial_lr, max_lr and "
            "min_lr, which the last one constructed overwrites"
        )

    phases: list[tuple[int, Schedule]] = []
    starts, ends = [0, *bounds], [*bounds, None]
    for index, (part, start, end) in enumerate(zip(built, starts, ends, strict=True)):
        if end is not None and end <= start:  # PyTorch never steps it
            continue
        phases.append((start, part if isinstance(part, Schedule) else _sequence_part(who, index, part, start, initial)))
    return _joined(phases)


def _sequence_refusal(name: str) -> str:
    if name == "ReduceLROnPlateau":
        return "PyTorch refuses in a SequentialLR (its step needs a metric)"
    if name in ("SequentialLR", "ChainedScheduler"):
        return "PyTorch cannot restart at a milestone (it has no closed form: NotImplementedError)"
    return "has no translation"


def _sequence_part(who: str, index: int, part: tuple[str, dict[str, Any], float], start: int, initial: Any) -> Schedule:
    """A part of a sequence that reads the group's rate: PyTorch enters it at step 0 from the group's final
    initial_lr (SequentialLR's constructor resets the group to it), and at a milestone with its closed form at 0,
    from its own base rate (the initial_lr when it was constructed)."""
    name, kwargs, base = part
    if start == 0 and name != "CosineAnnealingWarmRestarts":  # which computes its rate from its own base_lrs
        return TRANSLATOR(name, {**kwargs, "lr": initial})
    if name in ("ConstantLR", "LinearLR", "PolynomialLR") and _default(name, "total_iters", kwargs) == 0:
        if name == "ConstantLR":  # the closed form at step 0 is base * 1, and no later step changes it
            TRANSLATOR(name, {**kwargs, "lr": base})  # validates the part
            return Constant(base)
        raise ValueError(
            f"{who}: schedulers[{index}] is a {name} with total_iters=0, whose closed form PyTorch divides by zero "
            "when the sequence reaches its milestone"
        )
    return TRANSLATOR(name, {**kwargs, "lr": base})


@TRANSLATOR.register("ChainedScheduler")
def chained_scheduler(schedulers: list[Any], optimizer: Any = None, lr: float | None = None) -> Schedule:
    who = _who("ChainedScheduler")
    if optimizer is not None:
        raise ValueError(f"{who}: optimizer must be None: a translation has no optimizer (its parts share lr)")
    factors = _chain(who, schedulers, _lr(who, lr))
    return factors[0] if len(factors) == 1 else Product(tuple(factors))


def _chain(who: str, schedulers: Any, lr: float) -> list[Schedule]:
    """The factors of a chain, flattened: the first carries ``lr``, the others are relative (built with lr 1)."""
    entries = _check.sequence(who, "schedulers", schedulers, "(name, kwargs) pairs")
    if not entries:
        raise ValueError(f"{who}: schedulers must not be empty")
    factors: list[Schedule] = []
    for index, entry in enumerate(entries):
        where = f"schedulers[{index}]"
        if isinstance(entry, Schedule):
            raise TypeError(
                f"{who}: {where} must be a (name, kwargs) pair, not a translated schedule: only the PyTorch class "
                "tells whether its update is a factor of the current rate"
            )
        name, kwargs = _pair(who, where, entry)
        if name not in CHAIN_PARTS:
            raise ValueError(f"{who}: {where} is a {name}, which {_chain_refusal(name)}")
        base = lr if not factors else 1.0
        if name == "ChainedScheduler":
            if kwargs.get("optimizer") is not None:
                raise ValueError(f"{who}: {where} must not set optimizer")
            factors += _chain(who, kwargs.get("schedulers", ()), base)
            continue
        if name == "CosineAnnealingLR" and _default(name, "eta_min", kwargs) != 0:
            raise ValueError(
                f"{who}: {where} is a CosineAnnealingLR with eta_min > 0, whose update (lr - eta_min) * r + eta_min is "
                "not a factor of the current rate, so its chain is no product; use eta_min=0"
            )
        factors.append(TRANSLATOR(name, {**kwargs, "lr": base}))
    return factors


def _chain_refusal(name: str) -> str:
    if name == "ReduceLROnPlateau":
        return "PyTorch refuses in a ChainedScheduler (its step needs a metric)"
    if name in ("LambdaLR", "MultiplicativeLR"):
        return "has no translation (a Python lr_lambda)"
    return "sets the rate outright instead of multiplying it, so a chain with it is no product of factors"
