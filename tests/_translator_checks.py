"""What the translator tests share: comparing a translated schedule with a peer's values on both backends.

:meth:`ErrorTable.check` evaluates a schedule at steps ``0 .. n - 1`` on the NumPy reference backend (float64) and on
MLX (float32, the optimizer's ``uint64`` steps), asserts both against the peer's values — relative error at most
:data:`RTOL` (1e-6 NumPy, 4e-6 MLX) wherever the peer's value is at least :data:`FLOOR` (1e-6) of the run's peak, and
absolute error at most the same fraction of the peak everywhere — and records the configurations compared and the
worst relative errors per scheduler and backend. :meth:`ErrorTable.report` writes the table to a file in pytest's
base temporary directory and prints it in the terminal summary at the end of the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mlx_lrsched import Schedule

RTOL = {"numpy": 1e-6, "mlx": 4e-6}
"""Relative tolerance per backend (issue 15: 1e-6 on NumPy, 4e-6 in MLX float32)."""

FLOOR = 1e-6
"""Relative errors count where the peer's value is at least this fraction of the run's peak."""


def backend_values(schedule: Schedule, steps: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The schedule at ``steps`` (a count, or the steps themselves): NumPy float64 and MLX float32 (as float64)."""
    import mlx.core as mx

    t = np.arange(steps, dtype=np.int64) if isinstance(steps, int) else np.asarray(steps, dtype=np.int64)
    reference = np.asarray(schedule(t), dtype=np.float64)
    device = np.array(schedule(mx.array(t.astype(np.uint64), dtype=mx.uint64)), dtype=np.float64)
    return reference, device


class ErrorTable:
    """The worst relative error per scheduler and backend over every configuration checked, and their count."""

    def __init__(self, title: str, filename: str) -> None:
        self.title = title
        self.filename = filename
        self.rows: dict[str, dict[str, float]] = {}
        self.refused: dict[str, int] = {}

    def check(
        self,
        key: str,
        schedule: Schedule,
        expected: Any,
        compared: np.ndarray | None = None,
        what: str = "",
    ) -> None:
        """Assert ``schedule`` matches ``expected`` (one value per step from 0) where ``compared`` is true."""
        expected = np.asarray(expected, dtype=np.float64)
        numpy_values, mlx_values = backend_values(schedule, expected.size)
        self.check_values(key, {"numpy": numpy_values, "mlx": mlx_values}, expected, compared, what)

    def check_values(
        self,
        key: str,
        got: dict[str, np.ndarray],
        expected: np.ndarray,
        compared: np.ndarray | None = None,
        what: str = "",
    ) -> None:
        """:meth:`check` for values already computed, ``{"numpy": ..., "mlx": ...}``."""
        mask = np.ones(expected.size, dtype=bool) if compared is None else np.asarray(compared, dtype=bool)
        peak = float(np.max(np.abs(expected[mask]), initial=0.0))
        relative = mask & (np.abs(expected) >= FLOOR * peak) & (expected != 0.0)
        row = self.rows.setdefault(key, {"configs": 0, "numpy": 0.0, "mlx": 0.0})
        row["configs"] += 1
        for backend, values in got.items():
            error = np.zeros(expected.size)
            error[relative] = np.abs(values[relative] - expected[relative]) / np.abs(expected[relative])
            row[backend] = max(row[backend], float(np.max(error, initial=0.0)))
            absolute = np.abs(values - expected) > RTOL[backend] * peak
            bad = (error > RTOL[backend]) | (mask & absolute)
            if bad.any():
                step = int(np.argmax(bad))
                raise AssertionError(
                    f"{key} on {backend}: {int(bad.sum())} of {int(mask.sum())} steps differ, first at step {step}: "
                    f"ours {values[step]!r}, peer {expected[step]!r}; {what}"
                )

    def refuse(self, key: str) -> None:
        """Count a configuration the translator refused (the test asserts the refusal and its reason)."""
        self.refused[key] = self.refused.get(key, 0) + 1

    def text(self) -> str:
        lines = [
            f"{self.title}: worst relative error over every step compared (NumPy tol 1e-6, MLX tol 4e-6)",
            f"{'scheduler':<46} {'configs':>7} {'refused':>7} {'NumPy':>10} {'MLX':>10}",
        ]
        for key in sorted(self.rows):
            row = self.rows[key]
            refused = self.refused.get(key, 0)
            lines.append(f"{key:<46} {int(row['configs']):>7} {refused:>7} {row['numpy']:>10.2e} {row['mlx']:>10.2e}")
        return "\n".join(lines)

    def report(self, config: Any, directory: Path) -> None:
        """Write the table to ``directory / filename`` and print it in pytest's terminal summary."""
        if not self.rows:
            return
        text = self.text()
        path = directory / self.filename
        path.write_text(text + "\n")
        table = self

        class Summary:
            def pytest_terminal_summary(self, terminalreporter: Any) -> None:
                terminalreporter.write_sep("-", table.title)
                terminalreporter.write_line(text)
                terminalreporter.write_line(f"(written to {path})")

        name = f"translator-errors-{self.filename}"
        if config.pluginmanager.get_plugin(name) is None:
            config.pluginmanager.register(Summary(), name)
