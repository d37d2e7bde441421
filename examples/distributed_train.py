"""Data-parallel training over several processes or Macs with ``mx.distributed``, started by ``mlx.launch``.

    mlx.launch -n 2 --backend ring python examples/distributed_train.py               # 2 processes here
    mlx.launch --hostfile hosts.json python examples/distributed_train.py --dataset mnist --out runs/dp
    python examples/distributed_train.py                                               # no launcher: 1 process

The flags and schedules are ``train.py``'s, and so is the loop (``common.fit``). ``--batch-size`` is the
global batch: each of the N ranks trains on a contiguous 1/N of every batch, then one
``mx.distributed.all_sum`` over the concatenated gradients (and the loss) averages them across the ranks,
so every rank applies the same update to the same weights. The optimizer's step, which the schedule
reads, is therefore the same number on every rank, and so is the learning rate. Rank 0 prints, writes
checkpoints and ``--out``; ``--rank-dir DIR`` makes every rank write what it ended with, to compare.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO, cast

import mlx.core as mx
from common import DataParallel
from data import DownloadError, atomic_write
from mlx.nn.utils import average_gradients
from mlx.utils import tree_flatten
from runner import add_arguments, config_from_args, execute_run, options_from_args, schedule_help, select_device

BUCKET_BYTES = 32 * 1024**2
"""Gradients are concatenated into buffers of this size (the last one smaller), one ``all_sum`` each (MLX's default)."""


def all_mean(group: mx.distributed.Group, bucket_bytes: int = BUCKET_BYTES) -> Callable[[Any], Any]:
    """The mean over the ranks of ``group`` of a tree of arrays, summed in a few ``all_sum`` calls.

    ``mlx.nn.average_gradients`` flattens the tree, concatenates its leaves into buffers that close once
    they hold ``bucket_bytes`` (the example models fit in one: the default MLP's 26,122 parameters are 104 kB),
    sums each buffer over the ranks with one ``mx.distributed.all_sum``, divides by the number of ranks and
    cuts the result back into the tree. The leaves must share one dtype to be concatenated (here all are
    float32); mixed dtypes fall back to one call per array.
    """
    return functools.partial(average_gradients, group=group, all_reduce_size=bucket_bytes)


def batch_per_rank(batch_size: int, ranks: int) -> int:
    """``batch_size / ranks``, refusing a global batch that does not split evenly over the ranks."""
    if batch_size % ranks:
        raise ValueError(
            f"--batch-size {batch_size} is the global batch and must be a multiple of the {ranks} ranks "
            f"(each rank trains on batch-size / ranks examples); try --batch-size {ranks * max(1, batch_size // ranks)}"
        )
    return batch_size // ranks


def write_rank_outputs(folder: Path, rank: int, record: dict[str, Any], parameters: dict[str, Any]) -> None:
    """``folder/rank<r>.json`` (the learning rate and loss of every update), ``rank<r>.safetensors`` (weights)."""
    with atomic_write(folder / f"rank{rank}.json", "w") as handle:
        json.dump({"rank": rank, "lr": record["lr"], "loss": record["loss"], "epochs": record["epochs"]}, handle)
    with atomic_write(folder / f"rank{rank}.safetensors") as handle:
        mx.save_safetensors(cast(BinaryIO, handle), dict(tree_flatten(parameters)))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="distributed_train.py",
        description="Data-parallel training with an mlx-lrsched schedule; launch it with mlx.launch.",
        epilog=schedule_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.add_argument(
        "--rank-dir",
        default=None,
        metavar="DIR",
        help="every rank writes DIR/rank<r>.json (its learning rate and loss of every update) and "
        "DIR/rank<r>.safetensors (its final weights), to check that the ranks agree",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    group = mx.distributed.init()  # without a launcher: a group of one
    rank, ranks = group.rank(), group.size()
    options = options_from_args(parser, args)
    if rank == 0:
        options = dataclasses.replace(options, echo=functools.partial(print, flush=True))
    else:
        options = dataclasses.replace(options, echo=lambda line: None, progress=False)
    select_device(args.device)
    try:
        config = config_from_args(args)
        local_batch = batch_per_rank(config.batch_size, ranks)
        parallel = DataParallel(rank, ranks, all_mean(group) if ranks > 1 else None)
        options.echo(
            f"data parallel: {ranks} rank{'s' if ranks > 1 else ''} x {local_batch} examples"
            f" = {config.batch_size} per batch (--batch-size is the global batch)"
        )
        run, record = execute_run(config, options, parallel)
    except (ValueError, DownloadError) as error:
        print(f"error (rank {rank}): {error}", file=sys.stderr)
        return 2
    if args.rank_dir is not None:
        write_rank_outputs(Path(args.rank_dir), rank, record, run.model.parameters())
    return 0


if __name__ == "__main__":
    sys.exit(main())
