"""Every code block of the README and of the documentation pages runs as printed (see tests/_docs_blocks.py).

Each page runs in a fresh process, in a temporary working directory (with the repository's ``examples``
folder linked into it, as in a checkout), its Python blocks in one namespace;
console blocks must print what the page shows. A block that cannot run here (an install, a training
script) carries a visible ``<!-- skip: reason -->`` marker, and every fenced block names its language, so
no block escapes the test by accident.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _docs_blocks

pytest.importorskip("mlx.core")
pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
GENERATED = ("_build",)  # written by the docs build, not by hand


def pages() -> list[Path]:
    found = [REPO / "README.md"]
    for path in sorted(DOCS.rglob("*.md")):
        relative = path.relative_to(DOCS).as_posix()
        if not relative.startswith(GENERATED):
            found.append(path)
    return found


PAGES = pages()


def page_id(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_block_of_the_page_runs_as_printed(page: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(REPO / "examples")  # `python examples/train.py --help` as from a checkout
    bin_dir = os.path.dirname(sys.executable)
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "COLUMNS": "120",
    }
    script = Path(_docs_blocks.__file__)
    done = subprocess.run(
        [sys.executable, str(script), str(page), str(report)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcomes = json.loads(report.read_text())
    failed = [o for o in outcomes if o["status"] == "failed"]
    assert not failed, f"{page_id(page)}, block at line {failed[0]['line']}:\n{failed[0]['detail']}"
    pending = [o for o in outcomes if o["status"] == "pending"]
    if pending:
        lines = ", ".join(str(o["line"]) for o in pending)
        pytest.xfail(f"blocks at lines {lines} wait for the peer translators: {pending[0]['detail']}")


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_fenced_block_names_its_language_and_every_skip_gives_a_reason(page: Path) -> None:
    for block in _docs_blocks.blocks(page.read_text()):
        where = f"{page_id(page)}:{block.line}"
        assert block.language, f"{where}: say what the block is (python, bash, console, text, ...)"
        if block.skip is not None:
            assert len(block.skip) >= 10, f"{where}: a skip marker needs a reason a reader understands"
            assert block.language in _docs_blocks.RUN, f"{where}: only runnable blocks can be skipped"


def test_the_parser_finds_blocks_languages_and_skip_markers() -> None:
    text = "\n".join(
        [
            "intro",
            "```python",
            "x = 1",
            "```",
            "<!-- skip: installs a virtual environment -->",
            "",
            "```bash",
            "pip install x",
            "```",
            "````{note}",
            "```text",
            "inner",
            "```",
            "````",
        ]
    )
    found = _docs_blocks.blocks(text)
    assert [(b.language, b.line, b.skip) for b in found] == [
        ("python", 2, None),
        ("bash", 7, "installs a virtual environment"),
        ("{note}", 10, None),
    ]
    assert found[0].code == "x = 1\n"


def test_console_blocks_pair_each_command_with_its_output() -> None:
    code = "$ echo a \\\n  b\na b\n$ true\n$ printf 'x\\ny'\nx\ny\n"
    assert _docs_blocks.console_steps(code) == [("echo a \\\n  b", "a b"), ("true", ""), ("printf 'x\\ny'", "x\ny")]


def test_a_console_block_whose_output_differs_fails(tmp_path: Path) -> None:
    block = _docs_blocks.Block("console", "$ echo 1\n2\n", 1, None)
    outcome = _docs_blocks.run_block(block, {}, "page.md", tmp_path, 30)
    assert outcome.status == "failed" and "the page shows\n2" in outcome.detail


def test_the_lr_range_test_figure_of_the_guide_is_readable(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import mlx.core as mx
    import mlx.nn as nn
    import mlx.optimizers as optim
    from sklearn.datasets import load_digits

    from mlx_lrsched import lr_range_test

    digits = load_digits()  # as docs/guides/lr-range-test.md
    x_all, y_all = mx.array(digits.data / 16.0, dtype=mx.float32), mx.array(digits.target)
    mx.random.seed(0)
    order = mx.random.permutation(1_797)
    batches = [(x_all[order[i : i + 64]], y_all[order[i : i + 64]]) for i in range(0, 1_792, 64)]
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))

    def loss_fn(model, x, y):
        return nn.losses.cross_entropy(model(x), y, reduction="mean")

    result = lr_range_test(model, lambda lr: optim.SGD(learning_rate=lr, momentum=0.9), loss_fn, batches)
    figure = result.plot().figure
    figure.savefig(tmp_path / "lr_find.png")
    ax = figure.axes[0]
    lowest = float(min(result.losses.min(), result.smoothed_losses.min()))
    bottom, top = ax.get_ylim()
    assert bottom >= lowest - 0.25 * (top - lowest), (bottom, lowest)  # no empty band of negative losses
    renderer = figure.canvas.get_renderer()
    label = ax.xaxis.label.get_window_extent(renderer)
    assert label.y0 >= 0 and label.x0 >= 0, label  # the x label is inside the saved image
