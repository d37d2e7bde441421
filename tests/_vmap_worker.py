"""Run by ``test_vmap.py`` in a subprocess: ``mx.vmap`` of every config against the NumPy reference.

An MLX bug can abort the interpreter under ``mx.vmap`` (``mx.divmod`` double-frees in MLX 0.32), so the
configs run here, one JSON line each on stdout: ``{"id": ..., "event": "start"}`` before a config (the last
one printed names the culprit of a crash) and ``{"id": ..., "event": "done", ...}`` with its errors after.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

STEP_RANGES = [(0, 12_001, 1), (12_001, 10**6, 997), (10**9 - 300, 10**9 + 300, 1), (2**40 - 5, 2**40 + 5, 1)]
"""``mx.arange`` ranges: every step of the configs' phases, sparse steps to 1e6, and steps next to 1e9 and 2**40."""

RELATIVE = 1e-6
FLOOR = 1e-6  # of the peak: below it the values are compared absolutely, to RELATIVE * FLOOR * peak


def steps(mx, dtype):
    return mx.concatenate([mx.arange(start, stop, stride, dtype=dtype) for start, stop, stride in STEP_RANGES])


def errors(actual: np.ndarray, expected: np.ndarray, peak: float) -> dict[str, object]:
    """The worst relative error (where ``|expected| >= FLOOR * peak``) and absolute error (elsewhere)."""
    floor = FLOOR * peak
    large = np.abs(expected) >= floor
    relative = np.where(large, np.abs(actual - expected) / np.where(large, np.abs(expected), 1.0), 0.0)
    absolute = np.where(large, 0.0, np.abs(actual - expected))
    worst = int(np.argmax(relative))
    return {
        "relative": float(relative[worst]),
        "relative_at": worst,
        "absolute": float(absolute.max()),
        "absolute_bound": RELATIVE * floor,
        "finite": bool(np.isfinite(actual).all()),
    }


def main() -> None:
    # Imported here, after __main__ has set MLX_LRSCHED_COMPILE_AFTER (read when the package is imported).
    import mlx.core as mx
    from _configs import case_id, cases, feedback_cases

    everything = [(case_id(name, index), schedule) for name, index, schedule in cases()] + feedback_cases()
    for ident, schedule in everything:
        print(json.dumps({"id": ident, "event": "start"}), flush=True)
        result: dict[str, object] = {"id": ident, "event": "done", "runs": []}
        # Calls 1 and 2 of a schedule run its formula eagerly, call 3 its compiled formula (_xp.COMPILE_AFTER).
        for dtype in (mx.uint64, mx.int64, mx.uint64):
            step = steps(mx, dtype)
            values = mx.vmap(schedule)(step)
            mx.eval(values)
            reference = schedule(np.array(step.tolist(), dtype=np.int64))
            run = errors(np.array(values, dtype=np.float64), reference, schedule.peak)
            bad = run["relative_at"]
            run.update(
                dtype=str(dtype),
                shape=list(values.shape),
                out_dtype=str(values.dtype),
                step=int(step[bad].item()),
                actual=float(values[bad].item()),
                expected=float(reference[bad]),
            )
            result["runs"].append(run)  # type: ignore[attr-defined]
        print(json.dumps(result), flush=True)
    print(json.dumps({"event": "finished", "count": len(everything)}), flush=True)


if __name__ == "__main__":
    # The suite's conftest keeps formulas eager (each compile is a C++ build); here call 3 is compiled, on purpose.
    os.environ["MLX_LRSCHED_COMPILE_AFTER"] = "2"
    sys.path.insert(0, sys.argv[1])
    main()
