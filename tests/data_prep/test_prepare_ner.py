"""Tests of data-prep/ner_conll.py on CoNLL-2003 column files written by hand."""

from __future__ import annotations

import logging
import zipfile

import pytest

from .conftest import load_script
from .prepare_fixtures import FIXTURES

ner = load_script("ner_conll")
CONLL = FIXTURES / "conll2003"

EXPECTED = {  # derived by hand from fixtures/prepare/conll2003
    "train": [
        ("Acme shares rose in Paris on Monday .", "I-ORG O O O I-LOC O O O"),
        ("John Smith said .", "I-PER I-PER O O"),
        ("LONDON 1996-08-30", "I-LOC O"),
        ("The Bank of England held rates steady .", "O I-ORG I-ORG I-ORG O O O O"),
    ],
    "valid": [("German French and Dutch talks .", "I-MISC B-MISC O I-MISC O O")],
    "test": [("Mary visited Rome .", "I-PER O I-LOC O")],
}


def read_task(folder):
    return {
        split: list(
            zip(
                (folder / f"{split}.en").read_text(encoding="utf-8").splitlines(),
                (folder / f"{split}.ner").read_text(encoding="utf-8").splitlines(),
            )
        )
        for split in ("train", "valid", "test")
    }


def test_read_conll_fixture():
    lines = (CONLL / "eng.train").read_text().split("\n")
    assert ner.read_conll(lines, "eng.train") == EXPECTED["train"]


def test_build_from_folder_with_original_names(tmp_path):
    ner.build(CONLL, tmp_path / "ner")
    assert read_task(tmp_path / "ner") == EXPECTED


def test_build_from_zip_with_redistribution_names_and_crlf(tmp_path):
    archive = tmp_path / "conll2003.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for old, new in (("eng.train", "train.txt"), ("eng.testa", "valid.txt")):
            text = (CONLL / old).read_text()
            out.writestr(f"conll2003/{new}", text.replace("\n", "\r\n"))
        out.writestr("conll2003/metadata", "not a split\n")
    ner.build(archive, tmp_path / "ner")
    assert not (tmp_path / "ner" / "test.en").exists()  # no test file: skipped
    folder = tmp_path / "ner"
    assert (folder / "train.ner").read_text().splitlines()[1] == "I-PER I-PER O O"
    assert (folder / "valid.en").read_text() == "German French and Dutch talks .\n"


@pytest.mark.parametrize(
    "line, number",
    [
        ("rose VBD O", 4),  # three columns
        ("rose VBD I-VP O extra", 4),
        ("rose VBD I-VP PER", 4),  # not a tag
    ],
)
def test_malformed_line_is_named(line, number):
    lines = ["-DOCSTART- -X- -X- O", "", "Acme NNP I-NP I-ORG", line, ""]
    with pytest.raises(ValueError, match=rf"^eng.train:{number}: expected 'word POS"):
        ner.read_conll(lines, "eng.train")


def test_missing_or_ambiguous_files(tmp_path):
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "eng.testa").write_text("A B C O\n")
    with pytest.raises(FileNotFoundError, match="no eng.train or train.txt"):
        ner.build(tmp_path / "only", tmp_path / "out")
    both = tmp_path / "both"
    both.mkdir()
    for name in ("eng.train", "train.txt"):
        (both / name).write_text("A B C O\n")
    with pytest.raises(ValueError, match="has both eng.train and train.txt"):
        ner.build(both, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_main_exit_status(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    out = tmp_path / "ner"
    assert ner.run_cli(ner.main, ["--input", str(CONLL), "--out", str(out)]) == 0
    assert ner.run_cli(ner.main, ["--input", str(CONLL), "--out", str(out)]) == 0
    assert "exists; remove it to rebuild" in caplog.text
    missing = tmp_path / "nowhere"
    assert (
        ner.run_cli(ner.main, ["--input", str(missing), "--out", str(tmp_path / "x")])
        == 1
    )
    assert f"--input {missing}: no such file or directory" in caplog.text
