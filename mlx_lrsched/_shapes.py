"""Shapes every schedule shares, written once: phases, annealing between two values, powers, cycles.

Precision rules (DESIGN.md): steps stay integers until the last moment; a phase's elapsed and remaining
fractions are both taken from exact integers, and an annealed value is ``start * w_left + end * w_done``
with both weights non-negative, so it keeps full relative precision at both ends of the phase, where a
float32 ``start + (end - start) * fraction`` loses it near zero.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ._xp import MAX_STEP, Array, Backend

ANNEAL_SHAPES = ("linear", "cos")
WEIGHT_SHAPES = ("linear", "cos", "sqrt")
_HALF_PI = 0.5 * math.pi


def phase_steps(steps: Iterable[int]) -> tuple[int, ...]:
    """Sorted unique phase boundaries within the step range ``[0, 2**63 - 1]`` (for ``phase_boundaries``)."""
    return tuple(sorted({step for step in steps if 0 <= step <= MAX_STEP}))


def cos_weight(xp: Backend, fraction: Array) -> Array:
    """:math:`\\sin^2(\\tfrac{\\pi}{2} f) = (1 - \\cos \\pi f) / 2`: 0 at ``f = 0``, 1 at ``f = 1``, exact near 0."""
    return xp.sin(fraction * _HALF_PI) ** 2


def shifted(xp: Backend, t: Array, begin: int) -> Array:
    """Integer steps since ``begin`` (0 before it), unbounded above: what a schedule started at ``begin`` sees."""
    if not begin:
        return t
    return xp.maximum(t, begin) - begin  # saturating: no unsigned wrap-around before ``begin``


def elapsed(xp: Backend, t: Array, begin: int, length: int) -> Array:
    """Integer steps into the phase ``[begin, begin + length)``, clamped to ``[0, length]``."""
    return xp.minimum(shifted(xp, t, begin), length)


def fractions(xp: Backend, done: Array, length: int | Array) -> tuple[Array, Array]:
    """``(d, r)`` = ``(done / length, (length - done) / length)``, each from exact integers.

    ``length`` is a Python int (a phase) or an integer array (a per-element cycle length, >= 1).
    """
    inverse = 1.0 / max(length, 1) if isinstance(length, int) else 1.0 / xp.to_float(length)
    return xp.to_float(done) * inverse, xp.to_float(length - done) * inverse


def weights(xp: Backend, done_fraction: Array, left_fraction: Array, shape: str = "linear") -> tuple[Array, Array]:
    """``(w_left, w_done)``: non-negative, summing to 1, each exactly 0 at its own end of the phase.

    * ``linear``: :math:`(r, d)`.
    * ``cos``: :math:`(\\sin^2 \\tfrac{\\pi}{2} r, \\sin^2 \\tfrac{\\pi}{2} d)`, i.e.
      :math:`w_\\text{done} = (1 - \\cos \\pi d) / 2`. On NumPy one sine serves both (the smaller weight is
      :math:`\\sin^2(\\tfrac{\\pi}{2}\\min(d, r)) \\le 1/2` and the larger is 1 minus it, which cannot
      cancel): a long curve's cost is its transcendentals. On MLX a call's cost is its graph nodes, and two
      sines are fewer nodes than the select.
    * ``sqrt``: :math:`w_\\text{done} = \\sqrt d`, :math:`w_\\text{left} = 1 - \\sqrt d` written as
      :math:`r / (1 + \\sqrt d)`, which keeps full precision as :math:`d \\to 1`.
    """
    if shape == "cos" and xp.float_bits == 32:
        return cos_weight(xp, left_fraction), cos_weight(xp, done_fraction)
    if shape == "cos":
        small = cos_weight(xp, xp.minimum(done_fraction, left_fraction))
        large = 1.0 - small
        done_is_small = done_fraction <= left_fraction
        return xp.where(done_is_small, large, small), xp.where(done_is_small, small, large)
    if shape == "sqrt":
        root = xp.sqrt(done_fraction)
        return left_fraction / (1.0 + root), root
    return left_fraction, done_fraction


def _left_weight(xp: Backend, done_fraction: Array, left_fraction: Array, shape: str) -> Array:
    if shape == "cos":
        return cos_weight(xp, left_fraction)
    return weights(xp, done_fraction, left_fraction, shape)[0]


def _done_weight(xp: Backend, done_fraction: Array, left_fraction: Array, shape: str) -> Array:
    if shape == "cos":
        return cos_weight(xp, done_fraction)
    return weights(xp, done_fraction, left_fraction, shape)[1]


def blend(
    xp: Backend, start: Any, end: Any, done_fraction: Array, left_fraction: Array, shape: str = "linear"
) -> Array:
    """Move from ``start`` (``d = 0``) to ``end`` (``d = 1``) along ``shape``: ``start * w_left + end * w_done``.

    The fractions come from the caller (``d + r == 1``, each from exact integers), so a phase may have a
    per-element length or PyTorch ``OneCycleLR``'s fractional ends; ``start`` and ``end`` may be arrays.
    When both ends are numbers one weight suffices, the one that vanishes at the lower end ``low``, with
    ``1 - w`` for the other: ``1 - w`` only cancels where its term, ``low * (1 - w)``, is small next to the
    other one. Both ends stay exact (``w`` is exactly 0 or 1 there), at half the transcendentals.
    """
    if isinstance(start, (int, float)) and isinstance(end, (int, float)):
        if start >= end:
            w_left = _left_weight(xp, done_fraction, left_fraction, shape)
            return start * w_left if end == 0.0 else start * w_left + end * (1.0 - w_left)
        w_done = _done_weight(xp, done_fraction, left_fraction, shape)
        return end * w_done if start == 0.0 else start * (1.0 - w_done) + end * w_done
    if isinstance(end, (int, float)) and end == 0.0:
        return start * _left_weight(xp, done_fraction, left_fraction, shape)
    if isinstance(start, (int, float)) and start == 0.0:
        return end * _done_weight(xp, done_fraction, left_fraction, shape)
    w_left, w_done = weights(xp, done_fraction, left_fraction, shape)
    return start * w_left + end * w_done


def anneal(xp: Backend, start: Any, end: Any, done: Array, length: int, shape: str = "linear") -> Array:
    """:func:`blend` over the integer phase ``done = 0 .. length``."""
    return blend(xp, start, end, *fractions(xp, done, length), shape)


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
    log_left = xp.where(near_start, xp.log1p(-done_fraction), xp.log(left_fraction))
    exponent = power * log_left
    w_left = xp.where(positive, xp.exp(exponent), 0.0)
    w_done = xp.where(positive, -xp.expm1(exponent), 1.0)
    return w_left, w_done


def exp_decay(xp: Backend, scale: float, units: Array, log_rate: float, max_units: int | None = None) -> Array:
    """``scale * rate ** units`` for integer ``units`` and ``log_rate = log(rate)`` (a host float64).

    Never a float32 ``rate ** t``, which is off by 1.4e-2 relative at t = 1e6 for rate 0.99999. In float32
    even ``exp(t * log_rate)`` loses up to 2e-6: the product rounds (about ``|x|`` * 1e-7) and MLX's ``exp`` is up to
    9e-7 off for large arguments. So the integer ``units`` are split exactly as ``blocks * B + rest`` with
    ``B * |log_rate|`` about 1/2: ``scale * rate ** (blocks * B)`` comes from a small table computed in float64
    on the host and rounded once, and only ``exp(rest * log_rate)`` (an argument below 1/2) is evaluated in
    float32. Growth (``log_rate > 0``) needs ``max_units``, the units at which the caller caps it.
    """
    if log_rate == 0.0:
        return xp.full(units, scale)
    if xp.float_bits == 64 or abs(log_rate) * MAX_STEP <= 0.5:
        # float64 has the precision; and a rate so close to 1 that no valid step takes the exponent past 1/2
        # needs no table either (float32 ``exp`` is accurate to 1e-7 there).
        return scale * xp.exp(xp.to_float(units) * log_rate)
    if not isinstance(scale, (int, float)):  # an array scale: multiply after the lookup
        return scale * exp_decay(xp, 1.0, units, log_rate, max_units)
    # ``scale`` is folded into the host table (one rounding instead of three, one graph node fewer) and
    # ``divmod`` is one node where ``//`` and ``%`` are two: an eager call costs about one evaluation per node.
    block, table = _power_table(xp.name, log_rate, max_units, float(scale))
    if block == 1:
        return xp.take(table, xp.minimum(units, table.shape[0] - 1))
    if block > 2**31 - 1:  # int32 units (a cycle index) cannot be divided by a block beyond their range
        units = xp.to_int(units, xp.int64)
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


def geometric_cycles(xp: Backend, t: Array, first_length: int, mult: int) -> tuple[Array, Array, Array]:
    """Cycle index ``n``, step into the cycle and cycle length for cycles of ``first_length * mult**n`` steps.

    All three are exact integers at any step (the index int32, position and length int64; with
    ``mult == 1`` the step's own dtype and a Python int length): ``n`` comes from a float estimate of
    :math:`\\log_m(1 + t (m - 1) / T_0)`, which can be one off next to a cycle start, and is then
    corrected against the exact cycle starts tabulated on the host. ``mult == 1`` is plain ``//``
    and ``%``. The length of the last cycle that starts below ``2**63`` is clipped to ``2**63 - 1``.
    """
    if mult == 1:
        index, position = xp.divmod(t, first_length)
        return index, position, first_length
    starts, lengths = _geometric_tables(first_length, mult)
    last = len(lengths) - 1
    start_table, length_table = xp.table(starts, xp.int64), xp.table(lengths, xp.int64)
    # Steps are validated to [0, 2**63 - 1]; an MLX uint64 beyond wraps negative and is clamped to 0.
    steps = xp.maximum(xp.to_int(t, xp.int64), 0)
    estimate = xp.log1p(xp.to_float(steps) * ((mult - 1) / first_length)) * (1.0 / math.log(mult))
    index = xp.minimum(xp.maximum(xp.to_int(estimate, xp.int32), 0), last)
    index = xp.where(steps < xp.take(start_table, index), index - 1, index)
    index = xp.where(steps >= xp.take(start_table, index + 1), index + 1, index)
    index = xp.minimum(xp.maximum(index, 0), last)
    return index, steps - xp.take(start_table, index), xp.take(length_table, index)


@functools.lru_cache(maxsize=64)
def _geometric_tables(first_length: int, mult: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Every cycle start below ``2**63`` plus a sentinel, and each of those cycles' (clipped) length."""
    starts = [0]
    while starts[-1] + first_length * mult ** (len(starts) - 1) <= MAX_STEP:
        starts.append(starts[-1] + first_length * mult ** (len(starts) - 1))
    lengths = [min(first_length * mult**n, MAX_STEP) for n in range(len(starts))]
    starts.append(MAX_STEP)  # sentinel: cycle ``len(lengths)`` is never entered (the caller clamps)
    return tuple(starts), tuple(lengths)
