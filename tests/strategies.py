"""Hypothesis strategies: one per public schedule class, each drawing random *valid* configs.

Every field is drawn from its spec (:func:`mlx_lrsched._spec.spec_of`), so a range is written once, in the
schedule: :func:`value` turns a :class:`~mlx_lrsched._spec.Spec` into a strategy, and :func:`spec_config`
draws every field of a class that way, builds the schedule and rejects (``assume``) a config its ``_validate``
refuses. A class keeps an override only where a rule between fields would reject most draws (``max_lr >=
base_lr``, phases that must fit below ``2**63``); an override still takes its bounds from the spec, narrowed.

:data:`STRATEGIES` maps every registered schedule name to a strategy factory. A factory takes the
strategy for nested schedule configs (ignored by leaves), so compositions nest to any depth:
:func:`configs` draws from every pure schedule up to a depth, :func:`config_strategy` from one class.
A config is what ``Schedule.to_config`` returns; :func:`schedule_strategy` builds it with ``from_config``.
``test_properties.py`` fails when a registered schedule has no entry here.

Values span what the validation accepts, not only what is typical: rates 0 or in [1e-6, 10] (smaller
positive rates are below what float32 holds next to a peak), factors anywhere in their interval, step
counts from 0 to near ``2**63``, every spelling of a choice (aliases included).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import math
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

import mlx_lrsched
from mlx_lrsched import _spec, base
from mlx_lrsched._check import FLOAT32_MAX
from mlx_lrsched._xp import MAX_STEP

Config = dict[str, Any]
Strategy = st.SearchStrategy

# Import every module of the package so every schedule class is registered, including ones added later.
for _module in pkgutil.iter_modules(mlx_lrsched.__path__):
    if not _module.name.startswith("__"):
        importlib.import_module(f"mlx_lrsched.{_module.name}")

STATEFUL = frozenset({"ReduceOnPlateau", "GradNormScaled"})
"""Schedules whose value depends on state updated during training: not pure functions of the step."""

LR_MIN, LR_MAX = 1e-6, 10.0
REAL_SPAN = 1e6
"""Where a real field's interval is unbounded (``div_factor >= 1``), values are drawn up to this size."""


def public_schedule_names() -> list[str]:
    """Every registered schedule defined by the package itself (test modules may register their own)."""
    return [name for name in base.schedule_names() if base.schedule_class(name).__module__.startswith("mlx_lrsched.")]


# ------------------------------------------------------------------------------------------- values


SIMPLE_VALUES = (0.5, 1.0, 2.0)
"""Values that select special cases in many formulas (a power of 1 is linear, a factor of 1 no decay)."""


def real(spec: _spec.Spec, *, rate: bool | None = None) -> Strategy[float]:
    """A number of ``spec``'s interval: its closed ends, 0.5, 1 or 2 when inside, a float anywhere inside, or a
    log-uniform one where the interval spans decades (ends and their neighbours likely).

    A *rate* (a spec reaching float32's largest value, as :func:`mlx_lrsched._spec.rate` declares) is 0 (when
    allowed) or in ``[1e-6, 10]``; ``rate`` says so explicitly for a spec narrowed from one.
    """
    rate = spec.high == FLOAT32_MAX if rate is None else rate
    low = spec.low if math.isfinite(spec.low) else -REAL_SPAN
    high = min(spec.high, LR_MAX) if rate else (spec.high if math.isfinite(spec.high) else REAL_SPAN)
    high_open = spec.high_open and high == spec.high
    inner_low = max(low, LR_MIN) if rate else low
    low_open = spec.low_open and inner_low == spec.low

    def inside(v: float) -> bool:
        return (inner_low < v or (v == inner_low and not low_open)) and (v < high or (v == high and not high_open))

    ends = [v for v, is_open in ((spec.low, spec.low_open), (high, high_open)) if not is_open and math.isfinite(v)]
    special = sorted({*ends, *(v for v in SIMPLE_VALUES if inside(v))})
    choices: list[Strategy[float]] = [st.sampled_from(special)] if special else []
    if inner_low < high or (inner_low == high and not (low_open or high_open)):
        choices.append(st.floats(inner_low, high, exclude_min=low_open, exclude_max=high_open, allow_subnormal=False))
    smallest = inner_low if inner_low > 0 else min(LR_MIN, high / 10)
    if high > 0 and high / smallest > 1e3:
        exponents = st.floats(math.log10(smallest), math.log10(high))
        choices.append(exponents.map(lambda e: min(max(10.0**e, smallest), high)).filter(inside))
    assert choices, f"an empty interval: {spec}"
    return st.one_of(choices)


def value(spec: _spec.Spec, children: Strategy[Config] | None = None, *, rate: bool | None = None) -> Strategy[Any]:
    """Any value ``spec`` accepts (``None`` too when it is optional); nested schedules are drawn from ``children``."""
    kind = spec.kind
    strategy: Strategy[Any]
    if kind == "real":
        strategy = real(spec, rate=rate)
    elif kind == "int":
        strategy = count(int(spec.low), int(spec.high))
    elif kind == "length":  # whole steps mostly, sometimes a ratio of small integers (1000 / 3)
        whole = count(math.ceil(spec.low), int(spec.high))
        ratios = st.tuples(count(math.ceil(spec.low), 2**40), st.integers(2, 7)).map(lambda nd: nd[0] + nd[0] / nd[1])
        strategy = st.one_of(whole, ratios.filter(lambda v: spec.low <= v < spec.high))
    elif kind == "flag":
        strategy = st.booleans()
    elif kind == "choice":
        strategy = st.sampled_from([*spec.choices, *spec.aliases])
    elif kind == "steps":
        strategy = increasing(int(spec.low))
    elif kind == "reals":
        strategy = st.lists(real(dataclasses.replace(spec, kind="real"), rate=rate), min_size=1, max_size=5)
    elif kind == "schedule":
        strategy = _nested(children)
    elif kind == "schedules":
        strategy = st.lists(_nested(children), min_size=1, max_size=3)
    else:
        raise AssertionError(f"no strategy for specs of kind {kind!r}")
    return st.none() | strategy if spec.optional else strategy


def narrow(spec: _spec.Spec, *, low: float | None = None, high: float | None = None, **changes: Any) -> _spec.Spec:
    """``spec`` with its interval cut to ``[low, high]`` (closed at a new end unless ``changes`` say otherwise)."""
    if low is not None and low >= spec.low:
        changes = {"low": low, "low_open": False, **changes}
    if high is not None and high <= spec.high:
        changes = {"high": high, "high_open": False, **changes}
    return dataclasses.replace(spec, **changes)


def _nested(children: Strategy[Config] | None) -> Strategy[Config]:
    assert children is not None, "a schedule field needs the strategy for nested configs"
    return children


def lr(low: float = 0.0, high: float = LR_MAX) -> Strategy[float]:
    """A learning rate in ``[low, high]``: 0 (when allowed), the ends, or a float in ``[max(low, 1e-6), high]``."""
    return real(_spec.Spec("real", low, high), rate=True)


def unit(*, exclude_min: bool = True, exclude_max: bool = False) -> Strategy[float]:
    """A factor in (0, 1] (or [0, 1], [0, 1), ...), with its ends and values next to them likely."""
    return real(_spec.Spec("real", 0.0, 1.0, low_open=exclude_min, high_open=exclude_max))


def count(low: int = 0, high: int = MAX_STEP) -> Strategy[int]:
    """A step count in ``[low, high]``: small, log-uniform up to ``high``, or anywhere."""
    small = st.integers(low, min(high, low + 64))
    log_uniform = st.integers(0, 62).flatmap(lambda e: st.integers(2**e, 2 ** (e + 1) - 1))
    return st.one_of(small, log_uniform.map(lambda v: min(max(v, low), high)), st.integers(low, high))


def increasing(low: int = 0, max_size: int = 4) -> Strategy[list[int]]:
    """A non-empty, strictly increasing list of steps >= ``low``."""
    return st.lists(count(low), min_size=1, max_size=max_size, unique=True).map(sorted)


def config(name: str, **fields: Any) -> Config:
    return {"name": name, **fields}


# ------------------------------------------------------------------------------- configs from specs


class Fields:
    """The fields of one config being drawn; ``fields[name]`` draws a field on first use, so an override can
    read the fields it depends on in any order."""

    def __init__(self, draw: st.DrawFn, cls: type, children: Strategy[Config] | None, overrides: Overrides) -> None:
        self._draw, self._children, self._overrides = draw, children, overrides
        self.specs = {f.name: _spec.spec_of(f) for f in dataclasses.fields(cls) if f.init}
        self.values: Config = {}

    def spec(self, name: str) -> _spec.Spec:
        spec = self.specs[name]
        assert spec is not None, f"{name} has no spec: it needs an override"
        return spec

    def __getitem__(self, name: str) -> Any:
        if name not in self.values:
            override = self._overrides.get(name)
            strategy = override(self) if override is not None else value(self.spec(name), self._children)
            self.values[name] = self._draw(strategy)
        return self.values[name]


Override = Callable[[Fields], Strategy[Any]]
Overrides = Mapping[str, Override]


def builds(config: Config) -> bool:
    """True if ``config`` is valid: ``from_config`` builds it (a ``ValueError`` is a rule between fields)."""
    try:
        base.from_config(config)
    except ValueError:
        return False
    return True


def spec_config(
    name: str, children: Strategy[Config] | None = None, overrides: Overrides | None = None
) -> Strategy[Config]:
    """A valid config of class ``name``: every field from its spec (or its override), rejected unless it builds."""
    cls = base.schedule_class(name)

    @st.composite
    def draw_config(draw: st.DrawFn) -> Config:
        fields = Fields(draw, cls, children, overrides or {})
        drawn = {field: fields[field] for field in fields.specs}
        result = config(name, **drawn)
        assume(builds(result))
        return result

    return draw_config()


# ---------------------------------------------------------------------------------------- strategies

Factory = Callable[[Strategy[Config]], Strategy[Config]]


@dataclass(frozen=True)
class Entry:
    """How to draw one schedule class: ``factory(children)``; ``nests`` if it wraps drawn schedules."""

    factory: Factory
    nests: bool = False


STRATEGIES: dict[str, Entry] = {}


def register(name: str, *, nests: bool = False) -> Callable[[Factory], Factory]:
    def add(factory: Factory) -> Factory:
        STRATEGIES[name] = Entry(factory, nests)
        return factory

    return add


def _bounded(
    name: str, *, low: Callable[[Fields], float] | None = None, high: Callable[[Fields], float] | None = None
) -> Override:
    """An override drawing field ``name`` from its spec narrowed to bounds read from other fields."""

    def override(fields: Fields) -> Strategy[Any]:
        spec = fields.spec(name)
        narrowed = narrow(spec, low=low(fields) if low else None, high=high(fields) if high else None)
        return value(narrowed, rate=spec.high == FLOAT32_MAX)

    return override


def _decay_or_growth(fields: Fields) -> Strategy[float]:
    """ExponentialDecay: a decay rate in (0, 1], or (when ``init_lr > 0``) a growth rate above 1."""
    spec = fields.spec("decay_rate")
    decay = value(narrow(spec, high=1.0), rate=False)
    if fields["init_lr"] == 0.0:
        return decay
    return decay | value(narrow(spec, low=1.0, low_open=True), rate=True)


def _exponential_end(fields: Fields) -> Strategy[float | None]:
    """ExponentialDecay: a floor below ``init_lr`` (or none) when decaying, a ceiling above it when growing."""
    spec = fields.spec("end_lr")
    if fields["decay_rate"] <= 1.0:
        return value(narrow(spec, high=fields["init_lr"]), rate=True)
    return value(narrow(spec, low=fields["init_lr"], optional=False), rate=True)


def _entries(count_of: str, extra: int = 0) -> Callable[[Callable[[Fields], Any]], Override]:
    """An override drawing a list field with exactly ``len(fields[count_of]) + extra`` entries."""

    def wrap(item: Callable[[Fields], Strategy[Any]]) -> Override:
        def override(fields: Fields) -> Strategy[Any]:
            size = len(fields[count_of]) + extra
            return st.lists(item(fields), min_size=size, max_size=size)

        return override

    return wrap


def _rate_items(fields: Fields) -> Strategy[float]:
    return real(dataclasses.replace(fields.spec("values"), kind="real"), rate=True)


def _join_boundaries(fields: Fields) -> Strategy[list[int]]:
    size = len(fields["schedules"]) - 1
    return st.lists(count(), min_size=size, max_size=size, unique=True).map(sorted)


def _plateau_threshold(fields: Fields) -> Strategy[float]:
    spec = fields.spec("threshold")
    return value(narrow(spec, high=1.0, high_open=True) if fields["threshold_mode"] == "rel" else spec)


def _signed_floor(fields: Fields) -> Strategy[float]:
    """CyclicExponentialDecay: ``min_lr`` in ``[0, init_lr]``, and 0 for the signed cosine (it has no floor)."""
    if fields["modulation"] == "signed_cosine":
        return st.just(0.0)
    return value(narrow(fields.spec("min_lr"), high=fields["init_lr"]), rate=True)


def _tanh_only(name: str) -> Override:
    """``lb``/``ub`` of a curve: drawn for ``shape="tanh"`` (``ub > lb``), the defaults otherwise."""

    def override(fields: Fields) -> Strategy[float]:
        spec = fields.spec(name)
        if fields["shape"] != "tanh":
            return st.just(-7.0 if name == "lb" else 3.0)
        if name == "ub":
            return value(narrow(spec, low=fields["lb"], low_open=True))
        return value(narrow(spec, high=spec.high - 1e-3))

    return override


def _not_tanh(name: str) -> Override:
    """``exponent``/``k_decay`` of a curve: drawn (1 half the time) unless ``shape="tanh"``, which has neither."""
    return lambda fields: st.just(1.0) if fields["shape"] == "tanh" else st.just(1.0) | value(fields.spec(name))


def _growth(fields: Fields) -> Strategy[float]:
    """``t_mult``: 1, a whole factor, or a fraction (a table of cycles: not too close to 1)."""
    return st.one_of(st.just(1.0), st.integers(2, 7).map(float), st.floats(1.05, 4.0))


CURVE_OVERRIDES: dict[str, Override] = {
    "lb": _tanh_only("lb"),
    "ub": _tanh_only("ub"),
    "exponent": _not_tanh("exponent"),
    "k_decay": _not_tanh("k_decay"),
}


def _one_cycle_final(fields: Fields) -> Strategy[float | None]:
    if not fields["three_phase"]:
        return st.none()
    return st.none() | value(narrow(fields.spec("pct_final"), low=fields["pct_start"], optional=False))


def _noise_end(fields: Fields) -> Strategy[int | None]:
    """Noisy: no end, or an end after ``start_step``."""
    if fields["start_step"] >= MAX_STEP:
        return st.none()
    return st.none() | _bounded("end_step", low=lambda f: f["start_step"] + 1)(fields)


def _remaining(*names: str) -> Callable[[Fields], float]:
    return lambda fields: MAX_STEP - sum(fields[name] for name in names)


OVERRIDES: dict[str, dict[str, Override]] = {
    "ExponentialDecay": {"decay_rate": _decay_or_growth, "end_lr": _exponential_end},
    "PiecewiseConstant": {"values": _entries("boundaries", extra=1)(_rate_items)},
    "CyclicLR": {
        "max_lr": _bounded("max_lr", low=lambda f: f["base_lr"]),
        "max_momentum": _bounded("max_momentum", low=lambda f: f["base_momentum"]),
    },
    "CyclicExponentialDecay": {"min_lr": _signed_floor},
    "WSD": {
        "stable_steps": _bounded("stable_steps", high=_remaining("warmup_steps")),
        "decay_steps": _bounded("decay_steps", high=_remaining("warmup_steps", "stable_steps")),
        "end_lr": _bounded("end_lr", high=lambda f: f["peak_lr"]),
        "init_lr": _bounded("init_lr", high=lambda f: f["peak_lr"]),
    },
    "OneCycleMomentum": {
        "schedule": lambda fields: spec_config("OneCycle", overrides=OVERRIDES["OneCycle"]),
        "max_momentum": _bounded("max_momentum", low=lambda f: f["base_momentum"]),
    },
    "OneCycle": {
        "pct_final": _one_cycle_final,
        "max_momentum": _bounded("max_momentum", low=lambda f: f["base_momentum"]),
    },
    "CyclicMomentum": {
        "schedule": lambda fields: spec_config("CyclicLR", overrides=OVERRIDES["CyclicLR"]),
        "max_momentum": _bounded("max_momentum", low=lambda f: f["base_momentum"]),
    },
    "Ramp": {
        **CURVE_OVERRIDES,
        "lead": lambda f: st.just(0.0) if f["shape"] == "tanh" else value(f.spec("lead")),
        "trail": lambda f: st.just(0.0) if f["shape"] == "tanh" else value(f.spec("trail")),
    },
    "Restarts": {**CURVE_OVERRIDES, "t_mult": _growth},
    "PiecewiseInterpolate": {"values": _entries("boundaries")(_rate_items)},
    "CosineDecay": {
        "exponent": lambda f: st.just(1.0) | value(f.spec("exponent")),
        "num_cycles": lambda f: st.one_of(st.just(0.5), st.sampled_from([1.0, 1.5, 2.0, 3.0]), st.floats(0.01, 8.0)),
    },
    "CosineRestarts": {"t_mult": _growth, "k_decay": lambda f: st.just(1.0) | value(f.spec("k_decay"))},
    "Join": {"boundaries": _join_boundaries},
    "Clip": {"max_lr": lambda f: st.none() | _bounded("max_lr", low=lambda g: g["min_lr"])(f)},
    "Noisy": {"end_step": _noise_end},
    "ReduceOnPlateau": {"threshold": _plateau_threshold},
}
"""Per-class overrides for rules between fields that would reject most draws; bounds still come from the specs."""


def _register_all() -> None:
    for name in public_schedule_names():
        cls = base.schedule_class(name)
        specs = [_spec.spec_of(f) for f in dataclasses.fields(cls) if f.init]
        nests = any(spec is not None and spec.kind in ("schedule", "schedules") for spec in specs)
        nests = nests and name not in ("OneCycleMomentum", "CyclicMomentum")  # a fixed kind, drawn by the override
        overrides = OVERRIDES.get(name, {})
        register(name, nests=nests)(functools.partial(_factory, name, overrides))


def _factory(name: str, overrides: Overrides, children: Strategy[Config]) -> Strategy[Config]:
    return spec_config(name, children, overrides)


_register_all()


# ------------------------------------------------------------------------------------------- access


def pure_names() -> list[str]:
    """Every registered schedule that is a pure function of the step."""
    return [name for name in public_schedule_names() if name not in STATEFUL]


@functools.cache
def configs(depth: int = 2) -> Strategy[Config]:
    """A config of any pure schedule, compositions nested up to ``depth`` levels."""
    names = [name for name in sorted(STRATEGIES) if name not in STATEFUL]
    leaves = [STRATEGIES[name].factory(st.nothing()) for name in names if not STRATEGIES[name].nests]
    if depth <= 0:
        return st.one_of(leaves)
    children = configs(depth - 1)
    nested = [STRATEGIES[name].factory(children) for name in names if STRATEGIES[name].nests]
    return st.one_of(leaves + nested)


def config_strategy(name: str, depth: int = 2) -> Strategy[Config]:
    """A config of the schedule class ``name``; nested schedules go ``depth - 1`` levels deeper."""
    return STRATEGIES[name].factory(configs(depth - 1))


def schedule_strategy(name: str, depth: int = 2) -> Strategy[base.Schedule]:
    """A schedule of class ``name`` built with ``from_config`` from a random valid config."""
    return config_strategy(name, depth).map(base.from_config)


def any_schedule(depth: int = 2) -> Strategy[base.Schedule]:
    """Any pure schedule, compositions nested up to ``depth`` levels."""
    return configs(depth).map(base.from_config)
