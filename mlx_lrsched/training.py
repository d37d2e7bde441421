"""Training-loop helpers: a correctly wired compiled step and a guard against a frozen update counter.

``mx.compile(step, inputs=model.state, outputs=model.state)`` (the pattern of mlx-examples' ``mnist``; its
other training examples, e.g. ``cifar``, ``cvae``, ``gcn``, ``normalizing_flow``, ``speechcommands`` and
``transformer_lm``, put ``optimizer.state`` in the compiled state as well) leaves the optimizer's state
out of the compiled graph.
``optimizer.step`` is then a constant captured at trace time: each compiled trace replays the update of
the step it was traced at. A fresh optimizer's first trace uses ``schedule(0)`` and leaves
``optimizer.step`` reading 1; a retrace (a new input shape, e.g. mnist's smaller last batch) is traced at
step 1, so that shape uses ``schedule(1)`` while the full batches keep ``schedule(0)``, and
``optimizer.step`` then reads 2 for good. With a plain float learning rate there is no schedule to freeze,
but the frozen step still matters: Adam's bias correction ``1 - beta ** step`` never moves. Nothing raises.
:func:`compile_step` compiles with the optimizer's state carried, and :class:`ScheduleGuard` turns the
silent failure into an error.
"""

from __future__ import annotations

import functools
import warnings
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Generic, ParamSpec, TypeVar

from . import _check
from ._state import uncarried_feedback
from ._xp import mx

__all__ = ["CompiledStep", "FrozenScheduleError", "ScheduleGuard", "compile_step"]

P = ParamSpec("P")
R = TypeVar("R")

_FIX = (
    "Fix: compile with the optimizer's state as input and output,\n"
    "    state = [model.state, optimizer.state, mx.random.state]\n"
    "    step = mx.compile(step, inputs=state, outputs=state)\n"
    "or use mlx_lrsched.training.compile_step(step, model, optimizer)."
)


class FrozenScheduleError(RuntimeError):
    """``optimizer.step`` did not advance across an update.

    With a schedule the learning rate is frozen; with a plain float rate the step-dependent parts of the
    update (Adam's bias correction, any scheduled hyperparameter) are.
    """


def _leaves(optimizer: Any) -> list[Any]:
    """``optimizer`` itself, or the inner optimizers of an ``optim.MultiOptimizer`` (recursively)."""
    inner = getattr(optimizer, "optimizers", None)
    return [optimizer] if inner is None else [leaf for sub in inner for leaf in _leaves(sub)]


def _optimizer_steps(optimizer: Any) -> tuple[int, ...]:
    """The update counters of ``optimizer`` (one per inner optimizer of an ``optim.MultiOptimizer``)."""
    return tuple(int(leaf.step.item()) for leaf in _leaves(optimizer))


def _scheduled(optimizer: Any) -> list[str]:
    """The names of the hyperparameters ``optimizer`` evaluates from a schedule (``optimizer._schedulers``)."""
    schedulers = getattr(optimizer, "_schedulers", None)
    return sorted(schedulers) if isinstance(schedulers, dict) else []


def _frozen_message(step: int, scheduled: list[str]) -> str:
    """What a frozen ``optimizer.step`` freezes, given the names the stuck optimizer schedules."""
    head = f"optimizer.step did not advance (it reads {step} again after an update): "
    if "learning_rate" in scheduled:
        head += "the learning-rate schedule is frozen."
        effect = "every update uses the same learning rate."
    else:
        others = [name for name in scheduled if name != "learning_rate"]
        head += "the update counter is frozen. The learning rate is not a schedule, so it stays as set, but "
        frozen = f"the {', '.join(others)} schedule is frozen, and so is " if others else ""
        head += f"{frozen}every step-dependent part of the update{'' if others else ' is frozen'}, e.g. Adam's "
        head += "bias correction 1 - beta**step (the frozen step still matters without a schedule)."
        effect = "every update uses the same step."
    return (
        f"{head}\n"
        "Cause: the training step is compiled without the optimizer's state, e.g. "
        "mx.compile(step, inputs=model.state, outputs=model.state) (mlx-examples mnist): optimizer.step is a constant "
        f"inside the compiled graph and {effect}\n"
        f"{_FIX}\n"
        "(If optimizer.update was not called since the last check, e.g. with gradient accumulation, "
        "call check() only after updates.)"
    )


class ScheduleGuard:
    r"""Raise :class:`FrozenScheduleError` when ``optimizer.step`` does not move between two checks.

    Call :meth:`check` once after each optimizer update. The update counter must move between two checks
    (a checkpoint restore may move it back), otherwise the learning rate is frozen:

    .. math:: \text{step}_{k} \ne \text{step}_{k-1} \quad \text{for every check } 1 \le k \le n

    The first ``checks`` calls read ``optimizer.step`` (an evaluation of one scalar each); later calls do
    nothing, so the guard can stay in the loop for free. The frozen pattern is caught at the second check:
    the first compiled call still moves ``step`` once (from its value at trace time), then only a retrace
    (a new input shape) moves it again. The message says what is frozen: the learning-rate schedule, or,
    when the learning rate is a plain float (``optimizer._schedulers`` has no ``learning_rate``), the
    step-dependent parts of the update such as Adam's bias correction.

    Args:
        optimizer: an ``mlx.optimizers`` optimizer (``MultiOptimizer`` too: each inner counter is checked).
        checks: how many calls of :meth:`check` read the counter (0 turns the guard off).

    Examples:
        >>> import mlx.core as mx, mlx.nn as nn, mlx.optimizers as optim
        >>> from functools import partial
        >>> model, optimizer = nn.Linear(2, 1), optim.SGD(learning_rate=optim.linear_schedule(0.1, 0.0, 10))
        >>> @partial(mx.compile, inputs=model.state, outputs=model.state)  # optimizer.state missing
        ... def step(x):
        ...     loss, grads = nn.value_and_grad(model, lambda m: m(x).sum())(model)
        ...     optimizer.update(model, grads)
        ...     return loss
        >>> guard = ScheduleGuard(optimizer)
        >>> try:
        ...     for _ in range(3):
        ...         loss = step(mx.ones((4, 2)))
        ...         guard.check()
        ... except FrozenScheduleError as error:
        ...     print(str(error).splitlines()[0])
        optimizer.step did not advance (it reads 1 again after an update): the learning-rate schedule is frozen.

    References:
        MLX documentation, *Compilation*: "Compiling Training Graphs" (state as ``inputs``/``outputs``).
    """

    def __init__(self, optimizer: Any, *, checks: int = 3) -> None:
        if isinstance(checks, bool) or not isinstance(checks, int) or checks < 0:
            raise ValueError(f"ScheduleGuard: checks must be an integer >= 0, got {checks!r}")
        self.optimizer = optimizer
        self.remaining = checks
        self._last = _optimizer_steps(optimizer) if checks else ()

    def check(self) -> None:
        """Compare ``optimizer.step`` with the previous check (or construction); raise if it did not move."""
        if self.remaining <= 0:
            return
        self.remaining -= 1
        steps = _optimizer_steps(self.optimizer)
        stuck = [
            (now, leaf)
            for now, before, leaf in zip(steps, self._last, _leaves(self.optimizer), strict=True)
            if now == before
        ]
        self._last = steps
        if stuck:
            step, leaf = stuck[0]
            raise FrozenScheduleError(_frozen_message(step, _scheduled(leaf)))


_WARNED_MANUAL_LR: weakref.WeakSet[Any] = weakref.WeakSet()
"""Optimizers already warned about a hand-assigned learning rate (the warning comes once per optimizer)."""


class CompiledStep(Generic[P, R]):
    """A training step compiled with the model, optimizer and random state carried; see :func:`compile_step`.

    Before each call it checks two things that only reading Python references can see, without evaluating
    anything on the common path:

    - the optimizer's state dict is still the one compiled in. ``optimizer.state = loaded`` replaces it,
      and the compiled step would still read and write the old tree (MLX then fails at the next call with
      ``[eval] Attempting to eval an array without a primitive``); a :class:`RuntimeError` says so first.
    - ``optimizer.state["learning_rate"]`` is still the array the previous call left there. If the loop
      assigned ``optimizer.learning_rate = ...`` by hand while a schedule is set, the optimizer overwrites
      that value with ``schedule(step)`` at the update: a :class:`UserWarning` says so, once per optimizer
      (only when the assigned value differs from the schedule's own value, so an in-place restore of a
      checkpoint's state does not warn).

    Attributes:
        fn: the user's uncompiled step.
        compiled: ``mx.compile(fn, inputs=tree, outputs=tree)``.
        tree: ``[model.state, optimizer.state, mx.random.state, *state]``, the compiled state.
        guard: the :class:`ScheduleGuard` run on the first ``check_steps`` calls.
    """

    def __init__(self, fn: Callable[P, R], tree: list[Any], optimizer: Any, check_steps: int) -> None:
        self.fn = fn
        self.tree = tree
        self.optimizer = optimizer
        self.compiled: Callable[P, R] = mx.compile(fn, inputs=tree, outputs=tree)
        self.check_steps = check_steps
        self.guard: ScheduleGuard | None = None
        self._states = [(leaf, leaf.state) for leaf in _leaves(optimizer)]
        self._rates = self._learning_rates()
        functools.update_wrapper(self, fn)

    def _learning_rates(self) -> list[tuple[Any, Any]]:
        """``(optimizer, its current learning-rate array)`` for each (inner) optimizer with a scheduled rate."""
        return [
            (leaf, state.get("learning_rate"))
            for leaf, state in self._states
            if "learning_rate" in _scheduled(leaf) and leaf not in _WARNED_MANUAL_LR
        ]

    def _check_state_tree(self) -> None:
        replaced = [leaf for leaf, state in self._states if leaf.state is not state]
        if replaced:
            raise RuntimeError(
                "compile_step: optimizer.state was replaced after compile_step (e.g. optimizer.state = loaded), "
                "so the compiled step no longer carries the optimizer's state (MLX would fail with '[eval] "
                "Attempting to eval an array without a primitive'); restore optimizer.state before calling "
                "compile_step, or call compile_step again"
            )

    def _check_manual_learning_rate(self) -> None:
        overridden = []
        for leaf, before in self._rates:
            now = leaf.state.get("learning_rate")
            if now is before or leaf in _WARNED_MANUAL_LR:
                continue
            step = leaf.state["step"]
            expected = leaf._schedulers["learning_rate"](mx.maximum(step, 1) - 1)  # what the last update stored
            if not bool(mx.allclose(now, expected, rtol=1e-5, atol=0.0).item()):
                overridden.append(leaf)
        if overridden:
            _WARNED_MANUAL_LR.update(overridden)
            warnings.warn(
                "compile_step: optimizer.learning_rate was assigned by hand, but the optimizer's learning rate is "
                "a schedule: each update overwrites it with schedule(optimizer.step), so the assigned value is "
                "ignored. Put the warm-up into the schedule (e.g. mlx_lrsched.Warmup) instead of assigning "
                "optimizer.learning_rate in the loop.",
                UserWarning,
                stacklevel=3,
            )

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        self._check_state_tree()
        if self._rates:
            self._check_manual_learning_rate()
        if self.guard is None:  # the counter is read right before the first call, not at construction
            self.guard = ScheduleGuard(self.optimizer, checks=self.check_steps)
        result = self.compiled(*args, **kwargs)
        if self._rates:
            self._rates = self._learning_rates()
        self.guard.check()
        return result


def _check_feedback_reaches_the_step(optimizer: Any, state: Sequence[Any]) -> None:
    """Refuse a feedback schedule whose state the compiled step would bake in as a constant.

    Its state must live in ``optimizer.state`` (``schedule.attach(optimizer)``) or be passed in ``state``;
    otherwise ``plateau.update(...)`` (or the gradient norm) would never reach the compiled step.
    """
    unattached = uncarried_feedback(optimizer, state)
    if unattached:
        name = type(unattached[0]).__name__
        raise ValueError(
            f"compile_step: the {name} in the optimizer's schedule is not attached to it, so its updates "
            f"would never reach the compiled step; call .attach(optimizer) on the {name} first (or pass its "
            ".state in state=[...])"
        )


def compile_step(
    fn: Callable[P, R], model: Any, optimizer: Any, *, state: Sequence[Any] = (), check_steps: int = 3
) -> CompiledStep[P, R]:
    r"""Compile a full training step with the optimizer's state carried, so schedules advance.

    ``fn`` does the forward pass, ``nn.value_and_grad`` and ``optimizer.update(model, grads)``. The result
    calls ``mx.compile(fn, inputs=tree, outputs=tree)`` with

    .. math:: \text{tree} = [\text{model.state},\ \text{optimizer.state},\ \text{mx.random.state},
        \ \text{state}_1, \dots]

    so update :math:`i` (counting from 0) uses :math:`\eta(i)`, exactly as the uncompiled loop does.
    An optimizer that was never initialised is initialised first (``optimizer.init(
    model.trainable_parameters())``), so the compiled tree holds its moments from the start. The first
    ``check_steps`` calls run a :class:`ScheduleGuard`: if ``fn`` does not advance ``optimizer.step``
    (it updates another optimizer, or only every k-th call) :class:`FrozenScheduleError` is raised;
    pass ``check_steps=0`` for steps that legitimately skip updates. Restore a checkpoint into
    ``optimizer.state`` in place (or before calling this): after ``optimizer.state = loaded`` the compiled
    step raises a :class:`RuntimeError` until ``compile_step`` is called again. Assigning
    ``optimizer.learning_rate`` by hand while the rate is a schedule has no effect (each update stores
    ``schedule(step)``); the compiled step warns once per optimizer (see :class:`CompiledStep`).

    Args:
        fn: the training step, any signature; it returns whatever it returns (e.g. the loss).
        model: the ``mlx.nn.Module`` that ``fn`` trains.
        optimizer: the ``mlx.optimizers`` optimizer that ``fn`` updates.
        state: extra trees of ``mx.array`` that ``fn`` reads or writes (e.g. a feedback schedule's state);
            change them outside the step by item assignment, and the compiled step sees the new values.
        check_steps: how many of the first calls check that ``optimizer.step`` advanced.

    Returns:
        A :class:`CompiledStep`: callable like ``fn``; ``.compiled`` and ``.tree`` expose the compiled
        function and its state.

    Examples:
        >>> import mlx.core as mx, mlx.nn as nn, mlx.optimizers as optim
        >>> from mlx_lrsched.decay import CosineDecay
        >>> model = nn.Linear(2, 1)
        >>> optimizer = optim.AdamW(learning_rate=CosineDecay(1e-2, decay_steps=100))
        >>> def train_step(x, y):
        ...     loss_fn = lambda m: nn.losses.mse_loss(m(x), y)
        ...     loss, grads = nn.value_and_grad(model, loss_fn)(model)
        ...     optimizer.update(model, grads)
        ...     return loss
        >>> step = compile_step(train_step, model, optimizer)
        >>> for _ in range(5):
        ...     loss = step(mx.ones((8, 2)), mx.zeros((8, 1)))
        >>> optimizer.step.item(), round(optimizer.learning_rate.item(), 8)  # lr used by update 4 = eta(4)
        (5, 0.00996057)

    References:
        MLX documentation, *Compilation*: "Compiling Training Graphs".
    """
    if isinstance(check_steps, bool) or not isinstance(check_steps, int) or check_steps < 0:
        raise ValueError(f"compile_step: check_steps must be an integer >= 0, got {check_steps!r}")
    state = _check.sequence("compile_step", "state", state, "trees of mx.array")
    _check_feedback_reaches_the_step(optimizer, state)
    if mx is None:
        raise RuntimeError("compile_step: compiling a training step needs MLX (pip install mlx)")
    if not getattr(optimizer, "_initialized", False):
        optimizer.init(model.trainable_parameters())
    tree = [model.state, optimizer.state, mx.random.state, *state]
    return CompiledStep(fn, tree, optimizer, check_steps)
