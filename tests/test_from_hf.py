"""``from_hf`` against Hugging Face's ``transformers.get_scheduler`` (transformers 5.24.0), on both backends.

Our step ``k`` must be the rate after ``k`` scheduler steps: to 1e-6 on the NumPy backend and 4e-6 in MLX float32,
relative to ``max(|peer|, 1e-6 * peak)`` (tests/_translation.py), up to the end of the run; past it we hold the last
value where Hugging Face's cosines rise again (a deliberate difference, tested).

* Marked ``peers`` (they skip without transformers; run them with
  ``/tmp/pv/bin/python -m pytest tests/test_from_hf.py -m peers -q``): seeded random configurations of every name
  (tests/_peer_configs.py), every step of whole runs and a few past the end, against ``get_scheduler`` stepped for
  real; ``reduce_lr_on_plateau`` fed metrics; resumed runs (``last_epoch``); ``get_scheduler``'s argument checks;
  every builder's defaults pinned against the schedule function's signature. The worst errors per name and backend
  are printed in the terminal summary (and written to ``from_hf_errors.md`` in pytest's base temporary directory).
* Unmarked (the default run has no transformers): the same random configurations against the literal transcriptions
  of tests/_peer_formulas.py (checked against transformers by tests/test_peer_formulas.py), hand-computed points with
  the source lines of ``transformers/optimization.py`` they follow, the deliberate differences, refusals and their
  messages, configs, both backends and kernel counts.
"""

from __future__ import annotations

import inspect
import math
import random
import warnings
from typing import Any

import _peer_formulas as formulas
import _peers as peers
import numpy as np
import pytest
from _peer_configs import CONFIGS, EDGE_CONFIGS, PLATEAU_CONFIGS, plateau_metrics, run_steps
from _translation import Table, assert_one_line_error, assert_round_trips, backend_values, plateau_values
from test_kernels import compiled_kernels

from mlx_lrsched import (
    Constant,
    CosineDecay,
    InverseSqrt,
    Join,
    Ramp,
    ReduceOnPlateau,
    Schedule,
    Shift,
    Warmup,
)
from mlx_lrsched.peers import from_hf
from mlx_lrsched.peers.huggingface import TRANSLATOR

pytest.importorskip("mlx.core")

TABLE = Table("from_hf vs transformers 5.24.0 and tests/_peer_formulas.py", "from_hf_errors.md", "transformers")
_report = TABLE.fixture()

PEER_DRAWS = 60
"""Random configurations per name against transformers stepped for real."""

FORMULA_DRAWS = 25
"""Random configurations per name against the transcriptions, in the default run."""

NAMES = sorted(CONFIGS["hf"])


def _translate(name: str, config: dict[str, Any]) -> Schedule:
    kwargs = dict(config)
    return from_hf(name, kwargs.pop("lr"), **kwargs)


def _end(name: str, config: dict[str, Any]) -> int | None:
    """The last step of the cosines' run (the progress reaches 1 there), after which Hugging Face rises again."""
    warmup = config.get("num_warmup_steps", 0)
    if name in ("cosine", "cosine_with_min_lr"):
        return warmup + max(1, config["num_training_steps"] - warmup)
    if name == "cosine_warmup_with_min_lr":  # its progress is (k - W + 1) / (T - W)
        return warmup - 1 + max(1, config["num_training_steps"] - warmup)
    return None


def _compared(name: str, config: dict[str, Any], steps: int) -> np.ndarray:
    end = _end(name, config)
    return np.arange(steps) <= (steps if end is None else end)


def _refusal(name: str, config: dict[str, Any]) -> str | None:
    """The refusal a drawn configuration must meet (a pattern of its message), or None."""
    if name == "cosine_with_restarts":
        decay = max(1, config["num_training_steps"] - config["num_warmup_steps"])
        if config.get("num_cycles", 1) > decay:
            return r"num_cycles must be at most num_training_steps - num_warmup_steps .* shorter than one step"
    return None


def _check_run(peer: str, name: str, config: dict[str, Any], expected: np.ndarray) -> None:
    """Every step up to the end of the run; past the end, the value at the end held."""
    schedule = _translate(name, config)
    TABLE.check(name, schedule, expected, _compared(name, config, expected.size), peer=peer, what=f"{config}")
    end = _end(name, config)
    if end is not None:
        held = schedule(np.arange(end, end + 50))
        assert np.all(held == held[0]), config


def _configs(name: str, rng: random.Random, draws: int) -> list[dict[str, Any]]:
    return (
        [CONFIGS["hf"][name](rng) for _ in range(draws)] + EDGE_CONFIGS["hf"].get(name, []) + EXTRA_EDGES.get(name, [])
    )


EXTRA_EDGES: dict[str, list[dict[str, Any]]] = {
    "warmup_stable_decay": [
        # num_training_steps < W + D: a negative stable length, the decay already under way at the warmup's end
        {"lr": 0.1, "num_warmup_steps": 5, "num_decay_steps": 10, "num_training_steps": 9, "decay_type": "linear"},
        {"lr": 0.1, "num_warmup_steps": 5, "num_decay_steps": 10, "num_training_steps": 2, "min_lr_ratio": 0.2},
        {"lr": 0.1, "num_warmup_steps": 0, "num_decay_steps": 0, "num_stable_steps": 3, "min_lr_ratio": 0.5},
    ],
    "cosine_with_restarts": [
        {"lr": 0.1, "num_warmup_steps": 3, "num_training_steps": 31, "num_cycles": 3},  # cycles of 28/3 steps
        {"lr": 0.1, "num_warmup_steps": 0, "num_training_steps": 20, "num_cycles": 2.5},  # a fraction of cycles
        {"lr": 0.1, "num_warmup_steps": 10, "num_training_steps": 4, "num_cycles": 1},  # decay of one step
        {"lr": 0.1, "num_warmup_steps": 0, "num_training_steps": 1000, "num_cycles": 1.3},  # cycles of 10000 / 13
        {"lr": 0.1, "num_warmup_steps": 100, "num_training_steps": 1000, "num_cycles": 2.7},  # cycles of 1000 / 3
    ],
    "polynomial": [{"lr": 0.1, "num_warmup_steps": 9, "num_training_steps": 4, "lr_end": 0.01}],  # T < W
    "cosine_warmup_with_min_lr": [
        {"lr": 0.1, "num_warmup_steps": 1, "num_training_steps": 9, "min_lr_rate": 0.1, "warmup_lr_rate": 0.3},
        {"lr": 0.1, "num_warmup_steps": 1, "num_training_steps": 9, "min_lr": 0.01},
    ],
}
"""More quirks than tests/_peer_configs.py's EDGE_CONFIGS covers."""


# =====================================================================================================================
# Layer 1: transformers stepped for real
# =====================================================================================================================


@pytest.mark.peers
@pytest.mark.parametrize("name", NAMES)
def test_random_configs_match_transformers_at_every_step(name: str) -> None:
    rng = random.Random(f"from_hf/{name}")
    for config in _configs(name, rng, PEER_DRAWS):
        if TABLE.refused(name, _refusal(name, config), _translate, name, config):
            continue
        steps = run_steps("hf", name, config)
        _check_run("transformers", name, config, peers.peer_values("hf", name, config, steps))


@pytest.mark.peers
def test_reduce_lr_on_plateau_matches_transformers_after_every_metric() -> None:
    rng = random.Random("from_hf/reduce_lr_on_plateau")
    for _ in range(PEER_DRAWS // 2):
        config = PLATEAU_CONFIGS["torch"]["ReduceLROnPlateau"](rng)
        metrics = plateau_metrics(rng, 60)
        kwargs = {key: value for key, value in config.items() if key != "lr"}
        expected = peers.hf_rates("reduce_lr_on_plateau", config["lr"], 0, metrics=metrics, **kwargs)
        schedule = _translate("reduce_lr_on_plateau", config)
        assert isinstance(schedule, ReduceOnPlateau)
        got = plateau_values(schedule, metrics, 7)
        TABLE.check_values("reduce_lr_on_plateau", got, expected, what=f"{config}, metrics {metrics}")


def hf_resumed_rates(name: str, config: dict[str, Any], last_epoch: int, steps: int) -> np.ndarray:
    """``get_scheduler(..., scheduler_specific_kwargs={"last_epoch": N})`` on an optimizer being resumed (its group
    holds ``initial_lr``, as a restored one does): the rate after 0, 1, ... further steps."""
    transformers, torch = peers._require("transformers"), peers._require("torch")
    kwargs = dict(config)
    lr = kwargs.pop("lr")
    counts = {key: kwargs.pop(key, None) for key in ("num_warmup_steps", "num_training_steps")}
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    optimizer.param_groups[0]["initial_lr"] = lr
    scheduler = transformers.get_scheduler(
        name, optimizer, **counts, scheduler_specific_kwargs={**kwargs, "last_epoch": last_epoch}
    )
    rates = [optimizer.param_groups[0]["lr"]]
    for _ in range(steps - 1):
        optimizer.step()
        scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    return np.asarray(rates, dtype=np.float64)


RESUMABLE = [name for name in NAMES if name not in ("constant", "constant_with_warmup")]


@pytest.mark.peers
@pytest.mark.parametrize("name", RESUMABLE)
def test_resumed_runs_are_shifted_by_last_epoch_plus_one(name: str) -> None:
    """LambdaLR computes lr * lambda(last_epoch): resumed at N, the constructor's step puts it at N + 1."""
    rng = random.Random(f"from_hf/resumed/{name}")
    for _ in range(PEER_DRAWS // 4):
        config = CONFIGS["hf"][name](rng)
        if _refusal(name, config):
            continue
        steps = run_steps("hf", name, config)
        resume = rng.randint(0, steps - 2)
        schedule = _translate(name, {**config, "last_epoch": resume})
        assert schedule == Shift(_translate(name, config), resume + 1)
        expected = hf_resumed_rates(name, config, resume, steps - resume - 1)
        compared = _compared(name, config, steps)[resume + 1 :]
        what = f"{config}, last_epoch={resume}"
        TABLE.check(f"{name} resumed (last_epoch)", schedule, expected, compared, what=what)


@pytest.mark.peers
def test_every_scheduler_type_has_a_builder() -> None:
    transformers = peers._require("transformers")
    assert {member.value for member in transformers.SchedulerType} == set(TRANSLATOR.names)


@pytest.mark.peers
def test_scheduler_type_members_are_names() -> None:
    transformers = peers._require("transformers")
    assert from_hf(transformers.SchedulerType.COSINE, 0.1, 2, 10) == from_hf("cosine", 0.1, 2, 10)


def _peer_signature(name: str) -> dict[str, inspect.Parameter]:
    """The signature of what get_scheduler calls for ``name``, without the optimizer."""
    transformers = peers._require("transformers")
    function = transformers.optimization.TYPE_TO_SCHEDULER_FUNCTION[transformers.SchedulerType(name)]
    if name == "reduce_lr_on_plateau":
        function = peers._require("torch").optim.lr_scheduler.ReduceLROnPlateau
    if name == "greedy":
        function = transformers.optimization.GreedyLR
    parameters = dict(inspect.signature(function).parameters)
    del parameters["optimizer"]
    parameters.pop("kwargs", None)
    return parameters


@pytest.mark.peers
@pytest.mark.parametrize("name", sorted(TRANSLATOR.names))
def test_builder_defaults_are_transformers(name: str) -> None:
    transformers = peers._require("transformers")
    ours = TRANSLATOR.signature(name).parameters
    counts = inspect.signature(transformers.get_scheduler).parameters
    for key in ("num_warmup_steps", "num_training_steps"):  # get_scheduler's own arguments, and defaults
        assert ours[key].default == counts[key].default
    if name in ("constant", "constant_with_warmup"):
        # get_scheduler passes get_constant_schedule(optimizer) and get_constant_schedule_with_warmup(optimizer,
        # num_warmup_steps) nothing else: every scheduler_specific_kwarg is dropped, so none is taken here
        assert set(ours) == {"lr", "num_warmup_steps", "num_training_steps"}
        return
    peer = _peer_signature(name)
    assert set(ours) - set(peer) <= {"lr", "num_warmup_steps", "num_training_steps"}, name
    assert set(peer) <= set(ours), name
    for key, parameter in peer.items():
        if key not in ("num_warmup_steps", "num_training_steps"):
            assert ours[key].default == parameter.default, f"{name}.{key}: ours {ours[key].default!r}"


GET_SCHEDULER_CHECKS = [
    ("cosine", {"num_training_steps": 10}),  # "cosine requires `num_warmup_steps`"
    ("inverse_sqrt", {}),
    ("cosine", {"num_warmup_steps": 2}),  # "cosine requires `num_training_steps`"
    ("linear", {"num_warmup_steps": 2}),
    ("warmup_stable_decay", {"num_warmup_steps": 2, "num_decay_steps": 3}),  # neither training nor stable steps
    ("warmup_stable_decay", {"num_warmup_steps": 2, "num_decay_steps": 3, "num_stable_steps": 2, "decay_type": "x"}),
    ("polynomial", {"num_warmup_steps": 2, "num_training_steps": 10, "lr_end": 0.5}),  # lr_end >= lr
    ("cosine_with_min_lr", {"num_warmup_steps": 2, "num_training_steps": 10}),  # neither min_lr nor min_lr_rate
    ("cosine_with_min_lr", {"num_warmup_steps": 2, "num_training_steps": 10, "min_lr": 0.1, "min_lr_rate": 0.1}),
    ("cosine_warmup_with_min_lr", {"num_warmup_steps": 2, "num_training_steps": 10}),
]


@pytest.mark.peers
@pytest.mark.parametrize(("name", "kwargs"), GET_SCHEDULER_CHECKS)
def test_get_schedulers_checks_are_kept(name: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        peers.hf_rates(name, 0.5, 2, **{**kwargs})
    with pytest.raises(ValueError) as error:
        from_hf(name, 0.5, **kwargs)
    assert_one_line_error(error.value, "from_hf")


@pytest.mark.peers
def test_both_training_and_stable_steps_warn_and_use_the_stable_steps() -> None:
    config = {"lr": 0.1, "num_warmup_steps": 2, "num_decay_steps": 3, "num_training_steps": 20, "num_stable_steps": 4}
    with pytest.warns(UserWarning, match="num_stable_steps will be used"):
        expected = peers.peer_values("hf", "warmup_stable_decay", config, 15)
    with pytest.warns(UserWarning, match="num_stable_steps will be used"):
        schedule = _translate("warmup_stable_decay", config)
    TABLE.check("warmup_stable_decay", schedule, expected, what=f"{config}")


# =====================================================================================================================
# Layer 2: the literal transcriptions (tests/_peer_formulas.py) in the default run
# =====================================================================================================================

FORMULA_NAMES = [name for name in NAMES if name in formulas.HF_NAMES]


@pytest.mark.parametrize("name", FORMULA_NAMES)
def test_random_configs_match_the_transcriptions(name: str) -> None:
    rng = random.Random(f"from_hf/formulas/{name}")
    for config in _configs(name, rng, FORMULA_DRAWS):
        if TABLE.refused(name, _refusal(name, config), _translate, name, config, peer="transcription"):
            continue
        steps = run_steps("hf", name, config)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            expected = np.asarray(formulas.curve("hf", name, steps, **config))
        _check_run("transcription", name, config, expected)


def test_reduce_lr_on_plateau_matches_the_transcription() -> None:
    rng = random.Random("from_hf/formulas/reduce_lr_on_plateau")
    for _ in range(10):
        config = PLATEAU_CONFIGS["torch"]["ReduceLROnPlateau"](rng)
        metrics = plateau_metrics(rng, 40)
        schedule = _translate("reduce_lr_on_plateau", config)
        assert isinstance(schedule, ReduceOnPlateau)
        rates = [float(schedule(np.int64(0)))]
        for metric in metrics:
            schedule.update(metric)
            rates.append(float(schedule(np.int64(0))))
        np.testing.assert_allclose(rates, formulas.torch_plateau_run(metrics=metrics, **config), rtol=1e-14)


# Hand-computed points: (name, lr, num_warmup_steps, num_training_steps, scheduler_specific_kwargs, values), each
# beside the lines of transformers 5.24.0 transformers/optimization.py it follows.
HAND_CASES: list[tuple[str, float, int | None, int | None, dict[str, Any], list[float]]] = [
    # :102-104 k / W, then (T - k) / (T - W) down to 0
    ("linear", 1.0, 2, 6, {}, [0, 0.5, 1, 0.75, 0.5, 0.25, 0, 0]),
    # :102-104 with T <= W: 0 from the warmup's end on
    ("linear", 1.0, 4, 2, {}, [0, 0.25, 0.5, 0.75, 0, 0]),
    # :137-140 0.5 (1 + cos(2 pi c p)), p = (k - W) / (T - W); c = 1: down and back up over the run (then held)
    ("cosine", 1.0, 0, 4, {"num_cycles": 1.0}, [1, 0.5, 0, 0.5, 1, 1]),
    # :180-185 cycles of (T - W) / c steps, 0 from T on: c = 2 over 6 steps
    ("cosine_with_restarts", 1.0, 0, 6, {"num_cycles": 2}, [1, 0.75, 0.25, 1, 0.75, 0.25, 0, 0]),
    # :180-185 c = 1.5 over 4 steps: cycles of 8/3 steps, restart at p = 2/3 (k = 8/3: step 3 is 1/3 in)
    ("cosine_with_restarts", 1.0, 0, 4, {"num_cycles": 1.5},
     [1, (1 + math.cos(math.pi * 3 / 8)) / 2, (1 + math.cos(math.pi * 6 / 8)) / 2,
      (1 + math.cos(math.pi * 1 / 8)) / 2, 0]),
    # :230-239 (lr - lr_end)(1 - p)**power + lr_end, lr_end / lr_init (times lr) past T
    ("polynomial", 1.0, 0, 4, {"lr_end": 0.2, "power": 2.0}, [1, 0.65, 0.4, 0.25, 0.2, 0.2]),
    # :75-77 k / W, then 1
    ("constant_with_warmup", 1.0, 4, None, {}, [0, 0.25, 0.5, 0.75, 1, 1]),
    # :289-292, 319-320 timescale = W or 10_000; 1 / sqrt((k + timescale - W) / timescale)
    ("inverse_sqrt", 1.0, 4, None, {}, [0, 0.25, 0.5, 0.75, 1, math.sqrt(4 / 5)]),
    ("inverse_sqrt", 1.0, 0, None, {"timescale": 2}, [1, math.sqrt(2 / 3), math.sqrt(1 / 2)]),
    # :329-334 the cosine factor * (1 - min_lr_rate) + min_lr_rate
    ("cosine_with_min_lr", 1.0, 0, 2, {"min_lr_rate": 0.5}, [1, 0.75, 0.5, 0.5]),
    ("cosine_with_min_lr", 2.0, 0, 2, {"min_lr": 0.5}, [2, 1.25, 0.5, 0.5]),
    # :402-411 (k + 1) / W, then the progress (k - W + 1) / (T - W)
    ("cosine_warmup_with_min_lr", 1.0, 2, 4, {"min_lr_rate": 0.0}, [0.5, 1, 0.5, 0, 0]),
    # :405-407 warmup_lr_rate + (1 - warmup_lr_rate) k / (W - 1)
    ("cosine_warmup_with_min_lr", 1.0, 3, 5, {"min_lr_rate": 0.0, "warmup_lr_rate": 0.2}, [0.2, 0.6, 1.0, 0.5, 0, 0]),
    # :481-505 warmup from min_lr_ratio, stable, decay to min_lr_ratio, held
    ("warmup_stable_decay", 1.0, 2, None, {"num_decay_steps": 2, "num_stable_steps": 1, "decay_type": "linear",
     "min_lr_ratio": 0.1}, [0.1, 0.55, 1, 1, 0.55, 0.1, 0.1]),
    # :485-488 cosine warmup 0.5 (1 - cos(pi p)); "1-sqrt" warmup 1 - sqrt(1 - p)
    ("warmup_stable_decay", 1.0, 4, None, {"num_decay_steps": 0, "num_stable_steps": 1, "warmup_type": "cosine"},
     [0, (1 - math.cos(math.pi / 4)) / 2, 0.5, (1 - math.cos(3 * math.pi / 4)) / 2, 1, 0]),
    ("warmup_stable_decay", 1.0, 4, None, {"num_decay_steps": 0, "num_stable_steps": 1, "warmup_type": "1-sqrt"},
     [0, 1 - math.sqrt(0.75), 1 - math.sqrt(0.5), 1 - math.sqrt(0.25), 1, 0]),
    # :496-504 "1-sqrt" decay 1 - sqrt(p); "cosine" decay with num_cycles (1: down and back up, then min_lr_ratio)
    ("warmup_stable_decay", 1.0, 0, None, {"num_decay_steps": 4, "num_stable_steps": 0, "decay_type": "1-sqrt"},
     [1, 0.5, 1 - math.sqrt(0.5), 1 - math.sqrt(0.75), 0, 0]),
    ("warmup_stable_decay", 1.0, 0, None, {"num_decay_steps": 4, "num_stable_steps": 0, "num_cycles": 1.0},
     [1, 0.5, 0, 0.5, 0, 0]),
    # :1014-1015 constant ignores the step counts
    ("constant", 0.3, 7, 9, {}, [0.3, 0.3]),
]  # fmt: skip


@pytest.mark.parametrize("case", HAND_CASES, ids=[f"{case[0]}-{i}" for i, case in enumerate(HAND_CASES)])
def test_hand_computed_values(case: Any) -> None:
    name, lr, warmup, total, kwargs, expected = case
    schedule = from_hf(name, lr, warmup, total, **kwargs)
    TABLE.check(name, schedule, expected, peer="hand-computed", what=f"{case}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        transcribed = [formulas.hf_get_scheduler(name, k, lr, warmup, total, **kwargs) for k in range(len(expected))]
    end = _end(name, {"num_warmup_steps": warmup, "num_training_steps": total})
    compared = slice(None) if end is None else slice(0, end + 1)
    np.testing.assert_allclose(transcribed[compared], np.asarray(expected)[compared], rtol=1e-14, atol=1e-16)


def test_each_name_becomes_our_schedule() -> None:
    assert from_hf("constant", 0.1) == Constant(0.1)
    assert from_hf("constant_with_warmup", 0.1, 5) == Join((Ramp(0.0, 0.1, 5), Constant(0.1)), (5,))
    assert from_hf("cosine", 0.1, 0, 10) == CosineDecay(0.1, 10)
    assert from_hf("cosine", 0.1, 2, 10, num_cycles=1.5) == Join((Ramp(0.0, 0.1, 2), CosineDecay(0.1, 8,
                                                                  num_cycles=1.5)), (2,))  # fmt: skip
    assert from_hf("inverse_sqrt", 0.1, 0) == InverseSqrt(0.1, 0, timescale=10_000)
    assert from_hf("inverse_sqrt", 0.1, 5, timescale=7.0) == InverseSqrt(0.1, 5, timescale=7)
    assert from_hf("cosine", 0.1, 0, 10, last_epoch=4) == Shift(CosineDecay(0.1, 10), 5)
    plateau = from_hf("reduce_lr_on_plateau", 0.1, 100, 1000, patience=3)
    assert plateau == ReduceOnPlateau(0.1, patience=3)


@pytest.mark.parametrize("name", ["cosine", "cosine_with_min_lr", "cosine_warmup_with_min_lr"])
def test_cosines_hold_their_end_where_hugging_face_rises_again(name: str) -> None:
    """Deliberate: past num_training_steps the cosine's progress exceeds 1 and Hugging Face's wave turns back up
    (transformers/optimization.py:139-140, 331-334, 408-411 do not clamp it); we hold the value at the end."""
    config = {"lr": 1.0, "num_warmup_steps": 2, "num_training_steps": 10, "min_lr_rate": 0.1}
    if name == "cosine":
        del config["min_lr_rate"]
    end = _end(name, config)
    assert end is not None
    kwargs = {key: value for key, value in config.items() if key != "lr"}
    ours = from_hf(name, 1.0, **kwargs)(np.arange(30))
    theirs = np.asarray([formulas.FORMULAS["hf"][name](k, **config) for k in range(30)])
    np.testing.assert_allclose(ours[: end + 1], theirs[: end + 1], rtol=1e-12, atol=1e-16)
    assert np.all(ours[end:] == ours[end])
    assert theirs[end + 8] > ours[end] + 0.5  # the peer's wave is well on its way back up


def test_restarts_and_linear_and_polynomial_already_hold() -> None:
    """cosine_with_restarts returns 0 from T on, linear max(0, ...), polynomial lr_end: nothing to differ."""
    for name, kwargs in [("cosine_with_restarts", {"num_cycles": 3}), ("linear", {}), ("polynomial", {})]:
        ours = from_hf(name, 1.0, 2, 8, **kwargs)(np.arange(8, 40))
        theirs = [formulas.hf_get_scheduler(name, k, 1.0, 2, 8, **kwargs) for k in range(8, 40)]
        np.testing.assert_allclose(ours, theirs, rtol=1e-14)


# =====================================================================================================================
# Layer 2: refusals and messages
# =====================================================================================================================

REFUSALS: list[tuple[str, tuple[Any, ...], dict[str, Any], str]] = [
    ("greedy", (0.1,), {}, r"GreedyLR raises the rate on improvement.*no schedule here holds GreedyLR's state"),
    ("cosine", (0.1, None, 10), {}, r"cosine requires num_warmup_steps \(an integer >= 0\), got None"),
    ("cosine", (0.1, 2), {}, r"cosine requires num_training_steps"),
    ("cosine", (0.1, -1, 10), {}, r"num_warmup_steps must be an integer in \[0"),
    ("cosine", (0.1, 2.5, 10), {}, r"num_warmup_steps must be an integer, got float"),
    ("cosine", (0.1, 2, 10), {"num_cycles": -0.5}, r"num_cycles must be a finite number in \[0"),
    ("cosine", (-0.1, 2, 10), {}, r"lr must be a finite number in \[0"),
    ("cosine", (0.1, 2, 10), {"num_cycle": 2}, r"unknown argument 'num_cycle' \(did you mean 'num_cycles'\?\)"),
    ("cosin", (0.1, 2, 10), {}, r"unknown Hugging Face scheduler 'cosin' \(did you mean 'cosine'\?\)"),
    ("constant_with_warmup", (0.1, 2), {"last_epoch": 3}, r"unknown argument 'last_epoch'"),
    ("cosine_with_restarts", (0.1, 2, 5), {"num_cycles": 4}, r"num_cycles must be at most .* \(3\)"),
    ("polynomial", (0.1, 2, 10), {"lr_end": 0.1}, r"lr_end must be smaller than lr"),
    (
        "polynomial",
        (0.1, 4, 4),
        {},
        r"num_training_steps must differ from num_warmup_steps \(4\).*divides by their difference",
    ),
    ("polynomial", (0.1, 2, 10), {"power": 0.0}, r"power must be a finite number in \(0"),
    ("cosine_with_restarts", (0.1, 0, 1000), {"num_cycles": 2.114940360578139}, r"a ratio of small integers"),
    ("inverse_sqrt", (0.1, 2), {"timescale": 0}, r"timescale must be an integer in \[1"),
    ("inverse_sqrt", (0.1, 2), {"timescale": 2.5}, r"timescale must be an integer, got float"),
    ("cosine_with_min_lr", (0.1, 2, 10), {}, r"one of min_lr and min_lr_rate is required"),
    ("cosine_with_min_lr", (0.1, 2, 10), {"min_lr": 0.1, "min_lr_rate": 0.1}, r"give one of min_lr and min_lr_rate"),
    ("cosine_with_min_lr", (0.0, 2, 10), {"min_lr": 0.1}, r"min_lr needs lr > 0"),
    ("warmup_stable_decay", (0.1, 2), {"num_decay_steps": 3}, r"give num_training_steps or num_stable_steps"),
    ("warmup_stable_decay", (0.1, 2, 10), {}, r"missing the required argument 'num_decay_steps'"),
    ("warmup_stable_decay", (0.1, 2, 10), {"num_decay_steps": 3, "decay_type": "exp"}, r"decay_type must be one of"),
    ("warmup_stable_decay", (0.1, 2, 10), {"num_decay_steps": 3, "warmup_type": "cos"}, r"warmup_type must be one"),
    ("reduce_lr_on_plateau", (0.1,), {"factor": 1.0}, r"factor must be a finite number in \(0, 1\)"),
    ("reduce_lr_on_plateau", (0.1,), {"mode": "best"}, r"mode must be one of 'min', 'max'"),
]


@pytest.mark.parametrize(("name", "args", "kwargs", "pattern"), REFUSALS, ids=[f"{r[0]}-{i}" for i, r in
                         enumerate(REFUSALS)])  # fmt: skip
def test_refusals_say_why_in_one_line(name: str, args: tuple[Any, ...], kwargs: dict[str, Any], pattern: str) -> None:
    with pytest.raises((ValueError, TypeError), match=pattern) as error:
        from_hf(name, *args, **kwargs)
    assert_one_line_error(error.value, "from_hf")


def test_both_training_and_stable_steps_warn_as_hugging_face_does() -> None:
    with pytest.warns(UserWarning, match="num_stable_steps will be used"):
        schedule = from_hf("warmup_stable_decay", 1.0, 0, 100, num_decay_steps=2, num_stable_steps=1)
    np.testing.assert_allclose(schedule(np.arange(4)), [1, 1, 0.5, 0], atol=1e-15)


# =====================================================================================================================
# Layer 2: every translation is an ordinary schedule: configs, both backends, one kernel (or a measured two)
# =====================================================================================================================

TWO_KERNELS = (
    "2: a Join of a warmup (or a shift) and a cosine of num_cycles != 0.5 (a wave from an exact rational phase) or "
    "of restarts with a fractional period is deeper than MLX fuses (11 levels); the native "
    "Warmup(CosineDecay(..., num_cycles=1.3)) measures the same"
)

KERNEL_CASES: dict[str, tuple[str, dict[str, Any], int]] = {
    "linear": ("linear", {"num_warmup_steps": 100, "num_training_steps": 1000}, 1),
    "cosine": ("cosine", {"num_warmup_steps": 100, "num_training_steps": 1000}, 1),
    "cosine-num_cycles": ("cosine", {"num_warmup_steps": 100, "num_training_steps": 1000, "num_cycles": 1.3}, 2),
    "cosine_with_restarts": ("cosine_with_restarts", {"num_warmup_steps": 100, "num_training_steps": 1000,
                             "num_cycles": 3}, 1),
    "cosine_with_restarts-fraction": ("cosine_with_restarts", {"num_warmup_steps": 100, "num_training_steps": 1000,
                                      "num_cycles": 2.7}, 2),
    "polynomial": ("polynomial", {"num_warmup_steps": 100, "num_training_steps": 1000, "power": 2.0}, 1),
    "constant": ("constant", {}, 1),
    "constant_with_warmup": ("constant_with_warmup", {"num_warmup_steps": 100}, 1),
    "inverse_sqrt": ("inverse_sqrt", {"num_warmup_steps": 100}, 1),
    "reduce_lr_on_plateau": ("reduce_lr_on_plateau", {}, 1),
    "cosine_with_min_lr": ("cosine_with_min_lr", {"num_warmup_steps": 100, "num_training_steps": 1000,
                           "min_lr_rate": 0.1}, 1),
    "cosine_warmup_with_min_lr": ("cosine_warmup_with_min_lr", {"num_warmup_steps": 100, "num_training_steps": 1000,
                                  "min_lr_rate": 0.1}, 1),
    "cosine_warmup_with_min_lr-num_cycles": ("cosine_warmup_with_min_lr", {"num_warmup_steps": 100,
                                             "num_training_steps": 1000, "min_lr_rate": 0.1, "num_cycles": 1.3}, 2),
    "warmup_stable_decay": ("warmup_stable_decay", {"num_warmup_steps": 100, "num_training_steps": 1000,
                            "num_decay_steps": 200}, 1),
    "warmup_stable_decay-1-sqrt": ("warmup_stable_decay", {"num_warmup_steps": 100, "num_training_steps": 1000,
                                   "num_decay_steps": 200, "warmup_type": "1-sqrt", "decay_type": "1-sqrt",
                                   "min_lr_ratio": 0.1}, 1),
    "warmup_stable_decay-cosine": ("warmup_stable_decay", {"num_warmup_steps": 100, "num_training_steps": 1000,
                                   "num_decay_steps": 200, "warmup_type": "cosine", "num_cycles": 0.8}, 2),
    "cosine-resumed": ("cosine", {"num_warmup_steps": 100, "num_training_steps": 1000, "last_epoch": 49}, 1),
}  # fmt: skip
"""A representative config of each translation and its measured kernel count (MLX 0.32.4, ``uint64`` step); the
counts of 2 are explained by :data:`TWO_KERNELS`."""


@pytest.mark.parametrize("case", sorted(KERNEL_CASES))
def test_translations_are_ordinary_schedules(case: str, tmp_path: Any) -> None:
    name, kwargs, expected_kernels = KERNEL_CASES[case]
    schedule = from_hf(name, 0.1, **kwargs)
    steps = np.array([0, 1, 99, 100, 101, 500, 899, 900, 999, 1000, 1001, 10**9])
    assert_round_trips(schedule, steps)
    numpy_values, mlx_values = backend_values(schedule, steps)
    shown = numpy_values >= 1e-6 * schedule.peak
    np.testing.assert_allclose(mlx_values[shown], numpy_values[shown], rtol=5e-7)
    assert len(compiled_kernels(schedule, tmp_path)) == expected_kernels, TWO_KERNELS


def test_a_two_kernel_count_is_the_engines_own(tmp_path: Any) -> None:
    """The translation adds nothing: the native composition of the same phases measures the same count."""
    native = Warmup(CosineDecay(0.1, 900, num_cycles=1.3), 100)
    translated = from_hf("cosine", 0.1, 100, 1000, num_cycles=1.3)
    np.testing.assert_allclose(native(np.arange(2000)), translated(np.arange(2000)), rtol=1e-15, atol=0)
    assert len(compiled_kernels(native, tmp_path)) == len(compiled_kernels(translated, tmp_path)) == 2


# =====================================================================================================================
# Engine issues found while translating (strict xfails: a fix flips them)
# =====================================================================================================================


def test_cosine_takes_any_float_num_cycles() -> None:
    config = {"lr": 0.1, "num_warmup_steps": 0, "num_training_steps": 1000, "num_cycles": 2.114940360578139}
    schedule = _translate("cosine", config)
    expected = np.asarray(formulas.curve("hf", "cosine", 1001, **config))
    np.testing.assert_allclose(schedule(np.arange(1001)), expected, rtol=1e-6, atol=1e-12)
