"""The description above the plots after a changed Reset names every setting changed from the
preset, in the window as the user makes the changes (the logic: tests/core/test_description.py)."""

from __future__ import annotations

from gradviz.presets import load_preset


def test_a_changed_reset_names_every_change_not_only_the_learning_rate(qtbot, make_window):
    window = make_window()
    preset = load_preset("vanishing")
    window.load_preset("vanishing")
    qtbot.waitUntil(lambda: window.session.active == preset.config, timeout=60000)
    window.session.pause()
    rnn, lstm = window.controls.forms
    rnn.init.setCurrentText("orthogonal")
    rnn.spectral_radius.setValue(0.9)
    lstm.forget_bias.setValue(-1.0)
    window.controls.seq_len.setValue(30)
    window.reset()
    qtbot.waitUntil(lambda: window.session.active.task.seq_len == 30, timeout=60000)
    text = window.description.plain_text()
    assert text.startswith(f"{preset.title}, changed")
    assert "Sequence length T 50 \u2192 30" in text
    assert "tanh RNN: Initialisation default \u2192 orthogonal, Spectral radius not rescaled \u2192 0.9" in text
    assert "LSTM: Forget bias b_f 1 \u2192 -1" in text
    assert "Learning rate" not in text  # unchanged: not named
    assert preset.description not in text
    window.session.pause()
