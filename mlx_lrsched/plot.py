"""Plot one or several schedules in one matplotlib figure (matplotlib is the optional ``plot`` extra).

Curves come from the NumPy float64 reference path, so plotting needs no MLX. Importing this module
does not import matplotlib; the first plot does, and says how to install it when it is missing.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import secrets
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .base import Schedule

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Curve = Schedule | Callable[[np.ndarray], Any]
"""What :func:`plot` draws: a :class:`Schedule` or any callable taking a NumPy step array."""

INSTALL_HINT = 'plotting needs matplotlib, the optional "plot" extra: pip install "mlx-lrsched[plot]"'

DENSE_STEPS = 20_000
"""Up to this many steps every step is evaluated; above it the curve is sampled (see :func:`plot_steps`)."""

SAMPLED_POINTS = 8_192
MAX_PHASE_MARKS = 64
"""More phase boundaries than this in the plotted range are not marked (they would fill the plot)."""

# Savefig metadata that makes the output depend only on the figure (no software version, no date).
_REPRODUCIBLE_METADATA: dict[str, dict[str, Any]] = {
    "png": {"Software": None},
    "svg": {"Date": None},
    "pdf": {"CreationDate": None},
}


def require_matplotlib() -> Any:
    """Import and return ``matplotlib``, or raise ``ImportError`` saying how to install it."""
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return matplotlib


def new_figure(figsize: tuple[float, float] = (8.0, 4.5), dpi: float = 100.0) -> Figure:
    """A matplotlib ``Figure`` that is not managed by ``pyplot`` (no GUI window, nothing to close)."""
    require_matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, dpi=dpi, layout="constrained")


def _pyplot_figure(figsize: tuple[float, float], dpi: float) -> Figure:
    matplotlib = require_matplotlib()
    headless = sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless and "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure: Figure = plt.figure(figsize=figsize, dpi=dpi, layout="constrained")
    return figure


def describe(schedule: Any, width: int = 60) -> str:
    """A short label for a schedule: its class and the parameters that differ from their defaults.

    Args:
        schedule: a :class:`Schedule` (nested schedules are described recursively) or any callable.
        width: the longest label returned; longer ones are cut with an ellipsis.

    Examples:
        >>> from mlx_lrsched.decay import StepDecay
        >>> describe(StepDecay(0.1, step_size=30))
        'StepDecay(init_lr=0.1, step_size=30)'
    """
    text = _describe(schedule)
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _describe(value: Any) -> str:
    if isinstance(value, Schedule) and dataclasses.is_dataclass(value):
        parts = []
        for field in dataclasses.fields(value):
            current = getattr(value, field.name)
            if not field.init or (field.default is not dataclasses.MISSING and current == field.default):
                continue
            parts.append(f"{field.name}={_describe(current)}")
        return f"{type(value).__name__}({', '.join(parts)})"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_describe(v) for v in value) + "]"
    if isinstance(value, (Schedule, int, str, bool)) or value is None:
        return repr(value) if isinstance(value, str) else str(value)
    return str(getattr(value, "__name__", type(value).__name__))


def phase_marks(schedule: Any, total_steps: int) -> tuple[int, ...]:
    """The schedule's ``phase_boundaries`` strictly inside ``(0, total_steps)``, if they are worth marking.

    Empty when the schedule has none, and when marking them would only shade the plot: more than
    ``MAX_PHASE_MARKS`` of them, or more than four with two closer than 0.5% of the range (the first
    cycles of a short-period cyclic schedule over a long run).
    """
    boundaries = getattr(schedule, "phase_boundaries", ())
    marks = tuple(sorted({int(b) for b in boundaries if 0 < int(b) < total_steps}))
    crowded = len(marks) > 4 and min(b - a for a, b in itertools.pairwise(marks)) * 200 < total_steps
    return () if len(marks) > MAX_PHASE_MARKS or crowded else marks


def plot_steps(total_steps: int, marks: Sequence[int] = ()) -> np.ndarray:
    """The steps a curve over ``[0, total_steps)`` is evaluated at.

    Every step when ``total_steps <= DENSE_STEPS``; otherwise ``SAMPLED_POINTS`` evenly spaced steps
    (exact integers, also near ``2**63``) plus each mark and the step before it, so jumps stay sharp.
    """
    if total_steps <= DENSE_STEPS:
        return np.arange(total_steps, dtype=np.int64)
    last = total_steps - 1
    grid = [i * last // (SAMPLED_POINTS - 1) for i in range(SAMPLED_POINTS)]
    extra = [s for mark in marks for s in (mark - 1, mark)]
    return np.unique(np.array(grid + extra, dtype=np.int64))


def evaluate_curve(schedule: Curve, steps: np.ndarray) -> np.ndarray:
    """The float64 reference values of ``schedule`` at the NumPy integer ``steps``."""
    return np.asarray(schedule(steps), dtype=np.float64)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, Schedule) or callable(value):
        return [value]
    return list(value)


def _momentum_pairs(momentum: Any, schedules: list[Any]) -> list[tuple[int | None, Any]]:
    """``(index of the LR curve it belongs to or None, momentum schedule)`` pairs."""
    if momentum is False or momentum is None:
        return []
    if momentum is True:
        pairs: list[tuple[int | None, Any]] = []
        for index, schedule in enumerate(schedules):
            twin = getattr(schedule, "momentum", None)
            if twin is not None and not isinstance(twin, Schedule) and callable(twin):
                twin = twin()
            if twin is not None:
                pairs.append((index, twin))
        if not pairs:
            raise ValueError(
                "plot: momentum=True but none of the schedules has a momentum twin (a .momentum schedule); "
                "pass the momentum schedule(s) instead"
            )
        return pairs
    if isinstance(momentum, Schedule) or callable(momentum):
        return [(0 if len(schedules) == 1 else None, momentum)]
    twins = list(momentum)
    if len(twins) != len(schedules):
        raise ValueError(
            f"plot: momentum must be one schedule or one per schedule ({len(schedules)}), got {len(twins)}"
        )
    return [(index, twin) for index, twin in enumerate(twins) if twin is not None]


def plot(
    schedules: Curve | Sequence[Curve],
    total_steps: int,
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    log_y: bool = False,
    momentum: bool | Curve | Sequence[Curve | None] = False,
    *,
    title: str | None = None,
    phases: bool = True,
    figsize: tuple[float, float] = (8.0, 4.5),
    dpi: float = 100.0,
    save: str | os.PathLike[str] | None = None,
) -> Axes:
    r"""Draw one or several schedules over steps ``0 .. total_steps - 1`` in one axes.

    .. math:: \text{curve}_i = \big(t, \eta^{(i)}_t\big)_{t=0}^{N-1}

    Values come from the NumPy float64 reference path (no MLX needed). Dotted vertical lines mark each
    schedule's ``phase_boundaries`` (warmup end, milestones, cycle ends) in its colour. Above
    ``DENSE_STEPS`` steps the curve is sampled at ``SAMPLED_POINTS`` steps plus its phase boundaries.

    Args:
        schedules: a :class:`Schedule` (or callable on NumPy steps) or a sequence of them.
        total_steps: :math:`N \ge 1`, the number of steps drawn.
        labels: one legend label per schedule; defaults to :func:`describe` of each.
        ax: the matplotlib axes to draw into; a new ``pyplot`` figure when ``None`` (with the ``Agg``
            backend when there is no display).
        log_y: a logarithmic learning-rate axis (for decays over several decades).
        momentum: momentum schedules drawn dashed on a second y axis: one schedule, one per schedule
            (``None`` entries skipped), or ``True`` to use each schedule's ``.momentum`` twin.
        title: the axes title.
        phases: mark phase boundaries.
        figsize: the new figure's size in inches (ignored when ``ax`` is given).
        dpi: the new figure's dots per inch (ignored when ``ax`` is given).
        save: a path to write the figure to (format from the suffix), atomically: see :func:`save_figure`.

    Returns:
        The learning-rate axes; ``ax.figure`` is its figure.

    Raises:
        ImportError: matplotlib is not installed (the message says ``pip install "mlx-lrsched[plot]"``).

    Examples:
        >>> from mlx_lrsched.decay import CosineDecay, StepDecay
        >>> ax = plot([CosineDecay(0.1, 1000), StepDecay(0.1, 300, 0.5)], 1000, log_y=True)
        >>> [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
        ['CosineDecay(init_lr=0.1, decay_steps=1000)', 'StepDecay(init_lr=0.1, step_size=300, gamma=0.5)']
        >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """
    if isinstance(total_steps, bool) or not isinstance(total_steps, (int, np.integer)) or total_steps < 1:
        raise ValueError(f"plot: total_steps must be an integer >= 1, got {total_steps!r}")
    total_steps = int(total_steps)
    curves = _as_list(schedules)
    if not curves:
        raise ValueError("plot: schedules must not be empty")
    if labels is None:
        names = [describe(s) for s in curves]
    elif isinstance(labels, str) or len(labels) != len(curves):
        raise ValueError(f"plot: labels must be a sequence of {len(curves)} strings, got {labels!r}")
    else:
        names = [str(label) for label in labels]
    twins = _momentum_pairs(momentum, curves)
    if ax is None:
        ax = _pyplot_figure(figsize, dpi).add_subplot()

    colours = []
    for schedule, name in zip(curves, names, strict=True):
        marks = phase_marks(schedule, total_steps) if phases else ()
        steps = plot_steps(total_steps, marks)
        (line,) = ax.plot(steps, evaluate_curve(schedule, steps), label=name, linewidth=1.6)
        colours.append(line.get_color())
        for mark in marks:
            ax.axvline(mark, color=line.get_color(), linestyle=":", linewidth=0.9, alpha=0.6)
    ax.set_xlim(0, total_steps)
    ax.set_xlabel("step (optimizer updates)")
    ax.set_ylabel("learning rate")
    if log_y:
        ax.set_yscale("log")
    ax.grid(True, which="major", alpha=0.3)
    if title:
        ax.set_title(title)

    handles, legend_labels = ax.get_legend_handles_labels()
    if twins:
        twin_ax = ax.twinx()
        twin_ax.set_ylabel("momentum")
        # draw the learning-rate axes (and its legend) above the twin, whose background stays behind
        ax.set_zorder(twin_ax.get_zorder() + 1)
        ax.patch.set_visible(False)
        for index, twin in twins:
            steps = plot_steps(total_steps, phase_marks(twin, total_steps))
            colour = "0.35" if index is None else colours[index]
            name = "momentum" if index is None else f"{names[index]} momentum"
            twin_ax.plot(steps, evaluate_curve(twin, steps), color=colour, linestyle="--", linewidth=1.3, label=name)
        more_handles, more_labels = twin_ax.get_legend_handles_labels()
        handles, legend_labels = handles + more_handles, legend_labels + more_labels
    if len(handles) > 1 or labels is not None:
        ax.legend(handles, legend_labels, fontsize="small", loc="best", framealpha=0.85)
    if save is not None:
        save_figure(ax.figure, save)
    return ax


def save_figure(
    figure: Any, path: str | os.PathLike[str], *, dpi: float | None = None, metadata: Mapping[str, Any] | None = None
) -> None:
    """Write ``figure`` to ``path`` atomically and reproducibly.

    The image goes to a temporary file in the same directory, then ``os.replace`` moves it into place,
    so a reader never sees a half-written file. PNG, SVG and PDF output carry no software version or
    date, so the same figure gives the same file.

    Args:
        figure: a matplotlib ``Figure`` (or ``SubFigure``'s parent).
        path: the output path; its suffix picks the format (``.png`` when there is none).
        dpi: dots per inch; the figure's own by default.
        metadata: extra metadata entries (PNG text chunks, SVG/PDF info).
    """
    matplotlib = require_matplotlib()
    path = os.fspath(path)
    fmt = os.path.splitext(path)[1][1:].lower() or "png"
    info = dict(_REPRODUCIBLE_METADATA.get(fmt, {}))
    info.update(metadata or {})
    directory, name = os.path.split(os.path.abspath(path))
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
    try:
        # "x" mode: a fresh file that honours the umask (mkstemp would leave the output 0600).
        with open(temporary, "xb") as handle, matplotlib.rc_context({"svg.hashsalt": "mlx-lrsched"}):
            figure.savefig(handle, format=fmt, dpi=dpi or "figure", metadata=info or None)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
