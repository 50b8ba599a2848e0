import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import build_tiny_data  # noqa: E402


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """Binarised toy data: main task ``translation`` (en-xx), aux task ``pos``."""
    return build_tiny_data(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def demo_slice(tmp_path_factory) -> Path:
    """The first lines of the shipped demo corpus, binarised with a small vocabulary."""
    from helpers import REPO

    root = tmp_path_factory.mktemp("demo_slice")
    lines = {"train": 400, "valid": 40, "meta_valid": 30, "test": 30}
    source = REPO / "data" / "demo" / "raw"
    for task_dir in source.iterdir():
        for path in task_dir.iterdir():
            split = path.name.split(".")[0]
            keep = path.read_text().splitlines()[: lines.get(split, 0)]
            out = root / "raw" / task_dir.name / path.name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text("".join(line + "\n" for line in keep))
    run_cli_script(
        REPO / "data-prep" / "binarize.py",
        [
            "--raw-dir",
            root / "raw",
            "--dest-dir",
            root / "bin",
            "--main-task",
            "translation",
            "--vocab-size",
            "400",
            "--workers",
            "1",
        ],
    )
    return root


def run_cli_script(script: Path, args) -> str:
    import subprocess

    proc = subprocess.run(
        [sys.executable, str(script), *map(str, args)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr
