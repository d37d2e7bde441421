"""Shared helpers: interleaved timing, paired ratios with a spread, markdown tables, atomic JSON, machine info.

The machine these run on may be shared and noisy, so every comparison is *interleaved*: each round times
every variant once (in a rotated order, so no variant always runs first or last), and a ratio is taken
between variants *of the same round*. The reported number is the median of those per-round ratios, with
the interquartile range as the spread. A burst of load from another process slows one round of every
variant alike and cancels in the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
"""Where a full run writes its JSON and ``summary.md`` (committed)."""
QUICK_DIR = RESULTS_DIR / "quick"
"""Where a ``--quick`` run writes by default: git-ignored, so a smoke run never replaces the committed results."""


class _Parser(argparse.ArgumentParser):
    def parse_args(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        namespace = super().parse_args(*args, **kwargs)
        if namespace.out is None:
            namespace.out = QUICK_DIR if namespace.quick else RESULTS_DIR
        if namespace.out == QUICK_DIR:
            ignore_quick_dir()
        return namespace


def parser(description: str) -> argparse.ArgumentParser:
    """The command line every benchmark script shares: ``--quick`` and ``--out``.

    Without ``--out`` a full run writes to ``results/`` and a ``--quick`` run to ``results/quick/``.
    """
    parser = _Parser(description=description)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (seconds, noisier numbers)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"directory for the JSON results (default {RESULTS_DIR}, or {QUICK_DIR} with --quick)",
    )
    return parser


def ignore_quick_dir() -> None:
    """Create ``results/quick/`` with a ``.gitignore`` of ``*``: quick results are never committed."""
    QUICK_DIR.mkdir(parents=True, exist_ok=True)
    ignore = QUICK_DIR / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# written by benchmarks/_common.py: --quick results are smoke runs, never committed\n*\n")


def interleaved(
    variants: Mapping[str, Callable[[], Any]], *, rounds: int, repeat: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Seconds per call of each variant, one sample per round, variants interleaved within each round.

    Each sample times ``repeat`` back-to-back calls and divides by ``repeat``. ``warmup`` untimed rounds
    come first (compilation, caches). Round ``r`` starts at variant ``r mod n``, so every variant takes
    every position equally often.
    """
    names = list(variants)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(warmup + rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            function = variants[name]
            start = time.perf_counter()
            for _ in range(repeat):
                function()
            elapsed = (time.perf_counter() - start) / repeat
            if round_index >= warmup:
                samples[name].append(elapsed)
    return samples


def quantiles(values: Sequence[float]) -> tuple[float, float, float]:
    """``(q25, median, q75)`` of ``values`` (all three equal for a single value)."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    q25, q50, q75 = statistics.quantiles(values, n=4, method="inclusive")
    return q25, q50, q75


def paired_ratio(numerator: Sequence[float], denominator: Sequence[float]) -> dict[str, float]:
    """Median and IQR of the per-round ratios ``numerator[i] / denominator[i]``."""
    ratios = [a / b for a, b in zip(numerator, denominator, strict=True)]
    q25, median, q75 = quantiles(ratios)
    return {"median": median, "q25": q25, "q75": q75}


def paired_difference(minuend: Sequence[float], subtrahend: Sequence[float], scale: float = 1.0) -> dict[str, float]:
    """Median and IQR of the per-round differences ``(minuend[i] - subtrahend[i]) * scale``."""
    differences = [(a - b) * scale for a, b in zip(minuend, subtrahend, strict=True)]
    q25, median, q75 = quantiles(differences)
    return {"median": median, "q25": q25, "q75": q75}


def median(values: Sequence[float]) -> float:
    """The median of ``values``."""
    return statistics.median(values)


def format_ratio(ratio: Mapping[str, float], digits: int = 3) -> str:
    """``1.004 [0.998, 1.011]``: the median and the interquartile range of a ratio."""
    return f"{ratio['median']:.{digits}f} [{ratio['q25']:.{digits}f}, {ratio['q75']:.{digits}f}]"


def format_time(seconds: float) -> str:
    """A duration with a unit that keeps three significant digits."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table (numbers right-aligned by the renderer's default is fine)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_json(directory: Path, name: str, payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` to ``directory/name.json`` atomically (a temporary file, then ``os.replace``)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{name}.json"
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as stream:
            json.dump(payload, stream, indent=2, sort_keys=False)
            stream.write("\n")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _cpu_model() -> str:
    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True, check=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        output = ""
    for line in output.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    if sys.platform == "darwin":
        try:
            return subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """What the numbers were measured on: CPU, core count, OS, Python and library versions, MLX device."""
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    try:
        import mlx.core as mx

        info["mlx"] = getattr(mx, "__version__", "unknown")
        info["mlx_device"] = str(mx.default_device())
    except ImportError:
        info["mlx"] = None
    import numpy as np

    info["numpy"] = np.__version__
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = None
    info["date"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    info["load_average"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    return info


def machine_line(info: Mapping[str, Any]) -> str:
    """One line naming the machine, for under a table."""
    return (
        f"{info['cpu']}, {info['cores']} cores, {info['platform']}, Python {info['python']}, "
        f"MLX {info['mlx']} ({info.get('mlx_device')}), NumPy {info['numpy']}, PyTorch {info['torch']}"
    )


def report(args: argparse.Namespace, name: str, title: str, markdown: str, **fields: Any) -> dict[str, Any]:
    """Print a benchmark's table under ``title`` and write ``name.json``; return the JSON payload."""
    payload = {"benchmark": name, "quick": args.quick, **fields, "machine": machine(), "table": markdown}
    print(f"## {title}\n")
    print(markdown)
    print(f"\n{machine_line(payload['machine'])}")
    write_json(args.out, name, payload)
    return payload


YES, NOISE, NO = "yes", "within noise", "NO"


def verdict(spread: Mapping[str, float], goal: float) -> str:
    """Whether a measured ``{median, q25, q75}`` meets ``value <= goal``.

    ``yes`` when the median meets it; ``within noise`` when only the lower quartile does (the interquartile
    range straddles the goal: not a measurable miss on this machine); ``NO`` otherwise.
    """
    if spread["median"] <= goal:
        return YES
    return NOISE if spread["q25"] <= goal else NO


def overall(verdicts: Sequence[str]) -> str:
    """The verdict of a goal over several measurements: its worst one."""
    for worst in (NO, NOISE):
        if worst in verdicts:
            return worst
    return YES


def goal(name: str, measured: str, met: str) -> dict[str, str]:
    """One row of the summary's goal table."""
    return {"goal": name, "measured": measured, "met": met}
