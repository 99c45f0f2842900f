"""The explanation panel: the current models' equations in the lecture's notation, with the
live values that make them concrete (mean forget gate, spectral radius, half-life)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QTextBrowser

from gradviz.gui.frames import Frame
from gradviz.gui.theme import MODEL_COLOURS
from gradviz.probes import describe_half_life

EQUATIONS = {
    "rnn": [
        ("h_t = {act}(W_hh h_{{t-1}} + W_xh x_t + b)", None),
        ("dh_t/dh_{{t-1}} = diag({act}'(.)) W_hh &nbsp; (the Jacobian multiplied once per step back)", None),
    ],
    "lstm": [
        ("f_t = &sigma;(W_f [h_{{t-1}}, x_t] + b_f) &nbsp; forget gate", "forget"),
        ("i_t = &sigma;(W_i [h_{{t-1}}, x_t] + b_i) &nbsp; input gate", "input"),
        ("C~_t = tanh(W_C [h_{{t-1}}, x_t] + b_C) &nbsp; candidate", "cell"),
        ("C_t = f_t * C_{{t-1}} + i_t * C~_t &nbsp; cell state: the additive path", None),
        ("o_t = &sigma;(W_o [h_{{t-1}}, x_t] + b_o) &nbsp; output gate", "output"),
        ("h_t = o_t * tanh(C_t)", None),
    ],
    "gru": [
        ("r_t = &sigma;(W_r x_t + U_r h_{{t-1}} + b_r) &nbsp; reset gate", "reset"),
        ("z_t = &sigma;(W_z x_t + U_z h_{{t-1}} + b_z) &nbsp; update gate", "update"),
        ("n_t = tanh(W_n x_t + r_t * (U_n h_{{t-1}}) + b_n) &nbsp; candidate", "new"),
        ("h_t = (1 - z_t) * n_t + z_t * h_{{t-1}}", None),
    ],
}


class ExplanationPanel(QTextBrowser):
    """Equations with live values, one block per model."""

    def __init__(self):
        super().__init__()
        self.setOpenExternalLinks(False)
        self.setMinimumHeight(160)
        self.html = ""

    def set_font_size(self, points: int) -> None:
        font = self.font()
        font.setPointSize(points)
        self.setFont(font)
        self.document().setDefaultFont(font)
        self.html = ""  # re-render at the new size

    def show_frame(self, frame: Frame, nonlinearities: list[str], no_forget: list[bool]) -> None:
        blocks = []
        for index, view in enumerate(frame.models):
            colour = MODEL_COLOURS[index % len(MODEL_COLOURS)]
            lines = [f"<p style='margin:2px 0'><b style='color:{colour}'>{view.label}</b></p>"]
            probes = view.latest.probes if view.latest is not None else None
            act = nonlinearities[index] if index < len(nonlinearities) else "tanh"
            for equation, gate in EQUATIONS[view.kind]:
                text = equation.format(act=act)
                if gate == "forget" and index < len(no_forget) and no_forget[index]:
                    text = "f_t = 1 &nbsp; (1997 LSTM: no forget gate)"
                value = ""
                if probes is not None and gate in probes.gate_means:
                    value = f" &nbsp; <b>mean {float(np.mean(probes.gate_means[gate][-1])):.2f}</b>"
                lines.append(f"<div style='font-family:monospace; margin-left:8px'>{text}{value}</div>")
            if probes is not None:
                block = " (candidate block)" if view.kind != "rnn" else ""
                radius = ", ".join(f"{r:.2f}" for r in probes.spectral_radius)
                lines.append(
                    f"<div style='margin-left:8px'>spectral radius of W_hh{block}: "
                    f"<b>{radius}</b>; {describe_half_life(probes.half_life)}</div>"
                )
            blocks.append("".join(lines))
        html = "<hr>".join(blocks)
        if html != self.html:  # re-setting identical HTML would reset the scroll position
            self.html = html
            self.setHtml(html)
