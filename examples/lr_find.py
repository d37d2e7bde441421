"""Pick OneCycle's ``max_lr`` with the LR range test, then train 1-cycle with it (digits, seconds on a CPU).

    python examples/lr_find.py                       # SGD + momentum, plot written to lr_find.png
    python examples/lr_find.py --optimizer adamw --epochs 15 --plot none

The range test sweeps the learning rate from 1e-7 to 10 over 100 updates (the model's weights are restored
bit for bit afterwards) and reports two suggestions: the steepest descent of the smoothed loss and its
minimum / 10 (fastai's conservative choice for a constant rate). 1-cycle warms up to its peak and anneals
away from it, so it tolerates the larger one: ``max_lr`` is the steepest-descent rate unless
``--suggestion min_div10``. The same, untouched model then trains 1-cycle with that peak, its momentum
(AdamW: ``beta1``) cycled inversely (``apply_one_cycle``). On digits, seed 0: SGD max_lr 0.29 -> test
accuracy 0.975 after 10 epochs (0.947 with min / 10 = 0.042).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
from common import MLP, evaluate, make_train_step
from data import load_digits_dataset

from mlx_lrsched.finder import lr_range_test
from mlx_lrsched.hyper import apply_one_cycle
from mlx_lrsched.one_cycle import OneCycle
from mlx_lrsched.training import compile_step

BATCH_SIZE = 64


def make_optimizer(name: str, learning_rate: object) -> optim.Optimizer:
    if name == "adamw":
        return optim.AdamW(learning_rate=learning_rate, weight_decay=1e-4)  # type: ignore[arg-type]
    return optim.SGD(learning_rate=learning_rate, momentum=0.9, nesterov=True)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lr_find.py", description=__doc__.splitlines()[0])
    parser.add_argument("--optimizer", choices=("sgd", "adamw"), default="sgd")
    parser.add_argument("--epochs", type=int, default=10, help="1-cycle training epochs (default 10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--suggestion",
        choices=("steepest", "min_div10"),
        default="steepest",
        help="which suggestion becomes max_lr: the steepest descent (default) or the minimum / 10",
    )
    parser.add_argument("--plot", default="lr_find.png", help="where to save the range-test plot, or 'none'")
    parser.add_argument("--device", choices=("cpu", "gpu"), default=None, help="default: MLX's default device")
    args = parser.parse_args(argv)
    if args.device is not None:
        mx.set_default_device(mx.gpu if args.device == "gpu" else mx.cpu)

    mx.random.seed(args.seed)
    data = load_digits_dataset()
    num_train = data.x_train.shape[0]
    model = MLP(data.x_train[0].size, 128, data.num_classes)

    def cross_entropy(model: nn.Module, x: mx.array, y: mx.array) -> mx.array:
        return nn.losses.cross_entropy(model(x), y, reduction="mean")

    order = mx.random.permutation(num_train)
    batches = [
        (data.x_train[order[i : i + BATCH_SIZE]], data.y_train[order[i : i + BATCH_SIZE]])
        for i in range(0, num_train - BATCH_SIZE + 1, BATCH_SIZE)
    ]
    found = lr_range_test(model, lambda lr: make_optimizer(args.optimizer, lr), cross_entropy, batches)
    max_lr = found.lr_steepest if args.suggestion == "steepest" else found.lr_min_div10
    print(
        f"range test ({len(found.lrs)} updates, {found.stop_reason}): steepest descent at {found.lr_steepest:.3g}, "
        f"minimum / 10 = {found.lr_min_div10:.3g} -> max_lr = {max_lr:.3g}"
    )
    if args.plot != "none":
        import matplotlib

        matplotlib.use("Agg")
        found.plot().figure.savefig(args.plot, dpi=120, bbox_inches="tight")
        print(f"plot: {args.plot}")

    steps_per_epoch = num_train // BATCH_SIZE
    schedule = OneCycle(max_lr, total_steps=args.epochs * steps_per_epoch)
    optimizer = apply_one_cycle(make_optimizer(args.optimizer, 0.0), schedule)
    step = compile_step(make_train_step(model, optimizer, BATCH_SIZE, accum=1), model, optimizer)
    for epoch in range(args.epochs):
        order = mx.random.permutation(num_train)
        for i in range(steps_per_epoch):
            loss, lr = step(data.x_train, data.y_train, order[i * BATCH_SIZE : (i + 1) * BATCH_SIZE])
        _, accuracy = evaluate(model, data.x_test, data.y_test)
        print(f"epoch {epoch + 1:2d}  lr {lr.item():.4f}  train loss {loss.item():.4f}  test acc {accuracy:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
