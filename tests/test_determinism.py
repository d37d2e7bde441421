"""Determinism: every schedule survives pickling, copying and a config round trip unchanged, and a training
run resumed from a checkpoint of ``optimizer.state`` uses the bitwise-identical learning-rate sequence."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import STATEFUL, any_schedule, public_schedule_names, schedule_strategy

from mlx_lrsched.base import Schedule, from_config
from mlx_lrsched.compose import Join
from mlx_lrsched.cyclic import CosineRestarts, CyclicLR
from mlx_lrsched.decay import CosineDecay, ExponentialDecay
from mlx_lrsched.one_cycle import OneCycle
from mlx_lrsched.warmup import Warmup

mx = pytest.importorskip("mlx.core")
optim = pytest.importorskip("mlx.optimizers")
nn = pytest.importorskip("mlx.nn")
from mlx.utils import tree_flatten, tree_unflatten  # noqa: E402

NAMES = public_schedule_names()
STEPS = [0, 1, 2, 3, 10, 99, 100, 1000, 12_345, 10**6, 10**9, 2**40, 2**62, 2**63 - 1]
few = settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def assert_same_values(clone: Schedule, schedule: Schedule) -> None:
    np.testing.assert_array_equal(clone(np.array(STEPS, dtype=np.int64)), schedule(np.array(STEPS, dtype=np.int64)))
    np.testing.assert_array_equal(
        np.array(clone(mx.array(STEPS, dtype=mx.uint64))), np.array(schedule(mx.array(STEPS, dtype=mx.uint64)))
    )


@pytest.mark.parametrize("name", NAMES)
@few
@given(data=st.data())
def test_pickle_and_copies_are_equal_and_give_the_same_values(name, data):
    schedule = data.draw(schedule_strategy(name))
    for clone in (pickle.loads(pickle.dumps(schedule)), copy.copy(schedule), copy.deepcopy(schedule)):
        assert type(clone) is type(schedule)
        assert clone == schedule and hash(clone) == hash(schedule)
        assert_same_values(clone, schedule)


@pytest.mark.parametrize("name", NAMES)
@few
@given(data=st.data())
def test_config_round_trips_through_json(name, data):
    schedule = data.draw(schedule_strategy(name))
    config = schedule.to_config()
    assert json.loads(json.dumps(config)) == config  # plain JSON, nothing lost
    rebuilt = from_config(json.loads(json.dumps(config)))
    assert rebuilt == schedule and type(rebuilt) is type(schedule) and hash(rebuilt) == hash(schedule)
    assert from_config(schedule.to_json()) == schedule
    assert rebuilt.to_config() == config
    assert_same_values(rebuilt, schedule)


@pytest.mark.parametrize("name", NAMES)
@few
@given(data=st.data())
def test_equal_configs_build_equal_schedules_and_changed_ones_differ(name, data):
    schedule = data.draw(schedule_strategy(name))
    other = data.draw(schedule_strategy(name))
    assert schedule == from_config(schedule.to_config())
    assert (schedule == other) == (schedule.to_config() == other.to_config())


@pytest.mark.parametrize("name", sorted(set(NAMES) - STATEFUL))
@settings(max_examples=5, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_repeated_calls_are_bitwise_identical(name, data):
    schedule = data.draw(schedule_strategy(name))
    first = np.array(schedule(mx.array(STEPS, dtype=mx.uint64)))
    reference = schedule(np.array(STEPS, dtype=np.int64))
    for _ in range(2):
        np.testing.assert_array_equal(np.array(schedule(mx.array(STEPS, dtype=mx.uint64))), first)
        np.testing.assert_array_equal(schedule(np.array(STEPS, dtype=np.int64)), reference)


# ------------------------------------------------------------------------------------- resumed training

UPDATES, CHECKPOINT = 24, 11


def run(schedule: Schedule, make_optimizer, updates: range, state_file: Path | None = None, save_at: int = -1):
    """Train a tiny model for ``updates``; return the learning rate each update used (float32 bytes)."""
    mx.random.seed(0)
    model = nn.Linear(3, 2)
    optimizer = make_optimizer(schedule)
    if state_file is not None and save_at < 0:  # resume: a fresh optimizer, state loaded from disk
        optimizer.init(model.trainable_parameters())
        optimizer.state = tree_unflatten(list(mx.load(str(state_file)).items()))
    x = mx.arange(6, dtype=mx.float32).reshape(2, 3) / 6

    def loss_fn(m):
        return (m(x) ** 2).sum()

    used = []
    for update in updates:
        _, grads = nn.value_and_grad(model, loss_fn)(model)
        optimizer.update(model, grads)
        mx.eval(model.parameters(), optimizer.state)
        used.append(np.array(optimizer.learning_rate).astype(np.float32).tobytes())
        if update == save_at and state_file is not None:
            mx.save_safetensors(str(state_file), dict(tree_flatten(optimizer.state)))
    return used


OPTIMIZERS = {
    "SGD": lambda lr: optim.SGD(learning_rate=lr, momentum=0.9),
    "Adam": lambda lr: optim.Adam(learning_rate=lr),
    "AdamW": lambda lr: optim.AdamW(learning_rate=lr),
}

RESUME_SCHEDULES = [
    Warmup(CosineDecay(0.1, 13), warmup_steps=5),
    OneCycle(0.1, total_steps=20, pct_start=0.25),
    CyclicLR(0.01, 0.1, step_size_up=3, mode="exp_range", gamma=0.97, window="hann"),
    Join([ExponentialDecay(0.1, 0.9), CosineRestarts(0.05, 4, t_mult=2, m_mul=0.5)], boundaries=[CHECKPOINT + 1]),
]


def assert_resume_is_bitwise_identical(schedule: Schedule, make_optimizer, tmp_path: Path) -> None:
    uninterrupted = run(schedule, make_optimizer, range(UPDATES))
    state_file = tmp_path / "optimizer.safetensors"
    first = run(schedule, make_optimizer, range(CHECKPOINT + 1), state_file, save_at=CHECKPOINT)
    rebuilt = from_config(json.loads(schedule.to_json()))  # as a new process would
    second = run(rebuilt, make_optimizer, range(CHECKPOINT + 1, UPDATES), state_file)
    assert first + second == uninterrupted


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("schedule", RESUME_SCHEDULES, ids=lambda s: type(s).__name__)
def test_resumed_training_uses_the_bitwise_identical_rate_sequence(schedule, optimizer, tmp_path):
    assert_resume_is_bitwise_identical(schedule, OPTIMIZERS[optimizer], tmp_path)


@settings(max_examples=5, suppress_health_check=list(HealthCheck))
@given(schedule=any_schedule(depth=1))
def test_resumed_training_is_bitwise_identical_for_random_schedules(schedule, tmp_path_factory):
    assert_resume_is_bitwise_identical(schedule, OPTIMIZERS["Adam"], tmp_path_factory.mktemp("resume"))


def test_the_resume_check_detects_a_shifted_step(tmp_path):
    # The oracle of the two tests above: restoring without the step counter changes the sequence.
    schedule = RESUME_SCHEDULES[0]
    uninterrupted = run(schedule, OPTIMIZERS["Adam"], range(UPDATES))
    state_file = tmp_path / "optimizer.safetensors"
    first = run(schedule, OPTIMIZERS["Adam"], range(CHECKPOINT + 1), state_file, save_at=CHECKPOINT)
    state = dict(mx.load(str(state_file)))
    state["step"] = mx.array(0, dtype=mx.uint64)
    mx.save_safetensors(str(state_file), state)
    second = run(schedule, OPTIMIZERS["Adam"], range(CHECKPOINT + 1, UPDATES), state_file)
    assert first + second != uninterrupted
