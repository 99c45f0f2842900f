"""What the window's figure of a reproduction shows, as numbers (no Qt): per arm, every seed's
score, their median and range, and the paper's number where it gives one.

Two kinds of axes, chosen by what the paper measured:
    success against T  (bengio1994): per model, the fraction of seeds that learned at each T
    one score per arm  (table7, le2015, pascanu2013): training sequences until solved, or the
                       final loss over the memoryless baseline, each arm at its own place on x
A run that never solved (NaN) or diverged (inf) has no finite score: it is counted, and drawn
above the others, never as a number it did not reach.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from gradviz.reproduce.papers import SUCCESS
from gradviz.reproduce.results import ReproductionResults
from gradviz.reproduce.scoring import SOLVED

SUCCESS_AGAINST_T = ("bengio1994",)  # reproductions whose paper plots success against the span T


@dataclass(frozen=True)
class ArmPoints:
    """One arm's scores: ``seeds`` as in the file (NaN: not solved, inf: diverged)."""

    label: str
    seeds: np.ndarray
    median: float  # over every finished seed, a lost one counting as the largest; NaN if none finished or lost
    low: float  # the smallest and largest finite score (NaN if none)
    high: float
    paper: float  # the paper's number (NaN: the paper gives none for this arm)
    paper_said: str


@dataclass(frozen=True)
class SuccessSeries:
    """One model's success rate at each T (bengio1994)."""

    label: str
    lengths: np.ndarray
    success: np.ndarray  # learned seeds / finished seeds; NaN where none finished
    finished: np.ndarray  # seeds finished at each T
    paper: np.ndarray  # the paper's success rate at each T (NaN: none given)


def cite(results: ReproductionResults) -> str:
    """The paper in a few words, with its table or figure: 'Hochreiter & Schmidhuber 1997, Table 7'."""
    reproduction = results.reproduction
    authors = re.match(r".*?\d{4}", reproduction.title)
    where = re.search(r"\b(Table|Figure|section) [\d.]*\d", reproduction.source)
    text = authors.group(0) if authors else reproduction.title
    return f"{text}, {where.group(0)}" if where else text


def success_against_t(results: ReproductionResults) -> bool:
    return results.reproduction.name in SUCCESS_AGAINST_T


def arm_points(results: ReproductionResults) -> list[ArmPoints]:
    """Every arm's seeds, median and range, and the paper's number."""
    points = []
    for index, arm in enumerate(results.reproduction.arms):
        seeds = results.values(index)
        finite = seeds[np.isfinite(seeds)]
        median = float(np.median(np.where(np.isfinite(seeds), seeds, math.inf))) if seeds.size else math.nan
        points.append(ArmPoints(arm.label, seeds, median if math.isfinite(median) else math.nan,
                                float(finite.min()) if finite.size else math.nan,
                                float(finite.max()) if finite.size else math.nan,
                                arm.paper_value, arm.paper))
    return points


def success_series(results: ReproductionResults) -> list[SuccessSeries]:
    """Per model (the arm's label before ', T='), its success rate against T, as ``gradviz sweep``
    scores it: a run learned when its final loss is below SUCCESS x the baseline."""
    models: dict[str, list[tuple[float, np.ndarray, float]]] = {}
    for index, arm in enumerate(results.reproduction.arms):
        model = arm.label.rsplit(", T=", 1)[0]
        models.setdefault(model, []).append((arm.x, results.values(index), arm.paper_value))
    series = []
    for model, arms in models.items():
        arms.sort(key=lambda entry: entry[0])
        finished = np.array([len(values) for _, values, _ in arms])
        learned = np.array([int((values < SUCCESS).sum()) for _, values, _ in arms])
        with np.errstate(invalid="ignore", divide="ignore"):
            success = np.where(finished > 0, learned / np.maximum(finished, 1), np.nan)
        series.append(SuccessSeries(model, np.array([x for x, _, _ in arms]), success, finished,
                                    np.array([paper for _, _, paper in arms])))
    return series


def score_name(results: ReproductionResults) -> str:
    """The y axis of a one-score-per-arm figure."""
    if results.reproduction.arms[0].score == SOLVED:
        return "training sequences until solved"
    return "final loss / memoryless baseline"
