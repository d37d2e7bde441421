"""Training-step overhead of a schedule: a constant learning rate vs each schedule family, compiled and eager.

Two models, each trained with the same optimizer under six learning rates: a constant (a Python float, what
``mlx.optimizers`` does without a schedule) and one schedule per family (exponential, cyclic exponential,
1-cycle, warmup + cosine, reduce-on-plateau). Every variant has its own copy of the model (same initial
weights) and optimizer. Compiled steps go through :func:`mlx_lrsched.training.compile_step`; eager steps
call the same function uncompiled. Each round runs ``repeat`` steps of every variant (interleaved, rotated
order) and evaluates after every step; the table shows the median per-round ratio to the constant learning
rate with the IQR. Goal: <= 1.01 compiled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import mlx.core as mx
import mlx.nn
import mlx.optimizers as optim
from mlx.utils import tree_map

from mlx_lrsched.cyclic import CyclicExponentialDecay
from mlx_lrsched.decay import CosineDecay, ExponentialDecay
from mlx_lrsched.feedback import ReduceOnPlateau
from mlx_lrsched.one_cycle import OneCycle
from mlx_lrsched.training import compile_step
from mlx_lrsched.warmup import Warmup

from . import _common

nn: Any = mlx.nn  # the stubs of mlx.nn are partial

TOTAL_STEPS = 100_000
"""Length of the finite schedules: longer than any benchmark run, so every step is mid-schedule."""


def schedules(lr: float) -> dict[str, Callable[[], Any]]:
    """Factories of each variant's learning rate (a fresh object per model: plateau state is per optimizer)."""
    return {
        "constant": lambda: lr,
        "exponential": lambda: ExponentialDecay(lr, 0.99999),
        "cyclic exponential": lambda: CyclicExponentialDecay(lr, 0.9, period_steps=1_000),
        "1-cycle": lambda: OneCycle(lr, TOTAL_STEPS),
        "warmup + cosine": lambda: Warmup(CosineDecay(lr, TOTAL_STEPS - 1_000), 1_000),
        "plateau": lambda: ReduceOnPlateau(CosineDecay(lr, TOTAL_STEPS), factor=0.5, patience=5),
    }


class MLP(nn.Module):  # type: ignore[misc]
    """The digits example's model: 64 inputs, two hidden ReLU layers, 10 classes."""

    def __init__(self, hidden: int = 128) -> None:
        super().__init__()
        self.layers = [nn.Linear(64, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, 10)]

    def __call__(self, x: mx.array) -> mx.array:
        for layer in self.layers[:-1]:
            x = nn.relu(layer(x))
        logits: mx.array = self.layers[-1](x)
        return logits


class TinyTransformer(nn.Module):  # type: ignore[misc]
    """A 2-layer transformer encoder language model on random tokens."""

    def __init__(self, vocab: int = 256, dims: int = 64, heads: int = 4, layers: int = 2) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, dims)
        self.encoder = nn.TransformerEncoder(layers, dims, heads, mlp_dims=4 * dims)
        self.head = nn.Linear(dims, vocab)

    def __call__(self, tokens: mx.array) -> mx.array:
        mask = nn.MultiHeadAttention.create_additive_causal_mask(tokens.shape[1])
        logits: mx.array = self.head(self.encoder(self.embedding(tokens), mask))
        return logits


def workloads(quick: bool) -> list[dict[str, Any]]:
    """The models, their batches and optimizers."""
    mx.random.seed(0)
    digits_x = mx.random.normal((256, 64))
    digits_y = mx.random.randint(0, 10, (256,))
    tokens = mx.random.randint(0, 256, (4, 33))
    return [
        {
            "name": "MLP 64-128-128-10, batch 256, SGD momentum",
            "model": MLP,
            "optimizer": lambda lr: optim.SGD(learning_rate=lr, momentum=0.9),
            "lr": 0.05,
            "full": (31, 20),
            "batch": (digits_x, digits_y),
            "loss": lambda model, x, y: nn.losses.cross_entropy(model(x), y, reduction="mean"),
        },
        {
            "name": "2-layer transformer (d=64, 4 heads), 4 x 32 tokens, AdamW",
            "model": TinyTransformer,
            "optimizer": lambda lr: optim.AdamW(learning_rate=lr),
            "lr": 1e-3,
            "full": (21, 10),
            "batch": (tokens[:, :-1], tokens[:, 1:]),
            "loss": lambda model, x, y: nn.losses.cross_entropy(model(x), y, reduction="mean"),
        },
    ]


def make_variant(workload: dict[str, Any], schedule: Any, weights: Any, compiled: bool) -> Callable[[], None]:
    """One training step of a fresh copy of the model under ``schedule``, evaluated; returns the step."""
    model = workload["model"]()
    model.update(tree_map(lambda w: mx.array(w), weights))
    learning_rate = schedule()
    optimizer = workload["optimizer"](learning_rate)
    if isinstance(learning_rate, ReduceOnPlateau):
        learning_rate.attach(optimizer)
    loss_and_grad = nn.value_and_grad(model, workload["loss"])
    x, y = workload["batch"]

    def train_step(x: mx.array, y: mx.array) -> mx.array:
        loss, grads = loss_and_grad(model, x, y)
        optimizer.update(model, grads)
        return loss  # type: ignore[no-any-return]

    optimizer.init(model.trainable_parameters())
    step = compile_step(train_step, model, optimizer) if compiled else train_step
    state = [model.state, optimizer.state]

    def run() -> None:
        loss = step(x, y)
        mx.eval(loss, state)

    return run


def measure(quick: bool) -> list[dict[str, Any]]:
    """Time every workload x mode x schedule; one result dict per workload and mode."""
    results = []
    for workload in workloads(quick):
        for compiled in (True, False):
            rounds, repeat = (3, 2) if quick else workload["full"]
            reference = workload["model"]()
            mx.eval(reference.parameters())
            weights = reference.parameters()
            variants = {
                name: make_variant(workload, factory, weights, compiled)
                for name, factory in schedules(workload["lr"]).items()
            }
            for run in variants.values():  # compile and warm up outside the timed rounds
                for _ in range(2):
                    run()
            start = time.perf_counter()
            samples = _common.interleaved(variants, rounds=rounds, repeat=repeat, warmup=0 if quick else 1)
            row: dict[str, Any] = {
                "workload": workload["name"],
                "mode": "compiled" if compiled else "eager",
                "rounds": rounds,
                "steps_per_round": repeat,
                "seconds": time.perf_counter() - start,
                "constant_step_us": _common.median(samples["constant"]) * 1e6,
                "schedules": {},
            }
            for name in variants:
                if name == "constant":
                    continue
                row["schedules"][name] = {
                    "step_us": _common.median(samples[name]) * 1e6,
                    "ratio": _common.paired_ratio(samples[name], samples["constant"]),
                }
            results.append(row)
    return results


def table(results: Sequence[dict[str, Any]]) -> str:
    """Rows: workload and mode; columns: the constant step time and each family's ratio [IQR]."""
    names = list(results[0]["schedules"])
    headers = ["model", "mode", "constant lr step", *names]
    rows = []
    for row in results:
        cells = [row["workload"], row["mode"], _common.format_time(row["constant_step_us"] * 1e-6)]
        cells += [_common.format_ratio(row["schedules"][name]["ratio"]) for name in names]
        rows.append(cells)
    return _common.markdown_table(headers, rows)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the table, write ``overhead.json``; return the JSON payload."""
    args = _common.parser(__doc__.splitlines()[0]).parse_args(argv)
    results = measure(args.quick)
    title = "Training-step time with a schedule / with a constant learning rate (median ratio [IQR])"
    goal = "compiled step time ratio schedule / constant <= 1.01"
    return _common.report(args, "overhead", title, table(results), goal=goal, results=results)


if __name__ == "__main__":
    main()
