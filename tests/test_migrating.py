"""The migration guide's tables are true: each row's translator call returns exactly the schedule written beside it.

``docs/guides/migrating.md`` has one table per peer with a row per scheduler: the peer's call, our translator call and
the schedule it returns, written out as its ``repr`` prints it. Each row is evaluated here; the values of each
translation are checked against the peers themselves in ``tests/test_from_*.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import mlx_lrsched

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guides" / "migrating.md"
ROW = re.compile(r"^\| `(?P<peer>[^|]+)` \| `(?P<ours>from_\w+\(.*\))`<br>= `(?P<written>.+)` \|$")
ROWS = [match.groupdict() for line in GUIDE.read_text().splitlines() if (match := ROW.match(line))]
PEERS = {"from_torch": 13, "from_timm": 7, "from_hf": 12, "from_optax": 14, "from_keras": 6}
"""Rows per translator: one per peer scheduler (HF's ``greedy`` is refused, so it has none)."""


def test_every_peer_scheduler_has_a_row():
    counts = {function: sum(row["ours"].startswith(function + "(") for row in ROWS) for function in PEERS}
    assert counts == PEERS


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row["peer"][:60])
def test_the_translator_returns_the_schedule_written_beside_it(row):
    namespace = vars(mlx_lrsched)
    translated = eval(row["ours"], namespace)
    written = eval(row["written"], namespace)
    assert translated == written
    steps = np.arange(1_500)
    values = written(steps)
    assert np.all(np.isfinite(values)) and values.max() > 0
    np.testing.assert_array_equal(translated(steps), values)
