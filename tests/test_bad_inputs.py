"""The bad-input catalogue: every constructor outside the decay family rejects bad values, naming the parameter.

``test_validation.py`` covers the decay family in the same style; this file covers compositions, warmups,
cyclic, one-cycle and feedback schedules and the alternative constructors. Each case gives the exception
type and the parameter the message must name; a test checks that every constructor argument has a case.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from mlx_lrsched._xp import MAX_STEP
from mlx_lrsched.compose import Clip, Join, Product, Scale, Shift
from mlx_lrsched.cyclic import CosineRestarts, CyclicExponentialDecay, CyclicLR, CyclicMomentum
from mlx_lrsched.decay import Constant, CosineDecay, ExponentialDecay
from mlx_lrsched.feedback import GradNormScaled, ReduceOnPlateau
from mlx_lrsched.interpolate import PiecewiseInterpolate
from mlx_lrsched.one_cycle import OneCycle, OneCycleMomentum
from mlx_lrsched.restarts import Restarts
from mlx_lrsched.warmup import WSD, InverseSqrt, Linear, Warmup

NAN, INF = math.nan, math.inf
LR = Constant(0.1)
CYCLE = OneCycle(1.0, total_steps=100)
CYCLIC = CyclicLR(0.1, 1.0, step_size_up=10)

# (constructor, kwargs, exception, parameter named in the message)
BAD = [
    # Join
    (Join, {"schedules": []}, ValueError, "schedules"),
    (Join, {"schedules": LR}, TypeError, "schedules"),
    (Join, {"schedules": "cosine"}, TypeError, "schedules"),
    (Join, {"schedules": [LR, "cosine"], "boundaries": [10]}, TypeError, "schedules[1]"),
    (Join, {"schedules": [LR, -0.1], "boundaries": [10]}, ValueError, "schedules[1]"),
    (Join, {"schedules": [LR, LR], "boundaries": []}, ValueError, "boundaries"),
    (Join, {"schedules": [LR, LR], "boundaries": [10, 20]}, ValueError, "boundaries"),
    (Join, {"schedules": [LR, LR, LR], "boundaries": [20, 10]}, ValueError, "boundaries"),
    (Join, {"schedules": [LR, LR], "boundaries": [-1]}, ValueError, "boundaries[0]"),
    (Join, {"schedules": [LR, LR], "boundaries": [1.5]}, TypeError, "boundaries[0]"),
    (Join, {"schedules": [LR, LR], "boundaries": 10}, TypeError, "boundaries"),
    # Scale
    (Scale, {"schedule": None, "factor": 0.5}, TypeError, "schedule"),
    (Scale, {"schedule": LR, "factor": -0.5}, ValueError, "factor"),
    (Scale, {"schedule": LR, "factor": NAN}, ValueError, "factor"),
    (Scale, {"schedule": LR, "factor": "2"}, TypeError, "factor"),
    # Product
    (Product, {"schedules": []}, ValueError, "schedules"),
    (Product, {"schedules": [LR, None]}, TypeError, "schedules[1]"),
    (Product, {"schedules": [LR, INF]}, ValueError, "schedules[1]"),
    # Clip
    (Clip, {"schedule": True}, TypeError, "schedule"),
    (Clip, {"schedule": LR, "min_lr": -1.0}, ValueError, "min_lr"),
    (Clip, {"schedule": LR, "min_lr": 0.5, "max_lr": 0.1}, ValueError, "max_lr"),
    (Clip, {"schedule": LR, "max_lr": NAN}, ValueError, "max_lr"),
    (Clip, {"schedule": LR, "max_lr": "1"}, TypeError, "max_lr"),
    # Warmup
    (Warmup, {"schedule": "cos", "warmup_steps": 10}, TypeError, "schedule"),
    (Warmup, {"schedule": LR, "warmup_steps": -1}, ValueError, "warmup_steps"),
    (Warmup, {"schedule": LR, "warmup_steps": 10.0}, TypeError, "warmup_steps"),
    (Warmup, {"schedule": LR, "warmup_steps": MAX_STEP + 1}, ValueError, "warmup_steps"),
    (Warmup, {"schedule": LR, "warmup_steps": 10, "init_lr": -0.1}, ValueError, "init_lr"),
    (Warmup, {"schedule": LR, "warmup_steps": 10, "shape": "exp"}, ValueError, "shape"),
    (Warmup, {"schedule": LR, "warmup_steps": 10, "shape": None}, ValueError, "shape"),
    (Warmup, {"schedule": LR, "warmup_steps": 10, "overlay": "yes"}, TypeError, "overlay"),
    (Warmup, {"schedule": LR, "warmup_steps": 10, "peak_lr": -1.0}, ValueError, "peak_lr"),
    # Shift
    (Shift, {"schedule": "cos", "steps": 10}, TypeError, "schedule"),
    (Shift, {"schedule": LR, "steps": -1}, ValueError, "steps"),
    # PiecewiseInterpolate
    (PiecewiseInterpolate, {"boundaries": [10, 5], "values": [0.1, 0.2]}, ValueError, "boundaries"),
    (PiecewiseInterpolate, {"boundaries": [0, 5], "values": [0.1]}, ValueError, "values"),
    (PiecewiseInterpolate, {"boundaries": [0, 5], "values": [0.1, NAN]}, ValueError, "values[1]"),
    (PiecewiseInterpolate, {"boundaries": [0, 5], "values": [0.1, 0.2], "shape": "sqrt"}, ValueError, "shape"),
    # Linear
    (Linear, {"init_lr": INF, "end_lr": 0.0, "steps": 10}, ValueError, "init_lr"),
    (Linear, {"init_lr": 0.1, "end_lr": -0.1, "steps": 10}, ValueError, "end_lr"),
    (Linear, {"init_lr": 0.1, "end_lr": 0.0, "steps": -10}, ValueError, "steps"),
    (Linear, {"init_lr": 0.1, "end_lr": 0.0, "steps": True}, TypeError, "steps"),
    # InverseSqrt
    (InverseSqrt, {"peak_lr": -1.0, "warmup_steps": 10}, ValueError, "peak_lr"),
    (InverseSqrt, {"peak_lr": 1.0, "warmup_steps": 2.5}, TypeError, "warmup_steps"),
    (InverseSqrt, {"peak_lr": 1.0, "warmup_steps": 10, "init_lr": NAN}, ValueError, "init_lr"),
    (InverseSqrt, {"peak_lr": 1.0, "warmup_steps": 10, "timescale": 0}, ValueError, "timescale"),
    (InverseSqrt, {"peak_lr": 1.0, "warmup_steps": 10, "timescale": 1.0}, TypeError, "timescale"),
    # WSD
    (WSD, {"peak_lr": NAN, "warmup_steps": 1, "stable_steps": 1, "decay_steps": 1}, ValueError, "peak_lr"),
    (WSD, {"peak_lr": 1.0, "warmup_steps": -1, "stable_steps": 1, "decay_steps": 1}, ValueError, "warmup_steps"),
    (WSD, {"peak_lr": 1.0, "warmup_steps": 1, "stable_steps": "9", "decay_steps": 1}, TypeError, "stable_steps"),
    (WSD, {"peak_lr": 1.0, "warmup_steps": 1, "stable_steps": 1, "decay_steps": 1e3}, TypeError, "decay_steps"),
    (WSD, {"peak_lr": 1.0, "warmup_steps": 2**62, "stable_steps": 2**62, "decay_steps": 1}, ValueError, "stable_steps"),
    (
        WSD,
        {"peak_lr": 1.0, "warmup_steps": 1, "stable_steps": 1, "decay_steps": 1, "decay_shape": "exp"},
        ValueError,
        "decay_shape",
    ),
    (
        WSD,
        {"peak_lr": 1.0, "warmup_steps": 1, "stable_steps": 1, "decay_steps": 1, "end_lr": 2.0},
        ValueError,
        "end_lr",
    ),
    (
        WSD,
        {"peak_lr": 1.0, "warmup_steps": 1, "stable_steps": 1, "decay_steps": 1, "init_lr": -0.1},
        ValueError,
        "init_lr",
    ),
    # CyclicLR
    (CyclicLR, {"base_lr": -0.1, "max_lr": 1.0, "step_size_up": 10}, ValueError, "base_lr"),
    (CyclicLR, {"base_lr": 0.1, "max_lr": INF, "step_size_up": 10}, ValueError, "max_lr"),
    (CyclicLR, {"base_lr": 0.5, "max_lr": 0.1, "step_size_up": 10}, ValueError, "max_lr"),
    (CyclicLR, {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 0}, ValueError, "step_size_up"),
    (CyclicLR, {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 10.0}, TypeError, "step_size_up"),
    (CyclicLR, {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": MAX_STEP}, ValueError, "step_size_up"),
    (CyclicLR, {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 10, "step_size_down": -1}, ValueError, "step_size_down"),
    (CyclicLR, {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 10, "mode": "triangular3"}, ValueError, "mode"),
    (CyclicLR, {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 10, "gamma": 0.0}, ValueError, "gamma"),
    (CyclicLR, {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 10, "gamma": 1.01}, ValueError, "gamma"),
    (CyclicLR, {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 10, "window": "hamming"}, ValueError, "window"),
    (CyclicLR, {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 10, "cycle_momentum": 1}, TypeError, "cycle_momentum"),
    (CyclicLR, {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 10, "base_momentum": -0.5}, ValueError, "base_momentum"),
    (
        CyclicLR,
        {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 10, "base_momentum": 0.95, "max_momentum": 0.9},
        ValueError,
        "max_momentum",
    ),
    # CyclicMomentum
    (CyclicMomentum, {"schedule": LR}, TypeError, "schedule"),
    (CyclicMomentum, {"schedule": CYCLIC, "base_momentum": 1.5}, ValueError, "base_momentum"),
    (CyclicMomentum, {"schedule": CYCLIC, "base_momentum": 0.9, "max_momentum": 0.5}, ValueError, "max_momentum"),
    # CyclicExponentialDecay
    (CyclicExponentialDecay, {"init_lr": -1.0, "decay_rate": 0.5, "period_steps": 10}, ValueError, "init_lr"),
    (CyclicExponentialDecay, {"init_lr": 1.0, "decay_rate": 0.0, "period_steps": 10}, ValueError, "decay_rate"),
    (CyclicExponentialDecay, {"init_lr": 1.0, "decay_rate": 1.5, "period_steps": 10}, ValueError, "decay_rate"),
    (CyclicExponentialDecay, {"init_lr": 1.0, "decay_rate": 0.5, "period_steps": 0}, ValueError, "period_steps"),
    (CyclicExponentialDecay, {"init_lr": 1.0, "decay_rate": 0.5, "period_steps": 2**61}, ValueError, "period_steps"),
    (
        CyclicExponentialDecay,
        {"init_lr": 1.0, "decay_rate": 0.5, "period_steps": 10, "staircase": "no"},
        TypeError,
        "staircase",
    ),
    (
        CyclicExponentialDecay,
        {"init_lr": 1.0, "decay_rate": 0.5, "period_steps": 10, "modulation": "square"},
        ValueError,
        "modulation",
    ),
    (
        CyclicExponentialDecay,
        {"init_lr": 1.0, "decay_rate": 0.5, "period_steps": 10, "min_lr": 2.0},
        ValueError,
        "min_lr",
    ),
    (
        CyclicExponentialDecay,
        {"init_lr": 1.0, "decay_rate": 0.5, "period_steps": 10, "modulation": "signed_cosine", "min_lr": 0.1},
        ValueError,
        "min_lr",
    ),
    # CosineRestarts
    (CosineRestarts, {"init_lr": NAN, "first_period_steps": 10}, ValueError, "init_lr"),
    (CosineRestarts, {"init_lr": 1.0, "first_period_steps": 0}, ValueError, "first_period_steps"),
    (CosineRestarts, {"init_lr": 1.0, "first_period_steps": 10, "t_mult": 0}, ValueError, "t_mult"),
    (CosineRestarts, {"init_lr": 1.0, "first_period_steps": 10, "t_mult": "1.5"}, TypeError, "t_mult"),
    (CosineRestarts, {"init_lr": 1.0, "first_period_steps": 10, "m_mul": 0.0}, ValueError, "m_mul"),
    (CosineRestarts, {"init_lr": 1.0, "first_period_steps": 10, "m_mul": 2.0}, ValueError, "m_mul"),
    (CosineRestarts, {"init_lr": 1.0, "first_period_steps": 10, "end_lr": -1.0}, ValueError, "end_lr"),
    (CosineRestarts, {"init_lr": 1.0, "first_period_steps": 10, "cycle_limit": 0}, ValueError, "cycle_limit"),
    (CosineRestarts, {"init_lr": 1.0, "first_period_steps": 10, "k_decay": 0.0}, ValueError, "k_decay"),
    (CosineRestarts, {"init_lr": 1.0, "first_period_steps": 10, "m_mul_mode": "peaks"}, ValueError, "m_mul_mode"),
    # Restarts
    (Restarts, {"init_lr": -1.0, "first_period_steps": 10}, ValueError, "init_lr"),
    (Restarts, {"init_lr": 1.0, "first_period_steps": INF}, ValueError, "first_period_steps"),
    (Restarts, {"init_lr": 1.0, "first_period_steps": 10, "t_mult": 0.5}, ValueError, "t_mult"),
    (Restarts, {"init_lr": 1.0, "first_period_steps": 10, "m_mul": 1.5}, ValueError, "m_mul"),
    (Restarts, {"init_lr": 1.0, "first_period_steps": 10, "end_lr": INF}, ValueError, "end_lr"),
    (Restarts, {"init_lr": 1.0, "first_period_steps": 10, "cycle_limit": 2.0}, TypeError, "cycle_limit"),
    (Restarts, {"init_lr": 1.0, "first_period_steps": 10, "m_mul_mode": "top"}, ValueError, "m_mul_mode"),
    (Restarts, {"init_lr": 1.0, "first_period_steps": 10, "shape": "exp"}, ValueError, "shape"),
    (Restarts, {"init_lr": 1.0, "first_period_steps": 10, "exponent": -1.0}, ValueError, "exponent"),
    (Restarts, {"init_lr": 1.0, "first_period_steps": 10, "shape": "tanh", "k_decay": 2.0}, ValueError, "k_decay"),
    (Restarts, {"init_lr": 1.0, "first_period_steps": 10, "shape": "tanh", "lb": 5.0}, ValueError, "lb"),
    (Restarts, {"init_lr": 1.0, "first_period_steps": 10, "shape": "tanh", "ub": 30.0}, ValueError, "ub"),
    # OneCycle
    (OneCycle, {"max_lr": -1.0, "total_steps": 100}, ValueError, "max_lr"),
    (OneCycle, {"max_lr": 1.0, "total_steps": 0}, ValueError, "total_steps"),
    (OneCycle, {"max_lr": 1.0, "total_steps": 100.0}, TypeError, "total_steps"),
    (OneCycle, {"max_lr": 1.0, "total_steps": 100, "pct_start": 1.5}, ValueError, "pct_start"),
    (OneCycle, {"max_lr": 1.0, "total_steps": 100, "pct_start": -0.1}, ValueError, "pct_start"),
    (OneCycle, {"max_lr": 1.0, "total_steps": 100, "pct_start": NAN}, ValueError, "pct_start"),
    (OneCycle, {"max_lr": 1.0, "total_steps": 100, "pct_start": 0.6, "three_phase": True}, ValueError, "pct_start"),
    (OneCycle, {"max_lr": 1.0, "total_steps": 100, "anneal": "exp"}, ValueError, "anneal"),
    (OneCycle, {"max_lr": 1.0, "total_steps": 100, "div_factor": 0.5}, ValueError, "div_factor"),
    (OneCycle, {"max_lr": 1.0, "total_steps": 100, "final_div_factor": 0.0}, ValueError, "final_div_factor"),
    (OneCycle, {"max_lr": 1.0, "total_steps": 100, "three_phase": 1}, TypeError, "three_phase"),
    (OneCycle, {"max_lr": 1.0, "total_steps": 100, "pct_final": 0.8}, ValueError, "pct_final"),
    (OneCycle, {"max_lr": 1.0, "total_steps": 100, "three_phase": True, "pct_final": 0.2}, ValueError, "pct_final"),
    (OneCycle, {"max_lr": 1.0, "total_steps": 100, "cycle_momentum": None}, TypeError, "cycle_momentum"),
    (OneCycle, {"max_lr": 1.0, "total_steps": 100, "base_momentum": 1.1}, ValueError, "base_momentum"),
    (OneCycle, {"max_lr": 1.0, "total_steps": 100, "max_momentum": 0.5}, ValueError, "max_momentum"),
    # OneCycleMomentum
    (OneCycleMomentum, {"schedule": LR}, TypeError, "schedule"),
    (OneCycleMomentum, {"schedule": CYCLE, "base_momentum": -0.1}, ValueError, "base_momentum"),
    (OneCycleMomentum, {"schedule": CYCLE, "base_momentum": 0.9, "max_momentum": 0.8}, ValueError, "max_momentum"),
    (OneCycleMomentum, {"schedule": CYCLE, "max_momentum": 1.5}, ValueError, "max_momentum"),
    # ReduceOnPlateau
    (ReduceOnPlateau, {"schedule": "0.1"}, TypeError, "schedule"),
    (ReduceOnPlateau, {"schedule": LR, "factor": 1.0}, ValueError, "factor"),
    (ReduceOnPlateau, {"schedule": LR, "factor": 0.0}, ValueError, "factor"),
    (ReduceOnPlateau, {"schedule": LR, "patience": -1}, ValueError, "patience"),
    (ReduceOnPlateau, {"schedule": LR, "patience": 2.0}, TypeError, "patience"),
    (ReduceOnPlateau, {"schedule": LR, "mode": "minimum"}, ValueError, "mode"),
    (ReduceOnPlateau, {"schedule": LR, "threshold": -1e-4}, ValueError, "threshold"),
    (ReduceOnPlateau, {"schedule": LR, "threshold": 1.0}, ValueError, "threshold"),
    (ReduceOnPlateau, {"schedule": LR, "threshold_mode": "relative"}, ValueError, "threshold_mode"),
    (ReduceOnPlateau, {"schedule": LR, "cooldown": -2}, ValueError, "cooldown"),
    (ReduceOnPlateau, {"schedule": LR, "min_lr": INF}, ValueError, "min_lr"),
    (ReduceOnPlateau, {"schedule": LR, "eps": -1e-8}, ValueError, "eps"),
    # GradNormScaled
    (GradNormScaled, {"schedule": [0.1]}, TypeError, "schedule"),
    (GradNormScaled, {"schedule": LR, "floor": 1.5}, ValueError, "floor"),
    (GradNormScaled, {"schedule": LR, "floor": NAN}, ValueError, "floor"),
    (GradNormScaled, {"schedule": LR, "min_lr": -0.1}, ValueError, "min_lr"),
    (GradNormScaled, {"schedule": LR, "norm": "l3"}, ValueError, "norm"),
]

# Alternative constructors: (callable, args, kwargs, exception, owner in the message, parameter)
BAD_ALTERNATIVES = [
    (ExponentialDecay.from_rate, (0.1,), {"k": NAN}, ValueError, "ExponentialDecay.from_rate", "k"),
    (
        CyclicExponentialDecay.from_rate,
        (0.1,),
        {"k": -1.0, "period_steps": 10},
        ValueError,
        "CyclicExponentialDecay.from_rate",
        "k",
    ),
    (OneCycle.from_epochs, (1.0,), {"epochs": 0, "steps_per_epoch": 10}, ValueError, "OneCycle.from_epochs", "epochs"),
    (
        OneCycle.from_epochs,
        (1.0,),
        {"epochs": 3, "steps_per_epoch": 2.5},
        TypeError,
        "OneCycle.from_epochs",
        "steps_per_epoch",
    ),
    (OneCycle.linear, (), {"min_lr": 0.0, "max_lr": 1.0, "t_max": 10}, ValueError, "OneCycle.linear", "min_lr"),
    (OneCycle.linear, (), {"min_lr": 0.5, "max_lr": 0.1, "t_max": 10}, ValueError, "OneCycle.linear", "max_lr"),
    (OneCycle.linear, (), {"min_lr": 0.1, "max_lr": 1.0, "t_max": 0}, ValueError, "OneCycle.linear", "t_max"),
]


def _case_id(value: object) -> str | None:
    return getattr(value, "__qualname__", None)


@pytest.mark.parametrize(("make", "kwargs", "error", "parameter"), BAD, ids=_case_id)
def test_bad_argument_raises_naming_the_parameter(make, kwargs, error, parameter):
    with pytest.raises(error) as raised:
        make(**kwargs)
    message = str(raised.value)
    assert message.startswith(make.__name__ + ":"), message
    assert parameter in message, message
    assert "\n" not in message


@pytest.mark.parametrize(("make", "args", "kwargs", "error", "owner", "parameter"), BAD_ALTERNATIVES, ids=_case_id)
def test_bad_argument_to_an_alternative_constructor_names_it(make, args, kwargs, error, owner, parameter):
    with pytest.raises(error) as raised:
        make(*args, **kwargs)
    message = str(raised.value)
    assert message.startswith(owner + ":") and parameter in message, message


def test_every_constructor_argument_outside_the_decay_family_has_a_rejected_value():
    covered = {(make, parameter.split("[")[0]) for make, _, _, parameter in BAD}
    for make in {entry[0] for entry in BAD}:
        for field in dataclasses.fields(make):
            assert (make, field.name) in covered, f"{make.__name__}.{field.name} has no bad-input case"


BELOW_ONE = float(np.nextafter(1.0, 0.0))
EDGE_STEPS = np.array([0, 1, 2, 10**9, MAX_STEP], dtype=np.int64)

# The legal value next to each rejected range, and the values it must give at EDGE_STEPS: a bound checked
# with ``>=`` instead of ``>`` (or the reverse) rejects it; a degenerate case that divides by zero fails here.
LEGAL_EDGES = [
    (
        lambda: ReduceOnPlateau(LR, factor=BELOW_ONE, patience=0, threshold=BELOW_ONE, min_lr=0.0, eps=0.0),
        [0.1] * 5,
    ),
    (lambda: ReduceOnPlateau(LR, threshold=0.0, threshold_mode="abs", cooldown=0), [0.1] * 5),
    (lambda: CyclicLR(0.1, 0.1, 1, step_size_down=0, mode="exp_range", gamma=1.0), [0.1] * 5),
    (lambda: CosineRestarts(0.1, MAX_STEP, m_mul=1.0), [0.1] * 5),  # MAX_STEP starts the second cycle
    (lambda: CyclicExponentialDecay(0.1, 1.0, 2**60, min_lr=0.1), [0.1] * 5),
    (lambda: CyclicExponentialDecay(0.1, 1.0, 1, staircase=True), [0.1] * 5),
    (lambda: OneCycle(1.0, 1), [0.04 / 1e4] * 5),
    (lambda: OneCycleMomentum(CYCLE, 0.0, 0.0), [0.0] * 5),
    (lambda: OneCycleMomentum(CYCLE, 1.0, 1.0), [1.0] * 5),
    (lambda: Warmup(LR, 0), [0.1] * 5),
    (lambda: WSD(1.0, 0, 0, 0, end_lr=0.25), [0.25] * 5),
    (lambda: Linear(0.1, 0.2, 0), [0.2] * 5),
    (lambda: InverseSqrt(1.0, 0, timescale=1), [1.0, 2**-0.5, 3**-0.5, (10**9 + 1) ** -0.5, None]),
    (lambda: GradNormScaled(LR, floor=0.0), [0.1] * 5),
    (lambda: GradNormScaled(LR, floor=1.0), [0.1] * 5),
    (lambda: Clip(LR, 0.1, 0.1), [0.1] * 5),
    (lambda: Join((LR,)), [0.1] * 5),
    (lambda: Join((LR, Constant(0.2)), (0,)), [0.2] * 5),
    (lambda: Join((LR, Constant(0.2)), (MAX_STEP,)), [0.1, 0.1, 0.1, 0.1, 0.2]),
    (lambda: Scale(LR, 0.0), [0.0] * 5),
    (lambda: Product((LR,)), [0.1] * 5),
]


@pytest.mark.parametrize(("make", "expected"), LEGAL_EDGES, ids=[str(i) for i in range(len(LEGAL_EDGES))])
def test_the_legal_value_at_each_bound_is_accepted_and_gives_a_finite_schedule(make, expected):
    values = make()(EDGE_STEPS)
    assert np.all(np.isfinite(values)) and np.all(values >= 0.0), values
    for value, want in zip(values, expected, strict=True):
        if want is not None:
            assert value == pytest.approx(want, rel=1e-9, abs=1e-12), (values, expected)


@pytest.mark.parametrize(
    ("make", "kwargs"),
    [
        (Warmup, {"schedule": LR, "warmup_steps": np.int64(10), "init_lr": np.float32(0.0)}),
        (CyclicLR, {"base_lr": np.float64(0.1), "max_lr": 1, "step_size_up": np.uint32(10)}),
        (OneCycle, {"max_lr": 1, "total_steps": np.int16(100), "pct_start": np.float32(0.25)}),
        (Join, {"schedules": (0.1, CosineDecay(1.0, 10)), "boundaries": (np.int64(5),)}),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_numpy_numbers_and_tuples_are_accepted_and_normalised_to_python_types(make, kwargs):
    schedule = make(**kwargs)
    for field in dataclasses.fields(schedule):
        value = getattr(schedule, field.name)
        values = value if isinstance(value, tuple) else (value,)
        for item in values:
            assert type(item) in (int, float, str, bool, type(None)) or hasattr(item, "evaluate"), (field.name, item)
    assert make(**kwargs) == schedule and hash(make(**kwargs)) == hash(schedule)
