"""Shapes every schedule shares, written once: annealing between two values, exact powers, cycles.

Precision rules (``docs/architecture.md``): steps stay integers until the last moment; the fraction of a
phase is measured from the phase's *lower* end, from exact integers, so an annealed value
``low + (high - low) * w`` keeps full relative precision near its small end, where a float32
``start + (end - start) * fraction`` loses it near zero. Every helper is elementwise (no gather, no
``divmod``), so a whole formula compiles to one fused kernel.
"""

from __future__ import annotations

import functools
import math

from ._xp import MAX_STEP, Array, Backend

ANNEAL_SHAPES = ("linear", "cos")
WEIGHT_SHAPES = ("linear", "cos", "sqrt")
_HALF_PI = 0.5 * math.pi
_LN2 = math.log(2.0)


def cos_weight(xp: Backend, fraction: Array, scale: float = 1.0) -> Array:
    """:math:`\\sin^2(\\tfrac{\\pi}{2} f) = (1 - \\cos \\pi f) / 2`: 0 at ``f = 0``, 1 at ``f = 1``, exact near 0.

    ``fraction`` may be given pre-multiplied by ``1 / scale`` (``scale`` folds into the sine's argument).
    """
    sine = xp.sin(fraction * (_HALF_PI * scale))
    return sine * sine  # not ``** 2``: MLX's compiled and eager squares differ in the last bit


def weight(xp: Backend, fraction: Array, shape: str, scale: float = 1.0) -> Array:
    """The weight :math:`w(f)` of ``shape`` at ``fraction * scale``: 0 at 0, 1 at 1.

    ``linear`` :math:`f`; ``cos`` :math:`\\sin^2(\\tfrac{\\pi}{2} f)`; ``sqrt`` :math:`\\sqrt f`.
    """
    if shape == "cos":
        return cos_weight(xp, fraction, scale)
    scaled = fraction if scale == 1.0 else fraction * scale
    if shape == "sqrt":
        return xp.sqrt(scaled)
    return scaled


def mirror_weight(xp: Backend, fraction: Array, shape: str, scale: float = 1.0) -> Array:
    """:math:`1 - w(1 - f)` at ``fraction * scale``: the weight of ``shape`` measured from the other end.

    Exact near ``f = 0`` for every shape: ``cos`` is symmetric, and ``1 - \\sqrt{1 - f}`` is written
    :math:`f / (1 + \\sqrt{1 - f})`.
    """
    if shape == "sqrt":
        scaled = fraction if scale == 1.0 else fraction * scale
        return scaled / (1.0 + xp.sqrt(1.0 - scaled))
    return weight(xp, fraction, shape, scale)


def blend(xp: Backend, start: Array, end: float, left: Array, length: Array | int, shape: str = "cos") -> Array:
    """An array ``start`` annealed to the number ``end``, with ``left`` integer steps of ``length`` to go.

    ``start * w_left + end * w_done``, both weights from exact integers: either end may be the smaller one
    (a restart can start below ``end``), and each keeps its relative precision.
    """
    inverse = 1.0 / xp.to_float(length) if not isinstance(length, int) else 1.0 / length
    w_start = mirror_weight(xp, xp.to_float(left) * inverse, shape)
    if not end:
        return start * w_start
    return start * w_start + end * weight(xp, xp.to_float(length - left) * inverse, shape)


def power_decay(
    xp: Backend, start: float, end: float, done: Array, left: Array, total: Array | float, power: float
) -> Array:
    r"""``end + (start - end) * r ** p`` with ``r = left / total``: polynomial annealing from ``start`` to ``end``.

    ``done``, ``left`` and ``total = done + left`` are non-negative floats converted from exact integers. Of the
    two weights, the one that vanishes at the smaller end is computed: ``r ** p`` when decaying (a
    correctly rounded ``pow`` of a once-rounded ``r``, whose error is ``p`` times ``r``'s; for ``p > 8``
    ``exp(p log r)`` with an accurate ``log r`` instead), :math:`1 - r^p = -\mathrm{expm1}(p \log r)` when
    rising, which never cancels near ``d = 0``. Both are exactly 0 (or 1) at the end, ``r = 0``.
    """
    unfinished = left > 0
    if start >= end:
        if power <= 8.0:
            decayed = xp.power(left / total, power)
        else:
            decayed = xp.exp(power * _log_left(xp, done, left, total, unfinished))
        return end + (start - end) * xp.where(unfinished, decayed, 0.0)
    risen = -xp.expm1(power * _log_left(xp, done, left, total, unfinished))
    return start + (end - start) * xp.where(unfinished, risen, 1.0)


def _log_left(xp: Backend, done: Array, left: Array, total: Array | float, unfinished: Array) -> Array:
    r""":math:`\log r` as ``log1p(-d)`` while ``d <= 1/2`` and ``log(r)`` beyond: accurate, and never ``log(0)``."""
    near_start = done <= left
    done_fraction = xp.where(near_start, done / total, 0.0)
    left_fraction = xp.where(near_start | ~unfinished, 1.0, left / total)
    return xp.where(near_start, xp.log1p(-done_fraction), xp.log(left_fraction))


@functools.lru_cache(maxsize=1024)
def _power_split(log_rate: float, max_units: int) -> tuple[int, int, int, float]:
    """Host constants for ``rate ** u``: ``(P, F, sign, residual)`` with ``|log2 rate| = P / 2**F + residual``.

    ``F`` is as large as ``P * max_units < 2**63`` allows, so ``u * P`` is an exact integer for every
    ``u <= max_units``; the residual (below ``2**-F``) multiplies a float ``u``, a negligible term.
    """
    magnitude = abs(log_rate) / _LN2
    bits = 62
    while bits > 0 and math.floor(math.ldexp(magnitude, bits)) * max_units >= 2**62:
        bits -= 1
    numerator = math.floor(math.ldexp(magnitude, bits))
    residual = magnitude - math.ldexp(numerator, -bits)
    return numerator, bits, 1 if log_rate > 0 else -1, residual


def underflow_units(xp: Backend, log_rate: float) -> int:
    """Units of decay ``log_rate < 0`` after which ``rate ** u`` times any float32 rate is 0 in ``xp``'s floats.

    Float32 rates are at most ``2**128``; the smallest subnormal is ``2**-149`` in float32 (``2**-1074`` in
    float64), so 280 (1210) halvings reach 0 from any rate.
    """
    halvings = 280 if xp.float_bits == 32 else 1210
    return min(math.ceil(halvings * _LN2 / -log_rate), MAX_STEP)


def exp_decay(xp: Backend, scale: float, units: Array, log_rate: float, max_units: int | None = None) -> Array:
    """``scale * rate ** units`` for non-negative integer ``units`` and ``log_rate = log(rate)`` (a host float64).

    Never a float32 ``rate ** t`` (off by 1.4e-2 relative at t = 1e6 for rate 0.99999), and never a large
    float32 ``exp`` argument: ``exp(t * log_rate)`` loses up to 2e-6 (the product rounds, and MLX's float32
    ``exp`` is up to 9e-7 off on [-14, 0]). The exponent in halvings, ``units * |log2 rate|``, is instead
    an exact integer product ``units * P`` in fixed point (``F`` fraction bits): its integer part ``b``
    gives the exact power of two ``2 ** -b``, and only the fraction (below 1) goes through ``exp``::

        rate ** u = 2 ** (-b) * exp(-(frac + u * residual) * ln 2)

    A decay is clamped where it reaches 0 (:func:`underflow_units`). A caller that bounds ``units`` itself
    passes ``max_units`` (growth must: ``log_rate > 0``) and discards larger units, e.g. in a later phase
    of a piecewise formula. NumPy's float64 has the precision for ``exp(t * log_rate)`` directly.
    """
    if log_rate == 0.0:
        return xp.full(units, scale)
    if units.dtype == xp.int32:  # a counter from training state: widen before any 64-bit constant meets it
        units = xp.to_int(units, xp.int64)
    if max_units is None:
        if log_rate > 0.0:
            raise ValueError("exp_decay: a growing rate needs max_units")
        max_units = underflow_units(xp, log_rate)
        if max_units < MAX_STEP:
            units = xp.minimum(units, max_units)
    if xp.float_bits == 64:
        return scale * xp.exp(xp.to_float(units) * log_rate)
    numerator, bits, sign, residual = _power_split(log_rate, max_units)
    fixed = units * numerator
    halvings = xp.to_float(fixed >> bits)
    fraction = xp.to_float(fixed & ((1 << bits) - 1))
    exponent = fraction * (sign * _LN2 * 2.0**-bits) + xp.to_float(units) * (sign * _LN2 * residual)
    return xp.exp(exponent) * (xp.power(2.0 if sign > 0 else 0.5, halvings) * scale)


def geometric_cycles(xp: Backend, t: Array, first_length: int, mult: int) -> tuple[Array, Array, Array]:
    """Cycle index ``n``, steps left in the cycle and the cycle's length for cycles of ``first_length * mult**n``.

    All three are exact integers at any step (int64): a float estimate of
    :math:`n = \\lfloor \\log_m(1 + t (m - 1) / T_0) \\rfloor`, which can be one off next to a cycle start,
    is corrected against the exact integer start of its cycle, ``T_0 (m^n - 1) / (m - 1)``, computed with
    an integer power. ``mult == 1`` is plain ``//`` and ``%``. The cycle containing ``2**63 - 1`` has its
    length clipped there (its end is past every valid step).
    """
    if mult == 1:
        return t // first_length, first_length - t % first_length, first_length
    last, last_start, last_length = _last_cycle(first_length, mult)
    # Everything stays in the step's own integer dtype: uint64 - int64 would promote to float in MLX.
    estimate = xp.log1p(xp.to_float(t) * ((mult - 1) / first_length)) * (1.0 / math.log(mult))
    guess = xp.minimum(xp.to_int(estimate, t.dtype), last)
    start, length = _cycle(xp, guess, first_length, mult, last, last_start, last_length)
    # The float guess is one off at most, and only next to a cycle start: step to the neighbour exactly.
    early = t < start
    late = ~early & (t - start >= length)
    index = xp.minimum(guess + xp.to_int(late, t.dtype), last) - xp.to_int(early, t.dtype)
    start, length = _cycle(xp, index, first_length, mult, last, last_start, last_length)
    return index, length - (t - start), length


def _cycle(
    xp: Backend, index: Array, first_length: int, mult: int, last: int, last_start: int, last_length: int
) -> tuple[Array, Array]:
    """The exact start and length of cycle ``index`` (``0 <= index <= last``), without int64 overflow."""
    below = xp.minimum(index, max(last - 1, 0))  # cycles before the last: their ends fit in int64
    power = xp.power(mult, below)
    is_last = index >= last
    start = xp.where(is_last, last_start, first_length * ((power - 1) // (mult - 1)))
    return start, xp.where(is_last, last_length, first_length * power)


def cycle_starts(first_length: int, mult: int, limit: int = 64) -> list[tuple[int, int]]:
    """``(start, length)`` of the first ``limit`` cycles of ``first_length * mult**n`` steps that start at a
    valid step; the last one listed may end past ``2**63 - 1`` (its length is exact, not clipped)."""
    cycles, start, length = [(0, first_length)], 0, first_length
    while len(cycles) < limit and start + length <= MAX_STEP:
        start, length = start + length, length * mult
        cycles.append((start, length))
    return cycles


@functools.lru_cache(maxsize=64)
def _last_cycle(first_length: int, mult: int) -> tuple[int, int, int]:
    """The index, start and (clipped) length of the cycle that contains step ``2**63 - 1``."""
    cycles = cycle_starts(first_length, mult, limit=64)  # mult >= 2: at most 63 cycles start below 2**63
    start, length = cycles[-1]
    return len(cycles) - 1, start, min(length, MAX_STEP)
