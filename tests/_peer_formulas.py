"""Literal float64 transcriptions of every peer library's learning-rate formula, for the default test run.

The translators (``from_torch``, ``from_timm``, ``from_hf``, ``from_optax``, ``from_keras``) must give, at step ``k``,
what the peer gives. Where the peer is installed, ``tests/_peers.py`` asks it; where it is not (the default run), these
functions stand in for it. Each is the peer's own code written out in pure Python, with the peer's argument names and
defaults, the same operations in the same order, and its source cited beside the transcribed lines as
``# <library> <version> <file>:<line>``. ``tests/test_peer_formulas.py`` checks every one against the real library
over random configurations (``tests/_peer_configs.py``) and whole runs.

Interface (the same for every peer):

* ``FORMULAS[library][name](step, **config) -> float``: the value at step ``step``. ``library`` is ``"torch"``,
  ``"timm"``, ``"hf"``, ``"optax"`` or ``"keras"``; ``name`` is the peer's own name (``"OneCycleLR"``,
  ``"CosineLRScheduler"``, ``"cosine_with_restarts"``, ``"warmup_cosine_decay_schedule"``, ``"CosineDecayRestarts"``).
  PyTorch, timm and Hugging Face take the optimizer's learning rate as ``lr``; optax and Keras take only the
  schedule's own arguments. Step ``k`` means: PyTorch and Hugging Face, the rate after ``k`` calls of
  ``scheduler.step()``; timm, ``scheduler._get_lr(k)``; optax, ``schedule(k)``; Keras, ``schedule(k)``.
* ``curve(library, name, steps, **config) -> list[float]``: the values at steps ``0 .. steps - 1``. PyTorch's chainable
  schedulers are recursions (each rate is computed from the previous one), transcribed as such: ``curve`` runs them once
  (``FORMULAS`` replays the recursion up to ``step``).
* ``MOMENTUM_FORMULAS["torch"]["CyclicLR" | "OneCycleLR"](step, **config)``: the momentum (or Adam's beta1) the
  scheduler sets.
* ``TORCH_CLOSED_FORMS[name](step, lr, **config)``: PyTorch's ``_get_closed_form_lr`` (what the deprecated
  ``scheduler.step(epoch)`` gives), for the classes that have one; it differs from the recursion in the quirks below.
* ``torch_plateau_run`` / ``timm_plateau_run``: ``ReduceLROnPlateau`` and timm's ``PlateauLRScheduler`` fed metrics.

Examples (hand-checkable points, run in the default test run as doctests; quirk numbers refer to the list below):

>>> FORMULAS["timm"]["MultiStepLRScheduler"](2, lr=1.0, decay_t=[3], decay_rate=0.5)  # milestone 3 at t = 2 (7)
0.5
>>> curve("torch", "ConstantLR", 3, lr=1.0, factor=0.5, total_iters=0)  # never undone (2)
[0.5, 0.5, 0.5]
>>> FORMULAS["hf"]["cosine"](20, lr=1.0, num_warmup_steps=0, num_training_steps=10)  # back up past the end (13)
1.0
>>> FORMULAS["timm"]["CosineLRScheduler"](121, lr=1.0, t_initial=1, cycle_mul=3, cycle_limit=6)  # no restart (8)
0.0
>>> FORMULAS["keras"]["CosineDecayRestarts"](121, initial_learning_rate=1.0, first_decay_steps=1, t_mul=3.0)  # (26)
1.0
>>> curve("optax", "piecewise_constant_schedule", 3, init_value=1.0, boundaries_and_scales={2: 0.5})  # at 2 (19)
[1.0, 1.0, 0.5]
>>> [FORMULAS["keras"]["PiecewiseConstantDecay"](k, boundaries=[2], values=[1.0, 0.5]) for k in (2, 3)]  # (19)
[1.0, 0.5]

Quirks of the peers (each checked against the real library in tests/test_peer_formulas.py; the lead decides which of
them the translators reproduce):

PyTorch 2.13.0
  1. The chainable schedulers are recursive (``lr *= factor``): their rates differ from the closed forms by rounding
     (measured over the generated runs: up to 9e-14 of the peak for ``CosineAnnealingLR`` past ``T_max``, below
     1e-15 for the others), and where a linear or polynomial decay should reach 0 the recursion leaves a residue of
     up to 1.5e-16 of ``lr`` (``LinearLR(end_factor=0)``; ``PolynomialLR`` gives 0), then holds it.
  2. ``ConstantLR(total_iters=0)`` and ``LinearLR(total_iters=0)``: the constructor's step applies ``factor`` /
     ``start_factor`` and no later step ever undoes it (``last_epoch != total_iters`` forever), so the rate stays
     scaled; the closed forms give the unscaled rate (ConstantLR) or divide by zero (LinearLR).
     ``ConstantLR(factor=0)`` divides by zero at ``total_iters``. ``PolynomialLR(total_iters=0)`` holds ``lr``
     (the closed form divides by zero).
  3. ``CosineAnnealingLR`` past ``T_max`` follows the cosine back up (period ``2 * T_max``); it never holds
     ``eta_min``. ``MultiStepLR`` milestones may repeat (the rate is multiplied by ``gamma ** count``) and a
     milestone 0 applies at step 0.
  4. ``OneCycleLR`` raises ``ValueError`` after ``total_steps`` steps; step ``total_steps`` itself extrapolates the
     last phase (``pct > 1``): the cosine turns back up, the linear anneal passes ``min_lr`` and may go negative.
     Phase ends are floats (``pct_start * total_steps - 1``, ``2 * pct_start * total_steps - 2``), not rounded;
     a phase of length 0 divides by zero when reached (``pct_start * total_steps == 1`` at step 0);
     ``pct_start`` must be a Python float (``1`` raises). With ``three_phase`` and ``pct_start > 0.5`` the second
     phase ends past ``total_steps``: the run ends inside it and never reaches ``min_lr``.
  5. ``CyclicLR`` ignores ``scale_mode`` for the built-in modes (triangular* force ``"cycle"``, exp_range
     ``"iterations"``) and ignores ``mode`` when ``scale_fn`` is given; it sets the optimizer's lr to ``base_lr``
     (the optimizer's own lr is unused, as in ``OneCycleLR``). ``step_size_up=0`` divides by zero at step 0.
  6. ``CosineAnnealingWarmRestarts.step(epoch)`` (the closed form) finds the cycle with a float
     ``int(math.log(...))``; stepping without ``epoch`` counts in integers.
timm 1.0.31
  7. ``MultiStepLRScheduler`` applies milestone ``m`` at ``t == m - 1`` (``bisect_right(decay_t, t + 1)``), PyTorch's
     ``MultiStepLR`` at ``m``. ``StepLRScheduler`` accepts a float ``decay_t`` (float ``t // decay_t``).
  8. With ``cycle_mul != 1`` the cycle index is ``floor(log(1 - t / t_initial * (1 - cycle_mul), cycle_mul))`` in
     floats, and the position in the cycle a float difference: at some cycle starts the log rounds below the integer,
     so the step is counted as the end of the previous cycle (``t_curr == t_i``: ``lr_min`` for cosine, the tanh floor,
     ``lr_min`` for poly) instead of the restart. ``cycle_mul=3``: ``math.log(243, 3) == 4.999999999999999``, so
     ``t = 121 * t_initial`` (the start of cycle 5) is the end of cycle 4; ``cycle_mul=1.5, t_initial=16``: ``t = 211``.
     ``cycle_mul < 1`` raises ``ValueError`` (log of a negative number) once ``t >= t_initial / (1 - cycle_mul)``.
  9. Without ``warmup_prefix`` the warmup overlaps the first cycle: at ``t >= warmup_t`` the cosine is already at
     ``t``, not at 0; ``TanhLRScheduler`` warms up to its value at ``warmup_t``, the others to ``lr``.
  10. ``_get_lr(0)`` is not the constructor's rate in two cases: ``TanhLRScheduler`` without warmup (``_get_lr(0)``
      is ``lr_min + (lr - lr_min) * (1 - tanh(lb)) / 2``, 0.9999992 ``lr`` for ``lb=-7``; the constructor sets ``lr``)
      and ``MultiStepLRScheduler`` with a milestone ``<= 1``; timm's training loop uses the constructor's rate for
      update 0 (``t_in_epochs=False``) or all of epoch 0.
  11. ``PlateauLRScheduler.step(epoch)`` warms up while ``epoch <= warmup_t`` (others: ``t < warmup_t``), and with
      ``warmup_t=0`` its ``step(0, metric)`` sets the rate to ``warmup_lr_init`` (0 by default) and ignores the metric.
  12. ``WSDLRScheduler`` never goes below ``lr_min`` in the stable phase (``max(v * stable, lr_min)``), reaches
      ``lr_min`` at ``warmup_t + t_initial`` and holds it; ``stable_timescale`` defaults to ``warmup_t``.
Hugging Face transformers 5.24.0
  13. ``cosine``, ``cosine_with_min_lr`` and ``cosine_warmup_with_min_lr`` do not clamp the progress: past
      ``num_training_steps`` the cosine turns back up (``num_cycles=0.5``: back to ``lr`` at twice the decay length).
      ``linear`` clamps at 0, ``cosine_with_restarts`` returns 0, ``polynomial`` holds ``lr_end``.
  14. The ``max(1, ...)`` guards: with ``num_training_steps <= num_warmup_steps`` the decay length is 1 step, so the
      cosines oscillate with period ``1 / num_cycles`` after warmup; ``polynomial`` has no guard and divides by zero at
      ``num_training_steps == num_warmup_steps``.
  15. ``cosine_warmup_with_min_lr`` is shifted by one step: warmup ``(k + 1) / W`` (reaches ``lr`` at ``k = W - 1``),
      progress ``(k - W + 1) / (N - W)``; with ``warmup_lr_rate`` the warmup is ``rate + (1 - rate) * k / (W - 1)``.
  16. ``get_scheduler`` ignores ``scheduler_specific_kwargs`` for ``constant`` and ``constant_with_warmup`` and
      ``num_training_steps`` for ``inverse_sqrt`` and ``constant*``; ``polynomial`` and ``cosine*_with_min_lr`` read
      the optimizer's default lr (``optimizer.defaults["lr"]``), not the group's. ``inverse_sqrt``'s ``timescale``
      defaults to ``num_warmup_steps or 10_000``.
  17. ``warmup_stable_decay`` scales its warmup too: it starts at ``min_lr_ratio``, not 0; ``"1-sqrt"`` warmup is
      ``1 - sqrt(1 - progress)``; its cosine decay takes ``num_cycles``.
optax 0.2.8
  18. ``linear_onecycle_schedule`` / ``cosine_onecycle_schedule`` put their boundaries at ``int(pct * steps)`` in a
      dict: two equal boundaries collapse (the later scale wins), so the schedule silently loses a phase.
  19. ``piecewise_constant_schedule`` scales *at* the boundary (``count >= b``), Keras' ``PiecewiseConstantDecay``
      one step after it (``step > b``).
  20. Invalid arguments are replaced, not rejected: ``transition_steps <= 0`` or ``decay_rate == 0`` gives a constant
      ``init_value``; a negative ``transition_begin`` becomes 0.
  21. ``warmup_cosine_decay_schedule``'s ``decay_steps`` includes the warmup (it must exceed ``warmup_steps``: a
      cosine of 0 steps raises) and its end is ``peak * (end / peak)``, not ``end`` exactly; ``sgdr_schedule`` joins
      ``warmup_cosine_decay_schedule(**kwargs)`` per cycle.
  22. XLA divides by a constant as a multiplication by its reciprocal when the count is a vector or traced (``jit``,
      ``vmap``; what training does), exactly only for a Python-int scalar call: ``count / transition_steps`` is off by
      an ulp, so at the end of ``polynomial_schedule`` ``frac`` is ~1e-16, not 0, and with ``power < 1`` the held
      value is ``end + (init - end) * 1e-16 ** power`` (2.8e-8 of ``init`` for power 0.47), not ``end_value``. The
      transcriptions divide exactly (as the formula and a scalar call do).
Keras 3.15.1
  23. ``CosineDecay``'s ``decay_steps`` excludes the warmup (optax's includes it); ``warmup_steps`` is ignored without
      ``warmup_target``.
  24. ``PolynomialDecay(cycle=True)`` reaches ``end_learning_rate`` exactly at each multiple of ``decay_steps``
      (``ceil(k / decay_steps)``), then jumps back up; step 0 is special-cased.
  25. ``CosineDecayRestarts`` finds its cycle with a float log, as timm; ``t_mul < 1`` gives NaN past the finite total
      length. The default ``t_mul`` is 2.0.
  26. ``ops.floor`` floors in float32 even in float64 (it casts to ``result_type(float64, float)``, which is
      float32): the staircase exponents of ``ExponentialDecay``/``InverseTimeDecay`` and ``CosineDecayRestarts``'
      cycle index are ``floor(float32(x))``. It rounds 4.999999999999999 up, so ``CosineDecayRestarts(t_mul=3,
      first_decay_steps=1)`` does restart at step 121 where timm does not, but it also floors ``k - 1/decay_steps``
      to ``k`` once the float32 spacing of ``k`` exceeds ``2 / decay_steps`` (``step / decay_steps`` near 1e5 with
      ``decay_steps=1000``): the staircase drops a step early at large steps.
  27. ``PiecewiseConstantDecay`` casts its boundaries to the step's integer dtype: a float boundary is truncated.
  28. Keras computes in ``keras.config.floatx()``: float32 unless set to "float64" (the tests set it).
"""

from __future__ import annotations

import bisect
import itertools
import math
import struct
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

Formula = Callable[..., float]


def _nth(values: Iterator[float], step: int) -> float:
    """The ``step``-th value of a run (0-based)."""
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    return next(itertools.islice(values, step, None))


# =====================================================================================================================
# PyTorch 2.13.0: torch/optim/lr_scheduler.py
# =====================================================================================================================


def _chainable(lr: float, get_lr: Callable[[int, float], float]) -> Iterator[float]:
    """The group's rate after 0, 1, 2, ... calls of ``scheduler.step()``.

    The constructor calls ``step()`` once (``last_epoch`` -1 -> 0, with ``_is_initial`` set), so step 0 is already
    ``get_lr`` at ``last_epoch == 0``; each ``get_lr`` reads the group's current rate.
    """
    group_lr = lr  # torch 2.13.0 torch/optim/lr_scheduler.py:130-135 (initial_lr is the optimizer's lr)
    last_epoch = 0  # torch 2.13.0 torch/optim/lr_scheduler.py:176-180, 286-288
    while True:
        group_lr = get_lr(last_epoch, group_lr)
        yield group_lr
        last_epoch += 1


def _torch_step_lr(lr: float, step_size: int, gamma: float = 0.1) -> Iterator[float]:
    def get_lr(last_epoch: int, group_lr: float) -> float:
        if (last_epoch == 0) or (last_epoch % step_size != 0):  # torch 2.13.0 torch/optim/lr_scheduler.py:656
            return group_lr  # torch 2.13.0 torch/optim/lr_scheduler.py:657
        return group_lr * gamma  # torch 2.13.0 torch/optim/lr_scheduler.py:658

    return _chainable(lr, get_lr)


def _torch_multi_step_lr(lr: float, milestones: Sequence[int], gamma: float = 0.1) -> Iterator[float]:
    counts = Counter(milestones)  # torch 2.13.0 torch/optim/lr_scheduler.py:714

    def get_lr(last_epoch: int, group_lr: float) -> float:
        if last_epoch not in counts:  # torch 2.13.0 torch/optim/lr_scheduler.py:746
            return group_lr  # torch 2.13.0 torch/optim/lr_scheduler.py:747
        return group_lr * gamma ** counts[last_epoch]  # torch 2.13.0 torch/optim/lr_scheduler.py:748-751

    return _chainable(lr, get_lr)


def _torch_constant_lr(lr: float, factor: float = 1.0 / 3, total_iters: int = 5) -> Iterator[float]:
    if factor > 1.0 or factor < 0:  # torch 2.13.0 torch/optim/lr_scheduler.py:813-816
        raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")

    def get_lr(last_epoch: int, group_lr: float) -> float:
        if last_epoch == 0:  # torch 2.13.0 torch/optim/lr_scheduler.py:847
            return group_lr * factor  # torch 2.13.0 torch/optim/lr_scheduler.py:848
        if last_epoch != total_iters:  # torch 2.13.0 torch/optim/lr_scheduler.py:850
            return group_lr  # torch 2.13.0 torch/optim/lr_scheduler.py:851
        return group_lr * (1.0 / factor)  # torch 2.13.0 torch/optim/lr_scheduler.py:853-855

    return _chainable(lr, get_lr)


def _torch_linear_lr(
    lr: float, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5
) -> Iterator[float]:
    if start_factor > 1.0 or start_factor <= 0:  # torch 2.13.0 torch/optim/lr_scheduler.py:921-924
        raise ValueError("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.")
    if end_factor > 1.0 or end_factor < 0:  # torch 2.13.0 torch/optim/lr_scheduler.py:926-929
        raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")

    def get_lr(last_epoch: int, group_lr: float) -> float:
        if last_epoch == 0:  # torch 2.13.0 torch/optim/lr_scheduler.py:961
            return group_lr * start_factor  # torch 2.13.0 torch/optim/lr_scheduler.py:962-964
        if last_epoch > total_iters:  # torch 2.13.0 torch/optim/lr_scheduler.py:966 (_is_initial: last_epoch 0)
            return group_lr  # torch 2.13.0 torch/optim/lr_scheduler.py:967
        return group_lr * (  # torch 2.13.0 torch/optim/lr_scheduler.py:969-980
            1.0
            + (end_factor - start_factor)
            / (total_iters * start_factor + (last_epoch - 1) * (end_factor - start_factor))
        )

    return _chainable(lr, get_lr)


def _torch_exponential_lr(lr: float, gamma: float) -> Iterator[float]:
    def get_lr(last_epoch: int, group_lr: float) -> float:
        if last_epoch == 0:  # torch 2.13.0 torch/optim/lr_scheduler.py:1062 (_is_initial)
            return group_lr  # torch 2.13.0 torch/optim/lr_scheduler.py:1063
        return group_lr * gamma  # torch 2.13.0 torch/optim/lr_scheduler.py:1064

    return _chainable(lr, get_lr)


def _torch_polynomial_lr(lr: float, total_iters: int = 5, power: float = 1.0) -> Iterator[float]:
    def get_lr(last_epoch: int, group_lr: float) -> float:
        if last_epoch == 0 or last_epoch > total_iters:  # torch 2.13.0 torch/optim/lr_scheduler.py:1306 (_is_initial)
            return group_lr  # torch 2.13.0 torch/optim/lr_scheduler.py:1307
        decay_factor = (  # torch 2.13.0 torch/optim/lr_scheduler.py:1309-1312
            (1.0 - last_epoch / total_iters) / (1.0 - (last_epoch - 1) / total_iters)
        ) ** power
        return group_lr * decay_factor  # torch 2.13.0 torch/optim/lr_scheduler.py:1313

    return _chainable(lr, get_lr)


def _torch_cosine_annealing_lr(lr: float, T_max: int, eta_min: float = 0.0) -> Iterator[float]:
    base_lr = lr  # torch 2.13.0 torch/optim/lr_scheduler.py:145-147

    def get_lr(last_epoch: int, group_lr: float) -> float:
        if last_epoch == 0:  # torch 2.13.0 torch/optim/lr_scheduler.py:1428 (_is_initial)
            return group_lr  # torch 2.13.0 torch/optim/lr_scheduler.py:1429
        # torch 2.13.0 torch/optim/lr_scheduler.py:1430 (`_step_count == 1 and last_epoch > 0`) is a resumed run only.
        if (last_epoch - 1 - T_max) % (2 * T_max) == 0:  # torch 2.13.0 torch/optim/lr_scheduler.py:1440
            return group_lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T_max)) / 2  # lr_scheduler.py:1443
        return (  # torch 2.13.0 torch/optim/lr_scheduler.py:1448-1454
            (1 + math.cos(math.pi * last_epoch / T_max))
            / (1 + math.cos(math.pi * (last_epoch - 1) / T_max))
            * (group_lr - eta_min)
            + eta_min
        )

    return _chainable(lr, get_lr)


def _torch_cosine_annealing_warm_restarts(
    lr: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0
) -> Iterator[float]:
    if T_0 <= 0 or not isinstance(T_0, int):  # torch 2.13.0 torch/optim/lr_scheduler.py:2154-2155
        raise ValueError(f"Expected positive integer T_0, but got {T_0}")
    if T_mult < 1 or not isinstance(T_mult, int):  # torch 2.13.0 torch/optim/lr_scheduler.py:2156-2157
        raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
    # The constructor's step is step(epoch=0): torch 2.13.0 torch/optim/lr_scheduler.py:2238-2239, 2263-2265.
    T_i, T_cur = T_0, 0
    while True:
        yield eta_min + (lr - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2  # lr_scheduler.py:2202-2208
        T_cur = T_cur + 1  # torch 2.13.0 torch/optim/lr_scheduler.py:2243
        if T_cur >= T_i:  # torch 2.13.0 torch/optim/lr_scheduler.py:2244
            T_cur = T_cur % T_i  # torch 2.13.0 torch/optim/lr_scheduler.py:2245
            T_i = T_i * T_mult  # torch 2.13.0 torch/optim/lr_scheduler.py:2246


def _torch_cyclic(
    step: int,
    base_lr: float,
    max_lr: float,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    scale_fn: Callable[[float], float] | None = None,
    scale_mode: str = "cycle",
    cycle_momentum: bool = True,
    base_momentum: float = 0.8,
    max_momentum: float = 0.9,
) -> tuple[float, float | None]:
    """CyclicLR's ``get_lr`` at ``last_epoch == step``: (rate, momentum or None)."""
    step_size_up = float(step_size_up)  # torch 2.13.0 torch/optim/lr_scheduler.py:1916
    step_size_down = float(step_size_down) if step_size_down is not None else step_size_up  # lr_scheduler.py:1917-1920
    total_size = step_size_up + step_size_down  # torch 2.13.0 torch/optim/lr_scheduler.py:1922
    step_ratio = step_size_up / total_size  # torch 2.13.0 torch/optim/lr_scheduler.py:1923
    if mode not in ["triangular", "triangular2", "exp_range"] and scale_fn is None:  # lr_scheduler.py:1925-1926
        raise ValueError("mode is invalid and scale_fn is None")
    if scale_fn is None:  # torch 2.13.0 torch/optim/lr_scheduler.py:1968-1986: the built-ins force scale_mode
        if mode == "triangular":
            scale_fn, scale_mode = (lambda x: 1.0), "cycle"  # torch 2.13.0 torch/optim/lr_scheduler.py:1989-1990
        elif mode == "triangular2":
            scale_fn, scale_mode = (lambda x: 1 / (2.0 ** (x - 1))), "cycle"  # torch/optim/lr_scheduler.py:1993-1994
        else:
            scale_fn, scale_mode = (lambda x: gamma**x), "iterations"  # torch/optim/lr_scheduler.py:1997-1998

    last_epoch = step
    cycle = math.floor(1 + last_epoch / total_size)  # torch 2.13.0 torch/optim/lr_scheduler.py:2032
    x = 1.0 + last_epoch / total_size - cycle  # torch 2.13.0 torch/optim/lr_scheduler.py:2033
    if x <= step_ratio:  # torch 2.13.0 torch/optim/lr_scheduler.py:2034-2037
        scale_factor = x / step_ratio
    else:
        scale_factor = (x - 1) / (step_ratio - 1)
    scale = scale_fn(cycle) if scale_mode == "cycle" else scale_fn(last_epoch)
    base_height = (max_lr - base_lr) * scale_factor  # torch 2.13.0 torch/optim/lr_scheduler.py:2041
    lr = base_lr + base_height * scale  # torch 2.13.0 torch/optim/lr_scheduler.py:2042-2045
    if not cycle_momentum:
        return lr, None
    momentum_height = (max_momentum - base_momentum) * scale_factor  # torch 2.13.0 torch/optim/lr_scheduler.py:2053
    return lr, max_momentum - momentum_height * scale  # torch 2.13.0 torch/optim/lr_scheduler.py:2054-2059


def torch_cyclic_lr(step: int, lr: float, base_lr: float, max_lr: float, **kwargs: Any) -> float:
    """``CyclicLR``; the optimizer's ``lr`` is replaced by ``base_lr`` (torch/optim/lr_scheduler.py:1908-1911)."""
    return _torch_cyclic(step, base_lr, max_lr, **kwargs)[0]


def torch_cyclic_momentum(step: int, lr: float, base_lr: float, max_lr: float, **kwargs: Any) -> float:
    momentum = _torch_cyclic(step, base_lr, max_lr, **kwargs)[1]
    if momentum is None:
        raise ValueError("CyclicLR sets no momentum with cycle_momentum=False")
    return momentum


def _torch_one_cycle(
    step: int,
    max_lr: float,
    total_steps: int | None = None,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    cycle_momentum: bool = True,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> tuple[float, float | None]:
    """OneCycleLR's ``get_lr`` at ``last_epoch == step``: (rate, momentum or None)."""
    if total_steps is not None:  # torch 2.13.0 torch/optim/lr_scheduler.py:2412-2429
        if total_steps <= 0 or not isinstance(total_steps, int):
            raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
    elif epochs is not None and steps_per_epoch is not None:
        if not isinstance(epochs, int) or epochs <= 0:
            raise ValueError(f"Expected positive integer epochs, but got {epochs}")
        if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
            raise ValueError(f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}")
        total_steps = epochs * steps_per_epoch
    else:
        raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
    if three_phase:  # torch 2.13.0 torch/optim/lr_scheduler.py:2432-2455
        phases = [
            (float(pct_start * total_steps) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
            (float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
            (total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
        ]
    else:  # torch 2.13.0 torch/optim/lr_scheduler.py:2456-2472
        phases = [
            (float(pct_start * total_steps) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
            (total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
        ]
    if pct_start < 0 or pct_start > 1 or not isinstance(pct_start, float):  # torch/optim/lr_scheduler.py:2475-2478
        raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
    if anneal_strategy not in ["cos", "linear"]:  # torch 2.13.0 torch/optim/lr_scheduler.py:2481-2484
        raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
    group = {"initial_lr": max_lr / div_factor, "max_lr": max_lr}  # torch/optim/lr_scheduler.py:2492-2493
    group["min_lr"] = group["initial_lr"] / final_div_factor  # torch 2.13.0 torch/optim/lr_scheduler.py:2494
    group["max_momentum"], group["base_momentum"] = max_momentum, base_momentum  # lr_scheduler.py:2517-2518

    def anneal(start: float, end: float, pct: float) -> float:
        if anneal_strategy == "cos":  # torch 2.13.0 torch/optim/lr_scheduler.py:2535-2538
            cos_out = math.cos(math.pi * pct) + 1
            return end + (start - end) / 2.0 * cos_out
        return (end - start) * pct + start  # torch 2.13.0 torch/optim/lr_scheduler.py:2541-2543

    step_num = step  # torch 2.13.0 torch/optim/lr_scheduler.py:2574
    if step_num > total_steps:  # torch 2.13.0 torch/optim/lr_scheduler.py:2576-2579
        raise ValueError(f"Tried to step {step_num} times. The specified number of total steps is {total_steps}")
    start_step = 0.0  # torch 2.13.0 torch/optim/lr_scheduler.py:2582
    for i, (end_step, start_lr, end_lr, start_momentum, end_momentum) in enumerate(phases):
        if step_num <= end_step or i == len(phases) - 1:  # torch 2.13.0 torch/optim/lr_scheduler.py:2585
            pct = (step_num - start_step) / (end_step - start_step)  # torch 2.13.0 torch/optim/lr_scheduler.py:2586
            computed_lr = anneal(group[start_lr], group[end_lr], pct)  # torch/optim/lr_scheduler.py:2587-2589
            computed_momentum = anneal(group[start_momentum], group[end_momentum], pct)  # lr_scheduler.py:2591-2595
            break
        start_step = end_step  # torch 2.13.0 torch/optim/lr_scheduler.py:2597
    return computed_lr, (computed_momentum if cycle_momentum else None)


def torch_one_cycle_lr(step: int, lr: float, max_lr: float, **kwargs: Any) -> float:
    """``OneCycleLR``; the optimizer's ``lr`` is unused (torch/optim/lr_scheduler.py:2490-2494)."""
    return _torch_one_cycle(step, max_lr, **kwargs)[0]


def torch_one_cycle_momentum(step: int, lr: float, max_lr: float, **kwargs: Any) -> float:
    momentum = _torch_one_cycle(step, max_lr, **kwargs)[1]
    if momentum is None:
        raise ValueError("OneCycleLR sets no momentum with cycle_momentum=False")
    return momentum


TORCH_RUNS: dict[str, Callable[..., Iterator[float]]] = {
    "StepLR": _torch_step_lr,
    "MultiStepLR": _torch_multi_step_lr,
    "ConstantLR": _torch_constant_lr,
    "LinearLR": _torch_linear_lr,
    "ExponentialLR": _torch_exponential_lr,
    "PolynomialLR": _torch_polynomial_lr,
    "CosineAnnealingLR": _torch_cosine_annealing_lr,
    "CosineAnnealingWarmRestarts": _torch_cosine_annealing_warm_restarts,
}
"""The recursive (stateful) PyTorch schedulers as runs: ``TORCH_RUNS[name](lr, **kwargs)`` yields the rate after
0, 1, 2, ... calls of ``scheduler.step()``."""


def _torch_point(run: Callable[..., Iterator[float]]) -> Formula:
    def formula(step: int, lr: float, **kwargs: Any) -> float:
        return _nth(run(lr, **kwargs), step)

    formula.__name__ = formula.__qualname__ = run.__name__.lstrip("_")
    return formula


def _torch_closed_cosine_warm_restarts(step: int, lr: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0) -> float:
    """``CosineAnnealingWarmRestarts.step(epoch=step)`` on a fresh scheduler (T_i is T_0 unless reassigned)."""
    epoch, T_i = step, T_0
    if epoch >= T_0:  # torch 2.13.0 torch/optim/lr_scheduler.py:2250-2262
        if T_mult == 1:
            T_cur = epoch % T_0
        else:
            n = int(math.log((epoch / T_0 * (T_mult - 1) + 1), T_mult))
            T_cur = epoch - T_0 * (T_mult**n - 1) / (T_mult - 1)
            T_i = T_0 * T_mult ** (n)
    else:  # torch 2.13.0 torch/optim/lr_scheduler.py:2263-2265
        T_i = T_0
        T_cur = epoch
    return eta_min + (lr - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2  # lr_scheduler.py:2202-2208


TORCH_CLOSED_FORMS: dict[str, Formula] = {
    # torch 2.13.0 torch/optim/lr_scheduler.py:673-676
    "StepLR": lambda step, lr, step_size, gamma=0.1: lr * gamma ** (step // step_size),
    # torch 2.13.0 torch/optim/lr_scheduler.py:766-770
    "MultiStepLR": lambda step, lr, milestones, gamma=0.1: lr * gamma ** bisect.bisect_right(sorted(milestones), step),
    # torch 2.13.0 torch/optim/lr_scheduler.py:870-874
    "ConstantLR": lambda step, lr, factor=1.0 / 3, total_iters=5: lr * (factor + (step >= total_iters) * (1 - factor)),
    # torch 2.13.0 torch/optim/lr_scheduler.py:995-1004
    "LinearLR": lambda step, lr, start_factor=1.0 / 3, end_factor=1.0, total_iters=5: (
        lr * (start_factor + (end_factor - start_factor) * min(total_iters, step) / total_iters)
    ),
    # torch 2.13.0 torch/optim/lr_scheduler.py:1079
    "ExponentialLR": lambda step, lr, gamma: lr * gamma**step,
    # torch 2.13.0 torch/optim/lr_scheduler.py:1328-1335
    "PolynomialLR": lambda step, lr, total_iters=5, power=1.0: (
        lr * (1.0 - min(total_iters, step) / total_iters) ** power
    ),
    # torch 2.13.0 torch/optim/lr_scheduler.py:1469-1475
    "CosineAnnealingLR": lambda step, lr, T_max, eta_min=0.0: (
        eta_min + (lr - eta_min) * (1 + math.cos(math.pi * step / T_max)) / 2
    ),
    "CosineAnnealingWarmRestarts": _torch_closed_cosine_warm_restarts,
}
"""PyTorch's ``_get_closed_form_lr``: the rate after ``scheduler.step(epoch=step)`` (deprecated; warns)."""


class TorchPlateau:
    """``torch.optim.lr_scheduler.ReduceLROnPlateau`` on one parameter group, transcribed; ``lr`` is its rate."""

    def __init__(
        self,
        lr: float,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0,
        eps: float = 1e-8,
    ) -> None:
        if factor >= 1.0:  # torch 2.13.0 torch/optim/lr_scheduler.py:1660-1661
            raise ValueError("Factor should be < 1.0.")
        if mode not in {"min", "max"}:  # torch 2.13.0 torch/optim/lr_scheduler.py:1764-1767
            raise ValueError("mode " + mode + " is unknown!")
        if threshold_mode not in {"rel", "abs"}:
            raise ValueError("threshold mode " + threshold_mode + " is unknown!")
        self.lr, self.mode, self.factor, self.patience = lr, mode, factor, patience
        self.threshold, self.threshold_mode, self.cooldown, self.min_lr, self.eps = (
            threshold,
            threshold_mode,
            cooldown,
            min_lr,
            eps,
        )
        self.last_epoch = 0  # torch 2.13.0 torch/optim/lr_scheduler.py:1683
        self.best = math.inf if mode == "min" else -math.inf  # torch/optim/lr_scheduler.py:1692, 1770-1773
        self.cooldown_counter = 0  # torch 2.13.0 torch/optim/lr_scheduler.py:1693
        self.num_bad_epochs = 0  # torch 2.13.0 torch/optim/lr_scheduler.py:1694

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":  # torch/optim/lr_scheduler.py:1749-1751
            rel_epsilon = 1.0 - self.threshold
            return a < best * rel_epsilon
        elif self.mode == "min" and self.threshold_mode == "abs":  # torch/optim/lr_scheduler.py:1753-1754
            return a < best - self.threshold
        elif self.mode == "max" and self.threshold_mode == "rel":  # torch/optim/lr_scheduler.py:1756-1758
            rel_epsilon = self.threshold + 1.0
            return a > best * rel_epsilon
        else:  # torch 2.13.0 torch/optim/lr_scheduler.py:1760-1761
            return a > best + self.threshold

    def step(self, metrics: float) -> float:
        current = float(metrics)  # torch 2.13.0 torch/optim/lr_scheduler.py:1699
        self.last_epoch = self.last_epoch + 1  # torch 2.13.0 torch/optim/lr_scheduler.py:1700-1704
        if self._is_better(current, self.best):  # torch 2.13.0 torch/optim/lr_scheduler.py:1706-1710
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:  # torch 2.13.0 torch/optim/lr_scheduler.py:1712-1714
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:  # torch 2.13.0 torch/optim/lr_scheduler.py:1716-1719
            old_lr = float(self.lr)  # torch 2.13.0 torch/optim/lr_scheduler.py:1739-1742 (_reduce_lr)
            new_lr = max(old_lr * self.factor, self.min_lr)
            if old_lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        return self.lr


def torch_plateau_run(lr: float, metrics: Sequence[float], **kwargs: Any) -> list[float]:
    """``ReduceLROnPlateau``: the rate before any step, then after each ``scheduler.step(metric)``."""
    plateau = TorchPlateau(lr, **kwargs)
    return [lr] + [plateau.step(metric) for metric in metrics]


# =====================================================================================================================
# timm 1.0.31: timm/scheduler/*.py. Each function is ``scheduler._get_lr(t)`` for the first param group, ``lr`` being
# the optimizer's rate (the scheduler's base value). Noise is off: ``noise_range_t`` must be None.
# =====================================================================================================================

_TIMM_IGNORED = {"t_in_epochs", "noise_range_t", "noise_type", "noise_pct", "noise_std", "noise_seed", "initialize"}


def _timm_noise_off(ignored: dict[str, Any]) -> None:
    """The base class's arguments (timm/scheduler/scheduler.py:27-38) do not change ``_get_lr``; noise is refused."""
    unknown = set(ignored) - _TIMM_IGNORED
    if unknown:
        raise TypeError(f"unexpected arguments {sorted(unknown)}")
    if ignored.get("noise_range_t") is not None:
        raise ValueError("the transcriptions are noise-free: noise_range_t must be None")


def _timm_cycle(t: float, t_initial: int, cycle_mul: float) -> tuple[int, float, float]:
    """Cycle index, cycle length and position in the cycle (cosine_lr.py:88-95, tanh_lr.py:86-93, poly_lr.py:84-91)."""
    if cycle_mul != 1:  # timm 1.0.31 timm/scheduler/cosine_lr.py:88
        i = math.floor(math.log(1 - t / t_initial * (1 - cycle_mul), cycle_mul))  # timm/scheduler/cosine_lr.py:89
        t_i = cycle_mul**i * t_initial  # timm 1.0.31 timm/scheduler/cosine_lr.py:90
        t_curr = t - (1 - cycle_mul**i) / (1 - cycle_mul) * t_initial  # timm 1.0.31 timm/scheduler/cosine_lr.py:91
    else:
        i = t // t_initial  # timm 1.0.31 timm/scheduler/cosine_lr.py:93
        t_i = t_initial  # timm 1.0.31 timm/scheduler/cosine_lr.py:94
        t_curr = t - (t_initial * i)  # timm 1.0.31 timm/scheduler/cosine_lr.py:95
    return i, t_i, t_curr


def timm_cosine(
    t: int,
    lr: float,
    t_initial: int,
    lr_min: float = 0.0,
    cycle_mul: float = 1.0,
    cycle_decay: float = 1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = False,
    k_decay: float = 1.0,
    **ignored: Any,
) -> float:
    """``CosineLRScheduler._get_lr(t)``."""
    _timm_noise_off(ignored)
    assert t_initial > 0  # timm 1.0.31 timm/scheduler/cosine_lr.py:60
    assert lr_min >= 0  # timm 1.0.31 timm/scheduler/cosine_lr.py:61
    if t < warmup_t:  # timm 1.0.31 timm/scheduler/cosine_lr.py:82-83 (warmup_steps: cosine_lr.py:76)
        return warmup_lr_init + t * ((lr - warmup_lr_init) / warmup_t)
    if warmup_prefix:  # timm 1.0.31 timm/scheduler/cosine_lr.py:85-86
        t = t - warmup_t
    i, t_i, t_curr = _timm_cycle(t, t_initial, cycle_mul)
    gamma = cycle_decay**i  # timm 1.0.31 timm/scheduler/cosine_lr.py:97
    lr_max = lr * gamma  # timm 1.0.31 timm/scheduler/cosine_lr.py:98
    k = k_decay  # timm 1.0.31 timm/scheduler/cosine_lr.py:99
    if i < cycle_limit:  # timm 1.0.31 timm/scheduler/cosine_lr.py:101-105
        return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * t_curr**k / t_i**k))
    return lr_min  # timm 1.0.31 timm/scheduler/cosine_lr.py:107


def timm_tanh(
    t: int,
    lr: float,
    t_initial: int,
    lb: float = -7.0,
    ub: float = 3.0,
    lr_min: float = 0.0,
    cycle_mul: float = 1.0,
    cycle_decay: float = 1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = False,
    **ignored: Any,
) -> float:
    """``TanhLRScheduler._get_lr(t)``."""
    _timm_noise_off(ignored)
    assert t_initial > 0  # timm 1.0.31 timm/scheduler/tanh_lr.py:56
    assert lr_min >= 0  # timm 1.0.31 timm/scheduler/tanh_lr.py:57
    assert lb < ub  # timm 1.0.31 timm/scheduler/tanh_lr.py:58
    assert cycle_limit >= 0  # timm 1.0.31 timm/scheduler/tanh_lr.py:59
    assert warmup_t >= 0  # timm 1.0.31 timm/scheduler/tanh_lr.py:60
    assert warmup_lr_init >= 0  # timm 1.0.31 timm/scheduler/tanh_lr.py:61

    def after_warmup(t: float) -> float:  # the `else` branch of _get_lr: timm/scheduler/tanh_lr.py:82-105
        if warmup_prefix:  # timm 1.0.31 timm/scheduler/tanh_lr.py:83-84
            t = t - warmup_t
        i, t_i, t_curr = _timm_cycle(t, t_initial, cycle_mul)  # timm 1.0.31 timm/scheduler/tanh_lr.py:86-93
        if i < cycle_limit:  # timm 1.0.31 timm/scheduler/tanh_lr.py:95
            gamma = cycle_decay**i  # timm 1.0.31 timm/scheduler/tanh_lr.py:96
            lr_max = lr * gamma  # timm 1.0.31 timm/scheduler/tanh_lr.py:97
            tr = t_curr / t_i  # timm 1.0.31 timm/scheduler/tanh_lr.py:99
            return lr_min + 0.5 * (lr_max - lr_min) * (1 - math.tanh(lb * (1.0 - tr) + ub * tr))  # tanh_lr.py:101
        return lr_min  # timm 1.0.31 timm/scheduler/tanh_lr.py:105

    if t < warmup_t:  # timm 1.0.31 timm/scheduler/tanh_lr.py:80-81
        t_v = lr if warmup_prefix else after_warmup(warmup_t)  # timm 1.0.31 timm/scheduler/tanh_lr.py:73
        return warmup_lr_init + t * ((t_v - warmup_lr_init) / warmup_t)  # timm 1.0.31 timm/scheduler/tanh_lr.py:74
    return after_warmup(t)


def timm_step(
    t: int,
    lr: float,
    decay_t: float,
    decay_rate: float = 1.0,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = True,
    **ignored: Any,
) -> float:
    """``StepLRScheduler._get_lr(t)``."""
    _timm_noise_off(ignored)
    if t < warmup_t:  # timm 1.0.31 timm/scheduler/step_lr.py:57-58 (warmup_steps: step_lr.py:51)
        return warmup_lr_init + t * ((lr - warmup_lr_init) / warmup_t)
    if warmup_prefix:  # timm 1.0.31 timm/scheduler/step_lr.py:60-61
        t = t - warmup_t
    return lr * (decay_rate ** (t // decay_t))  # timm 1.0.31 timm/scheduler/step_lr.py:62


def timm_multi_step(
    t: int,
    lr: float,
    decay_t: Sequence[int],
    decay_rate: float = 1.0,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = True,
    **ignored: Any,
) -> float:
    """``MultiStepLRScheduler._get_lr(t)``."""
    _timm_noise_off(ignored)
    if t < warmup_t:  # timm 1.0.31 timm/scheduler/multistep_lr.py:68-69 (warmup_steps: multistep_lr.py:53)
        return warmup_lr_init + t * ((lr - warmup_lr_init) / warmup_t)
    if warmup_prefix:  # timm 1.0.31 timm/scheduler/multistep_lr.py:71-72
        t = t - warmup_t
    return lr * (decay_rate ** bisect.bisect_right(decay_t, t + 1))  # timm/scheduler/multistep_lr.py:65, 73


def timm_poly(
    t: int,
    lr: float,
    t_initial: int,
    power: float = 0.5,
    lr_min: float = 0.0,
    cycle_mul: float = 1.0,
    cycle_decay: float = 1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = False,
    k_decay: float = 1.0,
    **ignored: Any,
) -> float:
    """``PolyLRScheduler._get_lr(t)``."""
    _timm_noise_off(ignored)
    assert t_initial > 0  # timm 1.0.31 timm/scheduler/poly_lr.py:56
    assert lr_min >= 0  # timm 1.0.31 timm/scheduler/poly_lr.py:57
    if t < warmup_t:  # timm 1.0.31 timm/scheduler/poly_lr.py:78-79 (warmup_steps: poly_lr.py:72)
        return warmup_lr_init + t * ((lr - warmup_lr_init) / warmup_t)
    if warmup_prefix:  # timm 1.0.31 timm/scheduler/poly_lr.py:81-82
        t = t - warmup_t
    i, t_i, t_curr = _timm_cycle(t, t_initial, cycle_mul)  # timm 1.0.31 timm/scheduler/poly_lr.py:84-91
    gamma = cycle_decay**i  # timm 1.0.31 timm/scheduler/poly_lr.py:93
    lr_max = lr * gamma  # timm 1.0.31 timm/scheduler/poly_lr.py:94
    k = k_decay  # timm 1.0.31 timm/scheduler/poly_lr.py:95
    if i < cycle_limit:  # timm 1.0.31 timm/scheduler/poly_lr.py:97-101
        return lr_min + (lr_max - lr_min) * (1 - t_curr**k / t_i**k) ** power
    return lr_min  # timm 1.0.31 timm/scheduler/poly_lr.py:103


def timm_wsd(
    t: int,
    lr: float,
    t_initial: int,
    decay_t: int,
    lr_min: float = 0.0,
    stable_fn: str = "constant",
    stable_timescale: float | None = None,
    stable_power: float = 0.5,
    decay_fn: str | Callable[[float], float] = "1-sqrt",
    decay_power: float = 0.5,
    decay_ratio: float = 0.1,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    **ignored: Any,
) -> float:
    """``WSDLRScheduler._get_lr(t)``."""
    _timm_noise_off(ignored)
    if t_initial <= 0:  # timm 1.0.31 timm/scheduler/wsd_lr.py:113-128
        raise ValueError(f"Invalid t_initial ({t_initial}), must be > 0.")
    if not 0 < decay_t <= t_initial:
        raise ValueError(f"Invalid decay_t ({decay_t}), must be in (0, t_initial] w/ t_initial={t_initial}.")
    if lr_min < 0:
        raise ValueError(f"Invalid lr_min ({lr_min}), must be >= 0.")
    if stable_fn not in ("constant", "rsqrt", "power"):
        raise ValueError(f"Invalid stable_fn ({stable_fn}), must be one of ('constant', 'rsqrt', 'power').")
    if isinstance(decay_fn, str) and decay_fn not in ("linear", "1-sqrt", "cosine", "power", "exp"):
        raise ValueError(f"Invalid decay_fn ({decay_fn}), must be one of the decay functions or a callable.")
    if not 0.0 < decay_ratio < 1.0:
        raise ValueError(f"Invalid decay_ratio ({decay_ratio}), must be in (0, 1).")
    if decay_power <= 0:
        raise ValueError(f"Invalid decay_power ({decay_power}), must be > 0.")
    if stable_power <= 0:
        raise ValueError(f"Invalid stable_power ({stable_power}), must be > 0.")
    if stable_fn != "constant":  # timm 1.0.31 timm/scheduler/wsd_lr.py:129-135
        if stable_timescale is None:
            stable_timescale = warmup_t
        if stable_timescale <= 0:
            raise ValueError(f"stable_fn={stable_fn} requires a positive stable_timescale")

    def stable(t_s: float) -> float:
        if stable_fn == "constant":  # timm 1.0.31 timm/scheduler/wsd_lr.py:156-157
            return 1.0
        power = 0.5 if stable_fn == "rsqrt" else stable_power  # timm 1.0.31 timm/scheduler/wsd_lr.py:158
        return (1.0 + t_s / stable_timescale) ** -power  # timm 1.0.31 timm/scheduler/wsd_lr.py:159

    def decay(frac: float) -> float:
        if callable(decay_fn):  # timm 1.0.31 timm/scheduler/wsd_lr.py:163-164
            return decay_fn(frac)
        if decay_fn == "linear":  # timm 1.0.31 timm/scheduler/wsd_lr.py:165-166
            return 1.0 - frac
        if decay_fn == "1-sqrt":  # timm 1.0.31 timm/scheduler/wsd_lr.py:167-168
            return 1.0 - math.sqrt(frac)
        if decay_fn == "cosine":  # timm 1.0.31 timm/scheduler/wsd_lr.py:169-170
            return 0.5 * (1.0 + math.cos(math.pi * frac))
        if decay_fn == "power":  # timm 1.0.31 timm/scheduler/wsd_lr.py:171-172
            return 1.0 - frac**decay_power
        r = decay_ratio  # timm 1.0.31 timm/scheduler/wsd_lr.py:174
        return (r**frac - r) / (1.0 - r)  # timm 1.0.31 timm/scheduler/wsd_lr.py:175

    if t < warmup_t:  # timm 1.0.31 timm/scheduler/wsd_lr.py:178-179 (warmup_steps: wsd_lr.py:149)
        return warmup_lr_init + t * ((lr - warmup_lr_init) / warmup_t)
    t_s = t - warmup_t  # timm 1.0.31 timm/scheduler/wsd_lr.py:181
    stable_lr = max(lr * stable(t_s), lr_min)  # timm 1.0.31 timm/scheduler/wsd_lr.py:183
    t_decay = t_s - (t_initial - decay_t)  # timm 1.0.31 timm/scheduler/wsd_lr.py:184
    if t_decay <= 0:  # timm 1.0.31 timm/scheduler/wsd_lr.py:185-186
        return stable_lr
    factor = decay(min(t_decay / decay_t, 1.0))  # timm 1.0.31 timm/scheduler/wsd_lr.py:187
    return lr_min + (stable_lr - lr_min) * factor  # timm 1.0.31 timm/scheduler/wsd_lr.py:188


def timm_plateau_run(
    lr: float,
    metrics: Sequence[float],
    epochs: Sequence[int] | None = None,
    decay_rate: float = 0.1,
    patience_t: int = 10,
    threshold: float = 1e-4,
    cooldown_t: int = 0,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    lr_min: float = 0.0,
    mode: str = "max",
    **ignored: Any,
) -> list[float]:
    """``PlateauLRScheduler``: the rate after construction, then after each ``step(epoch, metric)``.

    ``epochs`` defaults to 1, 2, ..., as timm's train.py calls ``step(epoch + 1, metric)`` after each epoch.
    """
    _timm_noise_off(ignored)
    epochs = range(1, len(metrics) + 1) if epochs is None else epochs
    plateau = TorchPlateau(  # timm 1.0.31 timm/scheduler/plateau_lr.py:61-69
        lr, patience=patience_t, factor=decay_rate, threshold=threshold, cooldown=cooldown_t, mode=mode, min_lr=lr_min
    )
    warmup_step = (lr - warmup_lr_init) / warmup_t if warmup_t else 1  # timm/scheduler/plateau_lr.py:73-77
    plateau.lr = warmup_lr_init if warmup_t else lr  # timm 1.0.31 timm/scheduler/plateau_lr.py:75
    rates = [plateau.lr]
    for epoch, metric in zip(epochs, metrics, strict=True):
        if epoch <= warmup_t:  # timm 1.0.31 timm/scheduler/plateau_lr.py:93-95
            plateau.lr = warmup_lr_init + epoch * warmup_step
        elif metric is not None:  # timm 1.0.31 timm/scheduler/plateau_lr.py:104-105
            plateau.step(metric)
        rates.append(plateau.lr)
    return rates


# =====================================================================================================================
# Hugging Face transformers 5.24.0: transformers/optimization.py. LambdaLR gives ``base_lr * lr_lambda(last_epoch)``
# (torch 2.13.0 torch/optim/lr_scheduler.py:465-468); ``get_scheduler`` routes the arguments (optimization.py:1014).
# =====================================================================================================================


def _hf_constant(current_step: int) -> float:
    return 1  # transformers 5.24.0 transformers/optimization.py:35-36


def _hf_constant_with_warmup(current_step: int, *, num_warmup_steps: int) -> float:
    if current_step < num_warmup_steps:  # transformers 5.24.0 transformers/optimization.py:75-76
        return float(current_step) / float(max(1.0, num_warmup_steps))
    return 1.0  # transformers 5.24.0 transformers/optimization.py:77


def _hf_linear(current_step: int, *, num_warmup_steps: int, num_training_steps: int) -> float:
    if current_step < num_warmup_steps:  # transformers 5.24.0 transformers/optimization.py:102-103
        return float(current_step) / float(max(1, num_warmup_steps))
    return max(  # transformers 5.24.0 transformers/optimization.py:104
        0.0, float(num_training_steps - current_step) / float(max(1, num_training_steps - num_warmup_steps))
    )


def _hf_cosine(current_step: int, *, num_warmup_steps: int, num_training_steps: int, num_cycles: float = 0.5) -> float:
    if current_step < num_warmup_steps:  # transformers 5.24.0 transformers/optimization.py:137-138
        return float(current_step) / float(max(1, num_warmup_steps))
    progress = float(current_step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))  # :139
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)))  # optimization.py:140


def _hf_cosine_with_restarts(
    current_step: int, *, num_warmup_steps: int, num_training_steps: int, num_cycles: int = 1
) -> float:
    if current_step < num_warmup_steps:  # transformers 5.24.0 transformers/optimization.py:180-181
        return float(current_step) / float(max(1, num_warmup_steps))
    progress = float(current_step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))  # :182
    if progress >= 1.0:  # transformers 5.24.0 transformers/optimization.py:183-184
        return 0.0
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((float(num_cycles) * progress) % 1.0))))  # optimization.py:185


def _hf_polynomial(
    current_step: int,
    *,
    num_warmup_steps: int,
    num_training_steps: int,
    lr_end: float = 1e-7,
    power: float = 1.0,
    lr_init: float,
) -> float:
    if current_step < num_warmup_steps:  # transformers 5.24.0 transformers/optimization.py:230-231
        return float(current_step) / float(max(1, num_warmup_steps))
    elif current_step > num_training_steps:  # transformers 5.24.0 transformers/optimization.py:232-233
        return lr_end / lr_init
    else:  # transformers 5.24.0 transformers/optimization.py:234-239
        lr_range = lr_init - lr_end
        decay_steps = num_training_steps - num_warmup_steps
        pct_remaining = 1 - (current_step - num_warmup_steps) / decay_steps
        decay = lr_range * pct_remaining**power + lr_end
        return decay / lr_init


def _hf_inverse_sqrt(current_step: int, *, num_warmup_steps: int, timescale: int | None = None) -> float:
    if timescale is None:  # transformers 5.24.0 transformers/optimization.py:319-320
        timescale = num_warmup_steps or 10_000
    if current_step < num_warmup_steps:  # transformers 5.24.0 transformers/optimization.py:289-290
        return float(current_step) / float(max(1, num_warmup_steps))
    shift = timescale - num_warmup_steps  # transformers 5.24.0 transformers/optimization.py:291
    decay = 1.0 / math.sqrt((current_step + shift) / timescale)  # transformers 5.24.0 transformers/optimization.py:292
    return decay


def _hf_min_lr_rate(lr: float, min_lr: float | None, min_lr_rate: float | None) -> float:
    if min_lr is not None and min_lr_rate is not None:  # transformers 5.24.0 transformers/optimization.py:372-377
        raise ValueError("Only one of min_lr or min_lr_rate should be set")
    elif min_lr is not None:
        min_lr_rate = min_lr / lr  # optimizer.defaults["lr"]
    elif min_lr_rate is None:
        raise ValueError("One of min_lr or min_lr_rate should be set through the `lr_scheduler_kwargs`")
    return min_lr_rate


def _hf_cosine_with_min_lr(
    current_step: int, *, num_warmup_steps: int, num_training_steps: int, num_cycles: float, min_lr_rate: float = 0.0
) -> float:
    if current_step < num_warmup_steps:  # transformers 5.24.0 transformers/optimization.py:329-330
        return float(current_step) / float(max(1, num_warmup_steps))
    progress = float(current_step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))  # :331
    factor = 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))  # transformers/optimization.py:332
    factor = factor * (1 - min_lr_rate) + min_lr_rate  # transformers 5.24.0 transformers/optimization.py:333
    return max(0, factor)  # transformers 5.24.0 transformers/optimization.py:334


def _hf_cosine_warmup_with_min_lr(
    current_step: int,
    *,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float,
    min_lr_rate: float = 0.0,
    warmup_lr_rate: float | None = None,
) -> float:
    current_step = float(current_step)  # transformers 5.24.0 transformers/optimization.py:398-400
    num_warmup_steps = float(num_warmup_steps)
    num_training_steps = float(num_training_steps)
    if current_step < num_warmup_steps:  # transformers 5.24.0 transformers/optimization.py:402-407
        if warmup_lr_rate is None:
            return (current_step + 1.0) / max(1.0, num_warmup_steps)
        else:
            warmup_lr_rate = float(warmup_lr_rate)
            return warmup_lr_rate + (1.0 - warmup_lr_rate) * (current_step) / (max(1, num_warmup_steps - 1))
    progress = (current_step - num_warmup_steps + 1.0) / (max(1.0, num_training_steps - num_warmup_steps))  # :408
    factor = 0.5 * (1.0 + math.cos(math.pi * num_cycles * 2.0 * progress))  # transformers/optimization.py:409
    factor = factor * (1 - min_lr_rate) + min_lr_rate  # transformers 5.24.0 transformers/optimization.py:410
    return max(0, factor)  # transformers 5.24.0 transformers/optimization.py:411


def _hf_wsd(
    current_step: int,
    *,
    num_warmup_steps: int,
    num_stable_steps: int,
    num_decay_steps: int,
    warmup_type: str,
    decay_type: str,
    min_lr_ratio: float,
    num_cycles: float,
) -> float:
    if current_step < num_warmup_steps:  # transformers 5.24.0 transformers/optimization.py:481-490
        progress = float(current_step) / float(max(1, num_warmup_steps))
        if warmup_type == "linear":
            factor = progress
        elif warmup_type == "cosine":
            factor = 0.5 * (1.0 - math.cos(math.pi * progress))
        elif warmup_type == "1-sqrt":
            factor = 1.0 - math.sqrt(1.0 - progress)
        factor = factor * (1.0 - min_lr_ratio) + min_lr_ratio
        return max(0.0, factor)
    if current_step < num_warmup_steps + num_stable_steps:  # transformers 5.24.0 transformers/optimization.py:492-493
        return 1.0
    if current_step < num_warmup_steps + num_stable_steps + num_decay_steps:  # transformers/optimization.py:495-504
        progress = float(current_step - num_warmup_steps - num_stable_steps) / float(max(1, num_decay_steps))
        if decay_type == "linear":
            factor = 1.0 - progress
        elif decay_type == "cosine":
            factor = 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))
        elif decay_type == "1-sqrt":
            factor = 1.0 - math.sqrt(progress)
        factor = factor * (1.0 - min_lr_ratio) + min_lr_ratio
        return max(0.0, factor)
    return min_lr_ratio  # transformers 5.24.0 transformers/optimization.py:505


def _hf_lambda(
    name: str, lr: float, num_warmup_steps: int | None, num_training_steps: int | None, kwargs: dict[str, Any]
) -> Callable[[int], float]:
    """``get_scheduler(name, ...)``'s ``lr_lambda`` (transformers 5.24.0 transformers/optimization.py:1014-1054)."""
    if name == "constant":  # transformers 5.24.0 transformers/optimization.py:1014-1015 (no other argument used)
        return _hf_constant
    if name in ("reduce_lr_on_plateau", "greedy"):
        raise ValueError(f"{name} is driven by metrics: no closed form")
    if num_warmup_steps is None:  # transformers 5.24.0 transformers/optimization.py:1027-1028
        raise ValueError(f"{name} requires `num_warmup_steps`, please provide that argument.")
    if name == "constant_with_warmup":  # transformers 5.24.0 transformers/optimization.py:1030-1031
        return lambda k: _hf_constant_with_warmup(k, num_warmup_steps=num_warmup_steps)
    if name == "inverse_sqrt":  # transformers 5.24.0 transformers/optimization.py:1033-1034
        return lambda k: _hf_inverse_sqrt(k, num_warmup_steps=num_warmup_steps, **kwargs)
    if name == "warmup_stable_decay":  # transformers 5.24.0 transformers/optimization.py:1037-1043, 553-566
        wsd = {"warmup_type": "linear", "decay_type": "cosine", "min_lr_ratio": 0, "num_cycles": 0.5, **kwargs}
        num_stable_steps = wsd.pop("num_stable_steps", None)
        if num_training_steps is None and num_stable_steps is None:
            raise ValueError("Either num_training_steps or num_stable_steps must be specified.")
        if wsd["warmup_type"] not in ["linear", "cosine", "1-sqrt"]:
            raise ValueError(f"Unknown warmup type: {wsd['warmup_type']}, expected 'linear', 'cosine' or '1-sqrt'")
        if wsd["decay_type"] not in ["linear", "cosine", "1-sqrt"]:
            raise ValueError(f"Unknown decay type: {wsd['decay_type']}, expected 'linear', 'cosine' or '1-sqrt'")
        if num_stable_steps is None:
            num_stable_steps = num_training_steps - num_warmup_steps - wsd["num_decay_steps"]
        return lambda k: _hf_wsd(k, num_warmup_steps=num_warmup_steps, num_stable_steps=num_stable_steps, **wsd)
    if num_training_steps is None:  # transformers 5.24.0 transformers/optimization.py:1046-1047
        raise ValueError(f"{name} requires `num_training_steps`, please provide that argument.")
    steps = {"num_warmup_steps": num_warmup_steps, "num_training_steps": num_training_steps}
    if name == "linear":
        return lambda k: _hf_linear(k, **steps, **kwargs)
    if name == "cosine":  # num_cycles defaults to 0.5: transformers 5.24.0 transformers/optimization.py:144
        return lambda k: _hf_cosine(k, **steps, **kwargs)
    if name == "cosine_with_restarts":  # num_cycles defaults to 1: transformers 5.24.0 transformers/optimization.py:189
        return lambda k: _hf_cosine_with_restarts(k, **steps, **kwargs)
    if name == "polynomial":  # transformers 5.24.0 transformers/optimization.py:273-275
        poly = {"lr_end": 1e-7, "power": 1.0, **kwargs}
        if not (lr > poly["lr_end"]):
            raise ValueError(f"lr_end ({poly['lr_end']}) must be smaller than initial lr ({lr})")
        return lambda k: _hf_polynomial(k, **steps, **poly, lr_init=lr)
    if name in ("cosine_with_min_lr", "cosine_warmup_with_min_lr"):  # transformers/optimization.py:337-345, 414-423
        rest = {"num_cycles": 0.5, **kwargs}
        min_lr_rate = _hf_min_lr_rate(lr, rest.pop("min_lr", None), rest.pop("min_lr_rate", None))
        function = _hf_cosine_with_min_lr if name == "cosine_with_min_lr" else _hf_cosine_warmup_with_min_lr
        return lambda k: function(k, **steps, min_lr_rate=min_lr_rate, **rest)
    raise ValueError(f"{name!r} is not a valid SchedulerType")


def hf_get_scheduler(
    name: str,
    step: int,
    lr: float,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    **scheduler_specific_kwargs: Any,
) -> float:
    """The rate after ``step`` calls of ``get_scheduler(name, ...).step()``."""
    return lr * _hf_lambda(name, lr, num_warmup_steps, num_training_steps, scheduler_specific_kwargs)(step)


HF_NAMES = (
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
    "cosine_with_min_lr",
    "cosine_warmup_with_min_lr",
    "warmup_stable_decay",
)
"""Every name in ``TYPE_TO_SCHEDULER_FUNCTION`` but the metric-driven ``reduce_lr_on_plateau`` and ``greedy``."""


def _hf_formula(name: str) -> Formula:
    def formula(step: int, lr: float, **kwargs: Any) -> float:
        return hf_get_scheduler(name, step, lr, **kwargs)

    formula.__name__ = formula.__qualname__ = f"hf_{name}"
    return formula


# =====================================================================================================================
# optax 0.2.8: optax/schedules/_schedule.py and _join.py. Each function is ``schedule(count)`` for the schedule the
# optax factory of the same name builds from the keyword arguments (jax float64: ``jax_enable_x64``).
# =====================================================================================================================

OptaxSpec = Callable[[int], float] | tuple[str, dict[str, Any]]
"""A schedule argument of ``join_schedules``: a callable, or ``(optax name, kwargs)`` built by the same factory."""


def _optax_build(spec: OptaxSpec) -> Callable[[int], float]:
    if callable(spec):
        return spec
    name, kwargs = spec
    return lambda count: OPTAX[name](count, **kwargs)


def _sign(x: float) -> float:
    return float((x > 0) - (x < 0))  # jnp.sign


def optax_constant_schedule(count: int, value: float) -> float:
    return value  # optax 0.2.8 optax/schedules/_schedule.py:48


def optax_polynomial_schedule(
    count: int, init_value: float, end_value: float, power: float, transition_steps: int, transition_begin: int = 0
) -> float:
    if transition_steps <= 0:  # optax 0.2.8 optax/schedules/_schedule.py:126-131
        return init_value
    if transition_begin < 0:  # optax 0.2.8 optax/schedules/_schedule.py:133-138
        transition_begin = 0
    count = min(max(count - transition_begin, 0), transition_steps)  # optax 0.2.8 optax/schedules/_schedule.py:141
    frac = 1 - count / transition_steps  # optax 0.2.8 optax/schedules/_schedule.py:142
    return (init_value - end_value) * (frac**power) + end_value  # optax 0.2.8 optax/schedules/_schedule.py:143


def optax_linear_schedule(
    count: int, init_value: float, end_value: float, transition_steps: int, transition_begin: int = 0
) -> float:
    return optax_polynomial_schedule(  # optax 0.2.8 optax/schedules/_schedule.py:194-200
        count, init_value, end_value, 1, transition_steps, transition_begin
    )


def optax_piecewise_constant_schedule(
    count: int, init_value: float, boundaries_and_scales: dict[int, float] | None = None
) -> float:
    # optax 0.2.8 optax/schedules/_schedule.py:232-237
    if boundaries_and_scales is not None and not all(scale >= 0.0 for scale in boundaries_and_scales.values()):
        raise ValueError("`piecewise_constant_schedule` expects non-negative scale factors")
    v = init_value  # optax 0.2.8 optax/schedules/_schedule.py:240
    if boundaries_and_scales is not None:  # optax 0.2.8 optax/schedules/_schedule.py:241-244
        for threshold, scale in sorted(boundaries_and_scales.items()):
            indicator = max(0.0, _sign(threshold - count))
            v = v * indicator + (1 - indicator) * scale * v
    return v


def optax_exponential_decay(
    count: int,
    init_value: float,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: float | None = None,
) -> float:
    if transition_steps <= 0:  # optax 0.2.8 optax/schedules/_schedule.py:288-294
        return init_value
    if decay_rate == 0:  # optax 0.2.8 optax/schedules/_schedule.py:296-301
        return init_value
    if transition_begin < 0:  # optax 0.2.8 optax/schedules/_schedule.py:303-308
        transition_begin = 0
    decreased_count = count - transition_begin  # optax 0.2.8 optax/schedules/_schedule.py:314
    p = decreased_count / transition_steps  # optax 0.2.8 optax/schedules/_schedule.py:315
    if staircase:  # optax 0.2.8 optax/schedules/_schedule.py:316-317
        p = math.floor(p)
    # optax 0.2.8 optax/schedules/_schedule.py:318-320 (jnp.where: the power is taken only where it is used here)
    decayed_value = init_value if decreased_count <= 0 else init_value * decay_rate**p
    if end_value is not None:  # optax 0.2.8 optax/schedules/_schedule.py:310-311, 321-322
        decayed_value = max(decayed_value, end_value) if decay_rate < 1.0 else min(decayed_value, end_value)
    return decayed_value


def optax_cosine_decay_schedule(
    count: int, init_value: float, decay_steps: int, alpha: float = 0.0, exponent: float = 1.0
) -> float:
    if not decay_steps > 0:  # optax 0.2.8 optax/schedules/_schedule.py:371-375
        raise ValueError(f"The cosine_decay_schedule requires positive decay_steps, got {decay_steps=}.")
    decay_steps, count = float(decay_steps), float(count)  # optax 0.2.8 optax/schedules/_schedule.py:380-382
    count = min(count, decay_steps)  # optax 0.2.8 optax/schedules/_schedule.py:384
    cosine_decay = 0.5 * (1 + math.cos(math.pi * count / decay_steps))  # optax 0.2.8 optax/schedules/_schedule.py:385
    decayed = (1 - alpha) * cosine_decay**exponent + alpha  # optax 0.2.8 optax/schedules/_schedule.py:386
    return init_value * decayed  # optax 0.2.8 optax/schedules/_schedule.py:387


def _optax_linear_interpolate(start: float, end: float, pct: float) -> float:
    return (end - start) * pct + start  # optax 0.2.8 optax/schedules/_schedule.py:397


def _optax_cosine_interpolate(start: float, end: float, pct: float) -> float:
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)  # optax 0.2.8 optax/schedules/_schedule.py:405


def optax_piecewise_interpolate_schedule(
    count: int, interpolate_type: str, init_value: float, boundaries_and_scales: dict[int, float] | None = None
) -> float:
    if interpolate_type == "linear":  # optax 0.2.8 optax/schedules/_schedule.py:455-460
        interpolate_fn = _optax_linear_interpolate
    elif interpolate_type == "cosine":
        interpolate_fn = _optax_cosine_interpolate
    else:
        raise ValueError("`interpolate_type` must be either 'cosine' or 'linear'")
    if boundaries_and_scales:  # optax 0.2.8 optax/schedules/_schedule.py:462-469
        boundaries, scales = zip(*sorted(boundaries_and_scales.items()), strict=True)
        if not all(scale >= 0.0 for scale in scales):
            raise ValueError("`piecewise_interpolate_schedule` expects non-negative scale factors")
    else:
        boundaries, scales = (), ()
    bounds = (0, *boundaries)  # optax 0.2.8 optax/schedules/_schedule.py:472
    values = list(itertools.accumulate((init_value, *scales), lambda a, b: a * b))  # _schedule.py:473 (jnp.cumprod)
    result = 0.0
    for low, high, start, end in zip(bounds[:-1], bounds[1:], values[:-1], values[1:], strict=True):
        interval_size = max(high - low, 1)  # optax 0.2.8 optax/schedules/_schedule.py:474
        indicator = low <= count < high  # optax 0.2.8 optax/schedules/_schedule.py:475
        pct = (count - low) / interval_size  # optax 0.2.8 optax/schedules/_schedule.py:476
        result += indicator * interpolate_fn(start, end, pct)  # optax 0.2.8 optax/schedules/_schedule.py:477-478
    return result + (bounds[-1] <= count) * values[-1]  # optax 0.2.8 optax/schedules/_schedule.py:478


def optax_linear_onecycle_schedule(
    count: int,
    transition_steps: int,
    peak_value: float,
    pct_start: float = 0.3,
    pct_final: float = 0.85,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> float:
    if transition_steps <= 0:  # optax 0.2.8 optax/schedules/_schedule.py:525-529
        raise ValueError("A linear onecycle schedule was set with a non-positive `transition_steps`")
    return optax_piecewise_interpolate_schedule(  # optax 0.2.8 optax/schedules/_schedule.py:531-539
        count,
        "linear",
        peak_value / div_factor,
        {
            int(pct_start * transition_steps): div_factor,
            int(pct_final * transition_steps): 1.0 / div_factor,
            transition_steps: 1.0 / final_div_factor,
        },
    )


def optax_cosine_onecycle_schedule(
    count: int,
    transition_steps: int,
    peak_value: float,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> float:
    if transition_steps <= 0:  # optax 0.2.8 optax/schedules/_schedule.py:578-582
        raise ValueError("A linear onecycle schedule was set with a non-positive `transition_steps`")
    return optax_piecewise_interpolate_schedule(  # optax 0.2.8 optax/schedules/_schedule.py:584-591
        count,
        "cosine",
        peak_value / div_factor,
        {
            int(pct_start * transition_steps): div_factor,
            int(transition_steps): 1.0 / (div_factor * final_div_factor),
        },
    )


def optax_warmup_constant_schedule(count: int, init_value: float, peak_value: float, warmup_steps: int) -> float:
    return optax_linear_schedule(count, init_value, peak_value, warmup_steps)  # optax/schedules/_schedule.py:610-614


def optax_join_schedules(count: int, schedules: Sequence[OptaxSpec], boundaries: Sequence[int]) -> float:
    built = [_optax_build(spec) for spec in schedules]
    output = built[0](count)  # optax 0.2.8 optax/schedules/_join.py:41
    for boundary, schedule in zip(boundaries, built[1:], strict=False):  # optax 0.2.8 optax/schedules/_join.py:42-43
        output = output if count < boundary else schedule(count - boundary)
    return output


def optax_warmup_cosine_decay_schedule(
    count: int,
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    decay_steps: int,
    end_value: float = 0.0,
    exponent: float = 1.0,
) -> float:
    alpha = 0.0 if peak_value == 0.0 else end_value / peak_value  # optax 0.2.8 optax/schedules/_schedule.py:643
    if not decay_steps - warmup_steps > 0:  # the cosine's factory raises at construction: _schedule.py:650-655, 371
        raise ValueError(f"The cosine_decay_schedule requires positive decay_steps, got {decay_steps - warmup_steps}.")
    schedules: list[OptaxSpec] = [  # optax 0.2.8 optax/schedules/_schedule.py:644-656
        ("linear_schedule", {"init_value": init_value, "end_value": peak_value, "transition_steps": warmup_steps}),
        (
            "cosine_decay_schedule",
            {"init_value": peak_value, "decay_steps": decay_steps - warmup_steps, "alpha": alpha, "exponent": exponent},
        ),
    ]
    return optax_join_schedules(count, schedules, [warmup_steps])  # optax 0.2.8 optax/schedules/_schedule.py:657


def optax_warmup_exponential_decay_schedule(
    count: int,
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: float | None = None,
) -> float:
    schedules: list[OptaxSpec] = [  # optax 0.2.8 optax/schedules/_schedule.py:690-704
        ("linear_schedule", {"init_value": init_value, "end_value": peak_value, "transition_steps": warmup_steps}),
        (
            "exponential_decay",
            {
                "init_value": peak_value,
                "transition_steps": transition_steps,
                "decay_rate": decay_rate,
                "transition_begin": transition_begin,
                "staircase": staircase,
                "end_value": end_value,
            },
        ),
    ]
    return optax_join_schedules(count, schedules, [warmup_steps])  # optax 0.2.8 optax/schedules/_schedule.py:705


def optax_sgdr_schedule(count: int, cosine_kwargs: Sequence[dict[str, Any]]) -> float:
    boundaries, schedules, step = [], [], 0  # optax 0.2.8 optax/schedules/_schedule.py:729-731
    for kwargs in cosine_kwargs:  # optax 0.2.8 optax/schedules/_schedule.py:732-735
        schedules += [("warmup_cosine_decay_schedule", kwargs)]
        boundaries += [step + kwargs["decay_steps"]]
        step += kwargs["decay_steps"]
    return optax_join_schedules(count, schedules, boundaries[:-1])  # optax 0.2.8 optax/schedules/_schedule.py:736


OPTAX: dict[str, Formula] = {
    "constant_schedule": optax_constant_schedule,
    "polynomial_schedule": optax_polynomial_schedule,
    "linear_schedule": optax_linear_schedule,
    "piecewise_constant_schedule": optax_piecewise_constant_schedule,
    "exponential_decay": optax_exponential_decay,
    "cosine_decay_schedule": optax_cosine_decay_schedule,
    "piecewise_interpolate_schedule": optax_piecewise_interpolate_schedule,
    "linear_onecycle_schedule": optax_linear_onecycle_schedule,
    "cosine_onecycle_schedule": optax_cosine_onecycle_schedule,
    "warmup_constant_schedule": optax_warmup_constant_schedule,
    "warmup_cosine_decay_schedule": optax_warmup_cosine_decay_schedule,
    "warmup_exponential_decay_schedule": optax_warmup_exponential_decay_schedule,
    "sgdr_schedule": optax_sgdr_schedule,
    "join_schedules": optax_join_schedules,
}


# =====================================================================================================================
# Keras 3.15.1: keras/src/optimizers/schedules/learning_rate_schedule.py, computed in float64 (floatx "float64").
# Each function is ``cls(**kwargs)(step)`` for an integer step.
# =====================================================================================================================


def _keras_floor(x: float) -> float:
    """``ops.floor`` on float64: Keras casts to ``result_type(float64, float)``, which is float32, then floors."""
    float32 = struct.unpack("f", struct.pack("f", x))[0]  # keras 3.15.1 keras/src/backend/torch/numpy.py:860-865
    return float(math.floor(float32))  # keras 3.15.1 keras/src/backend/torch/numpy.py:866


def keras_exponential_decay(
    step: int,
    initial_learning_rate: float,
    decay_steps: float,
    decay_rate: float,
    staircase: bool = False,
    name: str = "ExponentialDecay",
) -> float:
    if decay_steps <= 0:  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:156-160
        raise ValueError(f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}")
    global_step_recomp = float(step)  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:171
    p = global_step_recomp / float(decay_steps)  # keras 3.15.1 .../learning_rate_schedule.py:168, 172
    if staircase:  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:173-174
        p = _keras_floor(p)
    return initial_learning_rate * float(decay_rate) ** p  # keras 3.15.1 .../learning_rate_schedule.py:175


def keras_piecewise_constant_decay(
    step: int, boundaries: Sequence[float], values: Sequence[float], name: str = "PiecewiseConstant"
) -> float:
    if len(boundaries) != len(values) - 1:  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:244
        raise ValueError("The length of boundaries should be 1 less than the length of values.")
    # The boundaries are cast to the step's (integer) dtype: learning_rate_schedule.py:262-266 (torch truncates).
    bounds = [math.trunc(b) for b in boundaries]
    result_value = 0.0  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:269
    result_value += float(step <= bounds[0]) * values[0]  # keras 3.15.1 .../learning_rate_schedule.py:275-278
    result_value += float(step > bounds[-1]) * values[-1]  # keras 3.15.1 .../learning_rate_schedule.py:280-283
    # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:285-292
    for low, high, value in zip(bounds[:-1], bounds[1:], values[1:-1], strict=True):
        result_value += float((step > low) & (step <= high)) * value
    return result_value


def keras_polynomial_decay(
    step: int,
    initial_learning_rate: float,
    decay_steps: float,
    end_learning_rate: float = 0.0001,
    power: float = 1.0,
    cycle: bool = False,
    name: str = "PolynomialDecay",
) -> float:
    if decay_steps <= 0:  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:405-409
        raise ValueError(f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}")
    global_step_recomp = float(step)  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:420
    decay_steps_recomp = float(decay_steps)  # keras 3.15.1 .../learning_rate_schedule.py:421
    if cycle:  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:422-432
        multiplier = 1.0 if global_step_recomp == 0 else math.ceil(global_step_recomp / decay_steps)
        decay_steps_recomp = decay_steps_recomp * multiplier
    else:  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:433-438
        global_step_recomp = min(global_step_recomp, decay_steps_recomp)
    p = global_step_recomp / decay_steps_recomp  # keras 3.15.1 .../learning_rate_schedule.py:440
    return (initial_learning_rate - end_learning_rate) * (1 - p) ** float(power) + end_learning_rate  # :441-447


def keras_inverse_time_decay(
    step: int,
    initial_learning_rate: float,
    decay_steps: float,
    decay_rate: float,
    staircase: bool = False,
    name: str = "InverseTimeDecay",
) -> float:
    if decay_steps <= 0:  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:539-543
        raise ValueError(f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}")
    p = float(step) / float(decay_steps)  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:555
    if staircase:  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:556-557
        p = _keras_floor(p)
    denom = 1.0 + float(decay_rate) * p  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:558-559
    return initial_learning_rate / denom  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:560


def keras_cosine_decay(
    step: int,
    initial_learning_rate: float,
    decay_steps: float,
    alpha: float = 0.0,
    name: str = "CosineDecay",
    warmup_target: float | None = None,
    warmup_steps: float = 0,
) -> float:
    if decay_steps <= 0:  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:689-693
        raise ValueError(f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}")

    def decay_function(step: float, decay_steps: float, decay_from_lr: float) -> float:
        completed_fraction = step / decay_steps  # keras 3.15.1 .../learning_rate_schedule.py:697
        cosine_decayed = 0.5 * (1.0 + math.cos(math.pi * completed_fraction))  # .../learning_rate_schedule.py:698-701
        decayed = (1 - alpha) * cosine_decayed + alpha  # keras 3.15.1 .../learning_rate_schedule.py:702
        return decay_from_lr * decayed  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:703

    def warmup_function(step: float, warmup_steps: float, warmup_target: float, initial_lr: float) -> float:
        completed_fraction = step / warmup_steps  # keras 3.15.1 .../learning_rate_schedule.py:709
        total_step_delta = warmup_target - initial_lr  # keras 3.15.1 .../learning_rate_schedule.py:710
        return total_step_delta * completed_fraction + initial_lr  # keras 3.15.1 .../learning_rate_schedule.py:711

    decay_steps = float(decay_steps)  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:719
    global_step_recomp = float(step)  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:720
    if warmup_target is None:  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:722-731
        global_step_recomp = min(global_step_recomp, decay_steps)
        return decay_function(global_step_recomp, decay_steps, initial_learning_rate)
    warmup_target = float(warmup_target)  # keras 3.15.1 .../learning_rate_schedule.py:733
    warmup_steps = float(warmup_steps)  # keras 3.15.1 .../learning_rate_schedule.py:734
    global_step_recomp = min(global_step_recomp, decay_steps + warmup_steps)  # .../learning_rate_schedule.py:736-738
    if global_step_recomp < warmup_steps:  # keras 3.15.1 .../learning_rate_schedule.py:740-754 (ops.cond)
        return warmup_function(global_step_recomp, warmup_steps, warmup_target, initial_learning_rate)
    return decay_function(global_step_recomp - warmup_steps, decay_steps, warmup_target)


def keras_cosine_decay_restarts(
    step: int,
    initial_learning_rate: float,
    first_decay_steps: float,
    t_mul: float = 2.0,
    m_mul: float = 1.0,
    alpha: float = 0.0,
    name: str = "SGDRDecay",
) -> float:
    if first_decay_steps <= 0:  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:839-843
        raise ValueError(f"Argument `first_decay_steps` must be > 0. Received: first_decay_steps={first_decay_steps}")
    t_mul, m_mul, alpha = float(t_mul), float(m_mul), float(alpha)  # .../learning_rate_schedule.py:852-854
    completed_fraction = float(step) / float(first_decay_steps)  # keras 3.15.1 .../learning_rate_schedule.py:851-857
    if t_mul == 1.0:  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:881-891
        i_restart = _keras_floor(completed_fraction)
        completed_fraction -= i_restart
    else:  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:861-879
        i_restart = _keras_floor(math.log(1.0 - completed_fraction * (1.0 - t_mul)) / math.log(t_mul))
        sum_r = (1.0 - t_mul**i_restart) / (1.0 - t_mul)
        completed_fraction = (completed_fraction - sum_r) / t_mul**i_restart
    m_fac = m_mul**i_restart  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:893
    cosine_decayed = 0.5 * m_fac * (1.0 + math.cos(math.pi * completed_fraction))  # learning_rate_schedule.py:894-905
    decayed = (1 - alpha) * cosine_decayed + alpha  # keras 3.15.1 .../learning_rate_schedule.py:906
    return initial_learning_rate * decayed  # keras 3.15.1 keras/src/optimizers/schedules/learning_rate_schedule.py:908


KERAS: dict[str, Formula] = {
    "ExponentialDecay": keras_exponential_decay,
    "PiecewiseConstantDecay": keras_piecewise_constant_decay,
    "PolynomialDecay": keras_polynomial_decay,
    "InverseTimeDecay": keras_inverse_time_decay,
    "CosineDecay": keras_cosine_decay,
    "CosineDecayRestarts": keras_cosine_decay_restarts,
}


# =====================================================================================================================
# The registry
# =====================================================================================================================

FORMULAS: dict[str, dict[str, Formula]] = {
    "torch": {
        **{name: _torch_point(run) for name, run in TORCH_RUNS.items()},
        "CyclicLR": torch_cyclic_lr,
        "OneCycleLR": torch_one_cycle_lr,
    },
    "timm": {
        "CosineLRScheduler": timm_cosine,
        "TanhLRScheduler": timm_tanh,
        "StepLRScheduler": timm_step,
        "MultiStepLRScheduler": timm_multi_step,
        "PolyLRScheduler": timm_poly,
        "WSDLRScheduler": timm_wsd,
    },
    "hf": {name: _hf_formula(name) for name in HF_NAMES},
    "optax": OPTAX,
    "keras": KERAS,
}
"""``FORMULAS[library][name](step, **config)``: the peer's value at ``step``. timm's seventh scheduler,
``PlateauLRScheduler``, is metric-driven: :func:`timm_plateau_run`."""

MOMENTUM_FORMULAS: dict[str, dict[str, Formula]] = {
    "torch": {"CyclicLR": torch_cyclic_momentum, "OneCycleLR": torch_one_cycle_momentum},
}
"""The momentum (SGD) or beta1 (Adam) that PyTorch's cyclic schedulers set, as ``FORMULAS``."""


def curve(library: str, name: str, steps: int, **config: Any) -> list[float]:
    """The peer's values at steps ``0 .. steps - 1`` (one pass through PyTorch's recursions)."""
    if library == "torch" and name in TORCH_RUNS:
        config = dict(config)
        lr = config.pop("lr")
        return list(itertools.islice(TORCH_RUNS[name](lr, **config), steps))
    formula = FORMULAS[library][name]
    return [formula(step, **config) for step in range(steps)]
