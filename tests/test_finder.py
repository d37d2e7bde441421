"""The LR range test: the sweep, the smoothing, divergence, restoring the model, suggestions on digits."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np
import pytest
from mlx.utils import tree_flatten

from mlx_lrsched.finder import LRRangeResult, lr_range_test


def snapshot(model: nn.Module) -> list[tuple[str, np.ndarray]]:
    return [(name, np.array(value)) for name, value in tree_flatten(model.parameters())]


def assert_bit_identical(model: nn.Module, before: list[tuple[str, np.ndarray]]) -> None:
    after = snapshot(model)
    assert [name for name, _ in after] == [name for name, _ in before]
    for (name, now), (_, then) in zip(after, before, strict=True):
        assert now.dtype == then.dtype and np.array_equal(now.view(np.uint8), then.view(np.uint8)), name


class Scalar(nn.Module):
    """One weight ``w``; the tests choose the loss as a function of it."""

    def __init__(self, value: float = 1.0) -> None:
        super().__init__()
        self.w = mx.array([value])


def constant_losses(model: Scalar, value: mx.array) -> mx.array:
    """A loss equal to ``value`` whatever the weight (still differentiable in ``w``)."""
    return (model.w * 0.0).sum() + value


# --------------------------------------------------------------------------------------- the sweep


def test_rates_are_the_exponential_sweep_and_the_optimizer_uses_them() -> None:
    made: list[Any] = []

    def factory(schedule: Any) -> optim.Optimizer:
        made.append(optim.SGD(learning_rate=schedule))
        return made[-1]

    batches = [mx.array(1.0)] * 50
    result = lr_range_test(Scalar(), factory, constant_losses, batches, start_lr=1e-4, end_lr=1.0, num_steps=50)
    expected = 1e-4 * (1.0 / 1e-4) ** (np.arange(50) / 49)  # start * (end / start) ** (i / (N - 1))
    np.testing.assert_allclose(result.lrs, expected, rtol=1e-12)
    assert len(made) == 1 and made[0].step.item() == 50
    assert made[0].learning_rate.item() == pytest.approx(1.0, rel=1e-6)  # the last update used end_lr


def test_smoothed_loss_is_the_bias_corrected_moving_average() -> None:
    values = [5.0, 3.0, 4.0, 2.0, 2.5, 1.0]
    result = lr_range_test(
        Scalar(),
        lambda s: optim.SGD(learning_rate=s),
        constant_losses,
        [mx.array(v) for v in values],
        num_steps=len(values),
        smooth=0.6,
    )
    average, expected = 0.0, []
    for i, loss in enumerate(values):  # fastai: avg = b avg + (1 - b) loss; smoothed = avg / (1 - b^(i + 1))
        average = 0.6 * average + 0.4 * loss
        expected.append(average / (1 - 0.6 ** (i + 1)))
    np.testing.assert_allclose(result.losses, values, rtol=1e-7)
    np.testing.assert_allclose(result.smoothed_losses, expected, rtol=1e-7)


def test_suggestions_on_a_known_curve() -> None:
    # Raw losses (smooth=0): falling fastest between points 3 and 4, lowest at point 6, then rising.
    values = [10.0, 9.8, 9.5, 9.0, 6.0, 5.0, 4.9, 5.5, 7.0, 8.0]
    result = lr_range_test(
        Scalar(),
        lambda s: optim.SGD(learning_rate=s),
        constant_losses,
        [mx.array(v) for v in values],
        start_lr=1e-3,
        end_lr=1.0,
        num_steps=len(values),
        smooth=0.0,
    )
    assert result.stop_reason == "completed"
    assert result.lr_steepest == pytest.approx(result.lrs[3])
    assert result.lr_min_div10 == pytest.approx(result.lrs[6] / 10)
    assert result.suggested_max_lr == result.lr_min_div10


def test_divergence_stops_the_sweep() -> None:
    # loss w^2 under SGD: w <- w (1 - 2 lr) grows once lr > 1, so the loss blows up past lr = 1.
    def quadratic(model: Scalar, _: Any) -> mx.array:
        return (model.w**2).sum()

    model = Scalar(1.0)
    result = lr_range_test(model, lambda s: optim.SGD(learning_rate=s), quadratic, [None], end_lr=100.0)
    assert result.stop_reason == "diverged" and result.diverged
    assert len(result.lrs) < 100  # stopped before the end of the sweep
    assert result.lrs[-1] > 1.0  # it cannot diverge before the rate passes 1
    assert result.smoothed_losses[-1] > 4 * result.smoothed_losses.min()
    assert result.suggested_max_lr < 1.0
    assert_bit_identical(model, [("w", np.array([1.0], dtype=np.float32))])


def test_nan_loss_stops_the_sweep() -> None:
    values = [1.0, 0.9, math.nan, 0.5]
    result = lr_range_test(
        Scalar(), lambda s: optim.SGD(learning_rate=s), constant_losses, [mx.array(v) for v in values], num_steps=4
    )
    assert result.stop_reason == "diverged" and len(result.lrs) == 3
    assert result.lr_min_div10 == pytest.approx(result.lrs[1] / 10)


def test_a_list_of_batches_is_cycled_and_an_iterator_exhausts() -> None:
    batches = [mx.array(1.0)] * 5
    cycled = lr_range_test(Scalar(), lambda s: optim.SGD(learning_rate=s), constant_losses, batches, num_steps=12)
    assert cycled.stop_reason == "completed" and len(cycled.lrs) == 12
    once = lr_range_test(Scalar(), lambda s: optim.SGD(learning_rate=s), constant_losses, iter(batches), num_steps=12)
    assert once.stop_reason == "exhausted" and len(once.lrs) == 5


def test_empty_batches_raise() -> None:
    with pytest.raises(ValueError, match="batches is empty"):
        lr_range_test(Scalar(), lambda s: optim.SGD(learning_rate=s), constant_losses, [])


def test_weights_are_restored_when_the_loss_raises() -> None:
    calls = []

    def failing(model: Scalar, _: Any) -> mx.array:
        calls.append(1)
        if len(calls) > 3:
            raise RuntimeError("boom")
        return (model.w**2).sum()

    model = Scalar(0.25)
    before = snapshot(model)
    with pytest.raises(RuntimeError, match="boom"):
        lr_range_test(model, lambda s: optim.SGD(learning_rate=s), failing, [None], start_lr=0.1, end_lr=1.0)
    assert_bit_identical(model, before)


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"start_lr": 0.0}, "start_lr"),
        ({"start_lr": -1e-3}, "start_lr"),
        ({"end_lr": 1e-7}, "end_lr"),
        ({"start_lr": 1.0, "end_lr": 0.5}, "end_lr"),
        ({"num_steps": 1}, "num_steps"),
        ({"num_steps": 10.0}, "num_steps"),
        ({"smooth": 1.0}, "smooth"),
        ({"smooth": -0.1}, "smooth"),
        ({"diverge_factor": 1.0}, "diverge_factor"),
    ],
)
def test_rejects_bad_arguments_naming_them(kwargs: dict[str, Any], parameter: str) -> None:
    with pytest.raises((ValueError, TypeError), match=f"lr_range_test: {parameter} "):
        lr_range_test(Scalar(), lambda s: optim.SGD(learning_rate=s), constant_losses, [mx.array(1.0)], **kwargs)


@pytest.mark.parametrize("name", ["optimizer_factory", "loss_fn"])
def test_rejects_non_callables(name: str) -> None:
    arguments: dict[str, Any] = {"optimizer_factory": lambda s: optim.SGD(learning_rate=s), "loss_fn": constant_losses}
    arguments[name] = 0.1
    with pytest.raises(TypeError, match=f"lr_range_test: {name} must be callable"):
        lr_range_test(Scalar(), batches=[mx.array(1.0)], **arguments)


# --------------------------------------------------------------------------------------- digits


@pytest.fixture(scope="module")
def digits() -> tuple[mx.array, mx.array]:
    datasets = pytest.importorskip("sklearn.datasets", reason="the digits data set ships with scikit-learn")
    data = datasets.load_digits()
    return mx.array((data.data / 16.0).astype(np.float32)), mx.array(data.target.astype(np.int32))


def digits_batches(x: mx.array, y: mx.array, seed: int, batch_size: int = 64) -> list[tuple[mx.array, mx.array]]:
    order = np.random.default_rng(seed).permutation(x.shape[0])
    return [
        (x[mx.array(order[i : i + batch_size])], y[mx.array(order[i : i + batch_size])])
        for i in range(0, x.shape[0] - batch_size + 1, batch_size)
    ]


def cross_entropy(model: nn.Module, x: mx.array, y: mx.array) -> mx.array:
    return nn.losses.cross_entropy(model(x), y, reduction="mean")


OPTIMIZERS = {
    "sgd-momentum": lambda schedule: optim.SGD(learning_rate=schedule, momentum=0.9),
    "adam": lambda schedule: optim.Adam(learning_rate=schedule),
}


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_digits_suggestion_is_in_range_and_weights_are_bit_identical(
    digits: tuple[mx.array, mx.array], optimizer: str, seed: int
) -> None:
    mx.random.seed(seed)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 10))
    before = snapshot(model)
    result = lr_range_test(model, OPTIMIZERS[optimizer], cross_entropy, digits_batches(*digits, seed))
    assert 1e-3 <= result.suggested_max_lr <= 1.0, result
    assert 1e-3 <= result.lr_steepest <= 1.0, result
    assert result.smoothed_losses.min() < 0.9 * result.smoothed_losses[0]  # it did find a descent
    assert_bit_identical(model, before)


# --------------------------------------------------------------------------------------- plot


def small_result() -> LRRangeResult:
    values = [3.0, 2.0, 1.0, 2.0]
    return lr_range_test(
        Scalar(), lambda s: optim.SGD(learning_rate=s), constant_losses, [mx.array(v) for v in values], num_steps=4
    )


def test_plot_draws_the_curve_and_both_suggestions() -> None:
    matplotlib = pytest.importorskip("matplotlib", reason="plotting needs matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = small_result()
    ax = result.plot()
    try:
        assert ax.get_xscale() == "log"
        np.testing.assert_allclose(ax.lines[1].get_ydata(), result.smoothed_losses)
        marked = sorted(line.get_xdata()[0] for line in ax.lines[2:])
        assert marked == sorted([result.lr_steepest, result.lr_min_div10])
    finally:
        plt.close(ax.figure)


def test_plot_without_matplotlib_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    result = small_result()
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        result.plot()


@pytest.mark.slow
def test_example_script_picks_max_lr_and_trains(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="the example trains on scikit-learn's digits")
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, str(root / "examples" / "lr_find.py"), "--epochs", "2", "--plot", str(tmp_path / "f.png")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "max_lr = " in done.stdout and "epoch  2" in done.stdout
    assert (tmp_path / "f.png").stat().st_size > 0
