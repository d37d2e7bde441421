"""Representative configurations of the decay family, shared by the precision, config and backend tests."""

from __future__ import annotations

from mlx_lrsched import (
    Constant,
    CosineDecay,
    ExponentialDecay,
    InverseTimeDecay,
    MultiStepDecay,
    PerEpoch,
    PiecewiseConstant,
    PolynomialDecay,
    StepDecay,
)

DECAY_SAMPLES = {
    "constant": Constant(0.1),
    "step": StepDecay(0.1, step_size=1000, gamma=0.5),
    "step_slow": StepDecay(1.0, step_size=10_000_000, gamma=0.9),
    "multistep": MultiStepDecay(0.1, milestones=[1000, 1_000_000, 999_999_999], gamma=0.3),
    "piecewise": PiecewiseConstant([10, 10**6, 10**9 - 1], [1.0, 0.5, 0.25, 0.125]),
    "exp": ExponentialDecay(0.1, 0.999999),
    "exp_keras_staircase": ExponentialDecay(0.1, 0.96, decay_steps=1000, staircase=True),
    "exp_slow": ExponentialDecay(0.1, 0.9999999),
    "exp_seed_k": ExponentialDecay.from_rate(1.0, 1e-8),
    "exp_begin_floor": ExponentialDecay(0.1, 0.5, decay_steps=10**7, transition_begin=10**6, end_lr=1e-5),
    "exp_growth": ExponentialDecay(1e-6, 1.00001, end_lr=1.0),
    "inverse_time": InverseTimeDecay(0.1, 0.5, decay_steps=1000),
    "inverse_time_staircase": InverseTimeDecay(0.1, 1.0, decay_steps=10_000, staircase=True),
    "poly": PolynomialDecay(0.1, 0.0, 10**8, power=2.0),
    "poly_linear": PolynomialDecay(0.1, 1e-4, 10**9),
    "poly_sqrt_cycle": PolynomialDecay(0.1, 0.01, 10**6, power=0.5, cycle=True),
    "poly_rising": PolynomialDecay(0.0, 0.1, 10**8, power=1.5),
    "cosine": CosineDecay(0.1, 10**9),
    "cosine_short": CosineDecay(0.1, 1000, end_lr=1e-4),
    "per_epoch": PerEpoch(ExponentialDecay.from_rate(0.1, 0.05), 469),
}
