"""Small measurements shared by ``gradviz bench`` and its window part: percentiles, the
"insight" criterion (the LSTM's mean loss below half the baseline) and the bench children's
output line. No Qt and no bench machinery, so that both sides import it and not each other."""

from __future__ import annotations

import math

from gradviz.config import RunConfig

INSIGHT_WINDOW = 20  # steps in the moving average of the loss
CHILD_MARK = "GRADVIZ_BENCH_JSON "  # a bench child prints its numbers on a line starting so


def lstm_index(config: RunConfig) -> int:
    kinds = [setup.model.kind for setup in config.models]
    return kinds.index("lstm") if "lstm" in kinds else 0


def insight_reached(losses, threshold: float) -> bool:
    """Whether the last INSIGHT_WINDOW losses (a 1-d array) average below ``threshold``."""
    return len(losses) >= INSIGHT_WINDOW and float(sum(losses[-INSIGHT_WINDOW:])) / INSIGHT_WINDOW < threshold


def percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, math.ceil(percent / 100 * len(ordered)) - 1))
    return ordered[rank]
