"""A kernel `.config`, and the macros it gives the preprocessor (include/generated/autoconf.h)."""

from __future__ import annotations

import os
import platform
import re

from kmodlint.safe_io import TABLE_LIMIT, inflate_gzip, read_regular


class ConfigError(ValueError):
    pass


def _read_text(path: str) -> str:
    # A regular file only, of bounded size (a FIFO or /dev/zero named as the .config is
    # refused, not read for ever); a /proc/config.gz style file is inflated a chunk at a
    # time under the same bound, so a gzip bomb stops early (safe_io).
    try:
        data = read_regular(path, TABLE_LIMIT)
        if path.endswith(".gz"):
            data = inflate_gzip(data, TABLE_LIMIT, path)
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from exc
    except ValueError as exc:  # corrupt or truncated gzip data
        raise ConfigError(f"{path}: {exc}") from exc
    return data.decode("utf-8", "replace")


def read_config(path: str, keep_unset: bool = False) -> dict[str, str]:
    """CONFIG_X -> "y" / "m" / value, as written in a .config (or /proc/config.gz);
    with *keep_unset*, "# CONFIG_X is not set" lines too, as ""."""
    config = _config_lines(_read_text(path), keep_unset)
    if not any(config.values()):
        raise ConfigError(f"{path}: no CONFIG_ lines: not a kernel .config")
    return config


def _config_lines(text: str, keep_unset: bool) -> dict[str, str]:
    config: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("CONFIG_") and "=" in line:
            key, _, value = line.partition("=")
            config[key.strip()] = value.strip()
        elif keep_unset and line.startswith("# CONFIG_") and line.endswith(" is not set"):
            # kept as "" (off): the option is the kernel's, so an out-of-tree Makefile's
            # obj-$(CONFIG_X) must not read it as the driver's own, unset one (kbuild/grouping.py)
            config[line[2:-11].strip()] = ""
    return config


# include/generated/autoconf.h: `#define CONFIG_X value`, what confdata.c wrote for a .config
_AUTOCONF_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(CONFIG_\w+)[ \t]+(.*?)[ \t\r]*$", re.M)


def read_config_macros(path: str) -> dict[str, str]:
    """The CONFIG_ macros cpp sees, from an autoconf.h or a .config (the stub environment's
    generator reads whichever a kernel tree has)."""
    text = _read_text(path)
    defines = _AUTOCONF_DEFINE.findall(text)
    if defines:
        return dict(defines)
    return _configuration_macros(_config_lines(text, keep_unset=False))


def running_kernel_config() -> str | None:
    release = platform.release()
    for candidate in (f"/boot/config-{release}", f"/lib/modules/{release}/build/.config"):
        if os.path.isfile(candidate):
            return candidate
    if os.path.isfile("/proc/config.gz"):
        return "/proc/config.gz"
    return None


def config_macros(config: dict[str, str] | None) -> dict[str, str]:
    """The macros cpp starts with: the configuration's and __KERNEL__."""
    return {"__KERNEL__": "1", **_configuration_macros(config or {})}


def _configuration_macros(config: dict[str, str]) -> dict[str, str]:
    """scripts/kconfig/confdata.c: y -> CONFIG_X 1, m -> CONFIG_X_MODULE 1, strings and
    numbers as written; `n` is absent."""
    macros: dict[str, str] = {}
    for key, value in config.items():
        if value == "y":
            macros[key] = "1"
        elif value == "m":
            macros[f"{key}_MODULE"] = "1"
        elif value and value != "n":
            macros[key] = value
    return macros
