"""Sphinx extension: one API page and one plot per public schedule, written when the build starts.

On ``builder-inited`` (before Sphinx looks for sources, as ``sphinx.ext.autosummary`` does) it writes
``docs/api/<Name>.rst`` and ``docs/api/<Name>.png`` for every line of :data:`schedule_entries.ENTRIES`,
plus ``docs/api/schedules.rst``, the table of all of them. The plots are drawn from
the package as it is at build time, so they are never stale; files whose bytes did not change are left
alone, so an incremental build rebuilds only what changed. A public schedule without an entry is a warning,
which ``docs/build.py`` (``-W``) turns into a failed build. The generated files (every ``.rst`` and
``.png`` in ``docs/api``; the hand-written pages there are ``.md``) are git-ignored.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import schedule_entries
from schedule_entries import ENTRIES, SOURCE_URL
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

OUT = "api"
"""The folder of the generated files, relative to the docs source directory."""
OVERVIEW = "schedules.rst"

FAMILY_TITLES = {
    "decay": "Decay",
    "warmup": "Warmup",
    "compose": "Composition",
    "cyclic": "Cyclic",
    "one_cycle": "1-cycle",
    "feedback": "Driven by training",
}
PANEL_SIZE = (6.2, 4.4)  # inches, one panel; the legend sits below the axes
DPI = 100


def gallery() -> Any:
    """``docs/make_gallery.py`` as a module: its ``PANELS`` are the configs the plots draw."""
    if "make_gallery" not in sys.modules:
        path = Path(__file__).resolve().parent.parent / "make_gallery.py"
        spec = importlib.util.spec_from_file_location("make_gallery", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["make_gallery"] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules["make_gallery"]


def family(name: str) -> str:
    """The module a schedule class is defined in (``Constant`` counted with the decays, as in the gallery)."""
    import mlx_lrsched

    module = getattr(mlx_lrsched, name).__module__.rsplit(".", 1)[-1]
    if module == "base":
        return "decay" if name == "Constant" else "compose"
    return module


def panels(name: str) -> list[str]:
    """The gallery panel titles that draw ``name``."""
    return [title for title in gallery().PANELS if gallery().schedule_of(title) == name]


def plotted(name: str) -> list[tuple[str, dict[str, dict[str, Any]], Any]]:
    """(title, variants, gallery panel or None) of each axes a schedule's figure draws."""
    titles = panels(name)
    if titles:
        return [(title, gallery().PANELS[title].variants, gallery().PANELS[title]) for title in titles]
    variants = ENTRIES[name].variants
    if not variants:
        raise ValueError(f"{name}: no panel in docs/make_gallery.py PANELS and no variants in its entry")
    return [(name, variants, None)]


def render(name: str) -> Any:
    """The figure of one schedule: its gallery panels side by side, its entry's variants, or its plot function."""
    from mlx_lrsched import from_config
    from mlx_lrsched.plot import new_figure, plot

    entry = ENTRIES[name]
    axes_contents = [] if entry.plot else plotted(name)
    columns = max(len(axes_contents), 1)
    figure = new_figure((PANEL_SIZE[0] * columns, PANEL_SIZE[1]), DPI)
    axes = figure.subplots(1, columns, squeeze=False).ravel()
    if entry.plot:
        getattr(schedule_entries, entry.plot)(axes[0])
        return figure
    for ax, (title, variants, panel) in zip(axes, axes_contents, strict=True):
        schedules = [from_config({"name": name, **params}) for params in variants.values()]
        steps = panel.steps if panel else 1000
        log_y, phases = (panel.log_y, panel.phases) if panel else (False, True)
        plot(schedules, steps, labels=list(variants), ax=ax, log_y=log_y, phases=phases)
        ax.set_title(title if len(axes_contents) > 1 else None)
        ax.set_xlabel("step")
        if panel is not None:
            ax.set_ylabel(panel.ylabel)
        if any(schedule.signed for schedule in schedules):
            ax.axhline(0.0, color="0.2", linewidth=0.8)
        ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.17), frameon=False)
    return figure


def write_if_changed(path: Path, data: bytes) -> None:
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def png_bytes(figure: Any) -> bytes:
    import io

    from matplotlib import pyplot

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    pyplot.close(figure)
    return buffer.getvalue()


def rst_inline(text: str) -> str:
    """Markdown-style single backticks as reStructuredText literals."""
    parts = text.split("`")
    return "".join(f"``{part}``" if index % 2 else part for index, part in enumerate(parts))


def test_summary(repo: Path, test_file: str) -> str:
    """The first line of a test module's docstring: what the file proves."""
    source = (repo / test_file).read_text()
    doc = source.split('"""', 2)[1] if source.lstrip().startswith('"""') else ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def first_variant_config(name: str) -> str:
    """The ``to_config()`` of the first plotted variant, as JSON, or ``""`` for a simulated run."""
    from mlx_lrsched import from_config

    if ENTRIES[name].plot:
        return ""
    params = next(iter(plotted(name)[0][1].values()))
    return from_config({"name": name, **params}).to_json()


def base_members() -> list[str]:
    """What every schedule inherits from ``Schedule``: documented once, on the ``Schedule`` entry."""
    import mlx_lrsched

    return sorted(name for name in vars(mlx_lrsched.Schedule) if not name.startswith("_"))


def page(name: str, repo: Path) -> str:
    import mlx_lrsched

    entry = ENTRIES[name]
    cls = getattr(mlx_lrsched, name)
    module = cls.__module__
    module_path = module.replace(".", "/") + ".py"
    peer = rst_inline(entry.peer) if entry.peer else "none: no peer library has this schedule"
    proofs = (
        "\n".join(
            f"       | `{test} <{SOURCE_URL}{test}>`__: {rst_inline(test_summary(repo, test))}"
            for test in entry.tests
            if (repo / test).is_file()  # a missing file fails tests/test_docs_reference.py, not the build
        )
        or "       | no test file named yet"
    )
    config = first_variant_config(name)
    if entry.plot:
        caption = f"A simulated run, drawn by the docs build (``{entry.plot}`` in ``docs/_ext/schedule_entries.py``)."
    else:
        source = "docs/make_gallery.py" if panels(name) else "docs/_ext/schedule_entries.py"
        caption = (
            f"Drawn by the docs build from the NumPy float64 reference, with the configurations in ``{source}``."
            " Dotted lines mark the schedule's phase boundaries."
        )
    facts = [
        ("Matches", peer),
        ("Proved by", "\n" + proofs),
        ("Doctest", f"the *Examples* below run in the test suite: ``pytest --doctest-modules {module_path}``"),
    ]
    if config:
        facts.append(("Config", f"``{config}``"))
    rows = "\n".join(f"   * - {key}\n     - {value}" for key, value in facts)
    summary = (inspect.getdoc(cls) or "").split("\n\n")[0].replace("\n", " ")
    # The docstring's first paragraph again, above the plot, so the page says what the curve is; its
    # cross-references (:class:`Join`) are shown as literals: they resolve only inside the autodoc entry.
    rst_summary = re.sub(r":(?!math:)[\w:]+:`~?([^`]+)`", r"``\1``", summary)
    title = f"{name}\n{'=' * len(name)}"
    exclude = ", ".join(base_members())
    return f"""\
.. Generated by docs/_ext/schedule_pages.py from docs/_ext/schedule_entries.py: edit those, not this file.

.. meta::
   :description: {summary.replace("`", "")}

{title}

{rst_summary}

.. figure:: {name}.png
   :alt: {name}: the learning rate of the plotted configurations against the step

   {caption}

.. list-table::
   :class: schedule-facts
   :widths: 15 85

{rows}

.. autoclass:: mlx_lrsched.{name}
   :members:
   :exclude-members: {exclude}
"""


def index_page() -> str:
    import mlx_lrsched

    groups: dict[str, list[str]] = {}
    for name in ENTRIES:
        if hasattr(mlx_lrsched, name):
            groups.setdefault(family(name), []).append(name)
    sections = []
    for key, names in groups.items():
        heading = FAMILY_TITLES.get(key, key.replace("_", " ").capitalize())
        rows = []
        for name in names:
            summary = (inspect.getdoc(getattr(mlx_lrsched, name)) or "").split("\n\n")[0].replace("\n", " ")
            peer = rst_inline(ENTRIES[name].peer) or "—"
            rows.append(f"   * - :doc:`{name}`\n     - {summary}\n     - {peer}")
        table = "\n".join(rows)
        sections.append(
            f"{heading}\n{'-' * len(heading)}\n\n.. list-table::\n   :header-rows: 1\n   :widths: 20 55 25\n\n"
            f"   * - schedule\n     - what it computes\n     - matches\n{table}\n"
        )
    toctree = textwrap.indent("\n".join(name for names in groups.values() for name in names), "   ")
    return f"""\
.. Generated by docs/_ext/schedule_pages.py from docs/_ext/schedule_entries.py: edit those, not this file.

Schedules
=========

One page per public schedule: its curve, the peer library it matches, the tests that prove it, and its
docstring with the formula and a doctest. Every schedule is a frozen dataclass; call it with the step
(optimizer updates already applied) to get the learning rate, or set it as an optimizer's
``learning_rate``. What they all share (``to_config``, ``peak``, ``curve``, ...) is on
:class:`mlx_lrsched.Schedule`.

{chr(10).join(sections)}
.. toctree::
   :hidden:

{toctree}
"""


def generate(app: Sphinx) -> None:
    """Write the pages and plots of every entry; warn about public schedules without one."""
    import matplotlib

    matplotlib.use("Agg")
    srcdir = Path(app.srcdir)
    repo = srcdir.parent
    out = srcdir / OUT
    out.mkdir(parents=True, exist_ok=True)
    for name in schedule_entries.missing_entries():
        logger.warning(f"public schedule {name} has no entry: add a line to ENTRIES in docs/_ext/schedule_entries.py")
    public = set(schedule_entries.public_schedules())
    written = {OVERVIEW}
    with matplotlib.rc_context():
        matplotlib.rcdefaults()  # the plots must not depend on who builds them
        matplotlib.rcParams.update({"font.family": "DejaVu Sans"})
        for name in ENTRIES:
            if name not in public:
                logger.warning(f"{name} has an entry in docs/_ext/schedule_entries.py but is not public")
                continue
            write_if_changed(out / f"{name}.png", png_bytes(render(name)))
            write_if_changed(out / f"{name}.rst", page(name, repo).encode())
            written |= {f"{name}.png", f"{name}.rst"}
    write_if_changed(out / OVERVIEW, index_page().encode())
    for stale in {name for name in os.listdir(out) if name.endswith((".rst", ".png"))} - written:
        (out / stale).unlink()


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", generate)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
