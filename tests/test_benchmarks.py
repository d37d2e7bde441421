"""Smoke tests of the benchmarks: each script runs end to end in ``--quick`` mode and writes well-formed results.

No timing is asserted (the machine is shared and noisy); what is asserted is the shape of the output: a
markdown table with one row per measured case, JSON that parses, positive times and finite ratios, and the
numbers that do not depend on timing (float32 errors, agreement with PyTorch).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mlx.core")

ROOT = Path(__file__).resolve().parents[1]


def run_benchmark(module: str, out: Path) -> tuple[str, dict[str, Any]]:
    """Run ``python -m benchmarks.<module> --quick --out <out>``; return its stdout and its JSON."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    completed = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", "--quick", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout, json.loads((out / f"{module}.json").read_text())


def table_rows(markdown: str) -> list[list[str]]:
    """The body rows of the first markdown table in ``markdown``, as lists of cells."""
    text = markdown[markdown.index("\n|") + 1 :]
    lines = [line for line in text.split("\n\n")[0].splitlines() if line.startswith("|")]
    header, rule, *body = lines
    assert set(rule.replace("|", "")) == {"-"}
    width = header.count("|")
    assert all(line.count("|") == width for line in body)
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in body]


def test_overhead_reports_every_family_in_both_modes(tmp_path: Path) -> None:
    stdout, payload = run_benchmark("overhead", tmp_path)
    families = {"exponential", "cyclic exponential", "1-cycle", "warmup + cosine", "plateau"}
    assert [(row["mode"]) for row in payload["results"]] == ["compiled", "eager", "compiled", "eager"]
    for row in payload["results"]:
        assert set(row["schedules"]) == families
        assert row["constant_step_us"] > 0
        for result in row["schedules"].values():
            ratio = result["ratio"]
            assert 0 < ratio["q25"] <= ratio["median"] <= ratio["q75"] < math.inf
    assert len(table_rows(stdout)) == 4
    assert payload["table"] in stdout


def test_eval_cost_compares_each_builtin_in_three_modes(tmp_path: Path) -> None:
    stdout, payload = run_benchmark("eval_cost", tmp_path)
    labels = [row["schedule"] for row in payload["results"]]
    assert {"exponential", "cosine", "warmup + cosine (Join)", "step decay"} <= set(labels)
    for row in payload["results"]:
        assert row["nodes"]["ours"] >= 1 and row["nodes"]["builtin"] >= 1
        for mode in ("build", "eager", "compiled"):
            assert row[mode]["ours_us"] > 0 and row[mode]["builtin_us"] > 0
            assert 0 < row[mode]["ratio"]["median"] < math.inf
    assert [cells[0] for cells in table_rows(stdout)] == labels


def test_precision_covers_every_schedule_within_the_goal(tmp_path: Path) -> None:
    stdout, payload = run_benchmark("precision", tmp_path)
    assert payload["not_covered"] == []
    assert payload["steps"]["max"] == 10**9
    assert all(row["ours"] <= 1e-6 for row in payload["schedules"])
    exponential = next(pair for pair in payload["builtins"] if pair["builtin"] == "exponential_decay(0.1, 0.99999)")
    assert exponential["mlx"] > 1e-3 > 1e-6 >= exponential["ours"]  # the float32 power the design avoids
    assert len(table_rows(stdout)) == len(payload["builtins"])


def test_curve_times_each_torch_scheduler_and_agrees_with_it(tmp_path: Path) -> None:
    stdout, payload = run_benchmark("curve", tmp_path)
    assert [row["scheduler"] for row in payload["results"]] == [
        "OneCycleLR",
        "CosineAnnealingWarmRestarts (T_mult=2)",
        "CyclicLR (triangular)",
    ]
    for row in payload["results"]:
        assert row["steps"] == 1_000_000 and row["numpy_s"] > 0 and row["mlx_s"] > 0
        if "torch_s" in row:
            assert row["max_rel_diff_vs_torch"] < 1e-6
            assert row["speedup_numpy"] == pytest.approx(row["torch_s"] / row["numpy_s"])
    assert len(table_rows(stdout)) == 3


def test_all_writes_a_summary_with_every_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks import all as run_all

    calls = []

    def fake_main(
        name: str,
    ) -> Callable[[list[str]], dict[str, Any]]:  # each benchmark is smoke-tested above; here only the aggregation
        def main(argv: list[str]) -> dict[str, Any]:
            calls.append((name, argv))
            return {
                "table": f"| {name} |\n|---|\n| row |",
                "machine": {
                    "date": "today",
                    "load_average": None,
                    "cpu": "cpu",
                    "cores": 1,
                    "platform": "p",
                    "python": "3",
                    "mlx": "m",
                    "numpy": "n",
                    "torch": None,
                },
            }

        return main

    for name, (module, _) in run_all.BENCHMARKS.items():
        monkeypatch.setattr(module, "main", fake_main(name))
    payloads = run_all.main(["--quick", "--out", str(tmp_path)])
    assert list(payloads) == ["overhead", "eval_cost", "precision", "curve"]
    assert all(argv == ["--quick", "--out", str(tmp_path)] for _, argv in calls)
    summary = (tmp_path / "summary.md").read_text()
    assert all(f"| {name} |" in summary for name in payloads)
    assert "python -m benchmarks.all --quick" in summary
