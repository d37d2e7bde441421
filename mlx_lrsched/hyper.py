"""Schedule an optimizer's momentum (SGD, Muon) or first beta (Adam, AdamW, Adamax, Lion).

``mlx.optimizers`` schedules only what an optimizer passes through ``_maybe_schedule`` (the learning
rate); momentum and betas are Python floats read in ``apply_single``, and SGD even branches on
``if self.momentum <= 0``. A float cannot change inside a compiled step. :func:`schedule_momentum`
registers the schedule with the optimizer's own scheduler table (:mod:`mlx_lrsched._state`, the module
that attaches all training state), so ``apply_gradients`` evaluates it at the same step as the learning
rate and stores the value in ``optimizer.state`` (compiled steps carry it, checkpoints save it), and
replaces the float attribute by a :class:`ScheduledValue` that reads that entry whenever the
optimizer's arithmetic uses it.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Callable
from typing import Any, TypeVar

from . import _state
from ._xp import mx
from .base import Schedule, as_schedule
from .one_cycle import OneCycle

__all__ = ["ScheduledValue", "apply_one_cycle", "apply_schedule", "schedule_momentum"]

OptimizerT = TypeVar("OptimizerT")


class ScheduledValue:
    """Stands in for a float hyperparameter: every use reads ``optimizer.state[key]``.

    Arithmetic with arrays and numbers works on either side (``__mlx_array__``), so the optimizer's
    formulas run unchanged, eagerly and inside ``mx.compile``. Like the Python float it replaces, the
    value takes the dtype of the floating array it meets (a bfloat16 parameter stays bfloat16).
    ``float()`` reads the current value (eagerly only).

    Comparisons are answered only where the answer is the same at every step: the value always lies in
    ``[0, schedule.peak]``, so ``momentum < 1`` is true and ``momentum < -1`` false. A comparison the
    range does not decide would need the current value on the host, which a compiled step does not
    have, and raises ``TypeError``, with one exception, the one question ``mlx.optimizers`` asks:
    SGD's ``if self.momentum <= 0`` chooses between its plain update and its momentum update. For a
    schedule that is not identically 0 it is answered ``False`` (and ``> 0`` ``True``): the momentum
    update is the one whose formula holds at every value, 0 included, where ``v = 0 v + g = g`` is the
    plain update (with ``dampening=d > 0``, mlx's momentum update at exactly 0 is ``(1 - d) g``).
    """

    __slots__ = ("_key", "_optimizer", "_schedule")

    def __init__(self, optimizer: Any, key: str, schedule: Schedule) -> None:
        self._optimizer = optimizer
        self._key = key
        self._schedule = schedule

    @property
    def schedule(self) -> Schedule:
        """The schedule this value follows."""
        return self._schedule

    def __mlx_array__(self) -> Any:
        # An array's operators convert this value with no word of the array they meet: take the dtype
        # of the parameter being updated, as a weakly typed Python float would.
        return self._as(_state.parameter_dtype(self._optimizer))

    def _as(self, dtype: Any) -> Any:
        value = self._optimizer.state[self._key]
        return value if dtype is None or value.dtype == dtype else value.astype(dtype)

    def _meeting(self, other: Any) -> Any:
        """The value in the dtype a Python float would take next to ``other``."""
        if mx is not None and isinstance(other, mx.array):
            return self._as(other.dtype if mx.issubdtype(other.dtype, mx.floating) else None)
        return self.__mlx_array__()

    def __float__(self) -> float:
        return float(self._as(None).item())

    def __repr__(self) -> str:
        return f"ScheduledValue({self._key}={self._schedule!r})"

    def __mul__(self, other: Any) -> Any:
        return self._meeting(other) * other

    def __rmul__(self, other: Any) -> Any:
        return other * self._meeting(other)

    def __add__(self, other: Any) -> Any:
        return self._meeting(other) + other

    def __radd__(self, other: Any) -> Any:
        return other + self._meeting(other)

    def __sub__(self, other: Any) -> Any:
        return self._meeting(other) - other

    def __rsub__(self, other: Any) -> Any:
        return other - self._meeting(other)

    def __truediv__(self, other: Any) -> Any:
        return self._meeting(other) / other

    def __rtruediv__(self, other: Any) -> Any:
        return other / self._meeting(other)

    def __pow__(self, other: Any) -> Any:
        return self._meeting(other) ** other

    def __neg__(self) -> Any:
        return -self.__mlx_array__()

    def _compare(self, other: Any, compare: Callable[[float, float], bool], symbol: str) -> bool:
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            low, high = 0.0, self._schedule.peak
            at_low, at_high = compare(low, float(other)), compare(high, float(other))
            if at_low == at_high:  # monotone in the value: decided on the whole range
                return at_low
            if other == 0 and symbol in ("<=", ">"):  # SGD's branch: see the class docstring
                return at_high
        raise TypeError(
            f"a scheduled {self._key} cannot be compared with {other!r} in Python ({self._key} {symbol} ...): "
            f"it changes from step to step within [0, {self._schedule.peak:g}] and is read inside mx.compile"
        )

    def __le__(self, other: Any) -> bool:
        return self._compare(other, operator.le, "<=")

    def __lt__(self, other: Any) -> bool:
        return self._compare(other, operator.lt, "<")

    def __gt__(self, other: Any) -> bool:
        return self._compare(other, operator.gt, ">")

    def __ge__(self, other: Any) -> bool:
        return self._compare(other, operator.ge, ">=")


def _momentum_target(owner: str, optimizer: Any) -> tuple[str, str]:
    """The optimizer attribute to replace and the state key to use: ``betas`` -> beta1, else momentum."""
    _state.optimizer_state(owner, optimizer)
    if not isinstance(getattr(optimizer, "_schedulers", None), dict):
        raise TypeError(f"{owner}: optimizer must be an mlx.optimizers optimizer, got {type(optimizer).__name__}")
    betas = getattr(optimizer, "betas", None)
    if isinstance(betas, (list, tuple)) and len(betas) == 2:
        return "betas", "beta1"
    if hasattr(optimizer, "momentum"):
        return "momentum", "momentum"
    raise TypeError(
        f"{owner}: {type(optimizer).__name__} has neither `momentum` nor `betas`; supported: SGD, Muon "
        "(momentum) and Adam, AdamW, Adamax, Lion (betas[0])"
    )


def schedule_momentum(optimizer: OptimizerT, schedule: Schedule | float) -> OptimizerT:
    r"""Put the optimizer's momentum (SGD, Muon) or ``betas[0]`` (Adam, AdamW, Adamax, Lion) on a schedule.

    .. math:: \mu_t = m(t) \quad (\text{or } \beta_{1,t} = m(t)),\qquad 0 \le m(t) < 1

    Update :math:`t` (counting from 0, like the learning rate) uses :math:`m(t)`. The value is stored in
    ``optimizer.state["momentum"]`` (``"beta1"`` for the Adam family), so ``mx.compile`` with
    ``optimizer.state`` as input and output follows it and checkpoints save it; ``optimizer.momentum``
    (``optimizer.betas[0]``) becomes a :class:`ScheduledValue` reading that entry. ``betas`` is replaced
    by a new list (the optimizer's default list is shared between instances and is never mutated).
    After restoring a checkpoint, call this again on the new optimizer; the value follows the step.

    Args:
        optimizer: an ``mlx.optimizers`` optimizer with ``momentum`` or ``betas``.
        schedule: any :class:`Schedule` with values in :math:`[0, 1)` (e.g. OneCycle's momentum twin),
            or a constant.

    Returns:
        The optimizer, for chaining.

    Examples:
        >>> import mlx.core as mx, mlx.optimizers as optim
        >>> from mlx_lrsched.decay import PiecewiseConstant
        >>> optimizer = schedule_momentum(optim.SGD(learning_rate=0.1), PiecewiseConstant([1], [0.5, 0.9]))
        >>> params = {"w": mx.array([1.0])}
        >>> for _ in range(3):
        ...     params = optimizer.apply_gradients({"w": mx.array([1.0])}, params)
        ...     print(optimizer.state["momentum"].item(), optimizer.state["w"]["v"].item())
        0.5 1.0
        0.5 1.5
        0.8999999761581421 2.3499999046325684

    References:
        Smith, L. N., *A disciplined approach to neural network hyper-parameters: Part 1*, 2018
        (cyclical momentum). https://arxiv.org/abs/1803.09820
    """
    owner = "schedule_momentum"
    attribute, key = _momentum_target(owner, optimizer)
    momentum: Schedule = as_schedule(owner, "schedule", schedule)
    if momentum.signed or not momentum.peak < 1.0:
        raise ValueError(
            f"{owner}: schedule must stay in [0, 1) to be a momentum, its peak is {momentum.peak!r}"
            + (" and it can go negative" if momentum.signed else "")
        )
    _state.schedule_hyperparameter(owner, optimizer, key, momentum)
    _state.follow_parameter_dtype(optimizer)
    value = ScheduledValue(optimizer, key, momentum)
    if attribute == "betas":
        optimizer.betas = [value, optimizer.betas[1]]  # type: ignore[attr-defined]
    else:
        optimizer.momentum = value  # type: ignore[attr-defined]
    return optimizer


def apply_one_cycle(
    optimizer: OptimizerT, schedule: OneCycle, *, base_momentum: float = 0.85, max_momentum: float = 0.95
) -> OptimizerT:
    r"""Run 1-cycle on ``optimizer``: the learning rate follows ``schedule``, momentum its inverse twin.

    .. math:: \eta_t = \text{schedule}(t), \qquad
        \mu_t = \text{schedule.momentum}(\mu_{\text{base}}, \mu_{\max})(t)

    The momentum (``betas[0]`` for Adam-type optimizers) is at ``max_momentum`` where the learning rate
    is lowest and at ``base_momentum`` at its peak, as PyTorch ``OneCycleLR(cycle_momentum=True)``.

    Args:
        optimizer: an ``mlx.optimizers`` optimizer with ``momentum`` or ``betas`` (see
            :func:`schedule_momentum`); its current learning rate is replaced by ``schedule``.
        schedule: the :class:`~mlx_lrsched.one_cycle.OneCycle` learning-rate schedule.
        base_momentum: momentum at the peak learning rate.
        max_momentum: momentum at the start and the end of the cycle.

    Returns:
        The optimizer, for chaining.

    Examples:
        >>> import mlx.optimizers as optim
        >>> from mlx_lrsched.one_cycle import OneCycle
        >>> optimizer = apply_one_cycle(optim.SGD(learning_rate=0.1), OneCycle(0.1, total_steps=100))
        >>> round(optimizer.learning_rate.item(), 6), round(optimizer.state["momentum"].item(), 6)  # step 0
        (0.004, 0.95)

    References:
        Smith, L. N., *Super-convergence*, 2017. https://arxiv.org/abs/1708.07120
    """
    owner = "apply_one_cycle"
    _momentum_target(owner, optimizer)
    if not isinstance(schedule, OneCycle):
        raise TypeError(f"{owner}: schedule must be a OneCycle, got {type(schedule).__name__} {schedule!r}")
    momentum = schedule.momentum(base_momentum=base_momentum, max_momentum=max_momentum)
    _state.schedule_hyperparameter(owner, optimizer, "learning_rate", schedule)
    return schedule_momentum(optimizer, momentum)


def apply_schedule(optimizer: OptimizerT, schedule: Schedule | float) -> OptimizerT:
    """Run ``schedule`` on ``optimizer``: its learning rate, the momentum it carries and the state it reads.

    The one call for a schedule from any source, a translated PyTorch ``OneCycleLR`` or ``CyclicLR`` included:
    the learning rate becomes ``schedule``; a momentum schedule it carries
    (:attr:`~mlx_lrsched.base.Schedule.momentum_schedule`: 1-cycle's and cyclical momentum) goes on the
    optimizer's momentum or ``betas[0]`` (:func:`schedule_momentum`); and every feedback schedule inside it
    (:class:`~mlx_lrsched.feedback.ReduceOnPlateau`, :class:`~mlx_lrsched.feedback.GradNormScaled`) is
    attached, so its state lives in ``optimizer.state``.

    Args:
        optimizer: an ``mlx.optimizers`` optimizer (with ``momentum`` or ``betas`` if the schedule carries a
            momentum).
        schedule: any :class:`Schedule`, or a constant learning rate.

    Returns:
        The optimizer, for chaining.

    Examples:
        >>> import mlx.optimizers as optim
        >>> from mlx_lrsched.cyclic import CyclicLR
        >>> cyclic = CyclicLR(0.01, 0.1, step_size_up=10, cycle_momentum=True)
        >>> optimizer = apply_schedule(optim.SGD(learning_rate=0.0, momentum=0.9), cyclic)
        >>> optimizer.learning_rate.item(), round(optimizer.state["momentum"].item(), 6)  # step 0
        (0.009999999776482582, 0.9)
    """
    owner = "apply_schedule"
    schedule = as_schedule(owner, "schedule", schedule)
    momentum = schedule.momentum_schedule
    if momentum is not None:
        _momentum_target(owner, optimizer)  # refused before anything changes
    _state.schedule_hyperparameter(owner, optimizer, "learning_rate", schedule)
    for node in schedule.walk():
        attach = getattr(node, "attach", None)
        if node.reads_state and attach is not None:
            attach(optimizer)
    return optimizer if momentum is None else schedule_momentum(optimizer, momentum)
