"""Generate the schedule gallery: one PNG per schedule family plus a combined figure.

Run from anywhere (``python docs/make_gallery.py [--out DIR]``); the default output is ``docs/gallery``
next to this script. A family is the module a schedule class lives in (``decay``, ``warmup``, ``cyclic``,
...), so a new schedule shows up in its family's figure as soon as it has an entry in :data:`PANELS`.
Every file is written atomically (temporary file, then ``os.replace``) and without a software version
or date in its metadata, so regenerating on the same matplotlib gives the same pixels.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import dataclass
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the repository root, so the script runs without installing

import matplotlib  # noqa: E402

matplotlib.use("Agg")

from mlx_lrsched.base import from_config, schedule_class, schedule_names  # noqa: E402
from mlx_lrsched.plot import new_figure, plot, save_figure  # noqa: E402

NOT_PURE = frozenset({"ReduceOnPlateau", "GradNormScaled"})
"""Schedules that depend on training feedback, not only on the step: no gallery panel."""

FAMILY_TITLES = {
    "decay": "Decay schedules",
    "warmup": "Warmup, inverse square root and warmup-stable-decay",
    "compose": "Composition",
    "cyclic": "Cyclic schedules",
    "one_cycle": "1-cycle",
}

STEPS = 1000
PEAK = 0.1
DPI = 100
PANEL_SIZE = (4.6, 3.9)  # inches per panel
COLUMNS = 3
OUTPUT_NAMES = {"combined": "all.png"}


@dataclass(frozen=True)
class Panel:
    """One subplot: variants (legend label -> config parameters) of the schedule ``name``."""

    variants: dict[str, dict[str, Any]]
    name: str = ""  # the schedule name; the panel's key in PANELS when empty
    steps: int = STEPS
    log_y: bool = False
    ylabel: str = "learning rate"
    phases: bool = True


def _cos(init_lr: float, decay_steps: int, end_lr: float = 0.0) -> dict[str, Any]:
    return {"name": "CosineDecay", "init_lr": init_lr, "decay_steps": decay_steps, "end_lr": end_lr}


PANELS: dict[str, Panel] = {
    # decay
    "Constant": Panel({"lr=0.1": {"lr": PEAK}, "lr=0.05": {"lr": PEAK / 2}}),
    "StepDecay": Panel(
        {"step_size=250, gamma=0.5": {"init_lr": PEAK, "step_size": 250, "gamma": 0.5}},
    ),
    "MultiStepDecay": Panel(
        {"milestones=[300, 600, 900], gamma=0.1": {"init_lr": PEAK, "milestones": [300, 600, 900], "gamma": 0.1}},
        log_y=True,
    ),
    "PiecewiseConstant": Panel(
        {"boundaries=[200, 500]": {"boundaries": [200, 500], "values": [PEAK, PEAK / 2, PEAK / 10]}},
    ),
    "ExponentialDecay": Panel(
        {
            "continuous, rate 0.96 / 50 steps": {"init_lr": PEAK, "decay_rate": 0.96, "decay_steps": 50},
            "staircase": {"init_lr": PEAK, "decay_rate": 0.96, "decay_steps": 50, "staircase": True},
            "transition_begin=200, end_lr=0.02": {
                "init_lr": PEAK,
                "decay_rate": 0.9,
                "decay_steps": 50,
                "transition_begin": 200,
                "end_lr": 0.02,
            },
        },
        log_y=True,
    ),
    "InverseTimeDecay": Panel(
        {
            "rate 1 / 100 steps": {"init_lr": PEAK, "decay_rate": 1.0, "decay_steps": 100},
            "staircase": {"init_lr": PEAK, "decay_rate": 1.0, "decay_steps": 100, "staircase": True},
        },
    ),
    "PolynomialDecay": Panel(
        {
            "power=1 (linear)": {"init_lr": PEAK, "end_lr": 0.001, "decay_steps": 800},
            "power=2": {"init_lr": PEAK, "end_lr": 0.001, "decay_steps": 800, "power": 2.0},
            "power=0.5": {"init_lr": PEAK, "end_lr": 0.001, "decay_steps": 800, "power": 0.5},
            "cycle=True, 250 steps": {"init_lr": PEAK, "end_lr": 0.001, "decay_steps": 250, "cycle": True},
        },
    ),
    "CosineDecay": Panel(
        {
            "end_lr=0": {"init_lr": PEAK, "decay_steps": STEPS},
            "end_lr=0.02, 700 steps": {"init_lr": PEAK, "decay_steps": 700, "end_lr": 0.02},
        },
    ),
    # warmup
    "Warmup": Panel(
        {
            "linear warmup 100 + cosine": {"schedule": _cos(PEAK, 900), "warmup_steps": 100},
            "cos warmup 200 + cosine": {"schedule": _cos(PEAK, 800), "warmup_steps": 200, "shape": "cos"},
            "constant 0.01 for 100, cosine from 0.08": {
                "schedule": _cos(0.08, 900),
                "warmup_steps": 100,
                "init_lr": 0.01,
                "shape": "constant",
            },
        },
    ),
    "Linear": Panel({"0.1 -> 0.01 over 800": {"init_lr": PEAK, "end_lr": 0.01, "steps": 800}}),
    "Ramp": Panel(
        {
            "cos, 0.1 -> 0.01 over 800": {"start": PEAK, "end": 0.01, "steps": 800, "shape": "cos"},
            "sqrt, 0.01 -> 0.1 over 800": {"start": 0.01, "end": PEAK, "steps": 800, "shape": "sqrt"},
        }
    ),
    "InverseSqrt": Panel(
        {
            "warmup 100": {"peak_lr": PEAK, "warmup_steps": 100},
            "warmup 100, timescale 400": {"peak_lr": PEAK, "warmup_steps": 100, "timescale": 400},
        },
    ),
    "WSD": Panel(
        {
            "linear decay": {"peak_lr": PEAK, "warmup_steps": 100, "stable_steps": 600, "decay_steps": 300},
            "1-sqrt decay": {
                "peak_lr": PEAK,
                "warmup_steps": 100,
                "stable_steps": 600,
                "decay_steps": 300,
                "decay_shape": "sqrt",
            },
        },
    ),
    # compose
    "PerEpoch": Panel(
        {
            "exp(-0.5 e), 100 steps/epoch": {
                "schedule": {"name": "ExponentialDecay", "init_lr": PEAK, "decay_rate": math.exp(-0.5)},
                "steps_per_epoch": 100,
            },
        },
    ),
    "Join": Panel(
        {
            "constant, then cosine at 300": {
                "schedules": [{"name": "Constant", "lr": 0.05}, _cos(PEAK, 700)],
                "boundaries": [300],
            },
        },
    ),
    "Scale": Panel({"0.5 x cosine": {"schedule": _cos(PEAK, STEPS), "factor": 0.5}}),
    "Product": Panel(
        {
            "cosine x steps": {
                "schedules": [_cos(PEAK, STEPS), {"name": "StepDecay", "init_lr": 1.0, "step_size": 250, "gamma": 0.7}],
            },
        },
    ),
    "Clip": Panel({"cosine clipped to [0.02, 0.08]": {"schedule": _cos(PEAK, STEPS), "min_lr": 0.02, "max_lr": 0.08}}),
    "Shift": Panel(
        {
            "OneCycle(0.1, 1300) from its step 300": {
                "schedule": {"name": "OneCycle", "max_lr": PEAK, "total_steps": 1300},
                "steps": 300,
            }
        }
    ),
    # cyclic
    "CyclicLR": Panel(
        {
            "triangular": {"base_lr": 0.01, "max_lr": PEAK, "step_size_up": 125},
            "triangular2": {"base_lr": 0.01, "max_lr": PEAK, "step_size_up": 125, "mode": "triangular2"},
            "exp_range, gamma=0.998": {
                "base_lr": 0.01,
                "max_lr": PEAK,
                "step_size_up": 125,
                "mode": "exp_range",
                "gamma": 0.998,
            },
        },
        phases=False,
    ),
    "CyclicLR windows": Panel(
        {
            f"{window}": {"base_lr": 0.01, "max_lr": PEAK, "step_size_up": 250, "window": window}
            for window in ("linear", "welch", "hann")
        },
        name="CyclicLR",
        phases=False,
    ),
    "CyclicExponentialDecay": Panel(
        {
            "raised cosine, rate 0.7 / period 200": {"init_lr": PEAK, "decay_rate": 0.7, "period_steps": 200},
            "staircase, min_lr=0.01": {
                "init_lr": PEAK,
                "decay_rate": 0.7,
                "period_steps": 200,
                "staircase": True,
                "min_lr": 0.01,
            },
            "signed_cosine (seed 002, goes negative)": {
                "init_lr": PEAK,
                "decay_rate": 0.7,
                "period_steps": 200,
                "modulation": "signed_cosine",
            },
        },
    ),
    "CyclicMomentum": Panel(
        {
            "triangular, 0.85 - 0.95": {
                "schedule": {"name": "CyclicLR", "base_lr": 0.01, "max_lr": PEAK, "step_size_up": 125},
                "base_momentum": 0.85,
                "max_momentum": 0.95,
            },
        },
        ylabel="momentum",
        phases=False,
    ),
    # restarts
    "Restarts": Panel(
        {
            "tanh (timm), 3 cycles of 300": {
                "init_lr": PEAK,
                "first_period_steps": 300,
                "shape": "tanh",
                "cycle_limit": 3,
                "end_lr": 0.01,
            },
            "cycles of 1000 / 3 (HF hard restarts)": {"init_lr": PEAK, "first_period_steps": 1000 / 3},
            "t_mult=1.5, m_mul=0.6 on the amplitude (Keras)": {
                "init_lr": PEAK,
                "first_period_steps": 100,
                "t_mult": 1.5,
                "m_mul": 0.6,
                "end_lr": 0.01,
                "m_mul_mode": "amplitude",
            },
        },
    ),
    "CosineRestarts": Panel(
        {
            "period 200": {"init_lr": PEAK, "first_period_steps": 200},
            "period 100, t_mult=2, m_mul=0.8": {
                "init_lr": PEAK,
                "first_period_steps": 100,
                "t_mult": 2,
                "m_mul": 0.8,
            },
        },
    ),
    # noise
    "Noisy": Panel(
        {
            "cosine, normal noise (timm's defaults) from step 200": {"schedule": _cos(PEAK, STEPS), "start_step": 200},
            "cosine, uniform noise, pct 0.2": {
                "schedule": _cos(PEAK, STEPS),
                "pct": 0.2,
                "distribution": "uniform",
                "seed": 7,
            },
        },
    ),
    # interpolate
    "PiecewiseInterpolate": Panel(
        {
            "linear, 0.01 -> 0.1 -> 0.001": {"boundaries": [0, 300, 800], "values": [0.01, PEAK, 0.001]},
            "cos, same points": {"boundaries": [0, 300, 800], "values": [0.01, PEAK, 0.001], "shape": "cos"},
        },
    ),
    # one_cycle
    "OneCycle": Panel(
        {
            "cos (PyTorch default)": {"max_lr": PEAK, "total_steps": STEPS},
            "three_phase, linear": {"max_lr": PEAK, "total_steps": STEPS, "three_phase": True, "anneal": "linear"},
        },
        log_y=True,
    ),
    "OneCycleMomentum": Panel(
        {
            "cos (PyTorch default)": {"schedule": {"name": "OneCycle", "max_lr": PEAK, "total_steps": STEPS}},
            "three_phase, linear": {
                "schedule": {
                    "name": "OneCycle",
                    "max_lr": PEAK,
                    "total_steps": STEPS,
                    "three_phase": True,
                    "anneal": "linear",
                },
            },
        },
        ylabel="momentum",
    ),
}

COMBINED: dict[str, dict[str, Any]] = {
    "StepDecay": {"name": "StepDecay", "init_lr": PEAK, "step_size": 250, "gamma": 0.5},
    "ExponentialDecay": {"name": "ExponentialDecay", "init_lr": PEAK, "decay_rate": 0.96, "decay_steps": 50},
    "CosineDecay": _cos(PEAK, STEPS),
    "Warmup + cosine": {"name": "Warmup", "schedule": _cos(PEAK, 900), "warmup_steps": 100},
    "WSD": {"name": "WSD", "peak_lr": PEAK, "warmup_steps": 100, "stable_steps": 600, "decay_steps": 300},
    "CyclicLR triangular2": {
        "name": "CyclicLR",
        "base_lr": 0.01,
        "max_lr": PEAK,
        "step_size_up": 125,
        "mode": "triangular2",
    },
    "CyclicExponentialDecay": {
        "name": "CyclicExponentialDecay",
        "init_lr": PEAK,
        "decay_rate": 0.7,
        "period_steps": 200,
    },
    "OneCycle": {"name": "OneCycle", "max_lr": PEAK, "total_steps": STEPS},
}
"""The combined figure: one representative per family, all peaking at 0.1 over 1000 steps."""


def schedule_of(title: str) -> str:
    """The schedule name a panel draws."""
    return PANELS[title].name or title


def family_of(name: str) -> str:
    """The family of a registered schedule: the module its class is defined in (the algebra in ``base`` is
    drawn with the compositions, ``Constant`` with the decays it re-exports)."""
    module = schedule_class(name).__module__.rsplit(".", 1)[-1]
    if module == "base":
        return "decay" if name == "Constant" else "compose"
    # one-schedule modules join the family they belong to: keyframes with the decays, noise with the wrappers
    return {"interpolate": "decay", "noise": "compose"}.get(module, module)


def families() -> dict[str, list[str]]:
    """Family -> titles of the panels whose schedule is registered, in :data:`PANELS` order."""
    registered = set(schedule_names())
    grouped: dict[str, list[str]] = {}
    for title in PANELS:
        if schedule_of(title) in registered:
            grouped.setdefault(family_of(schedule_of(title)), []).append(title)
    return grouped


def missing_panels() -> list[str]:
    """Registered schedules that are pure functions of the step but have no panel (the gallery is stale)."""
    drawn = {schedule_of(title) for title in PANELS}
    return [name for name in schedule_names() if name not in drawn and name not in NOT_PURE]


def unregistered_panels() -> list[str]:
    """Panels whose schedule is not registered (its module is missing): skipped."""
    return [title for title in PANELS if schedule_of(title) not in set(schedule_names())]


def render_family(family: str, titles: list[str]) -> Any:
    """One figure with a panel per entry of ``family``."""
    columns = min(COLUMNS, len(titles))
    rows = -(-len(titles) // columns)
    figure = new_figure((PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows + 0.4), DPI)
    figure.suptitle(FAMILY_TITLES.get(family, family.replace("_", " ")), fontsize="x-large")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, title in zip(axes, titles, strict=False):
        panel = PANELS[title]
        name = schedule_of(title)
        schedules = [from_config({"name": name, **params}) for params in panel.variants.values()]
        labels = list(panel.variants)
        plot(schedules, panel.steps, labels=labels, ax=ax, log_y=panel.log_y, title=title, phases=panel.phases)
        ax.set_xlabel("step")
        ax.set_ylabel(panel.ylabel)
        if any(schedule.signed for schedule in schedules):
            ax.axhline(0.0, color="0.2", linewidth=0.8)
        # below the axes, so a legend never hides a curve
        ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.17), frameon=False)
    for ax in axes[len(titles) :]:
        ax.set_visible(False)
    return figure


def render_combined(registered: set[str]) -> Any:
    """All families in one axes: the representatives of :data:`COMBINED` that are registered."""
    chosen = {label: config for label, config in COMBINED.items() if config["name"] in registered}
    figure = new_figure((11.0, 5.0), DPI)
    ax = plot(
        [from_config(config) for config in chosen.values()],
        STEPS,
        labels=list(chosen),
        ax=figure.add_subplot(),
        title="Schedules side by side (peak 0.1, 1000 steps)",
        phases=False,
    )
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return figure


def generate(out_dir: str) -> list[str]:
    """Write every gallery image into ``out_dir``; returns the file names written."""
    os.makedirs(out_dir, exist_ok=True)
    metadata = {"Source": "docs/make_gallery.py", "Matplotlib": matplotlib.__version__}
    written = []
    with matplotlib.rc_context():
        matplotlib.rcdefaults()  # ignore any user matplotlibrc: the gallery must not depend on who builds it
        matplotlib.rcParams.update({"font.family": "DejaVu Sans", "svg.hashsalt": "mlx-lrsched"})
        for family, titles in families().items():
            written.append(f"{family}.png")
            save_figure(render_family(family, titles), os.path.join(out_dir, written[-1]), metadata=metadata)
        written.append(OUTPUT_NAMES["combined"])
        save_figure(render_combined(set(schedule_names())), os.path.join(out_dir, written[-1]), metadata=metadata)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", default=os.path.join(HERE, "gallery"), help="output directory")
    args = parser.parse_args(argv)
    for name in missing_panels():
        print(f"warning: {name} has no gallery panel; add one to PANELS in {__file__}", file=sys.stderr)
    skipped = unregistered_panels()
    if skipped:
        print(f"note: not registered (module missing?), skipped: {', '.join(skipped)}", file=sys.stderr)
    for file_name in generate(args.out):
        print(os.path.join(args.out, file_name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
