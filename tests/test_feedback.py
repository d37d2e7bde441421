"""ReduceOnPlateau and GradNormScaled: semantics, compiled training loops, checkpoints, seed 000 formula."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np
import pytest
from mlx.utils import tree_flatten, tree_unflatten

from mlx_lrsched._state import attached_keys
from mlx_lrsched.base import from_config
from mlx_lrsched.decay import Constant, ExponentialDecay, PiecewiseConstant
from mlx_lrsched.feedback import GradNormScaled, ReduceOnPlateau
from mlx_lrsched.training import compile_step

# ------------------------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"factor": 1.0}, "factor"),
        ({"factor": 1.5}, "factor"),
        ({"factor": 0.0}, "factor"),
        ({"patience": -1}, "patience"),
        ({"patience": 2.0}, "patience"),
        ({"mode": "minimum"}, "mode"),
        ({"threshold_mode": "relative"}, "threshold_mode"),
        ({"threshold": -1e-4}, "threshold"),
        ({"threshold": 1.0, "threshold_mode": "rel"}, "threshold"),
        ({"cooldown": -1}, "cooldown"),
        ({"min_lr": -1e-6}, "min_lr"),
        ({"eps": -1.0}, "eps"),
        ({"eps": math.nan}, "eps"),
    ],
)
def test_plateau_rejects_bad_arguments_naming_them(kwargs: dict[str, Any], parameter: str) -> None:
    with pytest.raises((ValueError, TypeError), match=f"ReduceOnPlateau: {parameter} "):
        ReduceOnPlateau(0.1, **kwargs)


def test_plateau_accepts_large_abs_threshold_and_uses_it() -> None:
    # abs thresholds have no upper bound (rel ones must be below 1); 5.0 must act as a margin of 5
    plateau = ReduceOnPlateau(0.1, factor=0.5, patience=0, threshold=5.0, threshold_mode="abs")
    assert [plateau.update(m) for m in [10.0, 5.5, 5.0, 4.75]] == [False, True, True, False]
    assert plateau.best == 4.75 and plateau.num_reductions == 2
    assert float(plateau(np.int64(0))) == pytest.approx(0.025, rel=1e-12)


@pytest.mark.parametrize("schedule", ["0.1", None, -0.1])
def test_plateau_rejects_bad_base_schedule(schedule: Any) -> None:
    with pytest.raises((ValueError, TypeError), match="ReduceOnPlateau: schedule"):
        ReduceOnPlateau(schedule)


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [({"floor": 1.5}, "floor"), ({"floor": -0.1}, "floor"), ({"min_lr": -1.0}, "min_lr"), ({"norm": "l3"}, "norm")],
)
def test_grad_norm_scaled_rejects_bad_arguments_naming_them(kwargs: dict[str, Any], parameter: str) -> None:
    with pytest.raises((ValueError, TypeError), match=f"GradNormScaled: {parameter} "):
        GradNormScaled(0.1, **kwargs)


@pytest.mark.parametrize("metric", ["0.5", True, None, [0.5]])
def test_update_rejects_non_numbers(metric: Any) -> None:
    with pytest.raises(TypeError, match="metric must be a real number"):
        ReduceOnPlateau(0.1).update(metric)


# ------------------------------------------------------------------------------------------ semantics


def run_updates(plateau: ReduceOnPlateau, metrics: list[float]) -> list[float]:
    """The scale after each update."""
    scales = []
    for metric in metrics:
        plateau.update(metric)
        scales.append(plateau.scale)
    return scales


def test_reduces_after_patience_bad_evaluations() -> None:
    # best 1.0 at epoch 0; epochs 1, 2 are bad (<= patience 2), epoch 3 is the third bad one -> reduce.
    plateau = ReduceOnPlateau(1.0, factor=0.5, patience=2)
    assert run_updates(plateau, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]) == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]


def test_max_mode_counts_a_decrease_as_bad() -> None:
    plateau = ReduceOnPlateau(1.0, factor=0.5, patience=0, mode="max")
    assert run_updates(plateau, [0.5, 0.6, 0.55, 0.7]) == [1, 1, 0.5, 0.5]


def test_rel_threshold_needs_a_relative_margin() -> None:
    # improvement needs current < best * (1 - 0.1): 0.95 is not one, 0.89 is.
    plateau = ReduceOnPlateau(1.0, factor=0.5, patience=0, threshold=0.1)
    assert run_updates(plateau, [1.0, 0.95, 0.89]) == [1, 0.5, 0.5]
    assert plateau.best == pytest.approx(0.89, rel=1e-7)


def test_abs_threshold_needs_an_absolute_margin() -> None:
    plateau = ReduceOnPlateau(1.0, factor=0.5, patience=0, threshold=0.2, threshold_mode="abs")
    assert run_updates(plateau, [1.0, 0.85, 0.75]) == [1, 0.5, 0.5]


def test_cooldown_ignores_bad_evaluations_after_a_reduction() -> None:
    # patience 0: every bad evaluation reduces, except the 2 cooldown evaluations after each reduction.
    plateau = ReduceOnPlateau(1.0, factor=0.5, patience=0, cooldown=2)
    assert run_updates(plateau, [1.0, 2.0, 2.0, 2.0, 2.0]) == [1, 0.5, 0.5, 0.5, 0.25]


def test_min_lr_floors_a_constant_base() -> None:
    plateau = ReduceOnPlateau(1.0, factor=0.1, patience=0, min_lr=0.05)
    run_updates(plateau, [1.0, 2.0, 2.0, 2.0])
    # 1 -> 0.1 -> max(0.01, 0.05) = 0.05 -> skipped (already at min_lr): two reductions counted.
    assert plateau.num_reductions == 2
    np.testing.assert_allclose(plateau(np.arange(3)), 0.05, rtol=1e-15)


def test_min_lr_never_lifts_a_varying_base_above_itself() -> None:
    base = PiecewiseConstant([5], [1.0, 0.01])
    plateau = ReduceOnPlateau(base, factor=0.1, patience=0, min_lr=0.05)
    run_updates(plateau, [1.0, 2.0, 2.0])  # two reductions: scale 0.01
    steps = np.arange(10)
    b = base(steps)
    expected = np.minimum(b, np.maximum(b * 0.01, 0.05))  # the docstring formula, literally
    np.testing.assert_allclose(plateau(steps), expected, rtol=1e-15)
    assert plateau(steps)[9] == pytest.approx(0.01)  # base below min_lr stays as it is


def test_eps_skips_reductions_smaller_than_eps() -> None:
    plateau = ReduceOnPlateau(1e-8, factor=0.1, patience=0, eps=1e-8)
    assert run_updates(plateau, [1.0, 2.0]) == [1, 1]  # 1e-8 - 1e-9 <= eps: skipped, as in PyTorch
    assert plateau.num_reductions == 0


def test_nan_counts_as_a_bad_evaluation_and_never_becomes_best() -> None:
    plateau = ReduceOnPlateau(1.0, factor=0.5, patience=1)
    assert run_updates(plateau, [1.0, math.nan, math.nan, 0.9]) == [1, 1, 0.5, 0.5]
    assert plateau.best == pytest.approx(0.9, rel=1e-7)  # 0.9 still compares against 1.0, not NaN


@pytest.mark.parametrize(
    "metric", [0.5, np.float64(0.5), np.float32(0.5), mx.array(0.5), mx.array([0.5]), np.array(0.5), 1]
)
def test_update_accepts_python_numpy_and_mlx_scalars(metric: Any) -> None:
    plateau = ReduceOnPlateau(1.0)
    plateau.update(metric)
    assert plateau.best == float(metric)


def test_update_returns_whether_it_reduced() -> None:
    plateau = ReduceOnPlateau(1.0, patience=0)
    assert [plateau.update(m) for m in [1.0, 1.0, 0.5]] == [False, True, False]


def test_metric_is_rounded_to_float32() -> None:
    plateau = ReduceOnPlateau(1.0)
    plateau.update(0.1)
    assert plateau.best == float(np.float32(0.1))


def test_numpy_reference_uses_the_scale_in_float64() -> None:
    plateau = ReduceOnPlateau(0.3, factor=0.1, patience=0)
    run_updates(plateau, [1.0, 2.0, 2.0, 2.0])
    assert plateau.num_reductions == 3
    reference = plateau(np.arange(4))
    assert reference.dtype == np.float64
    np.testing.assert_allclose(reference, 0.3 * 0.1**3, rtol=1e-15, atol=0)
    mlx_value = plateau(mx.arange(4, dtype=mx.uint64))
    assert mlx_value.dtype == mx.float32
    np.testing.assert_allclose(np.array(mlx_value), 0.3 * 0.1**3, rtol=2e-7)


def test_config_round_trip_rebuilds_a_fresh_plateau() -> None:
    plateau = ReduceOnPlateau(ExponentialDecay(0.1, 0.5), factor=0.2, patience=3, mode="max", cooldown=1)
    plateau.update(1.0)
    rebuilt = from_config(plateau.to_json())
    assert rebuilt == plateau
    assert rebuilt.best == -math.inf and plateau.best == 1.0


def test_peak_is_the_base_peak() -> None:
    assert ReduceOnPlateau(PiecewiseConstant([3], [0.2, 0.5])).peak == 0.5


# ------------------------------------------------------------------------------------------ attach


def test_attach_stores_the_state_in_optimizer_state() -> None:
    plateau = ReduceOnPlateau(0.1, patience=0)
    optimizer = plateau.attach(optim.SGD(learning_rate=plateau))
    assert optimizer.state["reduce_on_plateau"] is plateau.state
    plateau.update(1.0)
    plateau.update(2.0)
    assert optimizer.state["reduce_on_plateau"]["num_reductions"].item() == 1


def test_attach_adopts_a_restored_state() -> None:
    first = ReduceOnPlateau(0.1, patience=0)
    first.attach(optim.SGD(learning_rate=first))
    run_updates(first, [1.0, 2.0])
    second = ReduceOnPlateau(0.1, patience=0)
    optimizer = optim.SGD(learning_rate=second)
    optimizer.state["reduce_on_plateau"] = dict(first.state)
    second.attach(optimizer)
    assert second.scale == pytest.approx(0.1) and second.best == 1.0


def test_assigning_a_loaded_optimizer_state_is_seen_by_an_attached_plateau() -> None:
    plateau = ReduceOnPlateau(0.1, patience=0)
    optimizer = plateau.attach(optim.SGD(learning_rate=plateau))
    loaded = {key: dict(value) if isinstance(value, dict) else value for key, value in optimizer.state.items()}
    loaded["reduce_on_plateau"]["num_reductions"] = mx.array(2, dtype=mx.int32)
    optimizer.state = loaded
    assert plateau.num_reductions == 2
    np.testing.assert_allclose(np.array(plateau(mx.array(0))), 1e-3, rtol=1e-6)


def test_attach_rejects_a_malformed_state() -> None:
    optimizer = optim.SGD(learning_rate=0.1)
    optimizer.state["reduce_on_plateau"] = {"best": mx.array(1.0)}
    with pytest.raises(ValueError, match="must hold the keys"):
        ReduceOnPlateau(0.1).attach(optimizer)


def test_attach_rejects_multi_optimizer() -> None:
    multi = optim.MultiOptimizer([optim.SGD(learning_rate=0.1)])
    with pytest.raises(TypeError, match="MultiOptimizer"):
        ReduceOnPlateau(0.1).attach(multi)


# --------------------------------------------------- compiled training loop with plateau, checkpoints

STEPS_PER_EPOCH = 3
# epoch metrics: improving for 3 epochs, then flat. patience 2 -> the update after epoch 5 (third flat one)
# reduces, so epochs 6.. train at 0.05; three more flat epochs (6, 7, 8) reduce again after epoch 8.
EPOCH_METRICS = [1.0, 0.8, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
EXPECTED_EPOCH_LR = [0.1] * 6 + [0.05] * 3 + [0.025]


def make_run(seed: int = 0) -> tuple[nn.Module, optim.Optimizer, ReduceOnPlateau, Any]:
    mx.random.seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    plateau = ReduceOnPlateau(0.1, factor=0.5, patience=2)
    optimizer = plateau.attach(optim.SGD(learning_rate=plateau, momentum=0.9))
    x = mx.random.normal((16, 4), key=mx.random.key(1))
    y = mx.random.normal((16, 1), key=mx.random.key(2))

    def train_step() -> mx.array:
        loss, grads = nn.value_and_grad(model, lambda m: nn.losses.mse_loss(m(x), y))(model)
        optimizer.update(model, grads)
        return loss

    return model, optimizer, plateau, train_step


def train_epochs(optimizer: optim.Optimizer, plateau: ReduceOnPlateau, step: Any, epochs: range) -> list[float]:
    """The learning rate used by every update, epoch after epoch, with one plateau update per epoch."""
    used = []
    for epoch in epochs:
        for _ in range(STEPS_PER_EPOCH):
            step()
            used.append(optimizer.learning_rate.item())  # the rate this update used
        plateau.update(EPOCH_METRICS[epoch])
    return used


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "eager"])
def test_training_loop_drops_the_rate_at_the_right_epoch(compiled: bool) -> None:
    model, optimizer, plateau, train_step = make_run()
    step = compile_step(train_step, model, optimizer) if compiled else train_step
    used = train_epochs(optimizer, plateau, step, range(len(EPOCH_METRICS)))
    expected = np.repeat(EXPECTED_EPOCH_LR, STEPS_PER_EPOCH)
    np.testing.assert_allclose(used, expected, rtol=1e-7)


def test_unattached_plateau_works_when_its_state_is_compiled_state() -> None:
    model = nn.Linear(2, 1)
    plateau = ReduceOnPlateau(0.1, factor=0.5, patience=0)
    optimizer = optim.SGD(learning_rate=plateau)

    def train_step() -> mx.array:
        loss, grads = nn.value_and_grad(model, lambda m: m(mx.ones((1, 2))).sum())(model)
        optimizer.update(model, grads)
        return loss

    step = compile_step(train_step, model, optimizer, state=[plateau.state])
    used = []
    for metric in [1.0, 2.0, 2.0]:
        step()
        used.append(optimizer.learning_rate.item())
        plateau.update(metric)
    np.testing.assert_allclose(used, [0.1, 0.1, 0.05], rtol=1e-7)


def test_compiled_and_eager_loops_train_the_same_weights() -> None:
    weights = []
    for compiled in (True, False):
        model, optimizer, plateau, train_step = make_run()
        step = compile_step(train_step, model, optimizer) if compiled else train_step
        train_epochs(optimizer, plateau, step, range(len(EPOCH_METRICS)))
        weights.append(np.concatenate([np.array(v).ravel() for _, v in tree_flatten(model.parameters())]))
    np.testing.assert_allclose(weights[0], weights[1], rtol=1e-5, atol=1e-6)


def save_checkpoint(path: Path, model: nn.Module, optimizer: optim.Optimizer) -> None:
    mx.save_safetensors(str(path / "model.safetensors"), dict(tree_flatten(model.parameters())))
    mx.save_safetensors(str(path / "optimizer.safetensors"), dict(tree_flatten(optimizer.state)))


def test_save_and_restore_mid_run_gives_the_uninterrupted_rate_sequence(tmp_path: Path) -> None:
    epochs = len(EPOCH_METRICS)
    model, optimizer, plateau, train_step = make_run()
    uninterrupted = train_epochs(optimizer, plateau, compile_step(train_step, model, optimizer), range(epochs))
    final_weights = tree_flatten(model.parameters())

    model, optimizer, plateau, train_step = make_run()
    first_half = train_epochs(optimizer, plateau, compile_step(train_step, model, optimizer), range(5))
    save_checkpoint(tmp_path, model, optimizer)
    assert plateau.num_bad_epochs == 2  # mid-plateau: the counter must survive the restore

    model, optimizer, plateau, train_step = make_run(seed=123)  # a fresh process: other initial weights
    model.load_weights(str(tmp_path / "model.safetensors"))
    optimizer.state = tree_unflatten(list(mx.load(str(tmp_path / "optimizer.safetensors")).items()))
    assert plateau.num_bad_epochs == 2 and plateau.best == pytest.approx(0.6)
    second_half = train_epochs(optimizer, plateau, compile_step(train_step, model, optimizer), range(5, epochs))

    assert first_half + second_half == uninterrupted
    for (name, restored), (_, expected) in zip(tree_flatten(model.parameters()), final_weights, strict=True):
        np.testing.assert_allclose(np.array(restored), np.array(expected), rtol=1e-6, err_msg=name)


# ------------------------------------------------------------------------------------------ GradNormScaled

NUM_UPDATES = 12


def known_gradients() -> list[dict[str, np.ndarray]]:
    """Gradients with global L2 norms from about 0.05 to 40, both sides of the 1/(n+1) = 0.1 kink at n = 9."""
    rng = np.random.default_rng(7)
    scales = np.geomspace(0.05, 40.0, NUM_UPDATES)
    rng.shuffle(scales)
    grads = []
    for scale in scales:
        weight = rng.normal(size=(3, 2)).astype(np.float32)
        bias = rng.normal(size=(3,)).astype(np.float32)
        norm = np.sqrt((weight.astype(np.float64) ** 2).sum() + (bias.astype(np.float64) ** 2).sum())
        grads.append({"weight": weight * np.float32(scale / norm), "bias": bias * np.float32(scale / norm)})
    return grads


SEED_BASE = ExponentialDecay.from_rate(0.1, k=0.5)  # seed 000: initial_learning_rate * exp(-decay_rate * t)


def seed_learning_rates(grads: list[dict[str, np.ndarray]], min_lr: float) -> np.ndarray:
    """Seed 000, example 3, literally: lr0 * exp(-k t) * max(0.1, 1 / (||g|| + 1)), then max(lr, min_lr)."""
    rates = []
    for t, g in enumerate(grads):
        gradient_magnitude = np.linalg.norm(np.concatenate([g["weight"].ravel(), g["bias"].ravel()]).astype(np.float64))
        learning_rate = 0.1 * np.exp(-0.5 * t) * np.maximum(0.1, 1 / (gradient_magnitude + 1))
        rates.append(max(learning_rate, min_lr))
    return np.array(rates)


def run_known_gradients(optimizer: optim.Optimizer, grads: list[dict[str, np.ndarray]], compiled: bool) -> tuple:
    mx.random.seed(0)
    model = nn.Linear(2, 3)
    model.weight = mx.array(np.arange(6, dtype=np.float32).reshape(3, 2) / 10)
    model.bias = mx.array(np.array([0.5, -0.5, 1.0], dtype=np.float32))
    initial = {k: np.array(v) for k, v in tree_flatten(model.parameters())}

    def apply(g: dict[str, mx.array]) -> None:
        optimizer.update(model, g)

    step = compile_step(apply, model, optimizer) if compiled else apply
    rates, params = [], []
    for g in grads:
        step({k: mx.array(v) for k, v in g.items()})
        rates.append(optimizer.learning_rate.item())
        params.append({k: np.array(v) for k, v in tree_flatten(model.parameters())})
    return initial, np.array(rates), params


MIN_LR = 1e-4  # reached: the base falls to 0.1 * exp(-5.5) = 4e-4, times 0.1 for large gradients


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "eager"])
def test_grad_norm_scaled_sgd_update_is_the_seed_formula(compiled: bool) -> None:
    grads = known_gradients()
    scaled = GradNormScaled(SEED_BASE, min_lr=MIN_LR)
    initial, rates, params = run_known_gradients(scaled.attach(optim.SGD(learning_rate=scaled)), grads, compiled)
    expected_rates = seed_learning_rates(grads, MIN_LR)
    np.testing.assert_allclose(rates, expected_rates, rtol=1e-6)
    assert (expected_rates == MIN_LR).any() and (expected_rates > MIN_LR).any()
    weights = {k: v.astype(np.float64) for k, v in initial.items()}
    for t, g in enumerate(grads):
        for name in weights:  # plain SGD, written out: w <- w - lr_t g_t
            weights[name] = weights[name] - expected_rates[t] * g[name]
            np.testing.assert_allclose(params[t][name], weights[name], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "eager"])
def test_grad_norm_scaled_adamw_uses_the_seed_rate_at_every_step(compiled: bool) -> None:
    grads = known_gradients()
    scaled = GradNormScaled(SEED_BASE, min_lr=MIN_LR)
    _, rates, params = run_known_gradients(scaled.attach(optim.AdamW(learning_rate=scaled)), grads, compiled)
    expected_rates = seed_learning_rates(grads, MIN_LR)
    np.testing.assert_allclose(rates, expected_rates, rtol=1e-6)
    # The same AdamW fed the seed's rates from a table must produce the same weights.
    table = mx.array(expected_rates.astype(np.float32))
    _, _, reference = run_known_gradients(optim.AdamW(learning_rate=lambda step: table[step]), grads, False)
    for ours, theirs in zip(params, reference, strict=True):
        for name in ours:
            np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    ("norm", "expected_norm"),
    [("l2", 13.0), ("l1", 3 + 4 + 12), ("inf", 12.0)],
)
def test_grad_norm_kinds(norm: str, expected_norm: float) -> None:
    scaled = GradNormScaled(1.0, norm=norm, floor=0.0)
    optimizer = scaled.attach(optim.SGD(learning_rate=scaled))
    optimizer.apply_gradients(
        {"a": mx.array([3.0, -4.0]), "b": mx.array([[-12.0]])}, {"a": mx.zeros(2), "b": mx.zeros((1, 1))}
    )
    assert scaled.grad_norm == pytest.approx(expected_norm, rel=1e-7)
    assert optimizer.learning_rate.item() == pytest.approx(1 / (expected_norm + 1), rel=1e-7)


def test_grad_norm_scaled_floor_is_a_parameter() -> None:
    scaled = GradNormScaled(1.0, floor=0.25)
    optimizer = scaled.attach(optim.SGD(learning_rate=scaled))
    optimizer.apply_gradients({"a": mx.array([99.0])}, {"a": mx.zeros(1)})
    assert optimizer.learning_rate.item() == 0.25  # 1 / 100 is below the floor


def test_grad_norm_scaled_numpy_reference_uses_the_latest_norm() -> None:
    scaled = GradNormScaled(Constant(0.2))
    optimizer = scaled.attach(optim.SGD(learning_rate=scaled))
    assert scaled(np.arange(2)).tolist() == [0.2, 0.2]  # before any gradient: norm 0, multiplier 1
    optimizer.apply_gradients({"a": mx.array([1.5])}, {"a": mx.zeros(1)})
    np.testing.assert_allclose(scaled(np.arange(2)), 0.2 / 2.5, rtol=1e-15)


def test_grad_norm_scaled_attach_twice_wraps_once() -> None:
    scaled = GradNormScaled(0.1)
    optimizer = scaled.attach(scaled.attach(optim.SGD(learning_rate=scaled)))
    wrapped = optimizer.apply_gradients
    assert attached_keys(optimizer) == ("grad_norm_scaled",)  # one key, one gradient reader
    scaled.attach(optimizer)
    assert optimizer.apply_gradients is wrapped


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_non_finite_gradient_norm_gives_the_floor(bad: float) -> None:
    scaled = GradNormScaled(0.5, floor=0.1)
    optimizer = scaled.attach(optim.SGD(learning_rate=scaled))
    optimizer.apply_gradients({"a": mx.array([bad])}, {"a": mx.zeros(1)})
    assert optimizer.learning_rate.item() == pytest.approx(0.05, rel=1e-7)
    assert scaled(np.arange(1))[0] == pytest.approx(0.05, rel=1e-15)


def test_compile_step_refuses_a_plateau_whose_state_would_be_baked_in():
    # Not attached and not passed as state: plateau.update() would never reach the compiled step.
    from mlx_lrsched.training import compile_step
    from mlx_lrsched.warmup import Warmup

    model = nn.Linear(2, 1)
    plateau = ReduceOnPlateau(0.1, factor=0.5, patience=0)
    optimizer = optim.SGD(learning_rate=Warmup(plateau, 0))

    def step(x):
        loss, grads = nn.value_and_grad(model, lambda m: m(x).sum())(model)
        optimizer.update(model, grads)
        return loss

    with pytest.raises(ValueError, match=r"ReduceOnPlateau.*not attached.*attach\(optimizer\)"):
        compile_step(step, model, optimizer)
    compile_step(step, model, optimizer, state=[plateau.state])  # passed explicitly: fine
    plateau.attach(optimizer)
    compile_step(step, model, optimizer)  # attached: fine


def test_two_grad_norm_schedules_on_one_optimizer_both_record_the_norm():
    first, second = GradNormScaled(0.1), GradNormScaled(0.1, floor=0.2)
    optimizer = optim.SGD(learning_rate=first)
    first.attach(optimizer, key="a")
    second.attach(optimizer, key="b")
    second.attach(optimizer, key="b")  # attaching again adds nothing
    optimizer.apply_gradients({"w": mx.array([3.0, 4.0])}, {"w": mx.zeros((2,))})
    assert first.grad_norm == pytest.approx(5.0) and second.grad_norm == pytest.approx(5.0)


def test_reattaching_under_a_new_key_records_there():
    scaled = GradNormScaled(0.1)
    optimizer = optim.SGD(learning_rate=scaled)
    scaled.attach(optimizer)
    scaled.attach(optimizer, key="other")
    optimizer.apply_gradients({"w": mx.array([3.0, 4.0])}, {"w": mx.zeros((2,))})
    assert scaled.grad_norm == pytest.approx(5.0)
