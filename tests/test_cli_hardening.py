"""Issue 16: the ``mlx-lrsched`` command never hangs, never prints a traceback, and the package ships whole.

Every CLI test runs ``python -m mlx_lrsched`` as a real process with a timeout, so a hang fails the test
instead of the run; the packaging tests build the sdist and the wheel from a copy of the tree.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from test_cli import run as run_cli

import mlx_lrsched
from mlx_lrsched.cli import MAX_CONFIG_BYTES, MAX_MESSAGE_CHARS, parse_step

REPO = Path(__file__).resolve().parents[1]
CONSTANT = '{"name": "Constant", "lr": 0.1}'
PREFIX = "mlx-lrsched: error: "
FAST = 30  # seconds: every refusal below is immediate; the hangs of issue 16 ran for 15 minutes


def run(*args: str, prelude: str = "", timeout: float = FAST) -> subprocess.CompletedProcess[str]:
    """``python -m mlx_lrsched ARGS`` (after ``prelude``, when given), with this file's short timeout."""
    return run_cli(*args, prelude=prelude, timeout=timeout)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Status 2, nothing on stdout, one short ``mlx-lrsched: error:`` line on stderr holding ``fragments``."""
    assert result.returncode == 2, (result.returncode, result.stdout[:500], result.stderr[:2000])
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(PREFIX), result.stderr[:2000]
    assert len(lines[0]) <= len(PREFIX) + MAX_MESSAGE_CHARS
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


# ----------------------------------------------------------------------------------- steps: no hang


@pytest.mark.parametrize(
    ("subcommand", "option", "value"),
    [("table", "--at", "1e999999999"), ("table", "--at", "0,1,1e999999999"), ("plot", "--steps", "1e999999999")],
)
def test_a_step_with_a_billion_digit_exponent_is_refused_at_once(tmp_path, subcommand, option, value):
    # issue 16: int(Decimal("1e999999999")) built a billion-digit integer (15 minutes, 450 MB) before the check
    output = tmp_path / "x.png"
    extra = ["-o", str(output)] if subcommand == "plot" else []
    started = time.monotonic()
    result = run(subcommand, CONSTANT, option, value, *extra)
    assert time.monotonic() - started < FAST
    assert_one_line_error(result, "invalid step '1e999999999'", "<= 2**63 - 1")
    assert not output.exists()


@pytest.mark.parametrize(
    "text",
    ["1e19", "1E+999999999999999999999999999999", "0.5e999999999", "10e18", "9223372036854775808",
     "9.223372036854775808e18", "92233720368547758070"],
)  # fmt: skip
def test_steps_above_2_to_the_63_are_refused_without_building_them(text):
    # through the command, with a timeout: building 10**999999999 in this process would hang the run
    assert_one_line_error(run("table", CONSTANT, "--at", text), "steps must be <= 2**63 - 1")


@pytest.mark.parametrize(
    ("text", "step"),
    [("0e999999999", 0), ("0.0e999999999", 0), ("1e18", 10**18), ("0.1e19", 10**18), ("0.01e20", 10**18),
     ("9.223372036854775807e18", 2**63 - 1), ("9_223_372_036_854_775_807", 2**63 - 1), ("1.000e3", 1000),
     ("+7", 7), (" 12 ", 12), ("000000000000000000000000000000000001e18", 10**18)],
)  # fmt: skip
def test_steps_up_to_2_to_the_63_minus_1_are_read_exactly(text, step):
    assert parse_step(text) == step


def test_a_step_longer_than_64_characters_is_refused_and_not_echoed_whole():
    line = assert_one_line_error(run("table", CONSTANT, "--at", "1" * 100_000), "longer than 64 characters")
    assert "1" * 100 not in line


def test_a_huge_size_is_refused_and_not_echoed_whole(tmp_path):
    result = run("plot", CONSTANT, "--steps", "10", "-o", str(tmp_path / "x.png"), "--size", "9" * 100_000 + "x1")
    assert "9" * 100 not in assert_one_line_error(result, "invalid --size")


# ----------------------------------------------------------------------------- config files: bounded


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
@pytest.mark.parametrize("subcommand", ["table", "plot"])
def test_dev_zero_is_refused_at_once_not_read_without_end(tmp_path, subcommand):
    extra = ["--at", "0"] if subcommand == "table" else ["--steps", "10", "-o", str(tmp_path / "x.png")]
    assert_one_line_error(run(subcommand, "/dev/zero", *extra), "/dev/zero: cannot read config: not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert_one_line_error(run("table", str(fifo), "--at", "0"), f"{fifo}: cannot read config: not a regular file")


def test_a_directory_is_refused(tmp_path):
    assert_one_line_error(run("table", str(tmp_path), "--at", "0"), f"{tmp_path}: cannot read config: a directory")


def test_a_config_file_over_the_limit_is_refused(tmp_path):
    path = tmp_path / "big.json"
    path.write_text(CONSTANT + " " * MAX_CONFIG_BYTES)
    assert_one_line_error(run("table", str(path), "--at", "0"), f"larger than {MAX_CONFIG_BYTES} bytes")


def test_a_config_file_at_the_limit_is_read(tmp_path):
    path = tmp_path / "padded.json"
    path.write_text(CONSTANT + " " * (MAX_CONFIG_BYTES - len(CONSTANT)))
    assert path.stat().st_size == MAX_CONFIG_BYTES
    result = run("table", str(path), "--at", "0", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("0,0.1,")


def test_a_config_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"name": "Constant", "lr": 0.1, "\xe9": 1}')
    assert_one_line_error(run("table", str(path), "--at", "0"), "not UTF-8")


# ------------------------------------------------------------------------ bad configs: one line, no trace


def test_json_nested_deeper_than_the_recursion_limit_is_one_line(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    assert_one_line_error(run("table", str(path), "--at", "0"), "invalid JSON", "nested too deeply")


def test_a_config_of_thousands_of_nested_schedules_is_one_line(tmp_path):
    depth = 5_000
    path = tmp_path / "deep.json"
    path.write_text('{"name": "Scale", "factor": 1.0, "schedule": ' * depth + CONSTANT + "}" * depth)
    assert_one_line_error(run("table", str(path), "--at", "0"), f"{path}: ")


def test_a_five_thousand_digit_integer_is_one_line():
    config = '{"name": "StepDecay", "init_lr": 0.1, "step_size": ' + "9" * 5_000 + "}"
    assert "9" * 100 not in assert_one_line_error(run("table", config, "--at", "0"), "inline config: invalid JSON")


def test_a_huge_value_in_a_config_is_not_echoed_whole(tmp_path):
    path = tmp_path / "long_name.json"
    path.write_text('{"name": "' + "A" * 500_000 + '"}')
    line = assert_one_line_error(run("table", str(path), "--at", "0"), "unknown schedule name")
    assert line.endswith("...")


@pytest.mark.parametrize(
    "error",
    ["OverflowError('int too large to convert to float')", "RecursionError('maximum recursion depth exceeded')",
     "KeyError('step_size')", "TypeError('unhashable type: list')", "ValueError('x' * 100_000)"],
)  # fmt: skip
def test_any_error_a_constructor_raises_is_one_line(error):
    # what a bad config can make a constructor raise, whatever its type
    prelude = f"import mlx_lrsched.cli as cli\ndef broken(config):\n    raise {error}\ncli.from_config = broken"
    assert_one_line_error(run("table", CONSTANT, "--at", "0", prelude=prelude), "inline config: ")


@pytest.mark.parametrize(
    "error", ["OverflowError('cannot convert float infinity to integer')", "RecursionError()", "KeyError('lr')"]
)
def test_any_error_evaluating_a_schedule_is_one_line(error):
    prelude = f"import mlx_lrsched.cli as cli\ndef broken(schedule, steps):\n    raise {error}\ncli.tabulate = broken"
    assert_one_line_error(run("table", CONSTANT, "--at", "0", prelude=prelude), "cannot evaluate the schedule")


@pytest.mark.skipif(__import__("importlib").util.find_spec("matplotlib") is None, reason="matplotlib is missing")
def test_an_error_while_plotting_is_one_line(tmp_path):
    # sys.modules: the package exports a function `plot` that shadows the module of that name
    prelude = "import sys, mlx_lrsched.plot\ndef broken(*args, **kwargs):\n    raise OverflowError('big')\n"
    prelude += "sys.modules['mlx_lrsched.plot'].plot = broken"
    result = run("plot", CONSTANT, "--steps", "10", "-o", str(tmp_path / "x.png"), prelude=prelude)
    assert_one_line_error(result, "cannot plot the schedule(s): big")


def test_an_error_that_escapes_every_check_is_still_one_line():
    # `list` catches only ValueError from describe_class: main() is the last line of defence
    prelude = "import mlx_lrsched.cli as cli\ndef broken(name):\n    raise OverflowError('deep inside')\n"
    assert_one_line_error(run("list", prelude=prelude + "cli.describe_class = broken"), "OverflowError: deep inside")


# ---------------------------------------------------------------------------------------------- version


def test_version_prints_the_package_version_and_exits_0():
    result = run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"mlx-lrsched {mlx_lrsched.__version__}"


# -------------------------------------------------------------------------------------------- packaging


def project_table() -> dict:
    tomllib = pytest.importorskip("tomllib")
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_the_license_is_mit_as_an_spdx_string_with_its_file():
    project = project_table()["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License") and "the mlx-lrsched authors" in text
    assert "Permission is hereby granted, free of charge" in text
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # PEP 639 forbids both


def test_the_project_urls_point_at_the_repository():
    urls = project_table()["project"]["urls"]
    assert set(urls) == {"Homepage", "Source", "Documentation", "Issues"}
    assert all(url.startswith("https://github.com/mlx-lrsched/mlx-lrsched") for url in urls.values())


def test_the_long_description_has_no_relative_link():
    readme = project_table()["project"]["readme"]
    path = REPO / (readme if isinstance(readme, str) else readme["file"])
    assert path == REPO / "docs" / "pypi.md"
    text = path.read_text()
    targets = re.findall(r"\]\(([^)]*)\)", text) + re.findall(r"""src=["']([^"']*)""", text)
    assert targets, "the long description links to the repository"
    assert [t for t in targets if not t.startswith("https://")] == []
    assert "https://github.com/mlx-lrsched/mlx-lrsched" in text


TEST_SUPPORT = ["tests/conftest.py", "tests/strategies.py", "tests/_samples.py", "tests/_vmap_worker.py"]


def build(hook: str, tree: Path, out: Path) -> Path:
    """Call setuptools' PEP 517 ``hook`` in a fresh process inside ``tree``; the archive it wrote."""
    code = f"from setuptools import build_meta\nprint(build_meta.{hook}({str(out)!r}))"
    result = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return out / result.stdout.splitlines()[-1]


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory) -> Path:
    """The working tree with its caches, without ``.git`` and the venvs (so the build cannot touch the tree)."""
    tree = tmp_path_factory.mktemp("tree") / "mlx-lrsched"
    shutil.copytree(REPO, tree, ignore=shutil.ignore_patterns(".git", ".venv", "venv", ".mypy_cache"), symlinks=True)
    (tree / "tests" / "__pycache__").mkdir(exist_ok=True)
    (tree / "tests" / "__pycache__" / "stale.cpython-311.pyc").write_bytes(b"")
    (tree / ".hypothesis").mkdir(exist_ok=True)
    return tree


def test_the_sdist_ships_the_tests_their_helpers_docs_and_no_caches(tree_copy, tmp_path):
    sdist = build("build_sdist", tree_copy, tmp_path)
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "mlx_lrsched", "tests", "docs",
         "benchmarks", "examples", "README.md", "LICENSE", "pyproject.toml", "MANIFEST.in"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    present = [name for name in tracked if (REPO / name).is_file()]
    assert sorted(set(present) - names) == []  # every source file, test helper, doc and example
    assert set(TEST_SUPPORT) <= names and {"LICENSE", "README.md", "docs/pypi.md"} <= names
    caches = [n for n in names if re.search(r"(^|/)(__pycache__|\.hypothesis|\.pytest_cache|\.ruff_cache)(/|$)", n)]
    assert caches == [] and not [n for n in names if n.endswith((".pyc", ".tmp"))]


def test_the_wheel_carries_the_spdx_license_and_the_short_description(tree_copy, tmp_path):
    wheel = build("build_wheel", tree_copy, tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: MIT" in metadata.splitlines()
    assert "Project-URL: Issues, https://github.com/mlx-lrsched/mlx-lrsched/issues" in metadata.splitlines()
    assert metadata.split("\n\n", 1)[1].strip() == (REPO / "docs" / "pypi.md").read_text().strip()
    assert "mlx_lrsched/py.typed" in names and not any(n.startswith("tests/") for n in names)
