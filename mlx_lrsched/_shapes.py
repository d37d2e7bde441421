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
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ._xp import MAX_STEP, Array, Backend

ANNEAL_SHAPES = ("linear", "cos")
WEIGHT_SHAPES = ("linear", "cos", "sqrt")
CURVE_SHAPES = (*WEIGHT_SHAPES, "tanh")
BOUNDARY_CYCLES = 64
"""How many cycles ``phase_boundaries`` lists for the infinite cyclic schedules (enough for any plot)."""
TANH_BOUND = 20.0
"""``|lb|`` and ``|ub|`` of the tanh curve are at most this: the weight ``1 / (1 + exp(2 z))`` is computed
from an exact power of two of up to ``4 * 20 / ln 2`` halvings, which float32 holds (``tanh(20)`` is already
1 in float64)."""
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


def power(xp: Backend, base: Array, exponent: float, log_base: Array | None = None) -> Array:
    """``base ** exponent`` for a host float64 ``exponent``, exact to float32 rounding on MLX.

    MLX's ``power`` is correctly rounded, but it raises to the float32 value of the exponent: 2.7 becomes
    2.7000000477, an error of ``|exponent * log(base)| * 1.8e-8`` (7e-7 at ``2.7 log 1e-6``). The rest of the
    exponent, below float32's resolution, is put back to first order: ``base ** high * (1 + low * log(base))``.
    """
    if xp.float_bits == 64:
        return xp.power(base, exponent)
    high = float(np.float32(exponent))
    value = xp.power(base, high)
    low = exponent - high
    if low == 0.0:
        return value
    if log_base is None:  # log(0) would make 0 * inf: any base below float32's normals is as good as 0
        log_base = xp.log(xp.maximum(base, 1e-37))
    return value * (1.0 + low * log_base)


@dataclass(frozen=True)
class Curve:
    r"""How an annealing phase goes from its start value :math:`a` to its end value :math:`b`.

    The value at the fraction :math:`x = d / n` of the phase is :math:`b + (a - b)\, w(x)`, with the weight of
    the start

    * ``linear``, ``cos``, ``sqrt``: :math:`w(x) = B(x^k)^e` with :math:`B(y)` equal to :math:`1 - y`,
      :math:`\tfrac12 (1 + \cos \pi y)` and :math:`1 - \sqrt y`: ``k`` is timm's ``k_decay``, ``e`` optax's
      cosine ``exponent`` or a polynomial's power;
    * ``tanh``: :math:`w(x) = \tfrac12 \big(1 - \tanh(l (1 - x) + u x)\big) = 1 / (1 + e^{2 (l (1 - x) + u x)})`
      (timm's ``TanhLRScheduler``, which never quite reaches either end).

    Each of :math:`w` and :math:`1 - w` is computed with full relative precision where it is small, from the
    exact integers :math:`d` (steps done) and :math:`n - d` (steps left), so the value keeps its relative
    precision next to whichever end is small.
    """

    shape: str = "linear"
    exponent: float = 1.0
    k: float = 1.0
    lb: float = -7.0
    ub: float = 3.0

    @property
    def plain(self) -> bool:
        """One of the three shapes with neither an exponent nor a ``k``: the cheapest formulas."""
        return self.shape != "tanh" and self.exponent == 1.0 and self.k == 1.0

    def start_weight(
        self, xp: Backend, done: Array, left: Array, span: Array | float, units: Array | None = None
    ) -> Array:
        """:math:`w(x)`, exact where it is small (near the end of the phase)."""
        if self.shape == "tanh":
            return 1.0 / (1.0 + self._tanh_exp(xp, done, span, units))
        if self.plain:
            if self.shape == "sqrt":  # 1 - sqrt(d), written r / (1 + sqrt(d))
                return (left / span) / (1.0 + xp.sqrt(done / span))
            if self.shape == "cos" and isinstance(span, float):  # 1 / span folds into the sine's argument
                return cos_weight(xp, left, 1.0 / span)
            return weight(xp, left / span, self.shape)  # linear and cos are symmetric
        base = self._start_base(xp, done, left, span)
        return base if self.exponent == 1.0 else power(xp, base, self.exponent)

    def end_weight(
        self, xp: Backend, done: Array, left: Array, span: Array | float, units: Array | None = None
    ) -> Array:
        """:math:`1 - w(x)`, exact where it is small (near the start of the phase)."""
        if self.shape == "tanh":
            grown = self._tanh_exp(xp, done, span, units)
            return grown / (1.0 + grown)
        if self.plain:
            if self.shape == "cos" and isinstance(span, float):
                return cos_weight(xp, done, 1.0 / span)
            return weight(xp, done / span, self.shape)
        shape, k = self._base_shape()
        fraction = done / span
        if shape == "linear" and k == 1.0 and self.exponent == 0.5:  # 1 - sqrt(1 - x), written x / (1 + sqrt(r))
            return fraction / (1.0 + xp.sqrt(left / span))
        moved = fraction if k == 1.0 else power(xp, fraction, k)
        moved_base = moved if shape == "linear" else cos_weight(xp, moved)  # 1 - B(x**k), exact near x = 0
        if self.exponent == 1.0:
            return moved_base
        # 1 - B**e = -expm1(e log B): log B from 1 - B while B >= 1/2, from B itself (exact near 0) below
        base = self._start_base(xp, done, left, span)
        near_start = moved_base <= 0.5
        log_base = xp.where(near_start, xp.log1p(-xp.minimum(moved_base, 0.5)), xp.log(xp.maximum(base, 1e-37)))
        return xp.where(base > 0.0, -xp.expm1(self.exponent * log_base), 1.0)

    def _base_shape(self) -> tuple[str, float]:
        """``sqrt`` is ``linear`` of :math:`x^{k/2}`."""
        return ("linear", self.k * 0.5) if self.shape == "sqrt" else (self.shape, self.k)

    def _start_base(self, xp: Backend, done: Array, left: Array, span: Array | float) -> Array:
        """:math:`B(x^k)`, exact near the end: from :math:`1 - x^k = -\\mathrm{expm1}(k \\log x)`, with
        :math:`\\log x` taken as ``log1p(-r)`` near the end and (for :math:`k < 1`, where it matters) ``log(x)``
        elsewhere (never ``log(0)``)."""
        shape, k = self._base_shape()
        if k == 1.0:
            rest = left / span
        elif k > 1.0:  # x**k <= x: next to x = 0 an inexact log x still gives 1 - x**k = 1 within rounding
            below_one = 1.0 - 2.0 ** -(24 if xp.float_bits == 32 else 53)
            rest = -xp.expm1(k * xp.log1p(-xp.minimum(left / span, below_one)))
        else:
            near_end = left <= done
            rest_fraction = xp.where(near_end, left / span, 0.0)
            done_fraction = xp.where(near_end | (done <= 0.0), 1.0, done / span)
            log_x = xp.where(near_end, xp.log1p(-rest_fraction), xp.log(done_fraction))
            rest = xp.where(done > 0.0, -xp.expm1(k * log_x), 1.0)
        return rest if shape == "linear" else cos_weight(xp, rest)

    def _tanh_exp(self, xp: Backend, done: Array, span: Array | float, units: Array | None, sign: float = 1.0) -> Array:
        """:math:`e^{\\pm 2 (l (1 - x) + u x)}`: an exact power of the integer steps done when the span is fixed."""
        rate = sign * 2.0 * (self.ub - self.lb)
        scale = math.exp(sign * 2.0 * self.lb)
        if units is not None and isinstance(span, (int, float)):
            return exp_decay(xp, scale, units, rate / span, max_units=math.ceil(span))
        return scale * xp.exp(rate * (done / span))

    def value(
        self,
        xp: Backend,
        start: Array | float,
        end: float,
        done: Array,
        left: Array,
        span: Array | float,
        units: Array | None = None,
    ) -> Array:
        """:math:`b + (a - b) w(x)`: one weight, from the small end, when both ends are numbers; both otherwise."""
        if self.shape == "tanh":  # w = 1 / (1 + E): one division by 1 + E, a level less than w and a product
            if isinstance(start, float) and start < end:  # 1 - w = 1 / (1 + 1 / E), exact where E is small
                return start + (end - start) / (1.0 + self._tanh_exp(xp, done, span, units, sign=-1.0))
            grown = self._tanh_exp(xp, done, span, units)
            if isinstance(start, float):
                return end + (start - end) / (1.0 + grown)
            return (start + end * grown) / (1.0 + grown)  # two positive terms: exact either way
        if isinstance(start, float):
            if start == end:
                return xp.full(done, end)
            # one weight, the one that vanishes at the smaller end, and low + (high - low) w: exact where small
            if start > end:
                return end + (start - end) * self.start_weight(xp, done, left, span, units)
            return start + (end - start) * self.end_weight(xp, done, left, span, units)
        # a restart's start is an array (each cycle starts lower), possibly below the end: both weights
        value = start * self.start_weight(xp, done, left, span, units)
        if end == 0.0:
            return value
        return value + end * self.end_weight(xp, done, left, span, units)


MAX_DENOMINATOR = 2**20
"""The largest denominator :func:`rational` reads a float as (``1000 / 3``, timm's ``cycle_mul=1.1``)."""


def rational(value: float, max_denominator: int = MAX_DENOMINATOR) -> Fraction:
    """``value`` as the ratio of small integers it stands for (``1000 / 3``, ``1.1`` is ``11 / 10``: the fraction
    with a denominator of at most ``max_denominator`` whose nearest float it is), else the float's exact value."""
    close = Fraction(value).limit_denominator(max_denominator)
    return close if float(close) == value else Fraction(value)


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
    exponent = fraction * (sign * _LN2 * 2.0**-bits)
    if max_units * residual > 1e-12:  # else below 1e-12 relative at every unit: one level less to fuse
        exponent = exponent + xp.to_float(units) * (sign * _LN2 * residual)
    if sign > 0 and (numerator * max_units) >> bits >= 120 and scale:
        # growth past 2**128 overflows the power of two alone: fold the scale's binary exponent into it
        # (scale = m 2**e, m in [1/2, 1); exp(exponent) is in [1, 2): no factor exceeds the value it makes)
        mantissa, binary_exponent = math.frexp(scale)
        return xp.exp(exponent) * (xp.power(2.0, halvings + (binary_exponent - 1)) * (2.0 * mantissa))
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
