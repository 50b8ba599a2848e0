"""Tests of data-prep/brown_pos.py on a hand-written snippet in Brown form C."""

from __future__ import annotations

from pathlib import Path

import pytest

# Two files in the corpus layout: a tab before each sentence line, blank lines
# between sentences, word/tag tokens.
CA01 = (
    "\n\n\tThe/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd "
    "Friday/nr ./.\n\n\n"
    "\tIt/pps said/vbd ``/`` no/at ''/'' ./.\n\n\n"
    "\tShort/jj ./.\n\n\n"
)
CB02 = (
    "\n\n\tI'll/ppss+md go/vb ,/, he/pps can't/md* ./.\n\n\n"
    "\tThe/at odd/jj one/cd-nc xyzzy/nil ./.\n\n\n"
    "\tIt/pps said/vbd ``/`` no/at ''/'' ./.\n\n\n"
    "\tHe/pps wrote/vbd la/fw-at plume/fw-nn-tl here/rb ./.\n\n\n"
)

TAG_CASES = [
    ("nn", "NN"),
    ("nn-tl", "NN"),
    ("nn-tl-hl", "NN"),
    ("np$", "NP$"),
    ("fw-nn", "NN"),
    ("fw-in+at-tl", "IN+AT"),
    ("fw-in+at-t", "IN+AT"),  # truncated marker, as in the corpus
    ("ppss+ber-n", "PPSS+BER"),
    ("ppss+md", "PPSS+MD"),
    ("md*", "MD*"),
    ("*-tl", "*"),
    ("--", "--"),
    ("---hl", "--"),
    (".-hl", "."),
    ("``", "``"),
    ("NN-TL", "NN"),
    ("nil", None),
]


@pytest.mark.parametrize("tag, expected", TAG_CASES)
def test_normalise_tag(brown_pos, tag, expected):
    assert brown_pos.normalise_tag(tag) == expected


def write_corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "ca01").write_text(CA01, encoding="utf-8")
    (root / "cb02").write_text(CB02, encoding="utf-8")
    (root / "README").write_text("not a corpus file\n", encoding="utf-8")
    return root


def test_read_brown_sentences_in_file_order(brown_pos, tmp_path):
    sentences = brown_pos.read_brown(write_corpus(tmp_path))
    assert len(sentences) == 7
    assert sentences[0][:2] == [("The", "at"), ("Fulton", "np-tl")]
    assert sentences[3][0] == ("I'll", "ppss+md")  # cb02 after ca01


def test_read_brown_names_bad_token(brown_pos, tmp_path):
    (tmp_path / "ca01").write_text("\tThe/at jury\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"ca01:1: token 'jury'"):
        brown_pos.read_brown(tmp_path)
    with pytest.raises(FileNotFoundError, match="ca01: not a directory"):
        brown_pos.read_brown(tmp_path / "ca01")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no Brown files"):
        brown_pos.read_brown(empty)


def test_select_pairs_filters_and_normalises(brown_pos, tmp_path):
    sentences = brown_pos.read_brown(write_corpus(tmp_path))
    pairs, counts = brown_pos.select_pairs(
        sentences, min_tokens=3, max_tokens=40, num_sentences=0, seed=1
    )
    assert pairs == [
        (
            "The Fulton County Grand Jury said Friday .",
            "AT NP NN JJ NN VBD NR .",
        ),
        ('It said " no " .', "PPS VBD `` AT '' ."),
        ("I'll go , he can't .", "PPSS+MD VB , PPS MD* ."),
        ("He wrote la plume here .", "PPS VBD AT NN RB ."),
    ]
    assert dict(counts) == {
        "read": 7,
        "length": 1,
        "untagged_token": 1,
        "duplicate_source": 1,
        "kept": 4,
    }
    for src, tgt in pairs:
        assert len(src.split()) == len(tgt.split())


def test_select_pairs_samples_reproducibly_in_corpus_order(brown_pos):
    sentences = [[(f"w{i}", "nn"), ("x", "nn"), (".", ".")] for i in range(100)]
    pick = lambda seed: brown_pos.select_pairs(  # noqa: E731
        sentences, min_tokens=1, max_tokens=5, num_sentences=10, seed=seed
    )
    pairs, counts = pick(1)
    assert len(pairs) == 10 and counts["not_sampled"] == 90
    assert pairs == pick(1)[0]
    assert pairs != pick(2)[0]
    order = [int(src.split()[0][1:]) for src, _ in pairs]
    assert order == sorted(order)


def test_cli_writes_aligned_files(brown_pos, tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    out = tmp_path / "raw" / "pos" / "train"
    argv = ["--corpus-dir", str(corpus), "--out", str(out), "--num-sentences", "2"]
    assert brown_pos.main(argv) == 0
    src = Path(f"{out}.en").read_text(encoding="utf-8").splitlines()
    tgt = Path(f"{out}.pos").read_text(encoding="utf-8").splitlines()
    assert len(src) == len(tgt) == 2
    assert [len(s.split()) for s in src] == [len(t.split()) for t in tgt]
    assert brown_pos.main(["--corpus-dir", str(tmp_path), "--out", str(out)]) == 1
