"""The half-life of the gradient going back in time: a number a lecturer can quote.

A profile is a gradient norm per timestep, t = 1 (earliest) ... T (nearest the loss). Its
half-life is the number of timesteps over which it halves going back: positive when the
gradient vanishes, negative when it grows going back (exploding), ``inf`` when it is flat,
``nan`` when fewer than two steps carry a measurable value (below).

Three things make the number trustworthy:

- a robust line (Theil-Sen: the median of all pairwise slopes of log10 norm against t), so
  one odd step does not swing it;
- "flat" when the slope cannot be told apart from the scatter around the line, or when the
  line changes the gradient by less than 1.25x over the whole fitted span (a slope that
  small is noise, whatever its sign);
- two regimes: where one straight line fits badly and two fit well (flat near the loss, then
  a fall, say), the half-life is the one of the part further back, which memory has to
  cross, and the nearer part is reported beside it.

A header quotes a rate made from the same measurements as the gain beside it
(``agreeing_decay``): the recent records' gains, their range ("unsteady") where followed over
the profile they predict gradients more than ``UNSTEADY_DECADES`` apart, else the gain's own
rate (or the fit's two regimes where the gain lies between them). The half-life plot draws
each record's fitted half-life, which may differ from the header's rate.

``measured_gain`` is the factor the gradient really takes per step back: the geometric mean
of |dl/dh_t| / |dl/dh_{t+1}| over the profile's usable neighbours. The Jacobian's norm
(``jacobian.py``) only bounds it.

Only a measurable gradient counts, in the fit and in the gain: a finite value at least float32's
smallest normal number (``FLOAT32_TINY``, 1.18e-38). Below it a gradient is 0 on the CPU
(subnormals are flushed) and a few units of the last place elsewhere: a ratio of two such values
is no gain, and steps there say only that the gradient reached the floor.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from gradviz.probes.causes import FLOAT32_TINY

FLAT_CHANGE = math.log10(1.25)  # less change than this over the fitted span is "flat"
SIGNIFICANCE = 2.0  # a slope within this many standard errors of 0 is "flat"
MIN_REGIME = 6  # timesteps each regime must span
REGIME_GAIN = 0.2  # two lines must leave at most this fraction of one line's squared error
REGIME_CONTRAST = 1.0  # ... and differ by at least 10x (log10 1) over the shorter regime
RECENT_RECORDS = 5  # the header quotes the median of this many recent records
UNSTEADY_DECADES = 1.0  # recent records further apart than this at the profile's far end: a range
REGIME_TOLERANCE = 0.02  # a gain within 2% of the range of two regimes' factors lies between them


def measurable(profile: np.ndarray) -> np.ndarray:
    """Bool, like ``profile``: finite and at least float32's smallest normal number (a gain can
    be measured from it; below it, 0 or subnormal, the gradient is at the floor)."""
    profile = np.asarray(profile, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.isfinite(profile) & (profile >= FLOAT32_TINY)


@dataclass(frozen=True)
class Decay:
    """A fitted profile: ``half_life`` of the far (or only) regime, and where there are two,
    the half-life of the ``near_steps`` timesteps nearest the loss."""

    half_life: float
    near_half_life: float = math.nan
    near_steps: int = 0
    spread: tuple[float, float] | None = None  # unsteady: the (fastest, slowest) recent half-lives


@functools.lru_cache(maxsize=16)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The index pairs i < j of n points (the same few n come back at every recorded step)."""
    return np.triu_indices(n, k=1)


def _theil_sen(t: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of the Theil-Sen line through (t, y)."""
    i, j = _pairs(len(t))
    slopes = np.subtract(y[j], y[i])
    slopes /= np.subtract(t[j], t[i])
    slope = float(np.median(slopes, overwrite_input=True))  # the slopes are ours to reorder
    return slope, float(np.median(y - slope * t))


def _slope(t: np.ndarray, y: np.ndarray) -> float:
    """The least-squares slope of y against t (what np.polyfit(t, y, 1)[0] gives, to rounding,
    without its SVD)."""
    centred = t - t.mean()
    return float(np.dot(centred, y - y.mean()) / np.dot(centred, centred))


def _segment_half_life(t: np.ndarray, y: np.ndarray) -> float:
    """Half-life (timesteps) of log10 values y at steps t; inf when flat (see module doc)."""
    if len(t) < 2:
        return math.nan
    slope, intercept = _theil_sen(t, y)
    residuals = y - (slope * t + intercept)
    scatter = 1.4826 * float(np.median(np.abs(residuals - np.median(residuals))))
    spread = float(np.sqrt(np.sum((t - t.mean()) ** 2)))
    standard_error = scatter / spread if spread > 0 else math.inf
    span = float(t[-1] - t[0])
    if abs(slope) * span < FLAT_CHANGE or abs(slope) < SIGNIFICANCE * standard_error:
        return math.inf
    return math.log10(2.0) / slope


def _line_errors(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Squared error of a least-squares line through the first k points, for every k."""
    n = np.arange(1, len(t) + 1, dtype=np.float64)
    st, sy = np.cumsum(t), np.cumsum(y)
    stt, sty, syy = np.cumsum(t * t), np.cumsum(t * y), np.cumsum(y * y)
    var_t = stt - st * st / n
    cov = sty - st * sy / n
    var_y = syy - sy * sy / n
    with np.errstate(divide="ignore", invalid="ignore"):
        explained = np.where(var_t > 0, cov * cov / var_t, 0.0)
    return np.maximum(var_y - explained, 0.0)


def _best_break(t: np.ndarray, y: np.ndarray) -> int | None:
    """Index where two lines (before, from it on) fit much better than one; None if not."""
    n = len(t)
    if n < 2 * MIN_REGIME:
        return None
    before = _line_errors(t, y)  # before[k - 1]: first k points
    after = _line_errors(t[::-1], y[::-1])[::-1]  # after[k]: points k .. n-1
    ks = np.arange(MIN_REGIME, n - MIN_REGIME + 1)
    total = before[ks - 1] + after[ks]
    k = int(ks[np.argmin(total)])
    one = before[-1]
    if one <= 0 or total.min() > REGIME_GAIN * one:
        return None
    far, near = _slope(t[:k], y[:k]), _slope(t[k:], y[k:])
    shorter = min(t[k - 1] - t[0], t[-1] - t[k])
    if abs(far - near) * shorter < REGIME_CONTRAST:
        return None
    return k


def fit_decay(profile: np.ndarray, usable: np.ndarray | None = None) -> Decay:
    """Fit a profile over its steps with a measurable norm (and ``usable``, say inside the
    truncation window); see the module docstring."""
    profile = np.asarray(profile, dtype=np.float64)
    keep = measurable(profile)
    if usable is not None:
        keep &= np.asarray(usable, dtype=bool)
    t = np.nonzero(keep)[0].astype(np.float64)
    if len(t) < 2:
        return Decay(math.nan)
    y = np.log10(profile[keep])
    k = _best_break(t, y)
    if k is None:
        return Decay(_segment_half_life(t, y))
    return Decay(_segment_half_life(t[:k], y[:k]), _segment_half_life(t[k:], y[k:]), len(t) - k)


def half_life(profile: np.ndarray, usable: np.ndarray | None = None) -> float:
    """The half-life of ``fit_decay``: of the far regime where there are two."""
    return fit_decay(profile, usable).half_life


def stable_half_life(values: np.ndarray, recent: int = RECENT_RECORDS) -> float:
    """The median of the last ``recent`` recorded half-lives (NaN ones left out): one record is
    one batch, and the header should not jump while the picture stays the same. NaN when the
    latest is: no gradient reaches the sequence now, whatever earlier records said."""
    values = np.asarray(values, dtype=np.float64)[-recent:]
    if not values.size or np.isnan(values[-1]):
        return math.nan
    values = values[~np.isnan(values)]
    return float(np.median(values)) if values.size else math.nan


def _rate(value: float) -> str:
    """How the gradient changes per step back, in the words that fit its speed: a half-life
    for a slow change, a tenfold distance from 2 steps, and below that the factor of one step
    ("falls 10x every 1 timesteps" is a factor nobody reads as 0.1 per step)."""
    grows = value < 0
    steps = abs(value)
    if steps >= 3:
        return f"{'doubles' if grows else 'halves'} every {steps:.3g} timesteps back"
    tenfold = steps * math.log2(10.0)
    if tenfold >= 2:
        return f"{'grows' if grows else 'falls'} 10x every {tenfold:.2g} timesteps back"
    factor = 2.0 ** (1.0 / steps) if grows else 2.0 ** (-1.0 / steps)
    return f"{'grows' if grows else 'shrinks'} x{factor:.2g} per timestep back"


def describe_half_life(value: float) -> str:
    """The sentence a lecturer can quote for one half-life."""
    if math.isnan(value):
        return "no gradient reaches the sequence"
    if math.isinf(value):
        return "the gradient is flat through time"
    return f"the gradient {_rate(value)}"


def per_step_factor(value: float) -> float:
    """The factor per timestep back of a half-life: 2^(-1/h); 1 when flat."""
    return 1.0 if math.isinf(value) else 2.0 ** (-1.0 / value)


def describe_decay(decay: Decay) -> str:
    """One half-life, or both regimes: "flat over the last 40 timesteps, then falls 10x ...";
    an unsteady one as the range of its per-step factors."""
    if decay.spread is not None:
        low, high = sorted(per_step_factor(value) for value in decay.spread)
        return f"the gradient is unsteady: x{low:.2g} to x{high:.2g} per timestep back"
    if not decay.near_steps:
        return describe_half_life(decay.half_life)
    near = "is flat" if math.isinf(decay.near_half_life) else _rate(decay.near_half_life)
    far = "flat" if math.isinf(decay.half_life) else _rate(decay.half_life)
    last = f"{decay.near_steps} timesteps" if decay.near_steps != 1 else "timestep"
    return f"the gradient {near} over the last {last}, then {far}"


def unsteady_spread(half_lives: np.ndarray, span: int, recent: int = RECENT_RECORDS) -> tuple[float, float] | None:
    """(fastest, slowest) of the recent half-lives where they disagree: where, followed over
    ``span`` timesteps, they predict gradients more than ``UNSTEADY_DECADES`` apart (one says
    "flat", another "falls 10x every 20 timesteps" on a 50-step profile); None if they agree."""
    values = np.asarray(half_lives, dtype=np.float64)[-recent:]
    if not values.size or np.isnan(values[-1]):
        return None  # no gradient reaches now: nothing to give a range of
    values = values[~np.isnan(values)]
    if values.size < 2 or span < 2:
        return None
    rates = np.log10(2.0) / values  # decades per timestep back; 0 when flat (inf)
    if (rates.max() - rates.min()) * (span - 1) <= UNSTEADY_DECADES:
        return None
    return float(values[np.argmax(rates)]), float(values[np.argmin(rates)])


def measured_gains(profiles: np.ndarray, usable: np.ndarray | None = None) -> np.ndarray:
    """(N,) for (N, T) profiles: the geometric mean of p[t] / p[t+1] over the neighbours t, t+1
    that are both usable (measurable, and ``usable``): the factor the gradient really took per
    step back, on average over the profile. NaN where no two neighbours are usable."""
    profiles = np.atleast_2d(np.asarray(profiles, dtype=np.float64))
    keep = measurable(profiles)
    if usable is not None:
        keep &= np.asarray(usable, dtype=bool)
    logs = np.log(np.where(keep, profiles, 1.0))
    pairs = keep[:, :-1] & keep[:, 1:]
    steps = pairs.sum(axis=1)
    total = np.where(pairs, logs[:, :-1] - logs[:, 1:], 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(steps > 0, np.exp(total / np.maximum(steps, 1)), np.nan)


def measured_gain(profile: np.ndarray, usable: np.ndarray | None = None) -> float:
    """The measured gain per step back of one profile (see ``measured_gains``)."""
    return float(measured_gains(profile, None if usable is None else np.atleast_2d(usable))[0])


def stable_decay(
    half_lives: np.ndarray, near_half_lives: np.ndarray | None = None, near_steps: np.ndarray | None = None,
    recent: int = RECENT_RECORDS, span: int = 0,
) -> Decay:
    """What a header quotes from the recorded series: the median half-life of the recent
    records, and two regimes only where most of them had two (then their medians); where the
    recent records disagree over a profile of ``span`` timesteps, their range instead."""
    spread = unsteady_spread(half_lives, span, recent)
    if spread is not None:
        return Decay(stable_half_life(half_lives, recent), spread=spread)
    far = stable_half_life(half_lives, recent)
    if near_half_lives is None or near_steps is None or not len(near_steps):
        return Decay(far)
    steps = np.asarray(near_steps)[-recent:]
    two = steps > 0
    if np.count_nonzero(two) * 2 <= len(steps):
        return Decay(far)
    near = np.asarray(near_half_lives, dtype=np.float64)[-recent:][two]
    return Decay(far, float(np.median(near)), int(np.median(steps[two])))


def gain_half_life(gain: float, span: int = 0) -> float:
    """The half-life of a gain per step back (log 2 / -log gain: negative when it grows), ``inf``
    (flat) where followed over ``span`` timesteps it changes the gradient less than 1.25x; NaN
    for no gain."""
    if not np.isfinite(gain) or gain <= 0:
        return math.nan
    decades = abs(math.log10(gain))
    if decades * max(span - 1, 1) < FLAT_CHANGE:
        return math.inf
    return math.log10(2.0) / -math.log10(gain)


def recent_gain(gains: np.ndarray, recent: int = RECENT_RECORDS) -> float:
    """The gain a header quotes: the median over the ``recent`` records that have one; NaN if
    none, or if the latest has none (no two neighbouring steps carry a gradient now)."""
    gains = np.asarray(gains, dtype=np.float64)[-recent:]
    if not gains.size or not np.isfinite(gains[-1]):
        return math.nan
    return float(np.median(gains[np.isfinite(gains)]))


def _between(gain: float, decay: Decay) -> bool:
    """Does ``gain`` lie between the factors of the two regimes of ``decay`` (to 2%)?"""
    low, high = sorted(per_step_factor(value) for value in (decay.half_life, decay.near_half_life))
    return low * (1 - REGIME_TOLERANCE) <= gain <= high * (1 + REGIME_TOLERANCE)


def agreeing_decay(fitted: Decay, gains: np.ndarray, span: int, recent: int = RECENT_RECORDS) -> Decay:
    """What a header quotes beside the gain of the same records (the median of the recent
    ``gains``), made from the same measurements so that the two cannot contradict:

    - where the recent gains, followed over ``span`` timesteps, predict gradients more than
      ``UNSTEADY_DECADES`` apart: "unsteady", their range (the quoted gain lies inside it);
    - two regimes of ``fitted`` (``stable_decay``'s) where the gain lies between their factors:
      the average of a steep and a gentle part lies between them;
    - else the rate of the gain itself ("falls 10x every 8 timesteps back" beside "gain x0.75").

    ``fitted`` as it is where the latest record has no gain (no two measurable neighbours)."""
    gain = recent_gain(gains, recent)
    if math.isnan(gain) or math.isnan(fitted.half_life):
        return fitted
    half_lives = np.array([gain_half_life(value, span) for value in np.asarray(gains, dtype=np.float64)[-recent:]])
    spread = unsteady_spread(half_lives, span, recent)
    if spread is not None:
        return Decay(fitted.half_life, spread=spread)
    if fitted.near_steps and fitted.spread is None and _between(gain, fitted):
        return fitted
    return Decay(gain_half_life(gain, span))


def floor_step(profile: np.ndarray, at_floor: np.ndarray) -> int | None:
    """The timestep (t = 1 ... T) nearest the loss where the gradient, followed back, is at the
    floor: the last step of ``at_floor`` (underflowed: 0 or subnormal) with a measurable step
    after it; None where it never reaches the floor."""
    profile = np.asarray(profile, dtype=np.float64)
    below = np.asarray(at_floor, dtype=bool) & ~measurable(profile)
    seen = np.logical_or.accumulate(measurable(profile)[::-1])[::-1]  # a measurable step at or after t
    after = np.append(seen[1:], False)
    steps = np.nonzero(below & after)[0]
    return int(steps[-1]) + 1 if steps.size else None
