"""The registry of schedule names and the config loader: ``to_config`` output back to a schedule.

Every public schedule class registers itself under its class name when it is defined (see
:class:`mlx_lrsched.base.Schedule`); older spellings of a name can be registered as aliases. The loader
knows classes only through this registry, so it imports no schedule module.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from . import _check

_REGISTRY: dict[str, type] = {}

MAX_CONFIG_DEPTH = 64
"""How deeply configs may nest (schedules in schedules, lists in lists): far beyond any real composition."""


def register(cls: type, name: str | None = None) -> None:
    """Make ``cls`` loadable under ``name`` (its class name by default)."""
    _REGISTRY[name or cls.__name__] = cls


def schedule_names() -> list[str]:
    """Every schedule name :func:`from_config` accepts, sorted."""
    return sorted(_REGISTRY)


def schedule_class(name: Any) -> type:
    """The schedule class registered under ``name``; ``ValueError`` listing valid names otherwise."""
    if not isinstance(name, str) or name not in _REGISTRY:
        hint = _check.suggestion(name, _REGISTRY)
        shown = _check.preview(name)
        raise ValueError(f"unknown schedule name {shown}{hint}; valid names: {', '.join(schedule_names())}")
    return _REGISTRY[name]


def from_config(config: Mapping[str, Any] | str) -> Any:
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


def _too_deep() -> ValueError:
    return ValueError(f"schedule config nests deeper than {MAX_CONFIG_DEPTH} levels")


def _from_json(value: Any, depth: int) -> Any:
    if depth > MAX_CONFIG_DEPTH:
        raise _too_deep()
    if isinstance(value, Mapping) and "name" in value:
        return _build(value, depth + 1)
    if isinstance(value, Mapping):  # a plain dict counts as a level too (it is refused later, never recursed into)
        return {key: _from_json(v, depth + 1) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_from_json(v, depth + 1) for v in value]
    return value


def _build(config: Any, depth: int) -> Any:
    if depth > MAX_CONFIG_DEPTH:
        raise _too_deep()
    if not isinstance(config, Mapping):
        raise TypeError(
            f"schedule config must be a dict with a 'name' key, got {type(config).__name__} {_check.preview(config)}"
        )
    if "name" not in config:
        raise ValueError(f"schedule config is missing the key 'name'; valid names: {', '.join(schedule_names())}")
    cls = schedule_class(config["name"])
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs = {key: value for key, value in config.items() if key != "name"}
    for key in kwargs:
        if key not in fields:
            hint = _check.suggestion(key, fields)
            raise ValueError(
                f"{cls.__name__}: unknown config key {_check.preview(key)}{hint}; valid keys: {', '.join(fields)}"
            )
    for key, field in fields.items():
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        if required and key not in kwargs:
            raise ValueError(f"{cls.__name__}: config is missing the required key {_check.preview(key)}")
    return cls(**{key: _from_json(value, depth) for key, value in kwargs.items()})
