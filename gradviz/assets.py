"""The data files that ship with gradviz: presets, the application icon, the .desktop file.

Their source is ``resources/`` at the top of the checkout; a wheel installs that folder as the
package ``gradviz.resources`` (the mapping is in setup.py), read through importlib.resources.
A checkout that was never installed has no such package, and reads ``resources/`` directly.
"""

from __future__ import annotations

import importlib.resources
from importlib.resources.abc import Traversable
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parent.parent / "resources"


def resources() -> Traversable:
    """The root of gradviz's data files, installed or in the checkout."""
    try:
        packaged = importlib.resources.files("gradviz.resources")
    except ModuleNotFoundError:
        return SOURCE_DIR
    return packaged if packaged.is_dir() else SOURCE_DIR


def icon_path() -> Path:
    """The application icon as a file on disk (Qt wants a path; a wheel installs real files)."""
    return Path(str(resources() / "icons" / "gradviz.png"))
