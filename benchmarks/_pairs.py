"""The schedules the benchmarks compare with ``mlx.optimizers``, each written both ways, in one place.

``kernels.py``, ``eval_cost.py`` and ``overhead.py`` all take their pairs from here, so a table's
"exponential" is the same configuration in every benchmark. ``mlx.optimizers`` has no 1-cycle schedule;
:func:`mlx_one_cycle` is the closest built-in equivalent (a ``join_schedules`` of two ``cosine_decay``
phases) and every table that uses it says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mlx.optimizers as optim

from mlx_lrsched.compose import Join
from mlx_lrsched.decay import CosineDecay, ExponentialDecay, StepDecay
from mlx_lrsched.one_cycle import OneCycle
from mlx_lrsched.warmup import Linear, Warmup

TOTAL = 10_000
"""Length of the finite schedules of the call-cost pairs (step 5,000 is mid-schedule)."""
WARMUP = 1_000

ONE_CYCLE_NOTE = (
    "mlx.optimizers has no 1-cycle: the built-in side is its closest equivalent, "
    "`join_schedules([cosine_decay(lo, e1, max_lr), cosine_decay(max_lr, N - 1 - e1, lo / 1e4)], [e1])` "
    "with lo = max_lr / 25 and e1 = 0.3 N - 1 (PyTorch's phase end), the same curve as `OneCycle(max_lr, N)`"
)


def mlx_one_cycle(max_lr: float, total: int, pct_start: float = 0.3) -> Callable[[Any], Any]:
    """``OneCycle(max_lr, total, pct_start)`` built from ``mlx.optimizers`` pieces: cosine up, cosine down.

    ``cosine_decay(a, n, b)`` with ``a < b`` is a cosine ramp *up* from ``a`` to ``b``, which is the
    1-cycle's warmup; PyTorch's first phase ends at the float step ``pct_start * total - 1``, rounded here
    to the integer boundary ``join_schedules`` needs (exact when ``pct_start * total`` is an integer).
    """
    low = max_lr / 25.0
    end = round(pct_start * total) - 1
    return optim.join_schedules(
        [optim.cosine_decay(low, end, max_lr), optim.cosine_decay(max_lr, total - 1 - end, low / 1e4)], [end]
    )


def mlx_warmup_cosine(peak: float, warmup: int, total: int) -> Callable[[Any], Any]:
    """Linear warmup from 0, then cosine to 0: ``join_schedules`` of ``linear_schedule`` and ``cosine_decay``."""
    return optim.join_schedules(
        [optim.linear_schedule(0.0, peak, warmup), optim.cosine_decay(peak, total - warmup)], [warmup]
    )


def call_pairs(total: int = TOTAL, warmup: int = WARMUP) -> list[tuple[str, Any, Callable[[Any], Any]]]:
    """``(label, ours, built-in)`` for the per-call cost: the same schedule written both ways."""
    return [
        ("exponential", ExponentialDecay(0.1, 0.9999), optim.exponential_decay(0.1, 0.9999)),
        ("cosine", CosineDecay(0.1, total), optim.cosine_decay(0.1, total)),
        ("cosine, end_lr > 0", CosineDecay(0.1, total, 0.001), optim.cosine_decay(0.1, total, 0.001)),
        ("step decay", StepDecay(0.1, 1_000, 0.5), optim.step_decay(0.1, 0.5, 1_000)),
        ("linear", Linear(0.1, 0.0, total), optim.linear_schedule(0.1, 0.0, total)),
        (
            "warmup + cosine (Join)",
            Join((Linear(0.0, 0.1, warmup), CosineDecay(0.1, total - warmup)), (warmup,)),
            mlx_warmup_cosine(0.1, warmup, total),
        ),
        (
            "warmup + cosine (Warmup)",
            Warmup(CosineDecay(0.1, total - warmup), warmup),
            mlx_warmup_cosine(0.1, warmup, total),
        ),
        ("1-cycle (mlx: join of 2 cosines)", OneCycle(0.1, total), mlx_one_cycle(0.1, total)),
    ]
