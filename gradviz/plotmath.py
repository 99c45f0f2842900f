"""Numbers made ready for a plot, shared by the live window (gui/plots) and the file figures
(figures/): no Qt here, so both layers can use one definition."""

from __future__ import annotations

import numpy as np


def finite_or_nan(values: np.ndarray) -> np.ndarray:
    """float copy with inf replaced by NaN, so curves break instead of blowing up the range."""
    values = np.array(values, dtype=np.float64)
    values[~np.isfinite(values)] = np.nan
    return values


def log10_or_nan(values: np.ndarray) -> np.ndarray:
    """log10 of a norm; exact zeros (underflow) and non-finite values become NaN."""
    values = np.array(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    good = np.isfinite(values) & (values > 0)
    out[good] = np.log10(values[good])
    return out
