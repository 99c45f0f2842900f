"""Core test fixtures: ``device``, every device this machine has (see tests/devices.py)."""

import pytest

from tests.devices import DEVICES


@pytest.fixture(params=DEVICES)
def device(request) -> str:
    """'cpu', and 'cuda' / 'mps' where present (skipped with the reason elsewhere)."""
    return request.param
