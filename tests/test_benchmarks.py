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

from benchmarks import _common, _pairs, curve, eval_cost, kernels, overhead  # noqa: E402


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
    # The tiny model: ours and the built-in of each pair beside a constant learning rate, both modes.
    assert [row["mode"] for row in payload["tiny"]] == ["compiled", "eager"]
    for row in payload["tiny"]:
        assert {"exponential", "1-cycle (mlx: join of 2 cosines)"} <= set(row["pairs"])
        assert row["constant_step_us"] > 0 and row["constant_step_kernels"] >= 1
        for pair in row["pairs"].values():
            assert pair["ours_step_us"] > 0 and pair["mlx_step_us"] > 0
            assert pair["step_kernels"]["ours"] > row["constant_step_kernels"]  # the schedule is in the step
            for key in ("ours_marginal_us", "mlx_marginal_us", "ours_minus_mlx_us"):
                spread = pair[key]
                assert spread["q25"] <= spread["median"] <= spread["q75"]
                assert math.isfinite(spread["q25"]) and math.isfinite(spread["q75"])
    tiny = table_rows(stdout[stdout.index("| tiny MLP step |") - 1 :])
    assert len(tiny) == sum(len(row["pairs"]) for row in payload["tiny"])
    assert [row["goal"] for row in overhead.goals(payload)][1:] == [
        "tiny model, compiled step: marginal us ours <= mlx.optimizers",
        "tiny model, eager step: marginal us ours <= mlx.optimizers",
    ]


def test_eval_cost_compares_each_builtin_in_three_modes(tmp_path: Path) -> None:
    stdout, payload = run_benchmark("eval_cost", tmp_path)
    labels = [row["schedule"] for row in payload["results"]]
    assert labels == [label for label, _, _ in _pairs.call_pairs()]
    assert {"exponential", "cosine", "warmup + cosine (Join)", "step decay", "1-cycle (mlx: join of 2 cosines)"} <= set(
        labels
    )
    for row in payload["results"]:
        assert row["kernels"]["ours"] >= 1 and row["kernels"]["builtin"] >= 1
        assert row["eager_nodes"]["ours"] >= 1 and row["eager_nodes"]["builtin"] >= 1
        assert all(value > 0 for value in row["new_schedule"].values())
        for mode in ("build", "eager", "compiled"):
            assert row[mode]["ours_us"] > 0 and row[mode]["builtin_us"] > 0
            assert 0 < row[mode]["ratio"]["median"] < math.inf
    assert [cells[0] for cells in table_rows(stdout)] == labels
    assert "mlx.optimizers has no 1-cycle" in payload["table"]
    assert [row["met"] in {"yes", "within noise", "NO"} for row in eval_cost.goals(payload)] == [True, True]


def test_kernels_counts_every_registered_schedule(tmp_path: Path) -> None:
    from mlx_lrsched import schedule_names

    stdout, payload = run_benchmark("kernels", tmp_path)
    assert payload["not_covered"] == []
    assert {row["class"] for row in payload["results"]} == set(schedule_names())
    for row in payload["results"]:
        assert row["ours"] == len(row["ours_primitives"]) >= 1
        assert "mlx" not in row or row["mlx"] >= 1
    pairs = {row["schedule"]: row for row in payload["results"] if "mlx" in row}
    assert {"ExponentialDecay", "CosineDecay", "StepDecay", "Linear", "Warmup + CosineDecay", "OneCycle"} <= set(pairs)
    assert [cells[0] for cells in table_rows(stdout)] == [row["schedule"] for row in payload["results"]]


def test_count_kernels_counts_the_primitives_of_a_compiled_call() -> None:
    import mlx.core as mx
    import mlx.optimizers as optim

    assert kernels.count_kernels(optim.exponential_decay(0.1, 0.99)) == 1  # fused: one Compiled... node

    def reduced(step: mx.array) -> mx.array:
        value = mx.sum(mx.arange(4) * step.astype(mx.float32))  # a reduction does not fuse with what follows
        return mx.exp(value) + 1.0

    labels = kernels.kernel_labels(reduced)
    assert "Sum" in labels and kernels.count_kernels(reduced) == len(labels) > 2


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
    # Ours against the same formula written by hand in NumPy, and the peak memory of a long curve.
    assert [row["schedule"] for row in payload["numpy"]] == [label for label, _, _ in curve.hand_written(100_000)]
    for row in payload["numpy"]:
        assert row["max_rel_diff"] <= 1e-6
        assert row["call_s"] > 0 and row["curve_s"] > 0 and row["hand_s"] > 0
        assert 0 < row["call_ratio"]["median"] < math.inf and 0 < row["curve_ratio"]["median"] < math.inf
        assert row["curve_peak_ratio"] >= 1.0 and row["hand_peak_ratio"] >= 1.0  # the output itself is counted
    numpy_rows = table_rows(stdout[stdout.index("| schedule (1e+05 steps)") - 1 :])
    assert [cells[0] for cells in numpy_rows] == [row["schedule"] for row in payload["numpy"]]


def test_hand_written_numpy_formulas_agree_with_ours() -> None:
    import numpy as np

    steps = np.arange(0, 3_000_000, 7)
    for label, schedule, formula in curve.hand_written(3_000_000):
        expected = formula(steps)
        scale = np.maximum(np.abs(expected), 1e-6 * schedule.peak)  # as precision.py: values >= 1e-6 of peak
        assert np.max(np.abs(schedule(steps) - expected) / scale) < 1e-9, label


def test_quick_runs_write_to_a_git_ignored_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_common, "QUICK_DIR", tmp_path / "quick")
    assert _common.parser("x").parse_args([]).out == _common.RESULTS_DIR
    assert _common.parser("x").parse_args(["--quick", "--out", str(tmp_path)]).out == tmp_path
    assert _common.parser("x").parse_args(["--quick"]).out == tmp_path / "quick"
    assert (tmp_path / "quick" / ".gitignore").read_text().splitlines()[-1] == "*"
    completed = subprocess.run(
        ["git", "check-ignore", "-q", "benchmarks/results/quick/kernels.json"], cwd=ROOT, check=False
    )
    assert completed.returncode in (0, 128)  # ignored (128: not a git checkout, e.g. an sdist)


def test_verdicts_read_the_spread() -> None:
    assert _common.verdict({"median": 0.99, "q25": 0.97, "q75": 1.02}, 1.0) == "yes"
    assert _common.verdict({"median": 1.01, "q25": 0.99, "q75": 1.03}, 1.0) == "within noise"
    assert _common.verdict({"median": 1.10, "q25": 1.05, "q75": 1.12}, 1.0) == "NO"
    assert _common.overall(["yes", "within noise", "yes"]) == "within noise"
    assert _common.overall(["yes", "NO", "within noise"]) == "NO"
    assert _common.overall(["yes"]) == "yes"


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
        monkeypatch.setattr(module, "goals", lambda payload, name=name: [_common.goal(f"{name} goal", "1.0", "yes")])
    payloads = run_all.main(["--quick", "--out", str(tmp_path)])
    assert list(payloads) == ["kernels", "eval_cost", "overhead", "curve", "precision"]
    assert all(argv == ["--quick", "--out", str(tmp_path)] for _, argv in calls)
    summary = (tmp_path / "summary.md").read_text()
    assert all(f"| {name} |" in summary for name in payloads)
    assert all(f"| {name} goal | 1.0 | yes |" in summary for name in payloads)
    assert "python -m benchmarks.all --quick" in summary
    assert "### Goals on this machine" in summary
    # Without --out a quick run writes to the git-ignored quick directory, never over the committed results.
    monkeypatch.setattr(_common, "QUICK_DIR", tmp_path / "quick")
    calls.clear()
    run_all.main(["--quick"])
    assert all(argv == ["--quick", "--out", str(tmp_path / "quick")] for _, argv in calls)
    assert (tmp_path / "quick" / "summary.md").exists()


def test_the_docs_performance_page_includes_the_committed_summary_and_the_readme_copies_none():
    # The numbers are published as the last full run wrote them (python -m benchmarks.all): the docs'
    # performance page includes benchmarks/results/summary.md when the site is built, nothing copies them.
    page = (ROOT / "docs" / "guides" / "performance.md").read_text()
    assert "```{include} ../../benchmarks/results/summary.md" in page
    summary = (ROOT / "benchmarks" / "results" / "summary.md").read_text()
    assert summary.startswith("## Performance\n") and "### Goals on this machine" in summary
    readme = (ROOT / "README.md").read_text()
    assert "## Performance" not in readme and "### Goals on this machine" not in readme
