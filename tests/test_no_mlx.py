"""``import mlx_lrsched`` and every schedule's NumPy path work on a machine without MLX."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, sys

    class HideMLX(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "mlx" or name.startswith("mlx."):
                raise ImportError(f"No module named {name!r} (hidden by the test)")
            return None

    sys.meta_path.insert(0, HideMLX())
    import numpy as np
    sys.path.insert(0, "tests")
    import mlx_lrsched
    from _samples import DECAY_SAMPLES

    assert "mlx" not in sys.modules and "mlx.core" not in sys.modules
    for name, schedule in DECAY_SAMPLES.items():
        values = schedule(np.arange(0, 5000, 7))
        assert values.dtype == np.float64, name
        scalar = schedule(100)  # a Python int falls back to the NumPy reference without MLX
        assert isinstance(scalar, np.float64), (name, type(scalar))
        assert scalar == schedule(np.int64(100)), name
        assert mlx_lrsched.from_config(schedule.to_config()) == schedule
    print("ok", len(DECAY_SAMPLES))
    """
)


def test_package_and_numpy_backend_work_without_mlx():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok ")
