"""``from_torch`` against PyTorch 2.13.0's ``torch.optim.lr_scheduler``, stepped for real, on both backends.

Our step ``k`` must be PyTorch's rate after ``k`` calls of ``scheduler.step()``: to 1e-6 on the NumPy backend and 4e-6
in MLX float32, relative to ``max(|peer|, 1e-6 * peak)`` (tests/_translation.py).

* Marked ``peers`` (they skip without torch, run in the default run where torch is installed, and with
  ``/tmp/pv/bin/python -m pytest tests/test_from_torch.py -m peers -q``): seeded random configurations of every
  scheduler (tests/_peer_configs.py, and generators here for SequentialLR, ChainedScheduler and resumed runs), every
  step of whole runs and a few past the end, the momentum PyTorch cycles (SGD's momentum and Adam's beta1), and every
  builder's defaults pinned against the PyTorch class's signature. The worst errors per scheduler and backend are
  printed in the terminal summary (and written to ``from_torch_errors.md`` in pytest's base temporary directory).
* Unmarked: PyTorch's own test targets (``test/optim/test_lrscheduler.py``: CyclicLR's eleven cases and OneCycleLR's,
  with momenta scaled into [0, 1]), hand-computed points with the source line they follow, the deliberate
  differences, refusals and their messages, configs, both backends and kernel counts.
"""

from __future__ import annotations

import inspect
import math
import random
from typing import Any

import _peers as peers
import numpy as np
import pytest
from _peer_configs import CONFIGS, EDGE_CONFIGS, PLATEAU_CONFIGS, plateau_metrics, run_steps, torch_momentum_kind
from _translation import Table, assert_one_line_error, assert_round_trips, backend_values, plateau_values
from test_kernels import compiled_kernels

from mlx_lrsched import (
    Constant,
    CosineDecay,
    CosineRestarts,
    CyclicLR,
    ExponentialDecay,
    Join,
    MultiStepDecay,
    OneCycle,
    Product,
    ReduceOnPlateau,
    Schedule,
    Shift,
    StepDecay,
    apply_schedule,
    from_config,
)
from mlx_lrsched.peers import from_torch
from mlx_lrsched.peers.pytorch import CHAIN_PARTS, SEQUENCE_PARTS, TRANSLATOR

mx = pytest.importorskip("mlx.core")
optim = pytest.importorskip("mlx.optimizers")

TABLE = Table("from_torch vs PyTorch 2.13.0", "from_torch_errors.md", "PyTorch")
_report = TABLE.fixture()

DRAWS = 60
"""Random configurations per scheduler (and per composition)."""


def _torch() -> Any:
    return peers._require("torch")


def _scheduler(name: str) -> Any:
    return getattr(_torch().optim.lr_scheduler, name)


def _translate(name: str, config: dict[str, Any]) -> Schedule:
    return from_torch(name, **config)


def _compared(name: str, config: dict[str, Any], steps: int) -> np.ndarray:
    """The steps PyTorch and we agree on by design: all but the deliberate differences past the end."""
    k = np.arange(steps)
    if name == "CosineAnnealingLR":  # PyTorch follows the cosine back up after T_max: we hold eta_min
        return k <= config["T_max"]
    if name == "OneCycleLR":  # step total_steps is PyTorch's extrapolation of the last phase: we hold
        total = config.get("total_steps") or config["epochs"] * config["steps_per_epoch"]
        return k < total
    return np.ones(steps, dtype=bool)


def _refusal(name: str, config: dict[str, Any]) -> str | None:
    """The refusal a configuration must meet (a pattern of its message), or None."""
    if config.get("scale_fn") is not None:  # a Python function: refused, with the way to compose it
        return r"scale_fn is a Python function.*Product"
    if name == "OneCycleLR" and config.get("three_phase") and config["pct_start"] > 0.5:
        return r"never reaches the third"  # PyTorch's overlapping phases (EDGE_CONFIGS)
    return None


def _assert_holds_past_the_end(name: str, config: dict[str, Any], schedule: Schedule, steps: int) -> None:
    ours = schedule(np.arange(steps + 20))
    if name == "CosineAnnealingLR":
        assert np.all(ours[config["T_max"] :] == config.get("eta_min", 0.0))
    if name == "OneCycleLR":
        total = config.get("total_steps") or config["epochs"] * config["steps_per_epoch"]
        assert np.all(ours[total - 1 :] == ours[total - 1])


# =====================================================================================================================
# Layer 1: random configurations against PyTorch stepped for real
# =====================================================================================================================

NAMES = sorted(CONFIGS["torch"])


@pytest.mark.peers
@pytest.mark.parametrize("name", NAMES)
def test_random_configs_match_pytorch_at_every_step(name: str) -> None:
    rng = random.Random(f"from_torch/{name}")
    configs = [CONFIGS["torch"][name](rng) for _ in range(DRAWS)] + EDGE_CONFIGS["torch"].get(name, [])
    for config in configs:
        if TABLE.refused(name, _refusal(name, config), _translate, name, config):
            continue
        steps = run_steps("torch", name, config)
        expected = peers.peer_values("torch", name, config, steps)
        schedule = _translate(name, config)
        TABLE.check(name, schedule, expected, _compared(name, config, steps), what=f"{config}")
        _assert_holds_past_the_end(name, config, schedule, steps)


@pytest.mark.peers
@pytest.mark.parametrize("name", ["CyclicLR", "OneCycleLR"])
def test_momentum_matches_pytorch_on_sgd_momentum_and_adam_beta1(name: str) -> None:
    rng = random.Random(f"from_torch/momentum/{name}")
    draws = 0
    while draws < DRAWS:
        config = CONFIGS["torch"][name](rng)
        if not config["cycle_momentum"] or config.get("scale_fn") is not None:
            continue
        draws += 1
        kind = torch_momentum_kind(draws)
        steps = run_steps("torch", name, config)
        kwargs = {key: value for key, value in config.items() if key != "lr"}
        cls = _scheduler(name)
        rates, momenta = peers.torch_rates(lambda opt, kw=kwargs, c=cls: c(opt, **kw), config["lr"], steps, kind)
        schedule = _translate(name, config)
        assert schedule.momentum_schedule is not None
        compared = _compared(name, config, steps)
        TABLE.check(f"{name} momentum ({kind})", schedule.momentum_schedule, momenta, compared, what=f"{config}")
        TABLE.check(f"{name} (runs with momentum)", schedule, rates, compared, what=f"{config}")


def _lr(rng: random.Random) -> float:
    return 10 ** rng.uniform(-4, 0)


def _part(rng: random.Random, name: str) -> dict[str, Any]:
    """A random configuration of a part, without the optimizer's lr (the parent's), momentum or a scale_fn."""
    config = CONFIGS["torch"][name](rng)
    for key in ("lr", "scale_fn"):
        config.pop(key, None)
    if "cycle_momentum" in config:
        config["cycle_momentum"] = False  # a sequence carries no momentum schedule (refused: see below)
    return config


def _one_cycle_total(config: dict[str, Any]) -> int:
    return int(config.get("total_steps") or config["epochs"] * config["steps_per_epoch"])


def _part_end(name: str, config: dict[str, Any]) -> int | None:
    """Steps of a part that PyTorch and we agree on (None: all): the deliberate differences past its end."""
    if name == "CosineAnnealingLR":
        return int(config["T_max"]) + 1
    if name == "OneCycleLR":
        return _one_cycle_total(config)
    return None


def _sequence(rng: random.Random) -> tuple[float, list[tuple[str, dict[str, Any]]], list[int], int, np.ndarray]:
    """A random SequentialLR: its lr, parts, milestones (repeats and 0 included), run length and compared steps."""
    count = rng.randint(1, 4)
    names = [rng.choice(SEQUENCE_PARTS) for _ in range(count)]
    while names.count("OneCycleLR") > 1:  # PyTorch's OneCycleLRs share the group's keys: refused, tested below
        names[names.index("OneCycleLR")] = "StepLR"
    parts = [(name, _part(rng, name)) for name in names]
    milestones, start, lengths = [], 0, []
    for index, (name, config) in enumerate(parts):
        if index == len(parts) - 1:
            length = 40
        else:
            length = rng.choice([0, rng.randint(1, 40)]) if rng.random() < 0.8 else rng.randint(1, 5)
        if name == "OneCycleLR":  # PyTorch raises past total_steps
            length = min(length, _one_cycle_total(config) + 1)
        lengths.append(length)
        start += length
        if index < len(parts) - 1:
            milestones.append(start)
    compared = np.ones(start, dtype=bool)
    begin = 0
    for (name, config), length in zip(parts, lengths, strict=True):
        end = _part_end(name, config)
        if end is not None and length > end:
            compared[begin + end : begin + length] = False
        begin += length
    return _lr(rng), parts, milestones, start, compared


def _torch_parts(optimizer: Any, parts: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """The parts constructed in order on one optimizer, as a PyTorch user writes them (nested chains too)."""
    built = []
    for name, kwargs in parts:
        if name == "ChainedScheduler":
            built.append(_scheduler(name)(_torch_parts(optimizer, kwargs["schedulers"])))
        else:
            built.append(_scheduler(name)(optimizer, **kwargs))
    return built


def torch_sequence(lr: float, parts: list[tuple[str, dict[str, Any]]], milestones: list[int], steps: int) -> Any:
    make = lambda opt: _scheduler("SequentialLR")(opt, _torch_parts(opt, parts), milestones)  # noqa: E731
    return peers.torch_rates(make, lr, steps)


def torch_chain(lr: float, parts: list[tuple[str, dict[str, Any]]], steps: int) -> Any:
    make = lambda opt: _scheduler("ChainedScheduler")(_torch_parts(opt, parts))  # noqa: E731
    return peers.torch_rates(make, lr, steps)


@pytest.mark.peers
def test_random_sequences_of_mixed_parts_match_pytorch() -> None:
    """SequentialLR restarts part i at its own step 0 at milestones[i - 1], with PyTorch's base rates."""
    rng = random.Random("from_torch/SequentialLR")
    for _ in range(DRAWS):
        lr, parts, milestones, steps, compared = _sequence(rng)
        expected = torch_sequence(lr, parts, milestones, steps)
        schedule = from_torch("SequentialLR", lr=lr, schedulers=parts, milestones=milestones)
        TABLE.check("SequentialLR", schedule, expected, compared, what=f"lr={lr}, {parts}, {milestones}")


SEQUENCE_QUIRKS = [
    # CyclicLR first: its constructor sets the group's lr, which becomes the initial_lr of the parts after it
    (0.1, [("CyclicLR", {"base_lr": 0.01, "max_lr": 0.05, "step_size_up": 3, "cycle_momentum": False}),
           ("StepLR", {"step_size": 3, "gamma": 0.5})], [10]),
    # OneCycleLR overwrites the group's initial_lr: the parts constructed after it start from max_lr / div_factor,
    # the part of step 0 from the group's final initial_lr
    (0.1, [("StepLR", {"step_size": 3, "gamma": 0.5}),
           ("OneCycleLR", {"max_lr": 0.5, "total_steps": 20, "cycle_momentum": False}),
           ("ExponentialLR", {"gamma": 0.9})], [6, 15]),
    (0.1, [("LinearLR", {"start_factor": 0.5, "total_iters": 4}),
           ("OneCycleLR", {"max_lr": 0.5, "total_steps": 20, "cycle_momentum": False}),
           ("LinearLR", {"start_factor": 0.5, "total_iters": 4})], [0, 10]),
    # milestone 0 skips the first part; ConstantLR(total_iters=0) entered at a milestone is its base rate
    (0.1, [("StepLR", {"step_size": 3, "gamma": 0.5}), ("ExponentialLR", {"gamma": 0.9}),
           ("ConstantLR", {"factor": 0.5, "total_iters": 0})], [0, 7]),
    # a repeated milestone skips the part between; ConstantLR(total_iters=0) of step 0 keeps its factor
    (0.1, [("ConstantLR", {"factor": 0.5, "total_iters": 0}), ("ExponentialLR", {"gamma": 0.9}),
           ("MultiStepLR", {"milestones": [0, 2, 2], "gamma": 0.5})], [4, 4]),
    (0.1, [("ExponentialLR", {"gamma": 0.9}), ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2}),
           ("PolynomialLR", {"total_iters": 4, "power": 2.0})], [4, 20]),
]  # fmt: skip


@pytest.mark.peers
@pytest.mark.parametrize(("lr", "parts", "milestones"), SEQUENCE_QUIRKS)
def test_sequences_follow_pytorchs_base_rates(lr: float, parts: Any, milestones: list[int]) -> None:
    steps = max(milestones) + 25
    expected = torch_sequence(lr, parts, milestones, steps)
    schedule = from_torch("SequentialLR", lr=lr, schedulers=parts, milestones=milestones)
    TABLE.check("SequentialLR (base-rate cases)", schedule, expected, what=f"{parts}, {milestones}")


def _chain(rng: random.Random, depth: int = 0) -> list[tuple[str, dict[str, Any]]]:
    names = [rng.choice(CHAIN_PARTS[:-1] if depth else CHAIN_PARTS) for _ in range(rng.randint(1, 3))]
    parts = []
    for name in names:
        if name == "ChainedScheduler":
            parts.append((name, {"schedulers": _chain(rng, depth + 1)}))
            continue
        config = _part(rng, name)
        if name == "CosineAnnealingLR":
            config["eta_min"] = 0.0  # with eta_min > 0 its update is affine: refused, tested below
        parts.append((name, config))
    return parts


def _chain_end(parts: list[tuple[str, dict[str, Any]]]) -> int | None:
    """Where the product stops matching: PyTorch's CosineAnnealingLR adds an unscaled term at T_max + 1."""
    ends = []
    for name, config in parts:
        end = _chain_end(config["schedulers"]) if name == "ChainedScheduler" else _part_end(name, config)
        if end is not None:
            ends.append(end)
    return min(ends, default=None)


@pytest.mark.peers
def test_random_chains_are_the_product_of_pytorchs_factors() -> None:
    rng = random.Random("from_torch/ChainedScheduler")
    for _ in range(DRAWS):
        lr, parts, steps = _lr(rng), _chain(rng), 130
        expected = torch_chain(lr, parts, steps)
        schedule = from_torch("ChainedScheduler", lr=lr, schedulers=parts)
        end = _chain_end(parts)
        compared = np.arange(steps) < (steps if end is None else end)
        TABLE.check("ChainedScheduler", schedule, expected, compared, what=f"lr={lr}, {parts}")


@pytest.mark.peers
def test_reduce_lr_on_plateau_matches_pytorch_after_every_metric() -> None:
    rng = random.Random("from_torch/ReduceLROnPlateau")
    for _ in range(DRAWS):
        config = PLATEAU_CONFIGS["torch"]["ReduceLROnPlateau"](rng)
        metrics = plateau_metrics(rng, 60)
        expected = peers.torch_plateau_rates(metrics=metrics, **config)
        schedule = from_torch("ReduceLROnPlateau", **config)
        assert isinstance(schedule, ReduceOnPlateau)
        got = plateau_values(schedule, metrics, 0)
        TABLE.check_values("ReduceLROnPlateau", got, expected, what=f"{config}, metrics {metrics}")


@pytest.mark.peers
@pytest.mark.parametrize("name", ["CyclicLR", "OneCycleLR"])
def test_resumed_runs_are_shifted_by_last_epoch_plus_one(name: str) -> None:
    """PyTorch computes these two from last_epoch alone: resumed at N, the constructor's step puts it at N + 1."""
    rng = random.Random(f"from_torch/resumed/{name}")
    cls = _scheduler(name)
    for _ in range(DRAWS):
        config = _part(rng, name)
        lr = _lr(rng)
        steps = run_steps("torch", name, {**config, "lr": lr})
        if name == "OneCycleLR":
            steps = _one_cycle_total(config)  # PyTorch raises past total_steps
        resume = rng.randint(0, steps - 2)

        def make(optimizer: Any, kw: dict[str, Any] = config, n: int = resume) -> Any:
            cls(optimizer, **kw)  # the run being resumed: it leaves initial_lr (and max_lr, min_lr) in the group
            return cls(optimizer, last_epoch=n, **kw)

        expected = peers.torch_rates(make, lr, steps - resume - 1)
        schedule = from_torch(name, **config, last_epoch=resume)
        assert schedule == Shift(from_torch(name, **config), resume + 1)
        TABLE.check(f"{name} resumed (last_epoch)", schedule, expected, what=f"{config}, last_epoch={resume}")


@pytest.mark.peers
@pytest.mark.parametrize("name", TRANSLATOR.names)
def test_builder_defaults_are_pytorchs(name: str) -> None:
    torch_parameters = dict(inspect.signature(_scheduler(name)).parameters)
    if name != "ChainedScheduler":  # its optimizer is an optional keyword (None): kept, and refused unless None
        del torch_parameters["optimizer"]
    ours = TRANSLATOR.signature(name).parameters
    assert set(ours) - set(torch_parameters) <= {"lr"}, name
    assert set(torch_parameters) <= set(ours), name
    for key, parameter in torch_parameters.items():
        assert ours[key].default == parameter.default, f"{name}.{key}: ours {ours[key].default!r}"


def test_every_pytorch_scheduler_has_a_builder() -> None:
    names = set(_torch().optim.lr_scheduler.__all__) - {"LRScheduler"}
    assert names == set(TRANSLATOR.names)


# =====================================================================================================================
# Layer 2: PyTorch's own test targets (test/optim/test_lrscheduler.py), with torch stepped for real beside them
# =====================================================================================================================

MOMENTUM_SCALE = 1 / 20
"""PyTorch's CyclicLR tests cycle the momentum between 1 and 12, ours must stay in [0, 1]: the targets are linear in
the momenta, so both are scaled by 1/20 (the largest, 12, becomes 0.6)."""

_XS = [0, 0.25, 0.5, 0.75, 1, 0.75, 0.50, 0.25, 0, 0.25, 0.5, 0.75, 1]
_XS_UP_DOWN = [0.0, 0.5, 1.0, 5.0 / 6, 4.0 / 6, 3.0 / 6, 2.0 / 6, 1.0 / 6, 0.0, 0.5, 1.0, 5.0 / 6, 4.0 / 6]
_TRIANGLE = [1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3]
_TRIANGLE_M = [5, 4, 3, 2, 1, 2, 3, 4, 5, 4, 3]
_TRIANGLE2 = [1, 2, 3, 4, 5, 4, 3, 2, 1, 1.5, 2.0, 2.5, 3.0, 2.5, 2.0, 1.5, 1, 1.25, 1.50, 1.75, 2.00, 1.75]
_TRIANGLE2_M = [5.0, 4.0, 3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 5.0, 4.5, 4.0, 3.5, 3.0, 3.5, 4.0, 4.5, 5.0, 4.75, 4.5, 4.25,
                4.0, 4.25]  # fmt: skip
_UP_DOWN = [1.0, 2.0, 3.0, 4.0, 5.0, 13.0 / 3, 11.0 / 3, 9.0 / 3, 7.0 / 3, 5.0 / 3, 1.0]
_UP_DOWN_M = [5.0, 4.0, 3.0, 2.0, 1.0, 5.0 / 3, 7.0 / 3, 3.0, 11.0 / 3, 13.0 / 3, 5.0]
_TRIANGLE2_UP_DOWN = [1.0, 3.0, 5.0, 13.0 / 3, 11.0 / 3, 9.0 / 3, 7.0 / 3, 5.0 / 3, 1.0, 2.0, 3.0, 8.0 / 3,
                      7.0 / 3, 6.0 / 3, 5.0 / 3, 4.0 / 3, 1.0, 3.0 / 2, 2.0, 11.0 / 6, 10.0 / 6, 9.0 / 6, 8.0 / 6,
                      7.0 / 6]  # fmt: skip
_TRIANGLE2_UP_DOWN_M = [5.0, 3.0, 1.0, 5.0 / 3, 7.0 / 3, 3.0, 11.0 / 3, 13.0 / 3, 5.0, 4.0, 3.0, 10.0 / 3,
                        11.0 / 3, 4.0, 13.0 / 3, 14.0 / 3, 5.0, 4.5, 4.0, 25.0 / 6, 13.0 / 3, 4.5, 14.0 / 3,
                        29.0 / 6]  # fmt: skip


def _exp(base: float, top: float, xs: list[float], sign: int) -> list[float]:
    """``base + x * (top - base) * 0.9**i`` (sign +1, the rate) or ``top - ...`` (sign -1, the momentum)."""
    start = base if sign > 0 else top
    return [start + sign * x * (top - base) * 0.9**i for i, x in enumerate(xs)]


def _shift(values: list[float], delta: float) -> list[float]:
    return [value + delta for value in values]


# (test name, CyclicLR kwargs per parameter group, lr targets per group, momentum targets per group or None, Adam)
CYCLIC_CASES: list[tuple[str, list[dict[str, Any]], list[list[float]], list[list[float]] | None, bool]] = [
    ("triangular_mode_one_lr", [{"base_lr": 1, "max_lr": 5, "step_size_up": 4, "base_momentum": 1,
     "max_momentum": 5}], [_TRIANGLE], [_TRIANGLE_M], False),
    ("triangular_mode_one_lr_no_momentum", [{"base_lr": 1, "max_lr": 5, "step_size_up": 4,
     "cycle_momentum": False}], [_TRIANGLE], None, False),
    ("triangular2_mode_one_lr", [{"base_lr": 1, "max_lr": 5, "step_size_up": 4, "base_momentum": 1,
     "max_momentum": 5, "mode": "triangular2"}], [_TRIANGLE2], [_TRIANGLE2_M], False),
    ("exp_range_mode_one_lr", [{"base_lr": 1, "max_lr": 5, "step_size_up": 4, "base_momentum": 1,
     "max_momentum": 5, "mode": "exp_range", "gamma": 0.9}], [_exp(1, 5, _XS, 1)], [_exp(1, 5, _XS, -1)], False),
    ("triangular_mode", [{"base_lr": b, "max_lr": b + 4, "step_size_up": 4, "base_momentum": b,
     "max_momentum": b + 4} for b in (1, 2)], [_TRIANGLE, _shift(_TRIANGLE, 1)],
     [_TRIANGLE_M, _shift(_TRIANGLE_M, 1)], False),
    ("triangular2_mode", [{"base_lr": b, "max_lr": b + 4, "step_size_up": 4, "base_momentum": b,
     "max_momentum": b + 4, "mode": "triangular2"} for b in (1, 3)], [_TRIANGLE2, _shift(_TRIANGLE2, 2)],
     [_TRIANGLE2_M, _shift(_TRIANGLE2_M, 2)], False),
    ("exp_range_mode", [{"base_lr": b, "max_lr": t, "step_size_up": 4, "base_momentum": b, "max_momentum": t,
     "mode": "exp_range", "gamma": 0.9} for b, t in ((1, 5), (5, 12))],
     [_exp(1, 5, _XS, 1), _exp(5, 12, _XS, 1)], [_exp(1, 5, _XS, -1), _exp(5, 12, _XS, -1)], False),
    ("triangular_mode_step_size_up_down", [{"base_lr": 1, "max_lr": 5, "step_size_up": 4, "step_size_down": 6,
     "base_momentum": 1, "max_momentum": 5}], [_UP_DOWN], [_UP_DOWN_M], False),
    ("triangular2_mode_step_size_up_down", [{"base_lr": 1 + d, "max_lr": 5 + d, "step_size_up": 2,
     "step_size_down": 6, "base_momentum": 1 + d, "max_momentum": 5 + d, "mode": "triangular2"} for d in (0, 2)],
     [_TRIANGLE2_UP_DOWN, _shift(_TRIANGLE2_UP_DOWN, 2)], [_TRIANGLE2_UP_DOWN_M, _shift(_TRIANGLE2_UP_DOWN_M, 2)],
     False),
    ("exp_range_mode_step_size_up_down", [{"base_lr": 1, "max_lr": 5, "step_size_up": 2, "step_size_down": 6,
     "base_momentum": 1, "max_momentum": 5, "mode": "exp_range", "gamma": 0.9}], [_exp(1, 5, _XS_UP_DOWN, 1)],
     [_exp(1, 5, _XS_UP_DOWN, -1)], False),
    ("with_momentumless_optimizer", [{"base_lr": 1, "max_lr": 5, "step_size_up": 4, "cycle_momentum": False}],
     [_TRIANGLE], None, True),
]  # fmt: skip
"""PyTorch's test_cycle_lr_* cases (test/optim/test_lrscheduler.py), targets as written there (momenta unscaled)."""


def _scaled(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v * MOMENTUM_SCALE if k in ("base_momentum", "max_momentum") else v for k, v in kwargs.items()}


def _torch_groups(name: str, groups: list[dict[str, Any]], steps: int, adam: bool) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's scheduler on an optimizer with one parameter group per entry of ``groups`` (list arguments):
    each group's rate and momentum (or beta1) after 0, 1, ... calls of ``step()``."""
    torch = _torch()
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))]} for _ in groups]
    optimizer = torch.optim.Adam(params, lr=0.05) if adam else torch.optim.SGD(params, lr=0.05, momentum=0.9)
    lists = ("base_lr", "max_lr", "base_momentum", "max_momentum")
    kwargs = {key: [group[key] for group in groups] if key in lists else value
              for key, value in groups[0].items()}  # fmt: skip
    scheduler = _scheduler(name)(optimizer, **kwargs)
    rates, momenta = [], []
    for _ in range(steps):
        rates.append([group["lr"] for group in optimizer.param_groups])
        momenta.append([g["betas"][0] if adam else g["momentum"] for g in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return np.asarray(rates).T, np.asarray(momenta).T


@pytest.mark.parametrize("case", CYCLIC_CASES, ids=[case[0] for case in CYCLIC_CASES])
def test_pytorchs_cyclic_lr_targets(case: Any) -> None:
    """Each parameter group is its own translation; its rate and momentum hit PyTorch's targets and PyTorch's run."""
    test_name, groups, lr_targets, momentum_targets, adam = case
    steps = len(lr_targets[0])
    torch_rates, torch_momenta = _torch_groups("CyclicLR", [_scaled(g) for g in groups], steps, adam)
    for index, group in enumerate(groups):
        schedule = from_torch("CyclicLR", **_scaled(group))
        TABLE.check("CyclicLR (PyTorch's tests)", schedule, lr_targets[index], what=test_name)
        TABLE.check("CyclicLR (PyTorch's tests)", schedule, torch_rates[index], what=f"{test_name}, PyTorch")
        if momentum_targets is None:  # the optimizer's own momentum is left alone
            assert schedule.momentum_schedule is None
            assert np.all(torch_momenta[index] == 0.9)
            continue
        momentum = schedule.momentum_schedule
        assert momentum is not None
        targets = np.asarray(momentum_targets[index]) * MOMENTUM_SCALE
        TABLE.check("CyclicLR momentum (PyTorch's tests)", momentum, targets, what=test_name)
        TABLE.check("CyclicLR momentum (PyTorch's tests)", momentum, torch_momenta[index], what=f"{test_name}, PyTorch")


def test_cycle_momentum_needs_an_optimizer_with_momentum() -> None:
    """PyTorch's test_cycle_lr_cycle_momentum_fail_with_momentumless_optimizer: its constructor raises; here
    apply_schedule does, before it changes anything."""
    schedule = from_torch("CyclicLR", base_lr=1, max_lr=5, cycle_momentum=True)
    optimizer = optim.Adagrad(learning_rate=0.1)
    with pytest.raises(TypeError, match="neither `momentum` nor `betas`"):
        apply_schedule(optimizer, schedule)
    with pytest.raises(ValueError, match="optimizer must support momentum"):
        _scheduler("CyclicLR")(_torch().optim.Adagrad([_torch().nn.Parameter(_torch().zeros(1))]), base_lr=1, max_lr=5)


def _anneal_cos(start: float, end: float, pct: float) -> float:
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


ONE_CYCLE_CASES = [
    ("linear_annealing", {"max_lr": 25, "final_div_factor": 2, "base_momentum": 1, "max_momentum": 22,
     "total_steps": 10, "anneal_strategy": "linear"}, [1, 13, 25, 21.5, 18, 14.5, 11, 7.5, 4, 0.5],
     [22, 11.5, 1, 4, 7, 10, 13, 16, 19, 22], False),
    ("linear_annealing_three_phases", {"max_lr": 25, "div_factor": 25, "base_momentum": 1, "max_momentum": 22,
     "total_steps": 10, "anneal_strategy": "linear", "pct_start": 0.4, "final_div_factor": 4, "three_phase": True},
     [1, 9, 17, 25, 17, 9, 1, 0.75, 0.5, 0.25], [22, 15, 8, 1, 8, 15, 22, 22, 22, 22], False),
    ("cosine_annealing", {"max_lr": 25, "final_div_factor": 2, "base_momentum": 1, "max_momentum": 22,
     "total_steps": 10}, [1, 13, 25, *(_anneal_cos(25, 0.5, i / 7.0) for i in range(1, 7)), 0.5],
     [22, 11.5, 1, *(_anneal_cos(1, 22, i / 7.0) for i in range(1, 7)), 22], False),
    ("cycle_lr_with_adam", {"max_lr": 25, "final_div_factor": 2, "base_momentum": 1, "max_momentum": 22,
     "total_steps": 10, "anneal_strategy": "linear"}, [1, 13, 25, 21.5, 18, 14.5, 11, 7.5, 4, 0.5],
     [22, 11.5, 1, 4, 7, 10, 13, 16, 19, 22], True),
]  # fmt: skip
"""PyTorch's test_onecycle_lr_* and test_cycle_lr_with_adam (momenta 1..22, scaled here by 1/40)."""


@pytest.mark.parametrize("case", ONE_CYCLE_CASES, ids=[case[0] for case in ONE_CYCLE_CASES])
def test_pytorchs_one_cycle_targets(case: Any) -> None:
    test_name, kwargs, lr_target, momentum_target, adam = case
    scaled = {k: v / 40 if k in ("base_momentum", "max_momentum") else v for k, v in kwargs.items()}
    schedule = from_torch("OneCycleLR", **scaled)
    rates, momenta = _torch_groups("OneCycleLR", [scaled], len(lr_target), adam)
    TABLE.check("OneCycleLR (PyTorch's tests)", schedule, lr_target, what=test_name)
    TABLE.check("OneCycleLR (PyTorch's tests)", schedule, rates[0], what=f"{test_name}, PyTorch")
    assert schedule.momentum_schedule is not None
    targets = np.asarray(momentum_target) / 40
    TABLE.check("OneCycleLR momentum (PyTorch's tests)", schedule.momentum_schedule, targets, what=test_name)
    TABLE.check("OneCycleLR momentum (PyTorch's tests)", schedule.momentum_schedule, momenta[0], what=test_name)


@pytest.mark.parametrize(("name", "adam"), [("OneCycleLR", False), ("CyclicLR", True)])
def test_apply_schedule_runs_pytorchs_rate_and_momentum_on_an_mlx_optimizer(name: str, adam: bool) -> None:
    """apply_schedule puts the translation's momentum schedule on SGD's momentum or Adam's beta1: update k uses
    PyTorch's rate and momentum after k steps."""
    kwargs: dict[str, Any] = (
        {"max_lr": 0.5, "total_steps": 12, "anneal_strategy": "linear", "pct_start": 0.4}
        if name == "OneCycleLR"
        else {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "step_size_down": 2, "mode": "triangular2"}
    )
    schedule = from_torch(name, **kwargs)
    rates, momenta = _torch_groups(name, [kwargs], 12, adam)
    optimizer = optim.Adam(learning_rate=0.0) if adam else optim.SGD(learning_rate=0.0, momentum=0.5)
    apply_schedule(optimizer, schedule)
    params = {"w": mx.zeros((1,))}
    used_rates, used_momenta = [], []
    for _ in range(12):
        params = optimizer.apply_gradients({"w": mx.ones((1,))}, params)
        used_rates.append(optimizer.state["learning_rate"].item())
        used_momenta.append(optimizer.state["beta1" if adam else "momentum"].item())
    np.testing.assert_allclose(used_rates, rates[0], rtol=4e-6)
    np.testing.assert_allclose(used_momenta, momenta[0], rtol=4e-6)


# =====================================================================================================================
# Layer 2: hand-computed points, each beside the PyTorch source lines it follows (torch/optim/lr_scheduler.py)
# =====================================================================================================================

_DOC_LR = 0.05
HAND_CASES: list[tuple[str, dict[str, Any], list[float]]] = [
    # :656-658 lr * gamma when last_epoch is a non-zero multiple of step_size
    ("StepLR", {"lr": 1.0, "step_size": 2, "gamma": 0.5}, [1, 1, 0.5, 0.5, 0.25]),
    # :714, 746-751 Counter(milestones): milestone 0 applies at step 0, a repeated one multiplies by gamma**count
    ("MultiStepLR", {"lr": 1.0, "milestones": [2, 0, 2], "gamma": 0.5}, [0.5, 0.5, 0.125, 0.125]),
    ("MultiStepLR", {"lr": 1.0, "milestones": [], "gamma": 0.5}, [1, 1]),
    # :847-855 factor at step 0, 1 / factor at total_iters; with total_iters=0 never undone
    ("ConstantLR", {"lr": 1.0, "factor": 0.5, "total_iters": 2}, [0.5, 0.5, 1, 1]),
    ("ConstantLR", {"lr": 1.0, "factor": 0.5, "total_iters": 0}, [0.5, 0.5, 0.5]),
    # :961-980 start_factor at step 0, then the linear recursion; total_iters=0 keeps start_factor
    ("LinearLR", {"lr": 1.0, "start_factor": 0.5, "end_factor": 1.0, "total_iters": 2}, [0.5, 0.75, 1, 1]),
    ("LinearLR", {"lr": 1.0, "start_factor": 0.25, "total_iters": 0}, [0.25, 0.25]),
    # :1062-1064 lr * gamma per step (gamma > 1 grows)
    ("ExponentialLR", {"lr": 1.0, "gamma": 0.5}, [1, 0.5, 0.25]),
    ("ExponentialLR", {"lr": 1.0, "gamma": 2.0}, [1, 2, 4]),
    # :1306-1313 ((1 - k/T) / (1 - (k-1)/T)) ** power per step; total_iters=0 holds lr
    ("PolynomialLR", {"lr": 1.0, "total_iters": 2, "power": 2.0}, [1, 0.25, 0, 0]),
    ("PolynomialLR", {"lr": 1.0, "total_iters": 0, "power": 2.0}, [1, 1]),
    # :1428-1454 eta_min + (lr - eta_min)(1 + cos(pi k / T_max)) / 2 up to T_max (then we hold eta_min)
    ("CosineAnnealingLR", {"lr": 1.0, "T_max": 2, "eta_min": 0.1}, [1, 0.55, 0.1, 0.1]),
    # :2202-2246 cycles of T_0 * T_mult**n steps: [0, 2), [2, 6)
    ("CosineAnnealingWarmRestarts", {"lr": 1.0, "T_0": 2, "T_mult": 2},
     [1, 0.5, 1, (1 + math.cos(math.pi / 4)) / 2, 0.5, (1 - math.cos(math.pi / 4)) / 2, 1]),
    # :1186-1194 SequentialLR's docstring example: ConstantLR(0.1, 20) then ExponentialLR(0.9) from milestone 20
    ("SequentialLR", {"lr": _DOC_LR, "milestones": [20], "schedulers": [("ConstantLR", {"factor": 0.1,
     "total_iters": 20}), ("ExponentialLR", {"gamma": 0.9})]}, [0.005] * 20 + [0.05, 0.045, 0.0405]),
    # :1539-1542 ChainedScheduler steps both: 0.05 * 0.1 * 0.9**k, then the factor 0.1 undone at 20 (PyTorch's
    # docstring prints these values ten times too large)
    ("ChainedScheduler", {"lr": _DOC_LR, "schedulers": [("ConstantLR", {"factor": 0.1, "total_iters": 20}),
     ("ExponentialLR", {"gamma": 0.9})]}, [_DOC_LR * 0.1 * 0.9**k for k in range(20)] + [_DOC_LR * 0.9**20]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "kwargs", "expected"), HAND_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(HAND_CASES)]
)
def test_hand_computed_values(name: str, kwargs: dict[str, Any], expected: list[float]) -> None:
    schedule = from_torch(name, **kwargs)
    TABLE.check(name, schedule, expected, peer="hand-computed", what=f"{kwargs}")


@pytest.mark.parametrize(("name", "kwargs", "expected"), HAND_CASES[:-2], ids=[c[0] for c in HAND_CASES[:-2]])
def test_hand_computed_values_are_pytorchs(name: str, kwargs: dict[str, Any], expected: list[float]) -> None:
    config = dict(kwargs)
    lr = config.pop("lr")
    rates = peers.torch_rates(lambda opt: _scheduler(name)(opt, **config), lr, len(expected))
    if name == "CosineAnnealingLR":
        expected = expected[:-1]  # PyTorch rises again after T_max
        rates = rates[:-1]
    np.testing.assert_allclose(rates, expected, rtol=1e-14, atol=1e-16)


def test_reduce_lr_on_plateau_by_hand() -> None:
    """:1706-1719 more than patience bad evaluations multiply by factor; then cooldown evaluations do not count."""
    schedule = from_torch("ReduceLROnPlateau", lr=0.1, factor=0.5, patience=1, cooldown=1)
    assert isinstance(schedule, ReduceOnPlateau)
    rates = []
    for loss in [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95]:
        schedule.update(loss)
        rates.append(float(schedule(np.int64(0))))
    np.testing.assert_allclose(rates, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025], rtol=1e-15)
    np.testing.assert_allclose(peers.torch_plateau_rates(0.1, [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95], factor=0.5,
                                                         patience=1, cooldown=1)[1:], rates, rtol=1e-15)  # fmt: skip


# =====================================================================================================================
# Layer 2: what each name becomes, deliberate differences, resumes
# =====================================================================================================================


def test_each_name_becomes_our_schedule() -> None:
    assert from_torch("StepLR", lr=0.1, step_size=3) == StepDecay(0.1, 3, 0.1)
    assert from_torch("MultiStepLR", lr=0.1, milestones=[5, 9]) == MultiStepDecay(0.1, (5, 9), 0.1)
    assert from_torch("ExponentialLR", lr=0.1, gamma=0.9) == ExponentialDecay(0.1, 0.9)
    assert from_torch("CosineAnnealingLR", lr=0.1, T_max=9, eta_min=0.01) == CosineDecay(0.1, 9, end_lr=0.01)
    assert from_torch("CosineAnnealingWarmRestarts", lr=0.1, T_0=4, T_mult=2) == CosineRestarts(0.1, 4, t_mult=2)
    assert from_torch("CyclicLR", base_lr=0.1, max_lr=1.0) == CyclicLR(0.1, 1.0, 2000, cycle_momentum=True)
    assert from_torch("OneCycleLR", max_lr=1.0, epochs=2, steps_per_epoch=5) == OneCycle(1.0, 10)
    assert from_torch("ConstantLR", lr=0.3) == Join((Constant(0.3 * (1.0 / 3)), Constant(0.3)), (5,))
    chain = from_torch("ChainedScheduler", lr=0.1, schedulers=[("StepLR", {"step_size": 2}), ("ExponentialLR",
                       {"gamma": 0.5})])  # fmt: skip
    assert chain == Product((StepDecay(0.1, 2), ExponentialDecay(1.0, 0.5)))


def test_cosine_annealing_holds_eta_min_where_pytorch_turns_back_up() -> None:
    """Deliberate: PyTorch's recursion follows the cosine back up after T_max (period 2 T_max); we hold eta_min."""
    expected = peers.torch_rates(lambda opt: _scheduler("CosineAnnealingLR")(opt, T_max=4, eta_min=0.1), 1.0, 12)
    ours = from_torch("CosineAnnealingLR", lr=1.0, T_max=4, eta_min=0.1)(np.arange(12))
    np.testing.assert_allclose(ours[:5], expected[:5], rtol=1e-14)
    assert np.all(ours[4:] == 0.1)
    assert expected[8] == pytest.approx(1.0)  # PyTorch is back at lr after 2 T_max


def test_one_cycle_holds_its_end_where_pytorch_extrapolates_then_raises() -> None:
    kwargs = {"max_lr": 1.0, "total_steps": 6, "anneal_strategy": "linear"}
    expected = peers.torch_rates(lambda opt: _scheduler("OneCycleLR")(opt, **kwargs), 0.1, 7)
    ours = from_torch("OneCycleLR", **kwargs)(np.arange(9))
    np.testing.assert_allclose(ours[:6], expected[:6], rtol=1e-9)
    assert expected[6] < 0  # step total_steps extrapolates the linear anneal below 0
    assert np.all(ours[5:] == ours[5]) and ours[5] > 0
    with pytest.raises(ValueError, match="Tried to step 7 times"):
        peers.torch_rates(lambda opt: _scheduler("OneCycleLR")(opt, **kwargs), 0.1, 9)


def test_resume_of_a_closed_form_is_a_shift_by_last_epoch_plus_one() -> None:
    kwargs = {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 4, "cycle_momentum": False}
    resumed = from_torch("CyclicLR", **kwargs, last_epoch=9)
    assert resumed == Shift(from_torch("CyclicLR", **kwargs), 10)

    def make(optimizer: Any) -> Any:
        _scheduler("CyclicLR")(optimizer, **kwargs)
        return _scheduler("CyclicLR")(optimizer, **kwargs, last_epoch=9)

    np.testing.assert_allclose(resumed(np.arange(12)), peers.torch_rates(make, 0.5, 12), rtol=1e-14)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("StepLR", {"lr": 0.1, "step_size": 2}), ("LinearLR", {"lr": 0.1}), ("CosineAnnealingWarmRestarts", {"lr": 0.1,
     "T_0": 3}), ("SequentialLR", {"lr": 0.1, "schedulers": [("StepLR", {"step_size": 2})], "milestones": []})],
)  # fmt: skip
def test_resume_is_refused_where_pytorch_continues_from_the_restored_lr(name: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"last_epoch must be -1, got 4.*optimizer\.state"):
        from_torch(name, **kwargs, last_epoch=4)


def test_resume_with_momentum_is_refused() -> None:
    with pytest.raises(ValueError, match="cycle_momentum=True: a shifted schedule carries no momentum"):
        from_torch("OneCycleLR", max_lr=1.0, total_steps=10, last_epoch=3)


def test_linear_lr_resume_is_no_shift_in_pytorch() -> None:
    """Why chainable resumes are refused: PyTorch's LinearLR resumed at N skips its step N + 1 (_is_initial)."""
    kwargs = {"start_factor": 0.25, "total_iters": 8}
    fresh = peers.torch_rates(lambda opt: _scheduler("LinearLR")(opt, **kwargs), 1.0, 12)

    def make(optimizer: Any) -> Any:
        optimizer.param_groups[0]["initial_lr"] = 1.0
        optimizer.param_groups[0]["lr"] = fresh[3]  # the rate after 3 steps, restored
        return _scheduler("LinearLR")(optimizer, **kwargs, last_epoch=3)

    resumed = peers.torch_rates(make, 1.0, 4)
    assert resumed[0] == fresh[3]  # not fresh[4]: no shift of the fresh run reproduces it
    assert not np.allclose(resumed, fresh[4:8]) and not np.allclose(resumed, fresh[3:7])


# =====================================================================================================================
# Layer 2: refusals and messages
# =====================================================================================================================

REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    ("LambdaLR", {"lr_lambda": lambda k: 0.9**k}, r"lr_lambda is a Python function.*Scale\(s, lr\)"),
    ("MultiplicativeLR", {"lr_lambda": lambda k: 0.9}, r"lr_lambda is a Python function.*ExponentialDecay\(lr, g\)"),
    ("CyclicLR", {"base_lr": 0.1, "max_lr": 1.0, "scale_fn": lambda x: 1.0}, r"scale_fn is a Python function"),
    ("CyclicLR", {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 2.5}, r"step_size_up must be a whole number.*Ramp"),
    ("CyclicLR", {"base_lr": 0.1, "max_lr": 1.0, "step_size_down": 0.5}, r"step_size_down must be a whole number"),
    ("CyclicLR", {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 0}, r"step_size_up must be an integer in \[1"),
    ("CyclicLR", {"base_lr": 1.0, "max_lr": 0.1}, r"max_lr must be >= base_lr"),
    ("CyclicLR", {"base_lr": [0.1, 0.2], "max_lr": 1.0}, r"base_lr must be one number.*each group"),
    ("CyclicLR", {"base_lr": 0.1, "max_lr": 1.0, "max_momentum": 5}, r"max_momentum must be a finite number in"),
    ("CyclicLR", {"base_lr": 0.1, "max_lr": 1.0, "mode": "exp_range", "gamma": 1.5}, r"gamma must be .* \(0, 1\]"),
    ("CyclicLR", {"base_lr": 0.1, "max_lr": 1.0, "mode": "CATS"}, r"mode must be one of 'triangular'"),
    ("OneCycleLR", {"max_lr": 1.0}, r"give total_steps, or epochs and steps_per_epoch"),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 10, "pct_start": 1.1}, r"pct_start must be .* in \[0, 1\]"),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 10, "anneal_strategy": "CATS"}, r"anneal_strategy must be one of"),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 10, "three_phase": True, "pct_start": 0.6}, r"never reaches"),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 10, "div_factor": 0.5}, r"div_factor must be a finite number in \[1"),
    ("ExponentialLR", {"lr": 0.1, "gamma": 0.0}, r"gamma must be a finite number in \(0, "),
    ("StepLR", {"lr": 0.1, "step_size": 0}, r"step_size must be an integer in \[1"),
    ("ConstantLR", {"lr": 0.1, "factor": 1.5}, r"factor must be a finite number in \[0, 1\]"),
    ("ConstantLR", {"lr": 0.1, "factor": 0.0}, r"factor must be > 0 with total_iters > 0 \(PyTorch divides"),
    ("LinearLR", {"lr": 0.1, "start_factor": 0.0}, r"start_factor must be a finite number in \(0, 1\]"),
    ("PolynomialLR", {"lr": 0.1, "power": -1.0}, r"power must be a finite number in \[0, 1000\]"),
    ("CosineAnnealingLR", {"lr": 0.1, "T_max": 0}, r"T_max must be an integer in \[1"),
    ("CosineAnnealingWarmRestarts", {"lr": 0.1, "T_0": 2, "T_mult": 1.5}, r"T_mult must be an integer"),
    ("MultiStepLR", {"lr": 0.1, "milestones": [3, -1]}, r"milestones\[1\] must be an integer in \[0"),
    ("ReduceLROnPlateau", {"lr": 0.1, "factor": 1.0}, r"factor must be a finite number in \(0, 1\)"),
    ("ReduceLROnPlateau", {"lr": 0.1, "min_lr": [0.0, 0.1]}, r"min_lr must be one number"),
    ("StepLR", {"step_size": 2}, r"missing the required argument 'lr'"),
    ("StepLR", {"lr": 0.1, "step_size": 2, "gama": 0.5}, r"unknown argument 'gama' \(did you mean 'gamma'\?\)"),
    ("SequentialLR", {"lr": 0.1, "milestones": [5], "schedulers": [("StepLR", {"step_size": 2}), ("CyclicLR",
     {"base_lr": 0.1, "max_lr": 1.0})]}, r"schedulers\[1\] cycles the momentum.*cycle_momentum=False"),
    ("SequentialLR", {"lr": 0.1, "milestones": [5, 3], "schedulers": [("StepLR", {"step_size": 2})] * 3},
     r"milestones must be in increasing order"),
    ("SequentialLR", {"lr": 0.1, "milestones": [], "schedulers": [("StepLR", {"step_size": 2})] * 2},
     r"milestones must have one entry fewer than schedulers \(1\), got 0"),
    ("SequentialLR", {"lr": 0.1, "milestones": [3], "schedulers": [("StepLR", {"step_size": 2}),
     ("ReduceLROnPlateau", {})]}, r"ReduceLROnPlateau, which PyTorch refuses in a SequentialLR"),
    ("SequentialLR", {"lr": 0.1, "milestones": [3], "schedulers": [("StepLR", {"step_size": 2}),
     ("ChainedScheduler", {"schedulers": []})]}, r"ChainedScheduler, which PyTorch cannot restart at a milestone"),
    ("SequentialLR", {"lr": 0.1, "milestones": [3], "schedulers": [("StepLR", {"step_size": 2}),
     ("LinearLR", {"total_iters": 0})]}, r"LinearLR with total_iters=0, whose closed form PyTorch divides by zero"),
    ("SequentialLR", {"lr": 0.1, "milestones": [3], "schedulers": [("StepLR", {"lr": 0.2, "step_size": 2}),
     ("StepLR", {"step_size": 2})]}, r"schedulers\[0\] must not set 'lr' \(give lr once"),
    ("SequentialLR", {"milestones": [], "schedulers": [("StepLR", {"step_size": 2})]}, r"lr is required"),
    ("SequentialLR", {"lr": 0.1, "milestones": [], "schedulers": [("StepLr", {"step_size": 2})]},
     r"unknown PyTorch scheduler 'StepLr' \(did you mean 'StepLR'\?\)"),
    ("SequentialLR", {"lr": 0.1, "milestones": [4, 6], "schedulers": [("OneCycleLR", {"max_lr": 1.0,
     "total_steps": 9, "cycle_momentum": False})] * 3}, r"at most one OneCycleLR part"),
    ("ChainedScheduler", {"lr": 0.1, "schedulers": [("StepLR", {"step_size": 2}), ("CyclicLR", {"base_lr": 0.1,
     "max_lr": 1.0})]}, r"CyclicLR, which sets the rate outright"),
    ("ChainedScheduler", {"lr": 0.1, "schedulers": [("CosineAnnealingLR", {"T_max": 9, "eta_min": 0.01})]},
     r"eta_min > 0, whose update .* is not a factor"),
    ("ChainedScheduler", {"lr": 0.1, "schedulers": [StepDecay(0.1, 2)]}, r"must be a \(name, kwargs\) pair, not a"),
    ("ChainedScheduler", {"lr": 0.1, "schedulers": ["StepLR"]}, r"schedulers\[0\] must be a \(name, kwargs\) pair"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "kwargs", "pattern"), REFUSALS, ids=[f"{r[0]}-{i}" for i, r in enumerate(REFUSALS)])
def test_refusals_say_why_in_one_line(name: str, kwargs: dict[str, Any], pattern: str) -> None:
    with pytest.raises((ValueError, TypeError), match=pattern) as error:
        from_torch(name, **kwargs)
    assert_one_line_error(error.value, "from_torch")


def test_unknown_names_get_a_suggestion() -> None:
    with pytest.raises(ValueError, match=r"unknown PyTorch scheduler 'OneCycle' \(did you mean 'OneCycleLR'\?\)"):
        from_torch("OneCycle", max_lr=1.0)


@pytest.mark.parametrize(
    "parts",
    [
        [("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.5}), ("ExponentialLR", {"gamma": 0.8})],
        [("CosineAnnealingWarmRestarts", {"T_0": 5}), ("StepLR", {"step_size": 3, "gamma": 0.5})],
        [("StepLR", {"step_size": 3, "gamma": 0.5}), ("CyclicLR", {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 4,
         "cycle_momentum": False})],
    ],
    ids=["affine", "absolute-first", "absolute-last"],
)  # fmt: skip
def test_chained_scheduler_refusals_are_pytorchs_non_products(parts: list[tuple[str, dict[str, Any]]]) -> None:
    """Why a chain takes only multiplicative parts: with one that is affine (eta_min > 0) or sets the rate outright,
    PyTorch's chain is no product of the parts' own runs."""
    steps = 12
    chained = torch_chain(1.0, parts, steps)
    product = np.prod([torch_chain(1.0, [part], steps) for part in parts], axis=0)
    assert np.max(np.abs(chained - product) / product) > 1e-2
    with pytest.raises(ValueError, match=r"eta_min > 0|sets the rate outright"):
        from_torch("ChainedScheduler", lr=1.0, schedulers=parts)


# =====================================================================================================================
# Layer 2: every translation is an ordinary schedule: configs, both backends, one kernel (or a measured few)
# =====================================================================================================================

KERNEL_CASES: dict[str, tuple[str, dict[str, Any], int]] = {
    "StepLR": ("StepLR", {"lr": 0.1, "step_size": 30}, 1),
    "StepLR-growth": ("StepLR", {"lr": 0.1, "step_size": 30, "gamma": 1.5}, 1),
    "MultiStepLR": ("MultiStepLR", {"lr": 0.1, "milestones": [30, 80]}, 1),
    "MultiStepLR-repeated": ("MultiStepLR", {"lr": 0.1, "milestones": [0, 30, 30, 80]}, 1),
    "ConstantLR": ("ConstantLR", {"lr": 0.1}, 1),
    "LinearLR": ("LinearLR", {"lr": 0.1}, 1),
    "ExponentialLR": ("ExponentialLR", {"lr": 0.1, "gamma": 0.99}, 1),
    "PolynomialLR": ("PolynomialLR", {"lr": 0.1, "total_iters": 100, "power": 2.0}, 1),
    "CosineAnnealingLR": ("CosineAnnealingLR", {"lr": 0.1, "T_max": 100, "eta_min": 0.001}, 1),
    "CosineAnnealingWarmRestarts": ("CosineAnnealingWarmRestarts", {"lr": 0.1, "T_0": 10}, 1),
    # CosineRestarts with t_mult > 1: its exact integer cycle index is deeper than MLX fuses (tests/test_kernels.py)
    "CosineAnnealingWarmRestarts-T_mult": ("CosineAnnealingWarmRestarts", {"lr": 0.1, "T_0": 10, "T_mult": 2}, 5),
    "CyclicLR": ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 20}, 1),
    "CyclicLR-exp_range": ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "mode": "exp_range", "gamma": 0.999}, 1),
    "OneCycleLR": ("OneCycleLR", {"max_lr": 0.1, "total_steps": 1000}, 1),
    "OneCycleLR-three_phase": ("OneCycleLR", {"max_lr": 0.1, "total_steps": 1000, "three_phase": True}, 1),
    "ReduceLROnPlateau": ("ReduceLROnPlateau", {"lr": 0.1}, 1),
    "SequentialLR": ("SequentialLR", {"lr": 0.1, "milestones": [10], "schedulers": [("LinearLR", {"start_factor": 0.1,
                     "total_iters": 10}), ("CosineAnnealingLR", {"T_max": 90})]}, 1),
    "ChainedScheduler": ("ChainedScheduler", {"lr": 0.1, "schedulers": [("LinearLR", {"start_factor": 0.1}),
                         ("CosineAnnealingLR", {"T_max": 90}), ("StepLR", {"step_size": 30})]}, 1),
    "resumed CyclicLR": ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "cycle_momentum": False, "last_epoch": 99}, 1),
}  # fmt: skip
"""A representative config of each translation and its measured kernel count (MLX 0.32.4, ``uint64`` step)."""


@pytest.mark.parametrize("case", sorted(KERNEL_CASES))
def test_translations_are_ordinary_schedules(case: str, tmp_path: Any) -> None:
    name, kwargs, expected_kernels = KERNEL_CASES[case]
    schedule = from_torch(name, **kwargs)
    steps = np.array([0, 1, 9, 10, 11, 99, 500, 999, 1000, 10**9])
    assert_round_trips(schedule, steps)
    numpy_values, mlx_values = backend_values(schedule, steps)
    shown = numpy_values >= 1e-6 * schedule.peak  # the precision contract's floor
    np.testing.assert_allclose(mlx_values[shown], numpy_values[shown], rtol=5e-7)
    assert len(compiled_kernels(schedule, tmp_path)) == expected_kernels
    momentum = schedule.momentum_schedule
    if momentum is not None:
        assert from_config(schedule.to_json()).momentum_schedule == momentum
        assert len(compiled_kernels(momentum, tmp_path)) == 1


def test_growth_holds_float32s_largest_value_and_stays_finite_on_mlx() -> None:
    """ExponentialLR(gamma > 1) grows as PyTorch's does until float32's largest value, then holds it (PyTorch goes on
    to inf). Measured while translating: MLX returned inf once gamma**k passed 2**128 (exp_decay built the power of
    two before multiplying by lr); the engine now keeps it finite."""
    schedule = from_torch("ExponentialLR", lr=0.01, gamma=1.02)
    steps = np.array([0, 1000, 4480, 4481, 4500, 4700, 4750, 10**6])
    reference, device = backend_values(schedule, steps)
    np.testing.assert_allclose(reference[:3], 0.01 * 1.02 ** steps[:3].astype(float), rtol=1e-12)
    assert reference[-1] == device[-1] == np.float32(3.4028234663852886e38)
    assert np.all(np.isfinite(device))
    np.testing.assert_allclose(device, reference, rtol=4e-6)
