"""mlx-lm and ``mlx.optimizers`` compatibility: their schedule configs and calls, as our schedules.

mlx-lm's ``lr_schedule`` (in a LoRA/fine-tuning YAML config) names an ``mlx.optimizers`` schedule, its
positional ``arguments`` and an optional linear warmup; :func:`from_mlx_lm_config` returns the same
values step by step as one of our schedules (exact in float32 where ``mlx.optimizers`` drifts), and also
accepts every mlx-lrsched schedule name in the same format. :func:`from_mlx_optimizers` converts an
``mlx.optimizers`` schedule call.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import _check, _spec
from .base import Schedule, from_config, schedule_class, schedule_names
from .compose import Join
from .cyclic import CosineRestarts
from .decay import CosineDecay, ExponentialDecay, StepDecay
from .warmup import Linear

__all__ = ["MLX_SCHEDULE_NAMES", "from_mlx_lm_config", "from_mlx_optimizers"]

_P = inspect.Parameter


def _signature(*names: str, **defaults: Any) -> inspect.Signature:
    return inspect.Signature(
        [_P(name, _P.POSITIONAL_OR_KEYWORD, default=defaults.get(name, _P.empty)) for name in names]
    )


# The ``mlx.optimizers`` schedules, with their exact signatures.
_MLX_SIGNATURES: dict[str, inspect.Signature] = {
    "exponential_decay": _signature("init", "decay_rate"),
    "step_decay": _signature("init", "decay_rate", "step_size"),
    "cosine_decay": _signature("init", "decay_steps", "end", end=0.0),
    "linear_schedule": _signature("init", "end", "steps"),
    "join_schedules": _signature("schedules", "boundaries"),
    # in mlx after 0.32 (main branch); scalar steps only there, exact integer cycles here
    "cosine_annealing_warm_restarts": _signature("init", "T_0", "T_mult", "eta_min", T_mult=1, eta_min=0.0),
}

MLX_SCHEDULE_NAMES: tuple[str, ...] = tuple(_MLX_SIGNATURES)
"""The ``mlx.optimizers`` schedule names :func:`from_mlx_optimizers` and :func:`from_mlx_lm_config` accept."""

_CONFIG_KEYS = ("name", "arguments", "kwargs", "warmup", "warmup_init")

_CONFIG_ALIASES = {
    "warmup_steps": "warmup",
    "num_warmup_steps": "warmup",
    "warmup_iters": "warmup",
    "warmup_updates": "warmup",
    "lr_warmup": "warmup",
    "lr_warmup_steps": "warmup",
    "warmup_lr": "warmup_init",
    "warmup_init_lr": "warmup_init",
    "warmup_start_lr": "warmup_init",
    "warmup_min_lr": "warmup_init",
    "minimum": "warmup_init",
    "args": "arguments",
    "params": "arguments",
    "schedule": "name",
    "type": "name",
}
"""Keys other configs use for mlx-lm's (HF/timm/PyTorch spellings): the suggestion for an unknown key."""

Label = Callable[[str], str]


def _key_hint(key: Any) -> str:
    """`` (did you mean 'warmup'?)`` for an unknown ``lr_schedule`` key: a known alias first, then the closest key."""
    if isinstance(key, str) and key in _CONFIG_ALIASES:
        return f" (did you mean {_CONFIG_ALIASES[key]!r}?)"
    return _check.suggestion(key, _CONFIG_KEYS)


def _integral(value: Any) -> Any:
    """An integral float (``1000.0``, what mlx-lm's YAML loader makes of ``1e3``) as an ``int``; else ``value``.

    mlx-lm passes such floats on to ``mlx.optimizers``, which computes with them as it would with the
    integer; a non-integral float is left for the integer check to refuse, naming the argument.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)):
        number = float(value)
        if math.isfinite(number) and number.is_integer():
            return int(number)
    return value


def _unknown_name(owner: str, name: Any) -> ValueError:
    valid = (*MLX_SCHEDULE_NAMES, *schedule_names())
    return ValueError(
        f"{owner}: unknown schedule name {_check.preview(name)}{_check.suggestion(name, valid)}; "
        "valid names: mlx.optimizers "
        f"{', '.join(MLX_SCHEDULE_NAMES)}; mlx_lrsched {', '.join(schedule_names())}"
    )


def _bind(owner: str, name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    signature = _MLX_SIGNATURES[name]
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as error:
        total = len(signature.parameters)
        required = sum(parameter.default is _P.empty for parameter in signature.parameters.values())
        count = str(total) if required == total else f"{required} to {total}"
        given = f"{_check.preview(list(args))}{f' and {_check.preview(dict(kwargs))}' if kwargs else ''}"
        raise ValueError(
            f"{owner}: {name}{signature} takes {count} arguments, got {given} ({_check.shorten(str(error))})"
        ) from None
    bound.apply_defaults()
    return dict(bound.arguments)


def _sub_schedule(owner: str, name: str, value: Any) -> Schedule:
    """One schedule of a join: a Schedule, an mlx-lm style dict, or an ``(mlx_name, *args)`` sequence."""
    if isinstance(value, Schedule):
        return value
    if isinstance(value, Mapping):  # mlx-lm style, or our own flat ``Schedule.to_config()``
        return from_mlx_lm_config(value) if set(value) <= set(_CONFIG_KEYS) else from_config(value)
    if isinstance(value, Sequence) and not isinstance(value, str) and value and isinstance(value[0], str):
        return from_mlx_optimizers(value[0], *value[1:])
    raise TypeError(
        f"{owner}: {name} must be a Schedule, a config dict or a sequence (mlx_name, *arguments), "
        f"got {type(value).__name__} {_check.preview(value)}"
    )


def _build_mlx(owner: str, name: str, arguments: dict[str, Any], label: Label) -> Schedule:
    """Our schedule equal to ``mlx.optimizers.<name>(**arguments)``; errors name the argument via ``label``."""

    def init() -> float:
        return _check.non_negative(owner, label("init"), arguments["init"])

    def steps(key: str) -> int:
        # mlx raises below 1 as well; an integral float (YAML's 1e3) is the integer to mlx
        return _check.integer(owner, label(key), _integral(arguments[key]), low=1)

    if name == "exponential_decay":
        # mlx grows without bound for a rate above 1, which no optimizer survives: refuse it.
        rate = _check.real(owner, label("decay_rate"), arguments["decay_rate"], low=0.0, high=1.0, low_open=True)
        return ExponentialDecay(init(), rate)
    if name == "step_decay":
        rate = _check.real(owner, label("decay_rate"), arguments["decay_rate"], low=0.0, high=1.0, low_open=True)
        return StepDecay(init(), steps("step_size"), gamma=rate)
    if name == "cosine_decay":
        end = _check.non_negative(owner, label("end"), arguments["end"])
        return CosineDecay(init(), steps("decay_steps"), end_lr=end)
    if name == "linear_schedule":
        end = _check.non_negative(owner, label("end"), arguments["end"])
        return Linear(init(), end, steps("steps"))
    if name == "cosine_annealing_warm_restarts":
        end = _check.non_negative(owner, label("eta_min"), arguments["eta_min"])
        return CosineRestarts(init(), steps("T_0"), t_mult=steps("T_mult"), end_lr=end)
    schedules = arguments["schedules"]
    schedules = _check.sequence(owner, label("schedules"), schedules, "schedules")
    parts = [_sub_schedule(owner, f"{label('schedules')}[{i}]", value) for i, value in enumerate(schedules)]
    if not parts:
        raise ValueError(f"{owner}: {label('schedules')} must not be empty")
    boundaries = arguments["boundaries"]
    if isinstance(boundaries, Sequence) and not isinstance(boundaries, (str, bytes)):
        boundaries = [_integral(boundary) for boundary in boundaries]
    if parts[1:] or not isinstance(boundaries, Sequence) or boundaries:
        boundaries = _check.increasing_steps(owner, label("boundaries"), boundaries)
    if len(boundaries) != len(parts) - 1:
        raise ValueError(
            f"{owner}: {label('boundaries')} must have one entry fewer than schedules ({len(parts) - 1}), "
            f"got {len(boundaries)}"
        )
    return Join(tuple(parts), boundaries)


def from_mlx_optimizers(name: str, *args: Any, **kwargs: Any) -> Schedule:
    r"""Our schedule equal to the ``mlx.optimizers`` schedule ``name(*args, **kwargs)``.

    .. math::
        \texttt{exponential\_decay}(\eta_0, \rho) &\to \text{ExponentialDecay}(\eta_0, \rho):
            \ \eta_0 \rho^t \\
        \texttt{step\_decay}(\eta_0, \rho, s) &\to \text{StepDecay}(\eta_0, s, \gamma=\rho):
            \ \eta_0 \rho^{\lfloor t/s \rfloor} \\
        \texttt{cosine\_decay}(\eta_0, T, e) &\to \text{CosineDecay}(\eta_0, T, e) \\
        \texttt{linear\_schedule}(\eta_0, e, T) &\to \text{Linear}(\eta_0, e, T) \\
        \texttt{join\_schedules}([f_i], [b_i]) &\to \text{Join}([f_i], [b_i]) \\
        \texttt{cosine\_annealing\_warm\_restarts}(\eta_0, T_0, m, e) &\to
            \text{CosineRestarts}(\eta_0, T_0, t\_mult=m, end\_lr=e)

    The values are the same step by step; ours are exact in float32 where ``mlx.optimizers`` raises a
    float32 rate to the power of the step (``exponential_decay(1e-3, 0.9995)`` is off by 2.3e-4 relative at
    step 10,000). Arguments are validated (mlx accepts rates above 1, which grow without bound: refused).
    The schedules of ``join_schedules`` are our schedules, ``(mlx_name, *args)`` sequences or config
    dicts. ``cosine_annealing_warm_restarts`` (mlx after 0.32) finds the cycle with a float logarithm,
    which misplaces some restarts for ``T_mult > 2`` (step 1210 for ``T_0=10, T_mult=3``); ours restarts
    exactly there, as PyTorch does, and also works inside ``mx.compile`` and on vectors of steps.

    Args:
        name: one of :data:`MLX_SCHEDULE_NAMES`.
        *args: the positional arguments of the ``mlx.optimizers`` call.
        **kwargs: its keyword arguments, by their mlx names (``init``, ``decay_rate``, ``end``, ...).

    Returns:
        The equivalent :class:`~mlx_lrsched.base.Schedule`.

    Examples:
        >>> import numpy as np
        >>> from_mlx_optimizers("cosine_decay", 1e-3, 1000)
        CosineDecay(init_lr=0.001, decay_steps=1000)
        >>> warmup, decay = ("linear_schedule", 0.0, 1.0, 4), ("step_decay", 1.0, 0.5, 2)
        >>> s = from_mlx_optimizers("join_schedules", [warmup, decay], [4])
        >>> s(np.array([0, 2, 4, 5, 6, 8]))
        array([0.  , 0.5 , 1.  , 1.  , 0.5 , 0.25])

    References:
        ``mlx.optimizers`` schedulers (``mlx/optimizers/schedulers.py``).
    """
    if not isinstance(name, str) or name not in _MLX_SIGNATURES:
        raise _unknown_name("from_mlx_optimizers", name)
    owner = f"mlx.optimizers.{name}"
    return _build_mlx(owner, name, _bind(owner, name, args, kwargs), lambda key: key)


def _own_schedule(owner: str, name: str, arguments: Sequence[Any], kwargs: Mapping[str, Any]) -> Schedule:
    """An mlx-lrsched schedule from positional ``arguments`` (field order) and ``kwargs``."""
    cls = schedule_class(name)
    fields = [
        key
        for key, parameter in inspect.signature(cls).parameters.items()
        if parameter.kind is _P.POSITIONAL_OR_KEYWORD
    ]
    if len(arguments) > len(fields):
        raise ValueError(
            f"{owner}: arguments takes at most {len(fields)} values ({', '.join(fields)}), got {len(arguments)}"
        )
    config: dict[str, Any] = dict(zip(fields, arguments, strict=False))
    for key, value in kwargs.items():
        if key in config:
            raise ValueError(f"{owner}: kwargs[{key!r}] repeats arguments[{fields.index(key)}] ({key})")
        config[key] = value
    # a step count written 1e3 in YAML arrives as 1000.0: the integer, as for mlx.optimizers' arguments
    counts = {field.name for field in dataclasses.fields(cls) if _is_count(field)}
    config = {key: _integral(value) if key in counts else value for key, value in config.items()}
    return from_config({"name": name, **config})


def _is_count(field: dataclasses.Field[Any]) -> bool:
    spec = _spec.spec_of(field)
    return spec is not None and spec.kind == "int"


def from_mlx_lm_config(config: Mapping[str, Any]) -> Schedule:
    r"""Our schedule equal to mlx-lm's ``build_schedule(config)`` at every step, from its ``lr_schedule`` dict.

    mlx-lm builds ``mlx.optimizers.<name>(*arguments)`` and, with ``warmup`` :math:`W > 0`, joins a linear
    warmup from ``warmup_init`` to ``arguments[0]`` over :math:`W` steps in front of it at step
    :math:`W + 1`:

    .. math::
        \eta_t = \begin{cases}
            \eta_{\text{wi}} + (\eta_0 - \eta_{\text{wi}})\, t / W & t \le W \\
            f(t - W - 1) & t > W
        \end{cases}

    so :math:`\eta_0` is used twice, at steps :math:`W` and :math:`W + 1`. This is
    ``Join([Linear(warmup_init, arguments[0], W), f], [W + 1])``. ``name`` may also be any mlx-lrsched
    schedule (``"OneCycle"``, ``"CyclicLR"``, ...) with ``arguments`` in field order and/or ``kwargs`` by
    field name; its warmup ends at the schedule's own value at step 0. Unlike mlx-lm, unknown keys raise
    instead of being ignored (a misspelt ``warmup_steps`` would silently drop the warmup); ``warmup_init``
    without ``warmup`` is ignored, as in mlx-lm. Step counts (``warmup``, ``decay_steps``, a schedule's
    ``total_steps``, ...) may be integral floats, as mlx-lm's YAML loader reads ``1e3`` (``1000.0``) and
    mlx-lm passes it on; a fractional one raises naming the argument. An unknown key suggests the key meant
    (``warmup_steps``: ``warmup``).

    Args:
        config: ``{"name": ..., "arguments": [...], "warmup": W, "warmup_init": x}`` (mlx-lm's
            ``lr_schedule``; optional ``"kwargs": {...}``). A whole mlx-lm config holding an
            ``"lr_schedule"`` key is accepted too.

    Returns:
        The equivalent :class:`~mlx_lrsched.base.Schedule`.

    Examples:
        >>> import numpy as np
        >>> cfg = {"name": "cosine_decay", "arguments": [1.0, 4], "warmup": 2, "warmup_init": 0.0}
        >>> s = from_mlx_lm_config(cfg)
        >>> s(np.arange(9)).round(12)  # 1.0 at steps 2 and 3: mlx-lm's join at warmup + 1
        array([0.        , 0.5       , 1.        , 1.        , 0.85355339,
               0.5       , 0.14644661, 0.        , 0.        ])
        >>> from_mlx_lm_config({"name": "Linear", "kwargs": {"init_lr": 1.0, "end_lr": 0.0, "steps": 2}})
        Linear(init_lr=1.0, end_lr=0.0, steps=2)

    References:
        mlx-lm ``mlx_lm/tuner/utils.py`` (``build_schedule``).
    """
    owner = "lr_schedule"
    if isinstance(config, Mapping) and "lr_schedule" in config and "name" not in config:
        config = config["lr_schedule"]
    if not isinstance(config, Mapping):
        raise TypeError(
            f"{owner} must be a dict with a 'name' key, got {type(config).__name__} {_check.preview(config)}"
        )
    for key in config:
        if key not in _CONFIG_KEYS:
            raise ValueError(
                f"{owner}: unknown key {_check.preview(key)}{_key_hint(key)}; valid keys: {', '.join(_CONFIG_KEYS)}"
            )
    if "name" not in config:
        raise ValueError(f"{owner}: missing the key 'name'")
    name = config["name"]
    mlx_name = isinstance(name, str) and name in _MLX_SIGNATURES
    if not mlx_name and (not isinstance(name, str) or name not in schedule_names()):
        raise _unknown_name(owner, name)
    owner = f"{owner} {name!r}"
    if mlx_name and "arguments" not in config and "kwargs" not in config:
        raise ValueError(f"{owner}: missing the key 'arguments'")
    arguments = config.get("arguments", [])
    if isinstance(arguments, (str, bytes, Mapping)) or not isinstance(arguments, Sequence):
        raise TypeError(
            f"{owner}: arguments must be a list, got {type(arguments).__name__} {_check.preview(arguments)}"
        )
    kwargs = config.get("kwargs", {})
    if not isinstance(kwargs, Mapping):
        raise TypeError(f"{owner}: kwargs must be a dict, got {type(kwargs).__name__} {_check.preview(kwargs)}")
    warmup = _check.integer(owner, "warmup", _integral(config.get("warmup", 0)))

    if mlx_name:
        bound = _bind(owner, name, arguments, kwargs)
        positions = list(_MLX_SIGNATURES[name].parameters)

        def label(key: str) -> str:
            index = positions.index(key)
            return f"arguments[{index}] ({key})" if index < len(arguments) else f"kwargs[{key!r}]"

        schedule = _build_mlx(owner, name, bound, label)
    else:
        schedule = _own_schedule(owner, name, arguments, kwargs)
    if warmup == 0:
        return schedule
    warmup_init = _check.non_negative(owner, "warmup_init", config.get("warmup_init", 0.0))
    # mlx-lm warms up to arguments[0], the mlx schedule's value at step 0; ours to their value at step 0
    has_init = mlx_name and name != "join_schedules"
    initial_lr = float(bound["init"]) if has_init else float(schedule(np.int64(0)))
    return Join((Linear(warmup_init, initial_lr, warmup), schedule), (warmup + 1,))
