"""A read-only line under the settings: the estimated peak memory of the run they describe.

It follows every edit of the settings panel (through ``pendingChanged``, which the panel emits
after each change) and says, from ``budget.estimate_run``, how much the run would take and
how much the machine has, in red when Reset would refuse it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from gradviz.budget import FIT_SHARE, PROCESS_BYTES, available_bytes, estimate_run, gib


class MemoryEstimate(QLabel):
    """'Memory: ~730 MB of 21.0 GB' (the second figure: what is available), below the settings panel's notices."""

    def __init__(self, controls):
        super().__init__()
        self.controls = controls
        self.setWordWrap(True)
        self.setToolTip("Peak memory of a recorded step: autograd keeps every timestep's activations of every "
                        "layer, plus weights, optimiser state and the probe history of every model.")
        controls.pendingChanged.connect(self.refresh)
        layout = controls.pending.parentWidget().layout()
        layout.insertWidget(layout.indexOf(controls.pending) + 1, self)
        self.refresh()

    def refresh(self, *_: object) -> None:
        try:
            config = self.controls.config()
        except ValueError:
            self.setText("Memory: (settings incomplete)")
            return
        estimate = estimate_run(config)
        available = available_bytes()
        fits = available is None or estimate.total <= FIT_SHARE * available
        where = f" of {gib(available)}" if available is not None else ""
        # Short lines: the panel is narrow, and the full reason is in Reset's refusal.
        text = f"Memory: ~{gib(estimate.total + PROCESS_BYTES)}{where}"
        self.setText(text if fits else text + "\ntoo much: Reset refuses")
        self.setStyleSheet("" if fits else "QLabel { color: #ff6060; font-weight: bold; }")
