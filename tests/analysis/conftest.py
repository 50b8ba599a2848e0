"""Shared helpers for the analysis tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def check_png() -> Callable[[Path], tuple[int, int]]:
    """Returns a checker: asserts a file is a real, non-trivial PNG; gives (h, w)."""

    def check(path: Path) -> tuple[int, int]:
        from matplotlib.image import imread

        data = path.read_bytes()
        assert data[:8] == PNG_MAGIC
        assert len(data) > 10_000, f"{path} is only {len(data)} bytes"
        pixels = imread(path)
        assert pixels.std() > 0, "blank image"
        return pixels.shape[0], pixels.shape[1]

    return check
