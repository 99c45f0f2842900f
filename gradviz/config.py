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


def setting(default: Any = dataclasses.MISSING, *, doc: str, label: str = "", tip: str = "",
            bounds: tuple[float, float] | None = None, choices: tuple[str, ...] | None = None,
            when: dict[str, tuple] | None = None, hidden_otherwise: bool = False, live: bool = False,
            at_minimum: str = "", factory: Any = None) -> Any:
    """A dataclass field with everything the app says and checks about it, read as data
    (``dataclasses.fields(cls)[i].metadata``), never parsed from source:

    - ``doc``: one line for the command line's help and the config-file docs;
    - ``label``: the settings form's label; ``tip``: its tooltip (default ``doc``);
    - ``bounds``: (minimum, maximum) inclusive, checked by ``from_dict`` and the form's spin box;
    - ``choices``: the allowed texts;
    - ``when``: the other settings (of the same form) under which it applies, as allowed values
      ({"kind": ("lstm",)}: LSTM only); otherwise its field is greyed out, or hidden with
      ``hidden_otherwise``;
    - ``live``: applied between training steps; otherwise it waits for Reset;
    - ``at_minimum``: what the lowest value means when it is no amount ("not rescaled" for a
      spectral radius of 0), said in the form's field in place of the number.
    """
    metadata = {"doc": doc, "label": label, "tip": tip or doc, "bounds": bounds, "choices": choices,
                "when": when or {}, "hidden_otherwise": hidden_otherwise, "live": live, "at_minimum": at_minimum}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


NOT_TEXT = tuple(name for name in TASK_NAMES if name != "text")
TEXT_ONLY = {"name": ("text",)}


@dataclass(frozen=True)
class ModelConfig:
    """The recurrent network: kind, size and initialisation."""

    kind: str = setting(
        "lstm", label="Cell", choices=MODEL_KINDS, doc="rnn, lstm or gru.",
        tip="RNN: h_t = tanh(W_hh h_{t-1} + W_xh x_t + b). LSTM: gated cell C_t = f_t*C_{t-1} + i_t*C~_t. "
            "GRU: h_t = (1 - z_t)*n_t + z_t*h_{t-1}.")
    hidden: int = setting(64, label="Hidden units H", bounds=(1, 1024), doc="Units per layer (H).",
                          tip="Units per layer H: the size of h_t (and C_t).")
    layers: int = setting(1, label="Layers", bounds=(1, 4), doc="Stacked recurrent layers.",
                          tip="Stacked recurrent layers; each reads the h_t of the layer below.")
    nonlinearity: str = setting(
        "tanh", label="Nonlinearity", choices=NONLINEARITIES, when={"kind": ("rnn",)},
        doc="Vanilla RNN only: tanh or relu (relu with identity init is the IRNN).",
        tip="Vanilla RNN activation: tanh squashes (its derivative 1 - h^2 < 1 shrinks gradients); "
            "relu with identity init is the IRNN.")
    init: str = setting(
        "default", label="Initialisation", choices=INITS,
        doc="default (PyTorch's uniform), orthogonal, identity (W_hh = I, Le et al. 2015), or 1997 (every "
            "weight U(-0.1, 0.1), LSTM input-gate biases -3 and -6: Hochreiter and Schmidhuber's adding problem).",
        tip="Initial weights: PyTorch's uniform default, orthogonal W_hh (singular values 1), "
            "identity W_hh with zero biases (IRNN, Le et al. 2015), or 1997: every weight in [-0.1, 0.1] and "
            "the LSTM's input gates biased shut, -3 and -6 (Hochreiter and Schmidhuber 1997).")
    spectral_radius: float = setting(
        0.0, label="Spectral radius", bounds=(0.0, 10.0), at_minimum="not rescaled",
        doc="If > 0, W_hh (each gate block) is rescaled to this spectral radius after init.",
        tip="Rescale W_hh to this largest |eigenvalue| (0 = leave it): below 1 the product "
            "of Jacobians shrinks (vanishing), above 1 it can grow (exploding).")
    forget_bias: float = setting(
        1.0, label="Forget bias b_f", bounds=(-10.0, 10.0), when={"kind": ("lstm",), "forget_gate": (True,)},
        doc="LSTM: initial forget-gate bias (split over b_ih and b_hh); +1 after Jozefowicz 2015.",
        tip="Initial b_f of the LSTM forget gate f_t = sigmoid(W_f [h_{t-1}, x_t] + b_f); "
            "+1 keeps the cell open from the start (Jozefowicz et al. 2015).")
    forget_gate: bool = setting(
        True, label="forget gate", when={"kind": ("lstm",)},
        doc="LSTM: False gives the 1997 original, with f_t fixed at 1.",
        tip="Off gives the 1997 LSTM: f_t = 1, C_t = C_{t-1} + i_t*C~_t.")


@dataclass(frozen=True)
class TrainConfig:
    """How one model is optimised; every setting applies live, between two training steps."""

    optimizer: str = setting("adam", label="Optimiser", choices=OPTIMIZERS, live=True,
                             doc="sgd (with momentum), adam or rmsprop.",
                             tip="SGD with momentum, Adam or RMSprop (applies live).")
    lr: float = setting(0.01, label="Learning rate", bounds=(1e-6, 10.0), live=True,
                        doc="Learning rate; can change between steps.",
                        tip="Learning rate (applies live, from the next step).")
    momentum: float = setting(0.9, label="Momentum", bounds=(0.0, 0.999), live=True, when={"optimizer": ("sgd",)},
                              doc="SGD momentum.", tip="SGD momentum (applies live).")
    clip: float = setting(
        1.0, label="Clip norm", bounds=(0.0, 1e6), live=True, at_minimum="off",
        doc="Gradient-norm clipping threshold (Pascanu et al. 2013); 0 turns clipping off.",
        tip="Gradient-norm clipping threshold, 0 = off: rescale the gradient when its norm exceeds it "
            "(Pascanu et al. 2013). Applies live.")
    tbptt: int = setting(
        0, label="Truncate BPTT k", bounds=(0, 10000), live=True, at_minimum="full BPTT",
        doc="Truncated BPTT window k (gradient flows back at most k steps); 0 = full BPTT.",
        tip="Truncated BPTT window k, 0 = full BPTT: the chain rule stops k steps back. Applies live.")


@dataclass(frozen=True)
class TaskConfig:
    """The long-range task and its batches."""

    name: str = setting(
        "adding", label="Task", choices=TASK_NAMES,
        doc="adding, adding1997, copy, order, names, reviews (synthetic) or text (a file).",
        tip="The long-range task the models learn; each has a baseline: what a model with no memory scores.")
    seq_len: int = setting(
        50, label="Sequence length T", bounds=(2, 10000), when={"name": NOT_TEXT}, hidden_otherwise=True,
        doc="Sequence length T.",  # a file's T is its max_len
        tip="Sequence length T: how many steps back the gradient must reach to connect cause and effect.")
    batch: int = setting(64, label="Batch", bounds=(1, 4096), doc="Sequences per training step.",
                         tip="Sequences per training step; every model sees the same batch.")
    distance: int = setting(
        10, label="Distance", bounds=(1, 9999), when={"name": ("names", "reviews")},
        doc="names task: how many words after the title word the name comes; reviews task: how many "
            "words after the decisive word the review ends.",
        tip="The memory gap. Names: the name comes this many words after its title word. Reviews: "
            "the one word that decides the sentiment sits this many words before the end.")
    data: str = setting(
        "", label="File", when=TEXT_ONLY, hidden_otherwise=True,
        doc='text task: the CSV or TSV file of labelled reviews ("" = none; never downloaded). '
            "For the text task T is ``max_len`` and ``seq_len`` is not used.",
        tip="Text task: a CSV or TSV file you bring (IMDB's has 'review' and 'sentiment' columns); "
            "gradviz never downloads anything.")
    text_column: str = setting("review", label="Text column", when=TEXT_ONLY, hidden_otherwise=True,
                               doc="text task: the column holding the text (by its header name).",
                               tip="Text task: the header name of the column holding the text.")
    label_column: str = setting(
        "sentiment", label="Label column", when=TEXT_ONLY, hidden_otherwise=True,
        doc="text task: the column holding the class label (2 or more distinct values).",
        tip="Text task: the header name of the column holding the class (2 or more values).")
    vocab_size: int = setting(
        10000, label="Vocabulary", bounds=(3, 1_000_000), when=TEXT_ONLY, hidden_otherwise=True,
        doc="text task: ids in the vocabulary, <pad> and <unk> included (rarer words become <unk>).",
        tip="Text task: words in the vocabulary, <pad> and <unk> included; rarer words become <unk>.")
    max_len: int = setting(
        200, label="Words per review T", bounds=(2, 10000), when=TEXT_ONLY, hidden_otherwise=True,
        doc="text task: words per review fed to the model (the last ones; shorter reviews are padded).",
        tip="Text task: the last this many words of each review are fed to the model (T); shorter "
            "reviews are padded, and the padding is left out of the loss and of the plots.")
    test_fraction: float = setting(
        0.2, label="Test share", bounds=(0.01, 0.9), when=TEXT_ONLY, hidden_otherwise=True,
        doc="text task: share of the reviews held out for evaluation.",
        tip="Text task: share of the reviews held out for the evaluation table.")


@dataclass(frozen=True)
class ModelSetup:
    """One model of a run with its own optimiser settings and a label for legends."""

    label: str = setting("LSTM", label="Label", doc="The model's name in legends and headers (1 to 40 characters).",
                         tip="The model's name in legends and headers.")
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


@dataclass(frozen=True)
class RunConfig:
    """A whole run: the task, 1 to 3 models trained on the same batches, and run settings."""

    task: TaskConfig = field(default_factory=TaskConfig)
    models: tuple[ModelSetup, ...] = setting((ModelSetup(),), label="Models", doc="1 to 3 models.",
                                             tip="Train 1 to 3 models side by side on identical batches.")
    seed: int = setting(0, label="Seed", bounds=(0, 2**31 - 1),
                        doc="Seeds both the initial weights and the batches.",
                        tip="Seeds the initial weights and the batches: the same seed gives the same run.")
    device: str = setting("auto", label="Device", choices=DEVICES,
                          doc="auto (CUDA, else MPS, else CPU), cpu, cuda or mps.",
                          tip="auto trains on a CUDA GPU, else Apple MPS, else the CPU.")
    record_every: int = setting(
        10, label="Record every", bounds=(1, 100000),
        doc="Record the full probes (gradients per timestep, gates) every this many steps.",
        tip="Measure gradients through time and gates every this many steps (others run torch's fused kernel).")
    probe_sample: int = setting(0, label="Gate sample", bounds=(0, 4095),
                                doc="Which sample of the batch the gate heatmaps show.",
                                tip="Which sequence of the batch the gate heatmaps show.")

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

def _metadata_table(key: str) -> dict[str, Any]:
    """``key`` of every field's metadata that has one, by field name (names are unique)."""
    table = {}
    for cls in (TaskConfig, ModelConfig, TrainConfig, RunConfig):
        for item in dataclasses.fields(cls):
            if item.metadata.get(key) is not None:
                table[item.name] = item.metadata[key]
    return table


_CHOICES: dict[str, tuple[str, ...]] = _metadata_table("choices")
# (minimum, maximum) inclusive, from the fields' metadata; the GUI's widgets use the same ranges.
RANGES: dict[str, tuple[float, float]] = _metadata_table("bounds")

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
