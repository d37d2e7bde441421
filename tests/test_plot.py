"""plot(): curves from the NumPy reference, labels, log scale, phase marks, momentum twin axis, atomic saves."""

from __future__ import annotations

import math
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mlx_lrsched.decay import Constant, CosineDecay, MultiStepDecay, StepDecay  # noqa: E402
from mlx_lrsched.plot import (  # noqa: E402
    DENSE_STEPS,
    SAMPLED_POINTS,
    describe,
    new_figure,
    plot,
    plot_steps,
    save_figure,
)

REPO = Path(__file__).resolve().parents[1]


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The (type, payload) chunks of a PNG file, checking the signature and every CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, payload = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + payload)
        chunks.append((kind, payload))
        offset += 12 + length
    return chunks


def curves(ax) -> list:
    """The labelled data lines of an axes (phase marks are unlabelled)."""
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_each_schedule_is_drawn_at_every_step_with_its_formula():
    cosine, steps_decay = CosineDecay(0.1, decay_steps=400), StepDecay(0.2, step_size=150, gamma=0.5)
    ax = plot([cosine, steps_decay], 500)
    first, second = curves(ax)
    t = np.arange(500)
    np.testing.assert_array_equal(first.get_xdata(), t)
    np.testing.assert_allclose(first.get_ydata(), 0.05 * (1 + np.cos(np.pi * np.minimum(t, 400) / 400)), atol=1e-15)
    np.testing.assert_allclose(second.get_ydata(), 0.2 * 0.5 ** (t // 150), rtol=1e-15)


def test_default_labels_describe_the_non_default_parameters():
    ax = plot([StepDecay(0.1, step_size=30), Constant(0.5)], 100)
    assert [line.get_label() for line in curves(ax)] == ["StepDecay(init_lr=0.1, step_size=30)", "Constant(lr=0.5)"]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [line.get_label() for line in curves(ax)]


def test_given_labels_go_into_the_legend():
    ax = plot(Constant(0.1), 10, labels=["flat"])
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["flat"]


@pytest.mark.parametrize("labels", [["only one"], ["a", "b", "c"], "ab"])
def test_labels_must_match_the_schedules(labels):
    with pytest.raises(ValueError, match="labels must be a sequence of 2 strings"):
        plot([Constant(0.1), Constant(0.2)], 10, labels=labels)


@pytest.mark.parametrize("total_steps", [0, -5, 10.0, True])
def test_total_steps_must_be_a_positive_integer(total_steps):
    with pytest.raises(ValueError, match="total_steps must be an integer >= 1"):
        plot(Constant(0.1), total_steps)


def test_describe_cuts_long_labels_with_an_ellipsis():
    label = describe(MultiStepDecay(0.1, milestones=list(range(1, 40))), width=30)
    assert len(label) == 30 and label.endswith("…") and label.startswith("MultiStepDecay(init_lr=0.1, ")


def test_log_y_gives_a_logarithmic_learning_rate_axis():
    assert plot(StepDecay(1.0, 10, 0.1), 50, log_y=True).get_yscale() == "log"
    assert plot(StepDecay(1.0, 10, 0.1), 50).get_yscale() == "linear"


def test_phase_boundaries_inside_the_range_are_marked_in_the_schedule_colour():
    ax = plot(MultiStepDecay(0.1, milestones=[300, 600, 2000]), 1000)
    (curve,) = curves(ax)
    marks = [line for line in ax.get_lines() if line.get_label().startswith("_")]
    assert sorted(line.get_xdata()[0] for line in marks) == [300, 600]  # 2000 is past the end
    assert {line.get_color() for line in marks} == {curve.get_color()}
    assert {line.get_linestyle() for line in marks} == {":"}


def test_a_few_close_boundaries_are_still_marked():
    ax = plot(MultiStepDecay(0.1, milestones=[500, 501]), 1000)
    assert sorted(line.get_xdata()[0] for line in ax.get_lines()[1:]) == [500, 501]


@pytest.mark.parametrize(
    "milestones",
    [list(range(10, 20, 2)), list(range(10, 1000, 10))],
    ids=["five 2 steps apart in 1000", "99, more than MAX_PHASE_MARKS"],
)
def test_crowded_boundaries_are_not_marked(milestones):
    ax = plot(MultiStepDecay(1.0, milestones=milestones, gamma=0.9), 1000)
    assert len(ax.get_lines()) == 1


def test_phases_false_draws_no_marks():
    ax = plot(MultiStepDecay(0.1, milestones=[300, 600]), 1000, phases=False)
    assert len(ax.get_lines()) == 1


def test_a_plain_callable_on_numpy_steps_is_plotted():
    ax = plot(lambda t: 1.0 / (1.0 + t), 5, labels=["1/(1+t)"])
    np.testing.assert_allclose(curves(ax)[0].get_ydata(), [1, 1 / 2, 1 / 3, 1 / 4, 1 / 5])


def test_new_figure_has_the_requested_size_and_plot_draws_into_given_axes():
    figure = new_figure((6.0, 3.0), dpi=50)
    ax = figure.add_subplot()
    assert plot(Constant(0.1), 10, ax=ax) is ax
    assert tuple(figure.get_size_inches() * figure.dpi) == (300, 150)


def test_without_ax_a_new_figure_of_figsize_and_dpi_is_created():
    ax = plot(Constant(0.1), 10, figsize=(5.0, 2.0), dpi=80)
    assert tuple(ax.figure.get_size_inches() * ax.figure.dpi) == (400, 160)


# ------------------------------------------------------------------------------------------- sampling


def test_up_to_dense_steps_every_step_is_evaluated():
    np.testing.assert_array_equal(plot_steps(DENSE_STEPS), np.arange(DENSE_STEPS))


@pytest.mark.parametrize("total_steps", [DENSE_STEPS + 1, 10**9, 2**63])
def test_long_runs_are_sampled_with_exact_integer_endpoints(total_steps):
    steps = plot_steps(total_steps, marks=[total_steps // 3])
    assert steps.dtype == np.int64 and steps[0] == 0 and int(steps[-1]) == total_steps - 1
    assert np.all(np.diff(steps) > 0) and len(steps) <= SAMPLED_POINTS + 2
    assert {total_steps // 3 - 1, total_steps // 3} <= {int(s) for s in steps}


def test_a_sampled_curve_keeps_its_jumps_sharp():
    milestone = 400_000_000_001
    ax = plot(MultiStepDecay(1.0, milestones=[milestone], gamma=0.5), 10**12)
    (curve,) = curves(ax)
    x, y = np.asarray(curve.get_xdata()), np.asarray(curve.get_ydata())
    assert y[x == milestone - 1] == 1.0 and y[x == milestone] == 0.5


# ------------------------------------------------------------------------------------------- momentum


def test_momentum_goes_dashed_on_a_twin_axis_in_the_schedule_colour():
    lr, momentum = CosineDecay(0.1, 100), CosineDecay(0.95, 100, end_lr=0.85)
    ax = plot(lr, 100, momentum=momentum)
    twin = next(other for other in ax.figure.axes if other is not ax)
    (twin_line,) = twin.get_lines()
    assert twin.get_ylabel() == "momentum" and twin_line.get_linestyle() == "--"
    assert twin_line.get_color() == curves(ax)[0].get_color()
    t = np.arange(100)
    np.testing.assert_allclose(twin_line.get_ydata(), 0.85 + 0.05 * (1 + np.cos(np.pi * t / 100)), rtol=1e-14)
    assert "momentum" in [text.get_text() for text in ax.get_legend().get_texts()][-1]


def test_momentum_per_schedule_skips_none_entries():
    ax = plot([Constant(0.1), Constant(0.2)], 10, momentum=[None, Constant(0.9)])
    twin = next(other for other in ax.figure.axes if other is not ax)
    (twin_line,) = twin.get_lines()
    assert twin_line.get_color() == curves(ax)[1].get_color()
    np.testing.assert_array_equal(twin_line.get_ydata(), np.full(10, 0.9))


def test_momentum_list_must_have_one_entry_per_schedule():
    with pytest.raises(ValueError, match="one per schedule"):
        plot([Constant(0.1), Constant(0.2)], 10, momentum=[Constant(0.9)] * 3)


class _WithMomentum(Constant):  # the leading underscore keeps it out of the schedule registry
    @property
    def momentum(self) -> Constant:
        return Constant(0.9)


def test_momentum_true_uses_each_schedule_momentum_twin():
    ax = plot([Constant(0.2), _WithMomentum(0.1)], 10, labels=["a", "b"], momentum=True)
    twin = next(other for other in ax.figure.axes if other is not ax)
    (twin_line,) = twin.get_lines()
    assert twin_line.get_color() == curves(ax)[1].get_color()
    np.testing.assert_array_equal(twin_line.get_ydata(), np.full(10, 0.9))


def test_momentum_true_without_any_twin_says_what_to_pass():
    with pytest.raises(ValueError, match="none of the schedules has a momentum twin"):
        plot(Constant(0.1), 10, momentum=True)


# ----------------------------------------------------------------------------------------------- saving


def test_save_writes_a_png_of_the_figure_size_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "lr.png"
    plot(CosineDecay(0.1, 100), 100, figsize=(4.0, 2.5), dpi=60, save=path)
    chunks = png_chunks(path.read_bytes())
    assert chunks[0][0] == b"IHDR" and struct.unpack(">II", chunks[0][1][:8]) == (240, 150)
    assert os.listdir(tmp_path) == ["lr.png"]


def test_saved_png_has_no_software_version_and_is_byte_identical_when_saved_again(tmp_path):
    ax = plot(CosineDecay(0.1, 100), 100)
    save_figure(ax.figure, tmp_path / "a.png")
    save_figure(ax.figure, tmp_path / "b.png")
    data = (tmp_path / "a.png").read_bytes()
    assert data == (tmp_path / "b.png").read_bytes()
    assert not [payload for kind, payload in png_chunks(data) if kind == b"tEXt" and payload.startswith(b"Software")]


@pytest.mark.parametrize(("suffix", "magic"), [(".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_the_suffix_picks_the_format(tmp_path, suffix, magic):
    path = tmp_path / f"lr{suffix}"
    save_figure(plot(Constant(0.1), 10).figure, path)
    assert path.read_bytes().startswith(magic)


def test_a_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "lr.notaformat"
    path.write_bytes(b"old")
    with pytest.raises(ValueError, match="not supported"):
        save_figure(plot(Constant(0.1), 10).figure, path)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["lr.notaformat"]


# --------------------------------------------------------------------------------- optional dependencies


def test_missing_matplotlib_raises_an_import_error_that_says_how_to_install(monkeypatch):
    for name in [name for name in sys.modules if name == "matplotlib" or name.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'pip install "mlx-lrsched\[plot\]"'):
        plot(Constant(0.1), 10)


PLOT_WITHOUT_MLX_OR_DISPLAY = """
import sys
sys.modules["mlx"] = sys.modules["mlx.core"] = None  # as if MLX were not installed
from mlx_lrsched.decay import CosineDecay
from mlx_lrsched.plot import plot
import matplotlib
ax = plot(CosineDecay(0.1, 100), 100, save=sys.argv[1])
print(matplotlib.get_backend(), ax.get_lines()[0].get_ydata()[50])
"""


def test_plotting_needs_no_mlx_and_falls_back_to_agg_without_a_display(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    env["PYTHONPATH"] = str(REPO)
    out = tmp_path / "lr.png"
    result = subprocess.run(
        [sys.executable, "-c", PLOT_WITHOUT_MLX_OR_DISPLAY, str(out)], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    backend, middle = result.stdout.split()
    assert backend.lower() == "agg"
    assert math.isclose(float(middle), 0.05, rel_tol=1e-12)  # 0.05 * (1 + cos(pi / 2))
    assert out.read_bytes().startswith(b"\x89PNG")
