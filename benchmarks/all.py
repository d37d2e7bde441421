"""Run every benchmark and write a combined markdown report: ``python -m benchmarks.all [--quick]``.

Each benchmark prints its table and writes its JSON to ``--out`` (default ``benchmarks/results/``, or the
git-ignored ``benchmarks/results/quick/`` with ``--quick``, so a smoke run never replaces the committed
results); this script also writes ``summary.md`` there: the machine, a table of every goal with whether
it is met on this machine, then every benchmark's tables. The docs' performance page
(``docs/guides/performance.md``) includes that file as it is when the site is built.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from . import _common, curve, eval_cost, kernels, overhead, precision

BENCHMARKS = {
    "kernels": (kernels, "Kernels per compiled call, ours and mlx.optimizers (goal: 1)"),
    "eval_cost": (eval_cost, "Cost of one schedule call, ours / mlx.optimizers, eager and compiled (goal <= 1.0)"),
    "overhead": (
        overhead,
        "Training-step overhead (ratio to a constant learning rate; goal <= 1.01 compiled) and the tiny-model "
        "marginal cost beside mlx.optimizers (goal: ours <= mlx)",
    ),
    "curve": (
        curve,
        "Whole curves: ours vectorised vs stepping PyTorch (goal >= 200x) and vs hand-written NumPy "
        "(goal <= 1.5; peak memory goal <= 1.25 x output)",
    ),
    "precision": (precision, "Float32 max relative error vs float64, steps up to 1e9 (goal <= 1e-6)"),
}


def machine_sentence(info: dict[str, Any]) -> str:
    """This machine in words: OS, cores, MLX version and backend, then the details."""
    system = str(info["platform"]).split("-")[0]
    device = str(info.get("mlx_device"))
    backend = "CPU" if "cpu" in device.lower() else "GPU"
    return (
        f"{system}, {info['cores']} cores, MLX {info['mlx']} on its {backend} backend ({device}); "
        f"{_common.machine_line(info)}"
    )


def summary(payloads: dict[str, dict[str, Any]], seconds: float, quick: bool) -> str:
    """The machine, the goal table, then every benchmark's tables under a heading, in markdown."""
    info = next(iter(payloads.values()))["machine"]
    mode = "quick" if quick else "full"
    command = "python -m benchmarks.all" + (" --quick" if quick else "")
    rows = []
    for name, (module, _) in BENCHMARKS.items():
        rows += [[row["goal"], row["measured"], row["met"]] for row in module.goals(payloads[name])]
    parts = [
        "## Performance\n",
        f"Measured with `{command}` ({mode} mode, {seconds:.0f} s) on {info['date']} on this machine: "
        f"{machine_sentence(info)}; load average at start {info['load_average']}.\n",
        "Every comparison is interleaved: each round times every variant once, and a ratio (or a difference) "
        "is taken within a round. Cells give the median over rounds and, in brackets, the interquartile range. "
        '"within noise" means the median misses the goal but the interquartile range reaches it.'
        + (" Quick mode: few rounds, noisy numbers, smaller sizes; not the committed results." if quick else "")
        + "\n",
        "### Goals on this machine\n",
        _common.markdown_table(["goal", "measured", "met"], rows) + "\n",
    ]
    for name, (_, title) in BENCHMARKS.items():
        parts.append(f"### {title}\n\n{payloads[name]['table']}\n")
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    """Run all benchmarks in turn; return their payloads by name."""
    args = _common.parser(__doc__.splitlines()[0]).parse_args(argv)
    forwarded = [*(["--quick"] if args.quick else []), "--out", str(args.out)]
    start = time.perf_counter()
    payloads = {}
    for name, (module, _) in BENCHMARKS.items():
        print(f"\n# {name}\n", flush=True)
        payloads[name] = module.main(forwarded)
    text = summary(payloads, time.perf_counter() - start, args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    temporary = args.out / ".summary.md.tmp"
    temporary.write_text(text)
    temporary.replace(args.out / "summary.md")
    print(f"\nWrote {args.out / 'summary.md'}")
    return payloads


if __name__ == "__main__":
    main()
