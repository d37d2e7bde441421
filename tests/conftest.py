"""Shared fixtures and helpers for the test suite."""

from __future__ import annotations

import os

# Schedules called eagerly compile their formula after a few calls; the suite calls thousands of random configs a
# few times each, and each compile is a C++ build on the CPU backend. tests/test_backend.py tests that path.
os.environ.setdefault("MLX_LRSCHED_COMPILE_AFTER", "1000000")

import numpy as np
from hypothesis import settings

# "dev" (the default run) and "ci" (the slow run) are derandomized, so a test run never fails on an example it
# has not failed on before; "explore" draws new random examples, for hunting bugs:
# HYPOTHESIS_PROFILE=explore pytest -m "slow or not slow" tests/test_properties.py
settings.register_profile("ci", max_examples=400, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=60, deadline=None, derandomize=True)
settings.register_profile("explore", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def rel_err(actual: np.ndarray, expected: np.ndarray, floor: float = 0.0) -> float:
    """Max relative error of ``actual`` against ``expected`` over entries where ``|expected| >= floor``."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    mask = np.abs(expected) >= floor
    if not mask.any():
        return 0.0
    denom = np.where(expected[mask] == 0, 1.0, np.abs(expected[mask]))
    return float(np.max(np.abs(actual[mask] - expected[mask]) / denom))


def log_steps(stop: float = 1e9, num: int = 400) -> np.ndarray:
    """Log-spaced integer steps from 0 to ``stop`` (0 and 1 included), unique and sorted."""
    return np.unique(np.concatenate([[0, 1, 2], np.geomspace(1, stop, num).astype(np.int64)]))
