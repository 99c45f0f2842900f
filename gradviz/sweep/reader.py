"""Reading a sweep file without trusting it: its config first, every header against that
config, then only the arrays it needs, and every value's type and range.

The order matters. ``config_json`` is read (a short text member, its size checked from its
header) and validated like any sweep's config, bounds included (``grid.py``: steps, seeds,
lengths, runs), so a file cannot declare a grid of millions of cells. Every member's declared
dtype and shape is then compared with what that config implies before a single data byte is
unpacked: a small file declaring a 3.9 GB member of zeros is refused from its header. Last,
the values: ``done`` true/false, a finished run's loss 0 or more (``inf``: it diverged; ``-inf``
or a negative loss is no loss at all), its seconds finite and 0 or more.

Every refusal is one SweepFileError whose message names the file and the first misfit.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from gradviz.config import ConfigError
from gradviz.io.npzread import Header, NpzError, open_archive, read_arrays, read_headers
from gradviz.io.runcheck import LayoutError, check_preamble
from gradviz.sweep.grid import FORMAT, SweepConfig

NUMBER = "fiu"
TEXT = "U"
FLAG = "b"
# What the writer adds besides the three arrays that are read back (the others are derived).
DERIVED = ("models", "labels", "seq_lens", "success", "baseline", "threshold")


class SweepFileError(ValueError):
    """A sweep file that cannot be read or resumed; the message says why."""


def read_sweep(path: str | Path) -> tuple[SweepConfig, dict[str, np.ndarray]]:
    """The file's config and its checked ``final_loss``, ``done`` and ``seconds`` arrays.

    Raises SweepFileError (one line, naming ``path``) for anything a gradviz sweep file cannot hold.
    """
    path = Path(path)
    try:
        with open_archive(path) as archive:
            headers = read_headers(archive)
            check_preamble(headers)
            for name in ("format", "config_json"):
                if name not in headers:
                    raise SweepFileError(f"{path} is not a gradviz sweep file ({name} is missing)")
            preamble = read_arrays(archive, ["format", "config_json"])
            if str(preamble["format"]) != FORMAT:
                raise SweepFileError(f"{path} is not a gradviz sweep file (format {_clip(str(preamble['format']))!r})")
            try:
                config = SweepConfig.from_json(str(preamble["config_json"]))
            except ConfigError as exc:
                raise SweepFileError(f"{path}: bad config_json: {exc}") from None
            check_headers(config, headers)
            arrays = read_arrays(archive, ["final_loss", "done", "seconds"])
    except (NpzError, LayoutError) as exc:
        raise SweepFileError(f"{path} {exc}" if isinstance(exc, NpzError) else f"{path}: {exc}") from None
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError, RuntimeError) as exc:
        raise SweepFileError(f"{path} is damaged: {_clip(str(exc) or type(exc).__name__)}") from None
    try:
        check_values(config, arrays)
    except LayoutError as exc:
        raise SweepFileError(f"{path}: {exc}") from None
    return config, arrays


def check_headers(config: SweepConfig, headers: dict[str, Header]) -> None:
    """Every member's declared dtype and shape against ``config``; LayoutError on the first misfit."""
    models, lengths, seeds = config.shape
    rules = {
        "format": (TEXT, ()), "config_json": (TEXT, ()),
        "models": (TEXT, (models,)), "labels": (TEXT, (models,)), "seq_lens": ("iu", (lengths,)),
        "success": (NUMBER, (models, lengths)), "baseline": (NUMBER, (lengths,)),
        "threshold": (NUMBER, (lengths,)),
        "final_loss": ("f", config.shape), "done": (FLAG, config.shape), "seconds": ("f", config.shape),
    }
    for name, header in headers.items():
        rule = rules.get(name)
        if rule is None:
            raise LayoutError(f"unexpected array {_clip(name)!r} (not part of a gradviz sweep file)")
        kinds, shape = rule
        if header.dtype.kind not in kinds or header.dtype.fields is not None:
            want = {TEXT: "text", FLAG: "true/false", "f": "floating-point numbers"}.get(kinds, "numbers")
            raise LayoutError(f"{name} must hold {want}, got dtype {_clip(header.dtype.str)}")
        if header.shape != shape:
            raise LayoutError(f"{name} must have shape {shape} (the file's config: {models} models, {lengths} "
                              f"lengths, {seeds} seeds), got {_clip(str(header.shape))}")
        if kinds == TEXT and name in ("models", "labels") and header.dtype.itemsize > 4 * 64:
            raise LayoutError(f"{name} declares names of {header.dtype.itemsize // 4} characters (at most 64)")
    for name in ("final_loss", "done", "seconds"):
        if name not in headers:
            raise LayoutError(f"{name} is missing")


def check_values(config: SweepConfig, arrays: dict[str, np.ndarray]) -> None:
    """Each finished run's loss and seconds in range; LayoutError naming the first bad run."""
    done, loss, seconds = arrays["done"], arrays["final_loss"], arrays["seconds"]
    bad_loss = done & ~((loss >= 0) | (loss == np.inf))  # NaN, -inf and negatives: no loss
    bad_seconds = done & ~(np.isfinite(seconds) & (seconds >= 0))
    for name, bad, values, want in (("final_loss", bad_loss, loss, "0 or more (inf: diverged)"),
                                    ("seconds", bad_seconds, seconds, "finite, 0 or more")):
        if bad.any():
            cell = tuple(int(i) for i in np.argwhere(bad)[0])
            model, length, seed = cell
            raise LayoutError(f"{name} of {config.labels[model]} T={config.seq_lens[length]} seed {seed} is "
                              f"{float(values[cell])!r}; a finished run's must be {want} ({int(bad.sum())} such runs)")


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
