"""Noisy: timm's learning-rate noise as a pure function of (seed, step), against an oracle written out here.

The oracle uses Python integers and mpmath, nothing of the package: the hash is MurmurHash3's ``fmix64``
(without its last xorshift) on the Weyl sequence ``t * 0x9E3779B97F4A7C15`` with the seed's SplitMix64 key
xor-ed in after the first shift; ``u`` comes from the top 24 bits at the middle of their interval (for the
normal: bit 63 is the sign of ``2u - 1`` and bits 40..62 its distance from the edge); the noise is timm's
(``timm/scheduler/scheduler.py``, ``Scheduler._calculate_noise``): a normal of std ``std`` kept where
``|n| < pct``, here its inverse CDF ``std sqrt(2) erfinv(erf(pct / (std sqrt 2)) (2u - 1))``, or
``pct (2u - 1)``; the rate is ``lr + lr * noise`` where ``Scheduler._is_apply_noise`` says so.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import mpmath
import numpy as np
import pytest
from conftest import rel_err
from scipy import special, stats

from mlx_lrsched import (
    MAX_STEP,
    Constant,
    CosineDecay,
    CyclicExponentialDecay,
    ExponentialDecay,
    Noisy,
    OneCycle,
    Scale,
    from_config,
)
from mlx_lrsched import noise as noise_module

mx = pytest.importorskip("mlx.core")

MASK_64 = 2**64 - 1
PRECISION = 5e-7  # the package's rule: MLX within 5e-7 relative of the float64 reference


# ------------------------------------------------------------------------------------------- the oracle


def splitmix64(state: int) -> int:
    """SplitMix64's output for ``state`` (Steele, Lea & Flood 2014)."""
    z = (state + 0x9E3779B97F4A7C15) & MASK_64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK_64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK_64
    return z ^ (z >> 31)


def oracle_bits(seed: int, step: int) -> int:
    z = (step * 0x9E3779B97F4A7C15) & MASK_64
    z = (z ^ splitmix64(seed)) ^ (z >> 33)
    z = (z * 0xFF51AFD7ED558CCD) & MASK_64
    z = z ^ (z >> 33)
    return (z * 0xC4CEB9FE1A85EC53) & MASK_64


def oracle_u(bits: int, distribution: str) -> mpmath.mpf:
    if distribution == "uniform":
        return (mpmath.mpf(bits >> 40) + 0.5) / 2**24
    distance = (bits >> 40) & (2**23 - 1)
    magnitude = 1 - mpmath.mpf(2 * distance + 1) / 2**24  # |2u - 1|
    return (1 + magnitude) / 2 if bits >> 63 else (1 - magnitude) / 2


def oracle_noise(seed: int, step: int, pct: float, std: float, distribution: str) -> float:
    with mpmath.workdps(40):
        v = 2 * oracle_u(oracle_bits(seed, step), distribution) - 1
        if distribution == "uniform":
            return float(pct * v)
        scale = std * mpmath.sqrt(2)
        return float(scale * mpmath.erfinv(mpmath.erf(pct / scale) * v))


def timm_is_apply_noise(noise_range_t: object, t: int) -> bool:
    """``Scheduler._is_apply_noise`` (timm 1.0), verbatim."""
    apply_noise = False
    if noise_range_t is not None:
        if isinstance(noise_range_t, (list, tuple)):
            apply_noise = noise_range_t[0] <= t < noise_range_t[1]
        else:
            apply_noise = t >= noise_range_t
    return apply_noise


def oracle_rate(schedule: Noisy, step: int) -> float:
    """``lr + lr * noise`` on timm's noise range, ``lr`` elsewhere."""
    lr = float(schedule.schedule(np.int64(step)))
    noise_range = schedule.start_step if schedule.end_step is None else (schedule.start_step, schedule.end_step)
    if not timm_is_apply_noise(noise_range, step):
        return lr
    noise = oracle_noise(schedule.seed, step, schedule.pct, schedule.std, schedule.distribution)
    return lr + lr * noise


STEPS = [*range(64), 999, 1000, 4321, 10**6, 10**9 + 7, 2**31, 2**40 + 3, 2**62, MAX_STEP - 1, MAX_STEP]

ORACLE_CASES = [
    Noisy(Constant(0.1)),  # timm's defaults: normal, pct 0.67, std 1, seed 42
    Noisy(Constant(0.1), pct=0.99, std=1.0, seed=3),  # nearly uniform, down to 1 % of the rate
    Noisy(Constant(0.1), pct=0.67, std=0.1, seed=5),  # the truncation is never reached: deep in the tail
    Noisy(Constant(0.1), pct=0.999, std=0.19, seed=0),  # a tail down to 14 % of the rate
    Noisy(Constant(0.1), pct=0.5, std=1e3),  # uniform in the limit
    Noisy(CosineDecay(0.1, decay_steps=10_000, end_lr=1e-4), start_step=10, end_step=50),
    Noisy(Constant(0.1), distribution="uniform", seed=11),
    Noisy(ExponentialDecay(0.1, 0.999), pct=0.999, distribution="uniform", start_step=20),
]


def steps_of(schedule: Noisy) -> list[int]:
    # the steps with the largest noise magnitudes too: next to the edge is where precision is hardest
    extreme = sorted(range(200_000), key=lambda t: (oracle_bits(schedule.seed, t) >> 40) & (2**23 - 1))[:16]
    return sorted({*STEPS, *extreme})


@pytest.mark.parametrize("schedule", ORACLE_CASES, ids=repr)
def test_both_backends_match_the_literal_oracle(schedule):
    steps = steps_of(schedule)
    expected = np.array([oracle_rate(schedule, t) for t in steps])
    reference = schedule(np.array(steps, dtype=np.int64))
    product = np.array(schedule(mx.array(steps, dtype=mx.uint64)), dtype=np.float64)
    np.testing.assert_allclose(reference, expected, rtol=1e-12, atol=0)
    assert rel_err(product, expected, floor=1e-6 * schedule.peak) <= PRECISION


def test_the_oracle_sees_every_magnitude_and_both_signs():
    # the oracle's mapping of 24 bits to u is onto the 2**24 midpoints: both signs and both ends of the magnitude
    bits = [oracle_bits(42, t) for t in range(1 << 16)]
    assert {b >> 63 for b in bits} == {0, 1}
    distances = [(b >> 40) & (2**23 - 1) for b in bits]
    assert min(distances) < 2**9 and max(distances) > 2**23 - 2**9
    u = [oracle_u(b, "normal") for b in bits[:100]]
    assert all(0 < x < 1 and (x * 2**24 - mpmath.mpf(1) / 2) % 1 == 0 for x in u)


# ------------------------------------------------------------------------------------------ precision


def random_configs(count: int, seed: int) -> list[Noisy]:
    rng = np.random.default_rng(seed)
    configs = []
    for i in range(count):
        pct = float(rng.choice([rng.uniform(0.01, 0.999), 1 - 10 ** rng.uniform(-4, -1)]))
        std = float(10 ** rng.uniform(-3, 3))
        configs.append(
            Noisy(
                Constant(1.0),
                pct=pct,
                std=std,
                distribution="uniform" if i % 4 == 3 else "normal",
                seed=int(rng.integers(0, MAX_STEP)),
            )
        )
    return configs


PRECISION_STEPS = np.concatenate(
    [np.arange(1 << 16), np.arange(10**9, 10**9 + 4096), MAX_STEP - np.arange(4096)]
).astype(np.int64)

SMALL_STD_NEAR_ONE = [(0.999, 0.19), (0.99, 0.3), (0.9999, 0.5), (0.95, 0.2), (0.99, 1.0), (0.999999, 1.0)]


@pytest.mark.parametrize(
    "schedule",
    [*(Noisy(Constant(1.0), pct=p, std=s) for p, s in SMALL_STD_NEAR_ONE), *random_configs(12, seed=0)],
    ids=repr,
)
def test_mlx_stays_within_3e7_of_the_reference(schedule):
    reference = schedule(PRECISION_STEPS)
    product = np.array(schedule(mx.array(PRECISION_STEPS.astype(np.uint64))), dtype=np.float64)
    assert np.isfinite(product).all() and (product > 0).all()
    assert rel_err(product, reference) <= 3e-7  # the docstring's bound, under the package's 5e-7


@pytest.mark.slow
@pytest.mark.parametrize("schedule", random_configs(60, seed=1), ids=repr)
def test_mlx_stays_within_3e7_of_the_reference_on_many_configs(schedule):
    steps = np.concatenate([np.arange(1 << 20), MAX_STEP - np.arange(1 << 16)]).astype(np.int64)
    product = np.array(schedule(mx.array(steps.astype(np.uint64))), dtype=np.float64)
    assert rel_err(product, schedule(steps)) <= 3e-7


def test_the_reference_erfinv_is_accurate_to_1e13():
    w = np.concatenate([np.geomspace(2.0**-52, 0.5, 400), np.linspace(0.5, 1.0, 200, endpoint=False)])
    with mpmath.workdps(40):  # erfinv(1 - w) for the exact w: the function is given 1 - x without rounding
        expected = np.array([float(mpmath.erfinv(1 - mpmath.mpf(v))) for v in w])
    assert rel_err(noise_module.erfinv(1.0 - w, w), expected) <= 1e-13
    centre = np.linspace(1e-9, 0.999, 1000)
    assert rel_err(noise_module.erfinv(centre, 1.0 - centre), special.erfinv(centre)) <= 1e-13


# -------------------------------------------------------------------------------------- reproducibility


def test_eager_compiled_vmapped_and_alone_give_the_same_bits():
    schedule = Noisy(OneCycle(0.1, total_steps=10_000), pct=0.9, std=0.4, start_step=5)
    steps = mx.array([0, 4, 5, 6, 777, 10**9, MAX_STEP], dtype=mx.uint64)
    eager = np.array(schedule(steps))
    compiled = np.array(mx.compile(lambda t: schedule(t))(steps))
    vmapped = np.array(mx.vmap(lambda t: schedule(t))(steps))
    np.testing.assert_array_equal(compiled, eager)
    np.testing.assert_array_equal(vmapped, eager)
    for i, step in enumerate(steps.tolist()):
        assert np.array(schedule(mx.array(step, dtype=mx.uint64))) == eager[i]
        assert np.array(schedule(step)) == eager[i]
    np.testing.assert_array_equal(np.array(schedule(steps.astype(mx.int64))), eager)


RESUME_SCRIPT = """
import json, sys
import mlx.core as mx, numpy as np
from mlx_lrsched import from_config
out = []
for config, steps in json.loads(sys.argv[1]):
    schedule = from_config(config)
    out.append([np.array(schedule(mx.array(steps, dtype=mx.uint64))).view(np.uint32).tolist(),
                schedule(np.array(steps, dtype=np.int64)).view(np.uint64).tolist()])
print(json.dumps(out))
"""


def test_a_resumed_process_recomputes_the_same_bits():
    cases = [
        (Noisy(CosineDecay(0.1, decay_steps=1000), seed=123, start_step=3), [0, 3, 4, 500, 10**12]),
        (Noisy(Constant(0.1), pct=0.3, distribution="uniform", seed=MAX_STEP), [1, 2, 3, MAX_STEP]),
    ]
    payload = json.dumps([(schedule.to_config(), steps) for schedule, steps in cases])
    completed = subprocess.run(
        [sys.executable, "-c", RESUME_SCRIPT, payload], capture_output=True, text=True, check=True, timeout=120
    )
    for (schedule, steps), (mlx_bits, numpy_bits) in zip(cases, json.loads(completed.stdout), strict=True):
        assert np.array(schedule(mx.array(steps, dtype=mx.uint64))).view(np.uint32).tolist() == mlx_bits
        assert schedule(np.array(steps, dtype=np.int64)).view(np.uint64).tolist() == numpy_bits


def test_the_noise_is_the_same_on_any_schedule_and_range():
    # n(t) depends on (seed, t) only: not on the schedule it multiplies, nor on where the range starts
    steps = np.arange(100, 2000, dtype=np.int64)
    base = CosineDecay(0.5, decay_steps=3000, end_lr=0.01)
    alone = Noisy(Constant(1.0), seed=9)(steps)
    np.testing.assert_allclose(Noisy(base, seed=9, start_step=50)(steps) / base(steps), alone, rtol=1e-14)


def test_seeds_give_different_noise():
    steps = np.arange(1 << 16, dtype=np.int64)
    noise = [Noisy(Constant(1.0), seed=seed)(steps) - 1.0 for seed in (0, 1, 2, 42, MAX_STEP)]
    for i in range(len(noise)):
        for j in range(i):
            assert np.mean(noise[i] == noise[j]) < 1e-3
            assert abs(np.corrcoef(noise[i], noise[j])[0, 1]) < 5 / math.sqrt(len(steps))


# ----------------------------------------------------------------------------------- the noise's range


@pytest.mark.parametrize("noise_range", [0, 5, (5, 12), (0, 1), (3, 4), (10**9, 10**9 + 2)], ids=str)
def test_noise_applies_exactly_on_timms_range(noise_range):
    start, end = noise_range if isinstance(noise_range, tuple) else (noise_range, None)
    base = CosineDecay(0.1, decay_steps=100, end_lr=1e-3)
    schedule = Noisy(base, start_step=start, end_step=end)
    steps = np.unique(np.concatenate([np.arange(20), start + np.arange(-2, 3), [10**9 - 1, 10**9, 10**9 + 5]]))
    steps = steps[steps >= 0].astype(np.int64)
    applied = np.array([timm_is_apply_noise(noise_range, int(t)) for t in steps])
    reference = schedule(steps)
    assert (reference[~applied] == base(steps[~applied])).all()
    assert (reference[applied] != base(steps[applied])).all()
    product, plain = (np.array(s(mx.array(steps, dtype=mx.uint64))) for s in (schedule, base))
    np.testing.assert_array_equal(product[~applied], plain[~applied])


# ---------------------------------------------------------------------------------------- the statistics


@pytest.fixture(scope="module")
def long_run() -> dict[str, np.ndarray]:
    steps = np.arange(1_000_000, dtype=np.int64)
    return {
        "normal": Noisy(Constant(1.0))(steps) - 1.0,
        "narrow": Noisy(Constant(1.0), pct=0.67, std=0.2, seed=5)(steps) - 1.0,
        "uniform": Noisy(Constant(1.0), distribution="uniform")(steps) - 1.0,
    }


DISTRIBUTIONS = {
    "normal": stats.truncnorm(-0.67, 0.67, scale=1.0),
    "narrow": stats.truncnorm(-0.67 / 0.2, 0.67 / 0.2, scale=0.2),
    "uniform": stats.uniform(-0.67, 1.34),
}


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_a_long_run_has_the_truncated_distribution(long_run, name):
    noise, law = long_run[name], DISTRIBUTIONS[name]
    count = len(noise)
    assert stats.kstest(noise, law.cdf).pvalue > 1e-3
    assert abs(noise.mean()) < 5 * law.std() / math.sqrt(count)
    assert noise.std() == pytest.approx(law.std(), rel=5e-3)
    assert abs(np.corrcoef(noise[:-1], noise[1:])[0, 1]) < 5 / math.sqrt(count)
    assert np.abs(noise).max() < 0.67


def test_the_rate_stays_positive_next_to_the_edge():
    steps = np.arange(1 << 18, dtype=np.int64)
    for distribution in ("normal", "uniform"):
        schedule = Noisy(Constant(1.0), pct=0.999999, std=10.0, distribution=distribution)
        assert schedule(steps).min() > 0.0
        assert np.array(schedule(mx.array(steps.astype(np.uint64)))).min() > 0.0


# --------------------------------------------------------------------------- declared properties, configs


def test_peak_bounds_the_rate_and_boundaries_add_the_range():
    base = OneCycle(0.1, total_steps=1000)
    schedule = Noisy(base, pct=0.5, start_step=100, end_step=900)
    steps = np.arange(2000, dtype=np.int64)
    assert schedule.peak == pytest.approx(0.15)
    assert schedule(steps).max() <= schedule.peak
    assert np.array(schedule(mx.array(steps.astype(np.uint64)))).max() <= schedule.peak * (1 + 1e-6)
    assert set(schedule.phase_boundaries) == {*base.phase_boundaries, 100, 900}
    assert not schedule.signed
    assert Noisy(CyclicExponentialDecay(0.1, 0.5, period_steps=100, modulation="signed_cosine")).signed


def test_config_round_trip_keeps_the_noise():
    schedule = Noisy(Scale(CosineDecay(0.1, 1000), 0.5), pct=0.3, std=0.2, seed=2**62, start_step=7, end_step=99)
    rebuilt = from_config(json.loads(schedule.to_json()))
    assert rebuilt == schedule
    steps = np.arange(120, dtype=np.int64)
    np.testing.assert_array_equal(rebuilt(steps), schedule(steps))


def test_scaling_folds_into_the_schedule():
    schedule = Noisy(CosineDecay(0.1, 1000), seed=1)
    steps = np.arange(0, 2000, 7, dtype=np.int64)
    np.testing.assert_allclose(Scale(schedule, 0.5)(steps), 0.5 * schedule(steps), rtol=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"pct": 0.0}, ValueError, r"pct must be a finite number in \(0, 1\)"),
        ({"pct": 1.0}, ValueError, r"pct must be a finite number in \(0, 1\)"),
        ({"pct": -0.5}, ValueError, r"pct must"),
        ({"pct": float("nan")}, ValueError, r"pct must"),
        ({"pct": "0.5"}, TypeError, r"pct must be a real number"),
        ({"std": 0.0}, ValueError, r"std must be a finite number in \(0, 1e\+06\]"),
        ({"std": -1.0}, ValueError, r"std must"),
        ({"std": float("inf")}, ValueError, r"std must"),
        ({"std": 2e6}, ValueError, r"std must"),
        ({"distribution": "gauss"}, ValueError, r"distribution must be one of 'normal', 'uniform'"),
        ({"distribution": None}, ValueError, r"distribution must be one of"),
        ({"seed": -1}, ValueError, r"seed must be an integer in \[0, 2\*\*63 - 1\]"),
        ({"seed": 2**63}, ValueError, r"seed must be an integer in \[0, 2\*\*63 - 1\]"),
        ({"seed": 1.5}, TypeError, r"seed must be an integer"),
        ({"seed": True}, TypeError, r"seed must be an integer"),
        ({"start_step": -1}, ValueError, r"start_step must be an integer"),
        ({"start_step": 5, "end_step": 5}, ValueError, r"end_step must be an integer in \[6, 2\*\*63 - 1\]"),
        ({"start_step": 5, "end_step": 3}, ValueError, r"end_step must be an integer in \[6,"),
        ({"end_step": 2.5}, TypeError, r"end_step must be an integer"),
        ({"schedule": "cosine"}, TypeError, r"schedule must be a Schedule or a learning rate"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, error, match):
    arguments = {"schedule": Constant(0.1), **kwargs}
    with pytest.raises(error, match=match) as raised:
        Noisy(**arguments)
    assert str(raised.value).startswith("Noisy: ") and len(str(raised.value)) < 300


def test_a_peak_beyond_float32_is_refused():
    with pytest.raises(ValueError, match="Noisy: the peak"):
        Noisy(Constant(3e38), pct=0.5)


# ------------------------------------------------------------------------------------------- kernels


MEASURED_KERNELS = [
    (Noisy(Constant(0.1)), 1),
    (Noisy(CosineDecay(0.1, decay_steps=10_000)), 1),
    (Noisy(OneCycle(0.1, total_steps=10_000)), 1),
    (Noisy(OneCycle(0.1, total_steps=10_000), pct=0.99), 1),  # degree 4 of the edge polynomial
    (Noisy(Constant(0.1), distribution="uniform"), 2),  # 12 levels from the step: its first multiply splits off
    (Noisy(CosineDecay(0.1, decay_steps=10_000), distribution="uniform"), 2),
    (Noisy(OneCycle(0.1, total_steps=10_000), distribution="uniform", start_step=100), 2),
    (Noisy(CosineDecay(0.1, decay_steps=10_000), start_step=100, end_step=9000), 2),
    (Noisy(OneCycle(0.1, total_steps=10_000), start_step=100, end_step=9000), 4),  # over 24 inputs
    (Noisy(Constant(0.1), std=0.5), 7),  # degree 5: the polynomial's chain is deeper than MLX fuses
    (Noisy(Constant(0.1), std=0.1), 9),  # degree 17
]
"""Kernels of a compiled call, measured on MLX 0.32.4 (``uint64`` step): at most these."""


@pytest.mark.parametrize(("schedule", "count"), MEASURED_KERNELS, ids=[repr(s) for s, _ in MEASURED_KERNELS])
def test_kernel_counts_stay_as_measured(schedule, count, tmp_path):
    from test_kernels import compiled_kernels

    found = compiled_kernels(schedule, tmp_path)
    assert len(found) <= count, f"{len(found)} kernels: {found}"
