"""Command-line flags shared by the example scripts, their validation, and one complete run.

Flags are checked before any data is loaded or any step is taken: an unknown schedule lists the valid
ones, counts must be positive, checkpoint flags need a place to write, ``--resume`` needs a checkpoint.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, cast

import mlx.core as mx
from common import (
    ALONE,
    DEFAULT_LR,
    MODELS,
    OPTIMIZERS,
    DataParallel,
    Run,
    RunOptions,
    TrainConfig,
    count_parameters,
    fit,
)
from data import DATASETS, atomic_write, load_dataset, remove_stale_temp_files
from mlx.utils import tree_flatten
from report import plot_run, run_record, write_json
from schedules import SCHEDULES, build_schedule

from mlx_lrsched import OneCycle

DEFAULTS = TrainConfig()


def _integer(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f">= {low}" if high is None else f"in [{low}, {high}]"
            raise argparse.ArgumentTypeError(f"must be an integer {bound}, got {value}")
        return value

    return parse


def _real(low: float, high: float | None = None, *, low_open: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        too_low = value <= low if low_open else value < low
        if too_low or (high is not None and value >= high) or value != value:
            bound = ("> " if low_open else ">= ") + f"{low:g}" + ("" if high is None else f" and < {high:g}")
            raise argparse.ArgumentTypeError(f"must be a number {bound}, got {text}")
        return value

    return parse


def schedule_help() -> str:
    return "schedules (--schedule):\n" + "\n".join(f"  {name:22s} {text}" for name, (_, text) in SCHEDULES.items())


def add_arguments(parser: argparse.ArgumentParser, *, schedule: bool = True) -> None:
    """The flags of a training run (``schedule=False`` leaves ``--schedule`` to the caller)."""
    run = parser.add_argument_group("training")
    if schedule:
        run.add_argument(
            "--schedule",
            default=DEFAULTS.schedule,
            choices=list(SCHEDULES),
            metavar="NAME",
            help=f"learning-rate schedule (default {DEFAULTS.schedule}); one of: {', '.join(SCHEDULES)}",
        )
    run.add_argument(
        "--dataset",
        default=DEFAULTS.dataset,
        choices=DATASETS,
        help="digits is offline; mnist and fashion_mnist are downloaded once and cached",
    )
    run.add_argument("--model", default=DEFAULTS.model, choices=MODELS)
    run.add_argument("--optimizer", default=DEFAULTS.optimizer, choices=OPTIMIZERS)
    run.add_argument(
        "--lr",
        type=_real(0.0, low_open=True),
        default=None,
        help="peak learning rate (default: " + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ")",
    )
    run.add_argument("--epochs", type=_integer(1), default=DEFAULTS.epochs)
    run.add_argument("--batch-size", type=_integer(1), default=DEFAULTS.batch_size)
    run.add_argument(
        "--accum",
        type=_integer(1),
        default=DEFAULTS.accum,
        metavar="K",
        help="average the gradients of K micro-batches per optimizer update; the schedule counts "
        "updates, so an epoch has K times fewer steps",
    )
    run.add_argument("--hidden", type=_integer(1), default=DEFAULTS.hidden, help="hidden units")
    run.add_argument("--dropout", type=_real(0.0, 1.0), default=DEFAULTS.dropout)
    run.add_argument("--momentum", type=_real(0.0, 1.0), default=DEFAULTS.momentum, help="SGD momentum")
    run.add_argument(
        "--no-cycle-momentum",
        dest="cycle_momentum",
        action="store_false",
        help="with one_cycle, keep the momentum fixed (default: 0.95 -> 0.85 -> 0.95, inverse to the rate)",
    )
    run.add_argument("--weight-decay", type=_real(0.0), default=DEFAULTS.weight_decay)
    run.add_argument("--seed", type=_integer(0, 2**31 - 1), default=DEFAULTS.seed)
    run.add_argument("--no-compile", dest="compile", action="store_false", help="run the step eagerly (debugging)")
    where = parser.add_argument_group("devices, files, checkpoints")
    where.add_argument(
        "--device",
        choices=("cpu", "gpu"),
        default=None,
        help="default: MLX's default device (the GPU where MLX has one)",
    )
    where.add_argument(
        "--data-dir", default=None, help="dataset cache (default $MLX_LRSCHED_DATA or ~/.cache/mlx-lrsched)"
    )
    where.add_argument("--out", default=None, metavar="DIR", help="write run.json, run.png and model.safetensors here")
    where.add_argument(
        "--checkpoint", default=None, metavar="PATH", help="checkpoint file (default DIR/checkpoint.safetensors)"
    )
    where.add_argument(
        "--checkpoint-every",
        type=_integer(1),
        default=0,
        metavar="N",
        help="save a checkpoint every N optimizer updates",
    )
    where.add_argument("--resume", action="store_true", help="continue from the checkpoint at its exact update")
    where.add_argument(
        "--stop-after-steps",
        type=_integer(1),
        default=None,
        metavar="N",
        help="save a checkpoint and stop after update N (the schedule still spans --epochs)",
    )
    where.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: only when stderr is a terminal)",
    )


def config_from_args(args: argparse.Namespace, **overrides: Any) -> TrainConfig:
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if hasattr(args, f.name)}
    values |= overrides
    if values.get("lr") is None:
        values["lr"] = DEFAULT_LR[values.get("optimizer", DEFAULTS.optimizer)]
    return TrainConfig(**values)


def options_from_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> RunOptions:
    """The run options, after the checks that involve several flags (``parser.error`` on failure)."""
    options = RunOptions(
        data_dir=args.data_dir,
        out=args.out,
        checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
        stop_after_steps=args.stop_after_steps,
        progress=args.progress,
    )
    wants_checkpoint = options.checkpoint_every or options.resume or options.stop_after_steps is not None
    if wants_checkpoint and options.checkpoint_path is None:
        parser.error("--checkpoint-every, --resume and --stop-after-steps need --checkpoint PATH or --out DIR")
    if options.resume and not options.checkpoint_path.is_file():  # type: ignore[union-attr]
        parser.error(f"--resume: no checkpoint at {options.checkpoint_path}")
    if args.device == "gpu" and not mx.is_available(mx.gpu):
        parser.error("--device gpu: this MLX build has no GPU backend (mlx[cpu]); use --device cpu")
    return options


def select_device(name: str | None) -> None:
    if name is not None:
        mx.set_default_device(mx.gpu if name == "gpu" else mx.cpu)


def describe(run: Run) -> str:
    config, data = run.config, run.dataset
    height, width, channels = data.image_shape
    cycled = config.cycle_momentum and isinstance(run.schedule, OneCycle)
    if cycled:
        optimizer = f"{config.optimizer} ({'momentum' if config.optimizer == 'sgd' else 'beta1'} 0.95 -> 0.85 -> 0.95)"
    else:
        optimizer = f"{config.optimizer}" + (f" (momentum {config.momentum:g})" if config.optimizer == "sgd" else "")
    return (
        f"{data.name}: {data.x_train.shape[0]} train / {data.x_test.shape[0]} test images {height}x{width}x{channels}"
        f" | {config.model} ({count_parameters(run.model):,} parameters) | {optimizer}"
        f" | {config.schedule}: {run.schedule!r}\n"
        f"{run.steps_per_epoch} updates/epoch ({config.batch_size} x {config.accum} examples each) x {config.epochs}"
        f" epochs = {run.total_steps} updates | {mx.default_device()} | {'compiled' if config.compile else 'eager'}"
    )


OUTPUTS = ("run.json", "run.png", "model.safetensors")
"""The files ``--out DIR`` receives (besides the checkpoint)."""


def clean_run_directory(options: RunOptions) -> None:
    """Remove the temporary files a killed earlier run left beside this run's outputs and checkpoint.

    Only :func:`data.atomic_write`'s temporaries of this run's own files, and only stale ones (see
    :func:`data.remove_stale_temp_files`).
    """
    targets: dict[Path, set[str]] = {}
    if options.out is not None:
        targets.setdefault(Path(options.out), set()).update(OUTPUTS)
    checkpoint = options.checkpoint_path
    if checkpoint is not None:
        targets.setdefault(checkpoint.parent, set()).add(checkpoint.name)
    for folder, names in targets.items():
        removed = remove_stale_temp_files(folder, names)
        if removed:
            options.echo(
                f"removed {len(removed)} stale temporary file(s) of a killed run: {', '.join(p.name for p in removed)}"
            )


def run_training(config: TrainConfig, options: RunOptions) -> dict[str, Any]:
    """Load the data, build (or resume) the run, train it, write the outputs; returns the run record."""
    return execute_run(config, options)[1]


def execute_run(config: TrainConfig, options: RunOptions, parallel: DataParallel = ALONE) -> tuple[Run, dict[str, Any]]:
    """:func:`run_training` for one rank of a data-parallel run (alone by default), returning the run too.

    Every rank trains, and resumes from the same checkpoint; rank 0 alone writes checkpoints and outputs.
    """
    writer = parallel.rank == 0
    if writer:
        clean_run_directory(options)
    dataset = load_dataset(config.dataset, options.data_dir)
    run = Run.create(config, dataset, build_schedule)
    checkpoint = None
    if options.checkpoint_every or options.resume or options.stop_after_steps is not None:
        checkpoint = options.checkpoint_path
    options.echo(describe(run))
    if options.resume and checkpoint is not None:
        run.load(checkpoint, options.echo)
        options.echo(f"resumed from {checkpoint} at update {run.step}/{run.total_steps}")
    completed = fit(run, options, checkpoint if writer else None, parallel)
    record = run_record(run, completed)
    if parallel.size > 1:
        record["data_parallel"] = {"ranks": parallel.size, "batch_per_rank": config.batch_size // parallel.size}
    if completed:
        best = max(run.history.epochs, key=lambda e: e["test_accuracy"])
        options.echo(
            f"final test accuracy {record['final_accuracy']:.4f} (best {best['test_accuracy']:.4f} at epoch "
            f"{best['epoch']}) in {record['seconds']:.1f} s"
        )
    if options.out is not None and writer:
        out = Path(options.out)
        write_json(out / "run.json", record)
        if run.history.lr:
            plot_run(record, out / "run.png")
        with atomic_write(out / "model.safetensors") as handle:
            mx.save_safetensors(cast(BinaryIO, handle), dict(tree_flatten(run.model.parameters())))
        options.echo(f"wrote {out / 'run.json'}, {out / 'run.png'}, {out / 'model.safetensors'}")
    return run, record
