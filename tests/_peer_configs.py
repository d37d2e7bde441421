"""Random valid configurations of every peer scheduler, one seeded generator each, shared by the peer tests.

``CONFIGS[library][name](rng) -> dict`` draws one configuration from a ``random.Random``: exactly the keyword arguments
that both the transcription (``FORMULAS[library][name](step, **config)`` in ``tests/_peer_formulas.py``) and the real
library (``peer_values(library, name, config, steps)`` in ``tests/_peers.py``) take. PyTorch, timm and Hugging Face
configs carry the optimizer's rate as ``lr``; Hugging Face configs carry ``num_warmup_steps`` and
``num_training_steps`` beside the ``scheduler_specific_kwargs``. ``run_steps(library, name, config)`` is how many steps
a test should run: through the end of the schedule and :data:`EXTRA_STEPS` past it (PyTorch's ``OneCycleLR`` stops at
``total_steps``: it raises after). Together a generator's draws cover every argument of its scheduler; each generator
lists what it leaves out and why (values the peer rejects, divides by zero on, or silently replaces).

Not drawn, because they do not change the values: PyTorch's and Hugging Face's ``last_epoch`` (resuming), timm's noise
arguments (the transcriptions are noise-free; ``tests/_peers.py: timm_training_rates`` runs the noise) and
``initialize``, Keras' ``name``.

:data:`EDGE_CONFIGS` holds hand-picked configurations that show the quirks listed in ``tests/_peer_formulas.py``;
:data:`PLATEAU_CONFIGS` and :func:`plateau_metrics` the metric-driven schedulers. Usage::

    rng = random.Random(seed)
    config = CONFIGS["timm"]["CosineLRScheduler"](rng)
    steps = run_steps("timm", "CosineLRScheduler", config)
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from typing import Any

Config = dict[str, Any]
Generator = Callable[[random.Random], Config]

EXTRA_STEPS = 5
"""Steps run past the end of a finite schedule, to see what the peer holds (or does) there."""

MAX_STEPS = 400
"""The generators keep runs at most about this long, so a test of many configurations stays fast."""


def _lr(rng: random.Random) -> float:
    return 10 ** rng.uniform(-4, 0)


def _maybe(rng: random.Random, value: Any, otherwise: Any, p: float = 0.5) -> Any:
    return value if rng.random() < p else otherwise


def _rate(rng: random.Random, low: float = 0.05, high: float = 1.0) -> float:
    """A decay factor in (low, high]."""
    return rng.uniform(low, high)


def square_decay(fraction: float) -> float:
    """A user decay function (timm ``WSDLRScheduler(decay_fn=callable)``)."""
    return (1.0 - fraction) ** 2


def inverse_scale(x: float) -> float:
    """A user scale function (PyTorch ``CyclicLR(scale_fn=callable)``)."""
    return 1.0 / (1.0 + 0.1 * x)


# =====================================================================================================================
# PyTorch 2.13.0
# =====================================================================================================================


def _torch_step_lr(rng: random.Random) -> Config:
    return {"lr": _lr(rng), "step_size": rng.randint(1, 30), "gamma": _rate(rng)}


def _torch_multi_step_lr(rng: random.Random) -> Config:
    # Milestones may repeat and may be 0 (both valid in PyTorch); PyTorch sorts nothing but counts them.
    milestones = sorted(rng.randint(0, 120) for _ in range(rng.randint(1, 5)))
    return {"lr": _lr(rng), "milestones": milestones, "gamma": _rate(rng)}


def _torch_constant_lr(rng: random.Random) -> Config:
    # Excluded: factor 0 (ZeroDivisionError at total_iters) and total_iters 0 (the factor is never undone):
    # EDGE_CONFIGS.
    return {"lr": _lr(rng), "factor": rng.uniform(0.01, 1.0), "total_iters": rng.randint(1, 60)}


def _torch_linear_lr(rng: random.Random) -> Config:
    # Excluded: total_iters 0 (the start factor is never undone): EDGE_CONFIGS. end_factor 0 is kept: the recursion
    # reaches exactly 0 there.
    return {
        "lr": _lr(rng),
        "start_factor": rng.uniform(0.01, 1.0),
        "end_factor": _maybe(rng, rng.uniform(0.0, 1.0), rng.choice([0.0, 1.0])),
        "total_iters": rng.randint(1, 60),
    }


def _torch_exponential_lr(rng: random.Random) -> Config:
    return {"lr": _lr(rng), "gamma": _maybe(rng, rng.uniform(0.9, 1.0), rng.uniform(0.5, 1.02), 0.7)}


def _torch_polynomial_lr(rng: random.Random) -> Config:
    # Excluded: total_iters 0 (the closed form divides by zero; the recursion holds lr): EDGE_CONFIGS.
    return {"lr": _lr(rng), "total_iters": rng.randint(1, 80), "power": rng.uniform(0.2, 4.0)}


def _torch_cosine_annealing_lr(rng: random.Random) -> Config:
    lr = _lr(rng)
    return {"lr": lr, "T_max": rng.randint(1, 100), "eta_min": _maybe(rng, lr * rng.uniform(0.0, 0.5), 0.0)}


def _torch_cosine_annealing_warm_restarts(rng: random.Random) -> Config:
    lr = _lr(rng)
    return {
        "lr": lr,
        "T_0": rng.randint(1, 40),
        "T_mult": rng.choice([1, 1, 2, 3]),
        "eta_min": _maybe(rng, lr * rng.uniform(0.0, 0.5), 0.0),
    }


def _torch_cyclic_lr(rng: random.Random) -> Config:
    # Excluded: step_size_up 0 (ZeroDivisionError at step 0). step_size_down 0 is a sawtooth and kept.
    # scale_mode is drawn for every mode though PyTorch reads it only with a scale_fn (quirk 5).
    base_lr = _lr(rng)
    config = {
        "lr": _lr(rng),
        "base_lr": base_lr,
        "max_lr": base_lr * rng.uniform(1.0, 20.0),
        "step_size_up": rng.randint(1, 40),
        "step_size_down": rng.choice([None, rng.randint(0, 40)]),
        "mode": rng.choice(["triangular", "triangular2", "exp_range"]),
        "gamma": rng.uniform(0.95, 1.0),
        "scale_mode": rng.choice(["cycle", "iterations"]),
        "cycle_momentum": rng.random() < 0.7,
        "base_momentum": rng.uniform(0.5, 0.9),
    }
    config["max_momentum"] = rng.uniform(config["base_momentum"], 0.99)
    if rng.random() < 0.2:
        config["scale_fn"] = inverse_scale
    return config


def _torch_one_cycle_lr(rng: random.Random) -> Config:
    # Excluded: a phase of length 0 (PyTorch divides by zero when it reaches it; pct_start * total_steps == 1 at
    # step 0), and three_phase with pct_start > 0.5 (the phases overlap: EDGE_CONFIGS).
    while True:
        three_phase = rng.random() < 0.4
        config: Config = {
            "lr": _lr(rng),
            "max_lr": _lr(rng),
            "pct_start": rng.uniform(0.05, 0.5 if three_phase else 0.95),
            "anneal_strategy": rng.choice(["cos", "linear"]),
            "cycle_momentum": rng.random() < 0.7,
            "base_momentum": rng.uniform(0.5, 0.9),
            "div_factor": rng.uniform(2.0, 100.0),
            "final_div_factor": 10 ** rng.uniform(0, 5),
            "three_phase": three_phase,
        }
        config["max_momentum"] = rng.uniform(config["base_momentum"], 0.99)
        if rng.random() < 0.25:
            config["epochs"], config["steps_per_epoch"] = rng.randint(1, 10), rng.randint(1, 30)
            total = config["epochs"] * config["steps_per_epoch"]
        else:
            config["total_steps"] = total = rng.randint(2, 300)
        ends = [0.0, float(config["pct_start"] * total) - 1]
        ends += [float(2 * config["pct_start"] * total) - 2] if three_phase else []
        ends += [total - 1]
        if all(a != b for a, b in itertools.pairwise(ends)):
            return config


def torch_momentum_kind(index: int) -> str:
    """Where a cyclic scheduler's momentum goes in a test: SGD's momentum or Adam's beta1, alternating."""
    return "beta1" if index % 2 else "momentum"


# =====================================================================================================================
# timm 1.0.31
# =====================================================================================================================


def _timm_common(rng: random.Random, warmup_prefix_default: bool) -> Config:
    lr = _lr(rng)
    config: Config = {"lr": lr, "t_in_epochs": rng.random() < 0.5}
    if rng.random() < 0.6:
        config["warmup_t"] = rng.randint(1, 12)
        config["warmup_lr_init"] = _maybe(rng, lr * rng.uniform(0.0, 0.5), 0.0)
    config["warmup_prefix"] = _maybe(rng, not warmup_prefix_default, warmup_prefix_default)
    return config


def _timm_cycles(rng: random.Random, config: Config) -> Config:
    """t_initial, cycle_mul (integer, integer-valued float and non-integer), cycle_decay, cycle_limit.

    Excluded: cycle_mul < 1 (timm takes the log of a negative number past the finite total length and raises).
    """
    cycle_mul = rng.choice([1.0, 1, 2, 2.0, 3, 1.5, round(rng.uniform(1.05, 2.5), 3)])
    cycle_limit = rng.randint(1, 4)
    length = cycle_limit if cycle_mul == 1 else (cycle_mul**cycle_limit - 1) / (cycle_mul - 1)
    config["t_initial"] = rng.randint(1, max(1, min(80, int(300 / length))))
    config["cycle_mul"] = cycle_mul
    config["cycle_limit"] = cycle_limit
    config["cycle_decay"] = _maybe(rng, rng.uniform(0.3, 1.0), 1.0)
    config["lr_min"] = _maybe(rng, config["lr"] * rng.uniform(0.0, 0.2), 0.0)
    return config


def _timm_cosine(rng: random.Random) -> Config:
    # k_decay: 1 (the default) or a non-integer power of the position in the cycle.
    config = _timm_cycles(rng, _timm_common(rng, False))
    config["k_decay"] = _maybe(rng, rng.uniform(0.5, 2.0), 1.0)
    return config


def _timm_tanh(rng: random.Random) -> Config:
    config = _timm_cycles(rng, _timm_common(rng, False))
    config["lb"], config["ub"] = rng.uniform(-10.0, -1.0), rng.uniform(1.0, 6.0)
    return config


def _timm_poly(rng: random.Random) -> Config:
    config = _timm_cycles(rng, _timm_common(rng, False))
    config["power"] = rng.uniform(0.3, 3.0)
    config["k_decay"] = _maybe(rng, rng.uniform(0.5, 2.0), 1.0)
    return config


def _timm_step(rng: random.Random) -> Config:
    # decay_t: an int, or a float (timm floor-divides by it). Excluded: 0 (ZeroDivisionError).
    config = _timm_common(rng, True)
    config["decay_t"] = _maybe(rng, rng.randint(1, 30), round(rng.uniform(0.5, 20.0), 2), 0.7)
    config["decay_rate"] = _rate(rng)
    return config


def _timm_multi_step(rng: random.Random) -> Config:
    # Milestones are sorted (timm bisects them) and may repeat.
    config = _timm_common(rng, True)
    config["decay_t"] = sorted(rng.randint(1, 120) for _ in range(rng.randint(1, 5)))
    config["decay_rate"] = _rate(rng)
    return config


def _timm_wsd(rng: random.Random) -> Config:
    # Excluded: what timm rejects (decay_t outside (0, t_initial], a non-positive stable_timescale, power or ratio
    # outside its range). decay_fn: each name, or a callable.
    config = _timm_common(rng, False)
    del config["warmup_prefix"]  # the warmup is always a prefix: WSDLRScheduler has no such argument
    t_initial = rng.randint(1, 250)
    config.update(
        t_initial=t_initial,
        decay_t=rng.randint(1, t_initial),
        lr_min=_maybe(rng, config["lr"] * rng.uniform(0.0, 0.3), 0.0),
        stable_fn=rng.choice(["constant", "constant", "rsqrt", "power"]),
        stable_power=rng.uniform(0.1, 1.5),
        decay_fn=rng.choice(["linear", "1-sqrt", "cosine", "power", "exp", square_decay]),
        decay_power=rng.uniform(0.2, 3.0),
        decay_ratio=rng.uniform(0.01, 0.9),
    )
    if config["stable_fn"] != "constant" and (not config.get("warmup_t") or rng.random() < 0.5):
        config["stable_timescale"] = rng.uniform(1.0, 50.0)
    return config


# =====================================================================================================================
# Hugging Face transformers 5.24.0
# =====================================================================================================================


def _hf_steps(rng: random.Random, warmup_below_total: bool = True) -> Config:
    total = rng.randint(1, 300)
    warmup = rng.randint(0, total - 1 if warmup_below_total else total)
    return {"lr": _lr(rng), "num_warmup_steps": warmup, "num_training_steps": total}


def _hf_linear(rng: random.Random) -> Config:
    return _hf_steps(rng, warmup_below_total=False)


def _hf_cosine(rng: random.Random) -> Config:
    # num_warmup_steps < num_training_steps: with equal counts the max(1, ...) guard makes the cosine oscillate
    # (EDGE_CONFIGS).
    return {**_hf_steps(rng), "num_cycles": _maybe(rng, rng.uniform(0.1, 3.0), 0.5)}


def _hf_cosine_with_restarts(rng: random.Random) -> Config:
    return {**_hf_steps(rng), "num_cycles": rng.randint(1, 5)}


def _hf_polynomial(rng: random.Random) -> Config:
    # Excluded: num_warmup_steps == num_training_steps (ZeroDivisionError at that step) and lr_end >= lr (HF raises).
    config = _hf_steps(rng)
    config.update(lr_end=_maybe(rng, config["lr"] * rng.uniform(0.0, 0.9), 0.0), power=rng.uniform(0.2, 4.0))
    return config


def _hf_constant(rng: random.Random) -> Config:
    return {"lr": _lr(rng)}


def _hf_constant_with_warmup(rng: random.Random) -> Config:
    return {"lr": _lr(rng), "num_warmup_steps": rng.randint(0, 100)}


def _hf_inverse_sqrt(rng: random.Random) -> Config:
    # Excluded: timescale 0 (division by zero); timescale None with num_warmup_steps 0 is 10_000 and kept.
    config: Config = {"lr": _lr(rng), "num_warmup_steps": rng.randint(0, 100)}
    if rng.random() < 0.5:
        config["timescale"] = rng.randint(1, 200)
    return config


def _hf_cosine_with_min_lr(rng: random.Random) -> Config:
    config = _hf_cosine(rng)
    if rng.random() < 0.5:
        config["min_lr"] = config["lr"] * rng.uniform(0.0, 0.5)
    else:
        config["min_lr_rate"] = rng.uniform(0.0, 0.5)
    return config


def _hf_cosine_warmup_with_min_lr(rng: random.Random) -> Config:
    config = _hf_cosine_with_min_lr(rng)
    if rng.random() < 0.5:
        config["warmup_lr_rate"] = rng.uniform(0.0, 0.9)
    return config


def _hf_warmup_stable_decay(rng: random.Random) -> Config:
    # The stable length is given (num_stable_steps) or implied by num_training_steps; excluded: an implied negative
    # stable length (num_warmup_steps + num_decay_steps > num_training_steps).
    warmup, decay, stable = rng.randint(0, 80), rng.randint(0, 150), rng.randint(0, 100)
    config: Config = {
        "lr": _lr(rng),
        "num_warmup_steps": warmup,
        "num_decay_steps": decay,
        "warmup_type": rng.choice(["linear", "cosine", "1-sqrt"]),
        "decay_type": rng.choice(["linear", "cosine", "1-sqrt"]),
        "min_lr_ratio": _maybe(rng, rng.uniform(0.0, 0.5), 0.0),
        "num_cycles": _maybe(rng, rng.uniform(0.2, 1.0), 0.5),
    }
    if rng.random() < 0.5:
        config["num_training_steps"] = warmup + stable + decay
    else:
        config["num_stable_steps"] = stable
    return config


# =====================================================================================================================
# optax 0.2.8
# =====================================================================================================================


def _optax_constant(rng: random.Random) -> Config:
    return {"value": _lr(rng)}


def _optax_polynomial(rng: random.Random) -> Config:
    # Excluded: transition_steps <= 0 and transition_begin < 0, which optax silently replaces (EDGE_CONFIGS).
    return {
        "init_value": _lr(rng),
        "end_value": _maybe(rng, _lr(rng) * 0.1, 0.0),
        "power": rng.uniform(0.2, 4.0),
        "transition_steps": rng.randint(1, 200),
        "transition_begin": _maybe(rng, rng.randint(0, 60), 0),
    }


def _optax_linear(rng: random.Random) -> Config:
    config = _optax_polynomial(rng)
    del config["power"]
    return config


def _boundaries_and_scales(rng: random.Random, low: float, high: float) -> dict[int, float]:
    return {rng.randint(0, 200): rng.uniform(low, high) for _ in range(rng.randint(1, 5))}


def _optax_piecewise_constant(rng: random.Random) -> Config:
    # Scales are >= 0 (optax raises otherwise); a scale above 1 and a boundary at 0 are kept.
    return {
        "init_value": _lr(rng),
        "boundaries_and_scales": _maybe(rng, _boundaries_and_scales(rng, 0.0, 1.5), None, 0.9),
    }


def _optax_exponential(rng: random.Random) -> Config:
    # Decay (rate < 1, end_value a floor) or growth (rate > 1, end_value a ceiling). Excluded: decay_rate 0 and
    # transition_steps <= 0 (replaced by a constant: EDGE_CONFIGS), negative rates (NaN).
    init_value = _lr(rng)
    growth = rng.random() < 0.25
    rate = rng.uniform(1.0, 1.5) if growth else rng.uniform(0.05, 1.0)
    config: Config = {
        "init_value": init_value,
        "transition_steps": rng.randint(1, 50),
        "decay_rate": rate,
        "transition_begin": _maybe(rng, rng.randint(0, 50), 0),
        "staircase": rng.random() < 0.5,
    }
    if rng.random() < 0.5:
        config["end_value"] = init_value * (rng.uniform(1.5, 5.0) if growth else rng.uniform(0.0, 0.5))
    return config


def _optax_cosine_decay(rng: random.Random) -> Config:
    return {
        "init_value": _lr(rng),
        "decay_steps": rng.randint(1, 250),
        "alpha": _maybe(rng, rng.uniform(0.0, 0.5), 0.0),
        "exponent": _maybe(rng, rng.uniform(0.5, 3.0), 1.0),
    }


def _optax_piecewise_interpolate(rng: random.Random) -> Config:
    return {
        "interpolate_type": rng.choice(["linear", "cosine"]),
        "init_value": _lr(rng),
        "boundaries_and_scales": _maybe(rng, _boundaries_and_scales(rng, 0.0, 2.0), None, 0.9),
    }


def _optax_linear_onecycle(rng: random.Random) -> Config:
    # pct_start < pct_final, so no two boundaries collapse unless int() rounds them together (then optax drops a
    # phase, quirk 18: kept, as optax does it).
    pct_start = rng.uniform(0.05, 0.6)
    return {
        "transition_steps": rng.randint(1, 300),
        "peak_value": _lr(rng),
        "pct_start": pct_start,
        "pct_final": rng.uniform(pct_start, 0.99),
        "div_factor": rng.uniform(2.0, 100.0),
        "final_div_factor": 10 ** rng.uniform(0, 5),
    }


def _optax_cosine_onecycle(rng: random.Random) -> Config:
    config = _optax_linear_onecycle(rng)
    del config["pct_final"]
    return config


def _optax_warmup_constant(rng: random.Random) -> Config:
    return {"init_value": _maybe(rng, _lr(rng) * 0.1, 0.0), "peak_value": _lr(rng), "warmup_steps": rng.randint(0, 100)}


def _optax_warmup_cosine_decay(rng: random.Random) -> Config:
    # decay_steps > warmup_steps: optax's cosine of decay_steps - warmup_steps <= 0 steps raises.
    peak_value = _lr(rng)
    warmup_steps = rng.randint(0, 80)
    return {
        "init_value": _maybe(rng, peak_value * rng.uniform(0.0, 0.5), 0.0),
        "peak_value": peak_value,
        "warmup_steps": warmup_steps,
        "decay_steps": warmup_steps + rng.randint(1, 200),
        "end_value": _maybe(rng, peak_value * rng.uniform(0.0, 0.5), 0.0),
        "exponent": _maybe(rng, rng.uniform(0.5, 3.0), 1.0),
    }


def _optax_warmup_exponential_decay(rng: random.Random) -> Config:
    decay = _optax_exponential(rng)
    peak_value = decay.pop("init_value")
    return {
        "init_value": _maybe(rng, peak_value * 0.1, 0.0),
        "peak_value": peak_value,
        "warmup_steps": rng.randint(0, 60),
        **decay,
    }


def _optax_sgdr(rng: random.Random) -> Config:
    return {"cosine_kwargs": [_optax_warmup_cosine_decay(rng) for _ in range(rng.randint(1, 4))]}


_OPTAX_JOINABLE = ("constant_schedule", "linear_schedule", "cosine_decay_schedule", "exponential_decay")


def _optax_join(rng: random.Random) -> Config:
    # Schedules as (optax name, kwargs), built by both sides; boundaries are increasing (optax applies them in order).
    count = rng.randint(2, 4)
    schedules = [(name, CONFIGS["optax"][name](rng)) for name in (rng.choice(_OPTAX_JOINABLE) for _ in range(count))]
    boundaries = sorted(rng.sample(range(1, 250), count - 1))
    return {"schedules": schedules, "boundaries": boundaries}


# =====================================================================================================================
# Keras 3.15.1
# =====================================================================================================================


def _keras_exponential(rng: random.Random) -> Config:
    return {
        "initial_learning_rate": _lr(rng),
        "decay_steps": rng.randint(1, 60),
        "decay_rate": _maybe(rng, rng.uniform(0.05, 1.0), rng.uniform(1.0, 1.2), 0.85),
        "staircase": rng.random() < 0.5,
    }


def _keras_piecewise_constant(rng: random.Random) -> Config:
    # Boundaries strictly increasing integers (Keras casts them to the step's dtype: a float one is truncated,
    # EDGE_CONFIGS). Excluded: no boundary (Keras indexes boundaries[0]).
    count = rng.randint(1, 5)
    return {"boundaries": sorted(rng.sample(range(0, 250), count)), "values": [_lr(rng) for _ in range(count + 1)]}


def _keras_polynomial(rng: random.Random) -> Config:
    lr = _lr(rng)
    return {
        "initial_learning_rate": lr,
        "decay_steps": rng.randint(1, 100),
        "end_learning_rate": _maybe(rng, lr * rng.uniform(0.0, 0.5), 0.0001),
        "power": _maybe(rng, rng.uniform(0.2, 4.0), 1.0),
        "cycle": rng.random() < 0.4,
    }


def _keras_inverse_time(rng: random.Random) -> Config:
    return {
        "initial_learning_rate": _lr(rng),
        "decay_steps": rng.randint(1, 60),
        "decay_rate": rng.uniform(0.0, 3.0),
        "staircase": rng.random() < 0.5,
    }


def _keras_cosine(rng: random.Random) -> Config:
    # warmup_target None ignores warmup_steps (quirk 23): drawn anyway.
    lr = _lr(rng)
    return {
        "initial_learning_rate": lr,
        "decay_steps": rng.randint(1, 200),
        "alpha": _maybe(rng, rng.uniform(0.0, 0.5), 0.0),
        "warmup_target": _maybe(rng, lr * rng.uniform(1.0, 20.0), None),
        "warmup_steps": _maybe(rng, rng.randint(0, 80), 0),
    }


def _keras_cosine_restarts(rng: random.Random) -> Config:
    # t_mul: 1, integers, non-integers. Excluded: t_mul < 1 (NaN past the finite total length, quirk 25).
    return {
        "initial_learning_rate": _lr(rng),
        "first_decay_steps": rng.randint(1, 40),
        "t_mul": rng.choice([1.0, 2.0, 3.0, 1.5, round(rng.uniform(1.05, 2.5), 3)]),
        "m_mul": _maybe(rng, rng.uniform(0.3, 1.0), 1.0),
        "alpha": _maybe(rng, rng.uniform(0.0, 0.5), 0.0),
    }


CONFIGS: dict[str, dict[str, Generator]] = {
    "torch": {
        "StepLR": _torch_step_lr,
        "MultiStepLR": _torch_multi_step_lr,
        "ConstantLR": _torch_constant_lr,
        "LinearLR": _torch_linear_lr,
        "ExponentialLR": _torch_exponential_lr,
        "PolynomialLR": _torch_polynomial_lr,
        "CosineAnnealingLR": _torch_cosine_annealing_lr,
        "CosineAnnealingWarmRestarts": _torch_cosine_annealing_warm_restarts,
        "CyclicLR": _torch_cyclic_lr,
        "OneCycleLR": _torch_one_cycle_lr,
    },
    "timm": {
        "CosineLRScheduler": _timm_cosine,
        "TanhLRScheduler": _timm_tanh,
        "StepLRScheduler": _timm_step,
        "MultiStepLRScheduler": _timm_multi_step,
        "PolyLRScheduler": _timm_poly,
        "WSDLRScheduler": _timm_wsd,
    },
    "hf": {
        "linear": _hf_linear,
        "cosine": _hf_cosine,
        "cosine_with_restarts": _hf_cosine_with_restarts,
        "polynomial": _hf_polynomial,
        "constant": _hf_constant,
        "constant_with_warmup": _hf_constant_with_warmup,
        "inverse_sqrt": _hf_inverse_sqrt,
        "cosine_with_min_lr": _hf_cosine_with_min_lr,
        "cosine_warmup_with_min_lr": _hf_cosine_warmup_with_min_lr,
        "warmup_stable_decay": _hf_warmup_stable_decay,
    },
    "optax": {
        "constant_schedule": _optax_constant,
        "polynomial_schedule": _optax_polynomial,
        "linear_schedule": _optax_linear,
        "piecewise_constant_schedule": _optax_piecewise_constant,
        "exponential_decay": _optax_exponential,
        "cosine_decay_schedule": _optax_cosine_decay,
        "piecewise_interpolate_schedule": _optax_piecewise_interpolate,
        "linear_onecycle_schedule": _optax_linear_onecycle,
        "cosine_onecycle_schedule": _optax_cosine_onecycle,
        "warmup_constant_schedule": _optax_warmup_constant,
        "warmup_cosine_decay_schedule": _optax_warmup_cosine_decay,
        "warmup_exponential_decay_schedule": _optax_warmup_exponential_decay,
        "sgdr_schedule": _optax_sgdr,
        "join_schedules": _optax_join,
    },
    "keras": {
        "ExponentialDecay": _keras_exponential,
        "PiecewiseConstantDecay": _keras_piecewise_constant,
        "PolynomialDecay": _keras_polynomial,
        "InverseTimeDecay": _keras_inverse_time,
        "CosineDecay": _keras_cosine,
        "CosineDecayRestarts": _keras_cosine_restarts,
    },
}


# =====================================================================================================================
# Run lengths
# =====================================================================================================================


def _timm_end(config: Config) -> int:
    """timm's ``get_cycle_length()`` (plus the warmup when it is not a prefix: the warmup may outlast the cycles)."""
    cycle_mul, limit, t_initial = config.get("cycle_mul", 1.0), config.get("cycle_limit", 1), config["t_initial"]
    limit = max(1, limit)
    if cycle_mul == 1:
        cycles = t_initial * limit
    else:
        cycles = math.floor(-t_initial * (cycle_mul**limit - 1) / (1 - cycle_mul))
    return cycles + config.get("warmup_t", 0)


def _optax_end(name: str, config: Config) -> int:
    if name == "constant_schedule":
        return 20
    if name in ("polynomial_schedule", "linear_schedule"):
        return max(0, config.get("transition_begin", 0)) + max(0, config["transition_steps"])
    if name == "exponential_decay":
        return max(0, config.get("transition_begin", 0)) + 4 * max(0, config["transition_steps"])
    if name in ("piecewise_constant_schedule", "piecewise_interpolate_schedule"):
        return max(config.get("boundaries_and_scales") or [0])
    if name in ("linear_onecycle_schedule", "cosine_onecycle_schedule"):
        return config["transition_steps"]
    if name == "cosine_decay_schedule":
        return config["decay_steps"]
    if name == "warmup_constant_schedule":
        return config["warmup_steps"]
    if name == "warmup_cosine_decay_schedule":
        return config["decay_steps"]
    if name == "warmup_exponential_decay_schedule":
        return config["warmup_steps"] + config.get("transition_begin", 0) + 4 * config["transition_steps"]
    if name == "sgdr_schedule":
        return sum(kwargs["decay_steps"] for kwargs in config["cosine_kwargs"])
    return config["boundaries"][-1] + 50  # join_schedules


def _keras_end(name: str, config: Config) -> int:
    if name == "PiecewiseConstantDecay":
        return math.ceil(config["boundaries"][-1]) + 1
    if name == "CosineDecay":
        warmup = config.get("warmup_steps", 0) if config.get("warmup_target") is not None else 0
        return config["decay_steps"] + warmup
    if name == "CosineDecayRestarts":
        # Whole cycles, as many as fit in MAX_STEPS (two at least).
        length, end, cycles = float(config["first_decay_steps"]), 0.0, 0
        while cycles < 2 or end + length <= MAX_STEPS:
            end, length, cycles = end + length, length * config.get("t_mul", 2.0), cycles + 1
        return int(end)
    if name == "PolynomialDecay" and config.get("cycle"):
        return 3 * config["decay_steps"]
    return 4 * config["decay_steps"]


def _hf_end(name: str, config: Config) -> int:
    warmup = config.get("num_warmup_steps", 0)
    if name == "constant":
        return 20
    if name in ("constant_with_warmup", "inverse_sqrt"):
        return warmup + 100
    if name == "warmup_stable_decay":
        stable = config.get("num_stable_steps")
        if stable is None:
            return config["num_training_steps"]
        return warmup + stable + config["num_decay_steps"]
    return max(warmup, config["num_training_steps"])


def _torch_end(name: str, config: Config) -> int:
    if name == "StepLR":
        return 4 * config["step_size"]
    if name == "MultiStepLR":
        return max(config["milestones"]) + 1
    if name in ("ConstantLR", "LinearLR", "PolynomialLR"):
        return config["total_iters"]
    if name == "ExponentialLR":
        return 150
    if name == "CosineAnnealingLR":
        return int(2.5 * config["T_max"])  # past T_max the recursion follows the cosine back up (quirk 3)
    if name == "CosineAnnealingWarmRestarts":
        return config["T_0"] * (1 + config["T_mult"] + config["T_mult"] ** 2)
    if name == "CyclicLR":
        up = config["step_size_up"]
        down = up if config["step_size_down"] is None else config["step_size_down"]
        return int(2.5 * (up + down))
    raise ValueError(name)


def run_steps(library: str, name: str, config: Config) -> int:
    """How many steps (from 0) a test runs: through the end of the schedule and ``EXTRA_STEPS`` past it."""
    if library == "torch" and name == "OneCycleLR":
        total = config.get("total_steps") or config["epochs"] * config["steps_per_epoch"]
        return total + 1  # step total_steps is the last PyTorch allows (quirk 4)
    if library == "torch":
        end = _torch_end(name, config)
    elif library == "timm":
        if name == "StepLRScheduler":
            end = int(4 * config["decay_t"]) + config.get("warmup_t", 0)
        elif name == "MultiStepLRScheduler":
            end = max(config["decay_t"]) + config.get("warmup_t", 0)
        elif name == "WSDLRScheduler":
            end = config.get("warmup_t", 0) + config["t_initial"]
        else:
            end = _timm_end(config)
    elif library == "hf":
        end = _hf_end(name, config)
    elif library == "optax":
        end = _optax_end(name, config)
    else:
        end = _keras_end(name, config)
    return max(1, end) + EXTRA_STEPS


# =====================================================================================================================
# Quirks: hand-picked configurations, each also checked against the real peer
# =====================================================================================================================

EDGE_CONFIGS: dict[str, dict[str, list[Config]]] = {
    "torch": {
        "ConstantLR": [{"lr": 0.1, "factor": 0.5, "total_iters": 0}],  # the factor is never undone
        "LinearLR": [{"lr": 0.1, "start_factor": 0.25, "end_factor": 1.0, "total_iters": 0}],  # nor the start factor
        "PolynomialLR": [{"lr": 0.1, "total_iters": 0, "power": 2.0}],  # holds lr
        "MultiStepLR": [{"lr": 0.1, "milestones": [0, 5, 5, 9], "gamma": 0.5}],  # milestone 0 at step 0, 5 twice
        "OneCycleLR": [
            {"lr": 0.1, "max_lr": 1.0, "total_steps": 20, "pct_start": 0.7, "three_phase": True},  # overlapping phases
            {"lr": 0.1, "max_lr": 1.0, "total_steps": 10, "pct_start": 0.05},  # the first phase ends before step 0
            {"lr": 0.1, "max_lr": 1.0, "total_steps": 4, "pct_start": 0.3, "anneal_strategy": "linear"},  # negative
        ],
        "CyclicLR": [{"lr": 0.1, "base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "step_size_down": 0}],
    },
    "timm": {
        "CosineLRScheduler": [
            {"lr": 0.1, "t_initial": 1, "cycle_mul": 3, "cycle_limit": 6, "lr_min": 0.001},  # t = 121 not a restart
            {"lr": 0.1, "t_initial": 10, "warmup_t": 5, "warmup_prefix": False},  # the warmup overlaps the cycle
            {"lr": 0.1, "t_initial": 10, "cycle_limit": 0, "lr_min": 0.01},  # lr_min from step 0
        ],
        "TanhLRScheduler": [{"lr": 0.1, "t_initial": 10}],  # _get_lr(0) != lr
        "MultiStepLRScheduler": [{"lr": 0.1, "decay_t": [1, 4], "decay_rate": 0.5}],  # _get_lr(0) is decayed
        "StepLRScheduler": [{"lr": 0.1, "decay_t": 2.5, "decay_rate": 0.5}],  # float decay_t
        "PolyLRScheduler": [{"lr": 0.1, "t_initial": 7, "cycle_mul": 1.3, "cycle_limit": 4, "power": 2.0}],
    },
    "hf": {
        "cosine": [{"lr": 0.1, "num_warmup_steps": 10, "num_training_steps": 10}],  # oscillates after warmup
        "cosine_with_min_lr": [
            {"lr": 0.1, "num_warmup_steps": 0, "num_training_steps": 10, "min_lr": 0.01},  # rises past the end
        ],
        "constant_with_warmup": [{"lr": 0.1, "num_warmup_steps": 5, "num_training_steps": 3}],  # ignored
        "inverse_sqrt": [{"lr": 0.1, "num_warmup_steps": 0}],  # timescale 10_000
        "linear": [{"lr": 0.1, "num_warmup_steps": 12, "num_training_steps": 5}],  # warmup past the end
    },
    "optax": {
        "polynomial_schedule": [
            {"init_value": 0.1, "end_value": 0.0, "power": 2.0, "transition_steps": 0},  # constant
            {"init_value": 0.1, "end_value": 0.0, "power": 2.0, "transition_steps": 10, "transition_begin": -5},
        ],
        "exponential_decay": [{"init_value": 0.1, "transition_steps": 10, "decay_rate": 0.0}],  # constant
        "linear_onecycle_schedule": [  # int(0.3 * 10) == int(0.35 * 10): a phase lost
            {"transition_steps": 10, "peak_value": 1.0, "pct_start": 0.3, "pct_final": 0.35},
        ],
        "cosine_onecycle_schedule": [{"transition_steps": 3, "peak_value": 1.0, "pct_start": 0.1}],  # boundary 0
    },
    "keras": {
        "PiecewiseConstantDecay": [{"boundaries": [2.7, 5.2], "values": [1.0, 0.5, 0.25]}],  # truncated boundaries
        "PolynomialDecay": [{"initial_learning_rate": 1.0, "decay_steps": 4, "cycle": True, "power": 2.0}],
        "CosineDecay": [{"initial_learning_rate": 1.0, "decay_steps": 10, "warmup_steps": 5}],  # warmup ignored
        "CosineDecayRestarts": [{"initial_learning_rate": 1.0, "first_decay_steps": 1, "t_mul": 3.0}],  # float32 floor
    },
}


# =====================================================================================================================
# Metric-driven schedulers
# =====================================================================================================================


def _torch_plateau(rng: random.Random) -> Config:
    return {
        "lr": _lr(rng),
        "mode": rng.choice(["min", "max"]),
        "factor": rng.uniform(0.05, 0.9),
        "patience": rng.randint(0, 5),
        "threshold": _maybe(rng, 10 ** rng.uniform(-4, -1), 0.0),
        "threshold_mode": rng.choice(["rel", "abs"]),
        "cooldown": rng.randint(0, 4),
        "min_lr": _maybe(rng, 1e-5, 0),
        "eps": _maybe(rng, 1e-8, 1e-3),
    }


def _timm_plateau(rng: random.Random) -> Config:
    lr = _lr(rng)
    config: Config = {
        "lr": lr,
        "decay_rate": rng.uniform(0.05, 0.9),
        "patience_t": rng.randint(0, 5),
        "threshold": _maybe(rng, 10 ** rng.uniform(-4, -1), 0.0),
        "cooldown_t": rng.randint(0, 4),
        "lr_min": _maybe(rng, lr * 1e-3, 0.0),
        "mode": rng.choice(["min", "max"]),
    }
    if rng.random() < 0.5:
        config["warmup_t"] = rng.randint(1, 8)
        config["warmup_lr_init"] = _maybe(rng, lr * 0.1, 0.0)
    return config


PLATEAU_CONFIGS: dict[str, dict[str, Generator]] = {
    "torch": {"ReduceLROnPlateau": _torch_plateau},
    "timm": {"PlateauLRScheduler": _timm_plateau},
}


def plateau_metrics(rng: random.Random, count: int) -> list[float]:
    """A validation curve with improvements, plateaus (repeated values) and regressions, so every counter moves."""
    value, metrics = 1.0, []
    for _ in range(count):
        move = rng.random()
        if move < 0.3:
            value *= rng.uniform(0.8, 0.999)
        elif move < 0.6:
            value *= rng.uniform(1.0, 1.2)
        metrics.append(value)
    return metrics
