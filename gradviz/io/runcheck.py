"""What a run file's own config implies about every array it holds, checked from headers alone.

``expected_layout`` turns a RunConfig plus the two declared lengths (N recorded steps, S
thinned training steps) into the dtype kind and shape every array must have (see
``runfile.py`` for the layout); ``check_layout`` compares the declared headers with it and
caps the total at what such a run can ever hold, so nothing is unpacked that the config
does not account for.
"""

from __future__ import annotations

import re

from gradviz.budget import available_bytes, gib
from gradviz.config import GATE_NAMES, RunConfig, TaskConfig
from gradviz.io.npzread import Header
from gradviz.probes.history import PROBE_BUDGET_BYTES, SCALAR_CAPACITY
from gradviz.tasks import metric_and_steps

MAX_CONFIG_CHARS = 1_000_000
MAX_RECORDED = 65_536  # rows of recorded probes (a history holds at most ~1024)
MAX_PARAMS = 64  # parameter tensors per model (4 layers of an LSTM and a head: 19)
MAX_GENERATOR = 1 << 16  # torch's CPU generator state is 5056 bytes
TEXT_EMBED = 32

NUMBER = "fiu"
TEXT = "U"


class LayoutError(ValueError):
    """An array whose declared dtype or shape does not fit the file's config."""


def check_preamble(headers: dict[str, Header]) -> None:
    """``format`` and ``config_json`` are short text, checked before they are read."""
    for name, limit in (("format", 64), ("config_json", MAX_CONFIG_CHARS)):
        header = headers.get(name)
        if header is None:
            continue
        if header.dtype.kind != TEXT or header.shape != ():
            raise LayoutError(f"{name} must be one text value, got {_describe(header)}")
        if header.dtype.itemsize // 4 > limit:
            raise LayoutError(f"{name} declares {header.dtype.itemsize // 4} characters (at most {limit})")


def timesteps(task: TaskConfig) -> int:
    """How many timesteps every per-step array has: the task's sequence length as the models
    see it (the copy task's T + 20; a text file's max_len), without reading a text file."""
    return metric_and_steps(task)[1]


def check_layout(config: RunConfig, headers: dict[str, Header]) -> None:
    """Every array's dtype and shape against ``config``; raises LayoutError naming the first misfit."""
    models = len(config.models)
    task = config.task
    seq_len = timesteps(task)
    recorded = _length(headers, "step", MAX_RECORDED)
    thinned = _length(headers, "train_step", SCALAR_CAPACITY + 1)
    rules: dict[str, tuple[str, tuple[int | None, ...]]] = {
        "format": (TEXT, ()), "config_json": (TEXT, ()), "labels": (TEXT, (models,)),
        "baseline": (NUMBER, ()), "baseline_metric": (NUMBER, ()),
        "step": (NUMBER, (recorded,)), "train_step": (NUMBER, (thinned,)),
        "state/step": (NUMBER, ()), "state/generator": ("u", (None,)),
        "solved_at_sequences": (NUMBER, (models,)),  # optional: newer files, tasks with a tolerance
    }
    for name in ("loss", "metric", "grad_norm"):
        rules[name] = (NUMBER, (models, recorded))
        rules[f"train_{name}"] = (NUMBER, (models, thinned))
    patterns: list[tuple[re.Pattern, str, int]] = []  # state arrays: (name pattern, kinds, max elements)
    for m, setup in enumerate(config.models):
        model = setup.model
        layers, hidden, kind = model.layers, model.hidden, model.kind
        prefix = f"model{m}/"
        per_step = (recorded, layers, seq_len)
        rules[prefix + "grad_h"] = (NUMBER, per_step)
        rules[prefix + "grad_h_all"] = (NUMBER, per_step)
        rules[prefix + "grad_cause"] = (NUMBER, (recorded, seq_len))
        if kind == "lstm":
            rules[prefix + "grad_c"] = (NUMBER, per_step)
        gates = (*GATE_NAMES[kind], *(("cell_state",) if kind == "lstm" else ()), "hidden")
        for gate in gates:
            rules[f"{prefix}gate/{gate}"] = (NUMBER, (recorded, layers, seq_len, hidden))
            rules[f"{prefix}mean/{gate}"] = (NUMBER, per_step)
        rules[prefix + "spectral_radius"] = (NUMBER, (recorded, layers))
        rules[prefix + "step_factor"] = (NUMBER, (recorded, layers))
        for name in ("half_life", "near_half_life", "near_steps", "underflow_steps", "truncated_steps"):
            rules[prefix + name] = (NUMBER, (recorded,))
        params = headers.get(prefix + "param_names")
        count = params.shape[0] if params is not None and len(params.shape) == 1 else None
        if count is not None and count > MAX_PARAMS:
            raise LayoutError(f"{prefix}param_names lists {count} parameters (at most {MAX_PARAMS})")
        rules[prefix + "param_grad_norms"] = (NUMBER, (recorded, count))
        rules[prefix + "param_names"] = (TEXT, (count,))
        rules[f"state/{prefix}diverged"] = ("b", ())
        # The largest tensor such a model has: a layer's stacked gate weights, the embedding or the head.
        largest = max(4 * hidden * max(hidden, 64), TEXT_EMBED * task.vocab_size if task.name == "text" else 0,
                      hidden * 32) + 1024
        patterns.append((re.compile(rf"state/{prefix}(param|optim/\d+)/[\w.]+"), NUMBER, largest))
    for name, header in headers.items():
        rule = rules.get(name)
        if rule is not None:
            _match(name, header, *rule)
            continue
        for pattern, kinds, largest in patterns:
            if pattern.fullmatch(name):
                _match(name, header, kinds, tuple(None for _ in header.shape))
                elements = header.nbytes // max(header.dtype.itemsize, 1)
                if len(header.shape) > 2 or elements > largest:
                    raise LayoutError(f"{name} declares shape {header.shape}; this config's parameters are "
                                      f"at most {largest} values")
                break
        else:
            raise LayoutError(f"unexpected array {_clip(name)!r} (not part of a gradviz run file)")
    if recorded:
        for m in range(models):
            for part in ("grad_h", "half_life", "spectral_radius", "underflow_steps", "param_grad_norms",
                         "param_names"):
                if f"model{m}/{part}" not in headers:
                    raise LayoutError(f"model{m}/{part} is missing (the file has {recorded} recorded steps)")
    generator = headers.get("state/generator")
    if generator is not None and generator.nbytes > MAX_GENERATOR:
        raise LayoutError(f"state/generator declares {generator.nbytes} bytes (at most {MAX_GENERATOR})")
    _check_total(config, headers)


def _check_total(config: RunConfig, headers: dict[str, Header]) -> None:
    """The sum of declared sizes, capped by what such a run can hold and what the machine has."""
    total = sum(header.nbytes for header in headers.values())
    # A history holds at most max(budget, 16 rows) per model (probes/history.py); allowed here:
    # twice that, with 32 rows, rows counted in float64 (a reopened run may have grown a few
    # rows). The state arrays were each capped by the parameter sizes; the scalars are small.
    allowed = 64 * 2**20
    seq_len = timesteps(config.task)
    for setup in config.models:
        model = setup.model
        row = 8 * model.layers * seq_len * (model.hidden * 6 + 16)
        allowed += 2 * max(PROBE_BUDGET_BYTES, 32 * row)
    allowed += sum(header.nbytes for name, header in headers.items() if name.startswith("state/"))
    if total > allowed:
        raise LayoutError(f"declares {gib(total)} of arrays, more than its config can produce ({gib(allowed)})")
    available = available_bytes()
    if available is not None and total > 0.5 * available:
        raise LayoutError(f"declares {gib(total)} of arrays; only {gib(available)} of memory is available")


def _length(headers: dict[str, Header], name: str, limit: int) -> int:
    header = headers.get(name)
    if header is None:
        return 0
    if len(header.shape) != 1:
        raise LayoutError(f"{name} must be one-dimensional, got shape {header.shape}")
    if header.shape[0] > limit:
        raise LayoutError(f"{name} declares {header.shape[0]} rows (at most {limit})")
    return header.shape[0]


def _match(name: str, header: Header, kinds: str, shape: tuple[int | None, ...]) -> None:
    if header.dtype.kind not in kinds:
        want = {"U": "text", "b": "true/false", "u": "bytes"}.get(kinds, "numbers")
        raise LayoutError(f"{name} must hold {want}, got {_describe(header)}")
    if len(header.shape) != len(shape) or any(w is not None and w != n for w, n in zip(shape, header.shape,
                                                                                       strict=True)):
        wanted = "(" + ", ".join("any" if n is None else str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"
        raise LayoutError(f"{name} must have shape {wanted}, got {header.shape}")


def _describe(header: Header) -> str:
    return f"dtype {header.dtype.str} shape {header.shape}"


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
