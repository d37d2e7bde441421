"""mlx-lrsched: learning-rate schedules for Apple MLX, exact in float32, with a NumPy reference.

A schedule is an immutable callable ``step -> learning rate``; set it as ``learning_rate`` on any
``mlx.optimizers`` optimizer.
"""

from ._xp import MAX_STEP
from .base import Schedule, from_config, schedule_names
from .compose import PerEpoch
from .decay import (
    Constant,
    CosineDecay,
    ExponentialDecay,
    InverseTimeDecay,
    MultiStepDecay,
    PiecewiseConstant,
    PolynomialDecay,
    StepDecay,
)

__version__ = "0.1.0"

__all__ = [
    "MAX_STEP",
    "Constant",
    "CosineDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "MultiStepDecay",
    "PerEpoch",
    "PiecewiseConstant",
    "PolynomialDecay",
    "Schedule",
    "StepDecay",
    "from_config",
    "schedule_names",
]
