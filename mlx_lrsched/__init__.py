"""mlx-lrsched: learning-rate schedules for Apple MLX, exact in float32, with a NumPy reference.

A schedule is an immutable callable ``step -> learning rate``; set it as ``learning_rate`` on any
``mlx.optimizers`` optimizer.
"""

from ._xp import MAX_STEP
from .base import Schedule, from_config, schedule_names
from .compose import Clip, Join, PerEpoch, Product, Ramp, Scale, Shift
from .cyclic import CyclicExponentialDecay, CyclicLR, CyclicMomentum
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
from .feedback import GradNormScaled, ReduceOnPlateau
from .finder import LRRangeResult, lr_range_test
from .hyper import ScheduledValue, apply_one_cycle, apply_schedule, schedule_momentum
from .interpolate import PiecewiseInterpolate
from .mlx_lm import MLX_SCHEDULE_NAMES, from_mlx_lm_config, from_mlx_optimizers
from .noise import Noisy
from .one_cycle import OneCycle, OneCycleMomentum
from .peers import from_hf, from_keras, from_optax, from_timm, from_torch
from .plot import plot
from .restarts import CosineRestarts, Restarts
from .training import CompiledStep, FrozenScheduleError, ScheduleGuard, compile_step
from .warmup import WSD, InverseSqrt, Linear, Warmup

__version__ = "0.1.0"

__all__ = [
    "MAX_STEP",
    "MLX_SCHEDULE_NAMES",
    "WSD",
    "Clip",
    "CompiledStep",
    "Constant",
    "CosineDecay",
    "CosineRestarts",
    "CyclicExponentialDecay",
    "CyclicLR",
    "CyclicMomentum",
    "ExponentialDecay",
    "FrozenScheduleError",
    "GradNormScaled",
    "InverseSqrt",
    "InverseTimeDecay",
    "Join",
    "LRRangeResult",
    "Linear",
    "MultiStepDecay",
    "Noisy",
    "OneCycle",
    "OneCycleMomentum",
    "PerEpoch",
    "PiecewiseConstant",
    "PiecewiseInterpolate",
    "PolynomialDecay",
    "Product",
    "Ramp",
    "ReduceOnPlateau",
    "Restarts",
    "Scale",
    "Schedule",
    "ScheduleGuard",
    "ScheduledValue",
    "Shift",
    "StepDecay",
    "Warmup",
    "apply_one_cycle",
    "apply_schedule",
    "compile_step",
    "from_config",
    "from_hf",
    "from_keras",
    "from_mlx_lm_config",
    "from_mlx_optimizers",
    "from_optax",
    "from_timm",
    "from_torch",
    "lr_range_test",
    "plot",
    "schedule_momentum",
    "schedule_names",
]
