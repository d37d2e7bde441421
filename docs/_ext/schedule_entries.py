"""The API reference's table: for every public schedule, the peer it matches and the tests that prove it.

One line per schedule class exported by ``mlx_lrsched.__all__``. The docs build turns each line into a
page (``api/<Name>.html``): its plot, its peer, the first line of each test file named here, and its
docstring with the math rendered and its doctest. ``tests/test_docs_reference.py`` fails when a public
schedule has no line, when a test file named here does not exist or never mentions the class, and when an
identifier in backticks in ``peer`` appears in none of the schedule's test files.

The plot of a schedule is its panels in ``docs/make_gallery.py`` (``PANELS``, every variant drawn); for a
schedule without a panel, the ``variants`` of its entry (legend label -> constructor arguments); or, when
``plot`` names one of the functions below, a simulated run (schedules driven by training feedback, which
the gallery skips).
This module imports neither Sphinx nor matplotlib at import time, so the tests read it without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DOCS_URL = "https://mlx-lrsched.github.io/mlx-lrsched/"
"""Where the built site is published; README.md and docs/pypi.md link into it (``api/<Name>.html``, ...)."""

SOURCE_URL = "https://github.com/mlx-lrsched/mlx-lrsched/blob/main/"
"""Links to test files and sources."""


@dataclass(frozen=True)
class Entry:
    """A schedule's reference entry: the peer it matches (``""``: none, it has no peer) and its proof."""

    peer: str
    tests: tuple[str, ...]
    variants: dict[str, dict[str, Any]] | None = None  # plotted when the gallery has no panel
    plot: str = ""  # a function of this module drawing the figure instead


ENTRIES: dict[str, Entry] = {
    # decay
    "Constant": Entry("", ("tests/test_decay.py",)),
    "StepDecay": Entry("PyTorch `StepLR`", ("tests/test_torch_decay_oracle.py", "tests/test_decay.py")),
    "MultiStepDecay": Entry("PyTorch `MultiStepLR`", ("tests/test_torch_decay_oracle.py", "tests/test_decay.py")),
    "PiecewiseConstant": Entry("Keras `PiecewiseConstantDecay`", ("tests/test_decay.py",)),
    "ExponentialDecay": Entry(
        "PyTorch `ExponentialLR`, Keras `ExponentialDecay`, optax `exponential_decay`",
        ("tests/test_torch_decay_oracle.py", "tests/test_decay.py"),
    ),
    "InverseTimeDecay": Entry("Keras `InverseTimeDecay`", ("tests/test_decay.py",)),
    "PolynomialDecay": Entry(
        "PyTorch `PolynomialLR`, Keras `PolynomialDecay`", ("tests/test_torch_decay_oracle.py", "tests/test_decay.py")
    ),
    "CosineDecay": Entry(
        "PyTorch `CosineAnnealingLR` (up to `T_max`), optax `cosine_decay_schedule`",
        ("tests/test_torch_decay_oracle.py", "tests/test_compose.py"),
    ),
    # warmup
    "Warmup": Entry("optax `warmup_cosine_decay_schedule`", ("tests/test_compose.py",)),
    "Linear": Entry(
        "PyTorch `LinearLR`, mlx `linear_schedule`", ("tests/test_torch_decay_oracle.py", "tests/test_compose.py")
    ),
    "InverseSqrt": Entry(
        "the Transformer (Noam) rule, Hugging Face `get_inverse_sqrt_schedule`", ("tests/test_compose.py",)
    ),
    "WSD": Entry("warmup-stable-decay (Hägele et al. 2024)", ("tests/test_compose.py",)),
    # composition
    "Ramp": Entry("", ("tests/test_gallery.py", "tests/test_properties.py")),
    "Join": Entry("optax `join_schedules`, mlx `join_schedules`", ("tests/test_compose.py", "tests/test_mlx_lm.py")),
    "PerEpoch": Entry("a scheduler stepped once per epoch", ("tests/test_decay.py", "tests/test_compose.py")),
    "Scale": Entry("", ("tests/test_compose.py",)),
    "Product": Entry("", ("tests/test_compose.py",)),
    "Clip": Entry("", ("tests/test_compose.py",)),
    "Shift": Entry(
        "timm `warmup_prefix=False`",
        ("tests/test_shift_and_interpolate.py",),
        {
            "StepDecay(0.1, 250, 0.5) shifted by 300": {
                "schedule": {"name": "StepDecay", "init_lr": 0.1, "step_size": 250, "gamma": 0.5},
                "steps": 300,
            }
        },
    ),
    "PiecewiseInterpolate": Entry(
        "optax `piecewise_interpolate_schedule`",
        ("tests/test_shift_and_interpolate.py",),
        {
            "linear": {"boundaries": [0, 300, 600, 1000], "values": [0.01, 0.1, 0.05, 0.0]},
            "cos": {"boundaries": [0, 300, 600, 1000], "values": [0.01, 0.1, 0.05, 0.0], "shape": "cos"},
        },
    ),
    # cyclic
    "CyclicLR": Entry("PyTorch `CyclicLR`", ("tests/test_torch_cyclic_oracle.py", "tests/test_cyclic.py")),
    "CyclicExponentialDecay": Entry("seed 002's cyclic exponential decay", ("tests/test_cyclic.py",)),
    "CosineRestarts": Entry(
        "PyTorch `CosineAnnealingWarmRestarts`, timm `CosineLRScheduler`, Keras `CosineDecayRestarts`",
        ("tests/test_torch_cyclic_oracle.py", "tests/test_cyclic.py", "tests/test_restarts.py"),
    ),
    # 1-cycle
    "OneCycle": Entry(
        "PyTorch `OneCycleLR`",
        ("tests/test_torch_cyclic_oracle.py", "tests/test_one_cycle.py", "tests/test_from_torch.py"),
    ),
    "Restarts": Entry(
        "timm `CosineLRScheduler`, `TanhLRScheduler`, `PolyLRScheduler`, Keras `CosineDecayRestarts`",
        ("tests/test_restarts.py", "tests/test_from_timm.py"),
        {
            "cos, period 200, m_mul=0.7": {"init_lr": 0.1, "first_period_steps": 200, "m_mul": 0.7},
            "tanh, period 150, t_mult=1.5": {"init_lr": 0.1, "first_period_steps": 150, "t_mult": 1.5, "shape": "tanh"},
        },
    ),
    "CyclicMomentum": Entry(
        "PyTorch `CyclicLR(cycle_momentum=True)`",
        ("tests/test_cyclic_momentum.py",),
        {
            "of CyclicLR(0.01, 0.1, 125)": {
                "schedule": {"name": "CyclicLR", "base_lr": 0.01, "max_lr": 0.1, "step_size_up": 125},
                "base_momentum": 0.85,
                "max_momentum": 0.95,
            },
        },
    ),
    "OneCycleMomentum": Entry(
        "PyTorch `OneCycleLR(cycle_momentum=True)`", ("tests/test_one_cycle.py", "tests/test_defaults.py")
    ),
    "Noisy": Entry(
        "timm's LR noise (`noise_pct`, `noise_std`, `noise_type`), as a pure function of the step",
        ("tests/test_noise.py", "tests/test_from_timm.py"),
    ),
    # feedback
    "ReduceOnPlateau": Entry(
        "PyTorch `ReduceLROnPlateau`",
        ("tests/test_torch_plateau_oracle.py", "tests/test_thresholds.py", "tests/test_feedback.py"),
        plot="plot_reduce_on_plateau",
    ),
    "GradNormScaled": Entry("seed 000's gradient-norm rate", ("tests/test_feedback.py",), plot="plot_grad_norm_scaled"),
}


def public_schedules() -> list[str]:
    """The schedule classes that ``mlx_lrsched.__all__`` exports (the base class ``Schedule`` left out)."""
    import mlx_lrsched

    return [
        name
        for name in mlx_lrsched.__all__
        if name != "Schedule"
        and isinstance(getattr(mlx_lrsched, name), type)
        and issubclass(getattr(mlx_lrsched, name), mlx_lrsched.Schedule)
    ]


def missing_entries() -> list[str]:
    """Public schedules without a line in :data:`ENTRIES`: the reference would be incomplete."""
    return [name for name in public_schedules() if name not in ENTRIES]


def peer_identifiers(peer: str) -> list[str]:
    """The names in backticks in a peer description, each cut at its first parenthesis (``OneCycleLR``)."""
    return [span.split("(")[0] for span in peer.split("`")[1::2]]


# ------------------------------------------------------------------------ figures of feedback schedules
# Both draw a simulated run: the schedule's NumPy reference, with its state changed between steps the way
# training changes it (a validation loss once per epoch; a gradient norm at every update).


def plot_reduce_on_plateau(ax: Any) -> None:
    import numpy as np

    from mlx_lrsched import CosineDecay, ReduceOnPlateau

    plateau = ReduceOnPlateau(CosineDecay(0.1, decay_steps=1000), factor=0.5, patience=2)
    epoch_steps, epochs = 50, 20
    # a validation loss that improves, stalls from epoch 6, improves a little at 10, then stalls again
    losses = [1.0, 0.7, 0.5, 0.4, 0.35, 0.33, 0.33, 0.34, 0.33, 0.335, 0.3, 0.31, 0.3, 0.305, 0.3, 0.3, 0.3, 0.3, 0.3]
    steps = np.arange(epochs * epoch_steps)
    rates = np.empty(len(steps))
    for epoch in range(epochs):
        window = steps[epoch * epoch_steps : (epoch + 1) * epoch_steps]
        rates[window] = plateau(window)
        if epoch < len(losses):
            plateau.update(losses[epoch])  # after the epoch, as a training loop does
    base = CosineDecay(0.1, decay_steps=1000)(steps)
    ax.plot(steps, base, color="0.6", linestyle=":", linewidth=1.3, label="base: CosineDecay(0.1, 1000)")
    ax.plot(steps, rates, linewidth=1.6, label="ReduceOnPlateau(base, factor=0.5, patience=2)")
    metric_ax = ax.twinx()
    metric_steps = (np.arange(len(losses)) + 1) * epoch_steps
    metric_ax.plot(metric_steps, losses, "o", color="C3", markersize=3.5, label="validation loss (update)")
    metric_ax.set_ylabel("validation loss")
    _finish(ax, metric_ax)


def plot_grad_norm_scaled(ax: Any) -> None:
    import mlx.core as mx
    import numpy as np

    from mlx_lrsched import CosineDecay, GradNormScaled

    scaled = GradNormScaled(CosineDecay(0.1, decay_steps=1000), floor=0.1)
    steps = np.arange(1000)
    # a gradient norm that starts large and settles, with a spike at step 600
    norms = 8.0 * np.exp(-steps / 120.0) + 0.3 + 6.0 * np.exp(-(((steps - 600) / 15.0) ** 2))
    rates = np.empty(len(steps))
    for step, norm in zip(steps, norms, strict=True):
        scaled.state["grad_norm"] = mx.array(norm, dtype=mx.float32)  # what apply_gradients records
        rates[step] = scaled(np.int64(step))
    ax.plot(steps, CosineDecay(0.1, 1000)(steps), color="0.6", linestyle=":", linewidth=1.3, label="base")
    ax.plot(steps, rates, linewidth=1.6, label="GradNormScaled(base, floor=0.1)")
    norm_ax = ax.twinx()
    norm_ax.plot(steps, norms, color="C3", linewidth=1.0, alpha=0.7, label="gradient norm")
    norm_ax.set_ylabel("gradient norm")
    _finish(ax, norm_ax)


def _finish(ax: Any, twin: Any) -> None:
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.set_xlim(0, 1000)
    ax.set_ylim(bottom=0)
    twin.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    more_handles, more_labels = twin.get_legend_handles_labels()
    ax.legend(handles + more_handles, labels + more_labels, fontsize="small", loc="upper center",
              bbox_to_anchor=(0.5, -0.17), frameon=False)  # fmt: skip
