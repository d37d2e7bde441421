"""The learning-rate range test (Smith 2015, fastai ``lr_find``): sweep the rate up, watch the loss."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _check
from .decay import ExponentialDecay

__all__ = ["LRRangeResult", "lr_range_test"]

_END = object()


@dataclass(frozen=True)
class LRRangeResult:
    """What :func:`lr_range_test` measured and what it suggests.

    Attributes:
        lrs: the learning rate of every update that ran (float64).
        losses: the loss of each of those updates, as computed before the update.
        smoothed_losses: the bias-corrected exponential moving average of ``losses``.
        stop_reason: ``"completed"`` (all steps ran), ``"diverged"`` (the smoothed loss exceeded
            ``diverge_factor`` times its minimum, or a loss was not finite) or ``"exhausted"`` (a one-shot
            iterator of batches ran out).
        lr_steepest: the rate where the smoothed loss falls fastest against :math:`\\log \\eta`, before
            its minimum.
        lr_min_div10: the rate at the minimum of the smoothed loss, divided by 10.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed_losses: np.ndarray
    stop_reason: str
    lr_steepest: float
    lr_min_div10: float

    @property
    def diverged(self) -> bool:
        """True if the sweep stopped early because the loss blew up."""
        return self.stop_reason == "diverged"

    @property
    def suggested_max_lr(self) -> float:
        """The suggested peak rate (e.g. OneCycle's ``max_lr``): ``lr_min_div10``, the conservative choice."""
        return self.lr_min_div10

    def plot(self, ax: Any = None, *, show_raw: bool = True) -> Any:
        """Plot the (smoothed) loss against the rate on a log axis, marking both suggestions.

        Needs matplotlib (``pip install matplotlib``, or the ``plot`` extra). Returns the ``Axes``.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError(
                "LRRangeResult.plot needs matplotlib: pip install matplotlib (or pip install 'mlx-lrsched[plot]')"
            ) from None
        if ax is None:  # constrained: the axis labels stay inside a saved figure
            _, ax = plt.subplots(figsize=(6, 4), layout="constrained")
        if show_raw:
            ax.plot(self.lrs, self.losses, color="0.7", linewidth=1, label="loss")
        ax.plot(self.lrs, self.smoothed_losses, color="C0", label="smoothed loss")
        ax.axvline(self.lr_steepest, color="C1", linestyle="--", label=f"steepest {self.lr_steepest:.2g}")
        ax.axvline(self.lr_min_div10, color="C2", linestyle=":", label=f"min / 10 {self.lr_min_div10:.2g}")
        lowest = int(np.argmin(np.where(np.isfinite(self.smoothed_losses), self.smoothed_losses, np.inf)))
        shown = np.concatenate([self.smoothed_losses[: lowest + 1], self.losses[: lowest + 1]])
        top, bottom = float(np.nanmax(shown)), float(np.nanmin(shown))
        margin = 0.05 * (top - bottom) + 1e-12  # the blow-up after the minimum goes off-axis, and no empty band below
        ax.set_ylim(bottom - margin, top + 5 * margin)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.set_title(f"LR range test ({self.stop_reason})")
        ax.legend()
        return ax


def _suggestions(lrs: np.ndarray, smoothed: np.ndarray) -> tuple[float, float]:
    """(steepest descent before the minimum, rate at the minimum / 10) of the smoothed loss."""
    finite = np.isfinite(smoothed)
    lowest = int(np.argmin(np.where(finite, smoothed, np.inf)))
    if lowest == 0:
        return float(lrs[0]), float(lrs[0] / 10.0)
    slopes = np.diff(smoothed[: lowest + 1]) / np.diff(np.log(lrs[: lowest + 1]))
    return float(lrs[int(np.argmin(slopes))]), float(lrs[lowest] / 10.0)


def lr_range_test(
    model: Any,
    optimizer_factory: Callable[[Callable[[Any], Any]], Any],
    loss_fn: Callable[..., Any],
    batches: Iterable[Any],
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    smooth: float = 0.98,
    diverge_factor: float = 4.0,
) -> LRRangeResult:
    r"""Train briefly with an exponentially increasing learning rate and record the loss (the LR range test).

    .. math::
        \eta_i = \eta_{\text{start}} \Big(\frac{\eta_{\text{end}}}{\eta_{\text{start}}}\Big)^{i / (N - 1)},
        \qquad a_i = \beta a_{i-1} + (1 - \beta)\, \ell_i, \qquad \bar\ell_i = \frac{a_i}{1 - \beta^{i+1}}

    Update :math:`i` uses :math:`\eta_i`; :math:`\ell_i` is its loss and :math:`\bar\ell_i` the
    bias-corrected smoothed loss (fastai). The sweep stops early when :math:`\bar\ell_i >
    \text{diverge\_factor} \cdot \min_{j \le i} \bar\ell_j` or a loss is not finite (so losses should be
    positive, as cross-entropy and squared errors are). Afterwards the model's parameters (all of them,
    trainable or not) are restored bit for bit; the optimizer is a fresh one from ``optimizer_factory``
    and is thrown away, so the caller's optimizer is never touched. ``mx.random.state`` does advance if
    ``loss_fn`` draws random numbers (dropout): MLX offers no way to set it back from Python.

    Args:
        model: the ``mlx.nn.Module`` to probe.
        optimizer_factory: called once with the learning-rate schedule (a callable of the step), returns
            an optimizer, e.g. ``lambda lr: optim.SGD(learning_rate=lr, momentum=0.9)``.
        loss_fn: ``loss_fn(model, *batch)`` for tuple/list batches, else ``loss_fn(model, batch)``;
            returns a scalar loss.
        batches: an iterable of batches; a re-iterable one (a list) is cycled if shorter than
            ``num_steps``, a one-shot iterator ends the sweep when exhausted.
        start_lr: :math:`\eta_{\text{start}} > 0`.
        end_lr: :math:`\eta_{\text{end}} > \eta_{\text{start}}`.
        num_steps: :math:`N \ge 2`, updates in the full sweep.
        smooth: :math:`\beta \in [0, 1)`, the smoothing of the loss (0 keeps the raw loss).
        diverge_factor: :math:`> 1`, the blow-up ratio that stops the sweep.

    Returns:
        An :class:`LRRangeResult` with the curve, ``lr_steepest``, ``lr_min_div10`` and ``.plot()``.

    Examples:
        >>> import mlx.core as mx, mlx.nn as nn, mlx.optimizers as optim
        >>> mx.random.seed(0)
        >>> model = nn.Linear(4, 1)
        >>> x = mx.random.normal((64, 4)); y = x @ mx.array([[1.0], [-2.0], [0.5], [3.0]])
        >>> before = model.weight
        >>> result = lr_range_test(model, lambda lr: optim.SGD(learning_rate=lr),
        ...                        lambda m, x, y: nn.losses.mse_loss(m(x), y), [(x, y)], num_steps=60)
        >>> result.stop_reason, bool(mx.array_equal(model.weight, before))
        ('diverged', True)
        >>> bool(1e-3 < result.suggested_max_lr < 1.0)
        True

    References:
        Smith, L. N., *Cyclical Learning Rates for Training Neural Networks*, 2015 (LR range test).
        https://arxiv.org/abs/1506.01186; fastai ``Learner.lr_find``.
    """
    import mlx.core as mx
    from mlx.nn.utils import value_and_grad as module_value_and_grad

    owner = "lr_range_test"
    start_lr = _check.positive(owner, "start_lr", start_lr)
    end_lr = _check.positive(owner, "end_lr", end_lr)
    if end_lr <= start_lr:
        raise ValueError(f"{owner}: end_lr must be greater than start_lr = {start_lr!r}, got {end_lr!r}")
    num_steps = _check.integer(owner, "num_steps", num_steps, low=2)
    smooth = _check.real(owner, "smooth", smooth, low=0.0, high=1.0, high_open=True)
    diverge_factor = _check.real(owner, "diverge_factor", diverge_factor, low=1.0, low_open=True)
    for name, function in (("optimizer_factory", optimizer_factory), ("loss_fn", loss_fn)):
        if not callable(function):
            raise TypeError(f"{owner}: {name} must be callable, got {type(function).__name__}")

    # The exponential sweep start_lr -> end_lr over num_steps - 1 updates, held at end_lr: a growing
    # ExponentialDecay, so the optimizer's float32 rates carry the library's exact powers.
    sweep = ExponentialDecay(start_lr, end_lr / start_lr, decay_steps=num_steps - 1, end_lr=end_lr)
    lr_table = sweep.curve(num_steps)
    saved_parameters = model.parameters()
    optimizer = optimizer_factory(sweep)
    value_and_grad = module_value_and_grad(model, loss_fn)
    losses: list[float] = []
    smoothed: list[float] = []
    stop_reason = "completed"
    iterator = iter(batches)
    restartable = iterator is not batches
    try:
        average, best = 0.0, math.inf
        for index in range(num_steps):
            batch = next(iterator, _END)
            if batch is _END and restartable and index:
                iterator = iter(batches)
                batch = next(iterator, _END)
            if batch is _END:
                if index == 0:
                    raise ValueError(f"{owner}: batches is empty")
                stop_reason = "exhausted"
                break
            args = tuple(batch) if isinstance(batch, (tuple, list)) else (batch,)
            loss, grads = value_and_grad(model, *args)
            optimizer.update(model, grads)
            mx.eval(loss, model.parameters(), optimizer.state)
            loss_value = float(loss.item())
            average = smooth * average + (1.0 - smooth) * loss_value
            smoothed_value = average / (1.0 - smooth ** (index + 1))
            losses.append(loss_value)
            smoothed.append(smoothed_value)
            if not math.isfinite(smoothed_value) or smoothed_value > diverge_factor * best:
                stop_reason = "diverged"
                break
            best = min(best, smoothed_value)
    finally:
        model.update(saved_parameters)
    lrs = lr_table[: len(losses)]
    smoothed_losses = np.asarray(smoothed)
    lr_steepest, lr_min_div10 = _suggestions(lrs, smoothed_losses)
    return LRRangeResult(
        lrs=lrs,
        losses=np.asarray(losses),
        smoothed_losses=smoothed_losses,
        stop_reason=stop_reason,
        lr_steepest=lr_steepest,
        lr_min_div10=lr_min_div10,
    )
