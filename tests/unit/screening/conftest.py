from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.screening.helpers import tiny_models


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(ensemble of 2, single model), trained once per session."""
    return tiny_models(tmp_path_factory)
