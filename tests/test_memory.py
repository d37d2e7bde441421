"""The NumPy reference evaluates long curves a chunk at a time: its peak memory is the output and a few chunks.

``schedule.curve(10**7)`` makes its steps chunk by chunk, and ``schedule(steps)`` on a given step array never
copies or converts the whole array (``_xp.evaluate_numpy``). Measured with ``tracemalloc``, which sees
NumPy's buffers. Chunking must not change a value: the steps checked equal the formula evaluated on them alone.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from mlx_lrsched import CosineRestarts, CyclicLR, ExponentialDecay, OneCycle, Schedule
from mlx_lrsched._xp import NUMPY, NUMPY_CHUNK

NUM_STEPS = 10**7
OUTPUT_BYTES = NUM_STEPS * 8  # float64
BUDGET = 1.25  # times the output's size

SCHEDULES = [
    ExponentialDecay(0.1, 0.999999, end_lr=1e-5),
    OneCycle(0.1, total_steps=NUM_STEPS // 2, three_phase=True),
    CosineRestarts(0.1, first_period_steps=1000, t_mult=2, m_mul=0.9),
    CyclicLR(0.01, 0.1, step_size_up=2000, mode="exp_range", gamma=0.99999, window="cos"),
]

CHECKED_STEPS = np.array(
    [0, 1, NUMPY_CHUNK - 1, NUMPY_CHUNK, NUMPY_CHUNK + 1, 1000, 2999, 3000, NUM_STEPS // 2, NUM_STEPS - 1],
    dtype=np.int64,
)


def peak_bytes(action: Callable[[], Any]) -> tuple[Any, int]:
    """``action()`` and the peak of memory allocated while it ran (what was allocated before does not count)."""
    tracemalloc.start()
    try:
        result = action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: type(s).__name__)
def test_curve_peak_memory_is_its_output(schedule: Schedule):
    curve, peak = peak_bytes(lambda: schedule.curve(NUM_STEPS))
    assert curve.nbytes == OUTPUT_BYTES
    assert peak <= BUDGET * OUTPUT_BYTES, f"peak {peak / 1e6:.1f} MB for an output of {OUTPUT_BYTES / 1e6:.0f} MB"
    # chunk-free: the formula on just these steps
    np.testing.assert_array_equal(curve[CHECKED_STEPS], schedule.evaluate(NUMPY, CHECKED_STEPS))


@pytest.mark.parametrize(
    ("schedule", "dtype"),
    [pytest.param(s, np.int64, id=type(s).__name__) for s in SCHEDULES]
    + [pytest.param(SCHEDULES[0], np.uint64, id="ExponentialDecay-uint64")],  # converted a chunk at a time
)
def test_evaluating_a_step_array_does_not_copy_it(schedule: Schedule, dtype: type):
    steps = np.arange(NUM_STEPS, dtype=dtype)
    values, peak = peak_bytes(lambda: schedule(steps))
    assert values.shape == steps.shape and values.dtype == np.float64
    assert peak <= BUDGET * OUTPUT_BYTES, (
        f"peak {peak / 1e6:.1f} MB besides the input, output {OUTPUT_BYTES / 1e6:.0f} MB"
    )
    np.testing.assert_array_equal(values[CHECKED_STEPS], schedule.evaluate(NUMPY, CHECKED_STEPS))


def test_the_measure_sees_numpy_buffers():
    _, peak = peak_bytes(lambda: np.arange(NUM_STEPS, dtype=np.int64).astype(np.float64))
    assert peak >= 2 * OUTPUT_BYTES  # the int64 steps and their float64 copy, both alive at once
