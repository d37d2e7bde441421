"""The docs' tables stay true: every public schedule has a reference entry, the README and the API pages list
every public name, and the entries' claims (the peer, the test files) are backed by the tests they name.

These read files only (no Sphinx): the build itself is checked by tests/test_docs_site.py (``-m docs``).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

import mlx_lrsched

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
README = REPO / "README.md"
sys.path.insert(0, str(DOCS / "_ext"))
import schedule_entries  # noqa: E402
from schedule_entries import DOCS_URL, ENTRIES  # noqa: E402

PUBLIC = schedule_entries.public_schedules()


def gallery():
    spec = importlib.util.spec_from_file_location("make_gallery", DOCS / "make_gallery.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_gallery"] = module
    spec.loader.exec_module(module)
    return module


def test_every_public_schedule_has_a_reference_entry() -> None:
    assert schedule_entries.missing_entries() == [], "add a line to ENTRIES in docs/_ext/schedule_entries.py"
    assert set(ENTRIES) <= set(PUBLIC), f"entries for names that are not public: {set(ENTRIES) - set(PUBLIC)}"


def test_public_schedules_are_the_schedule_classes_of_all() -> None:
    assert {"OneCycle", "CosineDecay", "ReduceOnPlateau"} <= set(PUBLIC)
    assert "Schedule" not in PUBLIC and "ScheduleGuard" not in PUBLIC and "plot" not in PUBLIC


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_each_entry_names_test_files_that_exist_and_test_the_class(name: str) -> None:
    entry = ENTRIES[name]
    assert entry.tests, f"{name}: name the test file that checks it against its oracle"
    sources = {}
    for test in entry.tests:
        path = REPO / test
        assert path.is_file() and path.name.startswith("test_"), f"{name}: {test} is not a test file"
        sources[test] = path.read_text()
        assert re.search(rf"\b{name}\b", sources[test]), f"{test} never mentions {name}"
    for identifier in schedule_entries.peer_identifiers(entry.peer):
        assert any(identifier in source for source in sources.values()), (
            f"{name}: the peer {identifier!r} appears in none of {entry.tests}"
        )


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_each_entry_can_be_plotted(name: str) -> None:
    entry = ENTRIES[name]
    if entry.plot:
        assert callable(getattr(schedule_entries, entry.plot)), entry.plot
        return
    module = gallery()
    panels = [title for title in module.PANELS if module.schedule_of(title) == name]
    variants = [v for title in panels for v in module.PANELS[title].variants.values()] or list(entry.variants or {})
    assert variants, f"{name}: give it a panel in docs/make_gallery.py or variants in its entry"
    for params in variants if panels else (entry.variants or {}).values():
        assert isinstance(mlx_lrsched.from_config({"name": name, **params}), getattr(mlx_lrsched, name))


def test_the_peer_identifiers_are_read_from_backticks() -> None:
    assert schedule_entries.peer_identifiers("PyTorch `OneCycleLR(cycle_momentum=True)`, mlx `x`") == [
        "OneCycleLR",
        "x",
    ]
    assert schedule_entries.peer_identifiers("no peer") == []


def test_every_public_name_that_is_not_a_schedule_is_in_the_api_pages() -> None:
    functions = (DOCS / "api" / "functions.md").read_text()
    undocumented = [
        name for name in mlx_lrsched.__all__ if name not in PUBLIC and f"mlx_lrsched.{name}" not in functions
    ]
    assert undocumented == [], f"document them in docs/api/functions.md: {undocumented}"


# ---------------------------------------------------------------------------------------------- README


def test_the_readme_is_short_and_opens_with_the_two_commands() -> None:
    text = README.read_text()
    assert len(text.encode()) <= 10_240, f"README.md is {len(text.encode())} bytes; move detail into docs/"
    first_block = text[text.index("```") : text.index("```", text.index("```") + 3)]
    assert ".venv/bin/python examples/train.py" in first_block and ".venv/bin/python -m pytest" in first_block
    assert "## Performance" not in text  # the numbers live on the docs' performance page


def test_the_readme_table_links_every_public_schedule_to_its_reference_page() -> None:
    text = README.read_text()
    linked = re.findall(r"\[`(\w+)`\]\(" + re.escape(DOCS_URL) + r"api/(\w+)\.html\)", text)
    assert all(name == page for name, page in linked), linked
    missing = sorted(set(PUBLIC) - {name for name, _ in linked})
    assert missing == [], f"add a row to the README's table of schedules: {missing}"


def test_the_package_index_description_has_no_relative_link_and_the_readme_quick_start() -> None:
    pypi = (DOCS / "pypi.md").read_text()
    targets = re.findall(r"\]\(([^)]+)\)", pypi) + re.findall(r"<([a-z]+:[^>]+)>", pypi)
    assert targets and all(re.match(r"https?://", target) for target in targets), targets

    def quick_start(text: str) -> str:
        start = text.index("## Quick start")
        block = text.index("```python", start)
        return text[block : text.index("```", block + 3)]

    assert quick_start(pypi) == quick_start(README.read_text())


@pytest.mark.parametrize("name", PUBLIC)
def test_help_opens_with_the_formula_in_plain_text(name: str) -> None:
    # help(OneCycle) in a terminal shows the first paragraph first: it must read without rendered math
    import inspect

    first = inspect.cleandoc(getattr(mlx_lrsched, name).__doc__ or "").split("\n\n")[0]
    assert re.search(r"``(lr|momentum) = [^`]+``", first), f"{name}: no plain-text formula in {first!r}"
    assert ":math:" not in first and "\\" not in first, f"{name}: LaTeX in the first paragraph {first!r}"


def test_calling_a_schedule_documents_the_step_contract() -> None:
    doc = mlx_lrsched.Schedule.__call__.__doc__ or ""
    assert "uint64" in doc and "2**63 - 1" in doc and "NumPy" in doc and "mx.compile" in doc
