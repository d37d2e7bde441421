"""Every constructor argument of the decay family rejects bad values, naming the parameter."""

from __future__ import annotations

import math

import pytest

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

NAN, INF = math.nan, math.inf

# (constructor, kwargs, exception, parameter named in the message)
BAD = [
    (Constant, {"lr": -0.1}, ValueError, "lr"),
    (Constant, {"lr": NAN}, ValueError, "lr"),
    (Constant, {"lr": INF}, ValueError, "lr"),
    (Constant, {"lr": "0.1"}, TypeError, "lr"),
    (Constant, {"lr": True}, TypeError, "lr"),
    (StepDecay, {"init_lr": -1.0, "step_size": 10}, ValueError, "init_lr"),
    (StepDecay, {"init_lr": 0.1, "step_size": 0}, ValueError, "step_size"),
    (StepDecay, {"init_lr": 0.1, "step_size": 10.0}, TypeError, "step_size"),
    (StepDecay, {"init_lr": 0.1, "step_size": 10, "gamma": 0.0}, ValueError, "gamma"),
    (StepDecay, {"init_lr": 0.1, "step_size": 10, "gamma": 1.5}, ValueError, "gamma"),
    (StepDecay, {"init_lr": 0.1, "step_size": 10, "gamma": NAN}, ValueError, "gamma"),
    (MultiStepDecay, {"init_lr": NAN, "milestones": [1]}, ValueError, "init_lr"),
    (MultiStepDecay, {"init_lr": 0.1, "milestones": []}, ValueError, "milestones"),
    (MultiStepDecay, {"init_lr": 0.1, "milestones": [5, 3]}, ValueError, "milestones"),
    (MultiStepDecay, {"init_lr": 0.1, "milestones": [3, 3]}, ValueError, "milestones"),
    (MultiStepDecay, {"init_lr": 0.1, "milestones": [-1, 3]}, ValueError, "milestones[0]"),
    (MultiStepDecay, {"init_lr": 0.1, "milestones": [1, 2.5]}, TypeError, "milestones[1]"),
    (MultiStepDecay, {"init_lr": 0.1, "milestones": 5}, TypeError, "milestones"),
    (MultiStepDecay, {"init_lr": 0.1, "milestones": [1], "gamma": -0.5}, ValueError, "gamma"),
    (PiecewiseConstant, {"boundaries": [10, 5], "values": [1.0, 0.5, 0.1]}, ValueError, "boundaries"),
    (PiecewiseConstant, {"boundaries": [10], "values": [1.0]}, ValueError, "values"),
    (PiecewiseConstant, {"boundaries": [10], "values": [1.0, 0.5, 0.1]}, ValueError, "values"),
    (PiecewiseConstant, {"boundaries": [10], "values": [1.0, -0.5]}, ValueError, "values[1]"),
    (PiecewiseConstant, {"boundaries": [10], "values": "ab"}, TypeError, "values"),
    (PiecewiseConstant, {"boundaries": [], "values": [1.0]}, ValueError, "boundaries"),
    (ExponentialDecay, {"init_lr": -0.1, "decay_rate": 0.9}, ValueError, "init_lr"),
    (ExponentialDecay, {"init_lr": 0.1, "decay_rate": 0.0}, ValueError, "decay_rate"),
    (ExponentialDecay, {"init_lr": 0.1, "decay_rate": INF}, ValueError, "decay_rate"),
    (ExponentialDecay, {"init_lr": 0.1, "decay_rate": 1.1}, ValueError, "end_lr"),
    (ExponentialDecay, {"init_lr": 0.1, "decay_rate": 1.1, "end_lr": 0.01}, ValueError, "end_lr"),
    (ExponentialDecay, {"init_lr": 0.1, "decay_rate": 0.9, "end_lr": 0.5}, ValueError, "end_lr"),
    (ExponentialDecay, {"init_lr": 0.1, "decay_rate": 0.9, "end_lr": -1.0}, ValueError, "end_lr"),
    (ExponentialDecay, {"init_lr": 0.1, "decay_rate": 0.9, "decay_steps": 0}, ValueError, "decay_steps"),
    (ExponentialDecay, {"init_lr": 0.1, "decay_rate": 0.9, "staircase": 1}, TypeError, "staircase"),
    (ExponentialDecay, {"init_lr": 0.1, "decay_rate": 0.9, "transition_begin": -5}, ValueError, "transition_begin"),
    (InverseTimeDecay, {"init_lr": INF, "decay_rate": 0.5}, ValueError, "init_lr"),
    (InverseTimeDecay, {"init_lr": 0.1, "decay_rate": -0.5}, ValueError, "decay_rate"),
    (InverseTimeDecay, {"init_lr": 0.1, "decay_rate": 0.5, "decay_steps": -3}, ValueError, "decay_steps"),
    (InverseTimeDecay, {"init_lr": 0.1, "decay_rate": 0.5, "staircase": "yes"}, TypeError, "staircase"),
    (PolynomialDecay, {"init_lr": -0.1, "end_lr": 0.0, "decay_steps": 10}, ValueError, "init_lr"),
    (PolynomialDecay, {"init_lr": 0.1, "end_lr": NAN, "decay_steps": 10}, ValueError, "end_lr"),
    (PolynomialDecay, {"init_lr": 0.1, "end_lr": 0.0, "decay_steps": 0}, ValueError, "decay_steps"),
    (PolynomialDecay, {"init_lr": 0.1, "end_lr": 0.0, "decay_steps": 10, "power": 0.0}, ValueError, "power"),
    (PolynomialDecay, {"init_lr": 0.1, "end_lr": 0.0, "decay_steps": 10, "power": -1.0}, ValueError, "power"),
    (PolynomialDecay, {"init_lr": 0.1, "end_lr": 0.0, "decay_steps": 10, "cycle": None}, TypeError, "cycle"),
    (
        PolynomialDecay,
        {"init_lr": 0.1, "end_lr": 0.0, "decay_steps": 10, "transition_begin": -5},
        ValueError,
        "transition_begin",
    ),
    (CosineDecay, {"init_lr": -0.1, "decay_steps": 10}, ValueError, "init_lr"),
    (CosineDecay, {"init_lr": 0.1, "decay_steps": 0}, ValueError, "decay_steps"),
    (CosineDecay, {"init_lr": 0.1, "decay_steps": 1e3}, TypeError, "decay_steps"),
    (CosineDecay, {"init_lr": 0.1, "decay_steps": 10, "end_lr": -0.01}, ValueError, "end_lr"),
    (CosineDecay, {"init_lr": 0.1, "decay_steps": 10, "exponent": 0.0}, ValueError, "exponent"),
    (CosineDecay, {"init_lr": 0.1, "decay_steps": 10, "num_cycles": -1.0}, ValueError, "num_cycles"),
    (CosineDecay, {"init_lr": 0.1, "decay_steps": 2**60, "num_cycles": 7.0}, ValueError, "num_cycles"),
    (PerEpoch, {"schedule": "cosine", "steps_per_epoch": 10}, TypeError, "schedule"),
    (PerEpoch, {"schedule": Constant(0.1), "steps_per_epoch": 0}, ValueError, "steps_per_epoch"),
]


@pytest.mark.parametrize(("make", "kwargs", "error", "parameter"), BAD, ids=lambda v: getattr(v, "__name__", None))
def test_bad_argument_raises_naming_the_parameter(make, kwargs, error, parameter):
    with pytest.raises(error) as raised:
        make(**kwargs)
    message = str(raised.value)
    assert message.startswith(make.__name__ + ":")
    assert parameter in message


def test_every_decay_constructor_argument_has_a_rejected_value():
    import dataclasses

    covered = {(make, p.split("[")[0]) for make, kwargs, _, p in BAD}
    for make in {entry[0] for entry in BAD}:
        for field in dataclasses.fields(make):
            assert (make, field.name) in covered, f"{make.__name__}.{field.name} has no bad-input case"


def test_from_rate_rejects_negative_k():
    with pytest.raises(ValueError, match="k must be"):
        ExponentialDecay.from_rate(0.1, -1.0)


def test_numpy_numbers_are_accepted_and_normalised():
    import numpy as np

    schedule = StepDecay(np.float32(0.5), np.int64(10), np.float64(0.5))
    assert type(schedule.init_lr) is float and type(schedule.step_size) is int
    assert schedule == StepDecay(0.5, 10, 0.5)


@pytest.mark.parametrize(
    ("make", "parameter"),
    [
        (lambda: ExponentialDecay.from_rate(1.0, k=800.0), "k=800.0 decays to 0"),
        (lambda: __import__("mlx_lrsched").CyclicExponentialDecay.from_rate(1.0, 1.0, 1000), "k=1.0 decays to 0"),
        (lambda: __import__("mlx_lrsched").OneCycle.linear(1e-320, 1.0, 10), "min_lr=1e-320"),
        (
            lambda: __import__("mlx_lrsched").from_mlx_optimizers("join_schedules", [], []),
            "schedules must not be empty",
        ),
        (lambda: Constant(1e39), "lr must be a finite number in [0, 3.40282e+38]"),
        (lambda: InverseTimeDecay(1.0, decay_rate=1e39), "decay_rate"),
        (lambda: __import__("mlx_lrsched").Scale(Constant(1e30), 1e30), "exceeds float32"),
    ],
)
def test_values_that_would_underflow_or_overflow_are_refused_naming_the_cause(make, parameter):
    with pytest.raises(ValueError) as raised:
        make()
    assert parameter in str(raised.value)
