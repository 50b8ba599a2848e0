import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import build_tiny_data  # noqa: E402


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """Binarised toy data: main task ``translation`` (en-xx), aux task ``pos``."""
    return build_tiny_data(tmp_path_factory.mktemp("tiny"))
