"""The algebra of schedules: ``Schedule`` itself, ``Constant``, ``Scale``, ``Product`` and number coercion.

A schedule is a frozen dataclass whose fields are declared once with :mod:`mlx_lrsched._spec`; the
generic ``__post_init__`` here validates and normalises every field from its spec, then calls the class's
``_validate`` hook for rules that tie fields together. ``evaluate`` is the formula, written once against
the backend shim (:mod:`mlx_lrsched._xp`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import numbers
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from . import _check, _registry, _spec, _xp
from ._xp import Array, Backend


class Schedule:
    """A learning-rate schedule: an immutable callable ``step -> learning rate``.

    Subclasses are frozen dataclasses whose fields are the schedule's parameters, each declared with its
    type and range (:mod:`mlx_lrsched._spec`), and implement :meth:`evaluate`, the formula written once
    against the backend shim.
    """

    reads_state: ClassVar[bool] = False
    """True for a schedule whose value also depends on training state (plateau, gradient norm)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            _registry.register(cls)
        if "__repr__" not in cls.__dict__:  # set before @dataclass runs, which then keeps it
            cls.__repr__ = Schedule.__repr__  # type: ignore[method-assign]

    def __repr__(self) -> str:
        """The class and the parameters that differ from their defaults: ``CosineDecay(init_lr=0.1, decay_steps=9)``."""
        parts = []
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if field.init and (field.default is dataclasses.MISSING or value != field.default):
                parts.append(f"{field.name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __post_init__(self) -> None:
        owner = type(self).__name__
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            spec = _spec.spec_of(field)
            if spec is not None:  # normalising a field is part of constructing it, as dataclasses' own __init__ does
                object.__setattr__(self, field.name, _checked(spec, owner, field.name, getattr(self, field.name)))
        self._validate()
        # Derived once here: every MLX call asks whether its formula may be compiled.
        object.__setattr__(self, "_stateful", any(node.reads_state for node in self.walk()))

    def _validate(self) -> None:
        """Rules between fields (each field's own range is checked from its spec before this runs)."""

    def __call__(self, step: Any) -> Array:
        """The learning rate at ``step``, the number of optimizer updates already applied (from 0).

        ``mlx.optimizers`` calls the schedule with its ``uint64`` step before incrementing it, so update
        ``i`` uses ``schedule(i)``; with gradient accumulation ``step`` counts updates, not micro-batches.

        * ``mx.array`` of any integer dtype, or a Python ``int``: an ``mx.array`` of float32 with the
          step's shape. Works eagerly, inside ``mx.compile`` and under ``mx.vmap``.
        * NumPy integer array or scalar: NumPy float64 (the reference backend), no MLX needed.

        Every step in ``[0, 2**63 - 1]`` is defined; past the end a finite schedule holds its last value.
        """
        xp, t = _xp.as_step(step)
        if xp is _xp.NUMPY:
            return _xp.evaluate_numpy(self.evaluate, t)
        if self.__dict__[
            "_stateful"
        ]:  # its state arrays must stay inputs, never constants baked into a compiled formula
            return _xp.finish(self.evaluate(xp, t), t)
        return _xp.COMPILED(self, self.evaluate, t)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        """The formula: learning rate at the integer steps ``t`` (already validated) on backend ``xp``.

        A schedule that is a composition of others defines :meth:`_lower` instead and is evaluated as it.
        """
        equivalent = lowered(self)
        if equivalent is self:
            raise NotImplementedError(f"{type(self).__name__} defines neither evaluate nor _lower")
        return equivalent.evaluate(xp, t)

    def _lower(self) -> Schedule:
        """An equivalent schedule built from others (a formula written once, as a composition), or ``self``."""
        return self

    def _scaled(self, factor: float) -> Schedule | None:
        """This schedule times ``factor`` with the factor folded into its constants, if it can be (else ``None``).

        ``Scale`` uses it so a scaled schedule costs no extra graph level (MLX fuses at most 11 levels deep).
        """
        return None

    @property
    def stateful(self) -> bool:
        """True if this schedule or one nested in it reads training state."""
        return bool(self.__dict__["_stateful"])

    @property
    def peak(self) -> float:
        """The largest value the schedule takes at any step (an upper bound where it is not attained)."""
        raise NotImplementedError

    @property
    def signed(self) -> bool:
        """True only for a formula that is negative by definition and that the user opted into."""
        return any(child.signed for child in self.children())

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        """Steps where the formula changes phase (warmup end, cycle ends, ...), for plots. May be empty."""
        return ()

    @property
    def momentum_schedule(self) -> Schedule | None:
        """The momentum schedule that goes with this learning rate (1-cycle's, cyclical momentum), if any.

        :func:`~mlx_lrsched.hyper.apply_schedule` puts it on the optimizer's momentum or ``betas[0]``.
        """
        return None

    def __mul__(self, other: object) -> Schedule:
        """``schedule * 0.5`` is ``Scale(schedule, 0.5)``; ``a * b`` is ``Product([a, b])``."""
        if isinstance(other, Schedule):
            return Product((self, other))
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return Scale(self, float(other))
        return NotImplemented

    __rmul__ = __mul__

    def children(self) -> Iterator[Schedule]:
        """The schedules nested directly in this one."""
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            for child in value if isinstance(value, tuple) else (value,):
                if isinstance(child, Schedule):
                    yield child

    def walk(self) -> Iterator[Schedule]:
        """This schedule and every schedule nested in it (compositions), depth first."""
        yield self
        for child in self.children():
            yield from child.walk()

    def curve(self, num_steps: int) -> np.ndarray:
        """The float64 reference values at steps ``0 .. num_steps - 1`` (NumPy only, no MLX needed)."""
        num_steps = _check.integer(f"{type(self).__name__}.curve", "num_steps", num_steps, high=10**10)
        return _xp.curve_numpy(self.evaluate, num_steps)

    def to_config(self) -> dict[str, Any]:
        """A JSON-serialisable dict with a ``"name"`` key; :func:`from_config` rebuilds the schedule."""
        config: dict[str, Any] = {"name": type(self).__name__}
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            if field.init:
                config[field.name] = _to_json(getattr(self, field.name))
        return config

    def to_json(self) -> str:
        """:meth:`to_config` as a JSON string."""
        return json.dumps(self.to_config())


@functools.lru_cache(maxsize=1024)
@functools.lru_cache(maxsize=1024)
def _lowered_pure(schedule: Schedule) -> Schedule:
    return schedule._lower()


def clear_lowered() -> None:
    """Forget every lowered composition (benchmarks use it to time a schedule's very first call)."""
    _lowered_pure.cache_clear()


def lowered(schedule: Schedule) -> Schedule:
    """``schedule._lower()``, built once per schedule value (schedules are frozen and hashable).

    Only pure schedules are cached by value: two equal feedback schedules are still two sets of state.
    """
    if type(schedule)._lower is Schedule._lower:  # a formula of its own: nothing to build (or to cache)
        return schedule
    if schedule.__dict__["_stateful"]:
        return schedule._lower()
    return _lowered_pure(schedule)


def as_schedule(owner: str, name: str, value: Any) -> Schedule:
    """A :class:`Schedule` as it is; a plain number as ``Constant`` (a learning rate, so ``>= 0``)."""
    if isinstance(value, Schedule):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return Constant(_check.non_negative(owner, name, value))
    raise TypeError(
        f"{owner}: {name} must be a Schedule or a learning rate, got {type(value).__name__} {_check.preview(value)}"
    )


def _checked(spec: _spec.Spec, owner: str, name: str, value: Any) -> Any:
    if spec.kind == "schedule":
        return as_schedule(owner, name, value)
    if spec.kind == "schedules":
        if isinstance(value, Schedule):
            raise TypeError(f"{owner}: {name} must be a list of schedules, got one {type(value).__name__}")
        values = _check.sequence(owner, name, value, "schedules")
        if not values:
            raise ValueError(f"{owner}: {name} must not be empty")
        return tuple(as_schedule(owner, f"{name}[{i}]", v) for i, v in enumerate(values))
    return spec.check(owner, name, value)


def _to_json(value: Any) -> Any:
    if isinstance(value, Schedule):
        return value.to_config()
    if isinstance(value, (tuple, list)):
        return [_to_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"cannot serialise non-finite value {value!r}")
    return value


def float32_peak(owner: str, peak: float) -> None:
    """Refuse a composition whose largest value overflows float32 although each factor fits."""
    if peak > _check.FLOAT32_MAX:
        raise ValueError(
            f"{owner}: the peak {peak:g} exceeds float32's largest value {_check.FLOAT32_MAX:g}; use smaller rates"
        )


@dataclass(frozen=True)
class Constant(Schedule):
    r"""A learning rate that never changes: ``lr = lr``.

    .. math:: \eta_t = \eta

    Args:
        lr: the learning rate :math:`\eta \ge 0`.

    Examples:
        >>> import numpy as np
        >>> Constant(0.1)(np.arange(3))
        array([0.1, 0.1, 0.1])
    """

    lr: float = _spec.rate()

    def evaluate(self, xp: Backend, t: Array) -> Array:
        return xp.full(t, self.lr)

    def _scaled(self, factor: float) -> Schedule | None:
        return Constant(self.lr * factor)

    @property
    def peak(self) -> float:
        return self.lr


@dataclass(frozen=True)
class Scale(Schedule):
    r"""A schedule multiplied by a constant factor: ``lr = factor · f(t)``.

    .. math:: \eta_t = c \, f(t)

    Args:
        schedule: :math:`f`.
        factor: :math:`c \ge 0`.

    Examples:
        >>> import numpy as np
        >>> from mlx_lrsched.decay import StepDecay
        >>> Scale(StepDecay(1.0, step_size=2, gamma=0.5), factor=0.1)(np.array([0, 2, 4]))
        array([0.1  , 0.05 , 0.025])
    """

    schedule: Schedule = _spec.schedule()
    factor: float = _spec.rate()

    def _validate(self) -> None:
        float32_peak("Scale", self.peak)

    def _lower(self) -> Schedule:
        try:  # the factor folded into the schedule's constants, where it has them
            folded = lowered(self.schedule)._scaled(self.factor)
        except ValueError:  # a folded constant out of its range: multiply instead
            folded = None
        return self if folded is None else folded

    def evaluate(self, xp: Backend, t: Array) -> Array:
        equivalent = lowered(self)
        if equivalent is not self:
            return equivalent.evaluate(xp, t)
        return self.factor * self.schedule.evaluate(xp, t)

    @property
    def peak(self) -> float:
        return self.factor * self.schedule.peak

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return self.schedule.phase_boundaries


@dataclass(frozen=True)
class Product(Schedule):
    r"""The pointwise product of schedules (e.g. a decay times a cyclic multiplier): ``lr = f1(t) · f2(t) ···``.

    .. math:: \eta_t = \prod_i f_i(t)

    Args:
        schedules: the :math:`n \ge 1` factors :math:`f_i` (numbers become ``Constant``).

    Examples:
        >>> import numpy as np
        >>> from mlx_lrsched.decay import CosineDecay, StepDecay
        >>> s = Product([StepDecay(1.0, step_size=2, gamma=0.5), CosineDecay(1.0, decay_steps=4)])
        >>> s(np.array([0, 2, 4])).round(12)
        array([1.  , 0.25, 0.  ])
    """

    schedules: tuple[Schedule, ...] = _spec.schedule_list()

    def _validate(self) -> None:
        float32_peak("Product", self.peak)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        value = self.schedules[0].evaluate(xp, t)
        for factor in self.schedules[1:]:
            value = value * factor.evaluate(xp, t)
        return value

    @property
    def peak(self) -> float:
        """The product of the factors' peaks: an upper bound, attained only if they peak together."""
        return math.prod(schedule.peak for schedule in self.schedules)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        return phase_steps(step for schedule in self.schedules for step in schedule.phase_boundaries)


def phase_steps(steps: Any) -> tuple[int, ...]:
    """Sorted unique phase boundaries within the step range ``[0, 2**63 - 1]`` (for ``phase_boundaries``)."""
    return tuple(sorted({step for step in steps if 0 <= step <= _xp.MAX_STEP}))


def from_config(config: Mapping[str, Any] | str) -> Schedule:
    """Rebuild a schedule from :meth:`Schedule.to_config` output (a dict or its JSON string).

    Nested schedules (compositions) are rebuilt recursively. Unknown or missing keys raise ``ValueError``
    naming the key (with a suggestion); invalid values raise the constructor's own error.
    """
    schedule = _registry.from_config(config)
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule config builds a {type(schedule).__name__}, not a Schedule")
    return schedule


schedule_names = _registry.schedule_names
schedule_class = _registry.schedule_class
