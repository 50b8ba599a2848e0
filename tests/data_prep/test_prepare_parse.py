"""Tests of data-prep/parse_ptb.py: Vinyals et al. linearisation of PTB trees."""

from __future__ import annotations

import shutil

import pytest
from nltk import Tree

from .conftest import load_script
from .prepare_fixtures import PTB

ptb = load_script("parse_ptb")

# (tree as in a .mrg file, expected source, expected target); derived by hand
LINEARISE_CASES = [
    ("( (S (NP-SBJ (NNP John)) (VP (VBZ has) (NP (DT a) (NN dog))) (. .)) )",
     "John has a dog .",
     "(S (NP NNP )NP (VP VBZ (NP DT NN )NP )VP . )S"),
    # traces go, and so do constituents left empty (SBAR, S)
    ("( (S (NP-SBJ-1 (PRP He)) (VP (VBD said) (SBAR (-NONE- 0) (S (-NONE- *T*-1))))"
     " (. .)) )",
     "He said .",
     "(S (NP PRP )NP (VP VBD )VP . )S"),
    # function tags, indices, alternatives; unary chains kept
    ("( (SINV (S-TPC-2 (NP-SBJ (PRP We)) (VP (VBP give) (PRT|ADVP (RP up))))"
     " (NP-SBJ=3 (NNP Smith))) )",
     "We give up Smith",
     "(SINV (S (NP PRP )NP (VP VBP (PRT RP )PRT )VP )S (NP NNP )NP )SINV"),
    # escapes undone in the source, tags unchanged in the target
    ("( (NP (`` ``) (CD 1\\/2) (-LRB- -LRB-) (NN a\\*b) (-RRB- -RRB-) ('' '')"
     " (-LCB- -LCB-) (-RCB- -RCB-)) )",
     '" 1/2 ( a*b ) " { }',
     "(NP `` CD -LRB- NN -RRB- '' -LCB- -RCB- )NP"),
    # several children under the empty root bracket: labelled TOP
    ("( (NP (NN news)) (. .) )", "news .", "(TOP (NP NN )NP . )TOP"),
    # a bare pre-terminal as the whole tree
    ("( (UH Hello) )", "Hello", "UH"),
]  # fmt: skip


@pytest.mark.parametrize("text, source, target", LINEARISE_CASES)
def test_linearise(text, source, target):
    (tree,) = ptb.read_mrg(text.split("\n"), "case.mrg")
    assert ptb.tree_to_pair(tree) == (source, target)


def test_all_empty_tree_is_dropped():
    (tree,) = ptb.read_mrg(["( (S (-NONE- *)) )"], "case.mrg")
    assert ptb.tree_to_pair(tree) is None


@pytest.mark.parametrize(
    "label, expected",
    [("NP", "NP"), ("NP-SBJ", "NP"), ("NP-SBJ-1", "NP"), ("PP-LOC=2", "PP"),
     ("ADVP|PRT", "ADVP"), ("-LRB-", "-LRB-"), ("-NONE-", "-NONE-"),
     ("PRP$", "PRP$"), ("``", "``"), (".", ".")],
)  # fmt: skip
def test_strip_label(label, expected):
    assert ptb.strip_label(label) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("( (S (NP (NN a))) ))", "not a sequence of bracketed trees"),  # extra )
        ("( (S (NP (NN a)) )", "not a sequence of bracketed trees"),  # missing )
        ("junk ( (S (NN a)) )", "text 'junk' outside a tree (tree 1)"),
    ],
)
def test_malformed_file(text, message):
    with pytest.raises(ValueError, match=r"^bad.mrg: ") as err:
        ptb.read_mrg(text.split("\n"), "bad.mrg")
    assert message in str(err.value)


@pytest.mark.parametrize(
    "text, message",
    [
        ("(S (NP (NN a)) stray)", "a word beside constituents"),
        ("(S (NN a b))", "pre-terminal with 2 words"),
    ],
)
def test_malformed_tree(text, message):
    with pytest.raises(ValueError, match=message):
        ptb.tree_to_pair(Tree.fromstring(text))


def test_build_standard_split(tmp_path):
    ptb.build(PTB, tmp_path / "parse")
    read = {
        p.name: p.read_text(encoding="utf-8").splitlines()
        for p in (tmp_path / "parse").iterdir()
    }
    assert sorted(read) == [
        "test.en", "test.parse", "train.en", "train.parse", "valid.en", "valid.parse"
    ]  # fmt: skip
    assert read["train.en"] == [  # sections 02, 03 in order; 00 unused
        "John has a dog .",
        "The company said it would sell its shares for $ 5 .",
        '" Prices rose 1/2 point " he said ( yesterday ) .',
        "We give up said Smith .",
    ]
    assert read["train.parse"][1] == (
        "(S (NP DT NN )NP (VP VBD (SBAR (S (NP PRP )NP (VP MD (VP VB (NP PRP$ NNS )NP"
        " (PP IN (NP $ CD )NP )PP )VP )VP )S )SBAR )VP . )S"
    )
    assert read["train.parse"][2] == (
        "(S `` (S (NP NNS )NP (VP VBD (NP CD NN )NP )VP )S '' (NP PRP )NP (VP VBD )VP"
        " (PRN -LRB- (ADVP RB )ADVP -RRB- )PRN . )S"
    )
    assert read["valid.parse"] == ["(FRAG (NP JJ NN )NP . )FRAG"]
    assert read["test.en"] == ["It worked ."]


def test_broken_file_fails_without_output(tmp_path, caplog):
    broken = tmp_path / "ptb"
    shutil.copytree(PTB, broken)
    path = broken / "wsj" / "03" / "wsj_0301.mrg"
    path.write_text(path.read_text().replace("(NNS Prices) )", "(NNS Prices) "))
    out = tmp_path / "parse"
    assert ptb.run_cli(ptb.main, ["--ptb", str(broken), "--out", str(out)]) == 1
    assert f"{path}: not a sequence of bracketed trees" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ptb"]  # no temporary left


def test_missing_treebank(tmp_path):
    with pytest.raises(FileNotFoundError, match="no wsj_SSNN.mrg files"):
        ptb.build(tmp_path, tmp_path / "out")
    only_dev = tmp_path / "dev" / "22"
    only_dev.mkdir(parents=True)
    shutil.copy(PTB / "wsj" / "22" / "wsj_2201.mrg", only_dev)
    with pytest.raises(FileNotFoundError, match="no section of 02-21"):
        ptb.build(tmp_path / "dev", tmp_path / "out")
