"""The description above the plots, from the settings themselves (no Qt).

A preset's story is true for the preset's own settings only: once the learning rate, the
forget bias, the initialisation or T is changed and Reset pressed, the description says the run
is the preset *changed*, and names every setting that differs from the preset, each with the
preset's value and the run's (``changed_settings``), not only the few a one-line summary shows.
"""

from __future__ import annotations

import html
from dataclasses import fields
from typing import Any

from gradviz.config import ModelSetup, RunConfig
from gradviz.schema import settings

# Values whose number means "off" or "none": said in words, as the settings panel's tooltips do.
IN_WORDS = {
    "spectral_radius": {0.0: "not rescaled"},
    "tbptt": {0: "full BPTT"},
    "clip": {0.0: "off"},
    "data": {"": "none"},
}


def _labels() -> dict[tuple[str, str], str]:
    """(section, field) -> the settings panel's label for it ("Forget bias b_f")."""
    return {(setting.section, setting.name): setting.label for setting in settings()}


def show_value(name: str, value: Any) -> str:
    """A setting's value as the panel shows it: 0.001 not 0.0010000, "not rescaled" for a
    spectral radius of 0, "on"/"off" for a switch."""
    words = IN_WORDS.get(name, {})
    if value in words and not isinstance(value, bool):
        return words[value]
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _differences(section: str, before: Any, after: Any, labels: dict) -> list[str]:
    found = []
    for item in fields(after):
        old, new = getattr(before, item.name), getattr(after, item.name)
        if item.name in ("task", "models") or old == new:
            continue
        label = labels.get((section, item.name), item.name)
        found.append(f"{label} {show_value(item.name, old)} \u2192 {show_value(item.name, new)}")
    return found


def _model_differences(before: ModelSetup, after: ModelSetup, labels: dict) -> list[str]:
    found = []
    if before.label != after.label and before.model.kind == after.model.kind:  # a new cell's label says it already
        found.append(f"label {before.label} \u2192 {after.label}")
    found += _differences("model", before.model, after.model, labels)
    found += _differences("train", before.train, after.train, labels)
    return found


def changed_settings(before: RunConfig, after: RunConfig) -> list[str]:
    """Every setting of ``after`` that differs from ``before``, as "Label old → new": the
    task's and the run's settings, then each model's under its name ("tanh RNN: Learning rate
    0.001 → 0.01, Initialisation default → orthogonal"), then models added or removed."""
    labels = _labels()
    found = _differences("task", before.task, after.task, labels)
    found += _differences("run", before, after, labels)
    for index, (old, new) in enumerate(zip(before.models, after.models, strict=False)):
        changes = _model_differences(old, new, labels)
        if changes:
            found.append(f"{new.label or f'model {index + 1}'}: {', '.join(changes)}")
    for setup in after.models[len(before.models):]:
        found.append(f"{setup.label} added")
    for setup in before.models[len(after.models):]:
        found.append(f"{setup.label} removed")
    return found


def describe_config(config: RunConfig) -> str:
    """What is training, in one line, from the settings themselves: a preset's story goes out
    of date as soon as T or a model is changed."""
    task = config.task
    length = f"T = {task.seq_len}" if getattr(task, "seq_len", None) else ""
    models = " vs ".join(f"{setup.label} (H = {setup.model.hidden}, {setup.train.optimizer} "
                         f"lr {setup.train.lr:g})" for setup in config.models)
    parts = [part for part in (f"{task.name} task", length) if part]
    return f"{', '.join(parts)}: {models}"


def description_html(config: RunConfig, title: str | None = None, story: str = "",
                     stock: RunConfig | None = None) -> str:
    """The description bar's rich text: a preset's (``title``, its ``story`` and settings
    ``stock``) as it is; changed, with every change named; or a custom run (no title)."""
    summary = html.escape(describe_config(config))
    if title is None:
        return f"<b>Custom run</b>: {summary}."
    if stock is None or config == stock:
        return f"<b>{html.escape(title)}</b> ({summary}). {story}"
    changes = changed_settings(stock, config)
    said = f" Changed from the preset: {html.escape('; '.join(changes))}." if changes else ""
    return f"<b>{html.escape(title)}, changed</b>: {summary}.{said}"
