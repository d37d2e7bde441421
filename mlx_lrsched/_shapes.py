"""Shapes every schedule shares, written once: phases, annealing between two values, exponentials.

Precision rules (DESIGN.md): steps stay integers until the last moment; a phase's elapsed and remaining
fractions are both taken from exact integers, and an annealed value is ``start * w_left + end * w_done``
with both weights non-negative, so it keeps full relative precision at both ends of the phase, where a
float32 ``start + (end - start) * fraction`` loses it near zero.
"""

from __future__ import annotations

import math

from ._xp import Array, Backend

ANNEAL_SHAPES = ("linear", "cos")


def elapsed(xp: Backend, t: Array, begin: int, length: int) -> Array:
    """Integer steps into the phase ``[begin, begin + length)``, clamped to ``[0, length]``."""
    if begin:
        t = xp.maximum(t, begin) - begin  # saturating: no unsigned wrap-around before ``begin``
    return xp.minimum(t, length)


def anneal(xp: Backend, start: float, end: float, done: Array, length: int, shape: str = "linear") -> Array:
    """Move from ``start`` (``done == 0``) to ``end`` (``done == length``) along ``shape``.

    ``linear`` is :math:`s\\,r + e\\,d`; ``cos`` is :math:`s\\,\\sin^2(\\tfrac{\\pi}{2} r) +
    e\\,\\sin^2(\\tfrac{\\pi}{2} d)`, equal to :math:`e + (s - e)\\,(1 + \\cos \\pi d)/2`, where
    :math:`d` = done / length and :math:`r = 1 - d` are both computed from integers.
    """
    length = max(length, 1)
    inverse = 1.0 / length
    done_fraction = xp.to_float(done) * inverse
    left_fraction = xp.to_float(length - done) * inverse
    if shape == "cos":
        half_pi = 0.5 * math.pi
        w_left = xp.sin(left_fraction * half_pi) ** 2
        w_done = xp.sin(done_fraction * half_pi) ** 2
    else:
        w_left, w_done = left_fraction, done_fraction
    if end == 0.0:
        return start * w_left
    if start == 0.0:
        return end * w_done
    return start * w_left + end * w_done


def polynomial_weights(xp: Backend, done: Array, length: int, power: float) -> tuple[Array, Array]:
    """``((1 - d) ** power, 1 - (1 - d) ** power)`` for ``d = done / length``, each to full precision."""
    length = max(length, 1)
    done_fraction = xp.to_float(done) * (1.0 / length)
    w_left = xp.power(xp.to_float(length - done) * (1.0 / length), power)
    # 1 - r**p loses everything when r**p is near 1; there -expm1(p * log1p(-d)) is exact. Feed the
    # log only the small fractions so no element ever sees log(0).
    small = xp.where(w_left > 0.5, done_fraction, 0.0)
    w_done = xp.where(w_left > 0.5, -xp.expm1(power * xp.log1p(-small)), 1.0 - w_left)
    return w_left, w_done


def exp_decay(xp: Backend, scale: float, exponent_units: Array, log_rate: float) -> Array:
    """``scale * rate ** exponent_units`` as ``scale * exp(units * log(rate))``.

    ``log_rate`` is a Python float taken in float64 on the host: a float32 ``rate ** t`` is off by
    1.4e-2 relative at t = 1e6 for rate 0.99999.
    """
    return scale * xp.exp(xp.to_float(exponent_units) * log_rate)
