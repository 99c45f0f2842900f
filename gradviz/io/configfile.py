"""Reading a configuration file (JSON or TOML), for the CLI's --config and the window's
"Open configuration": RunConfig's nested form, or flat keys named like the CLI's flags."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from gradviz.config import ConfigError, RunConfig, clip, parse_json, with_overrides

MAX_CONFIG_BYTES = 1_000_000  # a config is a few hundred bytes; a bigger file is the wrong file


class ConfigFileError(ValueError):
    """A configuration file that cannot be read or holds bad settings: one line saying why."""


def read_config_file(path: Path) -> RunConfig:
    """A config file (JSON or TOML): RunConfig's nested form, or flat keys named like the flags."""
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        raise ConfigFileError(f"config {path}: YAML is not supported; write the same keys as JSON or TOML")
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigFileError(f"config {path} is {size / 1e6:.0f} MB; a gradviz config is a few hundred bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"cannot read config {path}: {exc}") from None
    kind = suffix.lstrip(".") or "json"
    try:
        data: Any = tomllib.loads(text) if suffix == ".toml" else parse_json(text)
    except RecursionError:
        raise ConfigFileError(f"config {path} is nested too deeply to be a gradviz config") from None
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        reason = str(exc).removeprefix("config is not valid JSON: ")
        if "nested" in reason:
            raise ConfigFileError(f"config {path}: {reason}") from None
        raise ConfigFileError(f"config {path} is not valid {kind}: {clip(reason, 200)}") from None
    if not isinstance(data, dict):
        raise ConfigFileError(f"config {path} must hold a mapping of settings")
    try:
        if "models" in data or isinstance(data.get("task"), dict):
            return RunConfig.from_dict(data)
        return with_overrides(RunConfig(), data)
    except ConfigError as exc:
        raise ConfigFileError(f"config {path}: {exc}") from None
