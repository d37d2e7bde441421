"""Fuzzing ``from_config`` and the ``mlx-lrsched`` command with random JSON: only clean errors, bounded time.

``from_config`` may accept a config or raise ``ValueError``/``TypeError``, nothing else. Inputs are random
JSON values, and valid configs from ``strategies.py`` with one value replaced, one key dropped or added,
or the name changed. The CLI gets a few dozen of them through a real subprocess: exit status 2, one line
on stderr, no traceback.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import config_strategy, configs, public_schedule_names

from mlx_lrsched._xp import MAX_STEP
from mlx_lrsched.base import Schedule, from_config

NAMES = public_schedule_names()
ROOT = Path(__file__).resolve().parents[1]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(NAMES)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8) | st.just("name"), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated_configs(draw: st.DrawFn) -> Any:
    """A valid config with one defect: a value replaced, a key dropped or added, the name changed, or nesting."""
    config = dict(draw(config_strategy(draw(st.sampled_from(NAMES)))))
    keys = sorted(config)
    key = draw(st.sampled_from(keys))
    mutation = draw(st.sampled_from(["replace", "drop", "add", "rename", "wrap", "nan"]))
    if mutation == "replace":
        config[key] = draw(json_values)
    elif mutation == "drop":
        del config[key]
    elif mutation == "add":
        config[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
    elif mutation == "rename":
        config["name"] = draw(st.sampled_from(NAMES) | st.text(max_size=12))
    elif mutation == "wrap":
        config[key] = [config[key]] if draw(st.booleans()) else {"name": config[key]}
    else:
        config[key] = draw(st.sampled_from([math.nan, math.inf, -math.inf, -1, 2**64, 1e308, 0.5, "1"]))
    return config


fuzz = settings(max_examples=200, suppress_health_check=list(HealthCheck))


def assert_clean(config: Any) -> None:
    try:
        schedule = from_config(config)
    except (ValueError, TypeError) as error:
        message = str(error)
        assert (message and "\n" not in message.strip()) or "JSON" in message, repr(message)
    else:
        assert_sound(schedule)


CHECK_STEPS = np.array([0, 1, 7, 1000, 10**9, 2**53 + 1, MAX_STEP], dtype=np.int64)


def assert_sound(schedule: Any) -> None:
    """An accepted config is a real schedule: it round-trips through its config and JSON to an equal
    schedule that gives the same values, and its values are finite, non-negative (unless it is ``signed``)
    and at most its ``peak`` in magnitude, at small and huge steps."""
    assert isinstance(schedule, Schedule)
    again = from_config(schedule.to_config())
    assert again == schedule and from_config(schedule.to_json()) == schedule
    values = schedule(CHECK_STEPS)
    assert values.dtype == np.float64 and values.shape == CHECK_STEPS.shape
    assert np.all(np.isfinite(values)), (schedule, values)
    assert schedule.signed or np.all(values >= 0.0), (schedule, values)
    assert np.all(np.abs(values) <= schedule.peak * (1 + 1e-9) + 1e-300), (schedule, schedule.peak, values)
    np.testing.assert_array_equal(again(CHECK_STEPS), values)


@fuzz
@given(config=json_values)
def test_random_json_values_give_a_schedule_or_a_clean_error(config):
    assert_clean(config)
    assert_clean(json.dumps(config))


@fuzz
@given(config=mutated_configs())
def test_mutated_valid_configs_give_a_schedule_or_a_clean_error(config):
    assert_clean(config)


@settings(max_examples=60, suppress_health_check=list(HealthCheck))
@given(config=configs())
def test_valid_configs_always_build_sound_schedules(config):
    assert_sound(from_config(config))


@pytest.mark.parametrize(
    "text",
    ["", "{", "[]", "null", "1e999", '{"name": "Constant", "lr": NaN}', '{"name": "Constant", "lr": Infinity}'],
    ids=["empty", "open", "list", "null", "overflow", "nan", "inf"],
)
def test_malformed_json_strings_give_clean_errors(text):
    with pytest.raises((ValueError, TypeError)):
        from_config(text)


def _deep_scale(depth: int) -> dict[str, Any]:
    config: dict[str, Any] = {"name": "Constant", "lr": 0.1}
    for _ in range(depth):
        config = {"name": "Scale", "schedule": config, "factor": 1.0}
    return config


@pytest.mark.parametrize(
    "config",
    ["[" * 5000 + "]" * 5000, '{"name": ' * 3000 + '"Constant"' + "}" * 3000, _deep_scale(2000)],
    ids=["deep_json_list", "deep_json_object", "deep_composition"],
)
def test_deeply_nested_configs_give_a_clean_value_error(config):
    # Found by this fuzz test: from_config let RecursionError escape (the CLI catches it, the library did not).
    with pytest.raises(ValueError):
        from_config(config)


# --------------------------------------------------------------------------------------------------- CLI

CLI_CASES = 36


def _cli_inputs() -> list[str]:
    """A deterministic list of bad inline configs: random mutations plus hand-picked ones."""
    found: list[str] = []

    @settings(max_examples=CLI_CASES * 4, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(config=mutated_configs() | json_values)
    def collect(config):
        try:
            from_config(config)
        except (ValueError, TypeError):
            text = json.dumps(config, allow_nan=False) if _finite(config) else None
            if text and text.lstrip().startswith("{") and len(found) < CLI_CASES:
                found.append(text)

    collect()
    return [*found, '{"name": "Constant"', '{"name": "Constant", "lr": NaN}', '{"name": ' * 3000 + "1" + "}" * 3000]


def _finite(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def cli_inputs() -> list[str]:
    return _cli_inputs()


def test_cli_rejects_random_bad_configs_with_one_line_and_status_2(cli_inputs, tmp_path):
    assert len(cli_inputs) >= 24
    # One Python process runs every case through the real entry point (``python -m mlx_lrsched``) in turn,
    # each in its own subprocess, so startup cost is paid per case but the whole test stays bounded.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    started = time.monotonic()
    for index, text in enumerate(cli_inputs):
        command = (
            ["table", text, "--at", "0,1,1000"]
            if index % 2
            else ["plot", text, "--steps", "10", "-o", str(tmp_path / "out.png")]
        )
        result = subprocess.run(
            [sys.executable, "-m", "mlx_lrsched", *command], capture_output=True, text=True, timeout=60, env=env
        )
        assert result.returncode == 2, (text[:200], result.returncode, result.stderr[-500:])
        assert "Traceback" not in result.stderr, (text[:200], result.stderr[-2000:])
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("mlx-lrsched: error: "), (text[:200], result.stderr[-500:])
        assert result.stdout == ""
    assert time.monotonic() - started < 120
