"""Training-loop helpers: a correctly wired compiled step and a guard against frozen schedules.

``mx.compile(step, inputs=model.state, outputs=model.state)`` (the pattern of the MLX examples) leaves the
optimizer's state out of the compiled graph. ``optimizer.step`` is then a constant captured at trace time:
every update uses the learning rate of that one step, and ``optimizer.step`` reads the same value after
every call. Nothing raises. :func:`compile_step` compiles with the optimizer's state carried, and
:class:`ScheduleGuard` turns the silent failure into an error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Generic, ParamSpec, TypeVar

from . import _check
from .base import Schedule

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
    """``optimizer.step`` did not advance across an update: the learning-rate schedule is frozen."""


def _optimizer_steps(optimizer: Any) -> tuple[int, ...]:
    """The update counters of ``optimizer`` (one per inner optimizer of an ``optim.MultiOptimizer``)."""
    inner = getattr(optimizer, "optimizers", None)
    if inner is not None:
        return tuple(step for sub in inner for step in _optimizer_steps(sub))
    return (int(optimizer.step.item()),)


class ScheduleGuard:
    r"""Raise :class:`FrozenScheduleError` when ``optimizer.step`` does not move between two checks.

    Call :meth:`check` once after each optimizer update. The update counter must move between two checks
    (a checkpoint restore may move it back), otherwise the learning rate is frozen:

    .. math:: \text{step}_{k} \ne \text{step}_{k-1} \quad \text{for every check } 1 \le k \le n

    The first ``checks`` calls read ``optimizer.step`` (an evaluation of one scalar each); later calls do
    nothing, so the guard can stay in the loop for free. The frozen pattern is caught at the second check:
    the first compiled call still moves ``step`` once (from its value at trace time), then never again.

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
        stuck = [now for now, before in zip(steps, self._last, strict=True) if now == before]
        self._last = steps
        if stuck:
            raise FrozenScheduleError(
                f"optimizer.step did not advance (it reads {stuck[0]} again after an update): the learning-rate "
                "schedule is frozen.\n"
                "Cause: the training step is compiled without the optimizer's state, e.g. "
                "mx.compile(step, inputs=model.state, outputs=model.state): optimizer.step is a constant "
                "inside the compiled graph and every update uses the same learning rate.\n"
                f"{_FIX}\n"
                "(If optimizer.update was not called since the last check, e.g. with gradient accumulation, "
                "call check() only after updates.)"
            )


class CompiledStep(Generic[P, R]):
    """A training step compiled with the model, optimizer and random state carried; see :func:`compile_step`.

    Attributes:
        fn: the user's uncompiled step.
        compiled: ``mx.compile(fn, inputs=tree, outputs=tree)``.
        tree: ``[model.state, optimizer.state, mx.random.state, *state]``, the compiled state.
        guard: the :class:`ScheduleGuard` run on the first ``check_steps`` calls.
    """

    def __init__(self, fn: Callable[P, R], tree: list[Any], optimizer: Any, check_steps: int) -> None:
        import mlx.core as mx  # imported here: ``import mlx_lrsched`` must work without MLX

        self.fn = fn
        self.tree = tree
        self.optimizer = optimizer
        self.compiled: Callable[P, R] = mx.compile(fn, inputs=tree, outputs=tree)
        self.check_steps = check_steps
        self.guard: ScheduleGuard | None = None
        functools.update_wrapper(self, fn)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if self.guard is None:  # the counter is read right before the first call, not at construction
            self.guard = ScheduleGuard(self.optimizer, checks=self.check_steps)
        result = self.compiled(*args, **kwargs)
        self.guard.check()
        return result


def _check_feedback_reaches_the_step(optimizer: Any, state: Sequence[Any]) -> None:
    """Refuse a feedback schedule whose state the compiled step would bake in as a constant.

    Its state must live in ``optimizer.state`` (``schedule.attach(optimizer)``) or be passed in ``state``;
    otherwise ``plateau.update(...)`` (or the gradient norm) would never reach the compiled step.
    """
    from .feedback import _Stateful

    optimizers = getattr(optimizer, "optimizers", [optimizer])  # MultiOptimizer: its inner optimizers
    for owner in optimizers:
        for schedule in getattr(owner, "_schedulers", {}).values():
            feedback = (
                [n for n in schedule.walk() if isinstance(n, _Stateful)] if isinstance(schedule, Schedule) else []
            )
            for node in feedback:
                attached = any(node.__dict__["_optimizer"] is o for o in optimizers)
                if not attached and not any(node.state is s for s in state):
                    name = type(node).__name__
                    raise ValueError(
                        f"compile_step: the {name} in the optimizer's schedule is not attached to it, so its "
                        f"updates would never reach the compiled step; call .attach(optimizer) on the {name} "
                        "first (or pass its .state in state=[...])"
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
    pass ``check_steps=0`` for steps that legitimately skip updates.

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
    if not getattr(optimizer, "_initialized", False):
        optimizer.init(model.trainable_parameters())
    import mlx.core as mx

    tree = [model.state, optimizer.state, mx.random.state, *state]
    return CompiledStep(fn, tree, optimizer, check_steps)
