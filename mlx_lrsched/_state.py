"""How training state is attached to an ``mlx.optimizers`` optimizer: one mechanism for every user.

Feedback schedules (:mod:`mlx_lrsched.feedback`), scheduled momentum and betas (:mod:`mlx_lrsched.hyper`)
and the check of :func:`mlx_lrsched.training.compile_step` all go through this module:

* a :class:`StateSlot` is one feedback schedule's dict of arrays: the schedule's own dict until it is
  attached, then ``optimizer.state[key]``, read afresh on every use (so assigning a loaded
  ``optimizer.state`` restores it, and a compiled step carrying ``optimizer.state`` sees every change);
* each optimizer has a table of the keys claimed in it, so every slot gets its own key: the class's
  default key for the first one (the keys of 0.1.0 checkpoints), then ``key_1``, ``key_2``, ... in
  attach order, or an explicit key; scheduled hyperparameters claim theirs (``momentum``, ``beta1``);
* at most one wrapper of ``apply_gradients`` per optimizer (for slots that read the gradients) and one
  of ``apply_single`` (for hyperparameters that follow the parameter's dtype); see
  :func:`read_gradients` and :func:`follow_parameter_dtype` for why each is the only way.

The tables live in a registry keyed weakly by optimizer and hold the slots weakly: nothing is stored on
the optimizer but the two wrappers, and an optimizer with its arrays is freed once it is no longer used.
"""

from __future__ import annotations

import functools
import itertools
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from ._check import preview
from .base import Schedule

__all__ = [
    "StateSlot",
    "attached_keys",
    "follow_parameter_dtype",
    "optimizer_state",
    "parameter_dtype",
    "read_gradients",
    "schedule_hyperparameter",
    "uncarried_feedback",
]

Array = Any
Measure = Callable[[Any], Array]


class _Table:
    """What this package attached to one optimizer. It never references the optimizer itself."""

    def __init__(self) -> None:
        self.slots: weakref.WeakValueDictionary[str, StateSlot] = weakref.WeakValueDictionary()
        self.hyperparameters: set[str] = set()
        self.readers: weakref.WeakKeyDictionary[StateSlot, tuple[str, Measure]] = weakref.WeakKeyDictionary()
        self.parameter_dtype: Any = None
        self.wraps_apply_gradients = False
        self.wraps_apply_single = False

    def key_of(self, slot: StateSlot) -> str | None:
        return next((key for key, holder in self.slots.items() if holder is slot), None)

    def choose(self, slot: StateSlot, key: str | None, default: str) -> str:
        """``key`` if it is free (or already ``slot``'s), else ``slot``'s current or first free default key."""
        if key is not None:
            holder = self.slots.get(key)
            if (holder is not None and holder is not slot) or key in self.hyperparameters:
                raise ValueError(
                    f"{slot.owner}: key {key!r} is already used by another schedule attached to this optimizer; "
                    "pass another key"
                )
            return key
        current = self.key_of(slot)
        if current is not None:
            return current
        candidates = itertools.chain([default], (f"{default}_{i}" for i in itertools.count(1)))
        return next(k for k in candidates if k not in self.slots and k not in self.hyperparameters)

    def forget(self, slot: StateSlot) -> None:
        for key in [key for key, holder in self.slots.items() if holder is slot]:
            del self.slots[key]
        self.readers.pop(slot, None)


_TABLES: weakref.WeakKeyDictionary[Any, _Table] = weakref.WeakKeyDictionary()


def _table(optimizer: Any) -> _Table:
    table = _TABLES.get(optimizer)
    if table is None:
        table = _TABLES[optimizer] = _Table()
    return table


def optimizer_state(owner: str, optimizer: Any) -> dict[str, Any]:
    """``optimizer.state``, refusing anything but a single ``mlx.optimizers`` optimizer."""
    state = getattr(optimizer, "state", None)
    stable = getattr(optimizer, "state", None) is state  # MultiOptimizer builds a new dict on every read
    if not isinstance(state, dict) or not stable:
        raise TypeError(
            f"{owner}: optimizer must be an mlx.optimizers optimizer with a state dict, got "
            f"{type(optimizer).__name__} (for optim.MultiOptimizer use the inner optimizer that needs it)"
        )
    return state


class StateSlot:
    """Where one feedback schedule keeps its state: its own dict until attached, then ``optimizer.state[key]``.

    A frozen schedule makes one slot when it is constructed and never changes afterwards: attaching
    changes the slot, and updates replace arrays in the dict the slot points at. Arrays are replaced,
    never modified in place, so a shallow copy of a dict is an independent snapshot. The optimizer is
    referenced weakly (a schedule kept in a cache does not keep an optimizer's moments alive); once it
    is freed the slot is unattached again and keeps the last state it read.
    """

    __slots__ = ("__weakref__", "_default_key", "_dict", "_initial", "_key", "_optimizer", "owner")

    def __init__(self, owner: str, default_key: str, initial: dict[str, Array]) -> None:
        self.owner = owner
        self._default_key = default_key
        self._initial = dict(initial)
        self._dict = dict(initial)  # the slot's own dict; while attached, the last one read from the optimizer
        self._optimizer: weakref.ref[Any] | None = None
        self._key: str | None = None

    def _attached(self) -> Any:
        """The optimizer holding the state, or ``None`` (never attached, or freed since)."""
        optimizer = None if self._optimizer is None else self._optimizer()
        if optimizer is None:
            self._optimizer = self._key = None
        return optimizer

    @property
    def key(self) -> str | None:
        """The key in ``optimizer.state`` (``None`` while unattached)."""
        return self._key if self._attached() is not None else None

    @property
    def state(self) -> dict[str, Array]:
        """The live dict: ``optimizer.state[key]`` while attached, the slot's own dict otherwise."""
        optimizer = self._attached()
        if optimizer is None:
            return self._dict
        found = optimizer.state.get(self._key)
        if not isinstance(found, dict):
            raise KeyError(
                f"{self.owner}: optimizer.state has no {self._key!r} entry (a state without it was assigned to "
                "the optimizer); call attach(optimizer) again to start afresh"
            )
        self._dict = found
        return found

    def snapshot(self) -> dict[str, Array]:
        """A copy of the current arrays, for an independent copy of the schedule."""
        return dict(self.state)

    def restore(self, values: dict[str, Array]) -> None:
        """Start a new, unattached slot from ``values`` (a :meth:`snapshot`)."""
        self._check_keys(values, "the restored state")
        self._dict = dict(values)

    def read(self, name: str) -> float:
        return float(self.state[name].item())

    def _check_keys(self, stored: Any, where: str) -> None:
        expected = sorted(self._initial)
        if not isinstance(stored, dict) or sorted(stored) != expected:
            found = sorted(map(str, stored)) if isinstance(stored, dict) else type(stored).__name__
            raise ValueError(f"{self.owner}: {where} must hold the keys {expected}, found {preview(found)}")

    def attach(self, optimizer: Any, key: str | None = None) -> None:
        """Keep the state in ``optimizer.state[key]``: adopt an entry already there, else move the current one in.

        ``key=None`` keeps the key this slot has on ``optimizer``, or takes the first free of
        ``default``, ``default_1``, ... (attach order, so the same program finds the same keys again).
        """
        if key is not None and (not isinstance(key, str) or not key):
            raise TypeError(f"{self.owner}: key must be a non-empty string, got {preview(key)}")
        state = optimizer_state(self.owner, optimizer)
        table = _table(optimizer)
        key = table.choose(self, key, self._default_key)
        if key in state:
            self._check_keys(state[key], f"optimizer.state[{key!r}]")
        else:
            state[key] = self._carried(optimizer)
        previous, previous_key = self._attached(), self._key
        table.slots[key] = self
        if previous is optimizer and previous_key is not None and previous_key != key:
            del table.slots[previous_key]
            state.pop(previous_key, None)
        elif previous is not None and previous is not optimizer:
            _table(previous).forget(self)
        self._optimizer, self._key, self._dict = weakref.ref(optimizer), key, state[key]

    def _carried(self, optimizer: Any) -> dict[str, Array]:
        """The dict to store under a new key: the slot's own (moved), or its current state (copied if moving on)."""
        current = self._attached()
        if current is None:
            return self._dict
        found: Any = current.state.get(self._key)
        if not isinstance(found, dict):
            return dict(self._initial)
        return found if current is optimizer else dict(found)


def attached_keys(optimizer: Any) -> tuple[str, ...]:
    """The keys of ``optimizer.state`` that feedback schedules and scheduled hyperparameters use."""
    table = _TABLES.get(optimizer)
    return () if table is None else (*table.slots.keys(), *sorted(table.hyperparameters))


def read_gradients(optimizer: Any, slot: StateSlot, name: str, measure: Measure) -> None:
    """Before every ``optimizer.apply_gradients``, store ``measure(gradients)`` as ``slot.state[name]``.

    ``mlx.optimizers`` hands the gradients to no hook: ``update`` calls ``apply_gradients``, which
    evaluates the scheduled values (``schedule(step)``, never the gradients) and then applies
    ``apply_single`` per parameter, so a learning rate that depends on the whole gradient can only be
    computed by wrapping ``apply_gradients``. It is wrapped once per optimizer instance (the wrapper is
    an instance attribute, the class is untouched), and the wrapper measures for every slot attached to
    it, each into its own key, in attach order. Inside ``mx.compile`` the measurement is traced with
    the step, so it costs no extra evaluation.
    """
    table = _table(optimizer)
    table.readers[slot] = (name, measure)
    if table.wraps_apply_gradients:
        return
    original = optimizer.apply_gradients

    def apply_gradients(gradients: Any, parameters: Any) -> Any:
        for reader, (entry, measure_of) in list(table.readers.items()):
            reader.state[entry] = measure_of(gradients)
        return original(gradients, parameters)

    optimizer.apply_gradients = functools.update_wrapper(apply_gradients, original)
    table.wraps_apply_gradients = True


def follow_parameter_dtype(optimizer: Any) -> None:
    """Make :func:`parameter_dtype` report the dtype of the parameter ``optimizer`` is updating.

    A Python float hyperparameter is weakly typed: ``momentum * v`` keeps a bfloat16 ``v`` bfloat16. A
    scheduled one is a float32 array, and ``mx.array``'s operators convert it through ``__mlx_array__()``
    without saying which array it meets, so the only place that knows the dtype is ``apply_single``,
    which receives the parameter. It is wrapped once per optimizer instance.
    """
    table = _table(optimizer)
    if table.wraps_apply_single:
        return
    original = optimizer.apply_single

    def apply_single(gradient: Any, parameter: Any, state: Any) -> Any:
        table.parameter_dtype = gradient.dtype
        try:
            return original(gradient, parameter, state)
        finally:
            table.parameter_dtype = None

    optimizer.apply_single = functools.update_wrapper(apply_single, original)
    table.wraps_apply_single = True


def parameter_dtype(optimizer: Any) -> Any:
    """The dtype of the parameter being updated inside ``optimizer.apply_single``, else ``None``."""
    table = _TABLES.get(optimizer)
    return None if table is None else table.parameter_dtype


def schedule_hyperparameter(owner: str, optimizer: Any, key: str, schedule: Schedule) -> None:
    """Put ``optimizer.state[key]`` on ``schedule``, evaluated by the optimizer itself at every update.

    This is how ``mlx.optimizers`` schedules its learning rate (``Optimizer._maybe_schedule``, the hook
    it provides to subclasses): ``apply_gradients`` stores ``schedule(step)`` in ``state[key]`` before
    each update, so compiled steps carry it and checkpoints save it.
    """
    optimizer_state(owner, optimizer)
    if not isinstance(getattr(optimizer, "_schedulers", None), dict):
        raise TypeError(f"{owner}: optimizer must be an mlx.optimizers optimizer, got {type(optimizer).__name__}")
    table = _table(optimizer)
    if key in table.slots:
        raise ValueError(f"{owner}: optimizer.state[{key!r}] is used by an attached {table.slots[key].owner}")
    if key != "learning_rate":  # the learning rate is the optimizer's own entry, not one we add
        table.hyperparameters.add(key)
    optimizer._maybe_schedule(key, schedule)


def _dicts(tree: Any) -> Iterator[int]:
    """The ids of every dict in a tree of dicts, lists and tuples."""
    if isinstance(tree, dict):
        yield id(tree)
        for value in tree.values():
            yield from _dicts(value)
    elif isinstance(tree, (list, tuple)):
        for value in tree:
            yield from _dicts(value)


def _leaf_optimizers(optimizer: Any) -> list[Any]:
    inner = getattr(optimizer, "optimizers", None)
    return [optimizer] if inner is None else [leaf for sub in inner for leaf in _leaf_optimizers(sub)]


def uncarried_feedback(optimizer: Any, trees: Any) -> list[Schedule]:
    """The feedback schedules in ``optimizer``'s schedules whose state a compiled step would not carry.

    A compiled step carries ``optimizer.state`` (of every inner optimizer) and the extra ``trees``; a
    feedback schedule whose ``state`` dict is in neither would be evaluated with its state baked in.
    """
    optimizers = _leaf_optimizers(optimizer)
    carried = set(_dicts([o.state for o in optimizers])) | set(_dicts(trees))
    found: list[Schedule] = []
    for owner in optimizers:
        for schedule in getattr(owner, "_schedulers", {}).values():
            if not isinstance(schedule, Schedule):
                continue
            for node in schedule.walk():
                state = getattr(node, "state", None) if node.reads_state else None
                if isinstance(state, dict) and id(state) not in carried and all(node is not seen for seen in found):
                    found.append(node)
    return found
