"""Reading a configuration file (JSON or TOML), for the CLI's --config and the window's
"Open configuration": RunConfig's nested form, or flat keys named like the CLI's flags."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from gradviz.config import ConfigError, RunConfig, with_overrides


class ConfigFileError(ValueError):
    """A configuration file that cannot be read or holds bad settings: one line saying why."""


def read_config_file(path: Path) -> RunConfig:
    """A config file: RunConfig's nested form, or flat keys named like the flags."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"cannot read config {path}: {exc}") from None
    try:
        data: Any = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigFileError(f"config {path} is not valid {path.suffix.lstrip('.') or 'JSON'}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigFileError(f"config {path} must hold a mapping of settings")
    try:
        if "models" in data or isinstance(data.get("task"), dict):
            return RunConfig.from_dict(data)
        return with_overrides(RunConfig(), data)
    except ConfigError as exc:
        raise ConfigFileError(f"config {path}: {exc}") from None
