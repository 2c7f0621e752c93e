"""The contract between rules/primitives.toml and the effects that implement it.

An effect kind registers here with the parameters a primitive table may give it; the loader
(bot.cmodel.primitives) checks each table against that declaration, so an unknown effect, an
unknown key or a wrong type is a load error naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping, NamedTuple

_REQUIRED: Any = object()


class Param(NamedTuple):
    """One parameter an effect reads from its primitive's table."""

    kind: type  # str, int, bool or tuple (an array of strings)
    default: Any = _REQUIRED  # _REQUIRED: every primitive of this effect must give it
    choices: tuple[str, ...] = ()
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


@dataclass(frozen=True)
class Primitive:
    """One table of rules/primitives.toml, checked: the effect it runs and that effect's parameters."""

    name: str
    effect: str
    why: str
    may_sleep: bool = False  # the call may sleep: running it in atomic context is a violation
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __getitem__(self, key: str) -> Any:
        return self.params[key]


@dataclass(frozen=True)
class EffectKind:
    name: str
    fn: Callable[..., Any]
    params: Mapping[str, Param]
    pure: bool  # touches no shared state: the interpreter need not interleave at it


EFFECTS: dict[str, EffectKind] = {}


def effect(name: str, pure: bool = False, **params: Param) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register an effect kind and the primitive-table keys it reads."""
    def reg(fn: Callable[..., Any]) -> Callable[..., Any]:
        EFFECTS[name] = EffectKind(name, fn, MappingProxyType(dict(params)), pure)
        return fn
    return reg
