"""The equations panel: each cell's equations in the deck's notation, typeset, with the live
values beside their symbols equal to the model's (the trainer's own record), and the Spectral
radius setting's 0 said as "not rescaled" beside the measured rho."""

from __future__ import annotations

import numpy as np

from gradviz.config import ModelConfig, ModelSetup
from gradviz.gui.equations import cell_equations, typeset
from gradviz.session.headline import quoted_gain
from tests.configs import small_config
from tests.gui.conftest import train_and_pause, trainer_frame


def test_typeset_makes_real_subscripts_italic_variables_and_unicode_symbols():
    assert typeset("h_{t-1}") == "<i>h</i><sub><i>t</i>\u22121</sub>"
    assert typeset("W_hh") == "<i>W</i><sub><i>hh</i></sub>"
    assert typeset("tanh'(x)") == "tanh\u2032(<i>x</i>)"  # a function upright, the prime a prime
    assert typeset("C~_t") == "<i>C\u0303</i><sub><i>t</i></sub>"  # the candidate C with a tilde
    assert typeset("f_t * C") == "<i>f</i><sub><i>t</i></sub> \u2299 <i>C</i>"
    assert typeset("a < b") == "<i>a</i> &lt; <i>b</i>"


def _sources(kind: str, **model) -> tuple[list[str], list[str], str]:
    forward, backward = cell_equations(ModelSetup(model=ModelConfig(kind=kind, **model)))
    return [line.source for line in forward], [line.name for line in forward], backward.source


def test_each_cell_kind_names_the_decks_equations():
    sources, _, back = _sources("rnn")
    assert sources == ["h_t = tanh(W_hh h_{t-1} + W_xh x_t + b)"]
    assert back == "\u2202h_t/\u2202h_{t-1} = diag(tanh'(\u00b7)) W_hh"
    assert _sources("rnn", nonlinearity="relu")[2] == "\u2202h_t/\u2202h_{t-1} = diag(relu'(\u00b7)) W_hh"

    sources, names, back = _sources("lstm")
    for mechanism in ("forget gate", "input gate", "output gate", "cell state: the additive path"):
        assert mechanism in names  # the lecture's four mechanisms
    assert "C_t = f_t * C_{t-1} + i_t * C~_t" in sources and "h_t = o_t * tanh(C_t)" in sources
    assert back == "\u2202C_t/\u2202C_{t-1} = diag(f_t)"

    sources, _, back = _sources("lstm", forget_gate=False)  # 1997: f_t = 1, the carousel
    assert sources[0] == "f_t = 1" and "C_t = C_{t-1} + i_t * C~_t" in sources
    assert back == "\u2202C_t/\u2202C_{t-1} = I"

    sources, names, back = _sources("gru")
    assert names[:2] == ["reset gate", "update gate"]
    assert "h_t = (1 - z_t) * n_t + z_t * h_{t-1}" in sources
    assert back.startswith("\u2202h_t/\u2202h_{t-1} = diag(z_t)")


def _line(text: str, *parts: str) -> str:
    """The panel's line holding every one of ``parts``."""
    found = [line for line in text.splitlines() if all(part in line for part in parts)]
    assert found, f"no line with {parts!r} in:\n{text}"
    return found[0]


def test_the_live_values_are_the_models_own(qtbot, make_window):
    window = train_and_pause(qtbot, make_window(small_config(3)), steps=6)
    text = window.explanation.toPlainText()
    frame = trainer_frame(qtbot, window)  # the trainer's record, not the window's copy
    rnn, lstm, gru = frame.models

    forget = float(np.mean(lstm.latest.probes.gate_means["forget"][-1]))
    assert f"mean ft = {forget:.2f}" in _line(text, "ft = \u03c3(", "forget gate")  # beside f_t's equation
    assert f"mean ft = {forget:.2f}" in _line(text, "\u2202Ct/\u2202Ct\u22121 = diag(ft)")
    update = float(np.mean(gru.latest.probes.gate_means["update"][-1]))
    assert f"mean zt = {update:.2f}" in _line(text, "zt = \u03c3(", "update gate")
    for view in frame.models:
        gain = quoted_gain(view)
        assert np.isfinite(gain)
        assert f"measured gain \u00d7{gain:.3g} per step back" in text
    radius = float(rnn.latest.probes.spectral_radius[-1])
    # The setting is 0: "not rescaled", and the rho shown is named as measured.
    assert f"\u03c1(Whh) = {radius:.2f} measured" in text
    assert "not rescaled" in text and "= 0.00" not in text


def test_the_panel_follows_the_window_font(qtbot, make_window):
    from PySide6.QtGui import QFontInfo

    window = make_window()
    window.full_screen = False
    window.toggle_presentation()
    assert QFontInfo(window.explanation.font()).pixelSize() == window.board.style.font_px
    window.toggle_presentation()
    assert QFontInfo(window.explanation.font()).pixelSize() == window.board.style.font_px
