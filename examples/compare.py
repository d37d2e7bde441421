"""Train several schedules with the same seed, model and budget; write a table and one figure.

    python examples/compare.py --out runs/compare        # constant, exponential, cyclic_exponential, one_cycle
    python examples/compare.py --schedules cosine,one_cycle --epochs 10 --out runs/short

Writes ``DIR/compare.md`` (final and best test accuracy, final training loss, wall time per schedule),
``DIR/compare.png`` (every learning rate in one panel, every loss curve in another, test accuracy in a
third) and ``DIR/<schedule>/run.json`` for each run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from common import RunOptions
from data import DownloadError, atomic_write
from report import comparison_table, plot_comparison, write_json
from runner import add_arguments, config_from_args, run_training, schedule_help, select_device
from schedules import SCHEDULES

DEFAULT_SCHEDULES = ("constant", "exponential", "cyclic_exponential", "one_cycle")


def _schedule_list(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in SCHEDULES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown schedule {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"valid schedules: {', '.join(SCHEDULES)}"
        )
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="compare.py",
        description="Compare learning-rate schedules on one model, dataset, seed and budget.",
        epilog=schedule_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--schedules",
        type=_schedule_list,
        default=DEFAULT_SCHEDULES,
        metavar="A,B,...",
        help=f"comma-separated (default {','.join(DEFAULT_SCHEDULES)})",
    )
    add_arguments(parser, schedule=False)
    parser.set_defaults(out="runs/compare")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.resume or args.checkpoint_every or args.stop_after_steps or args.checkpoint:
        parser.error("compare.py does not checkpoint; use train.py for checkpointed runs")
    select_device(args.device)
    out = Path(args.out)
    records = []
    try:
        for name in args.schedules:
            config = config_from_args(args, schedule=name)
            print(f"== {name}", flush=True)
            options = RunOptions(data_dir=args.data_dir, out=str(out / name), progress=args.progress)
            records.append(run_training(config, options))
    except (ValueError, DownloadError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    table = comparison_table(records)
    shared = config_from_args(args, schedule="-")
    header = (
        f"{shared.dataset}, {shared.model}, {shared.optimizer}, peak lr {shared.lr:g}, "
        f"{shared.epochs} epochs, batch {shared.batch_size} x accum {shared.accum}, seed {shared.seed}\n\n"
    )
    with atomic_write(out / "compare.md", "w") as handle:
        handle.write(header + table)
    write_json(out / "compare.json", [{k: r[k] for k in r if k not in ("lr", "loss")} for r in records])
    plot_comparison(records, out / "compare.png")
    print("\n" + header + table)
    print(f"wrote {out / 'compare.md'}, {out / 'compare.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
