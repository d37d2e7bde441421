"""Eager argument validation shared by every constructor.

Every check raises an error that names the schedule, the parameter, the value and the allowed range,
and returns the value normalised to a plain Python ``float``/``int`` so configs stay JSON-clean.
"""

from __future__ import annotations

import difflib
import math
import numbers
import reprlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ._xp import MAX_STEP


def real(
    owner: str,
    name: str,
    value: Any,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number in the given interval (closed unless ``*_open``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {type(value).__name__} {preview(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range, e.g. 10**400
        number = math.inf if value > 0 else -math.inf  # type: ignore[operator]
    below = number <= low if low_open else number < low
    above = number >= high if high_open else number > high
    if not math.isfinite(number) or below or above:
        left = "(" if low_open or math.isinf(low) else "["
        right = ")" if high_open or math.isinf(high) else "]"
        interval = f"{left}{low:g}, {high:g}{right}"
        shown = f"{number!r}" if math.isfinite(number) else preview(value)
        raise ValueError(f"{owner}: {name} must be a finite number in {interval}, got {shown}")
    return number


FLOAT32_MAX = 3.4028234663852886e38
"""Rates and factors must fit in float32, the dtype MLX trains in (beyond it a rate is ``inf``)."""


def positive(owner: str, name: str, value: Any) -> float:
    """A number in ``(0, FLOAT32_MAX]``."""
    return real(owner, name, value, low=0.0, high=FLOAT32_MAX, low_open=True)


def non_negative(owner: str, name: str, value: Any) -> float:
    """A number in ``[0, FLOAT32_MAX]``."""
    return real(owner, name, value, low=0.0, high=FLOAT32_MAX)


def decay_constant(owner: str, k: Any, per: int = 1) -> float:
    """``exp(-k * per)`` for a decay constant ``k >= 0``, refusing one that decays to 0 within ``per`` steps."""
    k = non_negative(owner, "k", k)
    rate = math.exp(-k * per)
    if rate == 0.0:
        raise ValueError(
            f"{owner}: k={k!r} decays to 0 within {per} step(s) (exp(-k * {per}) underflows); use a smaller k"
        )
    return rate


def float32_peak(owner: str, peak: float) -> None:
    """Refuse a composition whose largest value overflows float32 although each factor fits."""
    if peak > FLOAT32_MAX:
        raise ValueError(f"{owner}: the product's peak {peak:g} exceeds float32's largest value {FLOAT32_MAX:g}")


def float32_blend(owner: str, first: tuple[str, float], second: tuple[str, float]) -> None:
    """Refuse two different rates whose float32 blend ``a * w_a + b * w_b`` can round up to ``inf``.

    Each term is at most its rate, so ``a + b <= FLOAT32_MAX`` keeps every blended value finite; measured on
    MLX, two different rates with the larger at (or one float32 below) the largest value give ``inf`` at
    some steps. Equal rates are a constant and are never blended.
    """
    (a_name, a), (b_name, b) = first, second
    if a != b and a + b > FLOAT32_MAX:
        raise ValueError(
            f"{owner}: {a_name} + {b_name} must be at most float32's largest value {FLOAT32_MAX!r} (the schedule "
            f"blends the two in float32, which overflows to inf beyond it), got {a_name}={a!r}, {b_name}={b!r}"
        )


def integer(owner: str, name: str, value: Any, *, low: int = 0, high: int = MAX_STEP) -> int:
    """An integer in ``[low, high]``; floats (even ``10.0``) and bools are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an integer, got {type(value).__name__} {preview(value)}")
    number = int(value)
    if not low <= number <= high:
        bound = "2**63 - 1" if high == MAX_STEP else str(high)
        raise ValueError(f"{owner}: {name} must be an integer in [{low}, {bound}], got {preview(number)}")
    return number


def flag(owner: str, name: str, value: Any) -> bool:
    """A ``bool`` (not a truthy number or string)."""
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be True or False, got {type(value).__name__} {preview(value)}")
    return value


def choice(owner: str, name: str, value: Any, allowed: Sequence[str]) -> str:
    """One of the ``allowed`` strings."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{owner}: {name} must be one of {', '.join(map(repr, allowed))}; got {preview(value)}")
    return value


def sequence(owner: str, name: str, values: Any, what: str) -> tuple[Any, ...]:
    """A list, tuple or 1-d NumPy array (not a string) of ``what``, as a tuple."""
    if isinstance(values, np.ndarray) and values.ndim == 1:
        return tuple(values.tolist())
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{owner}: {name} must be a list of {what}, got {type(values).__name__} {preview(values)}")
    return tuple(values)


PREVIEW_CHARS = 60
"""How much of a bad value an error message shows (a million-element list is not echoed whole)."""


def preview(value: Any) -> str:
    """``repr(value)``, cut to :data:`PREVIEW_CHARS` characters."""
    try:
        text = reprlib_repr(value)
    except (ValueError, RecursionError):  # an int past Python's 4300-digit str limit; a self-nesting object
        if isinstance(value, int):
            return f"an integer of {value.bit_length()} bits"
        text = f"<{type(value).__name__}>"
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 3] + "..."


def shorten(text: str, limit: int = 2 * PREVIEW_CHARS) -> str:
    """``text`` itself, or its start and end around ``...`` when longer than ``limit`` (a message from elsewhere)."""
    if len(text) <= limit:
        return text
    half = (limit - 3) // 2
    return f"{text[:half]}...{text[len(text) - half :]}"


def reprlib_repr(value: Any) -> str:
    """A repr that stays short for long containers and strings."""
    short = reprlib.Repr()
    short.maxstring = short.maxother = PREVIEW_CHARS
    short.maxlist = short.maxtuple = short.maxdict = 6
    return short.repr(value)


def suggestion(value: Any, valid: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest valid name, or an empty string."""
    if not isinstance(value, str) or len(value) > 200:
        return ""
    close = difflib.get_close_matches(value, list(valid), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def increasing_steps(owner: str, name: str, values: Any, *, low: int = 0) -> tuple[int, ...]:
    """A non-empty, strictly increasing sequence of integer steps >= ``low``."""
    values = sequence(owner, name, values, "integers")
    if not values:
        raise ValueError(f"{owner}: {name} must not be empty")
    steps = tuple(integer(owner, f"{name}[{i}]", v, low=low) for i, v in enumerate(values))
    for i in range(1, len(steps)):
        if steps[i] <= steps[i - 1]:
            raise ValueError(f"{owner}: {name} must be strictly increasing, got {preview(list(steps))}")
    return steps
