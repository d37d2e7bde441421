"""Schedule an optimizer's momentum (SGD, Muon) or first beta (Adam, AdamW, Adamax, Lion).

``mlx.optimizers`` schedules only what an optimizer passes through ``_maybe_schedule`` (the learning
rate); momentum and betas are Python floats read in ``apply_single``, and SGD even branches on
``if self.momentum <= 0``. A float cannot change inside a compiled step. :func:`schedule_momentum`
registers the schedule with the optimizer's own scheduler table, so ``apply_gradients`` evaluates it at
the same step as the learning rate and stores the value in ``optimizer.state`` (compiled steps carry it,
checkpoints save it), and replaces the float attribute by a stand-in that reads that state entry
whenever the optimizer's arithmetic uses it.
"""

from __future__ import annotations

import numbers
from typing import Any, TypeVar

from . import _check
from .base import Schedule
from .one_cycle import OneCycle

__all__ = ["apply_one_cycle", "schedule_momentum"]

OptimizerT = TypeVar("OptimizerT")


class ScheduledValue:
    """Stands in for a float hyperparameter: every use reads ``optimizer.state[key]``.

    Arithmetic with arrays and numbers works on either side (``__mlx_array__``), so the optimizer's
    formulas run unchanged, eagerly and inside ``mx.compile``. Comparisons with a number ``<= 0`` answer
    as for a positive value: SGD's ``if self.momentum <= 0`` then always takes the momentum path, which
    with a momentum of exactly 0 computes ``v = (1 - dampening) g``, the plain update when dampening is
    0. Other comparisons would need the value on the host and raise ``TypeError``. ``float()`` reads the
    current value (eagerly only).
    """

    __slots__ = ("_dtype", "_key", "_optimizer")

    def __init__(self, optimizer: Any, key: str) -> None:
        self._optimizer = optimizer
        self._key = key
        self._dtype: Any = None  # the dtype of the parameter being updated, set around ``apply_single``

    def __mlx_array__(self) -> Any:
        value = self._optimizer.state[self._key]
        # A Python float hyperparameter is weakly typed and takes the parameter's dtype; a float32 array
        # would promote bfloat16/float16 parameters to float32, so it is cast to the parameter's dtype.
        if self._dtype is None or value.dtype == self._dtype:
            return value
        return value.astype(self._dtype)

    def _follow_parameter_dtype(self) -> None:
        """Wrap the optimizer's ``apply_single`` so each use sees the dtype of the parameter it updates."""
        optimizer, original = self._optimizer, self._optimizer.apply_single

        def apply_single(gradient: Any, parameter: Any, state: Any) -> Any:
            self._dtype = gradient.dtype
            try:
                return original(gradient, parameter, state)
            finally:
                self._dtype = None

        optimizer.apply_single = apply_single

    @property
    def schedule(self) -> Any:
        """The schedule this value follows."""
        return self._optimizer._schedulers[self._key]

    def __float__(self) -> float:
        return float(self.__mlx_array__().item())

    def __repr__(self) -> str:
        return f"ScheduledValue({self._key}={self.schedule!r})"

    def __mul__(self, other: Any) -> Any:
        return self.__mlx_array__() * other

    def __rmul__(self, other: Any) -> Any:
        return other * self.__mlx_array__()

    def __add__(self, other: Any) -> Any:
        return self.__mlx_array__() + other

    def __radd__(self, other: Any) -> Any:
        return other + self.__mlx_array__()

    def __sub__(self, other: Any) -> Any:
        return self.__mlx_array__() - other

    def __rsub__(self, other: Any) -> Any:
        return other - self.__mlx_array__()

    def __truediv__(self, other: Any) -> Any:
        return self.__mlx_array__() / other

    def __rtruediv__(self, other: Any) -> Any:
        return other / self.__mlx_array__()

    def __pow__(self, other: Any) -> Any:
        return self.__mlx_array__() ** other

    def __neg__(self) -> Any:
        return -self.__mlx_array__()

    def _against_non_positive(self, other: Any, operator: str) -> float:
        if isinstance(other, numbers.Real) and not isinstance(other, bool) and other <= 0:
            return float(other)
        raise TypeError(
            f"a scheduled {self._key} cannot be compared with {other!r} in Python ({self._key} {operator} ...): "
            "its value lives in optimizer.state and may be traced inside mx.compile"
        )

    def __le__(self, other: Any) -> bool:
        self._against_non_positive(other, "<=")
        return False

    def __lt__(self, other: Any) -> bool:
        self._against_non_positive(other, "<")
        return False

    def __gt__(self, other: Any) -> bool:
        self._against_non_positive(other, ">")
        return True

    def __ge__(self, other: Any) -> bool:
        self._against_non_positive(other, ">=")
        return True


def _set_schedule(optimizer: Any, key: str, schedule: Schedule) -> None:
    """Register ``schedule`` in the optimizer's scheduler table (as ``learning_rate=`` callables are)."""
    optimizer._schedulers[key] = schedule
    optimizer.state[key] = schedule(optimizer.step)


def _momentum_target(owner: str, optimizer: Any) -> tuple[str, str]:
    """The optimizer attribute to replace and the state key to use: ``betas`` -> beta1, else momentum."""
    if not isinstance(getattr(optimizer, "_schedulers", None), dict) or not isinstance(
        getattr(optimizer, "state", None), dict
    ):
        raise TypeError(
            f"{owner}: optimizer must be an mlx.optimizers optimizer (for optim.MultiOptimizer schedule each "
            f"inner optimizer), got {type(optimizer).__name__}"
        )
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
    momentum: Schedule = _check.schedule(owner, "schedule", schedule)
    if momentum.signed or not momentum.peak < 1.0:
        raise ValueError(
            f"{owner}: schedule must stay in [0, 1) to be a momentum, its peak is {momentum.peak!r}"
            + (" and it can go negative" if momentum.signed else "")
        )
    _set_schedule(optimizer, key, momentum)
    value = ScheduledValue(optimizer, key)
    value._follow_parameter_dtype()
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
    _set_schedule(optimizer, "learning_rate", schedule)
    return schedule_momentum(optimizer, momentum)
