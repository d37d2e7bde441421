"""The ``Schedule`` base class: dispatch, config round trips, the registry of schedule names."""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from . import _check, _xp
from ._xp import Array, Backend

_REGISTRY: dict[str, type[Schedule]] = {}


class Schedule:
    """A learning-rate schedule: an immutable callable ``step -> learning rate``.

    Subclasses are frozen dataclasses whose fields are the schedule's parameters. They validate in
    ``__post_init__`` and implement :meth:`evaluate`, the formula written once against the backend
    shim. Calling the schedule picks the backend from the step's type (see ``DESIGN.md``):

    * ``mx.array`` of any integer dtype (the optimizer passes ``uint64``) or a Python ``int``:
      an ``mx.array`` of float32 with the step's shape.
    * NumPy integer array or scalar: NumPy float64 (the reference backend).

    ``step`` counts optimizer updates already applied, starting at 0, which is what
    ``mlx.optimizers`` passes: update ``i`` uses ``schedule(i)``. With gradient accumulation that is
    updates, not micro-batches.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            _REGISTRY[cls.__name__] = cls

    def __call__(self, step: Any) -> Array:
        xp, t = _xp.as_step(step)
        if xp is _xp.NUMPY:
            return _xp.evaluate_numpy(self.evaluate, t)
        return _xp.finish(xp, self.evaluate(xp, t), t)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        """The formula: learning rate at the integer steps ``t`` (already validated) on backend ``xp``."""
        raise NotImplementedError

    @property
    def peak(self) -> float:
        """The largest value the schedule takes at any step (an upper bound where it is not attained)."""
        raise NotImplementedError

    @property
    def signed(self) -> bool:
        """True only for a formula that is negative by definition and that the user opted into."""
        return False

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        """Steps where the formula changes phase (warmup end, cycle ends, ...), for plots. May be empty."""
        return ()

    def __mul__(self, other: object) -> Schedule:
        """``schedule * 0.5`` is ``Scale(schedule, 0.5)``; ``a * b`` is ``Product([a, b])``."""
        from .compose import Product, Scale

        if isinstance(other, Schedule):
            return Product((self, other))
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return Scale(self, float(other))
        return NotImplemented

    __rmul__ = __mul__

    def walk(self) -> Iterator[Schedule]:
        """This schedule and every schedule nested in it (compositions), depth first."""
        yield self
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            for child in value if isinstance(value, tuple) else (value,):
                if isinstance(child, Schedule):
                    yield from child.walk()

    def curve(self, num_steps: int) -> np.ndarray:
        """The float64 reference values at steps ``0 .. num_steps - 1`` (NumPy only, no MLX needed)."""
        return np.asarray(self(np.arange(num_steps, dtype=np.int64)))

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


def normalise(obj: Schedule, /, **values: Any) -> None:
    """Store validated, normalised field values on a frozen dataclass schedule (for ``__post_init__``)."""
    for name, value in values.items():
        object.__setattr__(obj, name, value)


def _to_json(value: Any) -> Any:
    if isinstance(value, Schedule):
        return value.to_config()
    if isinstance(value, (tuple, list)):
        return [_to_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"cannot serialise non-finite value {value!r}")
    return value


MAX_CONFIG_DEPTH = 64
"""How deeply configs may nest schedules in schedules (far beyond any real composition)."""


def _from_json(value: Any, depth: int) -> Any:
    if isinstance(value, Mapping) and "name" in value:
        return _build(value, depth + 1)
    if isinstance(value, list):
        return [_from_json(v, depth) for v in value]
    return value


def schedule_names() -> list[str]:
    """Every schedule name :func:`from_config` accepts, sorted."""
    return sorted(_REGISTRY)


def schedule_class(name: Any) -> type[Schedule]:
    """The schedule class registered under ``name``; ``ValueError`` listing valid names otherwise."""
    if not isinstance(name, str) or name not in _REGISTRY:
        hint = _check.suggestion(name, _REGISTRY)
        raise ValueError(f"unknown schedule name {name!r}{hint}; valid names: {', '.join(schedule_names())}")
    return _REGISTRY[name]


def from_config(config: Mapping[str, Any] | str) -> Schedule:
    """Rebuild a schedule from :meth:`Schedule.to_config` output (a dict or its JSON string).

    Nested schedules (compositions) are rebuilt recursively. Unknown or missing keys raise
    ``ValueError`` naming the key; invalid values raise the constructor's own error.
    """
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except json.JSONDecodeError as error:
            raise ValueError(f"schedule config is not valid JSON: {error}") from None
        except RecursionError:
            raise ValueError(f"schedule config nests deeper than {MAX_CONFIG_DEPTH} levels") from None
    return _build(config, 0)


def _build(config: Any, depth: int) -> Schedule:
    if depth > MAX_CONFIG_DEPTH:
        raise ValueError(f"schedule config nests deeper than {MAX_CONFIG_DEPTH} levels")
    if not isinstance(config, Mapping):
        raise TypeError(f"schedule config must be a dict with a 'name' key, got {type(config).__name__}")
    if "name" not in config:
        raise ValueError(f"schedule config is missing the key 'name'; valid names: {', '.join(schedule_names())}")
    cls = schedule_class(config["name"])
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    kwargs = {key: value for key, value in config.items() if key != "name"}
    for key in kwargs:
        if key not in fields:
            raise ValueError(f"{cls.__name__}: unknown config key {key!r}; valid keys: {', '.join(fields)}")
    for key, field in fields.items():
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        if required and key not in kwargs:
            raise ValueError(f"{cls.__name__}: config is missing the required key {key!r}")
    return cls(**{key: _from_json(value, depth) for key, value in kwargs.items()})
