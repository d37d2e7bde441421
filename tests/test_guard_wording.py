"""What ScheduleGuard says, and what really happens under mlx-examples' mnist compile pattern."""

from __future__ import annotations

from functools import partial
from typing import Any

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np
import pytest

import mlx_lrsched.training as training
from mlx_lrsched import schedule_momentum
from mlx_lrsched.decay import CosineDecay
from mlx_lrsched.training import FrozenScheduleError, ScheduleGuard

GRAD = (1.0, 2.0, 4.0)  # powers of two: lr * g is exact in float32


class Weights(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = mx.zeros((3,))


def mnist_compiled(model: Weights, optimizer: Any) -> Any:
    """mlx-examples mnist: ``mx.compile(step, inputs=model.state, outputs=model.state)``; batch ``x`` of any size."""

    @partial(mx.compile, inputs=model.state, outputs=model.state)
    def step(x: mx.array) -> tuple[mx.array, mx.array]:
        def loss_fn(m: Weights) -> mx.array:
            return (m.w * mx.array(GRAD)).sum() * x.mean()  # x = ones: the gradient is GRAD for any batch size

        loss, grads = nn.value_and_grad(model, loss_fn)(model)
        optimizer.update(model, grads)
        return loss, optimizer.state["learning_rate"]

    return step


def frozen_error(optimizer: Any) -> str:
    model = Weights()
    step = mnist_compiled(model, optimizer)
    guard = ScheduleGuard(optimizer)
    step(mx.ones((4, 1)))
    guard.check()
    step(mx.ones((4, 1)))
    with pytest.raises(FrozenScheduleError) as raised:
        guard.check()
    return str(raised.value)


def test_plain_float_learning_rate_is_not_called_a_frozen_schedule() -> None:
    message = frozen_error(optim.Adam(learning_rate=1e-3))  # mnist's optimizer: a plain float rate
    first = message.splitlines()[0]
    assert first.startswith("optimizer.step did not advance (it reads 1 again after an update)")
    assert "schedule is frozen" not in first
    assert "learning rate is not a schedule" in first
    assert "bias correction" in first
    assert "compile_step(step, model, optimizer)" in message  # the fix is still given
    assert "every update uses the same learning rate" not in message


def test_scheduled_learning_rate_is_called_a_frozen_schedule() -> None:
    message = frozen_error(optim.Adam(learning_rate=CosineDecay(1e-3, decay_steps=10)))
    assert message.splitlines()[0].endswith("the learning-rate schedule is frozen.")
    assert "every update uses the same learning rate" in message


def test_a_scheduled_momentum_with_a_float_rate_is_named() -> None:
    optimizer = optim.SGD(learning_rate=0.1, momentum=0.9)
    schedule_momentum(optimizer, CosineDecay(0.9, decay_steps=10, end_lr=0.5))
    first = frozen_error(optimizer).splitlines()[0]
    assert "learning rate is not a schedule" in first
    assert "the momentum schedule is frozen" in first


def test_mnist_pattern_uses_schedule_0_on_full_batches_and_schedule_1_after_a_retrace() -> None:
    # update i of a correct loop would use 0.125 * (i + 1)
    optimizer = optim.SGD(learning_rate=lambda step: 0.125 * (step.astype(mx.float32) + 1.0))
    model = Weights()
    step = mnist_compiled(model, optimizer)
    batches = [8, 8, 8, 3, 8, 8, 3]  # full batches, mnist's smaller last batch (a new shape: a retrace), again
    applied, returned, counters = [], [], []
    for size in batches:
        model.w = mx.zeros((3,))
        _, lr = step(mx.ones((size, 1)))
        mx.eval(model.state, lr)
        applied.append(float(-np.array(model.w)[0] / GRAD[0]))
        returned.append(lr.item())
        counters.append(optimizer.step.item())
    schedule_0, schedule_1 = 0.125, 0.25
    expected = [schedule_1 if size == 3 else schedule_0 for size in batches]
    assert applied == expected  # full batches: schedule(0) forever; the smaller batch: schedule(1) forever
    assert returned == expected
    assert counters == [1, 1, 1, 2, 2, 2, 2]  # reads 1 after the first trace, 2 after the retrace, then never moves


def test_package_text_does_not_claim_every_mlx_example_compiles_with_model_state_only() -> None:
    text = " ".join((training.__doc__ or "").split())
    assert "pattern of the MLX examples" not in text
    assert "mnist" in text
    for name in ("cifar", "cvae", "gcn", "normalizing_flow", "speechcommands", "transformer_lm"):
        assert name in text  # named as the ones that do pass optimizer.state
    assert "reads 1 forever" not in text
    assert "schedule(0)" in text and "schedule(1)" in text
    for item in (training.ScheduleGuard, training.FrozenScheduleError, training.compile_step):
        assert "reads 1 forever" not in (item.__doc__ or "")
