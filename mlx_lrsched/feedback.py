"""Feedback-driven schedules: reduce on plateau (a validation metric) and gradient-norm scaling.

Both multiply a base schedule by a factor that training decides, so they carry state: a small dict of
arrays held by a :class:`~mlx_lrsched._state.StateSlot` that the frozen schedule makes once, when it
is constructed. :meth:`ReduceOnPlateau.attach` moves that dict into ``optimizer.state`` under the
instance's own key, where a compiled step (``mx.compile(step, inputs=state, outputs=state)`` with
``optimizer.state`` in ``state``, or :func:`mlx_lrsched.training.compile_step`) reads the current arrays
on every call and a checkpoint of ``optimizer.state`` saves and restores them. Updates replace arrays
in that dict; the schedule objects themselves never change.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import numbers
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import numpy as np

from . import _spec, _state
from ._check import FLOAT32_MAX, preview
from ._shapes import exp_decay
from ._xp import NUMPY, Array, Backend, mx
from .base import Schedule

__all__ = ["GradNormScaled", "ReduceOnPlateau"]

OptimizerT = TypeVar("OptimizerT")
FeedbackT = TypeVar("FeedbackT", bound="_Feedback")


def _scalar(value: float | int, dtype: str) -> Array:
    """A 0-d state array: MLX when it is installed, NumPy otherwise (the reference needs no MLX)."""
    if mx is not None:
        return mx.array(value, dtype=getattr(mx, dtype))
    return np.asarray(value, dtype=dtype)


def _rebuild(cls: type[FeedbackT], fields: dict[str, Any], values: dict[str, Array]) -> FeedbackT:
    """A new, unattached schedule with the given parameters and a copy of the given state (copy, pickle)."""
    schedule = cls(**fields)
    schedule._slot.restore(values)
    return schedule


class _Feedback(Schedule):
    """A schedule whose multiplier lives in a dict of arrays (its slot), its own or one in ``optimizer.state``.

    Equality compares the parameters, as for every schedule, but two equal plateaus are still two
    schedules with two states: no cache keyed by a schedule's value holds a stateful schedule (see
    :func:`mlx_lrsched.base.lowered`). Copies and unpickled schedules are new, unattached schedules that
    start from a copy of the current state.
    """

    reads_state: ClassVar[bool] = True
    state_key: ClassVar[str] = ""
    """The key of the first instance attached to an optimizer; later ones get ``state_key_1``, ..."""

    _slot: _state.StateSlot

    def __post_init__(self) -> None:
        super().__post_init__()
        # Made once, as part of construction: attaching and updating change the slot, never the schedule.
        object.__setattr__(self, "_slot", _state.StateSlot(type(self).__name__, self.state_key, self._initial_state()))

    def _initial_state(self) -> dict[str, Array]:
        raise NotImplementedError

    def _parameters(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}  # type: ignore[arg-type]

    def __copy__(self) -> _Feedback:
        return _rebuild(type(self), self._parameters(), self._slot.snapshot())

    def __deepcopy__(self, memo: dict[int, Any]) -> _Feedback:
        clone = _rebuild(type(self), copy.deepcopy(self._parameters(), memo), self._slot.snapshot())
        memo[id(self)] = clone  # one schedule used twice in a tree stays one schedule in the copy
        return clone

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self._parameters(), self._slot.snapshot()))

    @property
    def state(self) -> dict[str, Array]:
        """The live state dict: ``optimizer.state[key]`` once attached, the schedule's own dict before."""
        return self._slot.state

    def attach(self, optimizer: OptimizerT, *, key: str | None = None) -> OptimizerT:
        """Keep this schedule's state in ``optimizer.state[key]`` and return the optimizer.

        The schedule reads ``optimizer.state[key]`` on every call, so a compiled step that carries
        ``optimizer.state`` sees each change, checkpoints of ``optimizer.state`` include it, and assigning
        a loaded ``optimizer.state`` restores it. If ``key`` is already there (a restored checkpoint), its
        arrays are adopted; otherwise the schedule's current state moves there.

        Every instance has its own key. By default the first instance of a class attached to an optimizer
        uses :attr:`state_key` (``"reduce_on_plateau"``, ``"grad_norm_scaled"``: the keys of 0.1.0
        checkpoints), later ones ``state_key_1``, ``state_key_2``, ... in attach order, so the same
        program finds its keys again in a checkpoint; attaching again keeps the key. An explicit ``key``
        wins (it must not be another attached schedule's). Attaching does not set the learning rate:
        pass the schedule (or a schedule built on it) as ``learning_rate``.
        """
        self._slot.attach(optimizer, key)
        return optimizer

    def _read(self, name: str) -> float:
        return self._slot.read(name)


def _metric(metric: Any) -> float:
    """A metric as the float32 number it is compared as, or an error that says what is wrong with it."""
    owner = "ReduceOnPlateau"
    value = metric
    if not isinstance(metric, numbers.Real) and hasattr(metric, "item") and hasattr(metric, "shape"):
        if math.prod(metric.shape) != 1:
            raise ValueError(f"{owner}: metric must be a single number, got an array of shape {tuple(metric.shape)}")
        value = metric.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: metric must be a real number, got {type(metric).__name__} {preview(metric)}")
    # Python ints are exact (10**400 has no float); inf and nan are metrics of a diverged run and allowed.
    if isinstance(value, numbers.Integral):
        too_large = abs(int(value)) > FLOAT32_MAX
    else:
        too_large = math.isfinite(float(value)) and abs(float(value)) > FLOAT32_MAX
    if too_large:
        raise ValueError(
            f"{owner}: metric must fit in float32 (|metric| <= {FLOAT32_MAX:g}, or inf or nan), got {preview(value)}"
        )
    return float(np.float32(float(value)))


@dataclass(frozen=True)
class ReduceOnPlateau(_Feedback):
    r"""Multiply a schedule by ``factor`` whenever a monitored metric stops improving (PyTorch semantics):
    ``lr = min(f(t), max(f(t) · factor^reductions, min_lr))``.

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
    lives in ``optimizer.state["reduce_on_plateau"]`` after :meth:`attach` (``"reduce_on_plateau_1"``, ...
    for further instances on the same optimizer); the multiplier :math:`\gamma^{n}` is computed from
    ``num_reductions`` on both backends, so it cannot disagree with it.

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

    schedule: Schedule = _spec.schedule()
    factor: float = _spec.unit(0.1, high_open=True)
    patience: int = _spec.steps(10)
    mode: str = _spec.choice("min", ("min", "max"))
    threshold: float = _spec.real(1e-4, low=0.0)
    threshold_mode: str = _spec.choice("rel", ("rel", "abs"))
    cooldown: int = _spec.steps(0)
    min_lr: float = _spec.rate(0.0)
    eps: float = _spec.rate(1e-8)

    state_key: ClassVar[str] = "reduce_on_plateau"

    def _validate(self) -> None:
        if self.threshold_mode == "rel" and self.threshold >= 1.0:
            raise ValueError(
                f"ReduceOnPlateau: threshold must be a finite number in [0, 1) with threshold_mode='rel', "
                f"got {self.threshold!r}"
            )

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
        Python or NumPy number or a one-element ``mx.array`` (evaluated here); it must fit in float32
        (``inf`` and ``nan`` are allowed: they count as bad evaluations).
        """
        current = _metric(metric)
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


def _leaves(tree: Any) -> list[Any]:
    """The arrays of a tree of dicts, lists and tuples (the shape ``nn.value_and_grad`` returns)."""
    if isinstance(tree, dict):
        return [leaf for value in tree.values() for leaf in _leaves(value)]
    if isinstance(tree, (list, tuple)):
        return [leaf for value in tree for leaf in _leaves(value)]
    return [tree]


def _global_norm(gradients: Any, kind: str) -> Array:
    """The norm of all gradient leaves taken together, accumulated in float32."""
    leaves = [leaf.astype(mx.float32) for leaf in _leaves(gradients)]
    if not leaves:
        return mx.array(0.0, dtype=mx.float32)
    if kind == "inf":
        return mx.max(mx.stack([mx.max(mx.abs(leaf)) for leaf in leaves]))
    if kind == "l1":
        return mx.sum(mx.stack([mx.sum(mx.abs(leaf)) for leaf in leaves]))
    return mx.sqrt(mx.sum(mx.stack([mx.sum(mx.square(leaf)) for leaf in leaves])))


@dataclass(frozen=True)
class GradNormScaled(_Feedback):
    r"""Scale a schedule down when the current gradients are large: a smooth form of gradient-norm clipping.
    ``lr = max(f(t) · max(floor, 1 / (‖g‖ + 1)), min_lr)``.

    .. math::
        \eta_t = \max\Big(b(t)\,\max\big(c,\ \tfrac{1}{\lVert g_t \rVert + 1}\big),\ \eta_{\min}\Big)

    where :math:`b` is the base schedule, :math:`g_t` the gradients of update :math:`t` (all leaves
    together) and :math:`c` the floor of the multiplier. Without the floor, the step
    :math:`b(t)\, g_t / (\lVert g_t \rVert + 1)` is within a factor 2 of the step of clipping the
    gradient norm at 1, :math:`b(t) \min(1, 1/\lVert g_t \rVert)\, g_t` (``clip_grad_norm``), and never
    longer than :math:`b(t)`. :meth:`attach` makes the optimizer's ``apply_gradients`` compute the norm
    of the gradients it receives and store it in ``optimizer.state["grad_norm_scaled"]`` (or this
    instance's own key) right before the learning rate is evaluated: inside a compiled step too, with no
    extra code in the training loop, for any ``mlx.optimizers`` optimizer. The norm is of the raw
    gradients (before weight decay, clipping inside the optimizer, momentum). An infinite norm gives the
    floor multiplier by the formula, and so does a NaN norm: the rate stays finite.

    Args:
        schedule: the base schedule :math:`b` (any :class:`Schedule`) or a constant learning rate.
        floor: :math:`c \in [0, 1]`, the smallest multiplier.
        min_lr: :math:`\eta_{\min} \ge 0`, the rate never goes below it.
        norm: ``"l2"`` (the global Euclidean norm, as ``clip_grad_norm``), ``"l1"`` or ``"inf"`` (largest
            magnitude).

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
        Pascanu, R., Mikolov, T., Bengio, Y., *On the difficulty of training recurrent neural networks*,
        ICML 2013 (gradient-norm clipping). https://arxiv.org/abs/1211.5063; PyTorch
        ``torch.nn.utils.clip_grad_norm_`` and ``mlx.optimizers.clip_grad_norm``.
    """

    schedule: Schedule = _spec.schedule()
    floor: float = _spec.real(0.1, low=0.0, high=1.0)
    min_lr: float = _spec.rate(0.0)
    norm: str = _spec.choice("l2", ("l2", "l1", "inf"))

    state_key: ClassVar[str] = "grad_norm_scaled"

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
        """Store the state in ``optimizer.state[key]`` and have every update record the gradient norm there.

        See :meth:`ReduceOnPlateau.attach` for how the key is chosen and the state stored and restored.
        The optimizer's ``apply_gradients`` (which ``update`` calls) is wrapped once per optimizer
        instance, because ``mlx.optimizers`` passes the gradients to no other hook
        (:func:`mlx_lrsched._state.read_gradients`); every ``GradNormScaled`` attached to it records its
        own norm under its own key.
        """
        if mx is None:
            raise RuntimeError("GradNormScaled: attach needs MLX (pip install mlx)")
        super().attach(optimizer, key=key)
        _state.read_gradients(optimizer, self._slot, "grad_norm", functools.partial(_global_norm, kind=self.norm))
        return optimizer
