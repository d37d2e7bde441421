"""Momentum / beta1 scheduling on real mlx optimizers: the literal update rules, compile, checkpoints, PyTorch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np
import pytest
from mlx.utils import tree_flatten, tree_unflatten

from mlx_lrsched.decay import Constant, PiecewiseConstant
from mlx_lrsched.hyper import ScheduledValue, apply_one_cycle, schedule_momentum
from mlx_lrsched.one_cycle import OneCycle

NUM_UPDATES = 8
LR = 0.05
# momentum / beta1 per update: 0.5 for updates 0-2, 0.9 for 3-5, 0.7 from 6 on.
MOMENTUM = PiecewiseConstant([2, 5], [0.5, 0.9, 0.7])


def known_gradients() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.normal(size=4).astype(np.float32) for _ in range(NUM_UPDATES)]


def run(optimizer: Any, compiled: bool) -> list[np.ndarray]:
    """Apply the known gradients to w = 1 (eagerly or in a compiled step); the weights after each update."""
    parameters = {"w": mx.ones(4)}
    optimizer.init(parameters)

    def apply(g: mx.array) -> None:
        parameters["w"] = optimizer.apply_gradients({"w": g}, parameters)["w"]

    tree = [parameters, optimizer.state]
    step = mx.compile(apply, inputs=tree, outputs=tree) if compiled else apply
    history = []
    for g in known_gradients():
        step(mx.array(g))
        history.append(np.array(parameters["w"]))
    return history


def momenta() -> np.ndarray:
    return MOMENTUM(np.arange(NUM_UPDATES))


def sgd_reference(nesterov: bool) -> list[np.ndarray]:
    """torch/mlx SGD with momentum mu_t, written out: v = mu_t v + g; w -= lr (g + mu_t v if nesterov else v)."""
    w, v, history = np.ones(4), np.zeros(4), []
    for mu, g in zip(momenta(), known_gradients(), strict=True):
        v = mu * v + g
        w = w - LR * (g + mu * v if nesterov else v)
        history.append(w)
    return history


def adam_reference(bias_correction: bool, eps: float = 1e-8, b2: float = 0.999) -> list[np.ndarray]:
    """Adam with beta1_t: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2 (mlx form, optional bias correction)."""
    w, m, v, history = np.ones(4), np.zeros(4), np.zeros(4), []
    for t, (b1, g) in enumerate(zip(momenta(), known_gradients(), strict=True), start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g.astype(np.float64) ** 2
        if bias_correction:
            w = w - (LR / (1 - b1**t)) * m / (np.sqrt(v) / np.sqrt(1 - b2**t) + eps)
        else:
            w = w - LR * m / (np.sqrt(v) + eps)
        history.append(w)
    return history


def lion_reference(b2: float = 0.99) -> list[np.ndarray]:
    """Lion with beta1_t: c = b1 m + (1 - b1) g; m = b2 m + (1 - b2) g; w -= lr sign(c)."""
    w, m, history = np.ones(4), np.zeros(4), []
    for b1, g in zip(momenta(), known_gradients(), strict=True):
        c = b1 * m + (1 - b1) * g
        m = b2 * m + (1 - b2) * g
        w = w - LR * np.sign(c)
        history.append(w)
    return history


CASES = {
    "sgd": (lambda: optim.SGD(learning_rate=LR), lambda: sgd_reference(False)),
    "sgd-nesterov": (lambda: optim.SGD(learning_rate=LR, momentum=0.1, nesterov=True), lambda: sgd_reference(True)),
    "sgd-from-zero-momentum": (lambda: optim.SGD(learning_rate=LR, momentum=0.0), lambda: sgd_reference(False)),
    "adam": (lambda: optim.Adam(learning_rate=LR), lambda: adam_reference(False)),
    "adam-bias-correction": (
        lambda: optim.Adam(learning_rate=LR, bias_correction=True),
        lambda: adam_reference(True),
    ),
    "adamw-no-decay": (lambda: optim.AdamW(learning_rate=LR, weight_decay=0.0), lambda: adam_reference(False)),
    "lion": (lambda: optim.Lion(learning_rate=LR), lion_reference),
}


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "eager"])
@pytest.mark.parametrize("case", list(CASES))
def test_scheduled_momentum_update_is_the_literal_rule(case: str, compiled: bool) -> None:
    make_optimizer, reference = CASES[case]
    history = run(schedule_momentum(make_optimizer(), MOMENTUM), compiled)
    for t, (ours, expected) in enumerate(zip(history, reference(), strict=True)):
        np.testing.assert_allclose(ours, expected, rtol=2e-5, atol=1e-6, err_msg=f"update {t}")


@pytest.mark.parametrize(("make", "key"), [(optim.SGD, "momentum"), (optim.Adam, "beta1"), (optim.Lion, "beta1")])
def test_scheduled_value_is_stored_in_state_per_update(make: Any, key: str) -> None:
    optimizer = schedule_momentum(make(learning_rate=LR), MOMENTUM)
    seen = []
    parameters = {"w": mx.ones(4)}
    for g in known_gradients():
        parameters = optimizer.apply_gradients({"w": mx.array(g)}, parameters)
        seen.append(optimizer.state[key].item())
    np.testing.assert_allclose(seen, momenta(), rtol=1e-7)  # update t used MOMENTUM(t)


def test_adam_default_betas_list_is_not_mutated() -> None:
    schedule_momentum(optim.Adam(learning_rate=LR), MOMENTUM)
    assert optim.Adam(learning_rate=LR).betas == [0.9, 0.999]


def test_second_beta_is_kept() -> None:
    optimizer = schedule_momentum(optim.AdamW(learning_rate=LR, betas=[0.8, 0.95]), MOMENTUM)
    assert isinstance(optimizer.betas[0], ScheduledValue) and optimizer.betas[1] == 0.95


def test_checkpoint_restore_continues_the_momentum_schedule(tmp_path: Path) -> None:
    grads = known_gradients()
    uninterrupted = run(schedule_momentum(optim.SGD(learning_rate=LR), MOMENTUM), compiled=True)

    optimizer = schedule_momentum(optim.SGD(learning_rate=LR), MOMENTUM)
    parameters = {"w": mx.ones(4)}
    for g in grads[:4]:
        parameters = optimizer.apply_gradients({"w": mx.array(g)}, parameters)
    mx.save_safetensors(str(tmp_path / "opt.safetensors"), dict(tree_flatten(optimizer.state)))
    assert "momentum" in mx.load(str(tmp_path / "opt.safetensors"))

    restored = schedule_momentum(optim.SGD(learning_rate=LR), MOMENTUM)
    restored.state = tree_unflatten(list(mx.load(str(tmp_path / "opt.safetensors")).items()))
    tree = [parameters, restored.state]

    def apply(g: mx.array) -> None:
        parameters["w"] = restored.apply_gradients({"w": g}, parameters)["w"]

    step = mx.compile(apply, inputs=tree, outputs=tree)
    for t, g in enumerate(grads[4:], start=4):
        step(mx.array(g))
        np.testing.assert_allclose(np.array(parameters["w"]), uninterrupted[t], rtol=1e-6, err_msg=f"update {t}")
        assert restored.state["momentum"].item() == pytest.approx(momenta()[t])


@pytest.mark.parametrize("schedule", [Constant(1.0), PiecewiseConstant([3], [0.9, 1.0]), 1.5])
def test_rejects_momentum_schedules_reaching_one(schedule: Any) -> None:
    with pytest.raises(ValueError, match="schedule_momentum: schedule must stay in \\[0, 1\\)"):
        schedule_momentum(optim.SGD(learning_rate=LR), schedule)


def test_accepts_momentum_just_below_one() -> None:
    optimizer = schedule_momentum(optim.SGD(learning_rate=LR), 0.99)
    assert float(optimizer.momentum) == pytest.approx(0.99)


@pytest.mark.parametrize("optimizer", [optim.RMSprop(learning_rate=LR), optim.Adagrad(learning_rate=LR)])
def test_rejects_optimizers_without_momentum(optimizer: Any) -> None:
    with pytest.raises(TypeError, match="has neither `momentum` nor `betas`"):
        schedule_momentum(optimizer, MOMENTUM)


def test_rejects_multi_optimizer_and_non_optimizers() -> None:
    with pytest.raises(TypeError, match="MultiOptimizer"):
        schedule_momentum(optim.MultiOptimizer([optim.SGD(learning_rate=LR)]), MOMENTUM)
    with pytest.raises(TypeError, match=r"must be an mlx\.optimizers optimizer"):
        schedule_momentum(object(), MOMENTUM)


def test_scheduled_value_refuses_comparisons_it_cannot_answer() -> None:
    momentum = schedule_momentum(optim.SGD(learning_rate=LR), MOMENTUM).momentum
    assert (momentum <= 0) is False and (momentum > 0) is True
    with pytest.raises(TypeError, match=r"cannot be compared with 0\.5"):
        _ = momentum < 0.5


def test_apply_one_cycle_rejects_other_schedules() -> None:
    with pytest.raises(TypeError, match="apply_one_cycle: schedule must be a OneCycle"):
        apply_one_cycle(optim.SGD(learning_rate=LR), Constant(0.1))


# ------------------------------------------------------------------------- PyTorch OneCycleLR oracle

TOTAL = 60


@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_one_cycle_momentum_matches_torch_per_step(anneal: str, three_phase: bool) -> None:
    torch = pytest.importorskip("torch", reason="the PyTorch oracle needs torch (pip install 'mlx-lrsched[torch]')")
    parameter = torch.nn.Parameter(torch.zeros(1))
    torch_optimizer = torch.optim.SGD([parameter], lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        torch_optimizer,
        max_lr=0.4,
        total_steps=TOTAL,
        pct_start=0.25,
        anneal_strategy=anneal,
        three_phase=three_phase,
        cycle_momentum=True,
        base_momentum=0.8,
        max_momentum=0.95,
    )
    torch_lr, torch_momentum = [], []
    for _ in range(TOTAL):
        torch_lr.append(torch_optimizer.param_groups[0]["lr"])
        torch_momentum.append(torch_optimizer.param_groups[0]["momentum"])
        torch_optimizer.step()
        scheduler.step()

    schedule = OneCycle(0.4, total_steps=TOTAL, pct_start=0.25, anneal=anneal, three_phase=three_phase)
    optimizer = apply_one_cycle(optim.SGD(learning_rate=0.1), schedule, base_momentum=0.8, max_momentum=0.95)
    gradients = np.random.default_rng(0).normal(size=(TOTAL, 3)).astype(np.float32)
    parameters = {"w": mx.zeros(3)}
    used_lr, used_momentum, weights = [], [], []
    for g in gradients:
        parameters = optimizer.apply_gradients({"w": mx.array(g)}, parameters)
        used_lr.append(optimizer.learning_rate.item())
        used_momentum.append(optimizer.state["momentum"].item())
        weights.append(np.array(parameters["w"]))
    np.testing.assert_allclose(used_momentum, torch_momentum, rtol=1e-6)
    np.testing.assert_allclose(used_lr, torch_lr, rtol=1e-5)
    # The momentum really drives the update: torch's SGD rule with torch's momentum per step.
    w, v = np.zeros(3), np.zeros(3)
    for t, g in enumerate(gradients):
        v = torch_momentum[t] * v + g
        w = w - torch_lr[t] * v
        np.testing.assert_allclose(weights[t], w, rtol=1e-4, atol=1e-6, err_msg=f"update {t}")


def test_one_cycle_beta1_matches_torch_adam() -> None:
    torch = pytest.importorskip("torch", reason="the PyTorch oracle needs torch (pip install 'mlx-lrsched[torch]')")
    parameter = torch.nn.Parameter(torch.zeros(1))
    torch_optimizer = torch.optim.Adam([parameter], lr=0.1)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(torch_optimizer, max_lr=0.01, total_steps=TOTAL)
    torch_beta1 = []
    for _ in range(TOTAL):
        torch_beta1.append(torch_optimizer.param_groups[0]["betas"][0])
        torch_optimizer.step()
        scheduler.step()
    optimizer = apply_one_cycle(optim.Adam(learning_rate=0.1), OneCycle(0.01, total_steps=TOTAL))
    parameters = {"w": mx.zeros(1)}
    ours = []
    for _ in range(TOTAL):
        parameters = optimizer.apply_gradients({"w": mx.ones(1)}, parameters)
        ours.append(optimizer.state["beta1"].item())
    np.testing.assert_allclose(ours, torch_beta1, rtol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda: optim.SGD(learning_rate=0.1),
        lambda: optim.Adam(learning_rate=0.1),
        lambda: optim.Lion(learning_rate=0.1),
    ],
    ids=["sgd", "adam", "lion"],
)
def test_scheduled_momentum_keeps_low_precision_parameters_in_their_dtype(make):
    # A float momentum is weakly typed; the scheduled float32 value must not promote bfloat16 parameters.
    optimizer = schedule_momentum(make(), PiecewiseConstant([1], [0.5, 0.9]))
    params = {"w": mx.ones((3,), dtype=mx.bfloat16)}
    for _ in range(3):
        params = optimizer.apply_gradients({"w": mx.full((3,), 0.5, dtype=mx.bfloat16)}, params)
        assert params["w"].dtype == mx.bfloat16
