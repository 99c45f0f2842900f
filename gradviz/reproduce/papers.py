"""The reproductions: per paper, what it found (with its table or figure) and the runs that
measure the same thing here.

Each reproduction is a list of arms (one model and its settings, trained for a number of steps
and scored one way) run over seeds 0..N-1. ``--quick`` keeps every arm but makes it small and
short (a test runs it in seconds): its numbers show the machinery, not the paper.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

from gradviz.config import ModelConfig, ModelSetup, RunConfig, TaskConfig, TrainConfig
from gradviz.reproduce.scoring import FINAL_LOSS, SOLVED

TABLE7_SEQUENCES = 74_000  # Hochreiter & Schmidhuber 1997, Table 7: T = 100
TABLE7_CAP = 4 * TABLE7_SEQUENCES  # a run not solved by 4x the paper counts as not solved
SUCCESS = 0.1  # bengio1994: a run learned when its final loss is below 0.1x the baseline (as gradviz sweep)


@dataclass(frozen=True)
class Arm:
    """One model and how it is run: ``config(seed)`` is its one-model RunConfig."""

    label: str
    config: Callable[[int], RunConfig]
    steps: int
    score: str  # measure.SOLVED or measure.FINAL_LOSS
    paper: str  # the paper's number or finding for this arm, in words
    paper_value: float = math.nan  # the same as a number where the paper gives one (figures)
    x: float = math.nan  # where the arm sits on a figure's x axis (T), NaN: not on one


@dataclass(frozen=True)
class Reproduction:
    name: str
    title: str
    source: str  # the paper and the table or figure
    found: str  # what the paper found, one sentence
    arms: tuple[Arm, ...]
    quick: bool = False


QUICK_HIDDEN = 16  # --quick: small models too


def _run(model: ModelConfig, train: TrainConfig, task: TaskConfig, seed: int, label: str,
         quick: bool = False) -> RunConfig:
    if quick:
        model = dataclasses.replace(model, hidden=min(model.hidden, QUICK_HIDDEN))
    return RunConfig(task=task, models=(ModelSetup(label, model, train),), seed=seed, record_every=100_000)


def _table7(quick: bool) -> Reproduction:
    from gradviz.presets import load_preset

    preset = load_preset("hochreiter1997").config
    setup = preset.models[0]
    task = preset.task
    if quick:  # the same cell and training on a short problem: seconds, not minutes
        task = TaskConfig(name=task.name, seq_len=10, batch=task.batch)
    steps = 150 if quick else math.ceil(TABLE7_CAP / task.batch)

    def config(seed: int) -> RunConfig:
        return _run(setup.model, setup.train, task, seed, setup.label)

    arm = Arm(f"{setup.label}, T={task.seq_len}", config, steps, SOLVED,
              f"{TABLE7_SEQUENCES:,} sequences (T=100)", float(TABLE7_SEQUENCES), float(task.seq_len))
    return Reproduction(
        "table7", "Hochreiter & Schmidhuber 1997, adding problem",
        "Long Short-Term Memory, Neural Computation 9(8), Experiment 4, Table 7",
        "the LSTM solves the adding problem at T=100 (every one of 2560 test sequences but at most 3 within "
        "0.04) after about 74,000 training sequences",
        (arm,), quick)


def _bengio1994(quick: bool) -> Reproduction:
    from gradviz.sweep.grid import SweepConfig

    lengths = (5, 20) if quick else (5, 10, 20, 50)
    steps = 100 if quick else 1000
    sweep = SweepConfig(task="adding", models=("rnn", "lstm"), seq_lens=lengths, seeds=1, steps=steps,
                        hidden=16 if quick else 64)
    arms = []
    for kind, said in (("rnn", "success falls towards 0 as T grows"), ("lstm", "(not in the paper: LSTM is 1997)")):
        for length in lengths:
            arms.append(Arm(f"{sweep.labels[sweep.models.index(kind)]}, T={length}",
                            lambda seed, k=kind, n=length: sweep.run_config(k, n, seed, "cpu"),
                            steps, FINAL_LOSS, said, math.nan, float(length)))
    return Reproduction(
        "bengio1994", "Bengio, Simard & Frasconi 1994: the longer the span, the rarer the success",
        "Learning long-term dependencies with gradient descent is difficult, IEEE Trans. Neural Networks 5(2), "
        "the experiments of its section on simple tasks",
        "with gradient descent, the fraction of runs that learn a dependency falls towards 0 as the span T "
        f"grows; here a run learned when its final loss is below {SUCCESS:g}x the baseline (as gradviz sweep)",
        tuple(arms), quick)


def _le2015(quick: bool) -> Reproduction:
    from gradviz.presets import load_preset

    preset = load_preset("irnn").config
    task = TaskConfig(name="adding", seq_len=10, batch=preset.task.batch) if quick else preset.task
    steps = 60 if quick else 3000
    papers = {"tanh RNN": ("stays on the baseline (MSE about 0.17): 1.0x", 1.0),
              "IRNN": ("falls far below the baseline", math.nan)}
    arms = []
    for setup in preset.models:
        said, value = papers.get(setup.label, ("", math.nan))
        arms.append(Arm(f"{setup.label}, T={task.seq_len}",
                        lambda seed, s=setup: _run(s.model, s.train, task, seed, s.label, quick),
                        steps, FINAL_LOSS, said, value, float(task.seq_len)))
    return Reproduction(
        "le2015", "Le, Jaitly & Hinton 2015: the IRNN learns the adding problem",
        "A Simple Way to Initialize Recurrent Networks of Rectified Linear Units, arXiv:1504.00941, "
        "Figure 2 (adding problem, T = 150 to 400)",
        "an identity-initialised ReLU RNN's MSE leaves the 0.167 baseline and falls towards 0, where the tanh "
        "RNN's stays on it; here the irnn preset's two models, final loss over the baseline",
        tuple(arms), quick)


def _pascanu2013(quick: bool) -> Reproduction:
    from gradviz.presets import load_preset

    preset = load_preset("exploding").config
    setup = preset.models[0]  # the unclipped RNN: spectral radius 3, SGD with momentum
    task = TaskConfig(name="adding", seq_len=10, batch=preset.task.batch) if quick else preset.task
    steps = 30 if quick else 500
    arms = []
    for clip in (0.0, 10.0, 1.0, 0.1):
        train = TrainConfig(**{**setup.train.__dict__, "clip": clip})
        label = "no clipping" if clip == 0 else f"clip {clip:g}"
        said = "diverges" if clip == 0 else "trains on"
        arms.append(Arm(f"RNN, {label}", lambda seed, t=train, n=label: _run(setup.model, t, task, seed, n, quick),
                        steps, FINAL_LOSS, said, math.nan, clip))
    return Reproduction(
        "pascanu2013", "Pascanu, Mikolov & Bengio 2013: clipping the gradient's norm",
        "On the difficulty of training recurrent neural networks, ICML 2013, section 3.2 (gradient clipping)",
        "where the gradient explodes, plain SGD's updates blow up; rescaling the gradient to a threshold norm "
        "lets training go on; here the exploding preset's RNN (spectral radius 3, SGD 0.05, momentum 0.9) "
        "at several thresholds: final loss over the baseline, inf where it diverged",
        tuple(arms), quick)


REPRODUCTIONS: dict[str, Callable[[bool], Reproduction]] = {
    "table7": _table7, "bengio1994": _bengio1994, "le2015": _le2015, "pascanu2013": _pascanu2013,
}


def reproduction(name: str, quick: bool = False) -> Reproduction:
    """The reproduction called ``name``; ValueError naming the known ones otherwise."""
    if name not in REPRODUCTIONS:
        raise ValueError(f"unknown reproduction {name!r}; choose one of {', '.join(REPRODUCTIONS)}")
    return REPRODUCTIONS[name](quick)
