"""Reading back what bot pickled to disk (the verdict cache, the compiled cache) without trusting it."""

from __future__ import annotations

import pickle
import sys
from dataclasses import is_dataclass
from typing import Any


class DataUnpickler(pickle.Unpickler):
    """Builds bot's own dataclasses and builtin containers only (and the few names in ALSO): a
    hostile blob cannot name a callable."""

    ALSO: frozenset[tuple[str, str]] = frozenset()

    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins" and name in ("set", "frozenset"):
            return getattr(__import__("builtins"), name)
        if (module, name) in self.ALSO:
            return getattr(__import__(module, fromlist=["_"]), name)
        if module == "bot" or module.startswith("bot."):
            mod = sys.modules.get(module) or __import__(module, fromlist=["_"])
            obj = getattr(mod, name, None)
            if isinstance(obj, type) and is_dataclass(obj):
                return obj
        raise pickle.UnpicklingError(f"{module}.{name} is not a bot dataclass")
