"""from_mlx_lm_config / from_mlx_optimizers: mlx-lm's lr_schedule and mlx.optimizers calls, step for step.

The oracle is mlx-lm's ``build_schedule`` written out below the way mlx-lm does it, on a ``schedulers``
namespace: the real ``mlx.optimizers.schedulers``, or the same five functions transcribed literally to NumPy
float64. The transcription is checked against the real MLX code first; it is the reference for our float32
values because mlx's own float32 arithmetic drifts (a float32 ``decay_rate ** step``: 2.3e-4 relative at
step 10,000 for ``exponential_decay(1e-3, 0.9995)``; ``step * slope + init`` cancels near a zero end).
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Mapping
from typing import Any

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np
import pytest

from mlx_lrsched.base import Schedule
from mlx_lrsched.compose import Join, PerEpoch
from mlx_lrsched.cyclic import CosineRestarts, CyclicLR
from mlx_lrsched.decay import Constant, CosineDecay, ExponentialDecay, StepDecay
from mlx_lrsched.mlx_lm import MLX_SCHEDULE_NAMES, from_mlx_lm_config, from_mlx_optimizers
from mlx_lrsched.one_cycle import OneCycle
from mlx_lrsched.warmup import Linear, Warmup

NUM_STEPS = 10_001  # every step 0 .. 10,000


def build_schedule(schedule_config: Mapping[str, Any], schedulers: Any) -> Callable[[Any], Any]:
    """mlx-lm's ``mlx_lm/tuner/utils.py::build_schedule``, with ``opt.schedulers`` passed in."""
    schedule_fn = getattr(schedulers, schedule_config["name"])
    arguments = schedule_config["arguments"]
    initial_lr = arguments[0]
    bound_schedule_fn = schedule_fn(*arguments)
    if warmup_steps := schedule_config.get("warmup", 0):
        warmup_init = schedule_config.get("warmup_init", 0.0)
        warmup_fn = schedulers.linear_schedule(warmup_init, initial_lr, warmup_steps)
        return schedulers.join_schedules([warmup_fn, bound_schedule_fn], [warmup_steps + 1])
    return bound_schedule_fn


def _exponential_decay(init: float, decay_rate: float) -> Callable[[Any], Any]:
    return lambda step: init * decay_rate**step


def _step_decay(init: float, decay_rate: float, step_size: int) -> Callable[[Any], Any]:
    return lambda step: init * (decay_rate ** (step // step_size))


def _cosine_decay(init: float, decay_steps: int, end: float = 0.0) -> Callable[[Any], Any]:
    def schedule(step: Any) -> Any:
        s = np.minimum(step, decay_steps)
        decay = 0.5 * (1.0 + np.cos((math.pi / decay_steps) * s))
        return end + decay * (init - end)

    return schedule


def _linear_schedule(init: float, end: float, steps: int) -> Callable[[Any], Any]:
    return lambda step: np.minimum(step, steps) * ((end - init) / steps) + init


def _join_schedules(schedules: list[Callable[[Any], Any]], boundaries: list[int]) -> Callable[[Any], Any]:
    def schedule(step: Any) -> Any:
        output = schedules[0](step)
        for boundary, later in zip(boundaries, schedules[1:], strict=True):
            output = np.where(step < boundary, output, later(step - boundary))
        return output

    return schedule


def _cosine_annealing_warm_restarts(
    init: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0
) -> Callable[[Any], Any]:
    """mlx's (after 0.32) scalar-only code, transcribed per step; its cycle index is a float logarithm."""

    def scalar(step_val: float) -> float:
        if T_mult == 1:
            T_cur, T_i = step_val % T_0, T_0
        elif step_val >= T_0:
            n = int(math.log((step_val / T_0 * (T_mult - 1) + 1), T_mult))
            T_cur = step_val - T_0 * (T_mult**n - 1) / (T_mult - 1)
            T_i = T_0 * T_mult**n
        else:
            T_cur, T_i = step_val, T_0
        return eta_min + (init - eta_min) * 0.5 * (1.0 + math.cos(math.pi * T_cur / T_i))

    return np.vectorize(scalar, otypes=[np.float64])


def _torch_warm_restarts(init: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0) -> Callable[[Any], Any]:
    """PyTorch's CosineAnnealingWarmRestarts stepped once per step for NUM_STEPS steps, as a lookup table."""
    torch = pytest.importorskip("torch", reason="the PyTorch oracle needs torch")
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=init)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0, T_mult=T_mult, eta_min=eta_min)
    table = []
    for _ in range(NUM_STEPS):
        table.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    values = np.array(table)
    return lambda step: values[np.asarray(step, dtype=np.int64)]


NUMPY_SCHEDULERS = types.SimpleNamespace(
    exponential_decay=_exponential_decay,
    step_decay=_step_decay,
    cosine_decay=_cosine_decay,
    linear_schedule=_linear_schedule,
    join_schedules=_join_schedules,
    cosine_annealing_warm_restarts=_cosine_annealing_warm_restarts,
)

MAIN_SCHEDULES = {
    "exponential_decay": [1e-3, 0.9995],
    "step_decay": [1e-3, 0.9, 700],
    "cosine_decay": [1e-3, 8000],
    "cosine_decay_end": [1e-3, 8000, 1e-5],
    "linear_schedule": [1e-3, 0.0, 9000],
    "linear_schedule_rising": [1e-5, 1e-3, 9000],
    "cosine_annealing_warm_restarts": [1e-3, 500],
    "cosine_annealing_warm_restarts_end": [1e-3, 10, 2, 1e-5],
}
WARMUPS = {"no_warmup": {}, "warmup": {"warmup": 100}, "warmup_from": {"warmup": 250, "warmup_init": 1e-7}}
CONFIGS = {
    f"{key}-{warmup_key}": {"name": key.removesuffix("_end").removesuffix("_rising"), "arguments": args, **warmup}
    for key, args in MAIN_SCHEDULES.items()
    for warmup_key, warmup in WARMUPS.items()
}


def test_every_mlx_optimizers_schedule_is_covered() -> None:
    public = {name for name in dir(optim.schedulers) if not name.startswith("_") and name[0].islower()}
    installed = {name for name in public if callable(getattr(optim.schedulers, name))}
    assert installed <= set(MLX_SCHEDULE_NAMES)
    assert {config["name"] for config in CONFIGS.values()} == set(MLX_SCHEDULE_NAMES) - {"join_schedules"}


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_numpy_transcription_is_the_mlx_optimizers_code(config: dict[str, Any]) -> None:
    steps = np.arange(NUM_STEPS, dtype=np.float64)
    transcribed = build_schedule(config, NUMPY_SCHEDULERS)(steps)
    if not hasattr(optim.schedulers, config["name"]):
        # This mlx lacks it (cosine_annealing_warm_restarts arrived after 0.32), and the transcription is the
        # oracle of the tests below: check it against PyTorch's CosineAnnealingWarmRestarts, which mlx's code
        # ports, stepped for real (over these steps its float logarithm misplaces no restart).
        assert config["name"] == "cosine_annealing_warm_restarts", f"mlx {mx.__version__} has no {config['name']}"
        peers = types.SimpleNamespace(**{**vars(NUMPY_SCHEDULERS), config["name"]: _torch_warm_restarts})
        real = build_schedule(config, peers)(steps)
        np.testing.assert_allclose(real, transcribed, rtol=1e-12, atol=1e-12 * 1e-3)
        return
    # The real MLX functions fed float64 steps: exact arithmetic and powers, cos to float32 accuracy (3e-8).
    real = np.array(build_schedule(config, optim.schedulers)(mx.array(steps, dtype=mx.float64)))
    np.testing.assert_allclose(real, transcribed, rtol=1e-7, atol=1e-7 * 1e-3)


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_from_mlx_lm_config_equals_build_schedule_at_every_step_in_float32(config: dict[str, Any]) -> None:
    schedule = from_mlx_lm_config(config)
    reference = build_schedule(config, NUMPY_SCHEDULERS)(np.arange(NUM_STEPS, dtype=np.float64))
    ours = np.array(schedule(mx.arange(NUM_STEPS, dtype=mx.uint64)))  # the optimizer's step dtype
    # 1e-6 relative; the absolute term only covers the float64 oracle's rounding where it should be 0
    np.testing.assert_allclose(ours, reference, rtol=1e-6, atol=1e-12 * schedule.peak)


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_from_mlx_lm_config_reference_backend_equals_build_schedule(config: dict[str, Any]) -> None:
    reference = build_schedule(config, NUMPY_SCHEDULERS)(np.arange(NUM_STEPS, dtype=np.float64))
    ours = from_mlx_lm_config(config)(np.arange(NUM_STEPS))
    # 1e-8: the literal 1 + cos(...) of the oracle cancels in float64 near a zero end (8e-10 measured)
    np.testing.assert_allclose(ours, reference, rtol=1e-8, atol=1e-15)


def test_mlx_float32_power_drifts_where_ours_does_not() -> None:
    config = CONFIGS["exponential_decay-no_warmup"]
    steps = mx.arange(NUM_STEPS, dtype=mx.uint64)
    reference = build_schedule(config, NUMPY_SCHEDULERS)(np.arange(NUM_STEPS, dtype=np.float64))
    mlx_error = np.abs(np.array(build_schedule(config, optim.schedulers)(steps)) / reference - 1.0)
    ours_error = np.abs(np.array(from_mlx_lm_config(config)(steps)) / reference - 1.0)
    assert mlx_error[-1] > 1e-4  # 0.9995 rounded to float32, raised to the 10,000th power
    assert ours_error.max() < 1e-6


def test_warm_restarts_restart_exactly_where_mlx_float_log_misplaces_them() -> None:
    ours = from_mlx_optimizers("cosine_annealing_warm_restarts", 1.0, 10, 3)  # cycles of 10, 30, 90, 270, 810
    assert ours == CosineRestarts(1.0, 10, t_mult=3)
    steps = np.arange(NUM_STEPS)
    mlx_code = NUMPY_SCHEDULERS.cosine_annealing_warm_restarts(1.0, 10, 3)(steps.astype(np.float64))
    values = ours(steps)
    differ = np.flatnonzero(np.abs(values - mlx_code) > 1e-9)
    assert differ.tolist() == [1210]  # 10 + 30 + 90 + 270 + 810: int(log3(243)) == 4 in float
    assert values[1210] == 1.0  # a restart, as in PyTorch's CosineAnnealingWarmRestarts
    assert mlx_code[1210] == 0.0  # position 810 of the 810-step cycle 4: past its end, at eta_min


def test_warmup_joins_at_warmup_plus_one_so_the_initial_rate_repeats() -> None:
    schedule = from_mlx_lm_config({"name": "cosine_decay", "arguments": [1.0, 4], "warmup": 4, "warmup_init": 0.2})
    values = schedule(np.arange(11))
    cosine = [0.5 * (1.0 + math.cos(math.pi * min(k, 4) / 4)) for k in range(6)]
    expected = [0.2, 0.4, 0.6, 0.8, 1.0, *cosine]  # linear 0.2 -> 1.0 over 4 steps, then cosine from step 5
    np.testing.assert_allclose(values, expected, rtol=1e-12, atol=1e-15)
    assert schedule == Join((Linear(0.2, 1.0, 4), CosineDecay(1.0, 4)), (5,))


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (("exponential_decay", 0.1, 0.9), ExponentialDecay(0.1, 0.9)),
        (("step_decay", 0.1, 0.5, 10), StepDecay(0.1, 10, gamma=0.5)),
        (("cosine_decay", 0.1, 100), CosineDecay(0.1, 100)),
        (("cosine_decay", 0.1, 100, 0.01), CosineDecay(0.1, 100, end_lr=0.01)),
        (("linear_schedule", 0.0, 0.1, 50), Linear(0.0, 0.1, 50)),
        (("cosine_annealing_warm_restarts", 0.1, 50), CosineRestarts(0.1, 50)),
        (("cosine_annealing_warm_restarts", 0.1, 50, 2, 0.01), CosineRestarts(0.1, 50, t_mult=2, end_lr=0.01)),
    ],
    ids=lambda value: value[0] if isinstance(value, tuple) else "",
)
def test_from_mlx_optimizers_maps_each_call_to_our_schedule(call: tuple[Any, ...], expected: Schedule) -> None:
    assert from_mlx_optimizers(*call) == expected


def test_from_mlx_optimizers_accepts_mlx_keyword_names() -> None:
    assert from_mlx_optimizers("cosine_decay", init=0.1, decay_steps=100, end=0.01) == CosineDecay(0.1, 100, 0.01)


def test_from_mlx_optimizers_join_equals_mlx_join_schedules_at_every_step() -> None:
    parts = [
        ("linear_schedule", 0.0, 1e-3, 100),
        ("cosine_decay", 1e-3, 5000, 1e-5),
        ("exponential_decay", 1e-5, 0.999),
    ]
    ours = from_mlx_optimizers("join_schedules", parts, [100, 5100])
    reference = NUMPY_SCHEDULERS.join_schedules(
        [getattr(NUMPY_SCHEDULERS, name)(*args) for name, *args in parts], [100, 5100]
    )(np.arange(NUM_STEPS, dtype=np.float64))
    np.testing.assert_allclose(np.array(ours(mx.arange(NUM_STEPS, dtype=mx.uint64))), reference, rtol=1e-6)


def test_join_accepts_schedules_config_dicts_and_mlx_calls_alike() -> None:
    cosine = CosineDecay(1e-3, 100)
    expected = Join((Linear(0.0, 1e-3, 10), cosine), (10,))
    as_calls = from_mlx_optimizers("join_schedules", [("linear_schedule", 0.0, 1e-3, 10), cosine], [10])
    as_config = from_mlx_lm_config(
        {
            "name": "join_schedules",
            "arguments": [[{"name": "linear_schedule", "arguments": [0.0, 1e-3, 10]}, cosine.to_config()], [10]],
        }
    )
    assert as_calls == as_config == expected


def test_join_config_with_warmup_warms_up_to_its_first_value() -> None:
    config = {
        "name": "join_schedules",
        "arguments": [[("cosine_decay", 0.5, 10), ("linear_schedule", 0.0, 1.0, 4)], [10]],
    }
    schedule = from_mlx_lm_config({**config, "warmup": 5})
    assert schedule == Join((Linear(0.0, 0.5, 5), from_mlx_lm_config(config)), (6,))


def test_our_schedule_names_take_arguments_in_field_order_and_kwargs() -> None:
    expected = CyclicLR(1e-4, 1e-3, step_size_up=200, mode="triangular2")
    positional = from_mlx_lm_config({"name": "CyclicLR", "arguments": [1e-4, 1e-3, 200, None, "triangular2"]})
    mixed = from_mlx_lm_config(
        {"name": "CyclicLR", "arguments": [1e-4, 1e-3], "kwargs": {"step_size_up": 200, "mode": "triangular2"}}
    )
    assert positional == mixed == expected


def test_our_schedule_names_warm_up_to_their_value_at_step_zero() -> None:
    config = {"name": "CyclicLR", "kwargs": {"base_lr": 1e-4, "max_lr": 1e-3, "step_size_up": 200}}
    schedule = from_mlx_lm_config({**config, "warmup": 50, "warmup_init": 0.0})
    assert schedule == Join((Linear(0.0, 1e-4, 50), CyclicLR(1e-4, 1e-3, 200)), (51,))


@pytest.mark.parametrize(
    "schedule",
    [
        Constant(0.1),
        CosineDecay(0.1, 1000, end_lr=1e-4),
        ExponentialDecay(0.1, 0.96, decay_steps=1000, staircase=True),
        PerEpoch(ExponentialDecay.from_rate(0.1, 0.05), 469),
        Warmup(CosineDecay(1e-3, 900), 100),
        CyclicLR(1e-4, 1e-3, 200, window="hann"),
    ],
    ids=lambda schedule: type(schedule).__name__,
)
def test_our_to_config_fields_load_as_kwargs(schedule: Schedule) -> None:
    fields = {key: value for key, value in schedule.to_config().items() if key != "name"}
    assert from_mlx_lm_config({"name": type(schedule).__name__, "kwargs": fields}) == schedule


def test_one_cycle_is_reachable_by_name_with_arguments_and_kwargs() -> None:
    config = {"name": "OneCycle", "arguments": [1e-3, 1000], "kwargs": {"pct_start": 0.25}}
    assert from_mlx_lm_config(config) == OneCycle(1e-3, 1000, pct_start=0.25)
    with_warmup = from_mlx_lm_config({**config, "warmup": 10})
    assert with_warmup == Join((Linear(0.0, 1e-3 / 25.0, 10), OneCycle(1e-3, 1000, pct_start=0.25)), (11,))


def test_a_whole_mlx_lm_config_is_accepted() -> None:
    lora_config = {"learning_rate": 1e-5, "lr_schedule": {"name": "cosine_decay", "arguments": [1e-5, 1000]}}
    assert from_mlx_lm_config(lora_config) == CosineDecay(1e-5, 1000)


def test_schedule_from_config_drives_an_optimizer_like_mlx_lm() -> None:
    config = {"name": "cosine_decay", "arguments": [1e-2, 20, 1e-4], "warmup": 5, "warmup_init": 1e-3}
    ours = optim.Adam(learning_rate=from_mlx_lm_config(config))
    theirs = optim.Adam(learning_rate=build_schedule(config, optim.schedulers))
    rates = []
    for _ in range(30):
        for optimizer in (ours, theirs):
            optimizer.update({}, {})  # no parameters: only the schedule advances
        rates.append((ours.learning_rate.item(), theirs.learning_rate.item()))
    np.testing.assert_allclose(*zip(*rates, strict=True), rtol=2e-6)  # both float32; mlx's own error ~1e-6


BAD_CONFIGS = [
    ({"name": "cosine", "arguments": [1e-3, 10]}, ValueError, r"unknown schedule name 'cosine' \(did you mean"),
    ({"name": "OneCylce", "arguments": []}, ValueError, "unknown schedule name 'OneCylce'"),
    ({"arguments": [1e-3, 10]}, ValueError, "missing the key 'name'"),
    ({"name": "cosine_decay"}, ValueError, "missing the key 'arguments'"),
    (
        {"name": "cosine_decay", "arguments": [1e-3]},
        ValueError,
        r"cosine_decay\(init, decay_steps, end=0.0\) takes 2 to 3 arguments, got \[0.001\]",
    ),
    (
        {"name": "cosine_decay", "arguments": [1e-3, 10, 0.0, 5]},
        ValueError,
        "takes 2 to 3 arguments, got \\[0.001, 10, 0.0, 5\\]",
    ),
    ({"name": "step_decay", "arguments": [1e-3, 0.5]}, ValueError, r"step_decay\(init, decay_rate, step_size\)"),
    ({"name": "cosine_decay", "arguments": [1e-3, 10], "warmup": -5}, ValueError, "warmup must be an integer in"),
    ({"name": "cosine_decay", "arguments": [1e-3, 10], "warmup": 5, "warmup_init": -1.0}, ValueError, "warmup_init"),
    (
        {"name": "cosine_decay", "arguments": [1e-3, 10], "warmup_steps": 5},
        ValueError,
        r"unknown key 'warmup_steps' \(did you mean 'warmup'\?\)",
    ),
    ({"name": "cosine_decay", "arguments": "1e-3 10"}, TypeError, "arguments must be a list"),
    ({"name": "cosine_decay", "arguments": ["1e-5", 10]}, TypeError, r"arguments\[0\] \(init\) must be a real number"),
    ({"name": "cosine_decay", "arguments": [1e-3, 10.5]}, TypeError, r"arguments\[1\] \(decay_steps\) must be an int"),
    ({"name": "step_decay", "arguments": [1e-3, 0.5, 0]}, ValueError, r"arguments\[2\] \(step_size\) must be an int"),
    ({"name": "exponential_decay", "arguments": [1e-3, 1.01]}, ValueError, r"arguments\[1\] \(decay_rate\)"),
    ({"name": "cosine_decay", "arguments": [-1e-3, 10]}, ValueError, r"arguments\[0\] \(init\) must be"),
    ({"name": "cosine_decay", "arguments": [1e-3], "kwargs": {"end": -1.0}}, ValueError, "missing a required"),
    (
        {"name": "CyclicLR", "arguments": [1e-4, 1e-3, 2, None, "triangular", 1.0, "linear", False, 0.8, 0.9, 9]},
        ValueError,
        "at most 10",
    ),
    (
        {"name": "CyclicLR", "arguments": [1e-4], "kwargs": {"base_lr": 1e-4}},
        ValueError,
        r"kwargs\['base_lr'\] repeats",
    ),
    ({"name": "CyclicLR", "kwargs": {"base": 1e-4}}, ValueError, "unknown config key 'base'"),
    (
        {"name": "join_schedules", "arguments": [[("cosine_decay", 1.0, 4), ("cosine_decay", 1.0, 4)], []]},
        ValueError,
        "boundaries",
    ),
    ({"name": "join_schedules", "arguments": [[("cosine_decay", 1.0, 4)], [3]]}, ValueError, "one entry fewer"),
    (
        {"name": "join_schedules", "arguments": [[lambda step: step], []]},
        TypeError,
        r"arguments\[0\] \(schedules\)\[0\]",
    ),
    (["cosine_decay", 1e-3, 10], TypeError, "must be a dict with a 'name' key"),
]


@pytest.mark.parametrize(("config", "error", "match"), BAD_CONFIGS, ids=[str(i) for i in range(len(BAD_CONFIGS))])
def test_bad_configs_raise_naming_the_key(config: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        from_mlx_lm_config(config)


def test_bad_config_errors_name_the_lr_schedule_and_the_name() -> None:
    with pytest.raises(ValueError, match=r"^lr_schedule 'step_decay': arguments\[1\] \(decay_rate\) must be"):
        from_mlx_lm_config({"name": "step_decay", "arguments": [1e-3, 2.0, 10]})


@pytest.mark.parametrize(
    ("call", "kwargs", "match"),
    [
        (("cosine",), {}, r"unknown schedule name 'cosine' \(did you mean 'cosine_decay'\?\)"),
        (("linear_schedule", 0.0, 1.0), {}, r"linear_schedule\(init, end, steps\) takes 3 arguments"),
        (("linear_schedule", 0.0, 1.0, 0), {}, "mlx.optimizers.linear_schedule: steps must be an integer in"),
        (("cosine_decay", 0.1, 10), {"ending": 0.0}, "unexpected keyword argument 'ending'"),
    ],
)
def test_from_mlx_optimizers_rejects_bad_calls(call: tuple[Any, ...], kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        from_mlx_optimizers(*call, **kwargs)
