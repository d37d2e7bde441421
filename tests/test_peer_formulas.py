"""The literal transcriptions of tests/_peer_formulas.py against the real peer libraries, over whole runs.

What makes the transcriptions trustworthy as oracles for the default test run (where optax, Keras, timm and
transformers are not installed): for every scheduler, seeded random configurations from tests/_peer_configs.py, each
run from step 0 to a few steps past its end on both sides, every step compared.

Tolerance: ``|formula - peer| <= 1e-12 * |peer| + 1e-15 * peak``, ``peak`` the largest ``|peer|`` of the run. The
absolute term is a few float64 ulps of the peak: where a value is the small difference of large terms (``1 + cos(x)``
near ``x = pi``, ``(end - start) * pct + start`` passing 0), an ulp of difference in ``cos`` or ``pow`` between Python's
libm and jax's or torch's kernels is a large *relative* error of a value that the peer itself only knows to an ulp of
the peak. PyTorch, timm and Hugging Face compute in Python floats, exactly as transcribed (recursions included), so they
agree bit for bit; optax (XLA) and Keras (torch tensors) differ by a few ulps.

Every test here needs a real peer library and is marked ``peers``: it skips where the library is missing (the default
run: only PyTorch is installed) and fails instead with ``MLX_LRSCHED_REQUIRE_PEERS=1`` (CI's peer step, after
``pip install -e ".[torch,peers]"``). Run them with ``pytest -m peers tests/test_peer_formulas.py``.
"""

from __future__ import annotations

import math
import random
from typing import Any

import _peer_formulas as formulas
import _peers as peers
import numpy as np
import pytest
from _peer_configs import (
    CONFIGS,
    EDGE_CONFIGS,
    PLATEAU_CONFIGS,
    plateau_metrics,
    run_steps,
    torch_momentum_kind,
)

pytestmark = pytest.mark.peers

RTOL = 1e-12
ATOL = 1e-15
"""Relative to the peak of the run (see the module docstring)."""

DRAWS = {"torch": 30, "timm": 60, "hf": 60, "optax": 12, "keras": 10}
"""Random configurations per scheduler: fewer where the peer is slow per call (jax compiles, Keras dispatches)."""

SCHEDULERS = [(library, name) for library, names in CONFIGS.items() for name in names]


def assert_close(formula: Any, peer: np.ndarray, what: str, slack: Any = 0.0) -> None:
    formula = np.asarray(formula, dtype=np.float64)
    peak = float(np.max(np.abs(peer), initial=0.0))
    error = np.abs(formula - peer)
    bad = error > RTOL * np.abs(peer) + ATOL * peak + slack
    if bad.any():
        step = int(np.argmax(bad))
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {peer.size} steps differ, first at step {step}: "
            f"formula {formula[step]!r}, peer {peer[step]!r}"
        )


def relative_error(formula: Any, peer: np.ndarray) -> float:
    """Worst ``|formula - peer| / max(|peer|, 1e-3 * peak)``: the figure the report quotes."""
    formula = np.asarray(formula, dtype=np.float64)
    peak = float(np.max(np.abs(peer), initial=0.0))
    return float(np.max(np.abs(formula - peer) / np.maximum(np.abs(peer), 1e-3 * peak + 1e-300), initial=0.0))


def xla_division_slack(library: str, name: str, config: dict[str, Any], steps: int) -> np.ndarray | float:
    """What XLA's reciprocal division leaves at the end of optax's polynomial_schedule (quirk 22).

    ``frac = 1 - count / transition_steps`` is within an ulp of 1 (2.2e-16) of 0 where it should be 0; raised to a
    power below 1 that is ``(init - end) * 2.2e-16 ** power``. Elsewhere the ulp stays an ulp.
    """
    if (library, name) != ("optax", "polynomial_schedule") or config["transition_steps"] <= 0:
        return 0.0
    end = max(0, config.get("transition_begin", 0)) + config["transition_steps"]
    held = np.arange(steps) >= end
    return held * abs(config["init_value"] - config["end_value"]) * 2.3e-16 ** min(config["power"], 1.0)


def seeded(library: str, name: str) -> random.Random:
    return random.Random(f"{library}/{name}")  # a str seed is hashed with SHA-512: the same draws in every process


@pytest.mark.parametrize(("library", "name"), SCHEDULERS, ids=[f"{lib}-{name}" for lib, name in SCHEDULERS])
def test_transcription_matches_the_peer_over_whole_runs(library: str, name: str) -> None:
    rng = seeded(library, name)
    for _ in range(DRAWS[library]):
        config = CONFIGS[library][name](rng)
        steps = run_steps(library, name, config)
        expected = peers.peer_values(library, name, config, steps)
        slack = xla_division_slack(library, name, config, steps)
        assert_close(formulas.curve(library, name, steps, **config), expected, f"{library} {name} {config}", slack)


EDGES = [
    (lib, name, config) for lib, names in EDGE_CONFIGS.items() for name, configs in names.items() for config in configs
]


@pytest.mark.parametrize(("library", "name", "config"), EDGES)
def test_transcription_matches_the_peer_on_its_quirks(library: str, name: str, config: dict[str, Any]) -> None:
    steps = run_steps(library, name, config)
    expected = peers.peer_values(library, name, config, steps)
    slack = xla_division_slack(library, name, config, steps)
    assert_close(formulas.curve(library, name, steps, **config), expected, f"{library} {name} {config}", slack)


@pytest.mark.parametrize("name", ["CyclicLR", "OneCycleLR"])
def test_torch_momentum_matches_on_sgd_momentum_and_adam_beta1(name: str) -> None:
    torch = pytest.importorskip("torch")
    rng = seeded("torch-momentum", name)
    draws = 0
    while draws < DRAWS["torch"]:
        config = CONFIGS["torch"][name](rng)
        if not config["cycle_momentum"]:
            continue
        draws += 1
        kind = torch_momentum_kind(draws)
        steps = run_steps("torch", name, config)
        kwargs = {key: value for key, value in config.items() if key != "lr"}
        scheduler = getattr(torch.optim.lr_scheduler, name)
        make = lambda opt, kw=kwargs, cls=scheduler: cls(opt, **kw)  # noqa: E731
        rates, momenta = peers.torch_rates(make, config["lr"], steps, kind)
        momentum = formulas.MOMENTUM_FORMULAS["torch"][name]
        assert_close([momentum(step, **config) for step in range(steps)], momenta, f"{name} {kind} {config}")
        assert_close(formulas.curve("torch", name, steps, **config), rates, f"{name} {kind} {config}")


@pytest.mark.parametrize("name", sorted(formulas.TORCH_CLOSED_FORMS))
def test_torch_closed_forms_match_step_with_an_epoch(name: str) -> None:
    torch = pytest.importorskip("torch")
    rng = seeded("torch-closed", name)
    for _ in range(DRAWS["torch"]):
        config = CONFIGS["torch"][name](rng)
        steps = run_steps("torch", name, config)
        kwargs = {key: value for key, value in config.items() if key != "lr"}
        scheduler = getattr(torch.optim.lr_scheduler, name)
        make = lambda opt, kw=kwargs, cls=scheduler: cls(opt, **kw)  # noqa: E731
        expected = peers.torch_closed_form_rates(make, config["lr"], steps)
        closed = formulas.TORCH_CLOSED_FORMS[name]
        assert_close([closed(step, **config) for step in range(steps)], expected, f"{name} {config}")


@pytest.mark.parametrize("name", sorted(formulas.TORCH_CLOSED_FORMS))
def test_torch_recursions_stay_within_rounding_of_the_closed_forms(name: str) -> None:
    """PyTorch's stepped rates are recursions; they drift from the closed form by rounding only (quirk 1).

    The bound is 1e-12 of the peak (measured: 9e-14, CosineAnnealingLR past T_max; the others below 1e-15).
    """
    rng = seeded("torch-drift", name)
    for _ in range(DRAWS["torch"]):
        config = CONFIGS["torch"][name](rng)
        steps = run_steps("torch", name, config)
        recursive = np.array(formulas.curve("torch", name, steps, **config))
        closed = np.array([formulas.TORCH_CLOSED_FORMS[name](step, **config) for step in range(steps)])
        peak = float(np.max(np.abs(closed)))
        assert np.max(np.abs(recursive - closed)) <= 1e-12 * peak, f"{name} {config}"


@pytest.mark.parametrize("library", ["torch", "hf"])
def test_reduce_lr_on_plateau_matches_the_transcription(library: str) -> None:
    """PyTorch's ReduceLROnPlateau, and Hugging Face's reduce_lr_on_plateau (the same class, built by get_scheduler)."""
    rng = seeded("torch", "ReduceLROnPlateau")
    for _ in range(DRAWS["torch"]):
        config = PLATEAU_CONFIGS["torch"]["ReduceLROnPlateau"](rng)
        metrics = plateau_metrics(rng, 60)
        if library == "torch":
            rates = peers.torch_plateau_rates(metrics=metrics, **config)
        else:
            kwargs = {key: value for key, value in config.items() if key != "lr"}
            rates = peers.hf_rates("reduce_lr_on_plateau", config["lr"], 0, metrics=metrics, **kwargs)
        assert_close(formulas.torch_plateau_run(metrics=metrics, **config), rates, f"{library} {config}")


def test_timm_plateau_matches_the_transcription() -> None:
    rng = seeded("timm", "PlateauLRScheduler")
    for index in range(DRAWS["timm"]):
        config = PLATEAU_CONFIGS["timm"]["PlateauLRScheduler"](rng)
        metrics = plateau_metrics(rng, 50)
        epochs = list(range(len(metrics))) if index % 4 == 0 else None  # step(0, ...) too: quirk 11
        expected = peers.timm_plateau_rates(metrics=metrics, epochs=epochs, **config)
        assert_close(formulas.timm_plateau_run(metrics=metrics, epochs=epochs, **config), expected, f"{config}")


def test_optax_scalar_calls_agree_with_the_vmapped_values() -> None:
    """optax_values evaluates under jax.vmap for speed; a schedule called with a Python int agrees within the
    tolerance (XLA divides a vector by a constant through its reciprocal: an ulp, quirk 22)."""
    for name, draw in CONFIGS["optax"].items():
        config = draw(seeded("optax-scalar", name))
        steps = min(run_steps("optax", name, config), 8)
        vmapped = peers.optax_values(name, steps, **config)
        assert_close(peers.optax_values(name, steps, scalar=True, **config), vmapped, f"{name} {config}")


def test_optax_polynomial_end_is_off_by_a_power_of_an_ulp_under_vmap() -> None:
    config = {"init_value": 1.0, "end_value": 0.0, "power": 0.5, "transition_steps": 49}
    vmapped = peers.optax_values("polynomial_schedule", 52, **config)
    scalar = peers.optax_values("polynomial_schedule", 52, scalar=True, **config)
    assert scalar[49] == 0.0 == formulas.optax_polynomial_schedule(49, **config)
    assert 1e-9 < vmapped[49] < math.sqrt(2.3e-16)


def test_keras_values_are_float64() -> None:
    """Keras computes in floatx: the harness sets float64, so values agree with the float64 formula to 1e-15, not
    float32's 6e-8 (and the default floatx is restored)."""
    keras_values = peers.keras_values("CosineDecay", 50, initial_learning_rate=0.1, decay_steps=40, alpha=0.01)
    expected = [formulas.keras_cosine_decay(step, 0.1, 40, alpha=0.01) for step in range(50)]
    np.testing.assert_allclose(keras_values, expected, rtol=1e-15, atol=0)
    import keras

    assert keras.config.floatx() == "float32"


# ---------------------------------------------------------------------------------------------------------------------
# timm's training loop: the rate an update uses, and the noise
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CONFIGS["timm"]))
def test_timm_training_loop_uses_get_lr_of_the_epoch_or_update(name: str) -> None:
    """Update k uses ``_get_lr(k // steps_per_epoch)`` (``t_in_epochs``) or ``_get_lr(k)``, except the first epoch or
    update, which use the constructor's rate: ``warmup_lr_init`` or ``lr`` (quirk 10)."""
    rng = seeded("timm-loop", name)
    for _ in range(10):
        config = CONFIGS["timm"][name](rng)
        steps_per_epoch = rng.randint(1, 5) if config["t_in_epochs"] else 1
        steps = run_steps("timm", name, config) * steps_per_epoch
        kwargs = {key: value for key, value in config.items() if key != "lr"}
        rates, initial = peers.timm_training_rates(name, config["lr"], steps, steps_per_epoch, **kwargs)
        assert initial == (config["warmup_lr_init"] if config.get("warmup_t") else config["lr"])
        formula = formulas.FORMULAS["timm"][name]
        expected = [formula(k // steps_per_epoch, **config) for k in range(steps)]
        expected[:steps_per_epoch] = [initial] * steps_per_epoch
        assert_close(expected, rates, f"{name} {config}")


def test_timm_noise_is_seeded_and_within_noise_pct() -> None:
    """The noise helper for the lead's statistics: noise multiplies the rate by 1 + n, |n| < noise_pct, seeded per t."""
    config = {"t_initial": 100, "t_in_epochs": False, "noise_range_t": (5, 40), "noise_pct": 0.2, "noise_seed": 3}
    noisy, _ = peers.timm_training_rates("CosineLRScheduler", 0.1, 60, **config)
    again, _ = peers.timm_training_rates("CosineLRScheduler", 0.1, 60, **config)
    clean = np.array([formulas.timm_cosine(t, 0.1, 100) for t in range(60)])
    ratio = noisy[1:] / clean[1:] - 1  # update k runs with the rate step_update(k) set: noise drawn at t = k
    np.testing.assert_array_equal(noisy, again)
    assert np.all(np.abs(ratio) < 0.2)
    assert np.count_nonzero(ratio) == 35  # t in [5, 40)
    np.testing.assert_array_equal(np.nonzero(ratio)[0] + 1, np.arange(5, 40))


# ---------------------------------------------------------------------------------------------------------------------
# The quirks, shown on the real peers with hand-computed values
# ---------------------------------------------------------------------------------------------------------------------


def torch_run(name: str, lr: float, steps: int, **kwargs: Any) -> np.ndarray:
    torch = pytest.importorskip("torch")
    scheduler = getattr(torch.optim.lr_scheduler, name)
    return peers.torch_rates(lambda opt: scheduler(opt, **kwargs), lr, steps)  # type: ignore[return-value]


def test_torch_total_iters_zero_never_undoes_the_factor() -> None:
    np.testing.assert_array_equal(torch_run("ConstantLR", 0.1, 5, factor=0.5, total_iters=0), [0.05] * 5)
    np.testing.assert_array_equal(torch_run("LinearLR", 0.1, 5, start_factor=0.25, total_iters=0), [0.025] * 5)
    assert formulas.TORCH_CLOSED_FORMS["ConstantLR"](3, 0.1, factor=0.5, total_iters=0) == 0.1


def test_torch_cosine_annealing_turns_back_up_past_t_max() -> None:
    rates = torch_run("CosineAnnealingLR", 1.0, 21, T_max=10)
    assert rates[10] < 1e-15 and math.isclose(rates[15], 0.5, rel_tol=1e-12) and math.isclose(rates[20], 1.0)


def test_torch_one_cycle_extrapolates_its_last_phase_at_total_steps_then_raises() -> None:
    config = {"max_lr": 1.0, "total_steps": 4, "pct_start": 0.5, "anneal_strategy": "linear", "div_factor": 10.0}
    rates = torch_run("OneCycleLR", 0.1, 5, final_div_factor=10.0, **config)
    # last phase: from max_lr 1 at step 1 to min_lr 0.01 at step 3; step 4 is pct 1.5: 1 + (0.01 - 1) * 1.5
    assert math.isclose(rates[4], -0.485, rel_tol=1e-12)
    with pytest.raises(ValueError, match="Tried to step 5 times"):
        torch_run("OneCycleLR", 0.1, 6, final_div_factor=10.0, **config)


def test_timm_multistep_applies_a_milestone_one_step_early() -> None:
    rates = peers.timm_rates("MultiStepLRScheduler", 1.0, 8, decay_t=[3, 6], decay_rate=0.5)
    np.testing.assert_array_equal(rates, [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25])
    np.testing.assert_array_equal(torch_run("MultiStepLR", 1.0, 8, milestones=[3, 6], gamma=0.5)[2:4], [1.0, 0.5])


def test_timm_float_cycle_index_misses_some_restarts() -> None:
    """cycle_mul 3, t_initial 1: cycle 5 starts at t = 1 + 3 + 9 + 27 + 81 = 121, but math.log(243, 3) is
    4.999999999999999, so t = 121 is the end of cycle 4 (the cosine at lr_min), not the restart."""
    assert math.floor(math.log(1 - 121 / 1 * (1 - 3), 3)) == 4
    rates = peers.timm_rates("CosineLRScheduler", 1.0, 123, t_initial=1, cycle_mul=3, cycle_limit=6)
    assert rates[40] == 1.0 and rates[121] == 0.0 and rates[122] > 0.99


def test_timm_tanh_get_lr_0_is_not_the_constructor_rate() -> None:
    rates, initial = peers.timm_training_rates("TanhLRScheduler", 1.0, 3, t_initial=10, t_in_epochs=False)
    assert initial == 1.0 == rates[0]
    assert math.isclose(peers.timm_rates("TanhLRScheduler", 1.0, 1, t_initial=10)[0], (1 - math.tanh(-7)) / 2)


def test_timm_plateau_step_0_sets_warmup_lr_init_without_warmup() -> None:
    rates = peers.timm_plateau_rates(0.1, [1.0, 1.0], epochs=[0, 1])
    np.testing.assert_array_equal(rates, [0.1, 0.0, 0.0])


def test_hf_cosine_turns_back_up_past_num_training_steps() -> None:
    rates = peers.hf_rates("cosine", 1.0, 21, num_warmup_steps=0, num_training_steps=10)
    assert rates[10] == 0.0 and math.isclose(rates[15], 0.5) and math.isclose(rates[20], 1.0)


def test_hf_cosine_oscillates_when_training_steps_do_not_exceed_warmup() -> None:
    rates = peers.hf_rates("cosine", 1.0, 14, num_warmup_steps=10, num_training_steps=10)
    np.testing.assert_allclose(rates[10:], [1.0, 0.0, 1.0, 0.0], atol=1e-15)


def test_optax_onecycle_loses_a_phase_when_two_boundaries_round_together() -> None:
    """int(0.3 * 10) == int(0.35 * 10) == 3: the dict keeps one boundary, scale 1 / div_factor, so the rise to the
    peak is gone."""
    config = {"transition_steps": 10, "peak_value": 1.0, "pct_start": 0.3, "pct_final": 0.35}
    values = peers.optax_values("linear_onecycle_schedule", 11, **config)
    assert max(values) < 0.05


def test_optax_scales_at_the_boundary_and_keras_one_step_after() -> None:
    optax = peers.optax_values("piecewise_constant_schedule", 4, init_value=1.0, boundaries_and_scales={2: 0.5})
    keras = peers.keras_values("PiecewiseConstantDecay", 4, boundaries=[2], values=[1.0, 0.5])
    np.testing.assert_array_equal(optax, [1.0, 1.0, 0.5, 0.5])
    np.testing.assert_array_equal(keras, [1.0, 1.0, 1.0, 0.5])


def test_keras_truncates_float_boundaries_and_cycles_polynomials_to_the_end_value() -> None:
    keras = peers.keras_values("PiecewiseConstantDecay", 5, boundaries=[1.9, 3.5], values=[1.0, 0.5, 0.25])
    np.testing.assert_array_equal(keras, [1.0, 1.0, 0.5, 0.5, 0.25])  # boundaries 1 and 3
    poly = peers.keras_values("PolynomialDecay", 6, initial_learning_rate=1.0, decay_steps=2, end_learning_rate=0.0)
    cycled = peers.keras_values(
        "PolynomialDecay", 6, initial_learning_rate=1.0, decay_steps=2, end_learning_rate=0.0, cycle=True
    )
    np.testing.assert_array_equal(poly, [1.0, 0.5, 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(cycled, [1.0, 0.5, 0.0, 0.25, 0.0, 1 - 5 / 6])  # decay_steps 2 * ceil(5 / 2)


def test_keras_floors_in_float32() -> None:
    """``step / decay_steps = 99999.999`` is 100000.0 in float32: Keras' staircase is a step early (quirk 26)."""
    config = {"initial_learning_rate": 1.0, "decay_steps": 1000, "decay_rate": 0.9999, "staircase": True}
    steps = [99_998_999, 99_999_999, 100_000_000]
    keras = peers.keras_values("ExponentialDecay", steps, **config)
    np.testing.assert_array_equal(keras, [0.9999**99_999, 0.9999**100_000, 0.9999**100_000])
    np.testing.assert_array_equal([formulas.keras_exponential_decay(step, **config) for step in steps], keras)
    sgdr = {"initial_learning_rate": 1.0, "first_decay_steps": 1, "t_mul": 3.0}
    restarts = peers.keras_values("CosineDecayRestarts", [120, 121], **sgdr)
    np.testing.assert_array_equal(restarts[1], 1.0)  # floor(float32(4.999999999999999)): the restart timm misses
