"""Shared test set-up: Qt renders offscreen (no screen needed), torch uses few threads."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
