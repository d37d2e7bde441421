"""The code blocks of a markdown page, and a runner that executes them as printed (tests/test_docs_examples.py).

A fenced block runs according to its language:

* ``python``: executed, all blocks of a page in order, in one namespace (a page sets up its data once);
* ``bash``: run by ``bash -euo pipefail`` (each command must succeed);
* ``console``: each ``$ command`` line is run and its output (stdout and stderr) must be the lines that
  follow it, up to the next ``$`` line or the end of the block;
* ``pycon``: run as a doctest (the output printed in the block must be the output);
* anything else (``text``, ``yaml``, ``json``, MyST directives such as ``{toctree}``): not run.

A block that must not run is preceded by ``<!-- skip: the reason -->`` (shown in the page's source, and
listed by the test). Commands run in a temporary working directory with ``MPLBACKEND=Agg`` and this
interpreter's ``bin`` folder first on ``PATH`` (as with the virtual environment activated).

Run as a script, ``python tests/_docs_blocks.py PAGE.md REPORT.json`` executes one page in the current
directory and writes what happened to each block as JSON.
"""

from __future__ import annotations

import doctest
import json
import re
import subprocess
import sys
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

RUN = {"python", "py", "bash", "sh", "console", "pycon"}
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
SKIP = re.compile(r"^<!--\s*skip:\s*(?P<reason>.*?)\s*-->$")

PENDING = ("from_torch", "from_timm", "from_hf", "from_optax", "from_keras")
"""Names the peer translators (issue 15) will export; a block that imports them waits until they exist."""


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    line: int  # 1-based line of the opening fence
    skip: str | None  # the reason given in a skip marker, or None


def blocks(text: str) -> list[Block]:
    """Every fenced block of a markdown text, with the skip reason written right above it."""
    found: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        info, start, indent = match["info"].strip(), index, match["indent"]
        closing = re.compile(rf"^ {{0,3}}{re.escape(match['fence'][0])}{{{len(match['fence'])},}}\s*$")
        body: list[str] = []
        index += 1
        while index < len(lines) and not closing.match(lines[index]):
            line = lines[index]
            body.append(line[len(indent) :] if line.startswith(indent) else line)
            index += 1
        index += 1
        previous = next((lines[i].strip() for i in range(start - 1, -1, -1) if lines[i].strip()), "")
        marker = SKIP.match(previous)
        language = info.split()[0] if info else ""
        found.append(Block(language, "\n".join(body) + "\n", start + 1, marker["reason"] if marker else None))
    return found


@dataclass
class Outcome:
    line: int
    language: str
    status: str  # "passed", "failed", "skipped" or "pending"
    detail: str = ""


def console_steps(code: str) -> list[tuple[str, str]]:
    """(command, expected output) for each ``$ `` line of a console block; ``\\`` continues a command."""
    steps: list[tuple[str, list[str]]] = []
    continuing = False
    for line in code.splitlines():
        if continuing:
            steps[-1] = (steps[-1][0] + "\n" + line, steps[-1][1])
        elif line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
        continuing = line.endswith("\\") and (continuing or line.startswith("$ "))
    return [(command, "\n".join(output).rstrip()) for command, output in steps]


def run_shell(command: str, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_block(block: Block, namespace: dict, name: str, cwd: Path, timeout: float) -> Outcome:
    outcome = Outcome(block.line, block.language, "passed")
    if block.language in ("python", "py"):
        exec(compile(block.code, f"{name}:{block.line}", "exec"), namespace)
    elif block.language == "pycon":
        test = doctest.DocTestParser().get_doctest(block.code, namespace, name, name, block.line)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        report: list[str] = []
        runner.run(test, out=report.append, clear_globs=False)
        if runner.failures:
            return Outcome(block.line, block.language, "failed", "".join(report))
    elif block.language in ("bash", "sh"):
        done = run_shell(block.code, cwd, timeout)
        if done.returncode:
            return Outcome(block.line, block.language, "failed", f"exit {done.returncode}\n{done.stdout}{done.stderr}")
    else:  # console
        for command, expected in console_steps(block.code):
            done = run_shell(command, cwd, timeout)
            printed = "\n".join(line.rstrip() for line in (done.stdout + done.stderr).rstrip().splitlines())
            if printed != "\n".join(line.rstrip() for line in expected.splitlines()):
                detail = f"$ {command}\n--- printed (exit {done.returncode})\n{printed}\n--- the page shows\n{expected}"
                return Outcome(block.line, block.language, "failed", detail)
    return outcome


def run_page(page: Path, cwd: Path, timeout: float = 300.0) -> list[Outcome]:
    """Run every runnable block of ``page`` in order (one namespace), stopping at the first failure."""
    namespace: dict = {"__name__": "__main__"}
    outcomes: list[Outcome] = []
    for block in blocks(page.read_text()):
        if block.language not in RUN:
            continue
        if block.skip is not None:
            outcomes.append(Outcome(block.line, block.language, "skipped", block.skip))
            continue
        try:
            outcomes.append(run_block(block, namespace, page.name, cwd, timeout))
        except ImportError as error:
            import mlx_lrsched

            waiting = [n for n in PENDING if n in block.code and not hasattr(mlx_lrsched, n)]
            status = "pending" if waiting else "failed"
            outcomes.append(Outcome(block.line, block.language, status, f"{type(error).__name__}: {error}"))
            if status == "pending":
                continue
        except BaseException:
            outcomes.append(Outcome(block.line, block.language, "failed", traceback.format_exc(limit=-3)))
        if outcomes[-1].status == "failed":
            break
    return outcomes


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    results = run_page(Path(sys.argv[1]).resolve(), Path.cwd())
    Path(sys.argv[2]).write_text(json.dumps([asdict(outcome) for outcome in results]))
