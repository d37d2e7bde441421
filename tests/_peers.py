"""The real peer libraries, stepped for real: PyTorch, timm, Hugging Face transformers, optax and Keras.

Each function imports its library when called and skips the calling test (``pytest.importorskip``) when the library is
not installed, so the default test run, where only PyTorch is, skips the others cleanly. With
``MLX_LRSCHED_REQUIRE_PEERS=1`` (CI's peer step) a missing library is an error instead of a skip, so a broken install
cannot pass as a run of skipped tests. Every function returns float64 NumPy arrays, one value per step:

* :func:`torch_rates`: the rate after 0, 1, ..., ``steps - 1`` calls of ``scheduler.step()`` (and the momentum or
  beta1 it sets); :func:`torch_closed_form_rates` the deprecated ``scheduler.step(epoch)``; :func:`torch_plateau_rates`
  ``ReduceLROnPlateau`` fed metrics.
* :func:`timm_rates`: ``scheduler._get_lr(t)``; :func:`timm_training_rates`: the rate each update of timm's training
  loop uses, noise included; :func:`timm_plateau_rates`: ``PlateauLRScheduler`` fed metrics.
* :func:`hf_rates`: ``transformers.get_scheduler`` stepped (``reduce_lr_on_plateau`` fed metrics).
* :func:`optax_values`: ``schedule(k)`` in float64 (``jax_enable_x64``).
* :func:`keras_values`: ``schedule(k)`` with the torch backend in float64 (``floatx`` "float64").

:func:`peer_values` runs any ``(library, name, config)`` of ``tests/_peer_configs.py``.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import types
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pytest

REQUIRE_PEERS = os.environ.get("MLX_LRSCHED_REQUIRE_PEERS", "") not in ("", "0")
"""Set in CI's peer step: a missing peer library fails the test instead of skipping it."""

INSTALL_HINT = 'pip install -e ".[torch,peers]"'

FULL_TIMM_IMPORT = os.environ.get("MLX_LRSCHED_TIMM_FULL_IMPORT", "") not in ("", "0")
"""Set by ``.ci/peers-full-timm``: ``import timm`` whole (its venv has PyPI's torch with a matching torchvision)."""


def _require(module: str) -> types.ModuleType:
    if REQUIRE_PEERS:
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=f"the peer tests need {module.split('.')[0]}: {INSTALL_HINT}")


def _array(values: Sequence[float]) -> np.ndarray:
    return np.asarray([float(value) for value in values], dtype=np.float64)


# ---------------------------------------------------------------------------------------------------------------------
# PyTorch
# ---------------------------------------------------------------------------------------------------------------------


def _torch_optimizer(lr: float, momentum: bool | str) -> Any:
    """A one-parameter optimizer: SGD, SGD with momentum (``True``/``"momentum"``) or Adam (``"beta1"``)."""
    torch = _require("torch")
    param = torch.nn.Parameter(torch.zeros(1))
    if momentum == "beta1":
        return torch.optim.Adam([param], lr=lr)
    if momentum:
        return torch.optim.SGD([param], lr=lr, momentum=0.9)
    return torch.optim.SGD([param], lr=lr)


def _momentum_of(group: dict[str, Any], momentum: bool | str) -> float:
    return float(group["betas"][0] if momentum == "beta1" else group["momentum"])


def torch_rates(
    make_scheduler: Callable[[Any], Any], lr: float, steps: int, momentum: bool | str = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The rate after 0, 1, ..., ``steps - 1`` calls of ``scheduler.step()`` (``optimizer.step()`` before each).

    ``make_scheduler(optimizer)`` builds the scheduler on a one-parameter SGD optimizer with rate ``lr``. With
    ``momentum=True`` (or ``"momentum"``) the optimizer is SGD with momentum, with ``"beta1"`` Adam, and the function
    returns ``(rates, momenta)``: the momentum or beta1 of the param group after each step.
    """
    optimizer = _torch_optimizer(lr, momentum)
    scheduler = make_scheduler(optimizer)
    group = optimizer.param_groups[0]
    rates, momenta = [group["lr"]], [_momentum_of(group, momentum)] if momentum else []
    for _ in range(steps - 1):
        optimizer.step()  # no gradient: a no-op that keeps PyTorch's call-order check quiet
        scheduler.step()
        rates.append(group["lr"])
        if momentum:
            momenta.append(_momentum_of(group, momentum))
    if momentum:
        return _array(rates), _array(momenta)
    return _array(rates)


def torch_closed_form_rates(make_scheduler: Callable[[Any], Any], lr: float, steps: int) -> np.ndarray:
    """The rate after ``scheduler.step(epoch=k)`` for k = 0, ..., ``steps - 1``: PyTorch's ``_get_closed_form_lr``."""
    optimizer = _torch_optimizer(lr, False)
    scheduler = make_scheduler(optimizer)
    rates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the epoch argument is deprecated
        for epoch in range(steps):
            optimizer.step()
            scheduler.step(epoch)
            rates.append(optimizer.param_groups[0]["lr"])
    return _array(rates)


def torch_plateau_rates(lr: float, metrics: Sequence[float], **kwargs: Any) -> np.ndarray:
    """``ReduceLROnPlateau(**kwargs)``: the rate before any step, then after each ``scheduler.step(metric)``."""
    torch = _require("torch")
    optimizer = _torch_optimizer(lr, False)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **kwargs)
    rates = [optimizer.param_groups[0]["lr"]]
    for metric in metrics:
        optimizer.step()
        scheduler.step(metric)
        rates.append(optimizer.param_groups[0]["lr"])
    return _array(rates)


# ---------------------------------------------------------------------------------------------------------------------
# timm
# ---------------------------------------------------------------------------------------------------------------------


def timm_scheduler_module() -> types.ModuleType:
    """``timm.scheduler``, imported without ``timm/__init__.py``.

    ``import timm`` imports its models, which need a torchvision built for the installed torch (beside the CPU torch
    of this project's venvs, PyPI's torchvision fails: "operator torchvision::nms does not exist"). The schedulers need
    only torch, so a bare package object named ``timm`` whose ``__path__`` is the installed package directory stands in
    for it: ``timm.scheduler`` and its absolute imports (``from timm.scheduler.scheduler import Scheduler``) then load
    timm's real files, and ``timm/__init__.py`` never runs.
    """
    _require("torch")
    if "timm.scheduler" in sys.modules:
        return sys.modules["timm.scheduler"]
    if FULL_TIMM_IMPORT:  # .ci/peers-full-timm: a torch with its own torchvision, so timm imports whole
        importlib.import_module("timm")  # the whole package first, as a timm user has it
        return importlib.import_module("timm.scheduler")
    if "timm" not in sys.modules:
        spec = importlib.util.find_spec("timm")  # finds the package without executing it
        if spec is None or not spec.submodule_search_locations:
            if REQUIRE_PEERS:
                raise ModuleNotFoundError("timm is not installed")
            pytest.skip(f"the peer tests need timm: {INSTALL_HINT}")
        package = types.ModuleType("timm")
        package.__path__ = list(spec.submodule_search_locations)
        package.__file__ = spec.origin
        package.__spec__ = spec  # importlib.util.find_spec("timm") (transformers asks) reads it from sys.modules
        sys.modules["timm"] = package
    return importlib.import_module("timm.scheduler")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # PlateauLRScheduler is deprecated
        yield


def timm_scheduler(class_name: str, lr: float, **kwargs: Any) -> Any:
    """A timm scheduler on a one-parameter SGD optimizer with rate ``lr`` (the scheduler's base value)."""
    module = timm_scheduler_module()
    optimizer = _torch_optimizer(lr, False)
    with _quiet():
        return getattr(module, class_name)(optimizer, **kwargs)


def timm_rates(class_name: str, lr: float, steps: int, **kwargs: Any) -> np.ndarray:
    """``scheduler._get_lr(t)[0]`` for t in ``range(steps)``: timm's schedule, noise-free."""
    scheduler = timm_scheduler(class_name, lr, **kwargs)
    values = [scheduler._get_lr(t)[0] for t in range(steps)]
    if any(isinstance(value, complex) for value in values):  # a negative base to a fractional power (quirk 8)
        raise ValueError(f"timm returned a complex rate: {values}")
    return _array(values)


def timm_training_rates(
    class_name: str, lr: float, steps: int, steps_per_epoch: int = 1, **kwargs: Any
) -> tuple[np.ndarray, float]:
    """The rate each of ``steps`` updates uses in timm's training loop, and the constructor's rate.

    As timm's train.py: update ``k`` runs with the param group's current rate, then ``step_update(k + 1)``; after
    every ``steps_per_epoch`` updates, ``step(epoch + 1)``. The scheduler acts in one of the two calls, by its
    ``t_in_epochs``, and adds its noise (``noise_range_t``, ``noise_pct``, ``noise_std``, ``noise_seed``) there.
    """
    scheduler = timm_scheduler(class_name, lr, **kwargs)
    group = scheduler.optimizer.param_groups[0]
    initial = float(group["lr"])
    rates = []
    for update in range(steps):
        rates.append(group["lr"])
        scheduler.step_update(num_updates=update + 1)
        if (update + 1) % steps_per_epoch == 0:
            scheduler.step((update + 1) // steps_per_epoch)
    return _array(rates), initial


def timm_plateau_rates(
    lr: float, metrics: Sequence[float], epochs: Sequence[int] | None = None, **kwargs: Any
) -> np.ndarray:
    """``PlateauLRScheduler``: the rate after construction, then after each ``step(epoch, metric)``.

    ``epochs`` defaults to 1, 2, ...: timm's train.py calls ``step(epoch + 1, metric)`` after each epoch.
    """
    scheduler = timm_scheduler("PlateauLRScheduler", lr, **kwargs)
    group = scheduler.optimizer.param_groups[0]
    epochs = range(1, len(metrics) + 1) if epochs is None else epochs
    rates = [group["lr"]]
    for epoch, metric in zip(epochs, metrics, strict=True):
        scheduler.step(epoch, metric)
        rates.append(group["lr"])
    return _array(rates)


# ---------------------------------------------------------------------------------------------------------------------
# Hugging Face transformers
# ---------------------------------------------------------------------------------------------------------------------


def hf_rates(
    name: str,
    lr: float,
    steps: int,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    metrics: Sequence[float] | None = None,
    **kwargs: Any,
) -> np.ndarray:
    """``transformers.get_scheduler(name, ...)``: the rate after 0, 1, ..., ``steps - 1`` calls of ``step()``.

    ``kwargs`` are the ``scheduler_specific_kwargs``. ``reduce_lr_on_plateau`` is stepped with ``metrics`` instead
    (``steps`` is then ``len(metrics) + 1``).
    """
    transformers = _require("transformers")
    optimizer = _torch_optimizer(lr, False)
    scheduler = transformers.get_scheduler(
        name,
        optimizer,
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        scheduler_specific_kwargs=kwargs,
    )
    group = optimizer.param_groups[0]
    rates = [group["lr"]]
    if metrics is not None:
        for metric in metrics:
            optimizer.step()
            scheduler.step(metric)
            rates.append(group["lr"])
        return _array(rates)
    for _ in range(steps - 1):
        optimizer.step()
        scheduler.step()
        rates.append(group["lr"])
    return _array(rates)


# ---------------------------------------------------------------------------------------------------------------------
# optax
# ---------------------------------------------------------------------------------------------------------------------


def _jax() -> tuple[Any, Any, Any]:
    jax = _require("jax")
    jax.config.update("jax_enable_x64", True)  # float64 values and int64 counts
    return jax, importlib.import_module("jax.numpy"), _require("optax")


def optax_schedule(name: str, **kwargs: Any) -> Callable[[Any], Any]:
    """``optax.schedules.<name>(**kwargs)``; ``join_schedules``'s schedules may be given as ``(name, kwargs)``."""
    _, _, optax = _jax()
    if name == "join_schedules":
        kwargs = dict(kwargs)
        kwargs["schedules"] = [
            spec if callable(spec) else optax_schedule(spec[0], **spec[1]) for spec in kwargs["schedules"]
        ]
    return getattr(optax.schedules, name)(**kwargs)


_OPTAX_CHUNK = 512  # counts are evaluated in blocks of one shape, so jax compiles each operation once per dtype


def optax_values(name: str, steps: int, scalar: bool = False, **kwargs: Any) -> np.ndarray:
    """``schedule(k)`` for k in ``range(steps)``, in float64.

    The schedule is evaluated on int64 counts under ``jax.vmap`` (``piecewise_interpolate_schedule`` does not
    broadcast over a vector of counts); ``scalar=True`` calls it once per Python int step instead (slow: milliseconds
    a call), which the tests use to check that both agree.
    """
    jax, jnp, _ = _jax()
    schedule = optax_schedule(name, **kwargs)
    if scalar:
        values = np.asarray([np.asarray(schedule(step)) for step in range(steps)])
    else:
        padded = -(-steps // _OPTAX_CHUNK) * _OPTAX_CHUNK
        counts = jnp.arange(padded, dtype=jnp.int64)
        values = np.broadcast_to(np.asarray(jax.vmap(schedule)(counts)), (padded,))[:steps]
    if values.dtype != np.float64:
        raise TypeError(f"optax {name} returned {values.dtype}, not float64: is jax_enable_x64 set?")
    return np.array(values, dtype=np.float64)


# ---------------------------------------------------------------------------------------------------------------------
# Keras
# ---------------------------------------------------------------------------------------------------------------------


def _keras() -> Any:
    _require("torch")
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = "torch"  # read once, when keras is first imported
    keras = _require("keras")
    if keras.backend.backend() != "torch":
        pytest.skip(f"keras was imported with the {keras.backend.backend()} backend; these tests use torch")
    return keras


@contextlib.contextmanager
def _floatx(dtype: str) -> Iterator[None]:
    keras = _keras()
    saved = keras.config.floatx()
    keras.config.set_floatx(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(saved)


def keras_values(class_name: str, steps: int | Sequence[int], **kwargs: Any) -> np.ndarray:
    """``keras.optimizers.schedules.<class_name>(**kwargs)(k)`` for k in ``range(steps)`` (or in ``steps``), in float64.

    Keras converts ``initial_learning_rate`` (and the other floats) with ``ops.convert_to_tensor``, which gives
    ``keras.config.floatx()``: float32 by default, even for a NumPy float64. The values are computed with floatx set to
    "float64" (restored afterwards) and checked to be float64 tensors.
    """
    keras = _keras()
    with _floatx("float64"):
        schedule = getattr(keras.optimizers.schedules, class_name)(**kwargs)
        outputs = [schedule(step) for step in (range(steps) if isinstance(steps, int) else steps)]
        dtypes = {str(output.dtype) for output in outputs}
    if dtypes != {"torch.float64"}:
        raise TypeError(f"keras {class_name} returned {dtypes}, not float64")
    return _array([output.item() for output in outputs])


# ---------------------------------------------------------------------------------------------------------------------
# One entry point for the configs of tests/_peer_configs.py
# ---------------------------------------------------------------------------------------------------------------------


def peer_values(library: str, name: str, config: dict[str, Any], steps: int) -> np.ndarray:
    """The real peer's values at steps ``0 .. steps - 1`` for a config of ``tests/_peer_configs.py``."""
    config = dict(config)
    if library == "torch":
        torch = _require("torch")
        lr = config.pop("lr")
        cls = getattr(torch.optim.lr_scheduler, name)
        return torch_rates(lambda optimizer: cls(optimizer, **config), lr, steps)  # type: ignore[return-value]
    if library == "timm":
        return timm_rates(name, config.pop("lr"), steps, **config)
    if library == "hf":
        return hf_rates(name, config.pop("lr"), steps, **config)
    if library == "optax":
        return optax_values(name, steps, **config)
    if library == "keras":
        return keras_values(name, steps, **config)
    raise ValueError(f"unknown peer library {library!r}")
