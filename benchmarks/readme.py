"""Put ``benchmarks/results/summary.md`` into the README's Performance section: ``python -m benchmarks.readme``.

The section runs from the ``## Performance`` heading to the next ``## `` heading; it is replaced whole by
the summary that ``python -m benchmarks.all`` wrote, so the README's numbers are never copied by hand.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = ROOT / "benchmarks" / "results" / "summary.md"
README = ROOT / "README.md"
HEADING = "## Performance\n"


def performance_section(readme: str) -> tuple[int, int]:
    """The start and end offsets of the Performance section in ``readme``."""
    start = readme.index(HEADING)
    following = readme.find("\n## ", start + len(HEADING))
    return start, len(readme) if following < 0 else following + 1


def with_summary(readme: str, summary: str) -> str:
    """``readme`` with its Performance section replaced by ``summary`` (which starts with the heading)."""
    start, end = performance_section(readme)
    return readme[:start] + summary.rstrip("\n") + "\n\n" + readme[end:]


def main() -> None:
    text = with_summary(README.read_text(), SUMMARY.read_text())
    temporary = README.with_name(".README.md.tmp")
    temporary.write_text(text)
    temporary.replace(README)
    print(f"Wrote the Performance section of {README} from {SUMMARY}")


if __name__ == "__main__":
    main()
