"""Declarative parameters: each schedule field's type and range, written once.

A schedule declares its fields with the helpers below (``init_lr: float = rate()``). The spec in the
field's metadata is read by the constructor's validation and its error messages
(:meth:`Schedule.__post_init__ <mlx_lrsched.base.Schedule>`), by ``mlx-lrsched list``, and by the test
suite's Hypothesis strategies; rules that tie two fields together stay in the class's ``_validate`` hook.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _check
from ._check import FLOAT32_MAX
from ._xp import MAX_STEP


@dataclass(frozen=True)
class Spec:
    """The type and range of one field.

    ``kind`` is one of ``"real"``, ``"int"``, ``"length"`` (a number of steps, whole or not), ``"flag"``,
    ``"choice"``, ``"steps"`` (a strictly increasing
    list of integers), ``"reals"`` (a list of numbers), ``"schedule"`` (a schedule or a number),
    ``"schedules"`` (a non-empty list of them). Numbers lie in ``[low, high]`` (open ends as flagged);
    ``optional`` admits ``None``.
    """

    kind: str
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    aliases: Mapping[str, str] = dataclasses.field(default_factory=dict)
    optional: bool = False

    def check(self, owner: str, name: str, value: Any) -> Any:
        """The value validated and normalised (plain ``int``/``float``/``tuple``), or a ``ValueError``/``TypeError``."""
        if value is None and self.optional:
            return None
        if self.kind == "real":
            return _check.real(
                owner, name, value, low=self.low, high=self.high, low_open=self.low_open, high_open=self.high_open
            )
        if self.kind == "int":
            return _check.integer(owner, name, value, low=int(self.low), high=int(self.high))
        if self.kind == "length":
            if isinstance(value, numbers.Integral) and not isinstance(value, bool):
                return _check.integer(owner, name, value, low=math.ceil(self.low), high=int(self.high))
            number = _check.real(owner, name, value, low=self.low, high=self.high, high_open=True)
            return int(number) if number.is_integer() else number
        if self.kind == "flag":
            return _check.flag(owner, name, value)
        if self.kind == "choice":
            if isinstance(value, str) and value in self.aliases:
                return self.aliases[value]
            return _check.choice(owner, name, value, self.choices)
        if self.kind == "steps":
            return _check.increasing_steps(owner, name, value, low=int(self.low))
        if self.kind == "reals":
            values = _check.sequence(owner, name, value, "numbers")
            item = dataclasses.replace(self, kind="real")
            return tuple(item.check(owner, f"{name}[{i}]", v) for i, v in enumerate(values))
        raise AssertionError(f"{self.kind!r} fields are checked by mlx_lrsched.base, which knows schedules")

    def describe(self) -> str:
        """The allowed values in words, e.g. ``"a number in [0, 3.4e+38]"``."""
        text: str
        if self.kind in ("real", "reals"):
            left = "(" if self.low_open or math.isinf(self.low) else "["
            right = ")" if self.high_open or math.isinf(self.high) else "]"
            text = f"a number in {left}{self.low:g}, {self.high:g}{right}"
            if self.kind == "reals":
                text = f"a list of numbers in {left}{self.low:g}, {self.high:g}{right}"
        elif self.kind in ("int", "length"):
            high = "2**63 - 1" if self.high == MAX_STEP else f"{int(self.high)}"
            text = f"an integer in [{int(self.low)}, {high}]"
            if self.kind == "length":
                text = f"a number of steps in [{self.low:g}, {high}], whole or fractional"
        elif self.kind == "steps":
            text = f"a strictly increasing list of integers >= {int(self.low)}"
        elif self.kind == "flag":
            text = "True or False"
        elif self.kind == "choice":
            text = "one of " + ", ".join(map(repr, self.choices))
        elif self.kind == "schedule":
            text = "a Schedule or a learning rate"
        else:
            text = "a non-empty list of Schedules or learning rates"
        return f"{text} or None" if self.optional else text


def spec_of(f: dataclasses.Field[Any]) -> Spec | None:
    """The spec declared for a dataclass field, if any."""
    return f.metadata.get("spec")


def _field(spec: Spec, default: Any) -> Any:
    return field(default=default, metadata={"spec": spec})


MISSING: Any = dataclasses.MISSING


def rate(default: Any = MISSING, *, positive: bool = False, optional: bool = False) -> Any:
    """A learning rate (or a factor on one): a number in ``[0, FLOAT32_MAX]``, or ``(0, ...]`` if positive."""
    return _field(Spec("real", 0.0, FLOAT32_MAX, low_open=positive, optional=optional), default)


def real(
    default: Any = MISSING,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    optional: bool = False,
) -> Any:
    """A finite real number in an interval."""
    return _field(Spec("real", low, high, low_open, high_open, optional=optional), default)


def unit(default: Any = MISSING, *, low_open: bool = True, high_open: bool = False) -> Any:
    """A factor in ``(0, 1]`` (ends open or closed as given)."""
    return _field(Spec("real", 0.0, 1.0, low_open, high_open), default)


def steps(default: Any = MISSING, *, low: int = 0, high: int = MAX_STEP, optional: bool = False) -> Any:
    """A step count: an integer in ``[low, high]``."""
    return _field(Spec("int", low, high, optional=optional), default)


def length(default: Any = MISSING, *, low: float = 1.0, high: int = MAX_STEP) -> Any:
    """A number of steps that need not be whole (a period of ``1000 / 3`` steps): kept as an ``int`` when it is."""
    return _field(Spec("length", low, high), default)


def flag(default: Any = MISSING) -> Any:
    """``True`` or ``False``."""
    return _field(Spec("flag"), default)


def choice(default: Any, choices: tuple[str, ...], aliases: Mapping[str, str] | None = None) -> Any:
    """One of ``choices``; an alias is accepted and stored as the name it stands for."""
    return _field(Spec("choice", choices=choices, aliases=dict(aliases or {})), default)


def step_list(default: Any = MISSING, *, low: int = 0) -> Any:
    """A non-empty, strictly increasing list of steps ``>= low``."""
    return _field(Spec("steps", low), default)


def rate_list(default: Any = MISSING) -> Any:
    """A list of learning rates."""
    return _field(Spec("reals", 0.0, FLOAT32_MAX), default)


def schedule(default: Any = MISSING) -> Any:
    """A schedule (a number becomes ``Constant``)."""
    return _field(Spec("schedule"), default)


def schedule_list(default: Any = MISSING) -> Any:
    """A non-empty list of schedules (numbers become ``Constant``)."""
    return _field(Spec("schedules"), default)


COS_ALIASES = {"hann": "cos", "raised_cosine": "cos"}
"""Spellings of the raised cosine :math:`\\sin^2(\\tfrac{\\pi}{2} x)` that 0.1.0 used; all stand for ``"cos"``."""
