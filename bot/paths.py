"""Where rules/ and models/ are: the checkout's directories, or the copies installed with the package."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


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
