"""The explanation panel: the current models' equations in the lecture's notation, with the
live values that make them concrete (mean gates, the measured gain per step back, the bounds
beside it named as bounds, the half-life); and the description bar above the plots, which says
what the run on screen is."""

from __future__ import annotations

import html
import re

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QTextBrowser, QToolButton, QWidget

from gradviz.config import RunConfig
from gradviz.gui.plots.ranges import diverged
from gradviz.gui.theme import MODEL_COLOURS
from gradviz.probes import describe_decay
from gradviz.session.frames import Frame
from gradviz.session.headline import describe_gain, divergence_fact, quoted_decay, quoted_gain

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
        ("n_t = tanh(W_n x_t + b_in + r_t * (U_n h_{{t-1}} + b_hn)) &nbsp; candidate", "new"),
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

    def set_font_size(self, pixels: int) -> None:
        font = self.font()
        font.setPixelSize(pixels)
        self.setFont(font)
        self.document().setDefaultFont(font)
        self.html = ""  # re-render at the new size

    def show_frame(self, frame: Frame, nonlinearities: list[str], no_forget: list[bool]) -> None:
        blocks = []
        gone = diverged(frame)
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
            if gone[index]:
                # Its last record holds weights and gradients already blown up: no story in them.
                losses, norms, steps = (frame.scalars.get(name) for name in ("loss", "grad_norm", "step"))
                what = "the model overflowed (inf/NaN)" if losses is None or not len(losses) else divergence_fact(
                    losses[:, index], norms[:, index] if norms is not None else None, steps)
                lines.append(f"<div style='margin-left:8px'><b>diverged</b>: {what}</div>")
            elif probes is not None:
                lines.append(f"<div style='margin-left:8px'>{_multiplier(view)}; "
                             f"{describe_decay(quoted_decay(view))}</div>")
            blocks.append("".join(lines))
        html = "<hr>".join(blocks)
        if html != self.html:  # re-setting identical HTML would reset the scroll position
            self.html = html
            self.setHtml(html)


def _multiplier(view) -> str:
    """What multiplies the gradient per step back: the gain it really took (measured on the
    plotted profile), then what only bounds it, named as a bound: the Jacobian's norm (at most
    that much in any direction), rho(W_hh) (the lecture's criterion), and for the LSTM the
    largest f_t, the factor of the carousel path alone."""
    probes = view.latest.probes
    gain = quoted_gain(view)
    path = " on the cell path" if view.kind == "lstm" else ""
    parts = [f"measured <b>{describe_gain(gain)}</b>{path}" if np.isfinite(gain) else "no measured gain"]
    if probes.step_factor is not None:
        factors = ", ".join(f"x{f:.2f}" for f in probes.step_factor)
        if view.kind == "lstm":
            # Not a bound on C_t's gradient: it also flows back through h_t and the gates.
            parts.append(f"the carousel path C_{{t-1}} -> C_t alone: max f_t {factors} per step")
        else:
            parts.append(f"bound: |dh_t/dh_{{t-1}}|, at most {factors} per step on what one step carries back")
    if view.kind == "rnn":
        radius = ", ".join(f"{r:.2f}" for r in probes.spectral_radius)
        parts.append(f"spectral radius of W_hh {radius} (> 1 can explode; not the gain)")
    return "; ".join(parts)


class DescriptionBar(QWidget):
    """The story of the run above the plots: one line (elided) while collapsed, the whole text
    when opened (the button, or D). A quarter of a projector's height spent on prose is a
    quarter less for the plots, so presentation mode starts collapsed."""

    def __init__(self):
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        # The elided line is as wide as the label was: it must not hold the window that wide.
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.label.setMinimumWidth(1)
        layout.addWidget(self.label, 1)
        self.button = QToolButton()
        self.button.setAutoRaise(True)
        self.button.setToolTip("Show or hide the whole description (D)")
        self.button.clicked.connect(self.toggle)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignTop)
        self.html = ""
        self.open = True
        self._render()

    def set_html(self, text: str) -> None:
        self.html = text
        self._render()

    def set_open(self, open_: bool) -> None:
        self.open = open_
        self._render()

    def toggle(self) -> None:
        self.set_open(not self.open)

    def text(self) -> str:
        """The whole description (rich text), open or not."""
        return self.html

    def plain_text(self) -> str:
        """The description without markup (what the collapsed line elides)."""
        return html.unescape(re.sub(r"<[^>]+>", "", self.html))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if not self.open:
            self._render()

    def _render(self) -> None:
        self.setVisible(bool(self.html))
        self.button.setText("less" if self.open else "more")
        self.label.setWordWrap(self.open)
        if self.open:
            self.label.setText(self.html)
            return
        room = max(self.label.width(), 50)
        line = QFontMetrics(self.label.font()).elidedText(self.plain_text(), Qt.TextElideMode.ElideRight, room)
        self.label.setText(html.escape(line))


def describe_config(config: RunConfig) -> str:
    """What is training, in one line, from the settings themselves: a preset's story goes out
    of date as soon as T or a model is changed."""
    task = config.task
    length = f"T = {task.seq_len}" if getattr(task, "seq_len", None) else ""
    models = " vs ".join(f"{setup.label} (H = {setup.model.hidden}, {setup.train.optimizer} "
                         f"lr {setup.train.lr:g})" for setup in config.models)
    parts = [part for part in (f"{task.name} task", length) if part]
    return f"{', '.join(parts)}: {models}"
