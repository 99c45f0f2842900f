"""Bounded history of a run: memory stays flat however long training goes on.

A ``DecimatingBuffer`` keeps at most ``capacity`` rows. When it is full it drops every other
row and from then on accepts only every second offered row, so the kept rows always sample
the whole run evenly (step 0, s, 2s, ...), the stride doubling as the run grows.
"""

from __future__ import annotations

import numpy as np


class DecimatingBuffer:
    """Rows of named numpy arrays, evenly thinned to at most ``capacity`` rows."""

    def __init__(self, capacity: int):
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self.capacity = capacity
        self.stride = 1
        self._offered = 0
        self._rows = 0
        self._columns: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return self._rows

    def append(self, **values: np.ndarray | float) -> bool:
        """Offer one row; returns whether it was kept."""
        offered, self._offered = self._offered, self._offered + 1
        if offered % self.stride:
            return False
        if self._rows == self.capacity:
            for column in self._columns.values():
                kept = column[0 : self._rows : 2]
                column[: len(kept)] = kept
            self._rows = (self._rows + 1) // 2
            self.stride *= 2
            if offered % self.stride:
                return False
        for name, value in values.items():
            value = np.asarray(value)
            column = self._columns.get(name)
            if column is None:
                column = np.zeros((self.capacity, *value.shape), dtype=value.dtype)
                self._columns[name] = column
            column[self._rows] = value
        self._rows += 1
        return True

    def column(self, name: str) -> np.ndarray:
        """A copy of the kept rows of one column (safe to hand to another thread)."""
        return self._columns[name][: self._rows].copy()

    def names(self) -> list[str]:
        return list(self._columns)

    def blank_row(self) -> dict[str, np.ndarray]:
        """A row shaped like the others with nothing measured: NaN, or -1 in integer columns."""
        return {
            name: np.full(column.shape[1:], np.nan if column.dtype.kind in "fc" else -1, dtype=column.dtype)
            for name, column in self._columns.items()
        }

    def nbytes(self) -> int:
        return sum(column.nbytes for column in self._columns.values())


# Memory one model's recorded probes may take; the row capacity follows from the row size.
PROBE_BUDGET_BYTES = 48 * 2**20
SCALAR_CAPACITY = 8192


class RunHistory:
    """Everything a run has recorded, bounded: the data behind history plots and run files.

    ``scalars`` holds loss, metric and gradient norm of every model at (evenly thinned) every
    step; ``probes[m]`` holds model m's full Probes at (thinned) every recorded step.

    All models' probe buffers share one capacity and get a row at every recorded step (NaN for
    a model that has diverged and measures nothing), so they are thinned in lockstep and row n
    of every model is the same training step: what the run file's shared ``step`` says.
    """

    def __init__(self, models: int):
        self.models = models
        self.scalars = DecimatingBuffer(SCALAR_CAPACITY)
        self.probes: list[DecimatingBuffer | None] = [None] * models
        self.param_names: list[list[str]] = [[] for _ in range(models)]
        self.gate_names: list[list[str]] = [[] for _ in range(models)]
        self.last_step = -1
        self._probe_capacity = 0
        self._latest: list = [None] * models  # each model's last ModelRecord that carries Probes

    def add(self, record) -> None:
        """Append a ``StepRecord``."""
        self.last_step = record.step
        self.scalars.append(
            step=record.step,
            loss=np.array([m.loss for m in record.models]),
            metric=np.array([m.metric for m in record.models]),
            grad_norm=np.array([m.grad_norm for m in record.models]),
        )
        if not record.recorded:
            return
        rows = [None if model.probes is None else self._probe_row(record.step, model) for model in record.models]
        for index, model in enumerate(record.models):
            if model.probes is not None:
                self._latest[index] = model
        if not self._probe_capacity:
            row_bytes = max(sum(np.asarray(v).nbytes for v in row.values()) for row in rows if row is not None)
            self._probe_capacity = int(min(1024, max(16, PROBE_BUDGET_BYTES // row_bytes)))
        for index, (model, row) in enumerate(zip(record.models, rows, strict=True)):
            buffer = self.probes[index]
            if row is None:
                if buffer is None:
                    continue  # diverged before its first measurement: no shapes to align to
                row = buffer.blank_row()
                row["step"] = np.int64(record.step)
            elif buffer is None:
                buffer = self.probes[index] = DecimatingBuffer(self._probe_capacity)
                self.param_names[index] = list(model.probes.param_grad_norms)
                self.gate_names[index] = list(model.probes.gates)
            buffer.append(**row)

    @staticmethod
    def _probe_row(step: int, model) -> dict[str, np.ndarray]:
        probes = model.probes
        row = {
            "step": np.int64(step),
            "loss": np.float64(model.loss),
            "metric": np.float64(model.metric),
            "grad_norm": np.float64(model.grad_norm),
            "grad_h": probes.grad_h,
            "spectral_radius": probes.spectral_radius,
            "half_life": np.float64(probes.half_life),
            "underflow_steps": np.int64(probes.underflow_steps),
            "param_grad_norms": np.array(list(probes.param_grad_norms.values())),
        }
        if probes.grad_c is not None:
            row["grad_c"] = probes.grad_c
        if probes.grad_h_all is not None:
            row["grad_h_all"] = probes.grad_h_all
        if probes.grad_cause is not None:
            row["grad_cause"] = probes.grad_cause
        if probes.step_factor is not None:
            row["step_factor"] = probes.step_factor
        row["truncated_steps"] = np.int64(probes.truncated_steps)
        row["near_half_life"] = np.float64(probes.near_half_life)
        row["near_steps"] = np.int64(probes.near_steps)
        for name, value in probes.gates.items():
            row[f"gate/{name}"] = value
        for name, value in probes.gate_means.items():
            row[f"mean/{name}"] = value
        return row

    def latest_probed(self, index: int):
        """Model ``index``'s last ``ModelRecord`` that carries Probes (None before the first)."""
        return self._latest[index]

    def start_latest_from(self, latest: list) -> None:
        """What each model shows as "now" until it records a newer step (a restored run's last
        recorded step, read from its file)."""
        self._latest = list(latest)

    def probe_column(self, index: int, name: str) -> np.ndarray:
        buffer = self.probes[index]
        if buffer is None or name not in buffer.names():
            return np.empty((0,))
        return buffer.column(name)

    def nbytes(self) -> int:
        return self.scalars.nbytes() + sum(b.nbytes() for b in self.probes if b is not None)
