"""Frames now live in ``gradviz.session.frames`` (the trainer process builds them); this name
stays for the views that import them from here."""

from gradviz.session.frames import (
    OPTIONAL_COLUMNS,
    PROBE_COLUMNS,
    Frame,
    ModelView,
    frame_from_history,
    frame_from_saved,
    recorded_steps,
)

__all__ = ["OPTIONAL_COLUMNS", "PROBE_COLUMNS", "Frame", "ModelView", "frame_from_history", "frame_from_saved",
           "recorded_steps"]
