"""Each model's headline: the facts its column header states, in words a lecturer can quote.

One definition for the window's column header and for ``gradviz train``'s summary, so the
numbers a room reads on the projector are the numbers a headless run prints:

- the loss, the mean over the last ``plotmath.RECENT_STEPS`` steps, against the task's memoryless
  baseline ("below", "at" or "above" it);
- how the decision gradient changes per timestep back: the median half-life of the recent
  records, two regimes where most of them had two, through C_t for an LSTM;
- why steps are empty: underflow, truncation or overflow, never lumped together;
- the mean forget gate and the measured per-step Jacobian factor of a gated cell (what really
  multiplies its gradient; rho(W_hh) is only the RNN's story);
- or that the model diverged.

Plain text, no Qt: the window adds colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradviz.plotmath import recent_loss, verdict
from gradviz.probes.causes import OVERFLOW, TRUNCATED, UNDERFLOW, count
from gradviz.probes.halflife import describe_decay, stable_decay
from gradviz.session.frames import ModelView


@dataclass(frozen=True)
class Headline:
    """One model's header facts. ``diverged``: the facts end with its divergence."""

    facts: tuple[str, ...]
    diverged: bool

    def text(self) -> str:
        return " · ".join(self.facts + (("DIVERGED",) if self.diverged else ()))


def loss_verdict(losses: np.ndarray, baseline_loss: float) -> str | None:
    """"loss 0.05 (below baseline 0.167)" from the recent finite losses, or None before any."""
    loss = recent_loss(losses)
    if loss is None:
        return None
    return f"loss {loss:.3g} ({verdict(loss, baseline_loss)} baseline {baseline_loss:.3g})"


def quoted_decay(view: ModelView):
    """The decay a header quotes: the median of the recent records (one record is one batch,
    and the number should hold still while the picture does), else the latest record's."""
    history = view.history
    if len(history.get("half_life", ())):
        return stable_decay(history["half_life"], history.get("near_half_life"), history.get("near_steps"))
    return view.latest.probes.decay


def gradient_facts(view: ModelView) -> list[str]:
    """The gradient's facts from the latest record and the recorded history of one model."""
    probes = view.latest.probes if view.latest is not None else None
    if probes is None:
        return []
    decay = quoted_decay(view)
    path = "through C_t, " if probes.grad_c is not None else ""
    facts = [path + describe_decay(decay)]
    causes = probes.grad_cause if probes.grad_cause is not None else np.empty(0, np.int8)
    for cause, words in ((UNDERFLOW, "underflow to 0"), (TRUNCATED, "cut by truncation"),
                         (OVERFLOW, "overflow (inf/NaN)")):
        steps = count(causes, cause) if causes.size else (probes.underflow_steps if cause == UNDERFLOW else 0)
        if steps:
            facts.append(f"{steps} steps {words}")
    if "forget" in probes.gate_means:
        facts.append(f"mean f_t {float(np.mean(probes.gate_means['forget'][-1])):.2f}")
    if view.kind != "rnn" and probes.step_factor is not None and np.isfinite(probes.step_factor[-1]):
        symbol = "|dC_t/dC_t-1|" if view.kind == "lstm" else "|dh_t/dh_t-1|"
        facts.append(f"{symbol} {float(probes.step_factor[-1]):.2f} per step")
    return facts


def has_diverged(view: ModelView, losses: np.ndarray) -> bool:
    """Has the model diverged? Its last loss is not finite, recorded step or not (records come
    every k steps; the diverging step itself is often not one of them), or its record says so."""
    return bool((view.latest is not None and view.latest.diverged) or (len(losses) and not np.isfinite(losses[-1])))


def headline(view: ModelView, losses: np.ndarray, baseline_loss: float) -> Headline:
    """Model ``view``'s headline; ``losses`` is its training loss per step so far."""
    facts = []
    verdict = loss_verdict(losses, baseline_loss)
    if verdict is not None:
        facts.append(verdict)
    diverged = has_diverged(view, losses)
    if diverged:
        facts.append("the gradient overflowed (inf/NaN)")
    else:
        facts.extend(gradient_facts(view))
    return Headline(tuple(facts), diverged)
