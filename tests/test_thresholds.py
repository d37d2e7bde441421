"""ReduceOnPlateau at the exact edge of every rule, against PyTorch's ReduceLROnPlateau stepped for real.

Random metric walks almost never land exactly on ``best * (1 - threshold)``, on a reduction of exactly
``eps`` or on the last evaluation of patience or cooldown, so ``<`` vs ``<=`` and ``>`` vs ``>=`` survive
them. Every number here is exact in binary (and in float32, which metrics are rounded to), so both
libraries see exactly the edge, and the case one float32 ulp past it.
"""

from __future__ import annotations

import itertools
from typing import Any

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np
import pytest

from mlx_lrsched.feedback import ReduceOnPlateau

torch = pytest.importorskip("torch", reason="the PyTorch oracle needs torch (pip install 'mlx-lrsched[torch]')")


def down(x: float) -> float:
    """The float32 just below ``x``."""
    return float(np.nextafter(np.float32(x), np.float32(-np.inf)))


def up(x: float) -> float:
    return float(np.nextafter(np.float32(x), np.float32(np.inf)))


def run_both(lr: float, metrics: list[float], **config: Any) -> tuple[list[tuple], list[tuple]]:
    """(rate, reduced, best, num_bad_epochs, cooldown_counter) after every update, PyTorch then ours."""
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=lr)
    peer = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **config)
    plateau = ReduceOnPlateau(lr, **config)
    mlx_optimizer = plateau.attach(optim.SGD(learning_rate=plateau))
    parameters = {"w": mx.zeros(1)}
    expected, got = [], []
    for metric in metrics:
        before = optimizer.param_groups[0]["lr"]
        peer.step(metric)
        after = optimizer.param_groups[0]["lr"]
        expected.append((after, after != before, peer.best, peer.num_bad_epochs, peer.cooldown_counter))
        reduced = plateau.update(metric)
        got.append(
            (float(plateau(np.int64(0))), reduced, plateau.best, plateau.num_bad_epochs, plateau.cooldown_counter)
        )
        parameters = mlx_optimizer.apply_gradients({"w": mx.zeros(1)}, parameters)
        applied = mlx_optimizer.learning_rate.item()  # the float32 rate the MLX step used
        assert abs(applied - after) <= 1e-6 * after, (applied, after)
    return expected, got


def assert_same(lr: float, metrics: list[float], **config: Any) -> list[tuple]:
    expected, got = run_both(lr, metrics, **config)
    # factor ** n (ours, one formula for both backends) and n multiplications (PyTorch) differ in the last bit
    np.testing.assert_allclose([g[0] for g in got], [e[0] for e in expected], rtol=1e-12, err_msg=str(config))
    assert [g[1:] for g in got] == [e[1:] for e in expected], (config, metrics)
    return expected


# ------------------------------------------------------------------------------------------ threshold
# best = 1 (or -1), threshold 0.25: the edge is 0.75 / 1.25 (rel) and best -/+ 0.25 (abs), all exact.

EDGES = [
    # mode, threshold_mode, best, the edge value (not an improvement), one ulp further (an improvement)
    ("min", "rel", 1.0, 0.75, down(0.75)),
    ("min", "abs", 1.0, 0.75, down(0.75)),
    ("max", "rel", 1.0, 1.25, up(1.25)),
    ("max", "abs", 1.0, 1.25, up(1.25)),
    ("min", "rel", -1.0, -0.75, down(-0.75)),  # rel with a negative best: PyTorch's formula, taken literally
    ("max", "rel", -1.0, -1.25, up(-1.25)),
    ("min", "abs", -1.0, -1.25, down(-1.25)),
    ("max", "abs", -1.0, -0.75, up(-0.75)),
]


@pytest.mark.parametrize(("mode", "threshold_mode", "best", "edge", "past"), EDGES)
def test_a_metric_exactly_at_the_threshold_is_not_an_improvement(mode, threshold_mode, best, edge, past) -> None:
    config = {"mode": mode, "threshold_mode": threshold_mode, "threshold": 0.25, "patience": 0, "factor": 0.5}
    # best, then the edge: a bad evaluation, patience 0 -> a reduction, and best stays.
    at_edge = assert_same(1.0, [best, edge], **config)
    assert at_edge[-1][1] and at_edge[-1][2] == best
    # one float32 ulp past the edge is an improvement: no reduction, best moves.
    past_edge = assert_same(1.0, [best, past], **config)
    assert not past_edge[-1][1] and past_edge[-1][2] == past


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("threshold_mode", ["rel", "abs"])
def test_with_zero_threshold_an_equal_metric_is_not_an_improvement(mode: str, threshold_mode: str) -> None:
    config = {"mode": mode, "threshold_mode": threshold_mode, "threshold": 0.0, "patience": 1, "factor": 0.5}
    better = down(0.5) if mode == "min" else up(0.5)
    history = assert_same(1.0, [0.5, 0.5, 0.5, better, 0.5, better], **config)
    # equal to best (the 2nd, 3rd and last update) counts as bad: reductions at updates 2 and 5
    assert [reduced for _, reduced, *_ in history] == [False, False, True, False, False, True]


def test_default_rel_threshold_edge() -> None:
    """With the default 1e-4 (not exact in binary) both compare the same float64 products."""
    best = 1.0
    edge = best * (1.0 - 1e-4)
    metrics = [best, float(np.float32(edge)), down(edge), up(edge)]
    assert_same(1.0, metrics, patience=0, factor=0.5)


# ------------------------------------------------------------------------------------------ eps


@pytest.mark.parametrize(
    ("lr", "factor", "min_lr", "eps", "reductions"),
    [
        (1.0, 0.5, 0.0, 0.5, 0),  # the first reduction changes the rate by exactly eps: skipped
        (1.0, 0.5, 0.0, down(0.5), 1),  # just below eps: applied
        (1.0, 0.5, 0.0, 0.25, 1),  # 1 -> 0.5 applied, 0.5 -> 0.25 is exactly eps: skipped forever after
        (1.0, 0.5, 0.75, 0.25, 0),  # min_lr clips the reduction to exactly eps: skipped
        (1.0, 0.5, 0.75, 0.125, 1),  # clipped at min_lr and applied, then nothing left to reduce
        (1.0, 0.5, 0.0, 0.0, 5),  # eps 0: every reduction counts
    ],
)
def test_a_reduction_of_exactly_eps_is_skipped(lr, factor, min_lr, eps, reductions) -> None:
    config = {"factor": factor, "min_lr": min_lr, "eps": eps, "patience": 0}
    history = assert_same(lr, [1.0] * 6, **config)
    assert sum(reduced for _, reduced, *_ in history) == reductions


# ------------------------------------------------------------------------------------------ patience, cooldown


@pytest.mark.parametrize("patience", [0, 1, 2, 5])
def test_the_reduction_comes_on_the_first_evaluation_past_patience(patience: int) -> None:
    metrics = [1.0] * (3 * (patience + 1) + 2)
    history = assert_same(1.0, metrics, patience=patience, factor=0.5)
    reduced_at = [i for i, (_, reduced, *_) in enumerate(history) if reduced]
    # update 0 sets best; updates 1..patience+1 are bad; the (patience+1)-th bad one reduces.
    assert reduced_at[0] == patience + 1
    assert reduced_at[1] - reduced_at[0] == patience + 1


@pytest.mark.parametrize("patience", [0, 2])
def test_an_improvement_on_the_last_evaluation_of_patience_resets_it(patience: int) -> None:
    metrics = [1.0] * (patience + 1) + [0.5] + [0.5] * (patience + 1)
    history = assert_same(1.0, metrics, patience=patience, factor=0.5)
    assert [i for i, (_, reduced, *_) in enumerate(history) if reduced] == [len(metrics) - 1]


@pytest.mark.parametrize("cooldown", [0, 1, 2, 3])
@pytest.mark.parametrize("patience", [0, 1, 2])
def test_cooldown_boundary(cooldown: int, patience: int) -> None:
    metrics = [1.0] * (4 * (patience + cooldown + 1) + 3)
    history = assert_same(1.0, metrics, patience=patience, cooldown=cooldown, factor=0.5, eps=0.0)
    reduced_at = [i for i, (_, reduced, *_) in enumerate(history) if reduced]
    assert reduced_at[0] == patience + 1
    # after a reduction, `cooldown` evaluations are ignored, then patience + 1 bad ones reduce again
    assert all(b - a == cooldown + patience + 1 for a, b in itertools.pairwise(reduced_at))


def test_an_improvement_during_cooldown_still_updates_best() -> None:
    metrics = [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25]
    history = assert_same(1.0, metrics, patience=0, cooldown=2, factor=0.5)
    assert history[2][2] == 0.5


def test_nan_at_the_edge_is_a_bad_evaluation() -> None:
    assert_same(1.0, [1.0, float("nan"), 1.0, float("nan"), float("nan")], patience=1, factor=0.5)
    assert_same(1.0, [1.0, float("nan"), 2.0, float("nan")], mode="max", patience=0, factor=0.5, cooldown=1)
