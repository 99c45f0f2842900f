"""Shared test set-up: Qt renders offscreen (no screen needed), torch uses few threads."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_configure(config) -> None:
    # CI runs the tests so marked a second time under spawn (GRADVIZ_START_METHOD=spawn, .ci/run).
    config.addinivalue_line("markers", "processes: starts real child processes (trainer, sweep runs, signals)")
