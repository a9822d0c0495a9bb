"""A kernel `.config`, and the macros it gives the preprocessor (include/generated/autoconf.h)."""

from __future__ import annotations

import os
import platform

from kmodlint.safe_io import TABLE_LIMIT, inflate_gzip, read_regular


class ConfigError(ValueError):
    pass


def read_config(path: str, keep_unset: bool = False) -> dict[str, str]:
    """CONFIG_X -> "y" / "m" / value, as written in a .config (or /proc/config.gz);
    with *keep_unset*, "# CONFIG_X is not set" lines too, as ""."""
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
    text = data.decode("utf-8", "replace")
    config: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("CONFIG_") and "=" in line:
            key, _, value = line.partition("=")
            config[key.strip()] = value.strip()
        elif keep_unset and line.startswith("# CONFIG_") and line.endswith(" is not set"):
            # kept as "" (off): the option is the kernel's, so an out-of-tree Makefile's
            # obj-$(CONFIG_X) must not read it as the driver's own, unset one (kbuild/grouping.py)
            config[line[2:-11].strip()] = ""
    if not any(config.values()):
        raise ConfigError(f"{path}: no CONFIG_ lines: not a kernel .config")
    return config


def running_kernel_config() -> str | None:
    release = platform.release()
    for candidate in (f"/boot/config-{release}", f"/lib/modules/{release}/build/.config"):
        if os.path.isfile(candidate):
            return candidate
    if os.path.isfile("/proc/config.gz"):
        return "/proc/config.gz"
    return None


def config_macros(config: dict[str, str] | None) -> dict[str, str]:
    """scripts/kconfig/confdata.c: y -> CONFIG_X 1, m -> CONFIG_X_MODULE 1, strings and
    numbers as written; `n` is absent."""
    macros: dict[str, str] = {"__KERNEL__": "1"}
    for key, value in (config or {}).items():
        if value == "y":
            macros[key] = "1"
        elif value == "m":
            macros[f"{key}_MODULE"] = "1"
        elif value and value != "n":
            macros[key] = value
    return macros
