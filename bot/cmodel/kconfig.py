"""A model's kernel configuration, models/<name>/config.toml, checked on load.

    arch = "s390"                      # include directories of a tree: arch/<arch>/include, …
    implicit_includes = ["include/linux/kconfig.h"]   # what the build passes with -include
    [options]                          # CONFIG_* as in a .config: true (y), "m", an int or a string;
    CONFIG_PGSTE = true                # false, or not listed, means not set
    [defines]                          # predefined macros (the compiler's), name = body text
    __s390x__ = "1"

The options decide `#if`/`#ifdef`/`IS_ENABLED()` in the file under review and its headers, with a
tree and from the mail alone.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bot.cmodel.cpp import Config


class ConfigError(ValueError):
    """A config.toml that does not say what it must."""


_OPTION = re.compile(r"CONFIG_[A-Z0-9_]+")
_MACRO = re.compile(r"[A-Za-z_]\w*")
_KEYS = {"arch", "implicit_includes", "options", "defines"}


def load_config(path: Path) -> Config:
    with open(path, "rb") as f:
        d = tomllib.load(f)
    return parse_config(d, str(path))


def parse_config(d: dict, where: str = "config") -> Config:
    unknown = set(d) - _KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    arch = d.get("arch", "")
    if not isinstance(arch, str) or not re.fullmatch(r"[a-z0-9_]*", arch):
        raise ConfigError(f"{where}: arch must be a directory name under arch/")
    incs = d.get("implicit_includes", [])
    if not isinstance(incs, list) or not all(isinstance(i, str) and i.endswith(".h") and ".." not in i for i in incs):
        raise ConfigError(f"{where}: implicit_includes must be a list of header paths")
    options: dict[str, bool | int | str] = {}
    for name, v in dict(d.get("options", {})).items():
        if not _OPTION.fullmatch(name):
            raise ConfigError(f"{where}: option {name!r} is not a CONFIG_ name")
        if not isinstance(v, (bool, int, str)):
            raise ConfigError(f"{where}: {name} must be true/false, \"m\", an integer or a string")
        options[name] = v
    defines: dict[str, str] = {}
    for name, v in dict(d.get("defines", {})).items():
        if not _MACRO.fullmatch(name) or not isinstance(v, str):
            raise ConfigError(f"{where}: define {name!r} must be a macro name with a string body")
        defines[name] = v
    return Config(options, defines, arch, list(incs))
