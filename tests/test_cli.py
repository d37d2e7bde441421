"""The ``mlx-lrsched`` command, run as a real process on real config files: plot, table, list, errors."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

import mlx_lrsched
from mlx_lrsched.base import schedule_class, schedule_names
from mlx_lrsched.cli import main
from mlx_lrsched.decay import CosineDecay, ExponentialDecay, MultiStepDecay, StepDecay
from mlx_lrsched.warmup import Warmup

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, prelude: str = "", timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m mlx_lrsched ARGS`` with the repository on ``PYTHONPATH`` (``prelude`` runs first)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if prelude:
        code = f"{prelude}\nimport sys\nfrom mlx_lrsched.cli import main\nsys.exit(main(sys.argv[1:]))"
        command = [sys.executable, "-c", code, *args]
    else:
        command = [sys.executable, "-m", "mlx_lrsched", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


def write_config(path: Path, schedule: mlx_lrsched.Schedule) -> str:
    path.write_text(schedule.to_json())
    return str(path)


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, after checking the signature and the chunk CRC."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    (crc,) = struct.unpack(">I", data[29:33])
    assert crc == zlib.crc32(data[12:29])
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def assert_image_has_content(path: Path) -> None:
    image = pytest.importorskip("matplotlib.image").imread(path)
    rgba = np.round(image * 255).astype(np.uint64).reshape(-1, image.shape[-1])
    colours = rgba @ np.array([1 << 24, 1 << 16, 1 << 8, 1], dtype=np.uint64)[: image.shape[-1]]
    assert image.ndim == 3 and len(np.unique(colours)) > 10


def assert_one_line_error(result: subprocess.CompletedProcess[str], status: int, *fragments: str) -> None:
    assert result.returncode == status, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlx-lrsched: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


# ------------------------------------------------------------------------------------------------ plot

needs_matplotlib = pytest.mark.skipif(
    __import__("importlib").util.find_spec("matplotlib") is None, reason="matplotlib (the plot extra) is missing"
)


@needs_matplotlib
def test_plot_writes_a_png_of_the_requested_size(tmp_path):
    first = write_config(tmp_path / "cosine.json", CosineDecay(0.1, decay_steps=500))
    second = write_config(tmp_path / "warm.json", Warmup(StepDecay(0.1, 100, 0.5), warmup_steps=50))
    out = tmp_path / "out.png"
    result = run("plot", first, second, "--steps", "500", "-o", str(out), "--size", "6x3", "--dpi", "50")
    assert result.returncode == 0, result.stderr
    assert png_size(out) == (300, 150)
    assert_image_has_content(out)
    assert result.stdout.strip() == f"wrote {out} (300x150 px, 2 schedule(s), 500 steps)"
    assert sorted(os.listdir(tmp_path)) == ["cosine.json", "out.png", "warm.json"]  # no temporary left


@needs_matplotlib
def test_plot_default_size_is_800_by_450(tmp_path):
    out = tmp_path / "lr.png"
    result = run("plot", '{"name": "Constant", "lr": 0.1}', "--steps", "1e3", "-o", str(out), "--log-y")
    assert result.returncode == 0, result.stderr
    assert png_size(out) == (800, 450)


@needs_matplotlib
@pytest.mark.parametrize(("suffix", "magic"), [(".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_plot_format_follows_the_output_suffix(tmp_path, suffix, magic):
    out = tmp_path / f"lr{suffix}"
    result = run("plot", CosineDecay(0.1, 100).to_json(), "--steps", "100", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(magic)


@needs_matplotlib
def test_plot_with_labels_momentum_and_title(tmp_path):
    lr = write_config(tmp_path / "lr.json", CosineDecay(0.1, 100))
    momentum = write_config(tmp_path / "momentum.json", CosineDecay(0.95, 100, end_lr=0.85))
    out = tmp_path / "lr.png"
    result = run(
        "plot", lr, "--momentum", momentum, "--label", "lr", "--title", "1-cycle", "--steps", "100", "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert png_size(out) == (800, 450)


# ----------------------------------------------------------------------------------------------- table


def parse_table(stdout: str) -> tuple[list[str], list[list[str]]]:
    rows = [line.split() for line in stdout.splitlines() if not line.startswith("#")]
    return rows[0], rows[1:]


def test_table_prints_both_backends_and_their_relative_difference(tmp_path):
    schedule = ExponentialDecay(0.1, 0.99999)
    steps = [0, 1, 1000, 100_000, 1_000_000]
    result = run("table", write_config(tmp_path / "exp.json", schedule), "--at", "0,1,1000,1e5,1_000_000")
    assert result.returncode == 0, result.stderr
    header, rows = parse_table(result.stdout)
    assert header == ["step", "numpy_float64", "mlx_float32", "rel_diff"]
    assert [int(row[0]) for row in rows] == steps
    reference = [float(row[1]) for row in rows]
    product = [float(row[2]) for row in rows]
    for step, value in zip(steps, reference, strict=True):
        assert math.isclose(value, 0.1 * math.exp(step * math.log(0.99999)), rel_tol=1e-14)  # the formula
    np.testing.assert_array_equal(reference, schedule(np.array(steps)))  # printed to full float64 precision
    mx = pytest.importorskip("mlx.core")
    float32 = np.array(schedule(mx.array(steps, dtype=mx.uint64)))
    np.testing.assert_array_equal(np.float32(product), float32)  # printed with enough digits to read back
    for row, value, expected in zip(rows, float32, reference, strict=True):
        assert math.isclose(float(row[3]), abs(float(value) - expected) / expected, rel_tol=5e-3)
        assert float(row[3]) < 4e-6  # DESIGN.md's float32 target


def test_table_reads_nested_compositions_and_huge_steps(tmp_path):
    schedule = Warmup(MultiStepDecay(0.1, milestones=[1000, 10**9]), warmup_steps=100)
    result = run("table", write_config(tmp_path / "warm.json", schedule), "--at", "0,50,1099,1100,1e18")
    assert result.returncode == 0, result.stderr
    _, rows = parse_table(result.stdout)
    literal = [0.0, 0.05, 0.1, 0.1 * 0.1, 0.1 * 0.1 * 0.1]  # linear warmup, then drops at 100+1000, 100+1e9
    assert [float(row[1]) for row in rows] == pytest.approx(literal, rel=1e-15, abs=0)


def test_table_csv_and_json_formats_carry_the_same_values(tmp_path):
    config = write_config(tmp_path / "step.json", StepDecay(1.0, step_size=10, gamma=0.5))
    csv = run("table", config, "--at", "0,10,25", "--format", "csv")
    as_json = run("table", config, "--at", "0,10,25", "--format", "json")
    assert csv.returncode == 0 and as_json.returncode == 0
    header, *lines = csv.stdout.splitlines()
    assert header.split(",")[:2] == ["step", "numpy_float64"]
    assert [line.split(",")[:2] for line in lines] == [["0", "1.0"], ["10", "0.5"], ["25", "0.25"]]
    document = json.loads(as_json.stdout)
    assert document["schedule"] == StepDecay(1.0, step_size=10, gamma=0.5).to_config()
    assert [(row["step"], row["numpy_float64"]) for row in document["rows"]] == [(0, 1.0), (10, 0.5), (25, 0.25)]


def test_table_without_mlx_prints_the_reference_only(tmp_path):
    config = write_config(tmp_path / "cos.json", CosineDecay(1.0, decay_steps=4))
    result = run("table", config, "--at", "0,2,4", prelude='import sys; sys.modules["mlx"] = None')
    assert result.returncode == 0, result.stderr
    assert "MLX is not importable" in result.stdout
    header, rows = parse_table(result.stdout)
    assert header == ["step", "numpy_float64"]
    assert [float(row[1]) for row in rows] == pytest.approx([1.0, 0.5, 0.0], abs=1e-15)


@pytest.mark.parametrize(
    ("at", "fragment"),
    [("-1", "invalid step '-1'"), ("1.5", "not an integer"), ("abc", "invalid step 'abc'"),
     ("9223372036854775808", "<= 2**63 - 1"), (",", "at least one step")],
)  # fmt: skip
def test_table_rejects_bad_steps(tmp_path, at, fragment):
    config = write_config(tmp_path / "c.json", CosineDecay(1.0, 4))
    assert_one_line_error(run("table", config, f"--at={at}"), 2, fragment)


# ------------------------------------------------------------------------------------------------ list


def test_list_shows_every_schedule_with_parameters_defaults_and_formula():
    result = run("list")
    assert result.returncode == 0, result.stderr
    headers = [line for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert [line.split("(", 1)[0] for line in headers] == schedule_names()
    assert "StepDecay(init_lr: float, step_size: int, gamma: float = 0.1)  [decay]" in headers
    summary = "    Multiply the rate by gamma every step_size steps: lr = init_lr · gamma^floor(t / step_size)."
    assert summary in result.stdout.splitlines()
    assert "\\" not in result.stdout and ":math:" not in result.stdout  # plain text, no LaTeX


def test_list_json_matches_the_dataclass_fields():
    result = run("list", "--json")
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)
    assert [entry["name"] for entry in entries] == schedule_names()
    for entry in entries:
        fields = [f for f in dataclasses.fields(schedule_class(entry["name"])) if f.init]
        assert [p["name"] for p in entry["parameters"]] == [f.name for f in fields]
        for parameter, field in zip(entry["parameters"], fields, strict=True):
            if field.default is dataclasses.MISSING:
                assert parameter.get("required") is True and "default" not in parameter
            else:
                assert parameter["default"] == (
                    list(field.default) if isinstance(field.default, tuple) else field.default
                )
        assert entry["summary"] and entry["formula"], entry["name"]


# The peers' own defaults (PyTorch's read from its signatures in test_defaults.py; Keras/optax documented):
# what ``mlx-lrsched list`` shows must be these numbers, not merely whatever the dataclass says.
PEER_DEFAULTS = {
    ("ReduceOnPlateau", "factor"): 0.1,
    ("ReduceOnPlateau", "patience"): 10,
    ("ReduceOnPlateau", "mode"): "min",
    ("ReduceOnPlateau", "threshold"): 1e-4,
    ("ReduceOnPlateau", "threshold_mode"): "rel",
    ("ReduceOnPlateau", "cooldown"): 0,
    ("ReduceOnPlateau", "min_lr"): 0.0,
    ("ReduceOnPlateau", "eps"): 1e-8,
    ("OneCycle", "pct_start"): 0.3,
    ("OneCycle", "anneal"): "cos",
    ("OneCycle", "div_factor"): 25.0,
    ("OneCycle", "final_div_factor"): 1e4,
    ("OneCycle", "three_phase"): False,
    ("OneCycleMomentum", "base_momentum"): 0.85,
    ("OneCycleMomentum", "max_momentum"): 0.95,
    ("CyclicLR", "step_size_down"): None,
    ("CyclicLR", "mode"): "triangular",
    ("CyclicLR", "gamma"): 1.0,
    ("StepDecay", "gamma"): 0.1,
    ("MultiStepDecay", "gamma"): 0.1,
    ("PolynomialDecay", "power"): 1.0,
    ("PolynomialDecay", "cycle"): False,
    ("CosineRestarts", "t_mult"): 1,
    ("CosineRestarts", "end_lr"): 0.0,
    ("CosineDecay", "end_lr"): 0.0,
    ("ExponentialDecay", "staircase"): False,
    ("InverseTimeDecay", "staircase"): False,
}


def test_list_json_shows_the_peer_libraries_defaults():
    result = run("list", "--json")
    assert result.returncode == 0, result.stderr
    listed = {
        (entry["name"], parameter["name"]): parameter.get("default", "<required>")
        for entry in json.loads(result.stdout)
        for parameter in entry["parameters"]
    }
    wrong = {key: (listed.get(key), want) for key, want in PEER_DEFAULTS.items() if listed.get(key, "<absent>") != want}
    assert not wrong, wrong


def test_list_of_an_unknown_name_names_the_valid_ones():
    assert_one_line_error(run("list", "Cosine"), 2, "unknown schedule name 'Cosine'", "CosineDecay")


def test_the_cli_module_and_list_import_neither_matplotlib_nor_anything_heavy():
    code = "import sys\nfrom mlx_lrsched.cli import main\nmain(['list'])\nprint('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False"


# ---------------------------------------------------------------------------------------------- errors

BAD_CONFIGS = [
    ('{"name": "CosineDecy", "init_lr": 0.1, "decay_steps": 10}', "unknown schedule name 'CosineDecy'", "valid names:"),
    ('{"name": "StepDecay", "init_lr": 0.1}', "missing the required key 'step_size'"),
    ('{"name": "StepDecay", "init_lr": 0.1, "step_size": 3, "foo": 1}', "unknown config key 'foo'"),
    ('{"name": "StepDecay", "init_lr": 0.1, "step_size": "3"}', "step_size must be an integer"),
    ('{"name": "StepDecay", "init_lr": 0.1, "step_size": -3}', "step_size must be an integer in [1,"),
    ('{"name": "Constant", "lr": NaN}', "invalid JSON", "NaN"),
    ('{"name": "Constant", "lr": 0.1', "invalid JSON"),
    ('{"lr": 0.1}', "missing the key 'name'"),
    ("[1, 2]", "must be a dict"),
    ('{"name": "Warmup", "schedule": {"name": "Cosine"}, "warmup_steps": 5}', "unknown schedule name 'Cosine'"),
]


@pytest.mark.parametrize("subcommand", ["plot", "table"])
@pytest.mark.parametrize(("text", *["fragments"]), [(c[0], c[1:]) for c in BAD_CONFIGS])
def test_bad_config_files_give_one_line_and_status_2(tmp_path, subcommand, text, fragments):
    path = tmp_path / "bad.json"
    path.write_text(text)
    extra = ["--steps", "10", "-o", str(tmp_path / "x.png")] if subcommand == "plot" else ["--at", "0"]
    result = run(subcommand, str(path), *extra)
    assert_one_line_error(result, 2, f"{path}: ", *fragments)
    assert not (tmp_path / "x.png").exists()


def test_a_bad_inline_config_is_reported_as_inline():
    result = run("table", '{"name": "Nope"}', "--at", "0")
    assert_one_line_error(result, 2, "inline config: unknown schedule name 'Nope'", "CosineDecay")


def test_a_missing_config_file_is_named(tmp_path):
    missing = tmp_path / "missing.json"
    assert_one_line_error(run("table", str(missing), "--at", "0"), 2, f"{missing}: cannot read config")


@needs_matplotlib
@pytest.mark.parametrize(
    ("options", "fragment"),
    [(["--label", "a", "--label", "b"], "2 --label for 1 configs"), (["--size", "8by4"], "invalid --size"),
     (["--dpi", "5"], "--dpi must be in"), (["--size", "150x150", "--dpi", "200"], "exceeds 20000 pixels")],
)  # fmt: skip
def test_plot_rejects_bad_options(tmp_path, options, fragment):
    result = run("plot", '{"name": "Constant", "lr": 0.1}', "--steps", "10", "-o", str(tmp_path / "x.png"), *options)
    assert_one_line_error(result, 2, fragment)


@needs_matplotlib
def test_an_unwritable_output_is_a_one_line_error_with_status_1(tmp_path):
    out = tmp_path / "no" / "such" / "dir.png"
    result = run("plot", '{"name": "Constant", "lr": 0.1}', "--steps", "10", "-o", str(out))
    assert_one_line_error(result, 1, "cannot write the figure")


def test_plot_without_matplotlib_says_how_to_install(tmp_path):
    out = tmp_path / "x.png"
    result = run(
        "plot", '{"name": "Constant", "lr": 0.1}', "--steps", "10", "-o", str(out),
        prelude='import sys; sys.modules["matplotlib"] = None',
    )  # fmt: skip
    assert_one_line_error(result, 1, 'pip install "mlx-lrsched[plot]"')


def test_no_subcommand_is_a_usage_error():
    result = run()
    assert result.returncode == 2 and "usage: mlx-lrsched" in result.stderr


def test_main_returns_the_exit_status_in_process(capsys):
    assert main(["table", '{"name": "Constant", "lr": 0.25}', "--at", "7", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("7,0.25,")
    assert main(["table", '{"name": "Constant"}', "--at", "7"]) == 2


def test_a_closed_pipe_ends_quietly_without_a_traceback():
    # `mlx-lrsched list | head -1`: the reader has gone before the listing is written
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        writer = subprocess.run(
            [sys.executable, "-m", "mlx_lrsched", "list"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert writer.returncode == 1
    assert "Traceback" not in writer.stderr
