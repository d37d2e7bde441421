"""The array-namespace shim: one formula, two backends.

A schedule's formula is written once against a :class:`Backend`. :func:`as_step` picks the backend from
the type of the step it is given: MLX float32 for an ``mx.array`` or a Python ``int`` (MLX is the
product), NumPy float64 for NumPy integers (the reference). The NumPy path never imports MLX.

The shim holds elementwise functions only: no gathers and no ``divmod``, so that ``mx.compile`` fuses a
whole formula into one kernel (see ``docs/architecture.md``). Per-phase constants are chosen with
:meth:`Backend.piecewise`, a ``where`` chain on MLX and one pass per phase on NumPy.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Sequence
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

Piece = Callable[[Any], Any]
"""One phase of a piecewise formula: integer steps (in the phase) to values."""


@dataclass(frozen=True)
class Backend:
    """The handful of elementwise array functions the formulas use, bound to one library and one float dtype."""

    name: str
    float_dtype: Any
    float_bits: int
    exp: Callable[[Array], Array]
    expm1: Callable[[Array], Array]
    log: Callable[[Array], Array]
    log1p: Callable[[Array], Array]
    sin: Callable[[Array], Array]
    sqrt: Callable[[Array], Array]
    power: Callable[[Any, Any], Array]
    where: Callable[[Array, Any, Any], Array]
    minimum: Callable[[Any, Any], Array]
    maximum: Callable[[Any, Any], Array]
    int32: Any
    int64: Any

    def to_float(self, values: Array) -> Array:
        """Cast to the backend's float dtype (exact for integers below 2**24 in float32)."""
        return values.astype(self.float_dtype)

    def to_int(self, values: Array, dtype: Any) -> Array:
        """Cast to one of the backend's integer dtypes (``xp.int32``/``xp.int64``); floats truncate."""
        return values.astype(dtype)

    def full(self, like: Array, value: float) -> Array:
        """A float array shaped like ``like``, filled with ``value``."""
        return self.to_float(like) * 0.0 + value

    def piecewise(self, t: Array, starts: Sequence[int], pieces: Sequence[Piece | float]) -> Array:
        """``pieces[k](t)`` where ``starts[k] <= t < starts[k + 1]`` (``starts[0]`` is 0, the last runs on).

        The one phase engine: every piecewise schedule (warmups, joins, 1-cycle) selects its phase here. A
        piece is a function of the steps or a number (a constant phase costs no graph node). On MLX every
        piece is evaluated and a ``where`` chain picks one per element, which ``mx.compile`` fuses into the
        formula's kernel; on NumPy each piece runs only on the steps of its phase. Long runs of constants
        (a multi-step decay with many milestones) are looked up instead of chained.
        """
        if len(pieces) > LOOKUP_PIECES and not any(callable(piece) for piece in pieces):
            return self._lookup(t, starts, pieces)  # type: ignore[arg-type]
        if self.name == "mlx":
            value = _select(t, starts, [_apply(piece, t) for piece in pieces])
            return self.full(t, value) if isinstance(value, float) else value
        out = np.empty(t.shape, dtype=np.float64)
        edges = (*starts[1:], None)
        for start, end, piece in zip(starts, edges, pieces, strict=True):
            if start == 0 and end is None:
                out[...] = _apply(piece, t)
                continue
            mask = t >= start if end is None else (t >= start) & (t < end)
            if mask.any():
                out[mask] = _apply(piece, t[mask])
        return out

    def _lookup(self, t: Array, starts: Sequence[int], values: Sequence[float]) -> Array:
        """The value of the last start ``<= t``: a binary search over host tables (a gather per level)."""
        if self.name == "numpy":
            index = np.searchsorted(np.asarray(starts, dtype=np.int64), t, side="right") - 1
            return np.asarray(values, dtype=np.float64)[index]
        table = mx.array(np.asarray(starts, dtype=np.int64))
        steps = t.astype(mx.int64)
        index = mx.zeros(t.shape, dtype=mx.int32)
        width = 1 << (len(starts) - 1).bit_length()
        while width:
            candidate = mx.minimum(index + width, len(starts) - 1)
            index = mx.where(mx.take(table, candidate) <= steps, candidate, index)
            width >>= 1
        return mx.take(mx.array(np.asarray(values, dtype=np.float32)), index)


LOOKUP_PIECES = 24
"""Constant phases beyond which :meth:`Backend.piecewise` searches a table: a ``where`` chain that long no
longer fuses into one kernel (MLX fuses at most 11 levels deep and 24 inputs) and costs a node per phase."""


def _apply(piece: Piece | float, t: Array) -> Any:
    return piece(t) if callable(piece) else piece


def _select(t: Array, starts: Sequence[int], values: Sequence[Any]) -> Any:
    """``values[k]`` where ``starts[k] <= t < starts[k + 1]``, as a tree of ``where`` that keeps the formulas shallow.

    MLX fuses 11 levels: a chain of ``where`` would put the first of ``n`` phases ``n - 1`` levels down. Adjacent
    phases are merged pairwise, always the pair whose deeper member is shallowest (constants count 0, formulas
    alike; ties go to the earlier pair, so the last phases, usually the deepest formulas, stay near the top):
    the minimax alphabetic tree, ``log2`` deep for formulas when constants sit between them.
    """
    nodes = [(0 if isinstance(value, float) else 1, start, value) for start, value in zip(starts, values, strict=True)]
    while len(nodes) > 1:
        pair = min(range(len(nodes) - 1), key=lambda i: max(nodes[i][0], nodes[i + 1][0]))
        (cost_a, start_a, value_a), (cost_b, start_b, value_b) = nodes[pair], nodes[pair + 1]
        merged = mx.where(t < start_b, value_a, value_b)
        nodes[pair : pair + 2] = [(max(cost_a, cost_b) + 1, start_a, merged)]
    return nodes[0][2]


_FUNCTIONS = ("exp", "expm1", "log", "log1p", "sin", "sqrt", "power", "where", "minimum", "maximum", "int32", "int64")


def _bind(name: str, library: Any, float_dtype: Any, float_bits: int) -> Backend:
    """The backend whose functions are ``library``'s functions of the same names."""
    return Backend(name, float_dtype, float_bits, **{function: getattr(library, function) for function in _FUNCTIONS})


NUMPY = _bind("numpy", np, np.float64, 64)
MLX: Backend | None = None if mx is None else _bind("mlx", mx, mx.float32, 32)


def as_step(step: Any) -> tuple[Backend, Array]:
    """Validate ``step`` and return the backend for it and the step as an integer array.

    Python and NumPy steps are checked eagerly (negative or too large raises ``ValueError``); NumPy
    arrays are not copied. A signed ``mx.array`` cannot be checked without a device sync (and not at all
    inside ``mx.compile``), so negative MLX steps are clamped to 0: the schedule's value at step 0.
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

Formula = Callable[[Backend, Array], Array]


def evaluate_numpy(evaluate: Formula, step: np.ndarray) -> Any:
    """``evaluate(NUMPY, step)`` as float64 with the step's shape (a NumPy scalar for a scalar step).

    The formula always runs on a 1-d int64 array, a cache-sized chunk at a time: NumPy's scalar and array
    transcendentals can differ in the last bit, and this way a step gives the same value bitwise whether it
    comes alone, in an array of any shape or dtype, or in a long curve. Only a chunk is ever converted
    (steps are validated below ``2**63``, so ``uint64`` converts exactly): the peak memory of a long curve
    is its output plus a few chunks.
    """
    flat = step.reshape(-1)
    out = np.empty(flat.shape, dtype=np.float64)
    for begin in range(0, flat.size, NUMPY_CHUNK):
        part = flat[begin : begin + NUMPY_CHUNK].astype(np.int64, copy=False)
        out[begin : begin + part.size] = evaluate(NUMPY, part)
    return out[0] if step.ndim == 0 else out.reshape(step.shape)


def curve_numpy(evaluate: Formula, num_steps: int) -> np.ndarray:
    """``evaluate`` at steps ``0 .. num_steps - 1`` in float64, the steps made a chunk at a time."""
    out = np.empty(num_steps, dtype=np.float64)
    for begin in range(0, num_steps, NUMPY_CHUNK):
        end = min(begin + NUMPY_CHUNK, num_steps)
        out[begin:end] = evaluate(NUMPY, np.arange(begin, end, dtype=np.int64))
    return out


def finish(value: Array, step: Array) -> Array:
    """Return an MLX ``value`` as float32 with the step's shape."""
    if value.dtype != mx.float32:
        value = value.astype(mx.float32)
    if value.shape != step.shape:
        value = mx.broadcast_to(value, step.shape)
    return value


COMPILE_AFTER = int(os.environ.get("MLX_LRSCHED_COMPILE_AFTER", "2"))
"""Eager calls of one schedule before its MLX formula is compiled (a one-off call never pays the JIT).

Set ``MLX_LRSCHED_COMPILE_AFTER`` to change it (the test suite raises it: thousands of one-config tests
would each pay a C++ build on MLX's CPU backend; the compiled path has tests of its own)."""


class CompiledFormulas:
    """``mx.compile`` of each schedule's MLX formula, made once the schedule is called repeatedly.

    An eager call of an uncompiled formula costs one MLX dispatch per graph node; the compiled formula
    is one fused kernel, so a training loop that calls the schedule eagerly pays what a built-in
    ``mlx.optimizers`` schedule pays. Compiling costs a JIT on the first call of each new formula (on
    the CPU a C++ build), so a schedule is compiled only from its :data:`COMPILE_AFTER`-th call on; the
    values are the same bitwise either way. Keyed by the schedule's value (schedules are frozen), bounded.
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: dict[Any, list[Any]] = {}

    def __call__(self, key: Any, evaluate: Formula, t: Array) -> Array:
        entry = self._entries.get(key)
        if entry is None:
            if len(self._entries) >= self.size:
                self._entries.pop(next(iter(self._entries)))
            entry = self._entries[key] = [0, None]
        if entry[1] is None:
            entry[0] += 1
            if entry[0] <= COMPILE_AFTER:
                return finish(evaluate(MLX, t), t)  # type: ignore[arg-type]
            entry[1] = mx.compile(lambda steps: finish(evaluate(MLX, steps), steps))  # type: ignore[arg-type]
        return entry[1](t)


COMPILED = CompiledFormulas()
