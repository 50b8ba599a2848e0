"""Tests of fairseq_aiw.analysis.missed_words on two sentences counted by hand."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from fairseq_aiw.analysis._common import AnalysisInputError
from fairseq_aiw.analysis.missed_words import (
    SpacyTagger,
    TaggedToken,
    TsvTagger,
    count_gold,
    count_missed,
    main,
    missed_in_sentence,
    ner_category,
    to_tsv,
    tokenize,
)

GOLD_TSV = """\
El\tDET\tO
gato\tNOUN\tO
y\tCCONJ\tO
el\tDET\tO
perro\tNOUN\tO
.\tPUNCT\tO

María\tPROPN\tB-PER
vive\tVERB\tO
en\tADP\tO
Nueva\tPROPN\tB-LOC
York\tPROPN\tI-LOC
"""
GOLD_TEXT = "El gato y el perro .\nMaría vive en Nueva York\n"
# System A misses "y", the second "el" (gold has it twice, A once: the multiset case),
# "perro" and "María" (A wrote "Maria"). System B misses only "Nueva".
SYSTEM_A = "el gato .\nMaria vive en Nueva York\n"
SYSTEM_B = "El gato y el perro.\nMaría vive en York.\n"
EXPECTED_TSV = """\
group\tcategory\tgold\tA\tB
all\tALL\t11\t4\t1
pos\tPROPN\t3\t1\t1
pos\tDET\t2\t1\t0
pos\tNOUN\t2\t1\t0
pos\tADP\t1\t0\t0
pos\tCCONJ\t1\t1\t0
pos\tPUNCT\t1\t0\t0
pos\tVERB\t1\t0\t0
ner\tO\t8\t3\t0
ner\tLOC\t2\t0\t1
ner\tPER\t1\t1\t0
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def gold(tmp_path) -> list[list[TaggedToken]]:
    return TsvTagger(write(tmp_path, "gold.tsv", GOLD_TSV)).tag(GOLD_TEXT.splitlines())


def test_counts_by_hand(gold):
    a = count_missed(gold, SYSTEM_A.splitlines())
    b = count_missed(gold, SYSTEM_B.splitlines())
    assert (a.total, dict(a.pos), dict(a.ner)) == (
        4,
        {"CCONJ": 1, "DET": 1, "NOUN": 1, "PROPN": 1},
        {"O": 3, "PER": 1},
    )
    assert (b.total, dict(b.pos), dict(b.ner)) == (1, {"PROPN": 1}, {"LOC": 1})
    assert to_tsv(count_gold(gold), {"A": a, "B": b}) == EXPECTED_TSV


def T(text: str, pos: str = "X") -> TaggedToken:  # noqa: N802
    return TaggedToken(text, pos, "O")


@pytest.mark.parametrize(
    ("gold", "hyp", "missed"),
    [
        (["a", "b", "a"], ["a"], ["b", "a"]),
        (["a", "a"], ["a", "a", "a"], []),
        (["a", "b"], [], ["a", "b"]),
        ([], ["a"], []),
    ],
)
def test_missed_in_sentence_is_a_multiset_difference(gold, hyp, missed):
    tagged = [T(w, f"P{i}") for i, w in enumerate(gold)]
    result = missed_in_sentence(tagged, hyp)
    assert [t.text for t in result] == missed
    if gold == ["a", "b", "a"]:  # the later "a" is the missed one: its tag counts
        assert result[-1].pos == "P2"


@pytest.mark.parametrize(
    ("text", "mode", "case_sensitive", "units"),
    [
        (
            "L'eau, U.S. ok",
            "regex",
            False,
            ["l", "'", "eau", ",", "u", ".", "s", ".", "ok"],
        ),
        ("L'eau, ok", "whitespace", False, ["l'eau,", "ok"]),
        ("Nueva  York", "regex", True, ["Nueva", "York"]),
        ("ÉTÉ Straße", "regex", False, ["été", "strasse"]),
        ("", "regex", False, []),
    ],
)
def test_tokenize(text, mode, case_sensitive, units):
    assert tokenize(text, mode, case_sensitive) == units


def test_case_sensitive_matching(gold):
    hyps = ["el gato y EL perro .", "maría vive en nueva york"]
    assert count_missed(gold, hyps).total == 0
    # Case-sensitive: "El" (the output has "el" and "EL"), "María", "Nueva", "York".
    missed = count_missed(gold, hyps, case_sensitive=True)
    assert (missed.total, dict(missed.pos)) == (4, {"DET": 1, "PROPN": 3})


@pytest.mark.parametrize(
    ("tag", "category"),
    [
        ("B-PER", "PER"),
        ("I-LOC", "LOC"),
        ("S-ORG", "ORG"),
        ("PERSON", "PERSON"),
        ("O", "O"),
        ("", "O"),
        ("_", "O"),
    ],
)
def test_ner_category(tag, category):
    assert ner_category(tag) == category


def test_tsv_tagger_keeps_empty_sentences(tmp_path):
    tagger = TsvTagger(write(tmp_path, "g.tsv", "a\tX\tO\n\n\nb\tY\tB-PER\n"))
    assert tagger.tagged == [
        [TaggedToken("a", "X", "O")],
        [],
        [TaggedToken("b", "Y", "PER")],
    ]
    assert tagger.sentences == ["a", "", "b"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a\tX\n", "g.tsv:1: expected 'token<TAB>POS<TAB>NER'"),
        ("a\tX\tO\n\tX\tO\n", "g.tsv:2: expected"),
        ("a\t\tO\n", "g.tsv:1: expected"),
    ],
)
def test_tsv_tagger_rejects_bad_lines(tmp_path, text, message):
    with pytest.raises(AnalysisInputError, match=message):
        TsvTagger(write(tmp_path, "g.tsv", text))


def test_tsv_tagger_checks_the_gold(tmp_path, caplog):
    tagger = TsvTagger(write(tmp_path, "g.tsv", GOLD_TSV))
    with pytest.raises(AnalysisInputError, match=r"g\.tsv: 2 tagged sentences for 1"):
        tagger.tag(["El gato"])
    tagger.tag(["El gato y el perro.", "Otra frase"])
    warning = "tokens of 1 sentence(s) do not spell the gold text (first: sentence 2)"
    assert warning in caplog.text


def fake_spacy(loadable: set[str]) -> types.ModuleType:
    """A stand-in for spaCy: every word is a NOUN, capitalised words are PER."""

    def nlp_pipe(sentences):
        for sentence in sentences:
            words = sentence.split() or [sentence]  # spaCy keeps a whitespace token
            yield [
                types.SimpleNamespace(
                    text=w,
                    pos_="NOUN",
                    ent_type_="PER" if w[:1].isupper() else "",
                    is_space=w.isspace(),
                )
                for w in words
            ]

    def load(name):
        if name not in loadable:
            raise OSError(f"[E050] Can't find model '{name}'")
        return types.SimpleNamespace(pipe=nlp_pipe)

    module = types.ModuleType("spacy")
    module.load = load
    return module


def test_spacy_tagger_uses_the_pipeline(monkeypatch):
    monkeypatch.setitem(sys.modules, "spacy", fake_spacy({"es_core_news_sm"}))
    tagged = SpacyTagger("es_core_news_sm").tag(["Ana come", "  "])
    assert tagged == [[TaggedToken("Ana", "NOUN", "PER"), T("come", "NOUN")], []]


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (None, "spaCy is not installed; run 'pip install spacy'"),
        (fake_spacy(set()), "pipeline not installed; run 'python -m spacy download"),
    ],
)
def test_spacy_tagger_explains_how_to_install(monkeypatch, module, message):
    monkeypatch.setitem(sys.modules, "spacy", module)  # None makes the import fail
    with pytest.raises(AnalysisInputError, match=message) as err:
        SpacyTagger("es_core_news_sm")
    assert "--spacy-model es_core_news_sm" in str(err.value)


def test_cli_writes_counts_and_chart(tmp_path, check_png):
    argv = ["--tagged-gold", str(write(tmp_path, "gold.tsv", GOLD_TSV))]
    argv += ["--gold", str(write(tmp_path, "gold.txt", GOLD_TEXT))]
    argv += ["--system", f"A={write(tmp_path, 'a.txt', SYSTEM_A)}"]
    argv += ["--system", f"B={write(tmp_path, 'b.txt', SYSTEM_B)}"]
    out_tsv, out_png = tmp_path / "missed.tsv", tmp_path / "missed.png"
    assert main([*argv, "--out-tsv", str(out_tsv), "--out-png", str(out_png)]) == 0
    assert out_tsv.read_text(encoding="utf-8") == EXPECTED_TSV
    check_png(out_png)


def test_cli_names_system_after_file_stem(tmp_path, capsys):
    gold = write(tmp_path, "gold.tsv", GOLD_TSV)
    hyp = write(tmp_path, "mt_only.txt", SYSTEM_A)
    assert main(["--tagged-gold", str(gold), "--system", str(hyp)]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == [
        "group\tcategory\tgold\tmt_only",
        "all\tALL\t11\t4",
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--system", "A=short.txt"], "--system A=short.txt: 1 lines, but"),
        (["--system", "A=a.txt", "--system", "A=a.txt"], "names must be unique"),
        (["--system", "=a.txt"], "--system '=a.txt': expected NAME=FILE"),
        (["--system", "A=absent.txt"], "absent.txt: file not found"),
    ],
)
def test_cli_rejects_bad_systems(tmp_path, monkeypatch, caplog, extra, message):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "a.txt", SYSTEM_A)
    write(tmp_path, "short.txt", "one line\n")
    gold = write(tmp_path, "gold.tsv", GOLD_TSV)
    assert main(["--tagged-gold", str(gold), *extra]) == 1
    assert message in caplog.text


def test_cli_spacy_needs_gold_text(tmp_path, caplog):
    hyp = write(tmp_path, "a.txt", SYSTEM_A)
    assert main(["--spacy-model", "es_core_news_sm", "--system", str(hyp)]) == 1
    assert "--spacy-model needs the gold text: pass --gold FILE" in caplog.text
