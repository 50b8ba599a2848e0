"""Tests of fairseq_aiw.analysis.plot_weights: reading the weights TSV and plotting."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from fairseq_aiw.analysis._common import AnalysisInputError
from fairseq_aiw.analysis.plot_weights import main, plot_weights, read_weights_tsv

HEADER = "update\ttask\tmean_weight\tzero_fraction\tnum_examples\n"
# Two tasks over three chunks of 200 updates; rows out of order, one chunk of "ner"
# logged twice (as after a resumed run: the later row wins) and one with no examples.
ROWS = """\
200\ttranslation\t1.25\t0.5\t64
200\tner\t1.5\t0.25\t64
600\ttranslation\t1.0625\t0.75\t64
400\ttranslation\t1.125\t0.5\t64
400\tner\t1.75\t0.0\t64

400\tner\t1.875\t0.125\t64
600\tner\tnan\tnan\t0
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "aiw_weights.tsv"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_round_trip(tmp_path, caplog):
    series = read_weights_tsv(write(tmp_path, HEADER + ROWS))
    assert list(series) == ["translation", "ner"]
    mt, ner = series["translation"], series["ner"]
    assert mt.updates == [200, 400, 600]
    assert mt.mean_weight == [1.25, 1.125, 1.0625]
    assert mt.zero_fraction == [0.5, 0.5, 0.75]
    assert mt.num_examples == [64, 64, 64]
    assert ner.updates == [200, 400, 600]
    assert ner.mean_weight[:2] == [1.5, 1.875]
    assert math.isnan(ner.mean_weight[2])
    assert ner.num_examples == [64, 64, 0]
    assert "1 repeated (task, update) rows" in caplog.text


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("", "aiw_weights.tsv", "empty file"),
        ("update\ttask\tweight\n", "aiw_weights.tsv:1", "bad header"),
        (HEADER + "200\tner\t1.5\t0.2\n", "aiw_weights.tsv:2", "expected 5"),
        (HEADER + "2e2\tner\t1.5\t0.2\t4\n", "aiw_weights.tsv:2", "bad number"),
        (HEADER + "\n200\tner\t1.5\t1.5\t4\n", "aiw_weights.tsv:3", "zero_fraction"),
        (HEADER + "-1\tner\t1.5\t0.5\t4\n", "aiw_weights.tsv:2", "must be >= 0"),
        (HEADER + "200\t\t1.5\t0.5\t4\n", "aiw_weights.tsv:2", "empty task name"),
    ],
)
def test_read_rejects_bad_input(tmp_path, text, where, message):
    with pytest.raises(AnalysisInputError, match=message) as err:
        read_weights_tsv(write(tmp_path, text))
    assert where in str(err.value)


def test_plot_writes_png(tmp_path, check_png):
    series = read_weights_tsv(write(tmp_path, HEADER + ROWS))
    out = plot_weights(series, tmp_path / "fig" / "weights.png", title="En-Vi")
    assert check_png(out) == (675, 1050)  # 7 x 4.5 inches at 150 dpi


def test_cli_default_output_and_task_subset(tmp_path, check_png):
    tsv = write(tmp_path, HEADER + ROWS)
    assert main([str(tsv), "--tasks", "ner", "--column", "zero_fraction"]) == 0
    check_png(tmp_path / "aiw_weights.png")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--tasks", "amr"], "--tasks amr: ['amr'] not in"),
        (["--tasks", ","], "--tasks ,: empty not in"),
    ],
)
def test_cli_rejects_unknown_tasks(tmp_path, caplog, extra, message):
    tsv = write(tmp_path, HEADER + ROWS)
    assert main([str(tsv), *extra]) == 1
    assert message in caplog.text
    assert "which has translation, ner" in caplog.text


def test_cli_rejects_header_only_file(tmp_path, caplog):
    tsv = write(tmp_path, HEADER)
    assert main([str(tsv)]) == 1
    assert f"{tsv}: header only, no data rows" in caplog.text
