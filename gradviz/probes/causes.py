"""Why a timestep shows no gradient: causes that a plot must not lump together.

A per-timestep gradient norm that is 0 or not finite has one of these causes:

- ``UNDERFLOW``: exactly 0 although a chain of non-zero factors reaches the step from the
  loss; their product fell below float32's smallest number. Only this is the vanishing
  gradient.
- ``SATURATED`` (tanh RNN), ``DEAD_RELU`` (ReLU RNN), ``SATURATED_GATES`` (LSTM, GRU): exactly 0
  because on every path back from the loss some step's Jacobian is exactly zero for the
  sequence (tanh' = 1 - h^2 is 0 on every unit; every ReLU is off; every gate derivative and
  carry factor is 0). A zero factor gives 0 in any precision, float64 too: the chain is cut,
  nothing underflowed.
- ``TRUNCATED``: truncated BPTT cut the path; no loss term in the step's window comes after it.
- ``PADDING``: NaN because every sequence of the batch is padding at that step (text).
- ``OVERFLOW``: inf or NaN from arithmetic: the gradient exploded.

``FINITE`` marks an ordinary positive number. ``classify`` gives each timestep its cause,
``cut_by_truncation`` the steps truncated BPTT cannot reach, ``cut_by_zero_jacobian`` the steps
that no sequence's chain of non-zero factors reaches.
"""

from __future__ import annotations

import numpy as np

# The precision policy's one underflow threshold, float32's smallest normal number (1.18e-38):
# below it a gradient counts as 0 on every device (boundary.flush_subnormal) and no gain is
# measured from it (halflife.measurable). Here, torch-free, for the window's process too.
FLOAT32_TINY = float(np.finfo(np.float32).tiny)

FINITE, UNDERFLOW, TRUNCATED, PADDING, OVERFLOW, SATURATED, DEAD_RELU, SATURATED_GATES = range(8)
CAUSE_NAMES = {
    FINITE: "",
    UNDERFLOW: "underflow to 0",
    TRUNCATED: "cut by truncation",
    PADDING: "padding",
    OVERFLOW: "overflow (inf/NaN)",
    SATURATED: "saturated: tanh' = 0",
    DEAD_RELU: "dead ReLU: ReLU' = 0",
    SATURATED_GATES: "saturated gates: Jacobian = 0",
}
ZERO_JACOBIAN_CAUSES = (SATURATED, DEAD_RELU, SATURATED_GATES)
# How a count of steps reads ("49 steps saturated (tanh' = 0)"), in the order a header lists them.
COUNTED = {
    UNDERFLOW: "underflow to 0",
    SATURATED: "saturated (tanh' = 0)",
    DEAD_RELU: "cut by dead ReLUs",
    SATURATED_GATES: "cut by saturated gates",
    TRUNCATED: "cut by truncation",
    OVERFLOW: "overflow (inf/NaN)",
}


def zero_jacobian_cause(kind: str, nonlinearity: str = "tanh") -> int:
    """The cause a zero Jacobian gets in a cell of this kind."""
    if kind == "rnn":
        return DEAD_RELU if nonlinearity == "relu" else SATURATED
    return SATURATED_GATES


def backward_cuts(steps: int, tbptt: int) -> np.ndarray:
    """(T,) bool: truncated BPTT detaches h_{t-1} before step t uses it (``models.cells._cut``):
    windows of k steps aligned to the end of the sequence."""
    t = np.arange(steps)
    return (t > 0) & ((steps - t) % tbptt == 0) if tbptt else np.zeros(steps, dtype=bool)


def cut_by_truncation(decision_steps: np.ndarray, tbptt: int) -> np.ndarray:
    """(T,) bool: steps no decision-loss term can reach under truncated BPTT with window k.

    Windows of k steps are aligned to the end of the sequence (as in ``models.cells._cut``):
    step t lies in window (T - 1 - t) // k, and a loss term at step s reaches t only if s >= t
    and s is in the same window. Without truncation nothing is cut.
    """
    decision_steps = np.asarray(decision_steps, dtype=bool)
    steps = len(decision_steps)
    if not tbptt or tbptt >= steps:
        return np.zeros(steps, dtype=bool)
    window = (steps - 1 - np.arange(steps)) // tbptt
    cut = np.ones(steps, dtype=bool)
    seen: set[int] = set()  # windows with a loss term at or after t, scanning t from the end
    for t in range(steps - 1, -1, -1):
        if decision_steps[t]:
            seen.add(int(window[t]))
        cut[t] = int(window[t]) not in seen
    return cut


def cut_by_zero_jacobian(
    zero_jacobian: np.ndarray, decision_steps: np.ndarray, tbptt: int = 0, counted: np.ndarray | None = None
) -> np.ndarray:
    """(T,) bool: steps that no counted sequence reaches along a chain of non-zero factors.

    ``zero_jacobian`` (T, B) says where step t's Jacobian back to t - 1 is exactly zero for
    sequence b; a decision-loss term at step s reaches t <= s unless some step u in (t, s] is
    such a zero or a truncation cut. ``counted`` (T, B): the sequences a step's batch mean
    counts (text: not padding there). The plotted norm is a mean over the batch, so its zero
    is a cut chain only where every counted sequence's chain is cut; where one sequence's chain
    of non-zero factors still reaches, its zero is underflow.
    """
    zero_jacobian = np.asarray(zero_jacobian, dtype=bool)
    steps, batch = zero_jacobian.shape
    decision = np.asarray(decision_steps, dtype=bool)
    passes = ~zero_jacobian & ~backward_cuts(steps, tbptt)[:, None]  # (T, B): t hands back to t - 1
    if passes.all():  # no chain is cut (the usual case): reached from the last decision step back
        reached_at = np.logical_or.accumulate(decision[::-1])[::-1]
        return ~reached_at if counted is None else ~(reached_at & np.asarray(counted, dtype=bool).any(axis=1))
    reached = np.zeros(batch, dtype=bool)
    cut = np.zeros(steps, dtype=bool)
    for t in range(steps - 1, -1, -1):
        if t + 1 < steps:
            reached &= passes[t + 1]
        reached |= decision[t]
        who = reached if counted is None else reached & np.asarray(counted[t], dtype=bool)
        cut[t] = not who.any()
    return cut


def classify(
    profile: np.ndarray, truncated: np.ndarray, padding: np.ndarray,
    chain_cut: np.ndarray | None = None, zero_cause: int = SATURATED,
) -> np.ndarray:
    """(T,) int8 cause of each timestep of a gradient-norm profile (see the module docstring);
    ``chain_cut`` (T,) from ``cut_by_zero_jacobian``, its zeros named ``zero_cause``."""
    profile = np.asarray(profile)
    causes = np.full(profile.shape, FINITE, dtype=np.int8)
    causes[~np.isfinite(profile)] = OVERFLOW
    causes[np.isnan(profile) & padding] = PADDING
    zero = (profile == 0) & ~truncated
    causes[zero] = UNDERFLOW
    if chain_cut is not None:
        causes[zero & np.asarray(chain_cut, dtype=bool)] = zero_cause
    causes[truncated & ~padding] = TRUNCATED
    return causes


def count(causes: np.ndarray, cause: int) -> int:
    return int(np.count_nonzero(np.asarray(causes) == cause))


def describe_cause(cause: int) -> str:
    return CAUSE_NAMES.get(int(cause), "")
