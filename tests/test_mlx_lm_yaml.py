"""mlx-lm configs as mlx-lm reads them: its YAML loader makes ``1e3`` the float ``1000.0`` (issue 16).

mlx-lm's ``lora.py`` adds an implicit float resolver to PyYAML's ``SafeLoader`` so that ``1e-5`` is a number
(PyYAML alone reads it as a string); the same resolver turns ``1e3`` into ``1000.0``, a float, which mlx-lm
passes on to ``mlx.optimizers`` unchanged and mlx computes with as it would with the integer. The configs
below are the dicts that loader produces; when PyYAML is installed the YAML text is loaded the same way.
"""

from __future__ import annotations

import re
from typing import Any

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np
import pytest
from test_mlx_lm import NUMPY_SCHEDULERS, build_schedule

from mlx_lrsched.compose import Join
from mlx_lrsched.decay import CosineDecay, StepDecay
from mlx_lrsched.mlx_lm import from_mlx_lm_config, from_mlx_optimizers
from mlx_lrsched.one_cycle import OneCycle
from mlx_lrsched.warmup import Linear

YAML_TEXT = """
lr_schedule:
  name: cosine_decay
  warmup: 1e1
  warmup_init: 1e-7
  arguments: [1e-5, 1e3, 1e-7]
"""
LOADED = {
    "lr_schedule": {"name": "cosine_decay", "warmup": 10.0, "warmup_init": 1e-7, "arguments": [1e-5, 1000.0, 1e-7]}
}
"""What mlx-lm's loader makes of :data:`YAML_TEXT`."""

# mlx-lm's resolver (mlx_lm/lora.py), so that the test reads YAML exactly as mlx-lm does.
_MLX_LM_FLOAT = re.compile(
    """^(?:
     [-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*
    |[-+]?\\.(?:inf|Inf|INF)
    |\\.(?:nan|NaN|NAN))$""",
    re.X,
)


def test_yaml_text_loads_as_mlx_lm_loads_it() -> None:
    yaml = pytest.importorskip("yaml")

    class Loader(yaml.SafeLoader):  # a subclass: mlx-lm patches SafeLoader itself, we leave it alone
        pass

    Loader.add_implicit_resolver("tag:yaml.org,2002:float", _MLX_LM_FLOAT, list("-+0123456789."))
    loaded = yaml.load(YAML_TEXT, Loader=Loader)
    assert loaded == LOADED
    assert isinstance(loaded["lr_schedule"]["arguments"][1], float)


def test_integral_floats_load_as_the_integers_mlx_lm_computes_with() -> None:
    ours = from_mlx_lm_config(LOADED)
    expected = from_mlx_lm_config(
        {"name": "cosine_decay", "warmup": 10, "warmup_init": 1e-7, "arguments": [1e-5, 1000, 1e-7]}
    )
    assert ours == expected
    assert ours == Join((Linear(1e-7, 1e-5, 10), CosineDecay(1e-5, 1000, end_lr=1e-7)), (11,))
    assert ours.to_config() == expected.to_config()  # plain ints in the config, never 1000.0


def test_integral_float_config_equals_mlx_lm_build_schedule_with_the_same_floats() -> None:
    config: dict[str, Any] = LOADED["lr_schedule"]
    steps = np.arange(0, 1_200)
    reference = build_schedule(config, NUMPY_SCHEDULERS)(steps.astype(np.float64))
    np.testing.assert_allclose(from_mlx_lm_config(config)(steps), reference, rtol=1e-12, atol=0)
    theirs = np.array(build_schedule(config, optim.schedulers)(mx.array(steps)))  # mlx itself takes the floats
    ours = np.array(from_mlx_lm_config(config)(mx.array(steps, dtype=mx.uint64)))
    np.testing.assert_allclose(ours, theirs, rtol=2e-6)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"name": "step_decay", "arguments": [0.1, 0.5, 7e2]}, StepDecay(0.1, 700, gamma=0.5)),
        ({"name": "linear_schedule", "arguments": [0.0, 0.1, 1e2]}, Linear(0.0, 0.1, 100)),
        ({"name": "cosine_decay", "arguments": [0.1], "kwargs": {"decay_steps": 5e2}}, CosineDecay(0.1, 500)),
        ({"name": "OneCycle", "arguments": [0.1, 1e3]}, OneCycle(0.1, 1000)),
        ({"name": "OneCycle", "kwargs": {"max_lr": 0.1, "total_steps": 1e3}}, OneCycle(0.1, 1000)),
    ],
)
def test_integral_floats_are_accepted_for_every_step_count(config: dict[str, Any], expected: Any) -> None:
    assert from_mlx_lm_config(config) == expected


def test_join_schedules_boundaries_may_be_integral_floats() -> None:
    join = from_mlx_optimizers(
        "join_schedules", [("linear_schedule", 0.0, 1.0, 4.0), ("cosine_decay", 1.0, 8.0)], [4.0]
    )
    assert join == Join((Linear(0.0, 1.0, 4), CosineDecay(1.0, 8)), (4,))
    assert from_mlx_optimizers("cosine_annealing_warm_restarts", 0.1, 1e1, 2.0) == from_mlx_optimizers(
        "cosine_annealing_warm_restarts", 0.1, 10, 2
    )


@pytest.mark.parametrize(
    ("config", "match"),
    [
        (
            {"name": "cosine_decay", "arguments": [1e-3, 1000.5]},
            r"arguments\[1\] \(decay_steps\) must be an integer, got float 1000.5",
        ),
        (
            {"name": "cosine_decay", "arguments": [1e-3, 10], "warmup": 10.5},
            r"warmup must be an integer, got float 10.5",
        ),
        (
            {"name": "step_decay", "arguments": [1e-3, 0.5], "kwargs": {"step_size": 2.5}},
            r"kwargs\['step_size'\] must be an integer",
        ),
        ({"name": "OneCycle", "arguments": [0.1, 99.5]}, r"OneCycle: total_steps must be an integer, got float 99.5"),
    ],
)
def test_non_integral_floats_still_raise_naming_the_argument(config: dict[str, Any], match: str) -> None:
    with pytest.raises(TypeError, match=match):
        from_mlx_lm_config(config)


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_non_finite_step_counts_still_raise(value: float) -> None:
    with pytest.raises(TypeError, match=r"arguments\[1\] \(decay_steps\) must be an integer"):
        from_mlx_lm_config({"name": "cosine_decay", "arguments": [1e-3, value]})


def test_integral_float_below_one_is_refused_like_an_integer() -> None:
    with pytest.raises(ValueError, match=r"arguments\[1\] \(decay_steps\) must be an integer in \[1, "):
        from_mlx_lm_config({"name": "cosine_decay", "arguments": [1e-3, 0.0]})


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("warmup_steps", "warmup"),
        ("num_warmup_steps", "warmup"),
        ("warmup_iters", "warmup"),
        ("warmup_lr", "warmup_init"),
        ("warmup_start_lr", "warmup_init"),
        ("args", "arguments"),
        ("warmpu", "warmup"),  # no alias: the closest key
        ("argument", "arguments"),
    ],
)
def test_unknown_keys_suggest_the_key_meant(key: str, meant: str) -> None:
    config = {"name": "cosine_decay", "arguments": [1e-3, 10], key: 5}
    with pytest.raises(ValueError, match=rf"unknown key '{key}' \(did you mean '{meant}'\?\); valid keys: name, "):
        from_mlx_lm_config(config)
