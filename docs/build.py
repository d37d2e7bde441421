"""Build the documentation site: ``python docs/build.py`` writes ``docs/_build/html/index.html``.

It runs ``sphinx-build -W --keep-going -b html docs docs/_build/html``: every warning fails the build
(reported all together). Extra arguments go to ``sphinx-build`` (``-E`` rebuilds everything, ``-q`` is
quiet). Needs the ``docs`` extra: ``pip install -e ".[docs]"``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
OUT = DOCS / "_build" / "html"


def command(out: Path = OUT, extra: list[str] | None = None) -> list[str]:
    return [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", *(extra or []), str(DOCS), str(out)]


def main(argv: list[str] | None = None) -> int:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    status = subprocess.run(command(extra=sys.argv[1:] if argv is None else argv), env=env, check=False).returncode
    if status == 0:
        print(f"open {OUT / 'index.html'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
