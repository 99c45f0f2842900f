"""The description after a changed Reset names every setting that differs from the preset, with
the preset's value and the run's; an unchanged preset tells its story (no Qt)."""

from __future__ import annotations

import dataclasses

from gradviz.config import with_overrides
from gradviz.presets import load_preset
from gradviz.session.description import changed_settings, description_html


def _model(config, index, **changes):
    setups = list(config.models)
    setup = setups[index]
    model_changes = {k: v for k, v in changes.items() if k in {f.name for f in dataclasses.fields(setup.model)}}
    train_changes = {k: v for k, v in changes.items() if k not in model_changes}
    setups[index] = dataclasses.replace(setup, model=dataclasses.replace(setup.model, **model_changes),
                                        train=dataclasses.replace(setup.train, **train_changes))
    return dataclasses.replace(config, models=tuple(setups))


def test_every_changed_setting_is_named_with_both_values():
    preset = load_preset("vanishing")
    rnn, lstm = (setup.label for setup in preset.config.models)
    old_lr = preset.config.models[0].train.lr
    old_bias = preset.config.models[1].model.forget_bias
    old_t = preset.config.task.seq_len
    changed = _model(preset.config, 0, lr=old_lr * 10, init="orthogonal", spectral_radius=0.9)
    changed = _model(changed, 1, forget_bias=old_bias - 1.0)
    changed = dataclasses.replace(changed, task=dataclasses.replace(changed.task, seq_len=old_t + 30))
    said = changed_settings(preset.config, changed)
    assert said[0] == f"Sequence length T {old_t} \u2192 {old_t + 30}"
    rnn_line = next(line for line in said if line.startswith(f"{rnn}:"))
    assert f"Learning rate {old_lr:g} \u2192 {old_lr * 10:g}" in rnn_line
    assert f"Initialisation {preset.config.models[0].model.init} \u2192 orthogonal" in rnn_line
    assert preset.config.models[0].model.spectral_radius == 0
    assert "Spectral radius not rescaled \u2192 0.9" in rnn_line  # 0 is "leave it", said in words
    assert said[-1] == f"{lstm}: Forget bias b_f {old_bias:g} \u2192 {old_bias - 1:g}"
    assert len(said) == 3  # nothing else changed, nothing else named

    text = description_html(changed, preset.title, preset.description, preset.config)
    assert text.startswith(f"<b>{preset.title}, changed</b>")
    assert preset.description not in text  # the preset's story is not this run's
    for line in said:
        assert line.replace(">", "&gt;") in text


def test_a_new_cell_switches_and_models_added_are_named():
    preset = load_preset("vanishing")
    gru = with_overrides(preset.config, {})  # the same settings...
    assert changed_settings(preset.config, gru) == []
    assert description_html(gru, preset.title, preset.description, preset.config).endswith(preset.description)
    setups = list(preset.config.models)
    setups[0] = dataclasses.replace(setups[0], label="GRU", model=dataclasses.replace(setups[0].model, kind="gru"))
    setups.append(dataclasses.replace(setups[1], label="LSTM 2"))
    changed = dataclasses.replace(preset.config, models=tuple(setups), seed=preset.config.seed + 1)
    said = changed_settings(preset.config, changed)
    assert f"Seed {preset.config.seed} \u2192 {preset.config.seed + 1}" in said
    assert "GRU: Cell rnn \u2192 gru" in said  # under its new name; the old label is not repeated
    assert said[-1] == "LSTM 2 added"
    assert description_html(changed).startswith("<b>Custom run</b>")
