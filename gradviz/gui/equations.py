"""The equations panel's text: the deck's equations typeset as Qt rich text, each live value
beside the symbol it belongs to.

No Qt here (the panel in ``panels/explanation.py`` only shows the result), so the text is
tested as text. The equations are written in a small notation close to the deck's ASCII
(``h_{t-1}``, ``W_hh``, ``C~_t``, ``tanh'``) and ``typeset`` turns it into real sub- and
superscripts, italic variables, upright function names and Unicode minus, prime and tilde:
no LaTeX and no image, so the text follows the window's font (presentation mode's too), wraps
only between an equation and its value, and stays selectable.

What each cell shows (LECTURE.md's notation):

- tanh RNN: h_t = tanh(W_hh h_{t-1} + W_xh x_t + b); the chain rule's factor
  dh_t/dh_{t-1} = diag(tanh'(.)) W_hh with its norm (a bound), the measured gain per step back,
  and rho(W_hh) measured, beside what the Spectral radius setting did ("not rescaled" at 0).
- LSTM: its four mechanisms (forget, input and output gates, the cell state) with each gate's
  mean, and dC_t/dC_{t-1} = diag(f_t) with the mean and largest f_t and the measured gain on
  the cell path; the 1997 LSTM (no forget gate) has f_t = 1 and dC_t/dC_{t-1} = I.
- GRU: reset and update gates, candidate, h_t = (1 - z_t) n_t + z_t h_{t-1}, and
  dh_t/dh_{t-1} = diag(z_t) + ... with the mean z_t and the measured gain.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass

import numpy as np

from gradviz.config import ModelSetup
from gradviz.session.frames import ModelView
from gradviz.session.headline import quoted_gain

FUNCTIONS = frozenset({"tanh", "relu", "diag", "max", "mean"})
_TOKEN = re.compile(
    r"(?P<word>[A-Za-z]+)(?P<tilde>~)?(?P<sub>_(?:\{[^}]*\}|[A-Za-z0-9]+))?(?P<sup>\^(?:\{[^}]*\}|[A-Za-z0-9]+))?"
    r"|(?P<other>.)", re.DOTALL)
CHAIN = "the chain rule, per step back"
SHORT_NAME = 32  # characters: a name this short is never broken across lines
MUTED = "#787878"  # the words beside an equation: readable on the dark and the light theme
_SYMBOLS = {"-": "\u2212", "'": "\u2032", "*": "\u2299"}  # minus, prime, elementwise product


def typeset(source: str) -> str:
    """The deck's ASCII notation as rich text: ``h_{t-1}`` -> h<sub>t−1</sub>, ``C~_t`` -> C̃
    with t below, single letters italic, ``tanh``/``diag`` upright, ``*`` the elementwise ⊙."""
    parts = []
    for match in _TOKEN.finditer(source):
        if match["other"] is not None:
            char = match["other"]
            parts.append(_SYMBOLS.get(char, html.escape(char)))
            continue
        word = match["word"]
        if match["tilde"]:  # combining tilde, inside the italic: after </i> Qt draws no tilde in a serif font
            word += "\u0303"  # C~ is the candidate C̃
        text = word if word in FUNCTIONS else f"<i>{word}</i>"
        for key, tag in (("sub", "sub"), ("sup", "sup")):
            if match[key]:
                inner = match[key][1:]
                inner = inner[1:-1] if inner.startswith("{") else inner
                text += f"<{tag}>{typeset(inner)}</{tag}>"
        parts.append(text)
    return "".join(parts)


@dataclass(frozen=True)
class Line:
    """One equation of a cell: the notation, what it is in words, and which gate's mean (a
    ``gate_means`` key) is its live value."""

    source: str
    name: str = ""
    gate: str | None = None


def cell_equations(setup: ModelSetup) -> tuple[list[Line], Line]:
    """The forward equations of ``setup``'s cell, and the chain rule's factor per step back."""
    model = setup.model
    if model.kind == "rnn":
        act = model.nonlinearity
        return ([Line(f"h_t = {act}(W_hh h_{{t-1}} + W_xh x_t + b)", "hidden state")],
                Line(f"\u2202h_t/\u2202h_{{t-1}} = diag({act}'(\u00b7)) W_hh", CHAIN))
    if model.kind == "lstm":
        forget = (Line("f_t = \u03c3(W_f [h_{t-1}, x_t] + b_f)", "forget gate", "forget") if model.forget_gate
                  else Line("f_t = 1", "no forget gate (the 1997 LSTM)"))
        cell = ("C_t = f_t * C_{t-1} + i_t * C~_t" if model.forget_gate else "C_t = C_{t-1} + i_t * C~_t")
        return ([forget,
                 Line("i_t = \u03c3(W_i [h_{t-1}, x_t] + b_i)", "input gate", "input"),
                 Line("C~_t = tanh(W_C [h_{t-1}, x_t] + b_C)", "candidate", "cell"),
                 Line(cell, "cell state: the additive path"),
                 Line("o_t = \u03c3(W_o [h_{t-1}, x_t] + b_o)", "output gate", "output"),
                 Line("h_t = o_t * tanh(C_t)", "hidden state")],
                Line("\u2202C_t/\u2202C_{t-1} = " + ("diag(f_t)" if model.forget_gate else "I"),
                     "chain rule, the cell path alone"))
    return ([Line("r_t = \u03c3(W_r x_t + U_r h_{t-1} + b_r)", "reset gate", "reset"),
             Line("z_t = \u03c3(W_z x_t + U_z h_{t-1} + b_z)", "update gate", "update"),
             Line("n_t = tanh(W_n x_t + b_in + r_t * (U_n h_{t-1} + b_hn))", "candidate", "new"),
             Line("h_t = (1 - z_t) * n_t + z_t * h_{t-1}", "hidden state")],
            Line("\u2202h_t/\u2202h_{t-1} = diag(z_t) + \u2026",
                 "chain rule; \u2026 are the paths through n_t and the gates"))


def gate_mean(view: ModelView, gate: str) -> float | None:
    """The mean over units, batch and timesteps of the top layer's ``gate`` at the latest record
    (the number the column header quotes as "mean f_t"); None before a record."""
    probes = view.latest.probes if view.latest is not None else None
    if probes is None or gate not in probes.gate_means:
        return None
    return float(np.mean(probes.gate_means[gate][-1]))


def _symbol(source: str) -> str:
    """The left-hand side of an equation: what its live value is the mean of."""
    return source.split("=")[0].strip()


def _value(text: str) -> str:
    """A live value: bold, kept on one line."""
    return f"<b style='white-space:nowrap'>{text}</b>"


def _equation(line: Line, value: str = "") -> str:
    """An equation on one line, its live value beside it, and what it is in words (muted);
    a narrow panel wraps between these, never inside an equation or a value."""
    shown = f" &nbsp;{value}" if value else ""
    keep = "; white-space:nowrap" if len(line.name) <= SHORT_NAME else ""  # "forget / gate" read badly
    name = f" &nbsp;<span style='color:{MUTED}{keep}'>{html.escape(line.name)}</span>" if line.name else ""
    return (f"<div style='margin:1px 0 1px 8px'><span style='white-space:nowrap; font-family:serif'>"
            f"{typeset(line.source)}</span>{shown}{name}</div>")


def backward_values(view: ModelView, setup: ModelSetup) -> list[str]:
    """The live numbers of the chain rule's line: the factor's own value (mean and largest f_t,
    mean z_t, or the Jacobian's norm, a bound), then the gain the plotted gradient really took,
    then for a plain RNN rho(W_hh), measured, beside what the Spectral radius setting did."""
    probes = view.latest.probes if view.latest is not None else None
    kind, values = setup.model.kind, []
    if probes is None:
        return values
    factor = probes.step_factor
    if kind == "lstm" and setup.model.forget_gate:
        mean = gate_mean(view, "forget")
        if mean is not None:
            values.append(f"mean {typeset('f_t')} = {mean:.2f}")
        if factor is not None:
            values.append(f"max {typeset('f_t')} = {float(factor[-1]):.2f}")
    elif kind == "gru":
        mean = gate_mean(view, "update")
        if mean is not None:
            values.append(f"mean {typeset('z_t')} = {mean:.2f}")
        if factor is not None:
            values.append(f"norm \u2264 \u00d7{float(factor[-1]):.2f} (a bound)")
    elif kind == "rnn" and factor is not None:
        values.append(f"norm \u2264 \u00d7{float(factor[-1]):.2f} (a bound)")
    gain = quoted_gain(view)  # an LSTM's on the cell path, the line's own
    values.append(f"measured gain \u00d7{gain:.3g} per step back" if math.isfinite(gain) else "no measured gain yet")
    return values


def radius_line(view: ModelView, setup: ModelSetup) -> str:
    """rho(W_hh): the measured value for a plain RNN (named as measured), and what the Spectral
    radius setting did: 0 is "not rescaled", not a radius of 0."""
    wanted = setup.model.spectral_radius
    setting = (f"rescaled to {wanted:g} at initialisation" if wanted > 0
               else "not rescaled (the Spectral radius setting)")
    probes = view.latest.probes if view.latest is not None else None
    if setup.model.kind != "rnn":
        return f"W_hh's gate blocks {setting}" if wanted > 0 else ""
    measured = ""
    if probes is not None and len(probes.spectral_radius):
        radius = ", ".join(f"{r:.2f}" for r in probes.spectral_radius)
        measured = f"{typeset('ρ(W_hh)')} = {_value(radius)} measured now (> 1 can explode; not the gain) · "
    return f"{measured}{typeset('W_hh')} {setting}"


def model_html(view: ModelView, setup: ModelSetup, colour: str, diverged: str | None = None) -> str:
    """One model's block: its name, forward equations with gate means, the chain rule's line
    with its live numbers and rho (or what overflowed, if it diverged). The decay per step
    back is the column header's, not repeated here."""
    forward, backward = cell_equations(setup)
    lines = [f"<p style='margin:4px 0 2px 0'><b style='color:{colour}'>{html.escape(view.label)}</b></p>"]
    for line in forward:
        mean = gate_mean(view, line.gate) if line.gate else None
        value = _value(f"mean {typeset(_symbol(line.source))} = {mean:.2f}") if mean is not None else ""
        lines.append(_equation(line, value))
    if diverged is not None:
        lines.append(_equation(backward))
        lines.append(f"<div style='margin-left:16px'><b>diverged</b>: {html.escape(diverged)}</div>")
        return "".join(lines)
    values = backward_values(view, setup)
    lines.append(_equation(backward, _value(values[0]) if len(values) > 1 else ""))
    rest = values[1:] if len(values) > 1 else values
    lines.extend(f"<div style='margin-left:16px'>{_value(value)}</div>" for value in rest)
    radius = radius_line(view, setup)
    if radius:
        lines.append(f"<div style='margin-left:16px'>{radius}</div>")
    return "".join(lines)
