"""Run every benchmark and write a combined markdown report: ``python -m benchmarks.all [--quick]``.

Each benchmark prints its table and writes its JSON to ``--out`` (default ``benchmarks/results/``); this
script also writes ``summary.md`` there: every table and the machine they were measured on, ready to paste
into the README's Performance section.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from . import _common, curve, eval_cost, overhead, precision

BENCHMARKS = {
    "overhead": (overhead, "Training-step overhead (ratio to a constant learning rate; goal <= 1.01 compiled)"),
    "eval_cost": (eval_cost, "Cost of one schedule call, ours / mlx.optimizers (goal <= 1.0)"),
    "precision": (precision, "Float32 max relative error vs float64, steps up to 1e9 (goal <= 1e-6)"),
    "curve": (curve, "A 1e6-step curve, ours vectorised vs stepping PyTorch (goal >= 200x)"),
}


def summary(payloads: dict[str, dict[str, Any]], seconds: float, quick: bool) -> str:
    """Every table under a heading, then the machine, in markdown."""
    parts = []
    for name, (_, title) in BENCHMARKS.items():
        parts.append(f"### {title}\n\n{payloads[name]['table']}\n")
    info = next(iter(payloads.values()))["machine"]
    mode = "quick" if quick else "full"
    command = "python -m benchmarks.all" + (" --quick" if quick else "")
    parts.append(
        f"Measured with `{command}` ({mode} mode, {seconds:.0f} s) on {info['date']}: "
        f"{_common.machine_line(info)}; load average at start {info['load_average']}."
    )
    return "\n".join(parts) + "\n"


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
