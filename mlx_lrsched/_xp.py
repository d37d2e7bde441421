"""The array-namespace shim: one formula, two backends.

A schedule's formula is written once against a :class:`Backend`. :func:`as_step` picks the backend from
the type of the step it is given: MLX float32 for an ``mx.array`` or a Python ``int`` (MLX is the
product), NumPy float64 for NumPy integers (the reference). The NumPy path never imports MLX.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

mx: Any
try:
    import mlx.core as mx
except ImportError:  # the NumPy reference backend works without MLX
    mx = None

MAX_STEP = 2**63 - 1
"""Largest step every schedule is defined for (the optimizer counts in ``uint64``)."""

Array = Any
"""An ``mx.array`` or a ``numpy.ndarray`` (or NumPy scalar): the shim does not care which."""


@dataclass(frozen=True)
class Backend:
    """The handful of array functions the formulas use, bound to one library and one float dtype."""

    name: str
    float_dtype: Any
    float_bits: int
    exp: Callable[[Array], Array]
    expm1: Callable[[Array], Array]
    log1p: Callable[[Array], Array]
    sin: Callable[[Array], Array]
    sqrt: Callable[[Array], Array]
    where: Callable[[Array, Any, Any], Array]
    minimum: Callable[[Any, Any], Array]
    maximum: Callable[[Any, Any], Array]
    take: Callable[[Array, Array], Array]
    divmod: Callable[[Array, Any], tuple[Array, Array]]
    log: Callable[[Array], Array]
    int32: Any
    int64: Any

    def to_float(self, integers: Array) -> Array:
        """Cast an integer array to the backend's float dtype (exact for steps below 2**24 in float32)."""
        return integers.astype(self.float_dtype)

    def to_int(self, values: Array, dtype: Any) -> Array:
        """Cast to one of the backend's integer dtypes (``xp.int32``/``xp.int64``); floats truncate."""
        return values.astype(dtype)

    def table(self, values: tuple[float, ...] | tuple[int, ...], dtype: Any) -> Array:
        """A small constant array built on the host (cached: it is rebuilt only for new values)."""
        return _table(self.name, values, dtype)

    def full(self, like: Array, value: float) -> Array:
        """A float array shaped like ``like``, filled with ``value``."""
        return self.to_float(like) * 0.0 + value


NUMPY = Backend(
    name="numpy",
    float_dtype=np.float64,
    float_bits=64,
    exp=np.exp,
    expm1=np.expm1,
    log1p=np.log1p,
    sin=np.sin,
    sqrt=np.sqrt,
    where=np.where,
    minimum=np.minimum,
    maximum=np.maximum,
    take=np.take,
    divmod=np.divmod,
    log=np.log,
    int32=np.int32,
    int64=np.int64,
)

MLX: Backend | None = None
if mx is not None:
    MLX = Backend(
        name="mlx",
        float_dtype=mx.float32,
        float_bits=32,
        exp=mx.exp,
        expm1=mx.expm1,
        log1p=mx.log1p,
        sin=mx.sin,
        sqrt=mx.sqrt,
        where=mx.where,
        minimum=mx.minimum,
        maximum=mx.maximum,
        take=mx.take,
        divmod=mx.divmod,  # one graph node for both results, where ``//`` and ``%`` are two
        log=mx.log,
        int32=mx.int32,
        int64=mx.int64,
    )


@functools.lru_cache(maxsize=1024)
def _table(backend: str, values: tuple[float, ...] | tuple[int, ...], dtype: Any) -> Array:
    if backend == "mlx":
        return mx.array(values, dtype=dtype)
    return np.asarray(values, dtype=dtype)


def as_step(step: Any) -> tuple[Backend, Array]:
    """Validate ``step`` and return the backend for it and the step as an integer array.

    Python and NumPy steps are checked eagerly (negative or too large raises ``ValueError``).
    A signed ``mx.array`` cannot be checked without a device sync (and not at all inside
    ``mx.compile``), so negative MLX steps are clamped to 0: the schedule's value at step 0.
    """
    if mx is not None and isinstance(step, mx.array):
        dtype = step.dtype
        if dtype == mx.uint64:  # what the optimizer passes, on every update: the fast path
            return MLX, step  # type: ignore[return-value]
        if dtype == mx.bool_ or not mx.issubdtype(dtype, mx.integer):
            raise TypeError(f"step must be an integer array (the optimizer passes uint64), got dtype {dtype}")
        # Widen to 64 bits so Python-int constants (boundaries up to 2**63 - 1) never overflow the dtype.
        return MLX, mx.maximum(step.astype(mx.int64), 0)  # type: ignore[return-value]
    if isinstance(step, (np.ndarray, np.generic)):
        if step.dtype == np.bool_ or not np.issubdtype(step.dtype, np.integer):
            raise TypeError(f"step must be an integer array or scalar, got dtype {step.dtype}")
        step = np.asarray(step)
        if step.dtype != np.uint64:
            step = step.astype(np.int64)
        if step.size and (step.min() < 0 or step.max() > MAX_STEP):
            raise ValueError(f"step must be in [0, 2**63 - 1], got values in [{step.min()}, {step.max()}]")
        return NUMPY, step
    if isinstance(step, numbers.Integral) and not isinstance(step, bool):
        step = int(step)
        if not 0 <= step <= MAX_STEP:
            raise ValueError(f"step must be in [0, 2**63 - 1], got {step}")
        if MLX is None:
            return NUMPY, np.asarray(step, dtype=np.int64)
        return MLX, mx.array(step, dtype=mx.int64)
    raise TypeError(
        "step must be an integer: a Python int, a NumPy integer array/scalar or an integer mx.array, "
        f"got {type(step).__name__} {step!r}"
    )


NUMPY_CHUNK = 32_768
"""Steps per pass on the NumPy backend: every temporary of a formula stays in cache."""


def evaluate_numpy(evaluate: Callable[[Backend, Array], Array], step: np.ndarray) -> Any:
    """``evaluate(NUMPY, step)`` as float64 with the step's shape (a NumPy scalar for a scalar step).

    The formula always runs on a 1-d array, a cache-sized chunk at a time: NumPy's scalar and array
    transcendentals can differ in the last bit, and this way a step gives the same value bitwise whether it
    comes alone, in an array of any shape or dtype, or in a long curve (which is also 2-2.5x faster in
    chunks, each of a formula's dozen temporaries no longer streaming through memory).
    """
    flat = step.reshape(-1)
    out = np.empty(flat.shape, dtype=np.float64)
    for begin in range(0, flat.size, NUMPY_CHUNK):
        part = flat[begin : begin + NUMPY_CHUNK]
        out[begin : begin + part.size] = evaluate(NUMPY, part)
    return out[0] if step.ndim == 0 else out.reshape(step.shape)


def finish(xp: Backend, value: Array, step: Array) -> Array:
    """Return an MLX ``value`` as float32 with the step's shape."""
    if value.dtype != xp.float_dtype:
        value = value.astype(xp.float_dtype)
    if value.shape != step.shape:
        value = mx.broadcast_to(value, step.shape)
    return value
