"""The ``tiny`` fixture of the training tests (see helpers.py)."""

import pytest
from tests.unit.training.helpers import Tiny, build_tiny


@pytest.fixture(scope="session")
def tiny() -> Tiny:
    return build_tiny()
