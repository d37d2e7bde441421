"""Schedules set as ``learning_rate`` on mlx.optimizers, eager and inside ``mx.compile``."""

from __future__ import annotations

import numpy as np
import pytest

from mlx_lrsched import CosineDecay, ExponentialDecay, MultiStepDecay, StepDecay

mx = pytest.importorskip("mlx.core")
nn = pytest.importorskip("mlx.nn")
optim = pytest.importorskip("mlx.optimizers")

SCHEDULES = [
    ExponentialDecay(0.1, 0.9),
    StepDecay(0.5, step_size=3, gamma=0.5),
    MultiStepDecay(0.2, milestones=[2, 5], gamma=0.1),
    CosineDecay(0.3, decay_steps=8, end_lr=0.01),
]
GRADIENT = np.array([[1.0, -2.0], [0.5, 4.0]], dtype=np.float32)


def expected_rates(schedule, updates):
    return np.array(schedule(mx.array(np.arange(updates), dtype=mx.uint64)), dtype=np.float32)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: type(s).__name__)
def test_sgd_update_i_uses_the_schedule_at_step_i(schedule):
    # mlx.optimizers calls the schedule with the uint64 step *before* incrementing it, so update i (0-based)
    # moves the parameter by -schedule(i) * gradient.
    optimizer = optim.SGD(learning_rate=schedule)
    params = {"w": mx.zeros((2, 2))}
    expected = np.zeros((2, 2), dtype=np.float32)
    rates = expected_rates(schedule, 10)
    for i in range(10):
        params = optimizer.apply_gradients({"w": mx.array(GRADIENT)}, params)
        expected = expected - rates[i] * GRADIENT  # float32, as SGD computes it
        np.testing.assert_array_equal(np.array(params["w"]), expected)
        assert optimizer.step.item() == i + 1


@pytest.mark.parametrize("make", [optim.Adam, optim.AdamW, optim.SGD], ids=lambda m: m.__name__)
@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: type(s).__name__)
def test_stored_learning_rate_is_the_schedule_at_each_step(make, schedule):
    optimizer = make(learning_rate=schedule)
    rates = expected_rates(schedule, 12)
    assert optimizer.learning_rate.dtype == mx.float32
    params = {"w": mx.ones((3,))}
    for i in range(12):
        params = optimizer.apply_gradients({"w": mx.full((3,), 0.5)}, params)
        assert optimizer.learning_rate.item() == rates[i]  # bitwise: the optimizer stores what we return
        assert optimizer.learning_rate.dtype == mx.float32


def test_compiled_training_step_follows_the_schedule_without_retracing():
    # loss = sum(W * C) + sum(b) has the constant gradient (C, 1), so plain SGD moves W by -lr_i * C at update i.
    mx.random.seed(0)
    model = nn.Linear(3, 2)
    schedule = StepDecay(0.1, step_size=4, gamma=0.5)
    optimizer = optim.SGD(learning_rate=schedule)
    optimizer.init(model.trainable_parameters())
    c = mx.array(np.arange(6, dtype=np.float32).reshape(2, 3))
    state = [model.state, optimizer.state]
    traces = []

    def loss_fn(model):
        return (model.weight * c).sum() + model.bias.sum()

    def step():
        traces.append(1)  # runs only while tracing
        loss, grads = nn.value_and_grad(model, loss_fn)(model)
        optimizer.update(model, grads)
        return loss

    compiled = mx.compile(step, inputs=state, outputs=state)
    rates = expected_rates(schedule, 12)
    expected = np.array(model.weight)
    for i in range(12):
        compiled()
        mx.eval(state)
        expected = expected - rates[i] * np.array(c)  # float32, as SGD computes it
        np.testing.assert_allclose(np.array(model.weight), expected, rtol=0, atol=1e-6)
        assert optimizer.step.item() == i + 1
    assert len(traces) == 1


def test_schedule_compiles_on_its_own_for_uint64_steps():
    schedule = ExponentialDecay(0.1, 0.999, decay_steps=10, staircase=True, end_lr=0.01)
    compiled = mx.compile(schedule)
    steps = mx.array([0, 9, 10, 5000, 10**9], dtype=mx.uint64)
    np.testing.assert_array_equal(np.array(compiled(steps)), np.array(schedule(steps)))
