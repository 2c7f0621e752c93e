"""A model's kernel configuration, models/<name>/config.toml, checked on load.

    arch = "s390"                      # include directories of a tree: arch/<arch>/include, …
    implicit_includes = ["include/linux/kconfig.h"]   # what the build passes with -include
    [options]                          # CONFIG_* as in a .config: true (y), "m", an int or a string;
    CONFIG_PGSTE = true                # false, or not listed, means not set
    [defines]                          # predefined macros (the compiler's), name = body text
    __s390x__ = "1"
    [architectures.loongarch]          # a model of a file every architecture has (arch/*/...):
    CONFIG_MMU_GATHER_TABLE_FREE = false   # what one architecture selects otherwise

The options decide `#if`/`#ifdef`/`IS_ENABLED()` in the file under review and its headers, with a
tree and from the mail alone.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.cmodel.cpp import Config
from bot.datafile import DataError, Fields, display, read_toml


class ConfigError(DataError):
    """A config.toml that does not say what it must."""


_OPTION = re.compile(r"CONFIG_[A-Z0-9_]+")
_MACRO = re.compile(r"[A-Za-z_]\w*")


def load_config(path: Path) -> Config:
    return parse_config(read_toml(path), display(path))


def parse_config(d: dict[str, Any], where: str = "config") -> Config:
    f = Fields(d, where)
    try:
        return _parse(f)
    except DataError as e:
        raise ConfigError(str(e)) from None


def _parse(f: Fields) -> Config:
    arch = f.get("arch", str, "")
    if not re.fullmatch(r"[a-z0-9_]*", arch):
        raise f.error("key 'arch' must be a directory name under arch/")
    incs = f.strs("implicit_includes")
    if not all(i.endswith(".h") and ".." not in i for i in incs):
        raise f.error("key 'implicit_includes' must be a list of header paths")
    options = _options(f, f.get("options", dict, {}), "")
    per_arch: dict[str, dict[str, bool | int | str]] = {}
    for name, table in f.get("architectures", dict, {}).items():
        if not re.fullmatch(r"[a-z0-9_]+", name) or not isinstance(table, dict):
            raise f.error(f"architectures.{name}: must be a table of options of a directory name under arch/")
        per_arch[name] = _options(f, table, f"architectures.{name}.")
    defines: dict[str, str] = {}
    for name, v in f.get("defines", dict, {}).items():
        if not _MACRO.fullmatch(name) or not isinstance(v, str):
            raise f.error(f"define {name!r} must be a macro name with a string body")
        defines[name] = v
    f.close()
    return Config(options, defines, arch, list(incs), per_arch)


def _options(f: Fields, table: dict[str, Any], where: str) -> dict[str, bool | int | str]:
    options: dict[str, bool | int | str] = {}
    for name, v in table.items():
        if not _OPTION.fullmatch(name):
            raise f.error(f"option {where}{name!r} is not a CONFIG_ name")
        if not isinstance(v, (bool, int, str)):
            raise f.error(f"{where}{name} must be true/false, \"m\", an integer or a string")
        options[name] = v
    return options
