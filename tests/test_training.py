"""compile_step and ScheduleGuard: compiled training steps that follow their schedule, and the frozen pitfall."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np
import pytest
from mlx.utils import tree_flatten, tree_map

from mlx_lrsched.decay import CosineDecay
from mlx_lrsched.training import CompiledStep, FrozenScheduleError, ScheduleGuard, compile_step

GRAD = (1.0, 2.0, 4.0)  # powers of two: lr * g is exact in float32, so -w / g recovers lr bit for bit


class Weights(nn.Module):
    """One parameter vector with loss ``sum(w * GRAD)``: its gradient is ``GRAD`` whatever ``w`` is."""

    def __init__(self) -> None:
        super().__init__()
        self.w = mx.zeros((3,))


def linear_loss(model: Weights) -> mx.array:
    return (model.w * mx.array(GRAD)).sum()


def make_step(model: Weights, optimizer: optim.Optimizer) -> Callable[[], mx.array]:
    def step() -> mx.array:
        loss, grads = nn.value_and_grad(model, linear_loss)(model)
        optimizer.update(model, grads)
        return loss

    return step


def applied_lrs(model: Weights, step: Callable[[], Any], num_updates: int) -> np.ndarray:
    """The learning rate each update applied, read off the parameter change ``-lr * GRAD`` from ``w = 0``."""
    rates = []
    for _ in range(num_updates):
        model.w = mx.zeros((3,))  # replaced in model.state, so a compiled step sees it as its input
        step()
        mx.eval(model.state)
        rates.append(-np.array(model.w) / np.array(GRAD))
    rates_per_update = np.array(rates)
    # all three components give the same rate: the change really is lr * g elementwise
    np.testing.assert_array_equal(rates_per_update, rates_per_update[:, :1].repeat(3, axis=1))
    return rates_per_update[:, 0]


def cosine_oracle(step: int, init: float = 0.5, end: float = 0.05, decay_steps: int = 8) -> float:
    return end + 0.5 * (init - end) * (1.0 + math.cos(math.pi * min(step, decay_steps) / decay_steps))


def frozen_compile(model: nn.Module, optimizer: Any, fn: Callable[[], Any], where: str) -> Callable[[], Any]:
    """The MLX-examples pattern: the optimizer's state left out of the compiled inputs (and maybe outputs)."""
    outputs = model.state if where == "model.state only" else [model.state, optimizer.state]
    return mx.compile(fn, inputs=model.state, outputs=outputs)


FROZEN_PATTERNS = ["model.state only", "optimizer.state in outputs only"]


def test_mlx_update_i_uses_schedule_at_uint64_step_before_increment() -> None:
    seen: list[tuple[Any, int]] = []

    def recording_schedule(step: mx.array) -> mx.array:
        seen.append((step.dtype, step.item()))
        return 0.25 * (step.astype(mx.float32) + 1.0)  # lr of update i is (i + 1) / 4

    model = Weights()
    optimizer = optim.SGD(learning_rate=recording_schedule)
    assert seen == [(mx.uint64, 0)]  # the constructor evaluates schedule(0) once for optimizer.learning_rate
    rates = applied_lrs(model, make_step(model, optimizer), 4)
    assert seen[1:] == [(mx.uint64, i) for i in range(4)]  # update i calls schedule(i), then step becomes i + 1
    np.testing.assert_array_equal(rates, [0.25, 0.5, 0.75, 1.0])
    assert optimizer.step.item() == 4


@pytest.mark.parametrize("where", FROZEN_PATTERNS)
def test_frozen_pattern_reuses_the_trace_time_learning_rate(where: str) -> None:
    model = Weights()
    optimizer = optim.SGD(learning_rate=CosineDecay(0.5, decay_steps=8, end_lr=0.05))
    step = frozen_compile(model, optimizer, make_step(model, optimizer), where)
    steps_read = []
    rates = []
    for _ in range(6):
        rates.append(applied_lrs(model, step, 1)[0])
        steps_read.append(optimizer.step.item())
    assert steps_read == [1] * 6  # the step moved once while tracing, then never again
    np.testing.assert_allclose(rates, [cosine_oracle(0)] * 6, rtol=1e-6)  # every update uses eta(0)


@pytest.mark.parametrize("where", FROZEN_PATTERNS)
def test_guard_raises_at_second_update_of_frozen_step_naming_the_fix(where: str) -> None:
    model = Weights()
    optimizer = optim.SGD(learning_rate=CosineDecay(0.5, decay_steps=8))
    step = frozen_compile(model, optimizer, make_step(model, optimizer), where)
    guard = ScheduleGuard(optimizer)
    step()
    guard.check()  # 0 -> 1: the traced update did move the counter once
    step()
    with pytest.raises(FrozenScheduleError) as raised:
        guard.check()
    message = str(raised.value)
    assert isinstance(raised.value, RuntimeError)
    assert "optimizer.step did not advance (it reads 1 again" in message
    assert "compiled without the optimizer's state" in message
    assert "state = [model.state, optimizer.state, mx.random.state]" in message
    assert "mx.compile(step, inputs=state, outputs=state)" in message
    assert "compile_step(step, model, optimizer)" in message


def test_guard_passes_an_eager_loop() -> None:
    model = Weights()
    optimizer = optim.SGD(learning_rate=CosineDecay(0.5, decay_steps=8))
    step = make_step(model, optimizer)
    guard = ScheduleGuard(optimizer, checks=10)
    for _ in range(10):
        step()
        guard.check()
    assert guard.remaining == 0


def test_guard_raises_when_no_update_happened_since_last_check() -> None:
    model = Weights()
    optimizer = optim.SGD(learning_rate=0.1)
    guard = ScheduleGuard(optimizer)
    make_step(model, optimizer)()
    guard.check()
    with pytest.raises(FrozenScheduleError, match="call check\\(\\) only after updates"):
        guard.check()


@pytest.mark.parametrize("checks", [0, 1, 3])
def test_guard_reads_the_counter_only_on_its_first_checks(checks: int) -> None:
    optimizer = optim.SGD(learning_rate=0.1)  # never updated: every reading would be stuck at 0
    guard = ScheduleGuard(optimizer, checks=checks)
    for _ in range(checks):
        with pytest.raises(FrozenScheduleError):
            guard.check()
    for _ in range(5):
        guard.check()  # silent once the budget is spent
    assert guard.remaining == 0


def test_guard_checks_every_inner_optimizer_of_a_multi_optimizer() -> None:
    model = nn.Linear(3, 1)
    optimizer = optim.MultiOptimizer([optim.SGD(0.1), optim.Adam(0.01)], [lambda name, _: "bias" in name])
    guard = ScheduleGuard(optimizer)
    grads = nn.value_and_grad(model, lambda m: m(mx.ones((2, 3))).sum())(model)[1]
    optimizer.update(model, grads)
    guard.check()
    optimizer.optimizers[1].update(model, {"weight": grads["weight"]})  # only the second one moves
    with pytest.raises(FrozenScheduleError, match="reads 1 again"):
        guard.check()


@pytest.mark.parametrize(
    ("schedule", "oracle"),
    [
        (CosineDecay(0.5, decay_steps=8, end_lr=0.05), cosine_oracle),
        (optim.linear_schedule(0.5, 0.125, 4), lambda i: 0.5 + (0.125 - 0.5) * min(i, 4) / 4),
    ],
    ids=["mlx_lrsched.CosineDecay", "mlx.optimizers.linear_schedule"],
)
def test_compile_step_applies_schedule_i_at_update_i(schedule: Any, oracle: Callable[[int], float]) -> None:
    model = Weights()
    optimizer = optim.SGD(learning_rate=schedule)
    step = compile_step(make_step(model, optimizer), model, optimizer)
    rates = applied_lrs(model, step, 12)  # past the end of both schedules
    np.testing.assert_allclose(rates, [oracle(i) for i in range(12)], rtol=1e-6)
    assert optimizer.step.item() == 12


def test_compile_step_matches_the_eager_loop_with_adamw() -> None:
    def run(compiled: bool) -> tuple[nn.Module, optim.Optimizer, list[float]]:
        mx.random.seed(7)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
        x, y = mx.random.normal((32, 4)), mx.random.normal((32, 1))
        optimizer = optim.AdamW(learning_rate=CosineDecay(3e-2, decay_steps=15, end_lr=1e-3), weight_decay=0.1)

        def train_step(inputs: mx.array, targets: mx.array) -> mx.array:
            loss, grads = nn.value_and_grad(model, lambda m: nn.losses.mse_loss(m(inputs), targets))(model)
            optimizer.update(model, grads)
            return loss

        step = compile_step(train_step, model, optimizer) if compiled else train_step
        losses = [step(x, y).item() for _ in range(20)]
        return model, optimizer, losses

    eager_model, eager_opt, eager_losses = run(compiled=False)
    model, optimizer, losses = run(compiled=True)
    assert optimizer.step.item() == eager_opt.step.item() == 20
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-5)
    for (name, value), (_, expected) in zip(
        tree_flatten(model.parameters()), tree_flatten(eager_model.parameters()), strict=True
    ):
        np.testing.assert_allclose(np.array(value), np.array(expected), rtol=1e-5, atol=1e-7, err_msg=name)
    for (name, value), (_, expected) in zip(tree_flatten(optimizer.state), tree_flatten(eager_opt.state), strict=True):
        np.testing.assert_allclose(np.array(value), np.array(expected), rtol=1e-5, atol=1e-9, err_msg=name)


def test_compile_step_advances_every_inner_optimizer_of_a_multi_optimizer() -> None:
    model = nn.Linear(3, 1)
    schedules = [CosineDecay(0.1, decay_steps=8), CosineDecay(0.01, decay_steps=4)]
    inner = [optim.SGD(learning_rate=schedules[0]), optim.Adam(learning_rate=schedules[1])]
    optimizer = optim.MultiOptimizer(inner, [lambda name, _: "bias" in name])

    def train_step(x: mx.array) -> mx.array:
        loss, grads = nn.value_and_grad(model, lambda m: m(x).sum())(model)
        optimizer.update(model, grads)
        return loss

    step = compile_step(train_step, model, optimizer)
    for update in range(6):
        step(mx.ones((2, 3)))
        for schedule, sub in zip(schedules, inner, strict=True):
            assert sub.step.item() == update + 1
            assert sub.learning_rate.item() == pytest.approx(float(schedule(np.int64(update))), rel=1e-6, abs=1e-9)


def test_compile_step_initialises_the_optimizer_so_the_tree_holds_its_moments() -> None:
    model = nn.Linear(3, 2)
    optimizer = optim.AdamW(learning_rate=1e-3)
    step = compile_step(lambda: None, model, optimizer, check_steps=0)
    moments = {name for name, _ in tree_flatten(step.tree[1])}
    assert {"weight.m", "weight.v", "bias.m", "bias.v", "step", "learning_rate"} <= moments


def test_compiled_step_exposes_the_compiled_function_and_tree() -> None:
    model = Weights()
    optimizer = optim.SGD(learning_rate=0.1)
    extra = {"scale": mx.array(1.0)}
    fn = make_step(model, optimizer)
    step = compile_step(fn, model, optimizer, state=[extra])
    assert isinstance(step, CompiledStep)
    assert step.fn is fn and step.__wrapped__ is fn and step.__name__ == "step"  # type: ignore[attr-defined]
    assert step.tree[0] is model.state and step.tree[1] is optimizer.state
    assert step.tree[2] is mx.random.state and step.tree[3] is extra
    assert callable(step.compiled)


def test_compile_step_carries_extra_state_both_ways() -> None:
    model = Weights()
    optimizer = optim.SGD(learning_rate=0.1)
    extra = {"scale": mx.array(1.0), "calls": mx.array(0)}

    def step() -> mx.array:
        _, grads = nn.value_and_grad(model, linear_loss)(model)
        optimizer.update(model, grads)
        extra["calls"] = extra["calls"] + 1  # written inside the step
        return extra["scale"] * 10.0  # read inside the step

    compiled = compile_step(step, model, optimizer, state=[extra])
    assert compiled().item() == 10.0
    extra["scale"] = mx.array(3.0)  # changed outside, e.g. a plateau schedule reacting to a validation loss
    assert compiled().item() == 30.0
    compiled()
    assert extra["calls"].item() == 3


def test_compile_step_carries_the_random_state() -> None:
    def draws(compiled: bool) -> list[float]:
        mx.random.seed(11)
        model = Weights()
        optimizer = optim.SGD(learning_rate=0.1)

        def step() -> mx.array:
            make_step(model, optimizer)()
            return mx.random.uniform()  # a dropout mask draws from the same key

        run = compile_step(step, model, optimizer) if compiled else step
        return [run().item() for _ in range(4)]

    compiled_draws = draws(compiled=True)
    assert compiled_draws == draws(compiled=False)
    assert len(set(compiled_draws)) == 4


def test_compile_step_guard_raises_when_the_step_never_updates() -> None:
    model = Weights()
    optimizer = optim.SGD(learning_rate=0.1)
    step = compile_step(lambda: linear_loss(model), model, optimizer)
    with pytest.raises(FrozenScheduleError, match="reads 0 again"):
        step()


def test_compile_step_without_checks_accepts_a_step_that_skips_updates() -> None:
    model = Weights()
    optimizer = optim.SGD(learning_rate=0.1)
    step = compile_step(lambda: linear_loss(model), model, optimizer, check_steps=0)
    for _ in range(3):
        step()
    assert optimizer.step.item() == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"check_steps": -1}, ValueError, "check_steps must be an integer >= 0, got -1"),
        ({"check_steps": True}, ValueError, "check_steps must be an integer >= 0, got True"),
        ({"state": "scale"}, TypeError, "state must be a list of trees of mx.array, got str"),
    ],
)
def test_compile_step_rejects_bad_arguments(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    model = Weights()
    optimizer = optim.SGD(learning_rate=0.1)
    with pytest.raises(error, match=match):
        compile_step(make_step(model, optimizer), model, optimizer, **kwargs)


def test_guard_rejects_negative_checks() -> None:
    with pytest.raises(ValueError, match="checks must be an integer >= 0, got -2"):
        ScheduleGuard(optim.SGD(learning_rate=0.1), checks=-2)


# -- a learning rate assigned by hand while a schedule is set (mlx-examples transformer_lm's warm-up line)


def _assigning_loop(optimizer: Any, model: Weights, steps: int, compiled: CompiledStep[[], mx.array]) -> list[Any]:
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for it in range(steps):
            optimizer.learning_rate = min(1.0, (it + 1) / 10) * 0.5  # transformer_lm: lr = min(1, it / warmup) * lr
            compiled()
    return [w for w in caught if issubclass(w.category, UserWarning)]


def test_assigning_the_learning_rate_while_a_schedule_is_set_warns_once() -> None:
    model = Weights()
    optimizer = optim.SGD(learning_rate=CosineDecay(0.5, decay_steps=8, end_lr=0.05))
    step = compile_step(make_step(model, optimizer), model, optimizer)
    caught = _assigning_loop(optimizer, model, 5, step)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "optimizer.learning_rate was assigned by hand" in message
    assert "schedule" in message and "ignored" in message
    assert caught[0].filename == __file__  # points at the loop, not at mlx_lrsched
    # the schedule really does win: the rate stored by the last update is eta(4), not the assigned 0.25
    assert optimizer.learning_rate.item() == pytest.approx(cosine_oracle(4), rel=1e-6)
    # once per optimizer: a new compiled step for the same optimizer stays quiet
    again = compile_step(make_step(model, optimizer), model, optimizer)
    assert _assigning_loop(optimizer, model, 3, again) == []


def test_assigning_a_plain_float_learning_rate_does_not_warn_and_takes_effect() -> None:
    model = Weights()
    optimizer = optim.SGD(learning_rate=0.5)  # transformer_lm's case: no schedule, the assignment is the rate
    step = compile_step(make_step(model, optimizer), model, optimizer)
    assert _assigning_loop(optimizer, model, 3, step) == []
    model.w = mx.zeros((3,))
    optimizer.learning_rate = 0.125
    step()
    mx.eval(model.state)
    np.testing.assert_array_equal(-np.array(model.w) / np.array(GRAD), [0.125] * 3)


def test_restoring_the_scheduled_rate_in_place_does_not_warn() -> None:
    import warnings

    model = Weights()
    optimizer = optim.SGD(learning_rate=CosineDecay(0.5, decay_steps=8, end_lr=0.05))
    step = compile_step(make_step(model, optimizer), model, optimizer)
    for _ in range(3):
        step()
    saved = {k: mx.array(optimizer.state[k]) for k in ("step", "learning_rate")}  # a checkpoint of step 3
    for _ in range(2):
        step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizer.state["step"], optimizer.state["learning_rate"] = saved["step"], saved["learning_rate"]
        step()  # an in-place restore puts back schedule(step - 1): not a hand-assigned rate
    assert optimizer.step.item() == 4


# -- optimizer.state replaced after compile_step


def test_replacing_optimizer_state_after_compile_step_raises_a_clear_error(tmp_path: Any) -> None:
    from mlx.utils import tree_unflatten

    model = nn.Linear(2, 1)
    optimizer = optim.AdamW(learning_rate=1e-2)
    optimizer.init(model.trainable_parameters())
    mx.save_safetensors(str(tmp_path / "opt.safetensors"), dict(tree_flatten(optimizer.state)))

    def step(x: mx.array) -> mx.array:
        loss, grads = nn.value_and_grad(model, lambda m: m(x).sum())(model)
        optimizer.update(model, grads)
        return loss

    def loaded() -> dict[str, Any]:
        return tree_unflatten(list(mx.load(str(tmp_path / "opt.safetensors")).items()))

    # what MLX does on its own: the compiled tree holds the old dict, the new one ends up with tracers
    tree = [model.state, optimizer.state, mx.random.state]
    raw = mx.compile(step, inputs=tree, outputs=tree)
    optimizer.state = loaded()
    with pytest.raises(RuntimeError, match="without a primitive"):
        mx.eval(raw(mx.ones((4, 2))), model.state, optimizer.state)

    optimizer.state = loaded()
    compiled = compile_step(step, model, optimizer)
    compiled(mx.ones((4, 2)))
    optimizer.state = loaded()  # e.g. a checkpoint restored by assignment
    with pytest.raises(RuntimeError, match=r"optimizer\.state was replaced after compile_step") as raised:
        compiled(mx.ones((4, 2)))
    assert "restore optimizer.state before calling compile_step, or call compile_step again" in str(raised.value)
    again = compile_step(step, model, optimizer)  # the documented fix works
    for _ in range(3):
        mx.eval(again(mx.ones((4, 2))), model.state, optimizer.state)
    assert optimizer.step.item() == 3


def test_replacing_an_inner_state_of_a_multi_optimizer_is_detected() -> None:
    model = nn.Linear(3, 1)
    optimizer = optim.MultiOptimizer([optim.SGD(0.1), optim.Adam(0.01)], [lambda name, _: "bias" in name])

    def step() -> mx.array:
        loss, grads = nn.value_and_grad(model, lambda m: m(mx.ones((2, 3))).sum())(model)
        optimizer.update(model, grads)
        return loss

    compiled = compile_step(step, model, optimizer)
    compiled()
    optimizer.optimizers[1].state = tree_map(mx.array, optimizer.optimizers[1].state)
    with pytest.raises(RuntimeError, match=r"optimizer\.state was replaced"):
        compiled()
