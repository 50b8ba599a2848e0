"""Tests of fairseq_aiw.analysis.scoring on a hand-made fairseq-generate output."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import sacrebleu

from fairseq_aiw.analysis._common import AnalysisInputError
from fairseq_aiw.analysis.scoring import main, read_generate_output, score

# Three sentences, out of id order, with the noise fairseq-generate prints: log lines,
# H-/P- lines, a second-best hypothesis (--nbest 2) and the closing BLEU line.
GENERATE_OUT = """\
2024-01-01 00:00:00 | INFO | fairseq_cli.generate | loading model
S-2\tsource two
T-2\tthe cat sat on the mat
H-2\t-0.21\tthe cat sat on the mat
D-2\t-0.21\tthe cat sat on the mat
P-2\t-0.1 -0.2 -0.3 -0.1 -0.2 -0.3 -0.1
S-0\tsource zero
T-0\tone two three four five
H-0\t-0.50\tone two three four
D-0\t-0.50\tone two three four
S-1\tsource one
T-1\ta b c d
H-1\t-0.30\ta b c d
D-1\t-0.30\ta b c d
H-1\t-0.90\ta b x d
D-1\t-0.90\ta b x d
Generate test with beam=5: BLEU4 = 80.00
"""
HYPS = ["one two three four", "a b c d", "the cat sat on the mat"]
REFS = ["one two three four five", "a b c d", "the cat sat on the mat"]
# Every hypothesis n-gram occurs in its reference, so BLEU is the brevity penalty
# alone: 14 hypothesis tokens against 15 reference tokens.
BLEU_BY_HAND = 100 * math.exp(1 - 15 / 14)
SIG_13A = (
    f"nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:{sacrebleu.__version__}"
)


def write(tmp_path: Path, text: str, name: str = "gen.out") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_sorts_by_id_and_keeps_best_hypothesis(tmp_path):
    ids, hyps, refs = read_generate_output(write(tmp_path, GENERATE_OUT))
    assert ids == [0, 1, 2]
    assert hyps == HYPS
    assert refs == REFS


def test_read_keeps_empty_hypothesis(tmp_path):
    path = write(tmp_path, "T-0\tref\nD-0\t-1.5\t\nT-1\tb\nD-1\t-0.1\tb\n")
    assert read_generate_output(path) == ([0, 1], ["", "b"], ["ref", "b"])


def test_read_without_references(tmp_path):
    path = write(tmp_path, "S-0\tsrc\nD-0\t-0.1\thyp\n")
    assert read_generate_output(path, require_refs=False) == ([0], ["hyp"], [])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("T-0\ta\nD-0\t-1\ta\nT-2\tc\nD-2\t-1\tc\n", "missing sentence id(s) 1"),
        ("T-0\ta\nT-1\tb\nD-0\t-1\ta\n", "no D- line for id(s) 1"),
        ("D-0\t-1\ta\n", "no T- line for id(s) 0; pass --ref FILE"),
        ("T-0\ta\nT-0\ta\nD-0\t-1\ta\n", "gen.out:2: second T- line for id 0"),
        ("INFO loading\n", "no D- lines found"),
        ("T-0\ta\nD-0\tnan-ish\ta\n", "gen.out:2: D- line has no numeric score"),
    ],
)
def test_read_rejects_bad_files(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(AnalysisInputError, match=r"gen\.out") as err:
        read_generate_output(path)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("hyps", "refs", "tokenize", "bleu", "chrf"),
    [
        (HYPS, REFS, "13a", BLEU_BY_HAND, None),
        (["a b c d"], ["a b c d"], "13a", 100.0, 100.0),
        (["w x y z"], ["a b c d"], "none", 0.0, 0.0),
    ],
)
def test_score_values(hyps, refs, tokenize, bleu, chrf):
    result = score(hyps, refs, tokenize=tokenize)
    assert result["bleu"] == pytest.approx(bleu, abs=1e-9)
    if chrf is not None:
        assert result["chrf"] == pytest.approx(chrf, abs=1e-9)
    assert result["n_sentences"] == len(hyps)
    assert f"|tok:{tokenize}|" in result["bleu_signature"]
    assert result["chrf_signature"].startswith("nrefs:1|case:mixed|eff:yes|nc:6|nw:0")


def test_score_rejects_length_mismatch():
    with pytest.raises(AnalysisInputError, match="2 hypotheses but 1 references"):
        score(["a", "b"], ["a"])


def test_cli_writes_json_and_hypotheses(tmp_path):
    gen = write(tmp_path, GENERATE_OUT)
    out, hyp = tmp_path / "scores" / "test.json", tmp_path / "test.hyp"
    assert main([str(gen), "--out", str(out), "--write-hyp", str(hyp)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert set(result) == {
        "bleu",
        "chrf",
        "bleu_signature",
        "chrf_signature",
        "n_sentences",
        "hyp_file",
        "ref_file",
    }
    assert result["bleu"] == pytest.approx(BLEU_BY_HAND, abs=1e-9)
    assert result["bleu_signature"] == SIG_13A
    assert (result["n_sentences"], result["hyp_file"]) == (3, str(gen))
    assert result["ref_file"] == str(gen)
    assert hyp.read_text(encoding="utf-8") == "".join(h + "\n" for h in HYPS)


def test_cli_ref_file_replaces_t_lines(tmp_path, capsys):
    gen = write(tmp_path, GENERATE_OUT)
    ref = write(tmp_path, "".join(h + "\n" for h in HYPS), "ref.txt")
    assert main([str(gen), "--ref", str(ref), "--tokenize", "none"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["bleu"] == pytest.approx(100.0, abs=1e-9)
    assert result["ref_file"] == str(ref)
    assert "|tok:none|" in result["bleu_signature"]


def test_cli_reports_ref_count_mismatch(tmp_path, caplog):
    gen = write(tmp_path, GENERATE_OUT)
    ref = write(tmp_path, "only one line\n", "ref.txt")
    assert main([str(gen), "--ref", str(ref)]) == 1
    assert f"--ref {ref}: 1 lines, but {gen} has 3 hypotheses" in caplog.text


def test_cli_warns_about_bpe_and_unk(tmp_path, caplog):
    gen = write(tmp_path, "T-0\ta <<unk>> b\nD-0\t-1\ta@@ b\n")
    assert main([str(gen)]) == 0
    assert "BPE markers" in caplog.text
    assert "references contain <<unk>>" in caplog.text
