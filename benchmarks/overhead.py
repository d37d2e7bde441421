"""Training-step overhead of a schedule: a constant learning rate vs each schedule family, compiled and eager.

Two models, each trained with the same optimizer under six learning rates: a constant (a Python float, what
``mlx.optimizers`` does without a schedule) and one schedule per family (exponential, cyclic exponential,
1-cycle, warmup + cosine, reduce-on-plateau). Every variant has its own copy of the model (same initial
weights) and optimizer. Compiled steps go through :func:`mlx_lrsched.training.compile_step`; eager steps
call the same function uncompiled. Each round runs ``repeat`` steps of every variant (interleaved, rotated
order) and evaluates after every step; the table shows the median per-round ratio to the constant learning
rate with the IQR. Goal: <= 1.01 compiled.

A second table isolates the schedule's own cost in a step: a tiny model (an 8-32-1 MLP, batch 32, plain
SGD), where the step itself is a few tens of microseconds, trained under a constant learning rate, under
ours and under the ``mlx.optimizers`` built-in of the same schedule (the pairs of ``_pairs.py``), all
interleaved. The *marginal* cost is the per-round difference of step times, schedule minus constant, in
microseconds per step (median [IQR]). Goal: ours <= the built-in's.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from typing import Any

import mlx.core as mx
import mlx.nn
import mlx.optimizers as optim
from mlx.utils import tree_flatten, tree_map

from mlx_lrsched.cyclic import CyclicExponentialDecay
from mlx_lrsched.decay import CosineDecay, ExponentialDecay
from mlx_lrsched.feedback import ReduceOnPlateau
from mlx_lrsched.one_cycle import OneCycle
from mlx_lrsched.training import compile_step
from mlx_lrsched.warmup import Warmup

from . import _common, _pairs, kernels

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
            "short": "MLP",
            "model": MLP,
            "optimizer": lambda lr: optim.SGD(learning_rate=lr, momentum=0.9),
            "lr": 0.05,
            "full": (31, 20),
            "batch": (digits_x, digits_y),
            "loss": lambda model, x, y: nn.losses.cross_entropy(model(x), y, reduction="mean"),
        },
        {
            "name": "2-layer transformer (d=64, 4 heads), 4 x 32 tokens, AdamW",
            "short": "transformer",
            "model": TinyTransformer,
            "optimizer": lambda lr: optim.AdamW(learning_rate=lr),
            "lr": 1e-3,
            "full": (21, 10),
            "batch": (tokens[:, :-1], tokens[:, 1:]),
            "loss": lambda model, x, y: nn.losses.cross_entropy(model(x), y, reduction="mean"),
        },
    ]


def make_variant(workload: dict[str, Any], schedule: Any, weights: Any, compiled: bool) -> Variant:
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

    def outputs() -> list[Any]:
        return [step(x, y), *(pair[1] for pair in tree_flatten(state))]

    return Variant(run, outputs)


class Variant:
    """One variant's training step (call it to run one step, evaluated) and the graph of one step."""

    def __init__(self, run: Callable[[], None], outputs: Callable[[], list[Any]]) -> None:
        self.run = run
        self.outputs = outputs

    def __call__(self) -> None:
        self.run()

    def kernels(self) -> int:
        """Kernels one step launches: the primitives of the graph of its loss and its new state (it runs a step)."""
        count = len(kernels.graph_labels(*self.outputs()))
        self.run()  # evaluate the step the graph was taken of
        return count


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
                "model": workload["short"],
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


class TinyMLP(nn.Module):  # type: ignore[misc]
    """8 inputs, 32 hidden ReLU units, 1 output: a step that costs little besides its launches."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = [nn.Linear(8, 32), nn.Linear(32, 1)]

    def __call__(self, x: mx.array) -> mx.array:
        out: mx.array = self.layers[1](nn.relu(self.layers[0](x)))
        return out


TINY_PAIRS = ("exponential", "cosine", "warmup + cosine (Warmup)", "1-cycle (mlx: join of 2 cosines)")
"""The pairs of :func:`_pairs.call_pairs` measured in the tiny model's step."""


def _same(value: Any) -> Any:
    return value


def tiny_schedules() -> dict[str, Callable[[], Any]]:
    """``constant`` and, per pair, ``ours/<label>`` and ``mlx/<label>``, each a factory of a learning rate."""
    factories: dict[str, Callable[[], Any]] = {"constant": lambda: 0.05}
    for label, ours, builtin in _pairs.call_pairs(total=TOTAL_STEPS, warmup=1_000):
        if label in TINY_PAIRS:
            factories[f"ours/{label}"] = functools.partial(_same, ours)
            factories[f"mlx/{label}"] = functools.partial(_same, builtin)
    return factories


def measure_tiny(quick: bool) -> list[dict[str, Any]]:
    """Marginal microseconds per step of each schedule, ours and the built-in, compiled and eager."""
    mx.random.seed(1)
    workload = {
        "model": TinyMLP,
        "optimizer": lambda lr: optim.SGD(learning_rate=lr),
        "batch": (mx.random.normal((32, 8)), mx.random.normal((32, 1))),
        "loss": lambda model, x, y: nn.losses.mse_loss(model(x), y),
    }
    results = []
    for compiled in (True, False):
        rounds, repeat = (5, 20) if quick else (61, 100)
        reference = TinyMLP()
        mx.eval(reference.parameters())
        variants = {
            name: make_variant(workload, factory, reference.parameters(), compiled)
            for name, factory in tiny_schedules().items()
        }
        for run in variants.values():  # compile, and pass our schedules' internal compile (3rd call)
            for _ in range(5):
                run()
        step_kernels = {name: variant.kernels() for name, variant in variants.items()}
        samples = _common.interleaved(variants, rounds=rounds, repeat=repeat, warmup=1)
        row: dict[str, Any] = {
            "mode": "compiled" if compiled else "eager",
            "constant_step_kernels": step_kernels["constant"],
            "rounds": rounds,
            "steps_per_round": repeat,
            "constant_step_us": _common.median(samples["constant"]) * 1e6,
            "pairs": {},
        }
        for label in TINY_PAIRS:
            ours, mlx = samples[f"ours/{label}"], samples[f"mlx/{label}"]
            row["pairs"][label] = {
                "step_kernels": {"ours": step_kernels[f"ours/{label}"], "mlx": step_kernels[f"mlx/{label}"]},
                "ours_step_us": _common.median(ours) * 1e6,
                "mlx_step_us": _common.median(mlx) * 1e6,
                "ours_marginal_us": _common.paired_difference(ours, samples["constant"], 1e6),
                "mlx_marginal_us": _common.paired_difference(mlx, samples["constant"], 1e6),
                "ours_minus_mlx_us": _common.paired_difference(ours, mlx, 1e6),
                "ours_over_mlx": _common.paired_ratio(ours, mlx),
            }
        results.append(row)
    return results


def _microseconds(spread: dict[str, float]) -> str:
    return f"{spread['median']:+.1f} [{spread['q25']:+.1f}, {spread['q75']:+.1f}]"


def tiny_table(results: Sequence[dict[str, Any]]) -> str:
    """Rows: mode and schedule; columns: the constant step, each side's marginal cost, their difference."""
    headers = [
        "tiny MLP step",
        "schedule",
        "constant lr step (us)",
        "kernels per step: constant / ours / mlx",
        "marginal ours (us)",
        "marginal mlx (us)",
        "ours - mlx (us)",
        "step ours / mlx",
    ]
    rows = []
    for row in results:
        for label, pair in row["pairs"].items():
            rows.append(
                [
                    row["mode"],
                    label,
                    f"{row['constant_step_us']:.1f}",
                    f"{row['constant_step_kernels']} / {pair['step_kernels']['ours']} / {pair['step_kernels']['mlx']}",
                    _microseconds(pair["ours_marginal_us"]),
                    _microseconds(pair["mlx_marginal_us"]),
                    _microseconds(pair["ours_minus_mlx_us"]),
                    _common.format_ratio(pair["ours_over_mlx"]),
                ]
            )
    return _common.markdown_table(headers, rows)


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


def goals(payload: dict[str, Any]) -> list[dict[str, str]]:
    """The summary's goal rows: the compiled step overhead, and the tiny model's marginal cost vs the built-in."""
    ratios = {
        f"{row['model']} {name}": result["ratio"]
        for row in payload["results"]
        if row["mode"] == "compiled"
        for name, result in row["schedules"].items()
    }
    worst = max(ratios, key=lambda label: ratios[label]["median"])
    rows = [
        _common.goal(
            "compiled training step with a schedule <= 1.01 x constant lr",
            f"worst {worst} {_common.format_ratio(ratios[worst])}",
            _common.overall([_common.verdict(ratio, 1.01) for ratio in ratios.values()]),
        )
    ]
    for row in payload["tiny"]:
        parts, verdicts = [], []
        for label, pair in row["pairs"].items():
            ours, mlx = pair["ours_marginal_us"]["median"], pair["mlx_marginal_us"]["median"]
            parts.append(f"{label.split(' (')[0]} {ours:+.1f} vs {mlx:+.1f}")
            verdicts.append(_common.verdict(pair["ours_minus_mlx_us"], 0.0))
        rows.append(
            _common.goal(
                f"tiny model, {row['mode']} step: marginal us ours <= mlx.optimizers",
                "; ".join(parts),
                _common.overall(verdicts),
            )
        )
    return rows


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the table, write ``overhead.json``; return the JSON payload."""
    args = _common.parser(__doc__.splitlines()[0]).parse_args(argv)
    results = measure(args.quick)
    tiny = measure_tiny(args.quick)
    title = "Training-step time with a schedule / with a constant learning rate (median ratio [IQR])"
    goal = "compiled step time ratio schedule / constant <= 1.01; tiny-model marginal cost ours <= mlx.optimizers"
    markdown = (
        f"{table(results)}\n\nMarginal cost of the schedule in a tiny model's step (8-32-1 MLP, batch 32, SGD): "
        f"step time minus the constant-lr step time of the same round, microseconds, median [IQR]\n\n"
        f"{tiny_table(tiny)}\n\n{_pairs.ONE_CYCLE_NOTE}."
    )
    return _common.report(args, "overhead", title, markdown, goal=goal, results=results, tiny=tiny)


if __name__ == "__main__":
    main()
