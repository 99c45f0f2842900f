"""A reproduction's file: every finished run, saved the moment it finishes, and the summary
that puts the paper's number beside gradviz's.

The file is JSON (``gradviz-reproduction/1``), written atomically after each run: the name, and
per run its arm, seed, the exact RunConfig it trained and what it scored. Running the same
command again resumes it: a run whose arm, seed and config are already there is not trained
again; a file whose runs were made with other settings is refused, never mixed in.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from gradviz.config import ConfigError, RunConfig
from gradviz.reproduce.papers import SUCCESS, TABLE7_SEQUENCES, Reproduction
from gradviz.reproduce.scoring import SOLVED, RunScore

FORMAT = "gradviz-reproduction/1"
MAX_FILE_BYTES = 16 * 2**20  # a reproduction of 1000 seeds is well under 1 MB


class ReproductionFileError(ValueError):
    """A reproduction file that cannot be resumed; the message says why."""


Run = tuple[int, int]  # (arm index, seed)


class ReproductionResults:
    """The finished runs of one reproduction over seeds 0..seeds-1."""

    def __init__(self, reproduction: Reproduction, seeds: int) -> None:
        self.reproduction = reproduction
        self.seeds = seeds
        self.runs: dict[Run, RunScore] = {}
        self.extra: list[dict] = []  # runs of the file beyond these seeds: kept, not shown

    def pending(self) -> list[Run]:
        """Runs still to train, seed by seed (every arm of seed 0 first: a short run says most)."""
        arms = range(len(self.reproduction.arms))
        return [(arm, seed) for seed in range(self.seeds) for arm in arms if (arm, seed) not in self.runs]

    @property
    def total(self) -> int:
        return self.seeds * len(self.reproduction.arms)

    def record(self, run: Run, score: RunScore) -> None:
        self.runs[run] = score

    def config(self, run: Run) -> RunConfig:
        arm, seed = run
        return self.reproduction.arms[arm].config(seed)

    # ---- the file ----------------------------------------------------------------------

    def to_json(self) -> str:
        runs = [{"arm": self.reproduction.arms[arm].label, "seed": seed, "config": self.config((arm, seed)).to_dict(),
                 **score.to_dict()} for (arm, seed), score in sorted(self.runs.items())]
        data = {"format": FORMAT, "name": self.reproduction.name, "quick": self.reproduction.quick,
                "runs": runs + self.extra}
        return json.dumps(data, indent=1, allow_nan=True)

    def save(self, path: str | os.PathLike) -> Path:
        from gradviz.io.atomic import atomic_write

        text = self.to_json().encode("utf-8")
        return atomic_write(path, lambda stream: stream.write(text), force=True)

    @classmethod
    def load(cls, path: str | os.PathLike, reproduction: Reproduction, seeds: int) -> ReproductionResults:
        """The runs of ``path`` for ``reproduction``; ReproductionFileError if it is damaged or
        holds another reproduction, or runs made with other settings."""
        path = Path(path)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ReproductionFileError(f"{path} is {path.stat().st_size} bytes, too large for a reproduction")
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            if isinstance(exc, ReproductionFileError):
                raise
            raise ReproductionFileError(f"{path} is not a readable reproduction file ({exc!s:.120})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ReproductionFileError(f"{path} is not a gradviz reproduction file")
        if data.get("name") != reproduction.name or data.get("quick") != reproduction.quick:
            what = f"{data.get('name')!s:.40}{' --quick' if data.get('quick') else ''}"
            raise ReproductionFileError(f"{path} holds the reproduction {what}, not {reproduction.name}"
                                        f"{' --quick' if reproduction.quick else ''}")
        results = cls(reproduction, seeds)
        labels = {arm.label: index for index, arm in enumerate(reproduction.arms)}
        runs = data.get("runs")
        if not isinstance(runs, list):
            raise ReproductionFileError(f"{path} has no list of runs")
        for item in runs:
            results._take(path, item, labels)
        return results

    @classmethod
    def open(cls, path: str | os.PathLike) -> ReproductionResults:
        """Whatever reproduction ``path`` holds, with the seeds it has (0..the highest finished),
        checked as ``load`` checks a file to resume: ReproductionFileError if it is not one."""
        path = Path(path)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ReproductionFileError(f"{path} is {path.stat().st_size} bytes, too large for a reproduction")
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            if isinstance(exc, ReproductionFileError):
                raise
            raise ReproductionFileError(f"{path} is not a readable reproduction file ({exc!s:.120})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("runs"), list):
            raise ReproductionFileError(f"{path} is not a gradviz reproduction file")
        from gradviz.reproduce.papers import reproduction

        try:
            chosen = reproduction(data.get("name"), data.get("quick") is True)
        except (ValueError, TypeError):
            raise ReproductionFileError(f"{path} holds an unknown reproduction ({data.get('name')!s:.40})") from None
        seeds = [item.get("seed") for item in data["runs"] if isinstance(item, dict)]
        top = max((seed for seed in seeds if isinstance(seed, int) and not isinstance(seed, bool)), default=-1)
        return cls.load(path, chosen, min(top + 1, 10_000))

    def _take(self, path: Path, item, labels: dict[str, int]) -> None:
        try:
            arm, seed = labels[item["arm"]], item["seed"]
            if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
                raise TypeError("seed")
            score = RunScore(**{name: item[name] for name in RunScore.__dataclass_fields__})
            for name, value in score.to_dict().items():
                if isinstance(value, bool) != (name == "diverged") or not isinstance(value, (int, float)):
                    raise TypeError(name)
            stored = RunConfig.from_dict(item["config"])
        except (KeyError, TypeError, ConfigError) as exc:
            raise ReproductionFileError(f"{path} has a damaged run ({exc!s:.80})") from None
        if seed >= self.seeds:
            self.extra.append(item)
            return
        if stored != self.config((arm, seed)):
            raise ReproductionFileError(f"{path} was made with other settings ({item['arm']}, seed {seed}); "
                                        "use --force to start over or another --out")
        self.runs[(arm, seed)] = score

    # ---- the summary -------------------------------------------------------------------

    def values(self, arm: int) -> np.ndarray:
        """The finished seeds' scores of one arm."""
        return np.array([m.value for (a, _), m in sorted(self.runs.items()) if a == arm], dtype=np.float64)

    def summary_lines(self) -> list[str]:
        """Per arm: the paper's number and gradviz's (median and range over the finished seeds)."""
        reproduction = self.reproduction
        lines = [f"{reproduction.title}", f"  paper: {reproduction.source}: {reproduction.found}"]
        for index, arm in enumerate(reproduction.arms):
            values = self.values(index)
            lines.append(f"  {arm.label}: paper {arm.paper} · gradviz {describe(values, arm.score, reproduction.name)}")
        if reproduction.quick:
            lines.append("  (--quick: small, short runs that show the machinery, not the paper's numbers)")
        return lines


def describe(values: np.ndarray, score: str, name: str = "") -> str:
    """gradviz's numbers of one arm in words: median and range over the seeds that finished."""
    count = len(values)
    if not count:
        return "no seed finished yet"
    if score == SOLVED:
        solved = values[np.isfinite(values)]
        # An unsolved run took longer than any solved one: it sorts last, as inf.
        median = float(np.median(np.where(np.isfinite(values), values, math.inf)))
        within = int((solved <= 2 * TABLE7_SEQUENCES).sum()) if name == "table7" else None
        said = (f"median {_count(median)} sequences" if math.isfinite(median) else "median: not solved")
        if solved.size:
            said += f" (solved: {_count(solved.min())} to {_count(solved.max())})"
        said += f" over {count} seed{'s' if count > 1 else ''}, solved in {solved.size} of {count}"
        if within is not None:
            said += f", within {2 * TABLE7_SEQUENCES:,} (2x the paper) in {within} of {count}"
        return said
    diverged = int(np.isinf(values).sum())
    finite = values[np.isfinite(values)]
    said = f"final loss median {_ratio(float(np.median(values)))}"
    if finite.size > 1:
        said += f" (range {_ratio(finite.min())} to {_ratio(finite.max())})"
    said += f" over {count} seed{'s' if count > 1 else ''}"
    if name == "bengio1994":
        said += f", learned (below {SUCCESS:g}x) in {int((values < SUCCESS).sum())} of {count}"
    if diverged:
        said += f", diverged in {diverged} of {count}"
    return said


def _count(value: float) -> str:
    return f"{int(value):,}"


def _ratio(value: float) -> str:
    return "inf (diverged)" if math.isinf(value) else f"{value:.3g}x baseline"
