"""Configs, equality, hashing, pickling and copying of every schedule."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pytest
from _samples import DECAY_SAMPLES

import mlx_lrsched
from mlx_lrsched import CosineDecay, ExponentialDecay, PerEpoch, from_config

STEPS = np.array([0, 1, 7, 100, 468, 469, 1000, 12_345, 10**6, 10**9])


@pytest.mark.parametrize("name", sorted(DECAY_SAMPLES))
def test_config_round_trips_through_json(name):
    schedule = DECAY_SAMPLES[name]
    config = json.loads(json.dumps(schedule.to_config()))
    rebuilt = from_config(config)
    assert rebuilt == schedule
    assert type(rebuilt) is type(schedule)
    np.testing.assert_array_equal(rebuilt(STEPS), schedule(STEPS))
    assert from_config(schedule.to_json()) == schedule


def test_per_epoch_config_nests_the_inner_schedule():
    schedule = PerEpoch(ExponentialDecay(0.1, 0.9, staircase=True), 100)
    assert schedule.to_config() == {
        "name": "PerEpoch",
        "schedule": {
            "name": "ExponentialDecay",
            "init_lr": 0.1,
            "decay_rate": 0.9,
            "decay_steps": 1,
            "staircase": True,
            "transition_begin": 0,
            "end_lr": None,
        },
        "steps_per_epoch": 100,
    }


@pytest.mark.parametrize("name", sorted(DECAY_SAMPLES))
def test_pickle_copy_hash_and_equality(name):
    schedule = DECAY_SAMPLES[name]
    for clone in (pickle.loads(pickle.dumps(schedule)), copy.copy(schedule), copy.deepcopy(schedule)):
        assert clone == schedule and hash(clone) == hash(schedule)
        np.testing.assert_array_equal(clone(STEPS), schedule(STEPS))


def test_schedules_are_immutable():
    schedule = CosineDecay(0.1, 100)
    with pytest.raises(AttributeError):
        schedule.init_lr = 0.2  # type: ignore[misc]


def test_repr_shows_the_parameters_that_differ_from_their_defaults():
    assert repr(CosineDecay(0.1, 100)) == "CosineDecay(init_lr=0.1, decay_steps=100)"
    assert repr(CosineDecay(0.1, 100, end_lr=1e-3)) == "CosineDecay(init_lr=0.1, decay_steps=100, end_lr=0.001)"


def test_from_config_rejects_unknown_name_listing_valid_ones():
    with pytest.raises(ValueError, match=r"unknown schedule name 'CosineDecy'.*did you mean 'CosineDecay'.*Constant"):
        from_config({"name": "CosineDecy", "init_lr": 0.1})


def test_from_config_rejects_unknown_key_naming_it():
    with pytest.raises(ValueError, match=r"CosineDecay: unknown config key 'warmup'"):
        from_config({"name": "CosineDecay", "init_lr": 0.1, "decay_steps": 10, "warmup": 5})


def test_from_config_rejects_missing_required_key_naming_it():
    with pytest.raises(ValueError, match=r"CosineDecay: config is missing the required key 'decay_steps'"):
        from_config({"name": "CosineDecay", "init_lr": 0.1})


@pytest.mark.parametrize("config", [{"init_lr": 0.1}, [1, 2], "not json", 3])
def test_from_config_rejects_malformed_configs(config):
    with pytest.raises((ValueError, TypeError)):
        from_config(config)


def test_from_config_runs_constructor_validation():
    with pytest.raises(ValueError, match="CosineDecay: decay_steps"):
        from_config({"name": "CosineDecay", "init_lr": 0.1, "decay_steps": -1})


def test_every_exported_schedule_is_registered():
    exported = {
        name
        for name in mlx_lrsched.__all__
        if isinstance(getattr(mlx_lrsched, name), type) and issubclass(getattr(mlx_lrsched, name), mlx_lrsched.Schedule)
    }
    assert exported - {"Schedule"} <= set(mlx_lrsched.schedule_names())
