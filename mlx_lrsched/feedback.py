"""Feedback-driven schedules: reduce on plateau (a validation metric) and gradient-norm scaling.

Both multiply a base schedule by a factor that training decides, so they carry state. That state is a
small dict of ``mx.array`` that lives in ``optimizer.state`` once the schedule is attached
(:meth:`ReduceOnPlateau.attach`). There a compiled step (``mx.compile(step, inputs=state,
outputs=state)`` with ``optimizer.state`` in ``state``, or :func:`mlx_lrsched.training.compile_step`)
reads the current arrays on every call, and a checkpoint of ``optimizer.state`` saves and restores it.
The schedule objects themselves stay frozen: only the arrays in the dict change.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import numpy as np

from . import _check
from ._shapes import exp_decay
from ._xp import NUMPY, Array, Backend, mx
from .base import Schedule, normalise

__all__ = ["GradNormScaled", "ReduceOnPlateau"]

OptimizerT = TypeVar("OptimizerT")


def _scalar(value: float | int, dtype: str) -> Array:
    """A 0-d state array: MLX when it is installed, NumPy otherwise (the reference needs no MLX)."""
    if mx is not None:
        return mx.array(value, dtype=getattr(mx, dtype))
    return np.asarray(value, dtype=dtype)


class _Stateful(Schedule):
    """A schedule whose multiplier lives in a dict of arrays, its own or one inside ``optimizer.state``."""

    state_key: ClassVar[str] = ""

    def _initial_state(self) -> dict[str, Array]:
        raise NotImplementedError

    def _start(self) -> None:
        object.__setattr__(self, "_own_state", self._initial_state())
        object.__setattr__(self, "_optimizer", None)
        object.__setattr__(self, "_key", self.state_key)

    @property
    def state(self) -> dict[str, Array]:
        """The live state dict: ``optimizer.state[key]`` once attached, the schedule's own dict before."""
        optimizer = self.__dict__["_optimizer"]
        if optimizer is None:
            return self.__dict__["_own_state"]  # type: ignore[no-any-return]
        return optimizer.state[self.__dict__["_key"]]  # type: ignore[no-any-return]

    def attach(self, optimizer: OptimizerT, *, key: str | None = None) -> OptimizerT:
        """Keep this schedule's state in ``optimizer.state[key]`` and return the optimizer.

        The schedule reads ``optimizer.state[key]`` on every call, so a compiled step that carries
        ``optimizer.state`` sees each change, checkpoints of ``optimizer.state`` include it, and assigning
        a loaded ``optimizer.state`` restores it. If ``key`` is already there (a restored checkpoint), its
        arrays are adopted; otherwise a fresh initial state is stored. Attaching does not set the
        optimizer's learning rate: pass the schedule (or a schedule built on it) as ``learning_rate``.
        """
        name = type(self).__name__
        key = self.state_key if key is None else key
        if not isinstance(key, str) or not key:
            raise TypeError(f"{name}: key must be a non-empty string, got {key!r}")
        state: Any = getattr(optimizer, "state", None)
        stable = getattr(optimizer, "state", None) is state  # MultiOptimizer builds a new dict on every read
        if not isinstance(state, dict) or not stable:
            raise TypeError(
                f"{name}: attach needs an mlx.optimizers optimizer with a state dict, got {type(optimizer).__name__}"
                " (for optim.MultiOptimizer attach to the inner optimizer that uses this schedule)"
            )
        if key in state:
            stored = state[key]
            expected = set(self._initial_state())
            if not isinstance(stored, dict) or set(stored) != expected:
                found = sorted(stored) if isinstance(stored, dict) else type(stored).__name__
                raise ValueError(
                    f"{name}: optimizer.state[{key!r}] must hold the keys {sorted(expected)}, found {found}"
                )
        else:
            state[key] = self._initial_state()
        object.__setattr__(self, "_optimizer", optimizer)
        object.__setattr__(self, "_key", key)
        return optimizer

    def _read(self, name: str) -> float:
        return float(self.state[name].item())


@dataclass(frozen=True)
class ReduceOnPlateau(_Stateful):
    r"""Multiply a schedule by ``factor`` whenever a monitored metric stops improving (PyTorch semantics).

    .. math::
        \eta_t = \min\big(b(t),\ \max(b(t)\, \gamma^{n},\ \eta_{\min})\big)

    where :math:`b` is the base schedule, :math:`\gamma` the factor and :math:`n` the number of
    reductions so far. :meth:`update` is called from Python once per evaluation with the metric and
    follows ``torch.optim.lr_scheduler.ReduceLROnPlateau``: a value is an improvement when it beats
    ``best`` by the threshold (``rel``: :math:`a < \text{best}\,(1 - \theta)` in ``min`` mode,
    :math:`a > \text{best}\,(1 + \theta)` in ``max`` mode; ``abs``: :math:`a < \text{best} - \theta`,
    :math:`a > \text{best} + \theta`); more than ``patience`` evaluations without one reduce the rate,
    then ``cooldown`` evaluations are ignored. A reduction that would change the rate (taken at the
    base schedule's peak, which for a constant base is the rate itself) by at most ``eps`` is skipped.

    Metrics are rounded to float32, the precision losses are computed in, because ``best`` is stored as a
    float32 array (checkpoints hold no float64). A NaN metric is never an improvement and counts as a bad
    evaluation, as in PyTorch (``nan < best`` is false): a diverging run is pushed to lower rates instead
    of being ignored, and NaN never becomes ``best``, so later comparisons stay meaningful.

    The state (``best`` float32, ``num_bad_epochs``, ``cooldown_counter`` and ``num_reductions`` int32)
    lives in ``optimizer.state["reduce_on_plateau"]`` after :meth:`attach`; the multiplier
    :math:`\gamma^{n}` is computed from ``num_reductions`` on both backends, so it cannot disagree with it.

    Args:
        schedule: the base schedule :math:`b` (any :class:`Schedule`) or a constant learning rate.
        factor: :math:`\gamma \in (0, 1)`, the multiplier applied at each reduction.
        patience: evaluations without improvement tolerated before a reduction (integer :math:`\ge 0`).
        mode: ``"min"`` (a loss) or ``"max"`` (an accuracy).
        threshold: :math:`\theta \ge 0`, the margin an improvement must beat (below 1 for ``rel``).
        threshold_mode: ``"rel"`` or ``"abs"``.
        cooldown: evaluations after a reduction during which bad evaluations are not counted.
        min_lr: :math:`\eta_{\min} \ge 0`, reductions never take the rate below it (nor lift it above
            the base schedule).
        eps: reductions that change the rate by at most ``eps`` are skipped.

    Examples:
        >>> import numpy as np
        >>> import mlx.optimizers as optim
        >>> plateau = ReduceOnPlateau(0.1, factor=0.5, patience=1)
        >>> optimizer = plateau.attach(optim.SGD(learning_rate=plateau))
        >>> [plateau.update(loss) for loss in [1.0, 0.9, 0.95, 0.95]]
        [False, False, False, True]
        >>> plateau(np.arange(2)), plateau.num_reductions
        (array([0.05, 0.05]), 1)

    References:
        PyTorch ``torch.optim.lr_scheduler.ReduceLROnPlateau``; Keras ``ReduceLROnPlateau`` callback.
    """

    schedule: Schedule
    factor: float = 0.1
    patience: int = 10
    mode: str = "min"
    threshold: float = 1e-4
    threshold_mode: str = "rel"
    cooldown: int = 0
    min_lr: float = 0.0
    eps: float = 1e-8

    state_key: ClassVar[str] = "reduce_on_plateau"

    def __post_init__(self) -> None:
        owner = "ReduceOnPlateau"
        threshold_mode = _check.choice(owner, "threshold_mode", self.threshold_mode, ("rel", "abs"))
        normalise(
            self,
            schedule=_check.schedule(owner, "schedule", self.schedule),
            factor=_check.real(owner, "factor", self.factor, low=0.0, high=1.0, low_open=True, high_open=True),
            patience=_check.integer(owner, "patience", self.patience),
            mode=_check.choice(owner, "mode", self.mode, ("min", "max")),
            threshold=_check.real(
                owner,
                "threshold",
                self.threshold,
                low=0.0,
                high=1.0 if threshold_mode == "rel" else math.inf,
                high_open=threshold_mode == "rel",
            ),
            threshold_mode=threshold_mode,
            cooldown=_check.integer(owner, "cooldown", self.cooldown),
            min_lr=_check.non_negative(owner, "min_lr", self.min_lr),
            eps=_check.non_negative(owner, "eps", self.eps),
        )
        self._start()

    def _initial_state(self) -> dict[str, Array]:
        return {
            "best": _scalar(math.inf if self.mode == "min" else -math.inf, "float32"),
            "num_bad_epochs": _scalar(0, "int32"),
            "cooldown_counter": _scalar(0, "int32"),
            "num_reductions": _scalar(0, "int32"),
        }

    def evaluate(self, xp: Backend, t: Array) -> Array:
        base = self.schedule.evaluate(xp, t)
        # One formula for both backends, from the one stored count: factor ** n.
        reductions = np.asarray(self.num_reductions) if xp is NUMPY else self.state["num_reductions"]
        reduced = base * exp_decay(xp, 1.0, reductions, math.log(self.factor))
        if self.min_lr > 0.0:
            reduced = xp.minimum(base, xp.maximum(reduced, self.min_lr))
        return reduced

    @property
    def peak(self) -> float:
        return self.schedule.peak

    @property
    def signed(self) -> bool:
        return self.schedule.signed

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return self.schedule.phase_boundaries

    def _is_better(self, current: float, best: float) -> bool:
        if self.mode == "min":
            return current < (best * (1.0 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold)
        return current > (best * (1.0 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold)

    def _rate_at_peak(self, reductions: int) -> float:
        peak = self.schedule.peak
        return min(peak, max(peak * self.factor**reductions, self.min_lr))

    def update(self, metric: Any) -> bool:
        """Record one evaluation of the monitored metric; return True if the learning rate was reduced.

        Call it from Python (not inside a compiled function), once per evaluation. ``metric`` is a
        Python or NumPy number or a one-element ``mx.array`` (evaluated here).
        """
        if isinstance(metric, (bool, str, bytes)) or not (isinstance(metric, numbers.Real) or hasattr(metric, "item")):
            raise TypeError(f"ReduceOnPlateau: metric must be a real number, got {type(metric).__name__} {metric!r}")
        current = float(np.float32(float(metric)))
        best = self._read("best")
        bad = int(self._read("num_bad_epochs"))
        cooldown_counter = int(self._read("cooldown_counter"))
        reductions = int(self._read("num_reductions"))
        if self._is_better(current, best):
            best, bad = current, 0
        else:
            bad += 1
        if cooldown_counter > 0:
            cooldown_counter -= 1
            bad = 0  # evaluations during cooldown never count
        reduced = False
        if bad > self.patience:
            if self._rate_at_peak(reductions) - self._rate_at_peak(reductions + 1) > self.eps:
                reductions += 1
                reduced = True
            cooldown_counter, bad = self.cooldown, 0
        state = self.state
        state["best"] = _scalar(best, "float32")
        state["num_bad_epochs"] = _scalar(bad, "int32")
        state["cooldown_counter"] = _scalar(cooldown_counter, "int32")
        state["num_reductions"] = _scalar(reductions, "int32")
        return reduced

    @property
    def scale(self) -> float:
        """The current multiplier :math:`\\gamma^{n}` (float64, from the reduction count :math:`n`)."""
        return float(self.factor**self.num_reductions)

    @property
    def best(self) -> float:
        """The best metric seen so far (``inf`` / ``-inf`` before the first update)."""
        return self._read("best")

    @property
    def num_bad_epochs(self) -> int:
        """Evaluations since the last improvement (reset by a reduction and during cooldown)."""
        return int(self._read("num_bad_epochs"))

    @property
    def cooldown_counter(self) -> int:
        """Evaluations of cooldown left."""
        return int(self._read("cooldown_counter"))

    @property
    def num_reductions(self) -> int:
        """Reductions applied so far, :math:`n`."""
        return int(self._read("num_reductions"))


def _global_norm(gradients: Any, kind: str) -> Array:
    """The norm of all gradient leaves taken together, accumulated in float32."""
    from mlx.utils import tree_flatten

    flat: Any = tree_flatten(gradients)
    leaves = [leaf.astype(mx.float32) for _, leaf in flat]
    if not leaves:
        return mx.array(0.0, dtype=mx.float32)
    if kind == "inf":
        return mx.max(mx.stack([mx.max(mx.abs(leaf)) for leaf in leaves]))
    if kind == "l1":
        return mx.sum(mx.stack([mx.sum(mx.abs(leaf)) for leaf in leaves]))
    return mx.sqrt(mx.sum(mx.stack([mx.sum(mx.square(leaf)) for leaf in leaves])))


@dataclass(frozen=True)
class GradNormScaled(_Stateful):
    r"""Scale a schedule down when the current gradients are large (seed 000, example 3).

    .. math::
        \eta_t = \max\Big(b(t)\,\max\big(c,\ \tfrac{1}{\lVert g_t \rVert + 1}\big),\ \eta_{\min}\Big)

    where :math:`b` is the base schedule, :math:`g_t` the gradients of update :math:`t` (all leaves
    together) and :math:`c` the floor of the multiplier. :meth:`attach` wraps the optimizer's
    ``apply_gradients`` so the norm of the gradients it receives is computed and stored in
    ``optimizer.state["grad_norm_scaled"]`` right before the learning rate is evaluated: inside a
    compiled step too, with no extra code in the training loop, for any ``mlx.optimizers`` optimizer.
    The norm is of the raw gradients (before weight decay, clipping inside the optimizer, momentum). An
    infinite norm gives the floor multiplier by the formula, and so does a NaN norm: the rate stays finite.

    Args:
        schedule: the base schedule :math:`b` (any :class:`Schedule`) or a constant learning rate.
        floor: :math:`c \in [0, 1]`, the smallest multiplier (the seed's 0.1).
        min_lr: :math:`\eta_{\min} \ge 0`, the rate never goes below it (the seed uses 1e-6).
        norm: ``"l2"`` (the seed's global Euclidean norm), ``"l1"`` or ``"inf"`` (largest magnitude).

    Examples:
        >>> import mlx.core as mx, mlx.nn as nn, mlx.optimizers as optim
        >>> scaled = GradNormScaled(0.1)
        >>> optimizer = scaled.attach(optim.SGD(learning_rate=scaled))
        >>> model = nn.Linear(2, 1)
        >>> grads = {"weight": mx.array([[3.0, 4.0]]), "bias": mx.array([0.0])}  # norm 5
        >>> optimizer.update(model, grads)
        >>> round(optimizer.learning_rate.item(), 6)  # 0.1 / (5 + 1)
        0.016667

    References:
        Seed 000, "How does batch-based exponential decay affect learning rates?", example 3.
    """

    schedule: Schedule
    floor: float = 0.1
    min_lr: float = 0.0
    norm: str = "l2"

    state_key: ClassVar[str] = "grad_norm_scaled"

    def __post_init__(self) -> None:
        owner = "GradNormScaled"
        normalise(
            self,
            schedule=_check.schedule(owner, "schedule", self.schedule),
            floor=_check.real(owner, "floor", self.floor, low=0.0, high=1.0),
            min_lr=_check.non_negative(owner, "min_lr", self.min_lr),
            norm=_check.choice(owner, "norm", self.norm, ("l2", "l1", "inf")),
        )
        self._start()

    def _initial_state(self) -> dict[str, Array]:
        return {"grad_norm": _scalar(0.0, "float32")}

    def evaluate(self, xp: Backend, t: Array) -> Array:
        grad_norm = self.grad_norm if xp is NUMPY else self.state["grad_norm"]
        multiplier = xp.maximum(1.0 / (grad_norm + 1.0), self.floor)
        multiplier = xp.where(grad_norm >= 0.0, multiplier, self.floor)  # a NaN norm: the floor, not a NaN rate
        return xp.maximum(self.schedule.evaluate(xp, t) * multiplier, self.min_lr)

    @property
    def peak(self) -> float:
        return max(self.schedule.peak, self.min_lr)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return self.schedule.phase_boundaries

    @property
    def grad_norm(self) -> float:
        """The gradient norm of the latest update (0 before the first)."""
        return self._read("grad_norm")

    def attach(self, optimizer: OptimizerT, *, key: str | None = None) -> OptimizerT:
        """Store the state in ``optimizer.state[key]`` and make ``apply_gradients`` record the gradient norm.

        See :meth:`ReduceOnPlateau.attach` for how the state is stored and restored. The optimizer's
        ``apply_gradients`` (which ``update`` calls) is wrapped once per optimizer instance; every
        ``GradNormScaled`` attached to it records the norm under its own (current) key.
        """
        if mx is None:
            raise RuntimeError("GradNormScaled: attach needs MLX (pip install mlx)")
        super().attach(optimizer, key=key)
        owners: list[GradNormScaled] | None = getattr(optimizer.apply_gradients, "_lrsched_owners", None)  # type: ignore[attr-defined]
        if owners is None:
            original, owners = optimizer.apply_gradients, []  # type: ignore[attr-defined]
            recorders = owners

            def apply_gradients(gradients: Any, parameters: Any) -> Any:
                for owner in recorders:
                    state = optimizer.state[owner.__dict__["_key"]]  # type: ignore[attr-defined]
                    state["grad_norm"] = _global_norm(gradients, owner.norm)
                return original(gradients, parameters)

            wrapper: Callable[..., Any] = apply_gradients
            wrapper._lrsched_owners = owners  # type: ignore[attr-defined]
            optimizer.apply_gradients = wrapper  # type: ignore[attr-defined]
        if not any(owner is self for owner in owners):  # identity: equal configs are distinct schedules
            owners.append(self)
        return optimizer
