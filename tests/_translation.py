"""How a translated schedule is compared with its peer, shared by tests/test_from_optax.py and test_from_keras.py.

:func:`errors` evaluates a schedule over whole runs on both backends (NumPy float64 steps, and MLX on the optimizer's
``uint64`` steps) and measures each against the peer's float64 values as ``|ours - peer| / max(|peer|, 1e-6 * peak)``:
relative where the peer's value is at least 1e-6 of the run's peak, and relative to that floor below it.
:class:`Record` keeps, per scheduler, the configurations run and refused and the worst error on each backend, and
prints them when the test module ends (``pytest -s`` shows the table).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from mlx_lrsched import Schedule, from_config

mx = pytest.importorskip("mlx.core")

NUMPY_RTOL = 1e-6
MLX_RTOL = 4e-6
PEAK_FLOOR = 1e-6
"""Below this fraction of the run's peak, errors are measured against ``PEAK_FLOOR * peak``."""


def relative_errors(values: Any, reference: np.ndarray, slack: Any = 0.0) -> np.ndarray:
    """``max(|values - reference| - slack, 0) / max(|reference|, PEAK_FLOOR * peak)``, elementwise."""
    values = np.asarray(values, dtype=np.float64)
    peak = float(np.max(np.abs(reference), initial=0.0))
    floor = max(PEAK_FLOOR * peak, 1e-300)
    return np.maximum(np.abs(values - reference) - slack, 0.0) / np.maximum(np.abs(reference), floor)


def mlx_values(schedule: Schedule, steps: np.ndarray) -> np.ndarray:
    """The schedule on the optimizer's ``uint64`` steps, in float32, as float64 NumPy."""
    return np.array(schedule(mx.array(steps.astype(np.uint64))), dtype=np.float64)


def errors(
    schedule: Schedule, reference: np.ndarray, what: str, slack: Any = 0.0, mask: np.ndarray | None = None
) -> tuple[float, float]:
    """Worst NumPy and MLX errors of ``schedule`` at steps ``0 .. len(reference) - 1``; asserts the tolerances.

    ``mask`` (booleans) leaves steps out (the peer's own float cycle index is off there: the caller checks them).
    """
    steps = np.arange(len(reference), dtype=np.int64)
    keep = np.ones(len(reference), dtype=bool) if mask is None else mask
    numpy_values, float32_values = schedule(steps), mlx_values(schedule, steps)
    assert numpy_values.dtype == np.float64 and np.all(np.isfinite(float32_values)), what
    worst = []
    for values, tolerance in ((numpy_values, NUMPY_RTOL), (float32_values, MLX_RTOL)):
        error = relative_errors(values, reference, slack)[keep]
        if error.size and error.max() > tolerance:
            step = int(np.flatnonzero(keep)[np.argmax(error)])
            raise AssertionError(
                f"{what}: {error.max():.3g} > {tolerance:g} at step {step}: ours {values[step]!r}, "
                f"peer {reference[step]!r} ({'float64' if values is numpy_values else 'float32'})"
            )
        worst.append(float(error.max(initial=0.0)))
    return worst[0], worst[1]


@dataclasses.dataclass
class Tally:
    configs: int = 0
    refused: int = 0
    numpy_worst: float = 0.0
    mlx_worst: float = 0.0
    skipped_steps: int = 0

    def add(self, numpy_error: float, mlx_error: float) -> None:
        self.configs += 1
        self.numpy_worst = max(self.numpy_worst, numpy_error)
        self.mlx_worst = max(self.mlx_worst, mlx_error)


class Record:
    """Per scheduler: configurations compared and refused, worst errors; printed by :meth:`report`."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.tallies: dict[str, Tally] = {}

    def __getitem__(self, name: str) -> Tally:
        return self.tallies.setdefault(name, Tally())

    def report(self) -> str:
        lines = [f"{self.title}: scheduler, configs (refused), worst error NumPy / MLX, steps left to the caller"]
        for name, tally in sorted(self.tallies.items()):
            lines.append(
                f"  {name:36s} {tally.configs:4d} ({tally.refused:3d})  {tally.numpy_worst:9.2e} / "
                f"{tally.mlx_worst:9.2e}  {tally.skipped_steps}"
            )
        return "\n".join(lines)


def draw_translated(
    generate: Callable[[random.Random], dict[str, Any]],
    rng: random.Random,
    translate: Callable[..., Schedule],
    name: str,
    tally: Tally,
    refusals: tuple[str, ...],
) -> tuple[dict[str, Any], Schedule]:
    """A config of ``generate`` that ``translate`` accepts; a refused one must fail with one of ``refusals``."""
    for _ in range(200):
        config = generate(rng)
        try:
            return config, translate(name, **config)
        except ValueError as error:
            if not any(reason in str(error) for reason in refusals):
                raise
            tally.refused += 1
    raise AssertionError(f"{name}: 200 configs in a row refused")


def assert_round_trips(schedule: Schedule, steps: int) -> None:
    """``from_config(to_config())`` rebuilds an equal schedule with bitwise equal values on both backends."""
    rebuilt = from_config(schedule.to_config())
    assert rebuilt == schedule and repr(rebuilt) == repr(schedule)
    grid = np.arange(steps, dtype=np.int64)
    np.testing.assert_array_equal(rebuilt(grid), schedule(grid))
    np.testing.assert_array_equal(mlx_values(rebuilt, grid), mlx_values(schedule, grid))


def assert_one_line_error(error: BaseException, prefix: str, *words: str) -> None:
    """An error message in the peer's words: one line, under 300 characters, starting with ``prefix``."""
    message = str(error)
    assert "\n" not in message and len(message) < 300, message
    assert message.startswith(prefix), message
    for word in words:
        assert word in message, (word, message)
