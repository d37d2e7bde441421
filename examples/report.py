"""Run records (JSON), figures (PNG) and the comparison table (markdown), all written atomically."""

from __future__ import annotations

import dataclasses
import json
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from common import Run
from data import atomic_write


def run_record(run: Run, completed: bool) -> dict[str, Any]:
    """Everything about a run: config, schedule, per-epoch metrics, the LR and loss of every update."""
    import mlx.core as mx

    epochs = run.history.epochs
    accuracies = [e["test_accuracy"] for e in epochs]
    return {
        "config": dataclasses.asdict(run.config),
        "schedule": run.schedule.to_config(),
        "schedule_repr": repr(run.schedule),
        "dataset": {
            "name": run.dataset.name,
            "train": int(run.dataset.x_train.shape[0]),
            "test": int(run.dataset.x_test.shape[0]),
        },
        "steps_per_epoch": run.steps_per_epoch,
        "total_steps": run.total_steps,
        "steps_done": run.step,
        "completed": completed,
        "final_accuracy": accuracies[-1] if accuracies else None,
        "best_accuracy": max(accuracies) if accuracies else None,
        "seconds": run.history.seconds,
        "device": str(mx.default_device()),
        "mlx_version": getattr(mx, "__version__", "unknown"),
        "platform": platform.platform(),
        "epochs": epochs,
        "lr": run.history.lr,
        "loss": run.history.loss,
    }


def write_json(path: Path, payload: Any) -> None:
    with atomic_write(path, "w") as handle:
        json.dump(payload, handle, indent=1)
        handle.write("\n")


def _smooth(values: Sequence[float], width: int) -> np.ndarray:
    """Trailing moving average (shorter window at the start), so the curve starts at step 0."""
    series = np.asarray(values, dtype=np.float64)
    if width <= 1 or series.size == 0:
        return series
    cumulative = np.concatenate([[0.0], np.cumsum(series)])
    ends = np.arange(1, series.size + 1)
    starts = np.maximum(0, ends - width)
    smoothed: np.ndarray = (cumulative[ends] - cumulative[starts]) / (ends - starts)
    return smoothed


def _save_figure(figure: Any, path: Path) -> None:
    with atomic_write(path) as handle:
        figure.savefig(handle, format="png", dpi=120, bbox_inches="tight")


def plot_run(record: dict[str, Any], path: Path) -> None:
    """Three panels: the learning rate of every update, the training loss, the test accuracy per epoch."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    figure = Figure(figsize=(13, 3.6))
    lr_axes, loss_axes, acc_axes = figure.subplots(1, 3)
    steps = np.arange(len(record["lr"]))
    spe = record["steps_per_epoch"]
    lr_axes.plot(steps, record["lr"], color="C0")
    lr_axes.set(title=f"learning rate: {record['config']['schedule']}", xlabel="optimizer update", ylabel="lr")
    loss_axes.plot(steps, record["loss"], color="C1", alpha=0.25, linewidth=0.8, label="per update")
    loss_axes.plot(steps, _smooth(record["loss"], spe), color="C1", label=f"mean of last {spe}")
    loss_axes.set(title="training loss", xlabel="optimizer update", yscale="log")
    loss_axes.legend(loc="upper right")
    epochs = [e["epoch"] for e in record["epochs"]]
    acc_axes.plot(epochs, [e["test_accuracy"] for e in record["epochs"]], marker="o", color="C2")
    acc_axes.set(title="test accuracy", xlabel="epoch", ylim=(None, 1.0))
    for axes in (lr_axes, loss_axes, acc_axes):
        axes.grid(alpha=0.3)
    _save_figure(figure, path)


def plot_comparison(records: Sequence[dict[str, Any]], path: Path) -> None:
    """All learning rates in one panel, all (smoothed) training losses in another, test accuracy in a third."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(13, 3.8))
    lr_axes, loss_axes, acc_axes = figure.subplots(1, 3)
    for index, record in enumerate(records):
        name, color = record["config"]["schedule"], f"C{index}"
        steps = np.arange(len(record["lr"]))
        lr_axes.plot(steps, record["lr"], color=color, label=name)
        loss_axes.plot(steps, _smooth(record["loss"], record["steps_per_epoch"]), color=color, label=name)
        epochs = [e["epoch"] for e in record["epochs"]]
        acc_axes.plot(epochs, [e["test_accuracy"] for e in record["epochs"]], color=color, marker=".", label=name)
    lr_axes.set(title="learning rate", xlabel="optimizer update")
    loss_axes.set(title="training loss (mean over one epoch)", xlabel="optimizer update", yscale="log")
    acc_axes.set(title="test accuracy", xlabel="epoch", ylim=(None, 1.0))
    for axes in (lr_axes, loss_axes, acc_axes):
        axes.grid(alpha=0.3)
    lr_axes.legend(fontsize="small")
    _save_figure(figure, path)


def comparison_table(records: Sequence[dict[str, Any]]) -> str:
    """A markdown table: schedule, final and best test accuracy, final training loss, wall time."""
    lines = [
        "| schedule | final test acc | best test acc (epoch) | final train loss | time (s) |",
        "|---|---:|---:|---:|---:|",
    ]
    for record in records:
        epochs = record["epochs"]
        best = max(epochs, key=lambda e: e["test_accuracy"])
        lines.append(
            f"| {record['config']['schedule']} | {epochs[-1]['test_accuracy']:.4f} "
            f"| {best['test_accuracy']:.4f} ({best['epoch']}) | {epochs[-1]['train_loss']:.4f} "
            f"| {record['seconds']:.2f} |"
        )
    return "\n".join(lines) + "\n"
