"""``from_keras``: every Keras schedule, translated, against Keras itself and against its literal transcription.

Step ``k`` of ``from_keras(name, **kwargs)`` must be Keras' ``schedule(k)`` computed in float64: to 1e-6 relative on
the NumPy backend and 4e-6 in MLX float32 (relative to ``max(|peer|, 1e-6 * peak)``, see ``tests/_translation.py``),
at every step of whole runs and a few past the end. Two layers:

1. Marked ``peers``: random configurations per class (``tests/_peer_configs.py``: together they cover every argument)
   against Keras 3.15.1 itself with the torch backend in float64 (``tests/_peers.py``), and the builders' defaults
   pinned against Keras' own signatures (``pytest -m peers tests/test_from_keras.py``).
2. The default run (Keras is not installed there): fewer configurations against the literal transcriptions of
   ``tests/_peer_formulas.py``.

Where Keras' own cycle index (a float ``log``, floored in float32) or staircase count (floored in float32) differs
from the exact one, the step is left out of the comparison and ours must equal the exact formula there instead
(written below with exact rationals); those steps are counted in the table of errors that the terminal summary prints
(also written to ``from_keras_errors.md`` in pytest's base temporary directory).
"""

from __future__ import annotations

import inspect
import math
import random
from fractions import Fraction
from pathlib import Path
from typing import Any

import _peer_formulas as formulas
import _peers as peers
import numpy as np
import pytest
from _peer_configs import CONFIGS, EDGE_CONFIGS, run_steps
from _translation import (
    Table,
    assert_errors,
    assert_one_line_error,
    assert_round_trips,
    backend_values,
    draw_translated,
    parameters,
)
from test_kernels import compiled_kernels

from mlx_lrsched import Constant, CosineDecay, CosineRestarts, ExponentialDecay, PiecewiseConstant, Warmup
from mlx_lrsched.peers import from_keras
from mlx_lrsched.peers.keras import TRANSLATOR

NAMES = sorted(CONFIGS["keras"])
PEER_DRAWS = 60
DEFAULT_DRAWS = 6

TABLE = Table("from_keras vs Keras 3.15.1 (float64) and tests/_peer_formulas.py", "from_keras_errors.md", "Keras")
_report = TABLE.fixture()


# ---------------------------------------------------------------------------------------------------------------------
# Keras' float indices, the exact ones, and the exact formulas
# ---------------------------------------------------------------------------------------------------------------------


def float32_floor(x: float) -> int:
    """Keras' ``ops.floor`` of a float64: it casts to float32 first (quirk 26 of ``tests/_peer_formulas.py``)."""
    return math.floor(np.float32(x))


def keras_cycle(step: int, first_decay_steps: float, t_mul: float) -> int:
    """``CosineDecayRestarts``' cycle index as Keras computes it (learning_rate_schedule.py:861-891)."""
    fraction = step / first_decay_steps
    if t_mul == 1.0:
        return float32_floor(fraction)
    return float32_floor(math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))


def exact_cycle(step: int, first_decay_steps: float, t_mul: float) -> tuple[int, Fraction]:
    """The cycle ``n`` holding ``step`` and the fraction of it done, exact: cycles of ``T * t_mul ** n`` steps."""
    length, mult = Fraction(first_decay_steps), Fraction(t_mul)
    if mult == 1:
        cycle = math.floor(step / length)
        return cycle, (step - cycle * length) / length
    cycle, start = 0, Fraction(0)
    while start + length <= step:
        cycle, start, length = cycle + 1, start + length, length * mult
    return cycle, (step - start) / length


def exact_restarts(
    step: int,
    initial_learning_rate: float,
    first_decay_steps: float,
    t_mul: float = 2.0,
    m_mul: float = 1.0,
    alpha: float = 0.0,
    name: str = "SGDRDecay",
) -> float:
    """Keras' formula with the exact cycle: ``init * (alpha + (1 - alpha) * m_mul**n * (1 + cos(pi x)) / 2)``."""
    cycle, done = exact_cycle(step, first_decay_steps, t_mul)
    cosine = 0.5 * m_mul**cycle * (1.0 + math.cos(math.pi * float(done)))
    return initial_learning_rate * ((1.0 - alpha) * cosine + alpha)


def exact_staircase(step: int, name: str, **config: Any) -> float:
    """``ExponentialDecay``/``InverseTimeDecay`` with ``staircase`` floored exactly (``step // decay_steps``)."""
    count = step // config["decay_steps"]
    if name == "ExponentialDecay":
        return float(config["initial_learning_rate"] * config["decay_rate"] ** count)
    return float(config["initial_learning_rate"] / (1.0 + config["decay_rate"] * count))


def off_steps(name: str, config: dict[str, Any], steps: np.ndarray) -> np.ndarray:
    """Where Keras' own float index differs from the exact one (a restart or a staircase drop early)."""
    if name == "CosineDecayRestarts":
        first, t_mul = config["first_decay_steps"], config.get("t_mul", 2.0)
        return np.array([keras_cycle(int(t), first, t_mul) != exact_cycle(int(t), first, t_mul)[0] for t in steps])
    if name in ("ExponentialDecay", "InverseTimeDecay") and config.get("staircase"):
        period = config["decay_steps"]
        return np.array([float32_floor(int(t) / period) != int(t) // period for t in steps])
    return np.zeros(len(steps), dtype=bool)


def exact_values(name: str, config: dict[str, Any], steps: np.ndarray) -> np.ndarray:
    if name == "CosineDecayRestarts":
        return np.array([exact_restarts(int(t), **config) for t in steps])
    return np.array([exact_staircase(int(t), name, **config) for t in steps])


def keras_reference(name: str, config: dict[str, Any], steps: int) -> np.ndarray:
    return peers.keras_values(name, steps, **config)


def transcription(name: str, config: dict[str, Any], steps: int) -> np.ndarray:
    formula = formulas.KERAS[name]  # called directly: formulas.curve takes ``name`` itself, Keras' configs may too
    return np.array([formula(step, **config) for step in range(steps)], dtype=np.float64)


def compare(schedule: Any, name: str, config: dict[str, Any], reference: np.ndarray, peer: str) -> None:
    """Ours against ``reference`` away from Keras' off-index steps, where ours must be the exact formula."""
    steps = np.arange(len(reference))
    off = off_steps(name, config, steps)
    exact = exact_values(name, config, steps) if off.any() else None
    TABLE.check(name, schedule, reference, ~off, exact=exact, peer=peer, what=f"{config}")


# ---------------------------------------------------------------------------------------------------------------------
# Whole runs of random configurations
# ---------------------------------------------------------------------------------------------------------------------


def random_runs(name: str, draws: int, peer: str) -> Any:
    rng = random.Random(f"from_keras/{name}")  # a str seed: the same draws in every process
    for _ in range(draws):
        config, schedule = draw_translated(CONFIGS["keras"][name], rng, from_keras, name, (), TABLE.row(name, peer))
        yield config, schedule, run_steps("keras", name, config)


@pytest.mark.peers
@pytest.mark.parametrize("name", NAMES)
def test_matches_keras_over_whole_runs(name: str) -> None:
    peers.keras_values("InverseTimeDecay", 1, initial_learning_rate=1.0, decay_steps=1, decay_rate=1.0)  # or skip
    for config, schedule, steps in random_runs(name, PEER_DRAWS, "Keras"):
        compare(schedule, name, config, keras_reference(name, config, steps), "Keras")


@pytest.mark.parametrize("name", NAMES)
def test_matches_the_transcription_over_whole_runs(name: str) -> None:
    for config, schedule, steps in random_runs(name, DEFAULT_DRAWS, "transcription"):
        compare(schedule, name, config, transcription(name, config, steps), "transcription")


# ---------------------------------------------------------------------------------------------------------------------
# Keras' float indices at large steps: ours follow the exact formula
# ---------------------------------------------------------------------------------------------------------------------

PROBES: list[tuple[str, dict[str, Any], list[int]]] = [
    # cycle 23 of first_decay_steps=1, t_mul=2 starts at 2**23 - 1 = 8388607; Keras' float32 floor starts it at 8388602
    ("CosineDecayRestarts", {"initial_learning_rate": 1.0, "first_decay_steps": 1, "t_mul": 2.0, "alpha": 0.1,
                             "m_mul": 0.9}, list(range(8_388_598, 8_388_610))),
    # t_mul=1: Keras floors step / 1000 in float32, 99_999_999 / 1000 rounds to 100_000
    ("CosineDecayRestarts", {"initial_learning_rate": 1.0, "first_decay_steps": 1000, "t_mul": 1.0, "alpha": 0.1},
     list(range(99_999_990, 100_000_003))),
    # a non-integer t_mul: cycle starts 32 (1.5**n - 1) of first_decay_steps 16, near step 2.9e7
    ("CosineDecayRestarts", {"initial_learning_rate": 1.0, "first_decay_steps": 16, "t_mul": 1.5},
     [int(32 * (1.5**n - 1)) + d for n in (30, 31, 32) for d in range(-3, 3)]),
    # a staircase drops a step early once float32 spacing exceeds 1 / decay_steps (quirk 26)
    ("ExponentialDecay", {"initial_learning_rate": 1.0, "decay_steps": 1000, "decay_rate": 0.9999, "staircase": True},
     [99_998_999, 99_999_000, 99_999_998, 99_999_999, 100_000_000]),
    ("InverseTimeDecay", {"initial_learning_rate": 1.0, "decay_steps": 1000, "decay_rate": 0.5, "staircase": True},
     [99_998_999, 99_999_000, 99_999_998, 99_999_999, 100_000_000]),
]  # fmt: skip
"""Steps where Keras' float index is off for some (``off_steps``), and the steps around them."""


def compare_probe(name: str, config: dict[str, Any], steps: list[int], reference: np.ndarray) -> int:
    """Ours is the exact formula at every probed step, and Keras' value where Keras' index is exact."""
    grid = np.array(steps, dtype=np.int64)
    got, off = backend_values(from_keras(name, **config), grid), off_steps(name, config, grid)
    assert_errors(got, exact_values(name, config, grid), what=f"{name} {config}: the exact formula")
    assert_errors(got, reference, ~off, what=f"{name} {config}: where Keras' index is exact")
    return int(off.sum())


@pytest.mark.parametrize(("name", "config", "steps"), PROBES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(PROBES)])
def test_keras_float_indices_against_the_transcription(name: str, config: dict[str, Any], steps: list[int]) -> None:
    reference = np.array([formulas.KERAS[name](step, **config) for step in steps])
    off = compare_probe(name, config, steps, reference)
    print(f"\n{name} {config}: Keras' float index is off at {off} of {len(steps)} probed steps")
    assert off > 0


@pytest.mark.peers
@pytest.mark.parametrize(("name", "config", "steps"), PROBES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(PROBES)])
def test_keras_float_indices_against_keras(name: str, config: dict[str, Any], steps: list[int]) -> None:
    off = compare_probe(name, config, steps, peers.keras_values(name, steps, **config))
    print(f"\n{name} {config}: Keras' float index is off at {off} of {len(steps)} probed steps")


def test_keras_starts_cycle_23_five_steps_early() -> None:
    """The docstring's example, by hand: cycle 23 of ``first_decay_steps=1, t_mul=2`` starts at 2**23 - 1."""
    assert [keras_cycle(t, 1, 2.0) for t in (8_388_601, 8_388_602)] == [22, 23]
    assert exact_cycle(8_388_606, 1, 2.0)[0] == 22 and exact_cycle(8_388_607, 1, 2.0) == (23, 0)
    schedule = from_keras("CosineDecayRestarts", initial_learning_rate=1.0, first_decay_steps=1)
    values = schedule(np.array([8_388_602, 8_388_606, 8_388_607]))
    assert values[0] < 1e-11 and values[1] < 1e-12 and values[2] == 1.0


# ---------------------------------------------------------------------------------------------------------------------
# Issue 15: CosineDecayRestarts with alpha and m_mul
# ---------------------------------------------------------------------------------------------------------------------

ISSUE_CASE = {"initial_learning_rate": 1.0, "first_decay_steps": 10, "t_mul": 2.0, "m_mul": 0.77, "alpha": 0.1}
"""Restart 1 peaks at 0.1 + 0.9 * 0.77 = 0.793 in Keras; restarts that peak at ``init * m_mul**n`` (0.77: PyTorch's
and timm's ``cycle_decay``) are 2.3e-2 off."""


def test_restarts_with_alpha_and_m_mul_match_keras_where_the_peak_rule_was_off_by_2_3e_2() -> None:
    steps = 30  # cycles [0, 10) and [10, 30)
    reference = transcription("CosineDecayRestarts", ISSUE_CASE, steps)
    peak_rule = CosineRestarts(1.0, 10, t_mult=2.0, m_mul=0.77, end_lr=0.1)  # what the README called "matches Keras"
    assert np.max(np.abs(peak_rule(np.arange(steps)) - reference)) == pytest.approx(2.3e-2, rel=1e-9)
    translated = from_keras("CosineDecayRestarts", **ISSUE_CASE)
    assert translated == CosineRestarts(1.0, 10, t_mult=2.0, m_mul=0.77, end_lr=0.1, m_mul_mode="amplitude")
    numpy_error, mlx_error = TABLE.check(
        "CosineDecayRestarts", translated, reference, peer="transcription", what="issue 15"
    )
    assert numpy_error < 1e-12 and mlx_error < 1e-6
    assert translated(np.array([10]))[0] == pytest.approx(0.793, rel=1e-15)


@pytest.mark.peers
def test_issue_case_matches_keras() -> None:
    reference = keras_reference("CosineDecayRestarts", ISSUE_CASE, 70)
    TABLE.check("CosineDecayRestarts", from_keras("CosineDecayRestarts", **ISSUE_CASE), reference, what="issue 15")


# ---------------------------------------------------------------------------------------------------------------------
# Hand-picked cases: Keras' quirks and the degenerate arguments it accepts
# ---------------------------------------------------------------------------------------------------------------------

CASES: list[tuple[str, dict[str, Any]]] = [
    *((name, config) for name, configs in EDGE_CONFIGS["keras"].items() for config in configs),
    # ExponentialDecay: rate 0 (0 ** 0 is 1 while the exponent is 0), 1, > 1 (growth), from 0
    *(
        ("ExponentialDecay", {"initial_learning_rate": init, "decay_steps": 3, "decay_rate": rate, "staircase": s})
        for init, rate in ((0.1, 0.0), (0.1, 1.0), (0.1, 1.3), (0.0, 1.3))
        for s in (False, True)
    ),
    # PiecewiseConstantDecay: truncated, equal, negative and zero boundaries; a name
    *(
        ("PiecewiseConstantDecay", {"boundaries": b, "values": [0.4, 0.3, 0.2, 0.1][: len(b) + 1]})
        for b in ([2.3, 2.7], [-3, 2], [-0.5, 3], [0, 0, 4], [0], [-2], [3, 3, 3], [1.9, 3.5, 7])
    ),
    ("PiecewiseConstantDecay", {"boundaries": [4], "values": [0.2, 0.1], "name": "lr"}),
    # PolynomialDecay: power 0, rising (with and without cycle), cycle with decay_steps 1
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "power": 0.0}),
    ("PolynomialDecay", {"initial_learning_rate": 0.01, "decay_steps": 5, "end_learning_rate": 0.1, "power": 2.0}),
    ("PolynomialDecay", {"initial_learning_rate": 0.01, "decay_steps": 5, "end_learning_rate": 0.1, "power": 0.5,
                         "cycle": True}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 1, "power": 3.0, "cycle": True}),
    # InverseTimeDecay: rate 0
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.0, "staircase": True}),
    # CosineDecay: warmup_steps 0 with a target, a target below the initial rate, alpha > 1
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 6, "warmup_target": 0.5, "warmup_steps": 0}),
    ("CosineDecay", {"initial_learning_rate": 0.5, "decay_steps": 6, "warmup_target": 0.1, "warmup_steps": 4,
                     "alpha": 0.2}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 6, "alpha": 1.5}),
    # CosineDecayRestarts: m_mul 0, t_mul 1, a fractional first cycle, alpha > 1, a name
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 4, "m_mul": 0.0, "alpha": 0.2}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 4, "t_mul": 1.0, "m_mul": 0.5}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 2.5, "t_mul": 1.5, "alpha": 0.1}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 3, "m_mul": 0.5, "alpha": 1.5,
                             "name": "sgdr"}),
]  # fmt: skip

CASE_IDS = [f"{name}-{index}" for index, (name, _) in enumerate(CASES)]


def case_steps(name: str, config: dict[str, Any]) -> int:
    return max(run_steps("keras", name, config), 30)


@pytest.mark.peers
@pytest.mark.parametrize(("name", "config"), CASES, ids=CASE_IDS)
def test_hand_picked_cases_match_keras(name: str, config: dict[str, Any]) -> None:
    compare(from_keras(name, **config), name, config, keras_reference(name, config, case_steps(name, config)), "Keras")


@pytest.mark.parametrize(("name", "config"), CASES, ids=CASE_IDS)
def test_hand_picked_cases_match_the_transcription(name: str, config: dict[str, Any]) -> None:
    reference = transcription(name, config, case_steps(name, config))
    compare(from_keras(name, **config), name, config, reference, "transcription")


def test_builders_map_to_the_native_schedules() -> None:
    init = {"initial_learning_rate": 0.1}
    assert from_keras("ExponentialDecay", **init, decay_steps=3, decay_rate=1.5) == ExponentialDecay(
        0.1, 1.5, 3, end_lr=3.4028234663852886e38
    )
    assert from_keras("ExponentialDecay", **init, decay_steps=3, decay_rate=0.0) == PiecewiseConstant([0], [0.1, 0.0])
    assert from_keras("PiecewiseConstantDecay", boundaries=[-2, 2.7, 2.9, 5], values=[1, 2, 3, 4, 5]) == (
        PiecewiseConstant([2, 5], [2.0, 4.0, 5.0])  # [-2] holds no step; 2.7 and 2.9 both truncate to 2
    )
    assert from_keras("CosineDecay", **init, decay_steps=8, alpha=0.1, warmup_steps=5) == CosineDecay(0.1, 8, 0.1 * 0.1)
    warm = from_keras("CosineDecay", **init, decay_steps=8, alpha=0.1, warmup_steps=5, warmup_target=1.0)
    assert warm == Warmup(CosineDecay(1.0, 8, 0.1), 5, init_lr=0.1)
    assert from_keras("CosineDecayRestarts", **init, first_decay_steps=4, m_mul=0.0) == (
        CosineRestarts(0.1, 4, t_mult=2.0, cycle_limit=1)
    )
    assert from_keras("PolynomialDecay", **init, decay_steps=3, power=0.0) == Constant(0.1)


# ---------------------------------------------------------------------------------------------------------------------
# Errors in Keras' words
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs", "words"),
    [
        ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 0, "decay_rate": 0.5},
         ["decay_steps must be an integer in [1"]),
        ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 2.5, "decay_rate": 0.5},
         ["decay_steps must be an integer, got float 2.5"]),
        ("ExponentialDecay", {"initial_learning_rate": -0.1, "decay_steps": 5, "decay_rate": 0.5},
         ["initial_learning_rate must be a finite number in [0"]),
        ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": -1.0}, ["decay_rate"]),
        ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "power": -1.0}, ["power must be"]),
        ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "cycle": "yes"}, ["cycle must be True"]),
        ("PiecewiseConstantDecay", {"boundaries": [5, 3], "values": [0.3, 0.2, 0.1]}, ["must be increasing"]),
        ("PiecewiseConstantDecay", {"boundaries": [5], "values": [0.3]}, ["values must have one more entry"]),
        ("PiecewiseConstantDecay", {"boundaries": [], "values": [0.3]}, ["boundaries must not be empty"]),
        ("PiecewiseConstantDecay", {"boundaries": [5], "values": [0.3, -0.1]}, ["values[1] must be a finite number"]),
        ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "warmup_target": -1.0}, ["warmup_target"]),
        ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "warmup_steps": -1}, ["warmup_steps must"]),
        ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 5, "t_mul": 0.5},
         ["t_mul must be a finite number in [1"]),
        ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 5, "m_mul": 1.5},
         ["m_mul must be a finite number in [0, 1]"]),
        ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 0.5},
         ["first_decay_steps must be a finite number in [1"]),
        ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "name": 3}, ["name must be a string"]),
        ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 1, "t_mul": 1.0001},
         ["no exact cycles for t_mul=1.0001 with first_decay_steps=1", "65536 cycles"]),
    ],
)  # fmt: skip
def test_errors_name_the_keras_argument(name: str, kwargs: dict[str, Any], words: list[str]) -> None:
    with pytest.raises((TypeError, ValueError)) as error:
        from_keras(name, **kwargs)
    assert_one_line_error(error.value, f"from_keras({name!r}): ", *words)


def test_unknown_names_and_arguments_get_suggestions() -> None:
    with pytest.raises(ValueError) as error:
        from_keras("CosineDecayRestart", initial_learning_rate=0.1, first_decay_steps=10)
    assert_one_line_error(error.value, "from_keras: unknown Keras scheduler", "did you mean 'CosineDecayRestarts'")
    with pytest.raises(ValueError) as error:
        from_keras("CosineDecayRestarts", initial_learning_rate=0.1, first_decay_steps=10, t_mult=2.0)
    assert_one_line_error(error.value, "from_keras('CosineDecayRestarts'): ", "did you mean 't_mul'")


# ---------------------------------------------------------------------------------------------------------------------
# Signatures: every Keras schedule class, with Keras' defaults
# ---------------------------------------------------------------------------------------------------------------------


def test_every_transcribed_class_has_a_builder_with_its_defaults() -> None:
    assert TRANSLATOR.names == sorted(formulas.KERAS) == NAMES
    for name in NAMES:
        assert parameters(TRANSLATOR.builder(name)) == parameters(formulas.KERAS[name], skip=1), name


@pytest.mark.peers
def test_every_keras_schedule_has_a_builder_with_keras_defaults() -> None:
    peers.keras_values("InverseTimeDecay", 1, initial_learning_rate=1.0, decay_steps=1, decay_rate=1.0)
    import keras

    schedules = keras.optimizers.schedules
    base = schedules.LearningRateSchedule
    members = {name: getattr(schedules, name) for name in dir(schedules)}
    classes = {name for name, cls in members.items() if inspect.isclass(cls) and issubclass(cls, base)}
    classes -= {"LearningRateSchedule"}
    assert set(TRANSLATOR.names) == classes
    for name in classes:
        assert parameters(TRANSLATOR.builder(name)) == parameters(getattr(schedules, name).__init__, skip=1), name


# ---------------------------------------------------------------------------------------------------------------------
# Each translated schedule is an ordinary schedule
# ---------------------------------------------------------------------------------------------------------------------

KERNEL_CASES: dict[str, tuple[dict[str, Any], int]] = {
    "ExponentialDecay": ({"initial_learning_rate": 0.1, "decay_steps": 1000, "decay_rate": 0.96, "staircase": True}, 1),
    "PiecewiseConstantDecay": ({"boundaries": [1000, 5000], "values": [0.1, 0.01, 0.001]}, 1),
    "PolynomialDecay": ({"initial_learning_rate": 0.1, "decay_steps": 9000, "power": 2.0, "cycle": True}, 1),
    "InverseTimeDecay": ({"initial_learning_rate": 0.1, "decay_steps": 100, "decay_rate": 0.5}, 1),
    "CosineDecay": (
        {"initial_learning_rate": 0.0, "decay_steps": 9000, "alpha": 0.01, "warmup_target": 0.1, "warmup_steps": 500},
        1,
    ),
    "CosineDecayRestarts": ({"initial_learning_rate": 0.1, "first_decay_steps": 1000, "t_mul": 1.0, "m_mul": 0.9}, 1),
    # t_mul > 1: the exact integer cycle index is deeper than MLX fuses (tests/test_kernels.py: 5 kernels)
    "CosineDecayRestarts-t_mul=2": (
        {"initial_learning_rate": 0.1, "first_decay_steps": 1000, "m_mul": 0.9, "alpha": 0.01},
        5,
    ),
    # a non-integer t_mul: gathers from a host table of the exact cycle starts, by design
    "CosineDecayRestarts-t_mul=1.5": (
        {"initial_learning_rate": 0.1, "first_decay_steps": 1000, "t_mul": 1.5, "m_mul": 0.9, "alpha": 0.01},
        18,
    ),
}
"""A representative configuration of each class and its compiled kernel count (MLX 0.32.4, ``uint64`` step)."""


def test_every_class_has_a_kernel_case() -> None:
    assert {case.split("-")[0] for case in KERNEL_CASES} == set(NAMES)


@pytest.mark.parametrize("case", sorted(KERNEL_CASES))
def test_compiled_kernel_count(case: str, tmp_path: Path) -> None:
    config, expected = KERNEL_CASES[case]
    found = compiled_kernels(from_keras(case.split("-")[0], **config), tmp_path)
    print(f"\nfrom_keras({case!r}): {len(found)} kernel(s)")
    assert len(found) == expected, found


@pytest.mark.parametrize("case", sorted(KERNEL_CASES))
def test_round_trips_through_its_config(case: str) -> None:
    config, _ = KERNEL_CASES[case]
    assert_round_trips(from_keras(case.split("-")[0], **config), 3000)


def test_growth_to_float32_range_stays_finite_on_mlx() -> None:
    schedule = from_keras("ExponentialDecay", initial_learning_rate=1e-4, decay_steps=100, decay_rate=10.0)
    steps = np.array([3900, 4000, 4100])  # 1e35, 1e36, 1e37: within float32's range
    numpy_values, mlx_values = backend_values(schedule, steps)
    np.testing.assert_allclose(mlx_values, numpy_values, rtol=4e-6)
