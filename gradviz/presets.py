"""Presets: named runs for the lecture, stored as data in resources/presets/*.json.

Each file holds a ``title``, a ``description`` in the lecture's words, and a ``config`` in
RunConfig's dict form. The GUI's Presets menu and ``--preset NAME`` on the command line read
the same files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from gradviz.config import ConfigError, RunConfig

PRESET_DIR = Path(__file__).resolve().parent.parent / "resources" / "presets"
# Menu order (and the 1-6 keys in the app): the default demo first.
PRESET_ORDER = ("vanishing", "exploding", "irnn", "lstm1997", "copy", "tbptt", "reviews")
DEFAULT_PRESET = "vanishing"


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    description: str
    config: RunConfig


def preset_names() -> list[str]:
    found = {path.stem for path in PRESET_DIR.glob("*.json")}
    return [name for name in PRESET_ORDER if name in found] + sorted(found - set(PRESET_ORDER))


def load_preset(name: str) -> Preset:
    """The preset called ``name``; ConfigError for an unknown name or a broken file."""
    path = PRESET_DIR / f"{name}.json"
    if not path.is_file():
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(preset_names())}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Preset(name, data["title"], data["description"], RunConfig.from_dict(data["config"]))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ConfigError(f"preset file {path} is broken: {exc}") from None
