"""Shared test set-up: Qt renders offscreen (no screen needed), torch uses few threads."""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _forget_thread_choice():
    """A test that ran a command in-process (``gradviz train``) leaves the thread policy's
    choice behind (gradviz.threads: the count, the governor, whether fused steps split): the
    next test starts without it, as a fresh process would."""
    yield
    import gradviz.threads as threads

    threads._applied = None
    threads._governor = None


def pytest_configure(config) -> None:
    # CI runs the tests so marked a second time under spawn (GRADVIZ_START_METHOD=spawn, .ci/run).
    config.addinivalue_line("markers", "processes: starts real child processes (trainer, sweep runs, signals)")
