"""Train a classifier with a learning-rate schedule from mlx-lrsched (1-cycle on digits by default).

    python examples/train.py                                   # 1-cycle, MLP, digits: ~0.97 in seconds
    python examples/train.py --schedule cyclic_exponential --out runs/ced
    python examples/train.py --dataset mnist --model cnn --epochs 5 --checkpoint-every 500 --out runs/mnist
    python examples/train.py --dataset mnist --model cnn --epochs 5 --out runs/mnist --resume

Every epoch prints the learning rate at its first update (seed 001's per-epoch print), the mean training
loss and the test loss and accuracy. ``--out DIR`` writes ``run.json`` (config, schedule, per-epoch
metrics, the learning rate and loss of every update), ``run.png`` and ``model.safetensors``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from data import DownloadError
from runner import add_arguments, config_from_args, options_from_args, run_training, schedule_help, select_device


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="train.py",
        description="Train an MLP or a small CNN with an mlx-lrsched learning-rate schedule.",
        epilog=schedule_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    options = options_from_args(parser, args)
    select_device(args.device)
    try:
        run_training(config_from_args(args), options)
    except (ValueError, DownloadError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
