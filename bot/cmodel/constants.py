"""rules/constants.toml: kernel constants (GFP and SLAB flags) the effects interpret, for every model."""

from __future__ import annotations

from pathlib import Path

from bot.compiled import loader
from bot.datafile import Fields, display, read_toml
from bot.paths import rules_dir


def load(path: Path) -> dict[str, int]:
    top = Fields(read_toml(path), display(path))
    out = top.mapping("constants", int)
    top.close()
    return out


@loader
def kernel_constants() -> dict[str, int]:
    return load(rules_dir() / "constants.toml")
