"""Learning-rate noise as a pure function of the seed and the step: timm's scheduler noise, compiled.

timm draws the noise of step ``t`` from a torch generator seeded with ``seed + t``, which cannot run inside a
compiled MLX step. Here the noise is a counter-based hash of the step (MurmurHash3's finaliser on a Weyl
sequence) sent through the inverse CDF of the same distribution, so it is a pure function of ``(seed, t)``:
the same bits eagerly and compiled, in a resumed run, for a step alone or inside a vector of steps.

Precision: the rate ``f(t) (1 + n)`` is small where ``n`` is near ``-pct``, and a float32 ``1 + n`` there
loses ``pct / (1 - pct)`` times the error of ``n``. So the normal factor is computed from its distance ``E``
to the largest value the noise reaches, ``1 - n_max + E`` (or ``1 + n_max - E``), where every term is
positive: ``E`` comes from exact integers and one fitted function, ``q``, whose *relative* error is all that
reaches the rate. Near ``|2u - 1| -> 1`` (a large ``pct / std``) ``erfinv`` is ill-conditioned in its
argument; ``q`` is a function of ``log((1 - x^2) / (1 - x_max^2))``, which the integer bits give exactly.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.polynomial import chebyshev

from . import _check, _spec
from ._xp import Array, Backend, mx
from .base import Schedule, float32_peak, lowered, phase_steps

__all__ = ["Noisy"]

DISTRIBUTIONS = ("normal", "uniform")

# The hash of step t is MurmurHash3's 64-bit finaliser (fmix64) applied to the Weyl sequence t * GOLDEN
# (SplitMix64's increment, 2**64 / golden ratio). Only the top 24 bits are used, so fmix64's last xorshift
# (it mixes high bits into low ones) is left out; one shift amount for both others: one constant fewer.
_GOLDEN = 0x9E3779B97F4A7C15
_MIX_1 = 0xFF51AFD7ED558CCD
_MIX_2 = 0xC4CEB9FE1A85EC53
_MIX_SHIFT = 33
_MASK_64 = 2**64 - 1
_SIGN_BIT = 2**63

_FRACTION_BITS = 24  # bits of u: float32 holds (k + 1/2) / 2**24 exactly, never 0 or 1
_SHIFT = 64 - _FRACTION_BITS
_TOP = 2**_FRACTION_BITS - 1
_MAGNITUDE_MASK = 2 ** (_FRACTION_BITS - 1) - 1
_EDGE = 1.0 - 2.0**-_FRACTION_BITS  # the largest |2u - 1|

_FIT_TARGET = 2e-8  # relative error of q: it reaches the rate damped by n_max <= 1
_MAX_DEGREE = 24
_UNCENTRED_DEGREE = 6
_SQRT_PI = math.sqrt(math.pi)


def seed_key(seed: int) -> int:
    """The seed's 64-bit key: SplitMix64's output for the state ``seed`` (on the host, so seeds 0, 1, 2, ...
    give unrelated keys rather than shifted copies of one stream, as ``seed + t`` would)."""
    z = (seed + _GOLDEN) & _MASK_64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK_64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK_64
    return z ^ (z >> 31)


def _hash(xp: Backend, t: Array, key: int) -> Array:
    """64 well-mixed bits of each step: fmix64 on ``t * GOLDEN``, the seed's key xor-ed in.

    Unsigned 64-bit multiplies, xors and shifts wrap identically in NumPy and MLX, so the bits are the same on
    both backends. Seven levels deep: one multiply round fewer fails pair tests on strided steps (2**16, 2**32).
    """
    if xp.name == "mlx":
        t = t if t.dtype == mx.uint64 else t.astype(mx.uint64)
        golden, key_bits, mix_1, mix_2 = (mx.array(np.uint64(c)) for c in (_GOLDEN, key, _MIX_1, _MIX_2))
    else:
        t = t.astype(np.uint64)
        golden, key_bits, mix_1, mix_2 = (np.uint64(c) for c in (_GOLDEN, key, _MIX_1, _MIX_2))
    z = t * golden
    z = (z ^ key_bits) ^ (z >> _MIX_SHIFT)
    z = z * mix_1
    return (z ^ (z >> _MIX_SHIFT)) * mix_2


# ----------------------------------------------------------------------------- float64 special functions


def _erf_series(y: np.ndarray) -> np.ndarray:
    """erf(y) for 0 <= y <= 2 to 1e-15: ``2/sqrt(pi) exp(-y^2) sum 2^n y^(2n+1) / (2n+1)!!`` (no cancellation)."""
    y2 = 2.0 * y * y
    term = y.copy()
    total = y.copy()
    for n in range(1, 34):
        term = term * y2 / (2 * n + 1)
        total = total + term
    erf: np.ndarray = (2.0 / _SQRT_PI) * np.exp(-y * y) * total
    return erf


def _erfc_fraction(y: np.ndarray) -> np.ndarray:
    """erfc(y) for y >= 2 to 2e-15 relative: Laplace's continued fraction, evaluated backwards."""
    fraction = y.copy()
    for n in range(60, 0, -1):
        fraction = y + (0.5 * n) / fraction
    erfc: np.ndarray = np.exp(-y * y) / (_SQRT_PI * fraction)
    return erfc


def erfinv(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """erfinv(x) for 0 <= x < 1 to 1e-14 relative, given ``w = 1 - x`` without cancellation.

    Winitzki's closed form (2e-3) and two Halley steps; the residual is ``erf(y) - x`` in the centre and
    ``w - erfc(y)`` in the tail, where ``erf(y)`` is too close to 1 to resolve it.
    """
    log_width = np.log(w * (1.0 + x))  # log(1 - x^2)
    a = 0.147
    b = 2.0 / (math.pi * a) + 0.5 * log_width
    y = np.sqrt(np.sqrt(b * b - log_width / a) - b)
    for _ in range(2):
        tail = y >= 2.0
        residual = np.where(tail, w - _erfc_fraction(np.maximum(y, 2.0)), _erf_series(np.minimum(y, 2.0)) - x)
        step = residual * (0.5 * _SQRT_PI) * np.exp(y * y)
        y = y - step / (1.0 + y * step)
    return y


def _erfinv_ratio(log_width: np.ndarray) -> np.ndarray:
    """``erfinv(x) / x`` as a function of ``log(1 - x^2)`` (``sqrt(pi) / 2`` at 0)."""
    x = np.sqrt(-np.expm1(log_width))
    w = np.exp(log_width) / (1.0 + x)
    safe = np.where(x > 0.0, x, 1.0)
    return np.where(x > 0.0, erfinv(x, w) / safe, 0.5 * _SQRT_PI)


@functools.cache
def _ratio_series(order: int = 10) -> np.ndarray:
    """Coefficients of ``erfinv(x) / x / (sqrt(pi) / 2)`` in powers of ``v = -log(1 - x^2)``.

    From erfinv's Maclaurin series, ``sum c_k / (2k + 1) (sqrt(pi) x / 2)^(2k + 1)`` with
    ``c_k = sum_m c_m c_(k-1-m) / ((m + 1)(2m + 1))``, and ``x^2 = 1 - exp(-v)``.
    """
    c = [1.0]
    for k in range(1, order + 1):
        c.append(sum(c[m] * c[k - 1 - m] / ((m + 1) * (2 * m + 1)) for m in range(k)))
    x_squared = np.polynomial.Polynomial([0.0] + [(-1.0) ** (j + 1) / math.factorial(j) for j in range(1, order + 1)])
    series = np.polynomial.Polynomial([0.0])
    power = np.polynomial.Polynomial([1.0])
    for k in range(order + 1):
        series = series + c[k] / (2 * k + 1) * (math.pi / 4) ** k * power
        power = (power * x_squared).cutdeg(order)
    coef: np.ndarray = series.coef[: order + 1]
    return coef


# ------------------------------------------------------------------------------ the edge of the normal


class _Edge(NamedTuple):
    """Host constants of the normal truncated at ``bound`` standard deviations (they depend on nothing else)."""

    erf_bound: float  # c = erf(bound / sqrt 2): |2u - 1| = a maps to erfinv(c a)
    erfc_bound: float  # 1 - c
    ratio_edge: float  # erfinv(x_max) / x_max, x_max = c * _EDGE
    log_span: float  # L = -log(1 - x_max^2): g = log((1 - x^2) / (1 - x_max^2)) runs over [0, L]
    arg_scale: float  # g = log1p(k (2**24 - 1 - k) arg_scale) for the k-th magnitude
    centre: float  # q is a polynomial in g - centre (L / 2 for a high degree, else 0)
    slope: tuple[float, ...]  # its coefficients, lowest power first (see _slope)


def _slope(edge_log_span: float, ratio_edge: float, log_gap: np.ndarray) -> np.ndarray:
    """``q = (1 - R(t) / R(t_max)) / g`` at ``g = t - t_max``, with ``R = erfinv(x) / x`` and ``t = log(1 - x^2)``.

    A divided difference: ``R`` is computed from ``t`` directly where ``L`` allows (the difference cancels by
    1e-15 / (g q) at most), and from its series in ``t`` where ``L < 1e-2`` (a nearly uniform noise).
    """
    slope: np.ndarray
    if edge_log_span >= 1e-2:
        slope = (1.0 - _erfinv_ratio(log_gap - edge_log_span) / ratio_edge) / log_gap
        return slope
    coef = _ratio_series()
    top = edge_log_span
    other = edge_log_span - log_gap  # v = -t at the two ends of the difference
    numerator = sum(coef[k] * sum(top**j * other ** (k - 1 - j) for j in range(k)) for k in range(1, len(coef)))
    slope = numerator / sum(coef[k] * top**k for k in range(len(coef)))
    return slope


@functools.lru_cache(maxsize=256)
def _edge(bound: float) -> _Edge:
    """Constants of the distance to the edge for a normal truncated at ``bound`` (host float64, once per bound).

    ``q`` is interpolated at Chebyshev points of ``[0, L]``, with the lowest degree whose relative error on a
    finer grid is below ``_FIT_TARGET`` (3 for timm's defaults, up to 17 where ``bound`` is large).
    """
    c = math.erf(bound / math.sqrt(2.0))
    erfc_bound = math.erfc(bound / math.sqrt(2.0))
    x_max = c * _EDGE
    w_max = erfc_bound + c * (1.0 - _EDGE)  # 1 - x_max, exactly
    width = w_max * (1.0 + x_max)  # 1 - x_max^2
    span = -math.log(width)
    ratio_edge = float(erfinv(np.array([x_max]), np.array([w_max]))[0] / x_max) if x_max > 0 else 0.5 * _SQRT_PI
    arg_scale = c * c * 2.0 ** (-2 * (_FRACTION_BITS - 1)) / width
    check = np.linspace(1e-3, 1.0, 257) if span >= 1e-2 else np.linspace(0.0, 1.0, 257)
    truth = _slope(span, ratio_edge, check * span) if span > 0 else None
    for degree in range(_MAX_DEGREE + 1):
        angles = np.pi * (np.arange(degree + 1) + 0.5) / (degree + 1)
        nodes = np.cos(angles)
        values = _slope(span, ratio_edge, (nodes + 1.0) * (0.5 * span)) if span > 0 else np.array([math.pi / 12])
        # the interpolant's Chebyshev coefficients in closed form (no least squares: the same bits everywhere)
        series = np.cos(np.outer(np.arange(degree + 1), angles)) @ values * (2.0 / (degree + 1))
        series[0] *= 0.5
        if truth is None or np.max(np.abs(chebyshev.chebval(2.0 * check - 1.0, series) / truth - 1.0)) < _FIT_TARGET:
            break
    # float32 Horner in powers of g stays within 6e-8 up to degree 6 (a constant and a level fewer); beyond,
    # powers of g - L/2 keep it within 1.3e-7 up to degree 17 (in powers of g: 1.6e-3).
    power = chebyshev.cheb2poly(series) * (2.0 / span if span > 0 else 1.0) ** np.arange(len(series))
    centre = 0.5 * span if degree > _UNCENTRED_DEGREE else 0.0
    if not centre:
        power = np.polynomial.Polynomial(power)(np.polynomial.Polynomial([-0.5 * span, 1.0])).coef
    return _Edge(c, erfc_bound, ratio_edge, span, arg_scale, centre, tuple(float(v) for v in power))


# ------------------------------------------------------------------------------------------- the factor


def _normal_factor(xp: Backend, bits: Array, pct: float, std: float, inside: Array | None) -> Array:
    """``1 + n`` (1 outside the noise range): the sign of ``2u - 1`` from the top bit, ``k`` from the next 23.

    ``|2u - 1| = a = 1 - (2k + 1) / 2**24`` (``k`` counts from the edge) and ``n = std sqrt(2) erfinv(c a)``.
    The reference computes that in float64. MLX computes ``1 - n_max + E`` (``1 + n_max - E`` for a positive
    noise) from ``E = n_max - |n| = K (d + a g q(g))``, with ``d = k / 2**23``, ``K = n_max / a_max`` and
    ``g = log((1 - x^2) / (1 - x_max^2)) = log1p(k (2**24 - 1 - k) arg_scale)``: every factor but ``q`` from
    exact integers. The sign and the range are folded into constants chosen by ``where``, and the operations
    are ordered (deep operands first) so that MLX fuses the factor into one kernel for degrees up to 4: a
    node shared by several operations joins a kernel at the depth of the last one visited.
    """
    edge = _edge(pct / std)
    positive = bits >= (mx.array(np.uint64(_SIGN_BIT)) if xp.name == "mlx" else np.uint64(_SIGN_BIT))
    k = xp.to_float((bits >> _SHIFT) & _MAGNITUDE_MASK)  # bits 40..62
    scale = std * math.sqrt(2.0)
    if xp.name == "numpy":
        a = (_TOP - 2.0 * k) * 2.0**-_FRACTION_BITS
        w = edge.erfc_bound + edge.erf_bound * ((2.0 * k + 1.0) * 2.0**-_FRACTION_BITS)  # 1 - c a
        size = scale * erfinv(edge.erf_bound * a, w)
        factor = np.where(positive, 1.0 + size, 1.0 - size)
        return factor if inside is None else np.where(inside, factor, 1.0)

    def signed(x: Array) -> Array:  # x with the noise's sign (0 outside the range): a negation, no constant
        x = xp.where(positive, -x, x)
        return x if inside is None else xp.where(inside, x, 0.0)

    reach = scale * edge.erf_bound * edge.ratio_edge  # K = n_max / a_max
    n_max = reach * _EDGE
    rest = _TOP - k  # 2**24 - 1 - k: (a_max + a) 2**23
    odd = rest - k  # 2**24 - 1 - 2k: a 2**24
    log_gap = xp.log1p((k * edge.arg_scale) * rest)
    coef = [v * reach * 2.0**-_FRACTION_BITS for v in edge.slope]
    centred = log_gap - edge.centre if edge.centre else log_gap
    q = _polynomial(centred, coef)
    # The distance counts down from 1 + n_max for a positive noise, up from 1 - n_max for a negative one.
    signed_distance = (q * (signed(odd) * log_gap)) + signed(k) * (reach * 2.0 ** (1 - _FRACTION_BITS))
    base = xp.where(positive, 1.0 + n_max, 1.0 - n_max)
    return signed_distance + (base if inside is None else xp.where(inside, base, 1.0))


def _polynomial(x: Array, coef: list[float]) -> Array | float:
    """``sum coef[i] x**i`` by Horner, its innermost three terms as ``(c + c' x) + c'' (x x)``: a level shallower,
    which keeps degree 4 in one kernel (MLX fuses a chain 11 levels deep from the rate)."""
    if len(coef) < 3:
        return coef[0] if len(coef) == 1 else (x * coef[1]) + coef[0]
    value = ((x * coef[-2]) + coef[-3]) + (x * x) * coef[-1]
    for c in reversed(coef[:-3]):
        value = (value * x) + c
    return value


def _uniform_factor(xp: Backend, bits: Array, pct: float, inside: Array | None) -> Array:
    """``1 + n`` (1 outside the noise range), ``n = pct (2u - 1)``, ``u = (k + 1/2) / 2**24`` from the top 24 bits:
    ``(1 - pct + pct / 2**24) + pct 2**-23 k``, two positive terms (no cancellation near ``1 - pct``). Not
    distributed over the rate: ``rate * pct 2**-23`` would be subnormal for rates below 1e-31."""
    k = xp.to_float(bits >> _SHIFT)
    slope = pct * 2.0 ** (1 - _FRACTION_BITS)
    low = (1.0 - pct) + pct * 2.0**-_FRACTION_BITS
    if inside is not None:
        slope, low = xp.where(inside, slope, 0.0), xp.where(inside, low, 1.0)
    return k * slope + low


# ------------------------------------------------------------------------------------------ the schedule


@dataclass(frozen=True)
class Noisy(Schedule):
    r"""A schedule times timm's learning-rate noise: ``lr = f(t) · (1 + n(t))`` for ``start_step <= t < end_step``.

    .. math::
        \eta_t = \begin{cases} f(t)\,(1 + n_t) & t_s \le t < t_e \\ f(t) & \text{otherwise} \end{cases}
        \qquad n_t = \begin{cases}
            \sigma \sqrt 2 \, \operatorname{erfinv}\!\big(c\,(2 u_t - 1)\big),
                \ c = \operatorname{erf}\!\big(\tfrac{p}{\sigma \sqrt 2}\big) & \text{normal} \\
            p \, (2 u_t - 1) & \text{uniform}
        \end{cases}

    :math:`u_t \in (0, 1)` is 24 bits of a hash of the step and the seed (MurmurHash3's finaliser on a Weyl
    sequence), taken at the middle of their interval, so :math:`n_t` is a pure function of ``(seed, t)``: the
    same value eagerly and compiled, after a restart, and for a step alone or in a vector. ``"normal"`` is
    timm's normal of std :math:`\sigma` resampled until :math:`|n| < p`, in closed form: the inverse CDF of
    that truncated normal. ``"uniform"`` is uniform on :math:`(-p, p)`. timm's ``noise_range_t=a`` is
    ``start_step=a``; ``(a, b)`` is ``start_step=a, end_step=b``. The noise factor's MLX value stays within
    3e-7 of the float64 reference, near :math:`1 - p` too: it is computed from its distance to the lowest
    value the noise reaches, never as a float32 ``1 + n``.

    Args:
        schedule: :math:`f`, the schedule the noise multiplies (a number becomes ``Constant``).
        pct: :math:`p \in (0, 1)`, the noise's bound (timm ``noise_pct``): the rate stays positive.
        std: :math:`\sigma \in (0, 10^6]`, the normal's std before truncation (timm ``noise_std``).
        distribution: ``"normal"`` or ``"uniform"`` (timm ``noise_type``).
        seed: an integer in :math:`[0, 2^{63} - 1]` (timm ``noise_seed``).
        start_step: :math:`t_s \ge 0`, the first noisy step.
        end_step: :math:`t_e > t_s`, the first step without noise again; ``None`` for no end.

    Examples:
        >>> import numpy as np
        >>> from mlx_lrsched import Constant
        >>> s = Noisy(Constant(0.1), pct=0.5, seed=7, start_step=2)
        >>> s(np.arange(6)).round(6)  # no noise before step 2, then 0.1 (1 + n) with |n| < 0.5
        array([0.1     , 0.1     , 0.062569, 0.146578, 0.050001, 0.146004])
        >>> Noisy(Constant(0.1), pct=0.5, distribution="uniform", seed=7)(np.arange(4)).round(6)
        array([0.094212, 0.052944, 0.061895, 0.103173])

    References:
        timm ``Scheduler._add_noise`` (``noise_range_t``, ``noise_pct``, ``noise_std``, ``noise_type``,
        ``noise_seed``); Appleby, MurmurHash3 (``fmix64``, the 64-bit finaliser); Steele, Lea & Flood, *Fast
        Splittable Pseudorandom Number Generators*, OOPSLA 2014 (SplitMix64: the Weyl increment, the seed's key).
    """

    schedule: Schedule = _spec.schedule()
    pct: float = _spec.unit(0.67, high_open=True)
    std: float = _spec.real(1.0, low=0.0, high=1e6, low_open=True)
    distribution: str = _spec.choice("normal", DISTRIBUTIONS)
    seed: int = _spec.steps(42)
    start_step: int = _spec.steps(0)
    end_step: int | None = _spec.steps(None, optional=True)

    def _validate(self) -> None:
        if self.end_step is not None and self.end_step <= self.start_step:
            _check.integer("Noisy", "end_step", self.end_step, low=self.start_step + 1)
        float32_peak("Noisy", self.peak)

    def evaluate(self, xp: Backend, t: Array) -> Array:
        value = self.schedule.evaluate(xp, t)
        bits = _hash(xp, t, seed_key(self.seed))
        inside = None
        if self.start_step > 0 or self.end_step is not None:
            inside = t >= self.start_step
            if self.end_step is not None:
                inside = inside & (t < self.end_step)
        if self.distribution == "uniform":
            return value * _uniform_factor(xp, bits, self.pct, inside)
        return value * _normal_factor(xp, bits, self.pct, self.std, inside)

    def _scaled(self, factor: float) -> Schedule | None:
        inner = lowered(self.schedule)._scaled(factor)
        return None if inner is None else dataclasses.replace(self, schedule=inner)

    @property
    def peak(self) -> float:
        """An upper bound: the schedule's peak times ``1 + pct``."""
        return self.schedule.peak * (1.0 + self.pct)

    @property
    def phase_boundaries(self) -> tuple[int, ...]:
        ends = (self.start_step, self.end_step) if self.end_step is not None else (self.start_step,)
        return phase_steps((*self.schedule.phase_boundaries, *(step for step in ends if step > 0)))
