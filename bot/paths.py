"""Where rules/ and models/ are: the checkout's directories, or the copies installed with the package;
and the public inbox threads are fetched from unless the user names another."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent
# here, not in bot.fetch: the commands and the parser name it, and most commands never fetch
DEFAULT_LORE = "https://lore.kernel.org/all"


def _find(name: str) -> Path:
    checkout = _PKG.parent / name
    if checkout.is_dir():
        return checkout
    installed = _PKG / "_data" / name
    if installed.is_dir():
        return installed
    raise FileNotFoundError(f"review-bot data directory {name}/ not found")


def rules_dir() -> Path:
    return _find("rules")


def models_dir() -> Path:
    return _find("models")
