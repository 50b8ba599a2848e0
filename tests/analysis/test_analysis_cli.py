"""Checks common to all analysis tools: help texts, ``python -m``, light imports."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ANALYSIS = REPO / "fairseq_aiw" / "analysis"
TOOLS = [
    ("scoring", "aiw-score"),
    ("results", "aiw-results"),
    ("plot_weights", "aiw-plot-weights"),
    ("missed_words", "aiw-missed-words"),
]


@pytest.mark.parametrize(("module", "prog"), TOOLS)
def test_help_names_the_console_script(capsys, module, prog):
    main = importlib.import_module(f"fairseq_aiw.analysis.{module}").main
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: {prog} ")


def test_runs_with_python_dash_m():
    result = subprocess.run(
        [sys.executable, "-m", "fairseq_aiw.analysis.results", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: aiw-results ")


@pytest.mark.parametrize("path", sorted(ANALYSIS.glob("*.py")), ids=lambda p: p.name)
def test_no_fairseq_or_torch_imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imported.add(node.module.split(".")[0])
    assert not imported & {"torch", "fairseq"}
