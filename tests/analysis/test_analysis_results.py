"""Tests of fairseq_aiw.analysis.results on a small runs directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fairseq_aiw.analysis._common import AnalysisInputError
from fairseq_aiw.analysis.results import collect, main, order_configs, to_markdown

BLEU_SIG = "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0"
CHRF_SIG = "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0"


def put_scores(runs: Path, config: str, split: str, bleu: float, chrf: float, **extra):
    scores = runs / config / "scores"
    scores.mkdir(parents=True, exist_ok=True)
    data = {"bleu": bleu, "chrf": chrf, "bleu_signature": BLEU_SIG}
    data |= {"chrf_signature": CHRF_SIG, "n_sentences": 3} | extra
    (scores / f"{split}.json").write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """Two finished configs (one lacks its test split); ``uniform`` never ran."""
    runs = tmp_path / "runs"
    put_scores(runs, "uniform_aiw", "valid", 22.5, 47.0)
    put_scores(runs, "mt_only", "valid", 20.0, 45.123)
    put_scores(runs, "mt_only", "test", 21.346, 46.0)
    (runs / "logs").mkdir()  # no scores/ inside: not a run
    return runs


EXPECTED_MARKDOWN = f"""\
| System | Dev BLEU | Dev chrF | Test BLEU | Test chrF |
|:--|--:|--:|--:|--:|
| MT only | 20.00 | 45.12 | 21.35 | 46.00 |
| Uniform | missing | missing | missing | missing |
| Uniform + AIW | 22.50 | 47.00 | missing | missing |

BLEU signature: {BLEU_SIG}
chrF signature: {CHRF_SIG}
"""

EXPECTED_TSV = """\
config\tsystem\tvalid_bleu\tvalid_chrf\ttest_bleu\ttest_chrf
mt_only\tMT only\t20.0\t45.123\t21.346\t46.0
uniform\tUniform\t\t\t\t
uniform_aiw\tUniform + AIW\t22.5\t47.0\t\t
"""


def test_markdown_rows_and_missing_report(runs, caplog):
    rows = collect(runs, ["valid", "test"], expected=["mt_only", "uniform"])
    assert to_markdown(rows, ["valid", "test"]) == EXPECTED_MARKDOWN
    missing = [m for m in caplog.messages if m.startswith("missing run")]
    assert [m.split(": no ")[0] for m in missing] == [
        "missing run uniform, split valid",
        "missing run uniform, split test",
        "missing run uniform_aiw, split test",
    ]


@pytest.mark.parametrize(
    ("configs", "ordered"),
    [
        (["uniform_aiw", "mt_only", "sigmoid"], ["mt_only", "sigmoid", "uniform_aiw"]),
        (["zeta", "biased", "alpha"], ["biased", "alpha", "zeta"]),
        ([], []),
    ],
)
def test_order_configs(configs, ordered):
    assert order_configs(configs) == ordered


def test_cli_writes_markdown_and_tsv(runs, tmp_path):
    md, tsv = tmp_path / "t.md", tmp_path / "t.tsv"
    argv = [str(runs), "--expected", "mt_only,uniform", "--markdown", str(md)]
    assert main([*argv, "--tsv", str(tsv)]) == 0
    assert md.read_text(encoding="utf-8") == EXPECTED_MARKDOWN
    assert tsv.read_text(encoding="utf-8") == EXPECTED_TSV
    assert main([*argv, "--strict"]) == 1


def test_cli_markdown_to_stdout_with_custom_splits(runs, capsys):
    assert main([str(runs), "--splits", "valid", "--precision", "1"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[:4] == [
        "| System | Dev BLEU | Dev chrF |",
        "|:--|--:|--:|",
        "| MT only | 20.0 | 45.1 |",
        "| Uniform + AIW | 22.5 | 47.0 |",
    ]


def test_differing_signatures_are_listed(runs):
    put_scores(runs, "mt_only", "test", 1.0, 2.0, bleu_signature="tok:intl")
    text = to_markdown(collect(runs, ["valid", "test"]), ["valid", "test"])
    assert text.endswith(
        "BLEU signatures differ, so these scores are not comparable:\n"
        f"- {BLEU_SIG}: mt_only/valid, uniform_aiw/valid\n"
        "- tok:intl: mt_only/test\n"
        f"chrF signature: {CHRF_SIG}\n"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"bleu": "12", "chrf": 3}', "field 'bleu' missing or not a number"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_bad_score_file_is_named(runs, content, message):
    path = runs / "mt_only" / "scores" / "test.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AnalysisInputError, match=message) as err:
        collect(runs, ["test"])
    assert str(path) in str(err.value)


def test_empty_runs_dir_is_an_error(tmp_path, caplog):
    assert main([str(tmp_path)]) == 1
    assert f"RUNS_DIR {tmp_path}: no <config>/scores/ directories" in caplog.text
    assert main([str(tmp_path / "absent")]) == 1
    assert "not a directory" in caplog.text
