"""Every setting of a gradviz run, as frozen dataclasses that round-trip through plain dicts.

A run trains one to three models on identical batches of one task:

    RunConfig(task=TaskConfig, models=(ModelSetup(label, ModelConfig, TrainConfig), ...),
              seed, device, record_every)

``from_dict`` validates field by field and raises ``ConfigError`` naming the field and the bad
value, so a config file, a command line and a GUI form all fail the same clear way and nothing
half-built ever escapes.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

MODEL_KINDS = ("rnn", "lstm", "gru")
GATE_NAMES = {  # each cell's gates, in torch.nn's order (models/cells.py computes them)
    "rnn": (),
    "lstm": ("input", "forget", "cell", "output"),
    "gru": ("reset", "update", "new"),
}
NONLINEARITIES = ("tanh", "relu")
INITS = ("default", "orthogonal", "identity", "1997")
OPTIMIZERS = ("sgd", "adam", "rmsprop")
DEVICES = ("auto", "cpu", "cuda", "mps")
TASK_NAMES = ("adding", "adding1997", "copy", "order", "names", "reviews", "text")
MAX_MODELS = 3


class ConfigError(ValueError):
    """A setting with a bad value; the message names the field and the value."""


@dataclass(frozen=True)
class ModelConfig:
    """The recurrent network: kind, size and initialisation."""

    kind: str = "lstm"
    """rnn, lstm or gru."""
    hidden: int = 64
    """Units per layer (H)."""
    layers: int = 1
    """Stacked recurrent layers."""
    nonlinearity: str = "tanh"
    """Vanilla RNN only: tanh or relu (relu with identity init is the IRNN)."""
    init: str = "default"
    """default (PyTorch's uniform), orthogonal, identity (W_hh = I, Le et al. 2015), or 1997 (every weight
    U(-0.1, 0.1), LSTM input-gate biases -3 and -6: Hochreiter and Schmidhuber's adding problem)."""
    spectral_radius: float = 0.0
    """If > 0, W_hh (each gate block) is rescaled to this spectral radius after init."""
    forget_bias: float = 1.0
    """LSTM: initial forget-gate bias (split over b_ih and b_hh); +1 after Jozefowicz 2015."""
    forget_gate: bool = True
    """LSTM: False gives the 1997 original, with f_t fixed at 1."""


@dataclass(frozen=True)
class TrainConfig:
    """How one model is optimised."""

    optimizer: str = "adam"
    """sgd (with momentum), adam or rmsprop."""
    lr: float = 0.01
    """Learning rate; can change between steps."""
    momentum: float = 0.9
    """SGD momentum."""
    clip: float = 1.0
    """Gradient-norm clipping threshold (Pascanu et al. 2013); 0 turns clipping off."""
    tbptt: int = 0
    """Truncated BPTT window k (gradient flows back at most k steps); 0 = full BPTT."""


@dataclass(frozen=True)
class TaskConfig:
    """The long-range task and its batches."""

    name: str = "adding"
    """adding, adding1997, copy, order, names, reviews (synthetic) or text (a file)."""
    seq_len: int = 50
    """Sequence length T."""
    batch: int = 64
    """Sequences per training step."""
    distance: int = 10
    """names task: how many words after the title word the name comes; reviews task: how many
    words after the decisive word the review ends."""
    data: str = ""
    """text task: the CSV or TSV file of labelled reviews ("" = none; never downloaded).
    For the text task T is ``max_len`` and ``seq_len`` is not used."""
    text_column: str = "review"
    """text task: the column holding the text (by its header name)."""
    label_column: str = "sentiment"
    """text task: the column holding the class label (2 or more distinct values)."""
    vocab_size: int = 10000
    """text task: ids in the vocabulary, <pad> and <unk> included (rarer words become <unk>)."""
    max_len: int = 200
    """text task: words per review fed to the model (the last ones; shorter reviews are padded)."""
    test_fraction: float = 0.2
    """text task: share of the reviews held out for evaluation."""


@dataclass(frozen=True)
class ModelSetup:
    """One model of a run with its own optimiser settings and a label for legends."""

    label: str = "LSTM"
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


@dataclass(frozen=True)
class RunConfig:
    """A whole run: the task, 1 to 3 models trained on the same batches, and run settings."""

    task: TaskConfig = field(default_factory=TaskConfig)
    models: tuple[ModelSetup, ...] = (ModelSetup(),)
    seed: int = 0
    """Seeds both the initial weights and the batches."""
    device: str = "auto"
    """auto (CUDA, else MPS, else CPU), cpu, cuda or mps."""
    record_every: int = 10
    """Record the full probes (gradients per timestep, gates) every this many steps."""
    probe_sample: int = 0
    """Which sample of the batch the gate heatmaps show."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: Any) -> RunConfig:
        return _parse(cls, data, "")

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        return cls.from_dict(parse_json(text))


MAX_DEPTH = 32  # a RunConfig is 4 levels deep; a file nested thousands deep is hostile


def parse_json(text: str) -> Any:
    """JSON text, with one clear ConfigError for nesting too deep or numbers too long to read."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"config is not valid JSON: {exc}") from None
    except RecursionError:
        raise ConfigError("config is nested too deeply to be a gradviz config") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise ConfigError(f"config is not valid JSON: {clip(str(exc))}") from None
    check_depth(data)
    return data


def check_depth(data: Any, limit: int = MAX_DEPTH) -> None:
    """ConfigError if ``data`` nests mappings or lists more than ``limit`` deep (iterative: no recursion)."""
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list, tuple)):
            if depth > limit:
                raise ConfigError(f"config is nested more than {limit} levels deep; a gradviz config has 4")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def clip(text: str, limit: int = 80) -> str:
    """Text cut for a one-line message."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def show(value: Any, limit: int = 60) -> str:
    """A value for a one-line error message: repr, cut to ``limit`` characters; a huge number by its size."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 160:
        return f"a number with about {int(value.bit_length() * 0.30103)} digits"
    text = value if isinstance(value, str) and value.startswith("a number with") else repr(value)
    if len(text) > limit:
        return f"{text[:limit]}... ({len(text)} characters)"
    return text


# ---- validation ---------------------------------------------------------------------------

_CHOICES: dict[str, tuple[str, ...]] = {
    "kind": MODEL_KINDS,
    "nonlinearity": NONLINEARITIES,
    "init": INITS,
    "optimizer": OPTIMIZERS,
    "device": DEVICES,
    "name": TASK_NAMES,
}

# (minimum, maximum) inclusive; the GUI's widgets use the same ranges.
RANGES: dict[str, tuple[float, float]] = {
    "hidden": (1, 1024),
    "layers": (1, 4),
    "spectral_radius": (0.0, 10.0),
    "forget_bias": (-10.0, 10.0),
    "lr": (1e-6, 10.0),
    "momentum": (0.0, 0.999),
    "clip": (0.0, 1e6),
    "tbptt": (0, 10000),
    "seq_len": (2, 10000),
    "batch": (1, 4096),
    "distance": (1, 9999),
    "vocab_size": (3, 1_000_000),
    "max_len": (2, 10000),
    "test_fraction": (0.01, 0.9),
    "seed": (0, 2**31 - 1),
    "record_every": (1, 100000),
    "probe_sample": (0, 4095),
}

_NESTED = {"task": TaskConfig, "model": ModelConfig, "train": TrainConfig}


def _parse(cls: type, data: Any, prefix: str) -> Any:
    name = prefix.rstrip(".") or "config"
    if not prefix:
        check_depth(data)
    if not isinstance(data, dict):
        raise ConfigError(f"{name} must be a mapping, got {type(data).__name__}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"unknown key {show(prefix + unknown[0])}; known keys: {', '.join(known)}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        where = f"{prefix}{key}"
        if key in _NESTED:
            values[key] = _parse(_NESTED[key], value, where + ".")
        elif key == "models":
            values[key] = _parse_models(value)
        else:
            values[key] = _check_value(where, key, value, known[key].default)
    result = cls(**values)
    if cls is RunConfig:
        _check_run(result)
    return result


def _parse_models(value: Any) -> tuple[ModelSetup, ...]:
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= MAX_MODELS:
        raise ConfigError(f"models must be a list of 1 to {MAX_MODELS} models, got {show(value)}")
    setups = []
    for i, item in enumerate(value):
        if isinstance(item, ModelSetup):
            item = dataclasses.asdict(item)
        setups.append(_parse(ModelSetup, item, f"models[{i}]."))
    return tuple(setups)


def _check_value(where: str, key: str, value: Any, default: Any) -> Any:
    expected = type(default)
    if expected is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {show(value)}")
        return value
    if expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ConfigError(f"{where} must be a whole number, got {show(value)}")
    elif expected is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number, got {show(value)}")
        try:
            value = float(value)
        except OverflowError:
            raise ConfigError(f"{where} must be finite, got {show(value)}") from None
        if not math.isfinite(value):
            raise ConfigError(f"{where} must be finite, got {show(value)}")
    elif expected is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be text, got {show(value)}")
        if key in _CHOICES and value not in _CHOICES[key]:
            raise ConfigError(f"{where} must be one of {', '.join(_CHOICES[key])}, got {show(value)}")
        if key == "label" and not 1 <= len(value) <= 40:
            raise ConfigError(f"{where} must be 1 to 40 characters, got {show(value)}")
        if key in ("text_column", "label_column") and not value.strip():
            raise ConfigError(f"{where} must name a column, got {show(value)}")
    if key in RANGES:
        low, high = RANGES[key]
        if not low <= value <= high:
            raise ConfigError(f"{where} must be between {low:g} and {high:g}, got {show(value)}")
    return value


def _check_run(run: RunConfig) -> None:
    task = run.task
    if task.name in ("names", "reviews") and task.distance >= task.seq_len:
        raise ConfigError(
            f"task.distance must be smaller than task.seq_len ({task.seq_len}), "
            f"got {task.distance}"
        )
    if task.name == "text" and not task.data.strip():
        raise ConfigError("task.data must name a CSV or TSV file of labelled reviews for the text task, got ''")
    if task.name == "text" and task.text_column == task.label_column:
        raise ConfigError(
            f"task.text_column and task.label_column must differ, both are {show(task.text_column)}"
        )
    if task.name == "adding1997" and task.seq_len < 4:
        raise ConfigError(f"task.seq_len must be at least 4 for adding1997, got {task.seq_len}")
    if task.name == "order" and task.seq_len < 10:
        raise ConfigError(f"task.seq_len must be at least 10 for order, got {task.seq_len}")
    if run.probe_sample >= task.batch:
        raise ConfigError(
            f"probe_sample must be smaller than task.batch ({task.batch}), got {run.probe_sample}"
        )


# ---- flat settings (command line flags and flat config files) ----------------------------

# flat name -> (section, field), generated from the dataclasses; "model" and "train" settings
# apply to every model of the run. The task's name is ``task``, the model's kind ``model``.
def _flat_keys() -> dict[str, tuple[str, str]]:
    keys: dict[str, tuple[str, str]] = {}
    for section, cls in (("task", TaskConfig), ("model", ModelConfig), ("train", TrainConfig), ("run", RunConfig)):
        for item in dataclasses.fields(cls):
            if item.name not in ("task", "models"):
                flat = {("task", "name"): "task", ("model", "kind"): "model"}.get((section, item.name), item.name)
                keys[flat] = (section, item.name)
    return keys


FLAT_KEYS: dict[str, tuple[str, str]] = _flat_keys()


def default_label(model: ModelConfig) -> str:
    """A legend label that says what the model is: 'tanh RNN', 'LSTM', 'GRU'."""
    if model.kind == "rnn":
        return f"{model.nonlinearity} RNN"
    return model.kind.upper() if model.forget_gate or model.kind != "lstm" else "LSTM 1997"


def _identity(model: ModelConfig) -> tuple:
    """What a default label names: the cell, the RNN's nonlinearity, the LSTM's forget gate."""
    return (model.kind, model.nonlinearity if model.kind == "rnn" else None,
            model.forget_gate if model.kind == "lstm" else None)


def label_for(label: str, before: ModelConfig, after: ModelConfig, typed: bool = False) -> str:
    """The label of a model edited from ``before`` to ``after``: one the user ``typed`` stays;
    an automatic one (a default or a preset's, such as 'tanh RNN' or 'IRNN') names the old
    cell, so once the cell, its nonlinearity or its forget gate changes it becomes the new
    model's default ('GRU'), and back to ``label`` if the edit is undone."""
    if typed or _identity(before) == _identity(after):
        return label
    return default_label(after)


def with_overrides(config: RunConfig, overrides: dict[str, Any]) -> RunConfig:
    """``config`` with flat settings applied (model and train settings to every model).

    Keys may use dashes or underscores. Raises ConfigError for unknown keys or bad values.
    """
    data = config.to_dict()
    relabel = False
    for raw_key, value in overrides.items():
        key = raw_key.replace("-", "_")
        if key not in FLAT_KEYS:
            raise ConfigError(f"unknown setting {show(raw_key)}; known settings: {', '.join(FLAT_KEYS)}")
        section, name = FLAT_KEYS[key]
        if section == "run":
            data[name] = value
        elif section == "task":
            data["task"][name] = value
        else:
            relabel |= section == "model" and name in ("kind", "nonlinearity", "forget_gate")
            for setup in data["models"]:
                setup[section][name] = value
    result = RunConfig.from_dict(data)
    if relabel and len(result.models) == 1:
        setup = result.models[0]
        result = dataclasses.replace(
            result, models=(dataclasses.replace(setup, label=default_label(setup.model)),)
        )
    return result
