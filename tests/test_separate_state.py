"""Every feedback schedule owns its state: one key per instance in optimizer.state, nothing mutated in a
frozen object, one wrapper per optimizer, checkpoints that restore each instance, clear metric errors."""

from __future__ import annotations

import copy
import gc
import pickle
import weakref
from pathlib import Path
from typing import Any

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np
import pytest
from mlx.utils import tree_flatten, tree_unflatten

from mlx_lrsched._state import attached_keys
from mlx_lrsched.decay import Constant, PiecewiseConstant
from mlx_lrsched.feedback import GradNormScaled, ReduceOnPlateau
from mlx_lrsched.hyper import schedule_momentum
from mlx_lrsched.training import compile_step
from mlx_lrsched.warmup import Warmup

GRADS = {"a": mx.array([3.0, -4.0]), "b": mx.array([[-12.0]])}  # l2 norm 13, inf norm 12
PARAMS = {"a": mx.zeros(2), "b": mx.zeros((1, 1))}


def nested_plateaus() -> tuple[ReduceOnPlateau, ReduceOnPlateau, optim.Optimizer]:
    inner = ReduceOnPlateau(0.1, patience=0)
    outer = ReduceOnPlateau(inner, factor=0.5, patience=0)
    optimizer = optim.SGD(learning_rate=outer)
    inner.attach(optimizer)
    outer.attach(optimizer)
    return inner, outer, optimizer


# ------------------------------------------------------------------------------------------ one key each


def test_two_plateaus_on_one_optimizer_keep_their_own_state() -> None:
    inner, outer, _ = nested_plateaus()
    outer.update(1.0)
    outer.update(1.0)  # patience 0: the second, unimproved, evaluation reduces the outer plateau only
    assert (inner.num_reductions, outer.num_reductions) == (0, 1)
    # inner 0.1 * 0.1**0, outer times 0.5**1 (shared state would give 0.1 * 0.1 * 0.5 = 0.005)
    assert float(outer(np.int64(0))) == pytest.approx(0.05, rel=1e-15)
    assert outer(mx.array(0, dtype=mx.uint64)).item() == pytest.approx(0.05, rel=1e-7)


def test_two_grad_norm_schedules_on_one_optimizer_each_see_their_own_norm() -> None:
    l2 = GradNormScaled(1.0, norm="l2", floor=0.0)
    largest = GradNormScaled(l2, norm="inf", floor=0.0)
    optimizer = optim.SGD(learning_rate=largest)
    l2.attach(optimizer)
    largest.attach(optimizer)
    optimizer.apply_gradients(GRADS, PARAMS)
    assert (l2.grad_norm, largest.grad_norm) == (pytest.approx(13.0), pytest.approx(12.0))
    assert optimizer.learning_rate.item() == pytest.approx(1 / 14 * 1 / 13, rel=1e-6)  # 1/(13+1) * 1/(12+1)


def test_default_keys_follow_attach_order_and_an_explicit_key_wins() -> None:
    inner, outer, optimizer = nested_plateaus()
    assert inner.state is optimizer.state["reduce_on_plateau"]  # the 0.1.0 key for the first instance
    assert outer.state is optimizer.state["reduce_on_plateau_1"]
    named = ReduceOnPlateau(0.1)
    named.attach(optimizer, key="val_loss")
    assert named.state is optimizer.state["val_loss"]
    outer.attach(optimizer)  # attaching again keeps the key
    assert attached_keys(optimizer) == ("reduce_on_plateau", "reduce_on_plateau_1", "val_loss")


def test_keys_are_counted_per_optimizer_and_per_class() -> None:
    optimizer = optim.SGD(learning_rate=0.1)
    plateau, scaled = ReduceOnPlateau(0.1), GradNormScaled(0.1)
    plateau.attach(optimizer)
    scaled.attach(optimizer)
    elsewhere = ReduceOnPlateau(0.1)
    other = elsewhere.attach(optim.SGD(learning_rate=0.1))
    assert attached_keys(optimizer) == ("reduce_on_plateau", "grad_norm_scaled")
    assert attached_keys(other) == ("reduce_on_plateau",)


def test_the_key_of_a_schedule_that_no_longer_exists_is_free_again() -> None:
    optimizer = optim.SGD(learning_rate=0.1)
    ReduceOnPlateau(0.1).attach(optimizer)  # not used by the optimizer, not kept: gone at once
    gc.collect()
    assert attached_keys(optimizer) == ()


def test_an_explicit_key_of_another_schedule_is_refused() -> None:
    holder = ReduceOnPlateau(0.1)
    optimizer = holder.attach(optim.SGD(learning_rate=holder), key="shared")
    with pytest.raises(ValueError, match="GradNormScaled: key 'shared' is already used by another schedule") as raised:
        GradNormScaled(0.1).attach(optimizer, key="shared")
    assert len(str(raised.value)) < 300


def test_a_scheduled_momentum_and_a_plateau_never_share_a_key() -> None:
    optimizer = schedule_momentum(optim.SGD(learning_rate=0.1), 0.9)
    with pytest.raises(ValueError, match="key 'momentum' is already used"):
        ReduceOnPlateau(0.1).attach(optimizer, key="momentum")
    plateau = ReduceOnPlateau(0.1)
    other = plateau.attach(optim.SGD(learning_rate=plateau), key="momentum")
    with pytest.raises(ValueError, match=r"schedule_momentum: optimizer.state\['momentum'\] is used by an attached"):
        schedule_momentum(other, 0.9)


# ------------------------------------------------------------------------------ state in arrays, not fields


def test_attach_and_update_never_change_the_schedule_object() -> None:
    plateau = ReduceOnPlateau(0.1, patience=0)
    before = dict(vars(plateau))
    optimizer = plateau.attach(optim.SGD(learning_rate=plateau))
    plateau.update(1.0)
    plateau.update(2.0)
    after = vars(plateau)
    assert after.keys() == before.keys() and all(after[name] is before[name] for name in before)
    assert optimizer.state["reduce_on_plateau"]["num_reductions"].item() == 1  # the change is in the arrays


def test_updates_before_attach_move_into_the_optimizer() -> None:
    plateau = ReduceOnPlateau(0.1, patience=0)
    plateau.update(1.0)
    plateau.update(2.0)
    optimizer = plateau.attach(optim.SGD(learning_rate=plateau))
    assert optimizer.state["reduce_on_plateau"]["num_reductions"].item() == 1 and plateau.best == 1.0


def test_config_equal_plateaus_in_equal_compositions_keep_their_own_state() -> None:
    # Equal by value, but two states: a cache keyed by value must not make the second Warmup read the first's plateau.
    first, second = ReduceOnPlateau(0.1, patience=0), ReduceOnPlateau(0.1, patience=0)
    warm_first, warm_second = Warmup(first, 2), Warmup(second, 2)
    assert first == second and first is not second and warm_first == warm_second
    for metric in [1.0, 2.0]:
        first.update(metric)
    steps = np.arange(4, 6)
    np.testing.assert_allclose(warm_first(steps), 0.01, rtol=1e-12)
    np.testing.assert_allclose(warm_second(steps), 0.1, rtol=1e-12)
    np.testing.assert_allclose(np.array(warm_second(mx.array([4, 5], dtype=mx.uint64))), 0.1, rtol=1e-7)


@pytest.mark.parametrize(
    "clone",
    [copy.copy, copy.deepcopy, lambda s: pickle.loads(pickle.dumps(s))],
    ids=["copy", "deepcopy", "pickle"],
)
def test_a_copy_is_a_new_schedule_starting_from_a_snapshot(clone: Any) -> None:
    plateau = ReduceOnPlateau(0.1, patience=0)
    plateau.attach(optim.SGD(learning_rate=plateau))
    plateau.update(1.0)
    plateau.update(2.0)
    twin = clone(plateau)
    assert twin is not plateau and twin == plateau and twin.to_config() == plateau.to_config()
    assert (twin.num_reductions, twin.best) == (1, 1.0)
    twin.update(3.0)
    assert (twin.num_reductions, plateau.num_reductions) == (2, 1)


# -------------------------------------------------------------------------------------- checkpoints


def test_a_checkpoint_restores_each_plateau_of_an_optimizer(tmp_path: Path) -> None:
    inner, outer, optimizer = nested_plateaus()
    for metric in [1.0, 2.0]:
        inner.update(metric)
    for metric in [1.0, 1.0, 3.0, 0.5]:
        outer.update(metric)
    mx.save_safetensors(str(tmp_path / "opt.safetensors"), dict(tree_flatten(optimizer.state)))
    expected = [(p.best, p.num_bad_epochs, p.num_reductions) for p in (inner, outer)]

    loaded = tree_unflatten(list(mx.load(str(tmp_path / "opt.safetensors")).items()))
    # attach on a new optimizer whose state already holds the keys (same program, same attach order)
    restored_inner, restored_outer, _ = nested_plateaus_on(loaded)
    assert [(p.best, p.num_bad_epochs, p.num_reductions) for p in (restored_inner, restored_outer)] == expected
    # or attach first, then assign the loaded state
    inner2, outer2, optimizer2 = nested_plateaus()
    optimizer2.state = tree_unflatten(list(mx.load(str(tmp_path / "opt.safetensors")).items()))
    assert [(p.best, p.num_bad_epochs, p.num_reductions) for p in (inner2, outer2)] == expected
    assert float(outer2(np.int64(0))) == pytest.approx(0.1 * 0.1 * 0.5**2, rel=1e-12)


def nested_plateaus_on(state: dict[str, Any]) -> tuple[ReduceOnPlateau, ReduceOnPlateau, optim.Optimizer]:
    inner = ReduceOnPlateau(0.1, patience=0)
    outer = ReduceOnPlateau(inner, factor=0.5, patience=0)
    optimizer = optim.SGD(learning_rate=outer)
    optimizer.state = state
    inner.attach(optimizer)
    outer.attach(optimizer)
    return inner, outer, optimizer


def test_a_state_without_the_key_says_so_and_attach_starts_afresh() -> None:
    plateau = ReduceOnPlateau(0.1, patience=0)
    optimizer = plateau.attach(optim.SGD(learning_rate=plateau))
    plateau.update(1.0)
    optimizer.state = {"step": mx.array(0, dtype=mx.uint64), "learning_rate": mx.array(0.1)}
    with pytest.raises(KeyError, match=r"optimizer\.state has no 'reduce_on_plateau' entry") as raised:
        _ = plateau.best
    assert len(str(raised.value)) < 300
    plateau.attach(optimizer)
    assert plateau.best == float("inf") and plateau.num_reductions == 0


def test_moving_to_another_optimizer_copies_the_state_and_frees_the_key() -> None:
    plateau = ReduceOnPlateau(0.1, patience=0)
    first = plateau.attach(optim.SGD(learning_rate=plateau))
    plateau.update(1.0)
    second = plateau.attach(optim.SGD(learning_rate=plateau))
    assert plateau.state is second.state["reduce_on_plateau"] and plateau.best == 1.0
    assert first.state["reduce_on_plateau"] is not plateau.state  # no dict shared by two optimizers
    assert attached_keys(first) == () and attached_keys(second) == ("reduce_on_plateau",)


def test_a_new_key_on_the_same_optimizer_moves_the_entry() -> None:
    plateau = ReduceOnPlateau(0.1, patience=0)
    optimizer = plateau.attach(optim.SGD(learning_rate=plateau))
    plateau.update(1.0)
    plateau.attach(optimizer, key="val_loss")
    assert "reduce_on_plateau" not in optimizer.state and plateau.state is optimizer.state["val_loss"]
    assert plateau.best == 1.0


# ------------------------------------------------------------------------------------ the two wrappers


def test_one_wrapper_of_each_method_per_optimizer() -> None:
    optimizer = optim.SGD(learning_rate=0.1)
    for norm in ["l2", "inf", "l1"]:
        GradNormScaled(0.1, norm=norm).attach(optimizer)
    schedule_momentum(optimizer, 0.5)
    schedule_momentum(optimizer, PiecewiseConstant([1], [0.5, 0.9]))
    # each wrapper wraps the class's own method directly: wrapped once, however many attachments
    assert optimizer.apply_gradients.__wrapped__.__func__ is optim.SGD.apply_gradients
    assert optimizer.apply_single.__wrapped__.__func__ is optim.SGD.apply_single
    assert "apply_gradients" not in vars(optim.SGD(learning_rate=0.1))  # other optimizers untouched


def test_an_optimizer_is_freed_once_nothing_uses_it() -> None:
    plateau, scaled = ReduceOnPlateau(0.1), GradNormScaled(0.1)
    optimizer = schedule_momentum(optim.SGD(learning_rate=scaled * plateau), 0.9)
    plateau.attach(optimizer)
    scaled.attach(optimizer)
    optimizer.apply_gradients(GRADS, PARAMS)
    alive = weakref.ref(optimizer)
    del optimizer, plateau, scaled
    gc.collect()
    assert alive() is None


def test_a_kept_schedule_does_not_keep_its_optimizer_and_stays_readable() -> None:
    plateau = ReduceOnPlateau(0.1, patience=0)
    warm = Warmup(plateau, 2)
    optimizer = plateau.attach(optim.SGD(learning_rate=warm))
    plateau.update(1.0)
    plateau.update(2.0)
    warm(np.arange(3))  # the composition is now cached by value, with the plateau in it
    alive = weakref.ref(optimizer)
    del optimizer
    gc.collect()
    assert alive() is None
    assert plateau.num_reductions == 1 and plateau.best == 1.0  # the last state, now the plateau's own
    assert plateau.attach(optim.SGD(learning_rate=warm)).state["reduce_on_plateau"]["num_reductions"].item() == 1


def test_a_deep_copy_keeps_one_schedule_used_twice_as_one() -> None:
    plateau = ReduceOnPlateau(0.1, patience=0)
    product = copy.deepcopy(plateau * plateau)
    first, second = product.schedules
    assert first is second and first is not plateau


def test_a_compiled_step_sees_each_plateau_separately() -> None:
    model = nn.Linear(2, 1)
    inner, outer, optimizer = nested_plateaus()

    def step() -> mx.array:
        loss, grads = nn.value_and_grad(model, lambda m: m(mx.ones((1, 2))).sum())(model)
        optimizer.update(model, grads)
        return loss

    compiled = compile_step(step, model, optimizer)
    used = []
    for metric in [1.0, 1.0, 0.5, 0.5]:
        compiled()
        used.append(optimizer.learning_rate.item())
        outer.update(metric)
    np.testing.assert_allclose(used, [0.1, 0.1, 0.05, 0.05], rtol=1e-6)  # only the outer plateau reduced
    inner.update(1.0)
    inner.update(1.0)
    compiled()
    assert optimizer.learning_rate.item() == pytest.approx(0.1 * 0.1 * 0.5**2, rel=1e-6)


def test_compile_step_refuses_a_plateau_attached_to_another_optimizer() -> None:
    model = nn.Linear(2, 1)
    plateau = ReduceOnPlateau(0.1)
    optimizer = optim.SGD(learning_rate=plateau)
    plateau.attach(optim.SGD(learning_rate=0.1))
    with pytest.raises(ValueError, match="ReduceOnPlateau in the optimizer's schedule is not attached"):
        compile_step(lambda: None, model, optimizer, check_steps=0)
    compile_step(lambda: None, model, optimizer, state=[{"nested": plateau.state}], check_steps=0)


# ------------------------------------------------------------------------------------- metric errors


@pytest.mark.parametrize(
    ("metric", "error", "message"),
    [
        (mx.array([1.0, 2.0]), ValueError, r"metric must be a single number, got an array of shape \(2,\)"),
        (np.zeros((2, 2)), ValueError, r"metric must be a single number, got an array of shape \(2, 2\)"),
        (10**400, ValueError, "metric must fit in float32"),
        (-(10**400), ValueError, "metric must fit in float32"),
        (1e39, ValueError, "metric must fit in float32"),
        (mx.array(True), TypeError, "metric must be a real number"),
        ([[0.5]], TypeError, "metric must be a real number"),
        (complex(1, 1), TypeError, "metric must be a real number"),
    ],
    ids=["mx-vector", "np-matrix", "huge-int", "huge-negative-int", "beyond-float32", "mx-bool", "nested", "complex"],
)
def test_update_rejects_bad_metrics_clearly(metric: Any, error: type[Exception], message: str) -> None:
    plateau = ReduceOnPlateau(0.1)
    with pytest.raises(error, match=f"^ReduceOnPlateau: {message}") as raised:
        plateau.update(metric)
    assert len(str(raised.value)) < 300
    assert plateau.best == float("inf")  # nothing recorded


@pytest.mark.parametrize("metric", [float("inf"), float("nan"), 3 * 10**38, np.float64(-1e38)])
def test_update_accepts_what_float32_holds_and_diverged_metrics(metric: Any) -> None:
    plateau = ReduceOnPlateau(1.0, patience=0)
    plateau.update(1.0)
    assert plateau.update(metric) is (not metric < 1.0)


# --------------------------------------------------------------------------- scheduled-value comparisons


def test_scheduled_momentum_answers_comparisons_its_range_decides() -> None:
    momentum = schedule_momentum(optim.SGD(learning_rate=0.1), PiecewiseConstant([2], [0.5, 0.9])).momentum
    assert (momentum < 1) is True and (momentum >= 0) is True and (momentum > -1) is True
    assert (momentum > 0.95) is False
    assert (momentum <= 0) is False and (momentum > 0) is True  # SGD's branch: the momentum update
    with pytest.raises(TypeError, match=r"within \[0, 0\.9\]"):
        _ = momentum >= 0.7


def test_a_momentum_that_is_always_zero_takes_sgds_plain_update() -> None:
    # peak 0: `momentum <= 0` is true at every step, so dampening is ignored exactly as with momentum=0.0
    ours = schedule_momentum(optim.SGD(learning_rate=0.1, dampening=0.5), Constant(0.0))
    plain = optim.SGD(learning_rate=0.1, momentum=0.0, dampening=0.5)
    assert (ours.momentum <= 0) is True
    weights = []
    for optimizer in (ours, plain):
        params = dict(PARAMS)
        for _ in range(2):
            params = optimizer.apply_gradients(GRADS, params)
        weights.append(np.array(params["a"]))
    np.testing.assert_array_equal(weights[0], weights[1])
    np.testing.assert_allclose(weights[0], [-0.6, 0.8], rtol=1e-6)  # two plain steps of -0.1 g, undamped
