"""How a translated schedule is compared with its peer: shared by the five tests/test_from_*.py files.

:func:`backend_values` evaluates a schedule on both backends: NumPy in float64 on ``int64`` steps, and MLX in float32
on the optimizer's ``uint64`` steps. Each is measured against the peer's float64 values at every compared step as

    error = max(|ours - peer| - slack, 0) / max(|peer|, FLOOR * peak),   peak = max |peer| over the compared steps

(:func:`relative_errors`): relative where the peer's value is at least :data:`FLOOR` (1e-6) of the peak, relative to
that floor below it (where the peak is 0, ours must equal the peer). ``slack`` is 0 unless a caller documents why (optax
under XLA). :func:`assert_errors` asserts the error at most :data:`TOLERANCE` (1e-6 NumPy, 4e-6 MLX) at every compared
step and returns the worst per backend.

:class:`Table` checks configurations and keeps, per peer and scheduler, the configurations compared and refused, the
steps compared with the exact formula instead of the peer (where the peer's own float index is off) and the worst
errors; at the end of the test module (:meth:`Table.fixture`) it writes them to a file in pytest's base temporary
directory and prints them in the terminal summary.
"""

from __future__ import annotations

import dataclasses
import inspect
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlx_lrsched import Schedule, from_config

mx = pytest.importorskip("mlx.core")

TOLERANCE = {"numpy": 1e-6, "mlx": 4e-6}
"""The largest error allowed at a compared step, per backend (issue 15)."""

FLOOR = 1e-6
"""Below this fraction of the peak, errors are relative to ``FLOOR * peak``."""


def backend_values(schedule: Schedule, steps: int | Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The schedule at ``steps`` (a count: ``0 .. steps - 1``): NumPy float64, and MLX float32 (as float64)."""
    t = np.arange(steps, dtype=np.int64) if isinstance(steps, int) else np.asarray(steps, dtype=np.int64)
    numpy_values, mlx_values = schedule(t), schedule(mx.array(t.astype(np.uint64)))
    assert numpy_values.dtype == np.float64 and mlx_values.dtype == mx.float32, (numpy_values.dtype, mlx_values.dtype)
    return numpy_values, np.array(mlx_values, dtype=np.float64)


def plateau_values(
    schedule: Any, metrics: Sequence[float | None], steps: int | np.ndarray = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A ``ReduceOnPlateau`` on both backends: at ``steps[0]`` before any metric, at ``steps[i]`` after
    ``metrics[i - 1]`` (``None``: no update). ``steps`` may be one step for all."""
    got = []
    for step, metric in zip(np.broadcast_to(steps, len(metrics) + 1), [None, *metrics], strict=True):
        if metric is not None:
            schedule.update(metric)
        got.append(backend_values(schedule, [step]))
    numpy_values, mlx_values = zip(*got, strict=True)
    return np.concatenate(numpy_values), np.concatenate(mlx_values)


def relative_errors(values: Any, reference: Any, compared: Any = None, slack: Any = 0.0) -> np.ndarray:
    """The error of ``values`` at each step (0 where ``compared`` is false), as the module docstring defines it."""
    values, reference = np.asarray(values, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    assert values.shape == reference.shape, (values.shape, reference.shape)
    compared = np.ones(reference.shape, dtype=bool) if compared is None else np.asarray(compared, dtype=bool)
    peak = np.max(np.abs(reference[compared]), initial=0.0)
    excess = np.maximum(np.abs(values - reference) - slack, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):  # above a peak of 0: inf; NaN stays NaN
        error = np.where(excess == 0.0, 0.0, excess / np.maximum(np.abs(reference), FLOOR * peak))
    return np.where(compared, error, 0.0)


def assert_errors(
    got: tuple[np.ndarray, np.ndarray], reference: Any, compared: Any = None, slack: Any = 0.0, what: str = ""
) -> tuple[float, float]:
    """Assert ``got`` (NumPy's and MLX's values, as :func:`backend_values` returns them) within :data:`TOLERANCE` of
    ``reference`` at every compared step; the worst error on each backend."""
    reference = np.asarray(reference, dtype=np.float64)
    worst = []
    for (backend, tolerance), values in zip(TOLERANCE.items(), got, strict=True):
        error = relative_errors(values, reference, compared, slack)
        bad = ~(error <= tolerance)  # NaN is bad
        if bad.any():
            step = int(np.argmax(np.where(bad, error, -1.0)))
            raise AssertionError(
                f"{what}: {backend} error above {tolerance:g} at {int(bad.sum())} steps, worst {error[step]:.3g} at "
                f"step {step}: ours {float(values[step])!r}, peer {float(reference[step])!r}"
            )
        worst.append(float(np.max(error, initial=0.0)))
    return worst[0], worst[1]


@dataclasses.dataclass
class Row:
    """One scheduler against one peer: see :class:`Table`."""

    configs: int = 0
    refused: int = 0
    exact_steps: int = 0
    numpy: float = 0.0
    mlx: float = 0.0


class Table:
    """Per peer and scheduler: configurations compared and refused, steps against the exact formula, worst errors."""

    def __init__(self, title: str, filename: str, peer: str) -> None:
        self.title, self.filename, self.peer = title, filename, peer
        self.rows: dict[tuple[str, str], Row] = {}

    def row(self, key: str, peer: str | None = None) -> Row:
        """The row of ``key`` (a scheduler) against ``peer`` (default: the table's)."""
        return self.rows.setdefault((peer or self.peer, key), Row())

    def check(
        self, key: str, schedule: Schedule, reference: Any, compared: Any = None, **kwargs: Any
    ) -> tuple[float, float]:
        """:meth:`check_values` of ``schedule`` at steps ``0 .. len(reference) - 1``."""
        reference = np.asarray(reference, dtype=np.float64)
        return self.check_values(key, backend_values(schedule, reference.size), reference, compared, **kwargs)

    def check_values(
        self,
        key: str,
        got: tuple[np.ndarray, np.ndarray],
        reference: Any,
        compared: Any = None,
        *,
        exact: Any = None,
        slack: Any = 0.0,
        peer: str | None = None,
        what: str = "",
    ) -> tuple[float, float]:
        """Assert ``got`` against ``reference`` where ``compared`` is true (default: every step) and, given ``exact``,
        against ``exact`` at the other steps; record the configuration. The worst errors on each backend."""
        what = f"{key} vs {peer or self.peer}: {what}"
        numpy_worst, mlx_worst = assert_errors(got, reference, compared, slack, what)
        row = self.row(key, peer)
        if exact is not None:
            assert compared is not None, "exact replaces the peer at the steps not compared"
            off = ~np.asarray(compared, dtype=bool)
            exact_worst = assert_errors(
                got, exact, off, what=f"{what} (the exact formula where the peer's index is off)"
            )
            numpy_worst, mlx_worst = max(numpy_worst, exact_worst[0]), max(mlx_worst, exact_worst[1])
            row.exact_steps += int(off.sum())
        row.configs += 1
        row.numpy, row.mlx = max(row.numpy, numpy_worst), max(row.mlx, mlx_worst)
        return numpy_worst, mlx_worst

    def refused(
        self, key: str, pattern: str | None, translate: Callable[..., Any], *args: Any, peer: str | None = None
    ) -> bool:
        """Whether a configuration is refused: given ``pattern`` (of the message), ``translate(*args)`` must raise a
        ``ValueError`` matching it, counted."""
        if pattern is None:
            return False
        with pytest.raises(ValueError, match=pattern):
            translate(*args)
        self.row(key, peer).refused += 1
        return True

    def text(self) -> str:
        lines = [
            f"{self.title}: the worst |ours - peer| / max(|peer|, 1e-6 * peak) over the steps compared (NumPy tol "
            "1e-6, MLX tol 4e-6); exact: steps where the peer's own float index is off, compared with the exact one",
            f"{'peer':<14} {'scheduler':<46} {'configs':>7} {'refused':>7} {'exact':>6} {'NumPy':>10} {'MLX':>10}",
        ]
        for (peer, key), row in sorted(self.rows.items()):
            lines.append(
                f"{peer:<14} {key:<46} {row.configs:>7} {row.refused:>7} {row.exact_steps:>6} "
                f"{row.numpy:>10.2e} {row.mlx:>10.2e}"
            )
        return "\n".join(lines)

    def report(self, config: Any, directory: Path) -> None:
        """Write the table to ``directory / filename`` and print it in pytest's terminal summary."""
        if not self.rows:
            return
        path = directory / self.filename
        path.write_text(self.text() + "\n")
        table = self

        class Summary:
            def pytest_terminal_summary(self, terminalreporter: Any) -> None:
                terminalreporter.write_sep("-", table.title)
                terminalreporter.write_line(table.text())
                terminalreporter.write_line(f"(written to {path})")

        name = f"translator-errors-{self.filename}"
        if config.pluginmanager.get_plugin(name) is None:
            config.pluginmanager.register(Summary(), name)

    def fixture(self) -> Any:
        """A module-scoped autouse fixture that reports the table when the module ends (``_report = T.fixture()``)."""

        @pytest.fixture(scope="module", autouse=True)
        def report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
            yield
            self.report(request.config, tmp_path_factory.getbasetemp())

        return report


def draw_translated(
    generate: Callable[[random.Random], dict[str, Any]],
    rng: random.Random,
    translate: Callable[..., Schedule],
    name: str,
    refusals: tuple[str, ...],
    row: Row,
) -> tuple[dict[str, Any], Schedule]:
    """A config of ``generate`` that ``translate`` accepts; a refused one must fail with one of ``refusals`` and is
    counted in ``row``."""
    for _ in range(200):
        config = generate(rng)
        try:
            return config, translate(name, **config)
        except ValueError as error:
            if not any(reason in str(error) for reason in refusals):
                raise
            row.refused += 1
    raise AssertionError(f"{name}: 200 configs in a row refused")


def assert_round_trips(schedule: Schedule, steps: int | Sequence[int] | np.ndarray) -> None:
    """``from_config`` of ``to_config()`` and of ``to_json()`` rebuilds an equal schedule (the same repr), with bitwise
    equal values on both backends at ``steps`` (a count: ``0 .. steps - 1``)."""
    values = backend_values(schedule, steps)
    for config in (schedule.to_config(), schedule.to_json()):
        rebuilt = from_config(config)
        assert rebuilt == schedule and repr(rebuilt) == repr(schedule)
        for again, before in zip(backend_values(rebuilt, steps), values, strict=True):
            np.testing.assert_array_equal(again, before)


def parameters(function: Any, skip: int = 0) -> list[tuple[str, Any]]:
    """``(name, default)`` of each parameter of ``function``, the first ``skip`` left out: a builder's signature
    against the peer's, or against its transcription (whose first parameter is the step)."""
    return [(p.name, p.default) for p in list(inspect.signature(function).parameters.values())[skip:]]


def assert_one_line_error(error: BaseException, prefix: str, *words: str) -> None:
    """An error message in the peer's words: one line, under 300 characters, starting with ``prefix``."""
    message = str(error)
    assert "\n" not in message and len(message) < 300, message
    assert message.startswith(prefix), message
    for word in words:
        assert word in message, (word, message)
