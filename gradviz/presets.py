"""Presets: named runs for the lecture, stored as data in resources/presets/*.json (shipped
inside the package: see gradviz/assets.py).

Each file holds a ``title``, a ``description`` in the lecture's words, and a ``config`` in
RunConfig's dict form. The GUI's Presets menu and ``--preset NAME`` on the command line read
the same files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources.abc import Traversable

from gradviz.assets import resources
from gradviz.config import ConfigError, RunConfig

# Menu order (and the 1-8 keys in the app): the default demo first.
PRESET_ORDER = ("vanishing", "exploding", "irnn", "lstm1997", "copy", "tbptt", "reviews", "hochreiter1997")
DEFAULT_PRESET = "vanishing"


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    description: str
    config: RunConfig


def preset_dir() -> Traversable:
    """The folder of preset files: inside the installed package, or resources/ in a checkout."""
    return resources() / "presets"


def preset_names() -> list[str]:
    found = {entry.name.removesuffix(".json") for entry in preset_dir().iterdir() if entry.name.endswith(".json")}
    return [name for name in PRESET_ORDER if name in found] + sorted(found - set(PRESET_ORDER))


def load_preset(name: str) -> Preset:
    """The preset called ``name``; ConfigError for an unknown name or a broken file."""
    path = preset_dir() / f"{name}.json"
    if not path.is_file():
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(preset_names())}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Preset(name, data["title"], data["description"], RunConfig.from_dict(data["config"]))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ConfigError(f"preset file {path} is broken: {exc}") from None


def preset_of(config: RunConfig) -> Preset | None:
    """The preset whose settings ``config`` is (an opened run of one keeps its name and story);
    None for settings of no preset's own, and for a preset file that is broken."""
    for name in preset_names():
        try:
            preset = load_preset(name)
        except ConfigError:
            continue
        if preset.config == config:
            return preset
    return None
