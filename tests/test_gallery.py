"""docs/make_gallery.py: it runs, covers every schedule, and the committed gallery is what it generates."""

from __future__ import annotations

import importlib.util
import math
import os
import struct
import subprocess
import sys
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
from matplotlib import image as mpimg  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "docs" / "make_gallery.py"
COMMITTED = REPO / "docs" / "gallery"


def load_script():
    spec = importlib.util.spec_from_file_location("make_gallery", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_gallery"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def png_header_and_text(path: Path) -> tuple[tuple[int, int], dict[str, str]]:
    """(width, height) from IHDR and the tEXt chunks of a PNG, checking the signature and every CRC."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    offset, size, text = 8, (0, 0), {}
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, payload = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        assert struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])[0] == zlib.crc32(kind + payload)
        if kind == b"IHDR":
            size = struct.unpack(">II", payload[:8])
        elif kind == b"tEXt":
            key, _, value = payload.partition(b"\0")
            text[key.decode("latin-1")] = value.decode("latin-1")
        offset += 12 + length
    return size, text


def distinct_colours(pixels: np.ndarray) -> int:
    """How many different RGBA colours an image from ``matplotlib.image.imread`` has."""
    rgba = np.round(pixels * 255).astype(np.uint8)
    return len(
        np.unique(
            rgba.reshape(-1, rgba.shape[-1])
            @ np.array([1 << 24, 1 << 16, 1 << 8, 1], dtype=np.uint64)[: rgba.shape[-1]]
        )
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gallery")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr, result.stderr  # every registered schedule has a panel
    assert sorted(Path(line).name for line in result.stdout.split()) == sorted(os.listdir(out))
    return out


def test_the_script_writes_one_png_per_family_plus_the_combined_figure(generated):
    gallery = load_script()
    expected = {f"{family}.png" for family in gallery.families()} | {"all.png"}
    assert set(os.listdir(generated)) == expected  # and no temporary file is left behind
    assert {"decay.png", "warmup.png", "compose.png"} <= expected


def test_every_generated_image_is_a_valid_non_empty_png(generated):
    for path in sorted(generated.iterdir()):
        (width, height), text = png_header_and_text(path)
        assert width >= 800 and height >= 300, path.name
        assert "Software" not in text and text["Source"] == "docs/make_gallery.py"
        pixels = mpimg.imread(path)
        assert pixels.shape[:2] == (height, width)
        assert distinct_colours(pixels) > 50, f"{path.name} looks blank"


def test_the_committed_gallery_has_the_same_files_and_sizes(generated):
    assert sorted(os.listdir(COMMITTED)) == sorted(os.listdir(generated)), "run python docs/make_gallery.py"
    for path in sorted(generated.iterdir()):
        assert png_header_and_text(COMMITTED / path.name)[0] == png_header_and_text(path)[0], path.name


# ------------------------------------------------------------------------------------------ plotted values
# The primary check: the curve each panel draws, read back from the figure, against the schedule's formula
# written out here (never through the package), so a change of behaviour or of a default the panel relies
# on (PolynomialDecay's power, OneCycleMomentum's momenta) fails on any matplotlib.

PEAK = 0.1


def cos_decay(init, steps, end=0.0):
    return lambda t: end + (init - end) * (1 + np.cos(np.pi * np.minimum(t, steps) / steps)) / 2


def step_decay(init, size, gamma):
    return lambda t: init * gamma ** (t // size)


def polynomial(power, steps=800, end=0.001):
    return lambda t: (PEAK - end) * (1 - np.minimum(t, steps) / steps) ** power + end


def polynomial_cycle(t, steps=250, end=0.001):
    period = steps * np.maximum(np.ceil(t / steps), 1)
    return (PEAK - end) * (1 - t / period) + end


def triangle(t, up, base=0.01, top=PEAK):
    p = t % (2 * up)
    return np.where(p <= up, p, 2 * up - p) / up


def cyclic(mode, window="linear", up=125):
    def f(t):
        h = triangle(t, up)
        w = {"linear": h, "welch": h * (2 - h), "hann": (1 - np.cos(np.pi * h)) / 2}[window]
        scale = {"triangular": 1.0, "triangular2": 0.5 ** (t // (2 * up)), "exp_range": 0.998**t}[mode]
        return 0.01 + (PEAK - 0.01) * w * scale

    return f


def ced(t, staircase=False, min_lr=0.0, signed=False):
    envelope = 0.7 ** ((t // 200) if staircase else t / 200)
    angle = 2 * np.pi * (t % 200) / 200
    if signed:
        return PEAK * envelope * np.cos(angle)
    return min_lr + (PEAK - min_lr) * envelope * (1 + np.cos(angle)) / 2


def restarts(t, first, mult, m_mul):
    out = np.empty(len(t))
    for k, step in enumerate(t.tolist()):
        index, start, length = 0, 0, first
        while step >= start + length:
            index, start, length = index + 1, start + length, length * mult
        out[k] = PEAK * m_mul**index * (1 + math.cos(math.pi * (step - start) / length)) / 2
    return out


def exact_restarts(t, first, mult, m_mul=1.0, end=0.0, amplitude=False, curve=None):
    """Cycles of first * mult**n steps (exact rationals), each from its start value to ``end`` along ``curve``."""
    curve = curve or (lambda x: (1 + np.cos(np.pi * x)) / 2)
    first_q, mult_q = Fraction(first).limit_denominator(2**20), Fraction(mult).limit_denominator(2**20)
    out = np.empty(len(t))
    for k, step in enumerate(t.tolist()):
        index, start, length = 0, Fraction(0), first_q
        while step >= start + length:
            index, start, length = index + 1, start + length, length * mult_q
        peak = end + (PEAK - end) * m_mul**index if amplitude else PEAK * m_mul**index
        out[k] = end + (peak - end) * curve(float((step - start) / length))
    return out


def noisy(t, **noise):
    """The cosine times the noise of ``tests/test_noise.py``'s literal oracle (its own hash and inverse CDF)."""
    from test_noise import oracle_rate

    from mlx_lrsched import CosineDecay, Noisy

    schedule = Noisy(CosineDecay(PEAK, 1000), **noise)
    return np.array([oracle_rate(schedule, step) for step in t.tolist()])


def one_cycle(t, three_phase=False, anneal="cos", momentum=False, total=1000, pct=0.3):
    """PyTorch's OneCycleLR.get_lr with its defaults (div 25, final div 1e4, momenta 0.85 / 0.95)."""
    initial, final = PEAK / 25.0, PEAK / 25.0 / 1e4
    if momentum:
        low, high = 0.85, 0.95
        values = [(high, low), (low, high), (high, high)] if three_phase else [(high, low), (low, high)]
    else:
        values = (
            [(initial, PEAK), (PEAK, initial), (initial, final)] if three_phase else [(initial, PEAK), (PEAK, final)]
        )
    ends = [pct * total - 1, 2 * pct * total - 2, total - 1] if three_phase else [pct * total - 1, total - 1]
    out = []
    for step in np.minimum(t, total - 1).tolist():
        begin = 0.0
        for i, end_step in enumerate(ends):
            if step <= end_step or i == len(ends) - 1:
                x = (step - begin) / (end_step - begin)
                start, end = values[i]
                if anneal == "linear":
                    out.append((end - start) * x + start)
                else:
                    out.append(end + (start - end) / 2.0 * (math.cos(math.pi * x) + 1))
                break
            begin = end_step
    return np.array(out)


def warmup(t, length, target, init=0.0, shape="linear"):
    d = t / length
    weight = {"linear": d, "cos": (1 - np.cos(np.pi * d)) / 2, "constant": 0.0 * d}[shape]
    return np.where(t < length, init + (target(np.zeros_like(t)) - init) * weight, target(np.maximum(t - length, 0)))


def wsd(t, shape):
    d = np.clip((t - 700) / 300, 0, 1)
    decayed = PEAK * (1 - (np.sqrt(d) if shape == "sqrt" else d))
    return np.where(t < 100, PEAK * t / 100, np.where(t < 700, PEAK, decayed))


FORMULAS = {
    ("Constant", "lr=0.1"): lambda t: np.full(len(t), 0.1),
    ("Constant", "lr=0.05"): lambda t: np.full(len(t), 0.05),
    ("StepDecay", "step_size=250, gamma=0.5"): step_decay(PEAK, 250, 0.5),
    ("MultiStepDecay", "milestones=[300, 600, 900], gamma=0.1"): lambda t: (
        PEAK * 0.1 ** ((t >= 300).astype(int) + (t >= 600) + (t >= 900))
    ),
    ("PiecewiseConstant", "boundaries=[200, 500]"): lambda t: np.where(t <= 200, PEAK, np.where(t <= 500, 0.05, 0.01)),
    ("ExponentialDecay", "continuous, rate 0.96 / 50 steps"): lambda t: PEAK * 0.96 ** (t / 50),
    ("ExponentialDecay", "staircase"): lambda t: PEAK * 0.96 ** (t // 50),
    ("ExponentialDecay", "transition_begin=200, end_lr=0.02"): lambda t: np.maximum(
        PEAK * 0.9 ** (np.maximum(t - 200, 0) / 50), 0.02
    ),
    ("InverseTimeDecay", "rate 1 / 100 steps"): lambda t: PEAK / (1 + t / 100),
    ("InverseTimeDecay", "staircase"): lambda t: PEAK / (1 + t // 100),
    ("PolynomialDecay", "power=1 (linear)"): polynomial(1.0),
    ("PolynomialDecay", "power=2"): polynomial(2.0),
    ("PolynomialDecay", "power=0.5"): polynomial(0.5),
    ("PolynomialDecay", "cycle=True, 250 steps"): polynomial_cycle,
    ("CosineDecay", "end_lr=0"): cos_decay(PEAK, 1000),
    ("CosineDecay", "end_lr=0.02, 700 steps"): cos_decay(PEAK, 700, 0.02),
    ("Warmup", "linear warmup 100 + cosine"): lambda t: warmup(t, 100, cos_decay(PEAK, 900)),
    ("Warmup", "cos warmup 200 + cosine"): lambda t: warmup(t, 200, cos_decay(PEAK, 800), shape="cos"),
    ("Warmup", "constant 0.01 for 100, cosine from 0.08"): lambda t: warmup(
        t, 100, cos_decay(0.08, 900), 0.01, "constant"
    ),
    ("Linear", "0.1 -> 0.01 over 800"): lambda t: PEAK + (0.01 - PEAK) * np.minimum(t, 800) / 800,
    ("Ramp", "cos, 0.1 -> 0.01 over 800"): lambda t: (
        PEAK + (0.01 - PEAK) * (1 - np.cos(np.pi * np.minimum(t, 800) / 800)) / 2
    ),
    ("Ramp", "sqrt, 0.01 -> 0.1 over 800"): lambda t: 0.01 + (PEAK - 0.01) * np.sqrt(np.minimum(t, 800) / 800),
    ("InverseSqrt", "warmup 100"): lambda t: np.where(t < 100, PEAK * t / 100, PEAK * np.sqrt(100 / np.maximum(t, 1))),
    ("InverseSqrt", "warmup 100, timescale 400"): lambda t: np.where(
        t < 100, PEAK * t / 100, PEAK * np.sqrt(400 / (t - 100 + 400))
    ),
    ("WSD", "linear decay"): lambda t: wsd(t, "linear"),
    ("WSD", "1-sqrt decay"): lambda t: wsd(t, "sqrt"),
    ("PerEpoch", "exp(-0.5 e), 100 steps/epoch"): lambda t: PEAK * np.exp(-0.5 * (t // 100)),
    ("Join", "constant, then cosine at 300"): lambda t: np.where(
        t < 300, 0.05, cos_decay(PEAK, 700)(np.maximum(t - 300, 0))
    ),
    ("Scale", "0.5 x cosine"): lambda t: 0.5 * cos_decay(PEAK, 1000)(t),
    ("Product", "cosine x steps"): lambda t: cos_decay(PEAK, 1000)(t) * 0.7 ** (t // 250),
    ("Clip", "cosine clipped to [0.02, 0.08]"): lambda t: np.clip(cos_decay(PEAK, 1000)(t), 0.02, 0.08),
    ("CyclicLR", "triangular"): cyclic("triangular"),
    ("CyclicLR", "triangular2"): cyclic("triangular2"),
    ("CyclicLR", "exp_range, gamma=0.998"): cyclic("exp_range"),
    **{("CyclicLR windows", w): cyclic("triangular", w, up=250) for w in ("linear", "welch", "hann")},
    ("CyclicExponentialDecay", "raised cosine, rate 0.7 / period 200"): ced,
    ("CyclicExponentialDecay", "staircase, min_lr=0.01"): lambda t: ced(t, staircase=True, min_lr=0.01),
    ("CyclicExponentialDecay", "signed_cosine (seed 002, goes negative)"): lambda t: ced(t, signed=True),
    ("CosineRestarts", "period 200"): lambda t: restarts(t, 200, 1, 1.0),
    ("CosineRestarts", "period 100, t_mult=2, m_mul=0.8"): lambda t: restarts(t, 100, 2, 0.8),
    ("CyclicMomentum", "triangular, 0.85 - 0.95"): lambda t: 0.95 - (0.95 - 0.85) * triangle(t, 125),
    ("Restarts", "tanh (timm), 3 cycles of 300"): lambda t: np.where(
        t < 900,
        exact_restarts(t, 300, 1, end=0.01, curve=lambda x: (1 - np.tanh(-7 * (1 - x) + 3 * x)) / 2),
        0.01,
    ),
    ("Restarts", "cycles of 1000 / 3 (HF hard restarts)"): lambda t: (
        PEAK * (1 + np.cos(np.pi * (3 * t % 1000) / 1000)) / 2
    ),
    ("Restarts", "t_mult=1.5, m_mul=0.6 on the amplitude (Keras)"): lambda t: exact_restarts(
        t, 100, 1.5, 0.6, end=0.01, amplitude=True
    ),
    ("Shift", "OneCycle(0.1, 1300) from its step 300"): lambda t: one_cycle(t + 300, total=1300),
    ("PiecewiseInterpolate", "linear, 0.01 -> 0.1 -> 0.001"): lambda t: np.interp(
        t, [0, 300, 800], [0.01, PEAK, 0.001]
    ),
    ("PiecewiseInterpolate", "cos, same points"): lambda t: np.where(
        t < 300,
        PEAK + (0.01 - PEAK) * (np.cos(np.pi * t / 300) + 1) / 2,
        0.001 + (PEAK - 0.001) * (np.cos(np.pi * np.minimum(t - 300, 500) / 500) + 1) / 2,
    ),
    ("Noisy", "cosine, normal noise (timm's defaults) from step 200"): lambda t: noisy(t, start_step=200),
    ("Noisy", "cosine, uniform noise, pct 0.2"): lambda t: noisy(t, pct=0.2, distribution="uniform", seed=7),
    ("OneCycle", "cos (PyTorch default)"): one_cycle,
    ("OneCycle", "three_phase, linear"): lambda t: one_cycle(t, three_phase=True, anneal="linear"),
    ("OneCycleMomentum", "cos (PyTorch default)"): lambda t: one_cycle(t, momentum=True),
    ("OneCycleMomentum", "three_phase, linear"): lambda t: one_cycle(
        t, three_phase=True, anneal="linear", momentum=True
    ),
}
COMBINED_FORMULAS = {
    "StepDecay": FORMULAS["StepDecay", "step_size=250, gamma=0.5"],
    "ExponentialDecay": FORMULAS["ExponentialDecay", "continuous, rate 0.96 / 50 steps"],
    "CosineDecay": FORMULAS["CosineDecay", "end_lr=0"],
    "Warmup + cosine": FORMULAS["Warmup", "linear warmup 100 + cosine"],
    "WSD": FORMULAS["WSD", "linear decay"],
    "CyclicLR triangular2": FORMULAS["CyclicLR", "triangular2"],
    "CyclicExponentialDecay": FORMULAS["CyclicExponentialDecay", "raised cosine, rate 0.7 / period 200"],
    "OneCycle": FORMULAS["OneCycle", "cos (PyTorch default)"],
}


def plotted_curves(ax, labels) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """label -> (steps, values) of the curves an axes draws (phase markers and other lines left out)."""
    curves = {}
    for line in ax.get_lines():
        if line.get_label() in labels:
            curves[line.get_label()] = (np.asarray(line.get_xdata()), np.asarray(line.get_ydata(), dtype=np.float64))
    assert set(curves) == set(labels), (sorted(curves), sorted(labels))
    return curves


def assert_curve(steps, values, formula, where) -> None:
    assert np.array_equal(steps, np.round(steps)) and len(steps) >= 500, where
    t = steps.astype(np.int64)
    np.testing.assert_allclose(values, formula(t), rtol=1e-9, atol=1e-15, err_msg=where)


def test_every_panel_plots_its_formula():
    from matplotlib import pyplot

    gallery = load_script()
    for family, titles in gallery.families().items():
        figure = gallery.render_family(family, titles)
        try:
            for ax, title in zip(figure.axes, titles, strict=False):
                labels = list(gallery.PANELS[title].variants)
                missing = [label for label in labels if (title, label) not in FORMULAS]
                assert not missing, f"add a formula for panel {title!r}: {missing}"
                for label, (steps, values) in plotted_curves(ax, labels).items():
                    assert_curve(steps, values, FORMULAS[title, label], f"{family}: {title}: {label}")
        finally:
            pyplot.close(figure)


def test_the_combined_figure_plots_its_formulas():
    from matplotlib import pyplot

    from mlx_lrsched.base import schedule_names

    gallery = load_script()
    figure = gallery.render_combined(set(schedule_names()))
    try:
        labels = [label for label, config in gallery.COMBINED.items() if config["name"] in set(schedule_names())]
        assert set(labels) <= set(COMBINED_FORMULAS), sorted(set(labels) - set(COMBINED_FORMULAS))
        for label, (steps, values) in plotted_curves(figure.axes[0], labels).items():
            assert_curve(steps, values, COMBINED_FORMULAS[label], f"all.png: {label}")
    finally:
        pyplot.close(figure)


def test_the_committed_gallery_has_the_same_pixels(generated):
    # Secondary: the values are checked above on any matplotlib; pixels only on the one that drew them.
    for path in sorted(generated.iterdir()):
        committed = COMMITTED / path.name
        version = png_header_and_text(committed)[1].get("Matplotlib")
        if version != matplotlib.__version__:
            pytest.skip(f"gallery rendered with matplotlib {version}, this is {matplotlib.__version__}")
        same = np.array_equal(mpimg.imread(committed), mpimg.imread(path))
        assert same, f"docs/gallery/{path.name} differs from what docs/make_gallery.py draws (values pass above)"


def test_every_pure_schedule_has_a_panel_and_feedback_ones_are_skipped():
    gallery = load_script()
    assert gallery.missing_panels() == []
    drawn = {gallery.schedule_of(title) for title in gallery.PANELS}
    assert not drawn & gallery.NOT_PURE
