"""The settings as data: every field of ``gradviz.config`` with its type, default, choices,
range and docstring, in the order the dataclasses declare them.

The command-line flags, the flat config-file keys and the settings panel's rows and tooltips
are all generated from this list, so a new setting is one field (with its docstring, and a
``RANGES`` entry for a number) in ``config.py``.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
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
    doc: str  # the field's docstring in config.py
    choices: tuple[str, ...] | None = None
    range: tuple[float, float] | None = None

    @property
    def live(self) -> bool:
        """Training settings apply between steps; everything else waits for Reset."""
        return self.section == "train"

    @property
    def label(self) -> str:
        """A form label: the first words of the docstring up to a colon, else the name."""
        return LABELS.get(self.flat, self.flat.replace("_", " ").capitalize())


# Short form labels; a setting without one is labelled by its name.
LABELS = {
    "task": "Task", "seq_len": "Sequence length T", "batch": "Batch", "distance": "Distance", "data": "File",
    "text_column": "Text column", "label_column": "Label column", "vocab_size": "Vocabulary",
    "max_len": "Words per review T", "test_fraction": "Test share", "model": "Cell", "hidden": "Hidden units H",
    "layers": "Layers", "nonlinearity": "Nonlinearity", "init": "Initialisation",
    "spectral_radius": "Spectral radius", "forget_bias": "Forget bias b_f", "forget_gate": "forget gate",
    "optimizer": "Optimiser", "lr": "Learning rate", "momentum": "Momentum", "clip": "Clip norm",
    "tbptt": "Truncate BPTT k", "seed": "Seed", "device": "Device", "record_every": "Record every",
    "probe_sample": "Gate sample",
}


def field_docs() -> dict[str, dict[str, str]]:
    """The docstrings written under each dataclass's fields, by class name (``config.py`` is
    parsed once: ``inspect.getsource`` of each class would parse the whole file each time)."""
    docs: dict[str, dict[str, str]] = {}
    for node in ast.parse(inspect.getsource(cfg)).body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields = docs[node.name] = {}
        for item, after in zip(node.body, node.body[1:], strict=False):
            if (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)):
                fields[item.target.id] = " ".join(after.value.value.split())
    return docs


@functools.cache
def settings() -> tuple[Setting, ...]:
    """Every setting, section by section, in declaration order (``config.FLAT_KEYS``'s)."""
    docs = field_docs()
    found = []
    for flat, (section, name) in cfg.FLAT_KEYS.items():
        cls = SECTIONS[section]
        field = next(item for item in dataclasses.fields(cls) if item.name == name)
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        found.append(Setting(section, name, flat, type(default), default, docs[cls.__name__].get(name, ""),
                             cfg._CHOICES.get(name), cfg.RANGES.get(name)))
    return tuple(found)


def by_flat(flat: str) -> Setting:
    return next(setting for setting in settings() if setting.flat == flat)


def section(name: str) -> tuple[Setting, ...]:
    return tuple(setting for setting in settings() if setting.section == name)
