"""The machinery every translator shares: a peer's scheduler names, each with a builder of the peer's signature.

A builder is a function whose parameters are the peer scheduler's own argument names and defaults, written
out literally (``def step_lr(lr, step_size, gamma=0.1, last_epoch=-1)``), so ``inspect.signature`` is the
peer's signature: unknown names and arguments are refused with a suggestion before anything is built, and
the tests compare each builder's defaults with the installed peer's.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from .. import _check
from ..base import Schedule

Builder = Callable[..., Schedule]


class Translator:
    """``translate(name, **kwargs)``: the schedule that the peer's scheduler ``name`` runs, with its semantics.

    Args:
        peer: the peer library, as error messages name it (``"PyTorch"``).
        function: the public function, as error messages name it (``"from_torch"``).
    """

    def __init__(self, peer: str, function: str) -> None:
        self.peer = peer
        self.function = function
        self._builders: dict[str, Builder] = {}

    def register(self, *names: str) -> Callable[[Builder], Builder]:
        """Register a builder under the peer's name(s) for it."""

        def add(builder: Builder) -> Builder:
            for name in names:
                self._builders[name] = builder
            return builder

        return add

    @property
    def names(self) -> list[str]:
        """Every scheduler name this translator knows, sorted."""
        return sorted(self._builders)

    def signature(self, name: str) -> inspect.Signature:
        """The peer's signature of scheduler ``name`` (as written in its builder)."""
        return inspect.signature(self.builder(name))

    def builder(self, name: Any) -> Builder:
        """The builder of ``name``; ``ValueError`` with a suggestion and the known names otherwise."""
        if not isinstance(name, str) or name not in self._builders:
            hint = _check.suggestion(name, self._builders)
            raise ValueError(
                _check.shorten(
                    f"{self.function}: unknown {self.peer} scheduler {_check.preview(name)}{hint}; "
                    f"known: {', '.join(self.names)}",
                    300,
                )
            )
        return self._builders[name]

    def __call__(self, name: str, kwargs: Mapping[str, Any]) -> Schedule:
        builder = self.builder(name)
        parameters = inspect.signature(builder).parameters
        who = owner(self.function, name)
        for key in kwargs:
            if key not in parameters:
                hint = _check.suggestion(key, parameters)
                raise ValueError(
                    _check.shorten(
                        f"{who}: unknown argument {_check.preview(key)}{hint}; {name} takes {', '.join(parameters)}",
                        300,
                    )
                )
        for key, parameter in parameters.items():
            if parameter.default is inspect.Parameter.empty and key not in kwargs:
                raise ValueError(f"{who}: missing the required argument {key!r}")
        return builder(**kwargs)


def owner(function: str, name: str) -> str:
    """How a translated scheduler is named in error messages: ``from_torch('StepLR')``."""
    return f"{function}({name!r})"


def checked_rate(who: str, name: str, value: Any) -> float:
    """A peer's learning rate, or a rate-like argument: a number >= 0."""
    return _check.non_negative(who, name, value)


def unsupported(function: str, name: str, why: str) -> Schedule:
    """Refuse a peer scheduler that has no closed form here, saying how to build the same thing."""
    raise ValueError(f"{owner(function, name)}: {why}")
