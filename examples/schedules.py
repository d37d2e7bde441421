"""The schedules the examples can train with: ``--schedule NAME`` -> a builder using the run's step budget.

Every builder takes the peak learning rate ``lr``, the total number of optimizer updates and the updates
per epoch, and returns an ``mlx_lrsched`` schedule whose step counts optimizer updates (with ``--accum K``
that is one per K micro-batches). Decaying schedules end at 1% of ``lr`` unless said otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from mlx_lrsched.base import Schedule
from mlx_lrsched.decay import (
    Constant,
    CosineDecay,
    ExponentialDecay,
    InverseTimeDecay,
    PolynomialDecay,
    StepDecay,
)

FINAL_FRACTION = 0.01
"""Where the decaying schedules end, as a fraction of the peak learning rate."""


@dataclass(frozen=True)
class Budget:
    """What a builder may use: peak learning rate, total optimizer updates, updates per epoch."""

    lr: float
    total_steps: int
    steps_per_epoch: int

    @property
    def epochs(self) -> int:
        return self.total_steps // self.steps_per_epoch


Builder = Callable[[Budget], Schedule]


def _constant(b: Budget) -> Schedule:
    return Constant(b.lr)


def _step(b: Budget) -> Schedule:
    # x0.1 after 1/3 and 2/3 of the run, on epoch boundaries
    return StepDecay(b.lr, step_size=max(1, b.epochs // 3) * b.steps_per_epoch, gamma=0.1)


def _exponential(b: Budget) -> Schedule:
    # seed 002: lr0 * exp(-k t), k chosen so that the last update sees 1% of lr0
    return ExponentialDecay.from_rate(b.lr, k=-math.log(FINAL_FRACTION) / b.total_steps)


def _exponential_staircase(b: Budget) -> Schedule:
    # seed 001 (Keras ExponentialDecay, staircase=True): one drop per epoch
    rate = FINAL_FRACTION ** (1.0 / max(1, b.epochs - 1))
    return ExponentialDecay(b.lr, rate, decay_steps=b.steps_per_epoch, staircase=True)


def _inverse_time(b: Budget) -> Schedule:
    return InverseTimeDecay(b.lr, decay_rate=1.0 / FINAL_FRACTION - 1.0, decay_steps=b.total_steps)


def _polynomial(b: Budget) -> Schedule:
    return PolynomialDecay(b.lr, b.lr * FINAL_FRACTION, decay_steps=b.total_steps, power=2.0)


def _cosine(b: Budget) -> Schedule:
    return CosineDecay(b.lr, decay_steps=b.total_steps, end_lr=b.lr * FINAL_FRACTION)


def _cyclic_period(b: Budget) -> int:
    """Four cycles per run, each a whole number of epochs when the run is long enough."""
    return max(1, b.epochs // 4) * b.steps_per_epoch if b.epochs >= 4 else max(1, b.total_steps // 4)


def _cyclic_exponential(b: Budget) -> Schedule:
    from mlx_lrsched.cyclic import CyclicExponentialDecay

    # seed 002: an exp(-k t) envelope times a raised cosine in [0, 1]. The cosine already halves the mean
    # rate, so the envelope only decays to 10%; 4.5 cycles, so the run ends at the bottom of a cycle
    # instead of right after a restart to the envelope.
    period = max(1, round(b.total_steps / 4.5))
    return CyclicExponentialDecay.from_rate(b.lr, k=-math.log(10 * FINAL_FRACTION) / b.total_steps, period_steps=period)


def _cyclic(b: Budget) -> Schedule:
    from mlx_lrsched.cyclic import CyclicLR

    # triangular CLR between lr/10 and lr, four full cycles
    return CyclicLR(b.lr / 10.0, b.lr, step_size_up=max(1, _cyclic_period(b) // 2))


def _cosine_restarts(b: Budget) -> Schedule:
    from mlx_lrsched.cyclic import CosineRestarts

    return CosineRestarts(b.lr, first_period_steps=_cyclic_period(b), end_lr=b.lr * FINAL_FRACTION)


def _one_cycle(b: Budget) -> Schedule:
    from mlx_lrsched.one_cycle import OneCycle

    # Smith's 1-cycle with PyTorch's defaults: 30% warm-up from lr/25, cosine anneal to lr/2.5e5
    return OneCycle(b.lr, b.total_steps)


SCHEDULES: dict[str, tuple[Builder, str]] = {
    "one_cycle": (_one_cycle, "1-cycle: warm up to lr over 30% of the run, anneal far below (Smith)"),
    "exponential": (_exponential, "lr * exp(-k t), ending at 1% of lr (seed 002)"),
    "cyclic_exponential": (
        _cyclic_exponential,
        "exp(-k t) envelope (to 10% of lr) times a raised cosine, 4.5 cycles (seed 002)",
    ),
    "constant": (_constant, "lr throughout (the baseline)"),
    "step": (_step, "x0.1 after 1/3 and 2/3 of the epochs"),
    "exponential_staircase": (_exponential_staircase, "one exponential drop per epoch (Keras staircase, seed 001)"),
    "inverse_time": (_inverse_time, "lr / (1 + a t / T), ending at 1% of lr"),
    "polynomial": (_polynomial, "quadratic decay to 1% of lr"),
    "cosine": (_cosine, "half-cosine to 1% of lr"),
    "cyclic": (_cyclic, "triangular cyclical LR between lr/10 and lr, 4 cycles"),
    "cosine_restarts": (_cosine_restarts, "SGDR: cosine to 1% of lr, restarted 4 times"),
}


def schedule_names() -> list[str]:
    """The valid ``--schedule`` values, in the order of the help text."""
    return list(SCHEDULES)


def build_schedule(name: str, lr: float, total_steps: int, steps_per_epoch: int) -> Schedule:
    """The schedule registered as ``name`` for this budget; ``ValueError`` listing valid names otherwise."""
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; valid schedules: {', '.join(SCHEDULES)}")
    return SCHEDULES[name][0](Budget(lr, total_steps, steps_per_epoch))
