"""The settings as data: every field of ``gradviz.config`` with its type, default, choices,
range, label, help, tooltip, when it applies and whether it applies live, in the order the
dataclasses declare them.

All of it is the field's own metadata in ``config.py`` (``config.setting``), read here as data:
no source is parsed, so a frozen or zipped install reads the same. The command-line flags, the
flat config-file keys, the validation and the settings panel's rows and tooltips are all
generated from this list, so a new setting is one field in ``config.py``.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

from gradviz import config as cfg

# Section name -> the dataclass holding its fields; "run" is RunConfig's own settings.
SECTIONS = {"task": cfg.TaskConfig, "model": cfg.ModelConfig, "train": cfg.TrainConfig, "run": cfg.RunConfig}


@dataclass(frozen=True)
class Setting:
    """One setting of a run."""

    section: str  # task, model, train or run
    name: str  # the dataclass field
    flat: str  # the command-line flag (dashes for underscores) and flat config key
    type: type  # int, float, str or bool
    default: Any
    doc: str  # one line of help (the command line's)
    choices: tuple[str, ...] | None = None
    range: tuple[float, float] | None = None
    label: str = ""  # the settings form's label
    tip: str = ""  # the settings form's tooltip
    when: tuple[tuple[str, tuple], ...] = ()  # (other field, allowed values): where it applies
    hidden_otherwise: bool = False  # where it does not apply its row hides (else it is greyed out)
    live: bool = False  # applied between training steps (else on Reset)
    at_minimum: str = ""  # the form's words for the lowest value, where it is no amount ("not rescaled")

    def applies(self, values: dict[str, Any]) -> bool:
        """Whether the setting applies when the other settings of its form are ``values``."""
        return all(values.get(name) in allowed for name, allowed in self.when)


def metadata(cls: type, name: str) -> dict[str, Any]:
    """The metadata of field ``name`` of ``cls`` (for fields that are no Setting: a model's label, models)."""
    return dict(next(item for item in dataclasses.fields(cls) if item.name == name).metadata)


@functools.cache
def settings() -> tuple[Setting, ...]:
    """Every setting, section by section, in declaration order (``config.FLAT_KEYS``'s)."""
    found = []
    for flat, (section, name) in cfg.FLAT_KEYS.items():
        cls = SECTIONS[section]
        field = next(item for item in dataclasses.fields(cls) if item.name == name)
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        meta = field.metadata
        found.append(Setting(section, name, flat, type(default), default, meta["doc"], meta["choices"],
                             meta["bounds"], meta["label"] or flat.replace("_", " ").capitalize(), meta["tip"],
                             tuple(meta["when"].items()), meta["hidden_otherwise"], meta["live"],
                             meta.get("at_minimum", "")))
    return tuple(found)


def by_flat(flat: str) -> Setting:
    return next(setting for setting in settings() if setting.flat == flat)


def section(name: str) -> tuple[Setting, ...]:
    return tuple(setting for setting in settings() if setting.section == name)
