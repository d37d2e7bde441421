"""The examples' shared training code: configuration, models, the compiled loop, checkpoints.

One loop serves every script. It trains an ``mlx.nn`` model with an ``mlx.optimizers`` optimizer whose
``learning_rate`` is an ``mlx_lrsched`` schedule, the update compiled with
:func:`mlx_lrsched.training.compile_step` (model, optimizer and random state carried through
``mx.compile``), on a dataset held in ``mx.array``s and batched by index gathers on the device.

Randomness is a pure function of ``(seed, position)``: the data order of epoch ``e`` comes from the key
``[seed, 2**31 + e]`` and the dropout masks of update ``i`` from the key ``[seed, i]`` (MLX offers no setter
for its global key, so the loop reseeds it before every update). A checkpoint therefore only needs the
weights, the optimizer state (its ``step`` included) and the position in the run, and a resumed run draws
exactly the random numbers the uninterrupted run would have drawn. Its metadata holds a SHA-256 of every
tensor and metadata entry, so a truncated or altered checkpoint is refused instead of resumed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
from data import Dataset, atomic_write
from mlx.utils import tree_flatten, tree_map, tree_unflatten

from mlx_lrsched import OneCycle, Schedule, compile_step, schedule_momentum

CHECKPOINT_FORMAT = "mlx-lrsched-example-checkpoint/1"
CHECKSUM_KEY = "sha256"
"""Metadata entry holding :func:`checkpoint_checksum` (checkpoints written before it have none)."""
MODELS = ("mlp", "cnn")
OPTIMIZERS = ("sgd", "adamw")
DEFAULT_LR = {"sgd": 0.2, "adamw": 3e-3}
"""Peak learning rate when ``--lr`` is not given."""

_DATA_STREAM = 1 << 31


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines the numbers a run produces (a resumed run must match it exactly)."""

    schedule: str = "one_cycle"
    dataset: str = "digits"
    model: str = "mlp"
    hidden: int = 128
    dropout: float = 0.0
    optimizer: str = "sgd"
    lr: float = DEFAULT_LR["sgd"]
    momentum: float = 0.9
    cycle_momentum: bool = True  # with one_cycle: momentum (AdamW beta1) 0.95 -> 0.85 -> 0.95, inverse to the rate
    weight_decay: float = 0.0
    epochs: int = 20
    batch_size: int = 64
    accum: int = 1
    seed: int = 0
    compile: bool = True


@dataclass(frozen=True)
class RunOptions:
    """Where and how a run executes; changing these never changes its numbers."""

    data_dir: str | None = None
    out: str | None = None
    checkpoint: str | None = None
    checkpoint_every: int = 0
    resume: bool = False
    stop_after_steps: int | None = None
    progress: bool | None = None  # None: a bar only when stderr is a terminal
    echo: Callable[[str], None] = print

    @property
    def checkpoint_path(self) -> Path | None:
        if self.checkpoint is not None:
            return Path(self.checkpoint)
        return Path(self.out) / "checkpoint.safetensors" if self.out is not None else None


# ------------------------------------------------------------------------------------------------ models


class MLP(nn.Module):
    """Flatten, then ``depth`` ReLU layers of ``hidden`` units (with dropout), then a linear classifier."""

    def __init__(self, in_features: int, hidden: int, num_classes: int, dropout: float = 0.0, depth: int = 2):
        super().__init__()
        sizes = [in_features] + [hidden] * depth
        self.layers = [nn.Linear(a, b) for a, b in itertools.pairwise(sizes)]
        self.head = nn.Linear(hidden, num_classes)
        self.dropout = nn.Dropout(dropout)

    def __call__(self, x: mx.array) -> mx.array:
        x = x.reshape(x.shape[0], -1)
        for layer in self.layers:
            x = self.dropout(nn.relu(layer(x)))
        return self.head(x)


class CNN(nn.Module):
    """Two 3x3 conv + ReLU + 2x2 max-pool blocks (16, 32 channels), a hidden layer, a classifier."""

    def __init__(self, image_shape: tuple[int, int, int], hidden: int, num_classes: int, dropout: float = 0.0):
        super().__init__()
        height, width, channels = image_shape
        self.conv1 = nn.Conv2d(channels, 16, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.fc = nn.Linear((height // 4) * (width // 4) * 32, hidden)
        self.head = nn.Linear(hidden, num_classes)
        self.dropout = nn.Dropout(dropout)

    def __call__(self, x: mx.array) -> mx.array:
        x = self.pool(nn.relu(self.conv1(x)))
        x = self.pool(nn.relu(self.conv2(x)))
        x = self.dropout(nn.relu(self.fc(x.reshape(x.shape[0], -1))))
        return self.head(x)


def build_model(config: TrainConfig, dataset: Dataset) -> nn.Module:
    height, width, channels = dataset.image_shape
    if config.model == "cnn":
        return CNN(dataset.image_shape, config.hidden, dataset.num_classes, config.dropout)
    return MLP(height * width * channels, config.hidden, dataset.num_classes, config.dropout)


def build_optimizer(config: TrainConfig, schedule: Schedule) -> optim.Optimizer:
    optimizer: optim.Optimizer
    if config.optimizer == "adamw":
        optimizer = optim.AdamW(learning_rate=schedule, weight_decay=config.weight_decay)
    else:
        optimizer = optim.SGD(learning_rate=schedule, momentum=config.momentum, weight_decay=config.weight_decay)
    if config.cycle_momentum and isinstance(schedule, OneCycle):
        # PyTorch OneCycleLR(cycle_momentum=True): low momentum while the rate is high (Smith 2018)
        schedule_momentum(optimizer, schedule.momentum(base_momentum=0.85, max_momentum=0.95))
    return optimizer


def count_parameters(model: nn.Module) -> int:
    return sum(value.size for _, value in tree_flatten(model.parameters()))


# -------------------------------------------------------------------------------------------------- loop


@dataclass
class History:
    """What a run has logged so far: the learning rate and loss of every update, metrics of every epoch."""

    lr: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    epochs: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


def _seed(seed: int, stream: int, index: int) -> int:
    """The 64-bit seed whose MLX key is ``[seed, stream + index]``: one independent key per position."""
    return (seed << 32) | (stream + index)


def epoch_order(seed: int, epoch: int, num_examples: int) -> mx.array:
    """The example order of ``epoch``: a permutation drawn on the device from its own key."""
    return mx.random.permutation(num_examples, key=mx.random.key(_seed(seed, _DATA_STREAM, epoch)))


def make_train_step(
    model: nn.Module,
    optimizer: optim.Optimizer,
    batch_size: int,
    accum: int,
    all_mean: Callable[[Any], Any] | None = None,
) -> Callable[..., Any]:
    """One optimizer update from ``accum`` micro-batches of ``batch_size`` examples gathered by index.

    The gradient is the mean of the micro-batch gradients, so the schedule advances once per ``accum``
    micro-batches: it counts optimizer updates. Returns ``(mean loss, learning rate used)``.
    ``all_mean`` (data-parallel runs) maps the tree ``(mean loss, gradients)`` to its mean over every
    process before the update, so each process applies the update of the whole batch.
    """

    def loss_fn(model: nn.Module, x: mx.array, y: mx.array) -> mx.array:
        return nn.losses.cross_entropy(model(x), y, reduction="mean")

    loss_and_grad = nn.value_and_grad(model, loss_fn)

    def train_step(x_all: mx.array, y_all: mx.array, indices: mx.array) -> tuple[mx.array, mx.array]:
        indices = indices.reshape(accum, batch_size)
        total_loss, total_grads = mx.array(0.0), None
        for micro in range(accum):
            loss, grads = loss_and_grad(model, x_all[indices[micro]], y_all[indices[micro]])
            total_loss = total_loss + loss
            total_grads = grads if total_grads is None else tree_map(mx.add, total_grads, grads)
        if accum > 1:
            total_grads = tree_map(lambda g: g / accum, total_grads)
        mean_loss = total_loss / accum
        if all_mean is not None:
            mean_loss, total_grads = all_mean((mean_loss, total_grads))
        optimizer.update(model, total_grads)
        # the optimizer stored schedule(step) before incrementing step: the rate this update used
        return mean_loss, optimizer.state["learning_rate"]

    return train_step


@dataclass(frozen=True)
class DataParallel:
    """This process's part in a data-parallel run: rank ``rank`` of ``size`` (the default: alone).

    Every micro-batch of ``--batch-size`` examples (the global batch) is cut into ``size`` contiguous
    slices and rank ``r`` trains on slice ``r``; ``all_mean`` averages ``(loss, gradients)`` over the ranks
    (see :func:`make_train_step`). The data order is the same on every rank, the dropout key is not.
    """

    rank: int = 0
    size: int = 1
    all_mean: Callable[[Any], Any] | None = None

    def shard(self, indices: mx.array, accum: int) -> mx.array:
        """This rank's slice of each of the ``accum`` micro-batches in ``indices``."""
        if self.size == 1:
            return indices
        return indices.reshape(accum, self.size, -1)[:, self.rank].reshape(-1)

    def rank_seed(self, seed: int) -> int:
        """A seed of this rank's own derived from ``seed`` (``seed`` itself when alone)."""
        if self.size == 1:
            return seed
        high, low = cast(list[int], mx.random.split(mx.random.key(seed), self.size)[self.rank].tolist())
        return (high << 32) | low  # mx.random.seed(s) sets the key [s >> 32, s & 0xFFFFFFFF]


ALONE = DataParallel()


def evaluate(model: nn.Module, x: mx.array, y: mx.array, chunk: int = 4096) -> tuple[float, float]:
    """Mean cross-entropy and accuracy on ``(x, y)``, in eval mode (no dropout)."""
    model.train(False)
    loss_sum, correct = mx.array(0.0), mx.array(0)
    for start in range(0, x.shape[0], chunk):
        logits = model(x[start : start + chunk])
        labels = y[start : start + chunk]
        loss_sum = loss_sum + nn.losses.cross_entropy(logits, labels, reduction="sum")
        correct = correct + (mx.argmax(logits, axis=1) == labels).sum()
    model.train(True)
    return float(loss_sum.item()) / x.shape[0], int(correct.item()) / x.shape[0]


def plan(config: TrainConfig, num_train: int) -> tuple[int, int]:
    """``(updates per epoch, total updates)``; the last incomplete batch of every epoch is dropped."""
    per_update = config.batch_size * config.accum
    steps_per_epoch = num_train // per_update
    if steps_per_epoch == 0:
        raise ValueError(
            f"--batch-size {config.batch_size} x --accum {config.accum} = {per_update} examples per update, "
            f"more than the {num_train} training examples"
        )
    return steps_per_epoch, steps_per_epoch * config.epochs


@dataclass
class Run:
    """A run's moving parts, built from its config and dataset."""

    config: TrainConfig
    dataset: Dataset
    schedule: Schedule
    model: nn.Module
    optimizer: optim.Optimizer
    steps_per_epoch: int
    total_steps: int
    history: History = field(default_factory=History)
    step: int = 0

    @classmethod
    def create(cls, config: TrainConfig, dataset: Dataset, build_schedule: Callable[..., Schedule]) -> Run:
        steps_per_epoch, total_steps = plan(config, dataset.x_train.shape[0])
        schedule = build_schedule(config.schedule, config.lr, total_steps, steps_per_epoch)
        mx.random.seed(config.seed)
        model = build_model(config, dataset)
        mx.eval(model.parameters())
        optimizer = build_optimizer(config, schedule)
        optimizer.init(model.trainable_parameters())
        return cls(config, dataset, schedule, model, optimizer, steps_per_epoch, total_steps)

    # -- checkpoints ---------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Weights, optimizer state (``step`` included) and the run's position and history, atomically.

        The metadata carries :func:`checkpoint_checksum` of everything else, which :meth:`load` verifies.
        """
        arrays: dict[str, mx.array] = {f"model.{k}": v for k, v in tree_flatten(self.model.parameters())}
        arrays |= {f"optimizer.{k}": v for k, v in tree_flatten(self.optimizer.state)}
        metadata = {
            "format": CHECKPOINT_FORMAT,
            "config": json.dumps(dataclasses.asdict(self.config)),
            "step": str(self.step),
            "history": json.dumps(dataclasses.asdict(self.history)),
        }
        metadata[CHECKSUM_KEY] = checkpoint_checksum(arrays, metadata)
        with atomic_write(path) as handle:
            mx.save_safetensors(cast(BinaryIO, handle), arrays, metadata=metadata)

    def load(self, path: Path, echo: Callable[[str], None] = print) -> None:
        """Restore a checkpoint written by :meth:`save` for the same config, in place.

        Raises :class:`CheckpointError` (a ``ValueError`` with a one-line message) for a file that is not
        a readable checkpoint (empty, truncated) or whose checksum does not match (a changed byte); the file
        is never modified. A checkpoint without a checksum (written before checksums) loads with a note.
        """
        try:
            loaded = mx.load(str(path), format="safetensors", return_metadata=True)
        except (RuntimeError, OSError, ValueError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise CheckpointError(
                f"cannot resume {path}: not a readable checkpoint (empty, truncated or damaged: {reason}); "
                "the file was left untouched"
            ) from None
        arrays, metadata = cast(tuple[dict[str, mx.array], dict[str, str]], loaded)
        if metadata.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{path} is not a checkpoint of these examples (format {metadata.get('format')!r})")
        stored = metadata.get(CHECKSUM_KEY)
        if stored is None:
            echo(f"note: {path} has no checksum (written before checksums were added); loading it unverified")
        elif stored != checkpoint_checksum(arrays, metadata):
            raise CheckpointError(
                f"cannot resume {path}: checksum mismatch, the checkpoint is corrupted (a changed byte in its "
                "weights, optimizer state or metadata); the file was left untouched"
            )
        try:
            saved = json.loads(metadata["config"])
            step, history = int(metadata["step"]), History(**json.loads(metadata["history"]))
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointError(f"cannot resume {path}: its metadata is damaged ({error!r})") from None
        ours = dataclasses.asdict(self.config)
        differ = [f"{k}: checkpoint {saved.get(k)!r}, now {v!r}" for k, v in ours.items() if saved.get(k) != v]
        if differ:
            raise ValueError(f"cannot resume {path}: the run's settings differ:\n  " + "\n  ".join(differ))
        weights = [(k.removeprefix("model."), v) for k, v in arrays.items() if k.startswith("model.")]
        self.model.load_weights(weights, strict=True)
        _assign_in_place(
            self.optimizer.state, {k.removeprefix("optimizer."): v for k, v in arrays.items() if k[:10] == "optimizer."}
        )
        self.step = step
        self.history = history
        if int(self.optimizer.step.item()) != self.step:
            raise ValueError(f"{path} is inconsistent: optimizer step {self.optimizer.step.item()} != {self.step}")
        mx.eval(self.model.parameters(), self.optimizer.state)


class CheckpointError(ValueError):
    """A checkpoint file that cannot be resumed from: unreadable, or its checksum does not match."""


def checkpoint_checksum(arrays: dict[str, mx.array], metadata: dict[str, str]) -> str:
    """Hex SHA-256 over every tensor's name, dtype, shape and bytes and every other metadata entry.

    In a fixed order (sorted names), each field length-prefixed so no two different checkpoints hash the
    same stream; the :data:`CHECKSUM_KEY` entry itself is left out.
    """
    digest = hashlib.sha256()

    def field(data: bytes) -> None:
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)

    for name in sorted(arrays):
        value = arrays[name]
        field(b"tensor")
        field(name.encode())
        field(str(value.dtype).encode())
        field(json.dumps(list(value.shape)).encode())
        field(memoryview(cast(Any, value)).tobytes())  # C-order bytes of the (evaluated) array, bfloat16 included
    for key in sorted(metadata):
        if key != CHECKSUM_KEY:
            field(b"metadata")
            field(key.encode())
            field(metadata[key].encode())
    return digest.hexdigest()


def _assign_in_place(tree: dict[str, Any], flat: dict[str, mx.array]) -> None:
    """Write ``flat`` (``tree_flatten`` keys) into the existing containers of ``tree``, checking the match.

    In place, because a compiled step holds references to these containers.
    """
    expected = {k: v.shape for k, v in tree_flatten(tree)}
    got = {k: v.shape for k, v in flat.items()}
    if expected != got:
        missing, extra = sorted(expected.keys() - got.keys()), sorted(got.keys() - expected.keys())
        raise ValueError(f"checkpoint optimizer state does not match: missing {missing}, unexpected {extra}")
    for key, value in tree_flatten(tree_unflatten(list(flat.items()))):
        *parents, leaf = key.split(".")
        node: Any = tree
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(leaf)] = value
        else:
            node[leaf] = value


def _progress_bar(total: int, initial: int, desc: str, enabled: bool | None) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is optional: no bar, same output otherwise
        return None
    # disable=None: tqdm turns itself off when stderr is not a terminal (CI logs, pipes)
    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit="step",
        leave=False,
        disable=None if enabled is None else not enabled,
    )


def format_epoch(metrics: dict[str, float], epochs: int) -> str:
    """Seed 001's per-epoch print, with the loss and accuracy beside the learning rate."""
    return (
        f"Epoch {int(metrics['epoch']):02d}/{epochs:02d}: learning rate = {metrics['lr_first']:.3e}"
        f"  train loss {metrics['train_loss']:.4f}  test loss {metrics['test_loss']:.4f}"
        f"  test acc {metrics['test_accuracy']:.4f}  ({metrics['seconds']:.2f} s)"
    )


def fit(run: Run, options: RunOptions, checkpoint: Path | None = None, parallel: DataParallel = ALONE) -> bool:
    """Train ``run`` from its current step to the end (or ``options.stop_after_steps``); True when complete."""
    config, data = run.config, run.dataset
    local_batch = config.batch_size // parallel.size
    train_step = make_train_step(run.model, run.optimizer, local_batch, config.accum, parallel.all_mean)
    # the one-line switch between the compiled step and the eager one (--no-compile)
    step_fn = compile_step(train_step, run.model, run.optimizer) if config.compile else train_step
    state = [run.model.state, run.optimizer.state]
    per_update = config.batch_size * config.accum
    clock = time.perf_counter() - run.history.seconds  # wall time carries over a resume

    def save() -> None:
        if checkpoint is not None:
            run.history.seconds = time.perf_counter() - clock
            run.save(checkpoint)

    for epoch in range(len(run.history.epochs), config.epochs):
        epoch_started = time.perf_counter()
        order = epoch_order(config.seed, epoch, data.x_train.shape[0])
        first = run.step - epoch * run.steps_per_epoch  # > 0 when resuming inside this epoch
        bar = _progress_bar(run.steps_per_epoch, first, f"epoch {epoch + 1}/{config.epochs}", options.progress)
        for batch in range(first, run.steps_per_epoch):
            mx.random.seed(parallel.rank_seed(_seed(config.seed, 0, run.step)))  # this update's dropout key
            indices = parallel.shard(order[batch * per_update : (batch + 1) * per_update], config.accum)
            loss, lr = step_fn(data.x_train, data.y_train, indices)
            mx.eval(loss, lr, state)
            run.history.loss.append(loss.item())
            run.history.lr.append(lr.item())
            run.step += 1
            if bar is not None:
                bar.update()
                if batch % 10 == 0:
                    bar.set_postfix(loss=f"{run.history.loss[-1]:.4f}", lr=f"{run.history.lr[-1]:.2e}", refresh=False)
            stopping = options.stop_after_steps is not None and run.step >= options.stop_after_steps
            if stopping or (options.checkpoint_every and run.step % options.checkpoint_every == 0):
                save()
            if stopping:
                if bar is not None:
                    bar.close()
                options.echo(f"stopped after update {run.step} of {run.total_steps}; resume from {checkpoint}")
                return False
        if bar is not None:
            bar.close()
        test_loss, test_accuracy = evaluate(run.model, data.x_test, data.y_test)
        window = slice(epoch * run.steps_per_epoch, (epoch + 1) * run.steps_per_epoch)
        metrics = {
            "epoch": epoch + 1,
            "lr_first": run.history.lr[window][0],
            "lr_last": run.history.lr[window][-1],
            "train_loss": math.fsum(run.history.loss[window]) / run.steps_per_epoch,
            "test_loss": test_loss,
            "test_accuracy": test_accuracy,
            "seconds": time.perf_counter() - epoch_started,
        }
        run.history.epochs.append(metrics)
        run.history.seconds = time.perf_counter() - clock
        options.echo(format_epoch(metrics, config.epochs))
    return True
