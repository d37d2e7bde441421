"""Shapes every schedule shares, written once: phases, annealing between two values, exponentials.

Precision rules (DESIGN.md): steps stay integers until the last moment; a phase's elapsed and remaining
fractions are both taken from exact integers, and an annealed value is ``start * w_left + end * w_done``
with both weights non-negative, so it keeps full relative precision at both ends of the phase, where a
float32 ``start + (end - start) * fraction`` loses it near zero.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from ._xp import MAX_STEP, NUMPY, Array, Backend

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

    def weight(steps: Array) -> Array:
        # Only the weights the result uses are built: each one is several graph nodes, paid on every call.
        fraction = xp.to_float(steps) * inverse
        return xp.sin(fraction * (0.5 * math.pi)) ** 2 if shape == "cos" else fraction

    if end == 0.0:
        return start * weight(length - done)
    if start == 0.0:
        return end * weight(done)
    return start * weight(length - done) + end * weight(done)


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


def exp_decay(xp: Backend, scale: float, units: Array, log_rate: float, max_units: int | None = None) -> Array:
    """``scale * rate ** units`` for integer ``units`` and ``log_rate = log(rate)`` (a host float64).

    Never a float32 ``rate ** t``, which is off by 1.4e-2 relative at t = 1e6 for rate 0.99999. In float32
    even ``exp(t * log_rate)`` loses up to 2e-6: the product rounds (about ``|x|`` * 1e-7) and MLX's ``exp`` is up to
    9e-7 off for large arguments. So the integer ``units`` are split exactly as ``blocks * B + rest`` with
    ``B * |log_rate|`` about 1/2: ``rate ** (blocks * B)`` comes from a small table computed in float64 on the
    host and rounded once, and only ``exp(rest * log_rate)`` (an argument below 1/2) is evaluated in float32.
    Growth (``log_rate > 0``) needs ``max_units``, the units at which the caller caps it.
    """
    if log_rate == 0.0:
        return xp.full(units, scale)
    if xp.float_bits == 64:
        return scale * xp.exp(xp.to_float(units) * log_rate)
    if not isinstance(scale, (int, float)):  # an array scale: multiply after the lookup
        return scale * exp_decay(xp, 1.0, units, log_rate, max_units)
    # ``scale`` is folded into the host table (one rounding instead of three, one graph node fewer) and
    # ``divmod`` is one node where ``//`` and ``%`` are two: an eager call costs about one evaluation per node.
    block, table = _power_table(xp.name, log_rate, max_units, float(scale))
    if block == 1:
        return xp.take(table, xp.minimum(units, table.shape[0] - 1))
    blocks, rest = xp.divmod(units, block)
    return xp.take(table, xp.minimum(blocks, table.shape[0] - 1)) * xp.exp(xp.to_float(rest) * log_rate)


_FLOAT32_LOG_RANGE = 104.0  # exp(-104) is below float32's smallest subnormal


@functools.lru_cache(maxsize=512)
def _power_table(backend: str, log_rate: float, max_units: int | None, scale: float = 1.0) -> tuple[int, Any]:
    block = max(1, int(0.5 / abs(log_rate)))
    block_log = block * log_rate
    if max_units is None:
        count = int(_FLOAT32_LOG_RANGE / abs(block_log)) + 2
    else:
        count = max_units // block + 2
    exponents = np.arange(count, dtype=np.float64) * block_log
    table = (scale * np.exp(np.minimum(exponents, 700.0))).astype(np.float32)
    if backend == "mlx":
        import mlx.core as mx

        return block, mx.array(table)
    return block, table


WEIGHT_SHAPES = ("linear", "cos", "sqrt")


def shifted(xp: Backend, t: Array, begin: int) -> Array:
    """Integer steps since ``begin`` (0 before it), unbounded above: what a schedule started at ``begin`` sees."""
    if not begin:
        return t
    return xp.maximum(t, begin) - begin  # saturating: no unsigned wrap-around before ``begin``


def anneal_weights(xp: Backend, done: Array, length: int, shape: str = "linear") -> tuple[Array, Array]:
    """The weights ``(w_left, w_done)`` of :func:`anneal` for ``shape`` in :data:`WEIGHT_SHAPES`.

    Both are non-negative, sum to 1 and are 0 exactly at their own end, each from integers. ``sqrt`` is
    :math:`w_\\text{done} = \\sqrt d`, :math:`w_\\text{left} = 1 - \\sqrt d` written as
    :math:`r / (1 + \\sqrt d)` so it keeps full precision as :math:`d \\to 1`. Use it when an end is an
    array (another schedule's value), where :func:`anneal` takes Python floats.
    """
    length = max(length, 1)
    inverse = 1.0 / length
    done_fraction = xp.to_float(done) * inverse
    left_fraction = xp.to_float(length - done) * inverse
    if shape == "cos":
        half_pi = 0.5 * math.pi
        return xp.sin(left_fraction * half_pi) ** 2, xp.sin(done_fraction * half_pi) ** 2
    if shape == "sqrt":
        root = xp.sqrt(done_fraction)
        return left_fraction / (1.0 + root), root
    return left_fraction, done_fraction


def blend(
    xp: Backend, start: Any, end: Any, done_fraction: Array, left_fraction: Array, shape: str = "linear"
) -> Array:
    """:func:`anneal` for fractions the caller computed (``done + left == 1``, each from exact integers).

    For phases whose length or ends are not one Python integer: a cycle length that varies per
    element, or PyTorch ``OneCycleLR``'s fractional phase ends. ``start`` and ``end`` may be arrays.
    """
    if shape == "cos":
        half_pi = 0.5 * math.pi
        w_left = xp.sin(left_fraction * half_pi) ** 2
        w_done = xp.sin(done_fraction * half_pi) ** 2
    else:
        w_left, w_done = left_fraction, done_fraction
    if isinstance(end, float) and end == 0.0:
        return start * w_left
    if isinstance(start, float) and start == 0.0:
        return end * w_done
    return start * w_left + end * w_done


def geometric_cycles(xp: Backend, t: Array, first_length: int, mult: int) -> tuple[Array, Array, Array]:
    """Cycle index ``n``, step into the cycle and cycle length for cycles of ``first_length * mult**n`` steps.

    All three are exact integers (int64) at any step: ``n`` comes from a float estimate of
    :math:`\\log_m(1 + t (m - 1) / T_0)`, which can be one off next to a cycle start, and is then
    corrected against the exact cycle starts tabulated on the host. ``mult == 1`` is plain ``//``
    and ``%``. The length of the last cycle that starts below ``2**63`` is clipped to ``2**63 - 1``.
    """
    if mult == 1:
        return t // first_length, t % first_length, t * 0 + first_length
    starts, lengths = _geometric_tables(first_length, mult)
    last = len(lengths) - 1
    steps = _int64(xp, t)
    estimate = xp.log1p(xp.to_float(steps) * ((mult - 1) / first_length)) * (1.0 / math.log(mult))
    index = xp.minimum(xp.maximum(_int32(xp, estimate), 0), last)
    index = xp.where(steps < _take(xp, starts, index), index - 1, index)
    index = xp.where(steps >= _take(xp, starts, index + 1), index + 1, index)
    index = xp.minimum(xp.maximum(index, 0), last)
    position = steps - _take(xp, starts, index)
    return index, position, _take(xp, lengths, index)


@functools.lru_cache(maxsize=64)
def _geometric_tables(first_length: int, mult: int) -> tuple[list[int], list[int]]:
    """Every cycle start below ``2**63`` plus a sentinel, and each of those cycles' (clipped) length."""
    starts = [0]
    while starts[-1] + first_length * mult ** (len(starts) - 1) <= MAX_STEP:
        starts.append(starts[-1] + first_length * mult ** (len(starts) - 1))
    lengths = [min(first_length * mult**n, MAX_STEP) for n in range(len(starts))]
    starts.append(MAX_STEP)  # sentinel: cycle ``len(lengths)`` is never entered (the caller clamps)
    return starts, lengths


def _int64(xp: Backend, t: Array) -> Array:
    # Steps are validated to [0, 2**63 - 1] (MLX uint64 steps are not: clamp the wrapped ones to 0).
    if xp is NUMPY:
        return np.asarray(t).astype(np.int64)
    import mlx.core as mx

    return xp.maximum(t.astype(mx.int64), 0)


def _int32(xp: Backend, values: Array) -> Array:
    """Truncate non-negative floats to int32."""
    if xp is NUMPY:
        return np.asarray(values).astype(np.int32)
    import mlx.core as mx

    return values.astype(mx.int32)


def _take(xp: Backend, table: list[int], index: Array) -> Array:
    """``table[index]`` elementwise, as int64."""
    if xp is NUMPY:
        return np.take(np.asarray(table, dtype=np.int64), index)
    import mlx.core as mx

    return xp.take(mx.array(table, dtype=mx.int64), index)


def power_weights(xp: Backend, done: Array, left: Array, power: float) -> tuple[Array, Array]:
    """``(r ** p, 1 - r ** p)`` with ``r = left / (done + left)``, each to float32 precision for any ``p``.

    ``done`` and ``left`` are non-negative float arrays converted from exact integers. Both weights come from
    one logarithm :math:`\\ell = \\log r`, taken as ``log1p(-d)`` while :math:`d = 1 - r \\le 1/2` and as
    ``log(r)`` beyond, so :math:`p\\,\\ell` is accurate whatever ``p`` is: ``r ** p`` is
    :math:`e^{p\\ell}` and ``1 - r ** p`` is ``-expm1(p * l)``, which never cancels (a float32 ``1 - r ** p``
    loses everything when ``r ** p`` is near 1, and ``r ** p`` with a rounded ``r`` is off by ``p`` ulps).
    ``r = 0`` gives ``(0, 1)``; no element ever sees ``log(0)``.
    """
    total = done + left
    near_start = done <= left  # d <= 1/2
    positive = left > 0
    done_fraction = xp.where(near_start, done / xp.maximum(total, 1.0), 0.0)
    left_fraction = xp.where(near_start | ~positive, 1.0, left / xp.maximum(total, 1.0))
    log_left = xp.where(near_start, xp.log1p(-done_fraction), _log(xp, left_fraction))
    exponent = power * log_left
    w_left = xp.where(positive, xp.exp(exponent), 0.0)
    w_done = xp.where(positive, -xp.expm1(exponent), 1.0)
    return w_left, w_done


def _log(xp: Backend, values: Array) -> Array:
    """Natural logarithm on the backend (the shim has only ``log1p``, which cannot take a tiny ``x`` as ``x - 1``)."""
    if xp is NUMPY:
        return np.log(values)
    import mlx.core as mx

    return mx.log(values)
