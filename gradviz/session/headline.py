"""Each model's headline: the facts its column header states, in words a lecturer can quote.

One definition for the window's column header and for ``gradviz train``'s summary, so the
numbers a room reads on the projector are the numbers a headless run prints:

- the loss, the mean over the last ``plotmath.RECENT_STEPS`` steps, against the task's memoryless
  baseline ("below", "at" or "above" it);
- how the decision gradient changes per timestep back, through C_t for an LSTM, in agreement
  with the gain beside it (``halflife.agreeing_decay``): the range of the recent records' gains
  where they disagree ("unsteady"), two regimes where most of them had two and the gain lies
  between them, else the gain's own rate; and where it reaches float32's floor (below
  1.18e-38 no gain is measured: those steps are only "at the floor");
- why steps are empty: underflow, saturation (a zero Jacobian), truncation or overflow, never
  lumped together;
- the mean forget gate of an LSTM;
- the measured gain: the factor the plotted gradient really takes per step back (the median
  of the recent records' geometric means). Jacobian norms and rho(W_hh) only bound it; the
  factor plot and the equations panel show them, named as bounds;
- or that the model diverged, when and what overflowed;
- for a task with a tolerance, once every held-out sequence is within it: "solved at 121k
  sequences" (engine/solved.py).

Plain text, no Qt: the window adds colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradviz.plotmath import recent_loss, verdict
from gradviz.probes.causes import COUNTED, FINITE, UNDERFLOW, count
from gradviz.probes.halflife import (
    RECENT_RECORDS,
    agreeing_decay,
    describe_decay,
    floor_step,
    measurable,
    recent_gain,
    stable_decay,
)
from gradviz.session.frames import ModelView, ShownProfile


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
    """The decay a header quotes: from the recent records (one record is one batch, and the
    number should hold still while the picture does), in agreement with the gain quoted beside
    it (``halflife.agreeing_decay``); else the latest record's."""
    history = view.history
    if len(history.get("half_life", ())):
        span = view.latest.probes.grad_h.shape[1] if view.latest is not None and view.latest.probes else 0
        fitted = stable_decay(history["half_life"], history.get("near_half_life"), history.get("near_steps"),
                              span=span)
        gains = view.recorded_gains
        return agreeing_decay(fitted, gains, span) if len(gains) == len(history["half_life"]) else fitted
    return view.latest.probes.decay


def quoted_gain(view: ModelView, recent: int = RECENT_RECORDS) -> float:
    """The gain a header quotes (``halflife.recent_gain`` of the view's recorded gains)."""
    return recent_gain(view.recorded_gains, recent)


def describe_gain(gain: float) -> str:
    return f"gain x{gain:.3g} per step back"


def headline_profile(view: ModelView) -> np.ndarray | None:
    """The latest record's profile the decay and the gain are measured on: C_t's for an LSTM,
    the top layer's h_t's otherwise."""
    probes = view.latest.probes if view.latest is not None else None
    if probes is None:
        return None
    grads = probes.grad_c if view.kind == "lstm" and probes.grad_c is not None else probes.grad_h
    return np.asarray(grads)[-1]


def floor_fact(view: ModelView, causes: np.ndarray) -> str | None:
    """"reaches the float32 floor at t = 23" where the latest profile, followed back from the
    loss, underflows (to 0, or below float32's smallest normal) after measurable steps."""
    profile = headline_profile(view)
    if profile is None or causes.shape != profile.shape:
        return None
    step = floor_step(profile, (causes == UNDERFLOW) | (causes == FINITE))
    return f"reaches the float32 floor at t = {step}" if step is not None else None


def gradient_facts(view: ModelView) -> list[str]:
    """The gradient's facts from the latest record and the recorded history of one model."""
    probes = view.latest.probes if view.latest is not None else None
    if probes is None:
        return []
    decay = quoted_decay(view)
    path = "through C_t, " if probes.grad_c is not None else ""
    facts = [path + describe_decay(decay)]
    causes = probes.grad_cause if probes.grad_cause is not None else np.empty(0, np.int8)
    floor = floor_fact(view, causes)
    for cause, words in COUNTED.items():
        steps = count(causes, cause) if causes.size else (probes.underflow_steps if cause == UNDERFLOW else 0)
        counted = counted_steps(steps, words)
        if cause == UNDERFLOW and floor is not None:  # "reaches the float32 floor at t = 24: 24 steps ..."
            facts.append(f"{floor}: {counted}" if steps else floor)
        elif steps:
            facts.append(counted)
    if "forget" in probes.gate_means:
        facts.append(f"mean f_t {float(np.mean(probes.gate_means['forget'][-1])):.2f}")
    gain = quoted_gain(view)
    if np.isfinite(gain):
        facts.append(describe_gain(gain))
    return facts


def counted_steps(steps: int, words: str) -> str:
    """"1 step saturated", "49 steps saturated"."""
    return f"{steps} step{'s' if steps != 1 else ''} {words}"


def has_diverged(view: ModelView, losses: np.ndarray, grad_norms: np.ndarray | None = None) -> bool:
    """Has the model diverged? Its last loss (or gradient norm before clipping: a run of one model
    stops at the step whose gradient overflowed, its loss still finite) is not finite, recorded
    step or not (records come every k steps; the diverging step itself is often not one of
    them), or its record says so."""
    overflowed = grad_norms is not None and len(grad_norms) == len(losses) and len(losses) and \
        not np.isfinite(grad_norms[-1])
    return bool((view.latest is not None and view.latest.diverged) or (len(losses) and not np.isfinite(losses[-1]))
                or overflowed)


def divergence_fact(losses: np.ndarray, grad_norms: np.ndarray | None, steps: np.ndarray | None) -> str:
    """What overflowed first, and at which step: the loss, or (its loss still finite) the
    gradient norm before clipping."""
    bad_loss = ~np.isfinite(losses)
    bad_norm = ~np.isfinite(grad_norms) if grad_norms is not None and len(grad_norms) == len(losses) else bad_loss
    first = int(np.argmax(bad_loss | bad_norm)) if (bad_loss | bad_norm).any() else len(losses) - 1
    what = "the gradient norm" if not bad_loss[first] else "the loss"
    at = f" at step {int(steps[first])}" if steps is not None and len(steps) == len(losses) and first >= 0 else ""
    return f"{what} overflowed (inf/NaN){at}"


def diverged_note(divergence: str, shown: ShownProfile | None) -> str:
    """What a diverged model's gradient plot says beside what it draws: when it diverged and
    what overflowed (``divergence_fact``), and which record is drawn, with why its empty steps
    are empty ("step 30, its last finite record: 49 steps saturated (tanh' = 0)")."""
    lines = [f"Diverged: {divergence}."]
    if shown is None:
        return lines[0] + " No finite record to draw."
    carried = int(np.count_nonzero(measurable(shown.grad_h)))  # at or above float32's smallest normal
    parts = [counted_steps(carried, "with a gradient")]
    if shown.causes is not None:
        counts = {words: count(shown.causes, cause) for cause, words in COUNTED.items()}
        parts += [counted_steps(steps, words) for words, steps in counts.items() if steps]
    lines.append(f"Drawn: step {shown.step}, its last finite record: {', '.join(parts)}.")
    return "\n".join(lines)


def describe_solved(solved_at: float) -> str | None:
    """"solved at 121k sequences" (thousands, rounded down, from 10,000 on), or None: not solved."""
    if not np.isfinite(solved_at):
        return None
    count = int(solved_at)
    return f"solved at {count // 1000}k sequences" if count >= 10_000 else f"solved at {count:,} sequences"


def headline(view: ModelView, losses: np.ndarray, baseline_loss: float,
             grad_norms: np.ndarray | None = None, steps: np.ndarray | None = None) -> Headline:
    """Model ``view``'s headline; ``losses`` is its training loss per step so far (and
    ``grad_norms`` its gradient norms before clipping, ``steps`` their training steps)."""
    facts = []
    verdict = loss_verdict(losses, baseline_loss)
    if verdict is not None:
        facts.append(verdict)
    solved = describe_solved(view.solved_at)
    if solved is not None:
        facts.append(solved)
    diverged = has_diverged(view, losses, grad_norms)
    if diverged:
        facts.append(divergence_fact(np.asarray(losses), grad_norms, steps))
    else:
        facts.extend(gradient_facts(view))
    return Headline(tuple(facts), diverged)
